package discovery_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
)

type balancerCtor func(*discovery.Endpointer[echoReq, echoResp]) discovery.Balancer[echoReq, echoResp]

var balancers = []struct {
	name string
	new  balancerCtor
}{
	{"RoundRobin", discovery.RoundRobin[echoReq, echoResp]},
	{"Random", discovery.Random[echoReq, echoResp]},
	{"PowerOfTwoChoices", discovery.PowerOfTwoChoices[echoReq, echoResp]},
}

func TestBalancerDistribution(t *testing.T) {
	t.Parallel()
	const instances, picks = 4, 40000
	tests := []struct {
		name      string
		new       balancerCtor
		tolerance float64 // allowed deviation of each share from 1/instances, relative
	}{
		{"RoundRobin", discovery.RoundRobin[echoReq, echoResp], 0},
		{"Random", discovery.Random[echoReq, echoResp], 0.1},
		{"PowerOfTwoChoices", discovery.PowerOfTwoChoices[echoReq, echoResp], 0.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log closeLog
			e := discovery.NewEndpointer(discovery.FixedInstancer(instanceNames(instances)), nameFactory(&log))
			t.Cleanup(func() { require.NoError(t, e.Close()) })
			b := tt.new(e)
			counts := map[string]int{}
			for i := range picks {
				ep, err := b.Endpoint()
				require.NoError(t, err)
				resp, err := ep(context.Background(), echoReq{N: i})
				require.NoError(t, err)
				counts[resp.Instance]++
			}
			require.Len(t, counts, instances, "every instance is picked")
			want := float64(picks) / instances
			for inst, n := range counts {
				assert.InDelta(t, want, float64(n), want*tt.tolerance, "%s picked %d times", inst, n)
			}
		})
	}
}

func TestRoundRobinOrder(t *testing.T) {
	t.Parallel()
	var log closeLog
	names := instanceNames(3)
	e := discovery.NewEndpointer(discovery.FixedInstancer(names), nameFactory(&log))
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	b := discovery.RoundRobin(e)
	var got []string
	for range 7 {
		ep, err := b.Endpoint()
		require.NoError(t, err)
		resp, err := ep(context.Background(), echoReq{})
		require.NoError(t, err)
		got = append(got, resp.Instance)
	}
	assert.Equal(t, append(append(append([]string{}, names...), names...), names[0]), got)
}

// blockingFactory makes endpoints that, for a request with a negative N,
// signal entered and then block until release is closed, so the test
// controls how many calls are in flight on each instance.
func blockingFactory(entered chan<- struct{}, release <-chan struct{}) discovery.Factory[echoReq, echoResp] {
	var log closeLog
	inner := nameFactory(&log)
	return func(instance string) (kit.Endpoint[echoReq, echoResp], io.Closer, error) {
		ep, c, err := inner(instance)
		blocking := func(ctx context.Context, req echoReq) (echoResp, error) {
			if req.N < 0 {
				entered <- struct{}{}
				<-release
			}
			return ep(ctx, req)
		}
		return blocking, c, err
	}
}

func TestPowerOfTwoChoicesPrefersLessLoaded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		loads []int // calls held in flight per instance, in instance order
		never []int // instances with strictly more calls in flight than some other
	}{
		{name: "two instances, one busy", loads: []int{3, 0}, never: []int{0}},
		{name: "two instances, both busy", loads: []int{5, 2}, never: []int{0}},
		{name: "three instances, one busy", loads: []int{0, 4, 0}, never: []int{1}},
		{name: "four instances, one idle", loads: []int{2, 2, 0, 3}, never: []int{3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			entered, release := make(chan struct{}), make(chan struct{})
			names := instanceNames(len(tt.loads))
			e := discovery.NewEndpointer(discovery.FixedInstancer(names), blockingFactory(entered, release))
			eps, err := e.Endpoints()
			require.NoError(t, err)

			var wg sync.WaitGroup
			total := 0
			for i, n := range tt.loads {
				for range n {
					total++
					wg.Go(func() { _, _ = eps[i](context.Background(), echoReq{N: -1}) })
				}
			}
			for range total {
				<-entered // the call is counted in flight once it is inside the endpoint
			}

			b := discovery.PowerOfTwoChoices(e)
			counts := map[string]int{}
			for range 2000 {
				ep, err := b.Endpoint()
				require.NoError(t, err)
				resp, err := ep(context.Background(), echoReq{})
				require.NoError(t, err)
				counts[resp.Instance]++
			}
			close(release)
			wg.Wait()
			require.NoError(t, e.Close())
			for _, i := range tt.never {
				assert.Zero(t, counts[names[i]], "%s is the most loaded; picks: %v", names[i], counts)
			}
			assert.Equal(t, 2000, sumValues(counts))
		})
	}
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestBalancerNoEndpoints(t *testing.T) {
	t.Parallel()
	for _, bt := range balancers {
		t.Run(bt.name, func(t *testing.T) {
			t.Parallel()
			src := &testInstancer{}
			var log closeLog
			e := discovery.NewEndpointer(src, nameFactory(&log))
			b := bt.new(e)
			ep, err := b.Endpoint()
			assert.Nil(t, ep)
			require.Error(t, err)
			assert.ErrorIs(t, err, discovery.ErrNoEndpoints)
			assert.Equal(t, kit.Unavailable, kit.CodeOf(err))

			src.Update(discovery.Event{Err: errBoom})
			require.Eventually(t, func() bool {
				_, err := b.Endpoint()
				return errors.Is(err, errBoom)
			}, 2*time.Second, time.Millisecond, "the instancer's error is carried")

			require.NoError(t, e.Close())
			_, err = b.Endpoint()
			assert.ErrorIs(t, err, discovery.ErrClosed)
		})
	}
}

// Not parallel: AllocsPerRun counts the allocations of the whole process.
func TestBalancersDoNotAllocate(t *testing.T) {
	var log closeLog
	e := discovery.NewEndpointer(discovery.FixedInstancer(instanceNames(5)), nameFactory(&log))
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = e.Endpoints() }), "Endpoints")
	for _, bt := range balancers {
		b := bt.new(e)
		assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = b.Endpoint() }), bt.name)
	}
}
