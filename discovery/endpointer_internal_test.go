package discovery

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
)

// silentInstancer sends nothing, so that a test drives the endpointer's
// updates itself.
type silentInstancer struct{}

func (silentInstancer) Register(chan<- Event)   {}
func (silentInstancer) Deregister(chan<- Event) {}
func (silentInstancer) Stop()                   {}

// swappedSets returns n sorted instance names and the same set with its
// middle instance replaced by one that sorts elsewhere.
func swappedSets(n int) (a, b []string) {
	for i := range n {
		a = append(a, fmt.Sprintf("10.0.%d.%d:80", i/250, i%250))
	}
	slices.Sort(a)
	b = slices.Clone(a)
	b[n/2] = "10.9.9.9:80"
	slices.Sort(b)
	return a, b
}

// TestEndpointerUpdateAllocations checks that an update allocates the same
// whatever the number of instances that stay: their targets are reused,
// and only the new instance costs its own. It counts allocations, so it
// does not run in parallel.
func TestEndpointerUpdateAllocations(t *testing.T) {
	var perUpdate []float64
	for _, n := range []int{3, 100, 1000} {
		a, b := swappedSets(n)
		made := 0
		ep := kit.Endpoint[int, int](func(context.Context, int) (int, error) { return 0, nil })
		e := NewEndpointer(silentInstancer{}, func(string) (kit.Endpoint[int, int], io.Closer, error) {
			made++
			return ep, nil, nil
		}, EndpointerLogger(slog.New(slog.DiscardHandler)))
		e.apply(Event{Instances: a})
		first := slices.Clone(e.order)
		require.Len(t, first, n)

		made = 0
		next := true
		allocs := testing.AllocsPerRun(100, func() {
			if next {
				e.apply(Event{Instances: b})
			} else {
				e.apply(Event{Instances: a})
			}
			next = !next
		})
		perUpdate = append(perUpdate, allocs)
		assert.Equal(t, 101, made, "n=%d: the factory runs once per update, for the one new instance", n)

		// The instances that stayed throughout kept their targets.
		e.apply(Event{Instances: a})
		require.Len(t, e.order, n)
		for i, tgt := range e.order {
			assert.Equal(t, a[i], tgt.instance)
			if slices.Contains(b, tgt.instance) {
				assert.Same(t, first[i], tgt, "n=%d: %s kept its target", n, tgt.instance)
			}
		}
		assert.Equal(t, a, e.Instances())
		eps, err := e.Endpoints()
		require.NoError(t, err)
		assert.Len(t, eps, n)
		require.NoError(t, e.Close())
	}
	t.Logf("allocations per update for 3 / 100 / 1,000 instances: %v", perUpdate)
	assert.Equal(t, perUpdate[0], perUpdate[2], "an update allocates as much for 1,000 instances as for 3")
}

// TestEndpointerUnsortedEvent checks that an event whose instances are not
// sorted, or repeat, is normalized before the merge.
func TestEndpointerUnsortedEvent(t *testing.T) {
	t.Parallel()
	ep := kit.Endpoint[int, int](func(context.Context, int) (int, error) { return 0, nil })
	e := NewEndpointer(silentInstancer{}, func(string) (kit.Endpoint[int, int], io.Closer, error) {
		return ep, nil, nil
	}, EndpointerLogger(slog.New(slog.DiscardHandler)))
	defer e.Close()
	for _, tt := range []struct {
		in, want []string
	}{
		{in: []string{"c:1", "a:1", "b:1"}, want: []string{"a:1", "b:1", "c:1"}},
		{in: []string{"b:1", "", "b:1", "a:1"}, want: []string{"a:1", "b:1"}},
		{in: []string{"a:1", "a:1"}, want: []string{"a:1"}},
		{in: []string{"d:1"}, want: []string{"d:1"}},
		{in: nil, want: nil},
	} {
		in := slices.Clone(tt.in)
		e.apply(Event{Instances: in})
		assert.Equal(t, tt.want, e.Instances(), "%q", tt.in)
		assert.Equal(t, tt.in, in, "the event's slice is left as it was")
	}
}
