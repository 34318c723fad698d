package discovery_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit/discovery"
)

func TestFixedInstancer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fixed discovery.FixedInstancer
		want  []string
	}{
		{"empty", nil, nil},
		{"sorted", discovery.FixedInstancer{"b:1", "a:1"}, []string{"a:1", "b:1"}},
		{"duplicates and blanks", discovery.FixedInstancer{"a:1", "", "a:1", "[::1]:80"}, []string{"[::1]:80", "a:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ch := make(chan discovery.Event, 1)
			tt.fixed.Register(ch)
			ev := <-ch
			assert.Equal(t, tt.want, ev.Instances)
			assert.NoError(t, ev.Err)
			tt.fixed.Deregister(ch)
			tt.fixed.Stop()
			assert.Empty(t, ch, "a fixed instancer sends one event")
		})
	}
}

func TestFixedInstancerDoesNotAlias(t *testing.T) {
	t.Parallel()
	fixed := discovery.FixedInstancer{"b:1", "a:1"}
	ch := make(chan discovery.Event, 1)
	fixed.Register(ch)
	ev := <-ch
	ev.Instances[0] = "changed"
	assert.Equal(t, discovery.FixedInstancer{"b:1", "a:1"}, fixed)
}

func TestBroadcaster(t *testing.T) {
	t.Parallel()
	errA, errA2, errB := errors.New("a"), errors.New("a"), errors.New("b")
	tests := []struct {
		name    string
		updates []discovery.Event
		want    []discovery.Event // what a subscriber registered before the updates receives
	}{
		{
			name:    "sorted and deduplicated",
			updates: []discovery.Event{{Instances: []string{"b:1", "a:1", "b:1"}}},
			want:    []discovery.Event{{Instances: []string{"a:1", "b:1"}}},
		},
		{
			name: "equal state not sent again",
			updates: []discovery.Event{
				{Instances: []string{"a:1", "b:1"}},
				{Instances: []string{"b:1", "a:1"}},
				{Instances: []string{"a:1"}},
			},
			want: []discovery.Event{{Instances: []string{"a:1", "b:1"}}, {Instances: []string{"a:1"}}},
		},
		{
			name: "errors compared by text",
			updates: []discovery.Event{
				{Instances: []string{"a:1"}},
				{Instances: []string{"a:1"}, Err: errA},
				{Instances: []string{"a:1"}, Err: errA2},
				{Instances: []string{"a:1"}, Err: errB},
				{Instances: []string{"a:1"}},
			},
			want: []discovery.Event{
				{Instances: []string{"a:1"}},
				{Instances: []string{"a:1"}, Err: errA},
				{Instances: []string{"a:1"}, Err: errB},
				{Instances: []string{"a:1"}},
			},
		},
		{
			name:    "empty set is a state",
			updates: []discovery.Event{{}, {Instances: []string{""}}},
			want:    []discovery.Event{{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b discovery.Broadcaster
			ch := make(chan discovery.Event, len(tt.updates))
			b.Register(ch)
			require.Empty(t, ch, "nothing is sent before the first update")
			_, known := b.State()
			require.False(t, known)

			for _, ev := range tt.updates {
				b.Update(ev)
			}
			b.Deregister(ch)
			close(ch)
			var got []discovery.Event
			for ev := range ch {
				got = append(got, ev)
			}
			assert.Equal(t, tt.want, got)

			state, known := b.State()
			assert.True(t, known)
			assert.Equal(t, tt.want[len(tt.want)-1], state)

			late := make(chan discovery.Event, 1)
			b.Register(late)
			assert.Equal(t, state, <-late, "a late subscriber gets the current state")
			b.Deregister(late)
		})
	}
}

func TestBroadcasterDeregisterStopsDelivery(t *testing.T) {
	t.Parallel()
	var b discovery.Broadcaster
	kept, dropped := make(chan discovery.Event, 2), make(chan discovery.Event, 2)
	b.Register(kept)
	b.Register(dropped)
	b.Update(discovery.Event{Instances: []string{"a:1"}})
	b.Deregister(dropped)
	b.Update(discovery.Event{Instances: []string{"b:1"}})
	assert.Len(t, kept, 2)
	assert.Len(t, dropped, 1)
}
