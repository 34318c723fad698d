package discovery_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
)

// A role is what a server of TestHedging does.
type role int

const (
	fast role = iota
	slowServer
	unavailable
	invalid
	gated // answers once the unavailable server has seen its call
)

// TestHedging calls real httpx servers on loopback through Retry with
// hedging, over a balancer that picks them in a given order, and checks
// which answer wins, which attempts ran and were cancelled, and what the
// budget paid. Slow servers answer only when their context ends, and the
// others wait until the slow ones before them in the order have seen their
// call, so no outcome depends on timing.
func TestHedging(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		order        []role
		opts         []discovery.RetryOption
		notIdem      bool // leave out RetryIdempotentCalls
		drainBudget  bool
		wantAnswer   int // index in order of the server whose answer the call gets, or -1
		wantCode     kit.Code
		wantAttempts []int // attempts per server, in order
		wantAborted  []int // indices of slow servers whose call must see its context end
		wantErrs     []error
		wantRetryErr bool
	}{
		{
			// Two attempts: a third, should the fast answer take longer than
			// the delay on a loaded machine, would go to the slow server.
			name: "the hedge answers first", order: []role{slowServer, fast},
			opts:       []discovery.RetryOption{discovery.RetryMaxAttempts(2)},
			wantAnswer: 1, wantAttempts: []int{1, 1}, wantAborted: []int{0},
		},
		{
			name: "no hedge when the first answers within the delay", order: []role{fast, slowServer},
			opts:       []discovery.RetryOption{discovery.RetryHedgeAfter(time.Minute)},
			wantAnswer: 0, wantAttempts: []int{1, 0},
		},
		{
			name: "hedges every delay while attempts remain", order: []role{slowServer, slowServer, fast},
			wantAnswer: 2, wantAttempts: []int{1, 1, 1}, wantAborted: []int{0, 1},
		},
		{
			name: "hedges count against the attempts", order: []role{slowServer, slowServer, fast},
			opts:       []discovery.RetryOption{discovery.RetryMaxAttempts(2), discovery.RetryAttemptTimeout(100 * time.Millisecond)},
			wantAnswer: -1, wantCode: kit.DeadlineExceeded, wantAttempts: []int{1, 1, 0}, wantAborted: []int{0, 1},
			wantErrs: []error{discovery.ErrAttemptTimeout, discovery.ErrAttemptTimeout}, wantRetryErr: true,
		},
		{
			name: "one attempt: no hedge", order: []role{slowServer, fast},
			opts:       []discovery.RetryOption{discovery.RetryMaxAttempts(1), discovery.RetryAttemptTimeout(50 * time.Millisecond)},
			wantAnswer: -1, wantCode: kit.DeadlineExceeded, wantAttempts: []int{1, 0}, wantAborted: []int{0},
		},
		{
			name: "not idempotent: no hedge", order: []role{slowServer, fast}, notIdem: true,
			opts:       []discovery.RetryOption{discovery.RetryAttemptTimeout(50 * time.Millisecond)},
			wantAnswer: -1, wantCode: kit.DeadlineExceeded, wantAttempts: []int{1, 0}, wantAborted: []int{0},
			wantRetryErr: true, // "not retried: may have been processed and is not idempotent"
		},
		{
			name: "empty budget: no hedge", order: []role{slowServer, fast}, drainBudget: true,
			opts:       []discovery.RetryOption{discovery.RetryAttemptTimeout(50 * time.Millisecond)},
			wantAnswer: -1, wantCode: kit.DeadlineExceeded, wantAttempts: []int{1, 0}, wantAborted: []int{0},
			wantErrs: []error{discovery.ErrBudgetExhausted, discovery.ErrAttemptTimeout}, wantRetryErr: true,
		},
		{
			name: "a failed hedge leaves the first attempt to answer", order: []role{gated, unavailable},
			opts:       []discovery.RetryOption{discovery.RetryMaxAttempts(2)},
			wantAnswer: 0, wantAttempts: []int{1, 1},
		},
		{
			name: "a hedge's answer not worth a retry wins", order: []role{slowServer, invalid},
			opts:       []discovery.RetryOption{discovery.RetryMaxAttempts(2)},
			wantAnswer: -1, wantCode: kit.InvalidArgument, wantAttempts: []int{1, 1}, wantAborted: []int{0},
		},
		{
			name: "a failed hedge is retried", order: []role{slowServer, unavailable, fast},
			wantAnswer: 2, wantAttempts: []int{1, 1, 1}, wantAborted: []int{0},
		},
		{
			name: "every attempt fails: the error lists the hedges", order: []role{slowServer, unavailable},
			opts:       []discovery.RetryOption{discovery.RetryMaxAttempts(2), discovery.RetryAttemptTimeout(100 * time.Millisecond)},
			wantAnswer: -1, wantCode: kit.DeadlineExceeded, wantAttempts: []int{1, 1}, wantAborted: []int{0},
			wantErrs: []error{discovery.ErrAttemptTimeout}, wantRetryErr: true,
		},
		{
			// The failed hedge is retried at once, long before the next
			// hedge would start: the invalid answer comes last.
			name: "the attempts an answer supersedes are listed", order: []role{slowServer, unavailable, invalid},
			opts:       []discovery.RetryOption{discovery.RetryHedgeAfter(200 * time.Millisecond)},
			wantAnswer: -1, wantCode: kit.InvalidArgument, wantAttempts: []int{1, 1, 1}, wantAborted: []int{0},
			wantErrs: []error{discovery.ErrAttemptSuperseded}, wantRetryErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			unavailableSeen := make(chan struct{})
			var seenOnce sync.Once
			servers := make([]*kitServer, len(tt.order))
			instances := make([]string, len(tt.order))
			for i, r := range tt.order {
				var h func(context.Context, *kitServer, echoReq) (echoResp, error)
				preceding := slices.Clone(servers[:i])
				switch r {
				case slowServer:
					h = slow
				case unavailable:
					h = func(context.Context, *kitServer, echoReq) (echoResp, error) {
						seenOnce.Do(func() { close(unavailableSeen) })
						return echoResp{}, kit.NewError(kit.Unavailable, "overloaded")
					}
				case invalid:
					h = failWith(kit.InvalidArgumentError("bad", kit.FieldViolation{Field: "n", Description: "odd"}))
				case gated:
					h = func(ctx context.Context, s *kitServer, req echoReq) (echoResp, error) {
						select {
						case <-unavailableSeen:
						case <-ctx.Done():
						}
						return echoResp{Instance: s.addr, N: req.N}, nil
					}
				}
				if r != slowServer {
					h = afterSlow(preceding, tt.order, h)
				}
				servers[i] = startKitServer(t, h)
				instances[i] = servers[i].addr
			}
			var attempts attemptCounter
			e := discovery.NewEndpointer(discovery.FixedInstancer(instances), httpxFactory(&attempts))
			t.Cleanup(func() { require.NoError(t, e.Close()) })

			budget := discovery.NewBudget(0, 0) // 10 tokens, no refill
			if tt.drainBudget {
				drain(t, budget)
			}
			before := budget.Available()
			opts := []discovery.RetryOption{discovery.RetryHedgeAfter(20 * time.Millisecond), discovery.RetryBudget(budget)}
			if !tt.notIdem {
				opts = append(opts, discovery.RetryIdempotentCalls())
			}
			call := discovery.Retry(ordered(e, instances...), append(opts, tt.opts...)...)

			resp, err := call(context.Background(), echoReq{N: 7})
			made := 0
			for i, s := range servers {
				assert.Equal(t, tt.wantAttempts[i], attempts.of(s.addr), "attempts on server %d", i)
				made += attempts.of(s.addr)
			}
			assert.Equal(t, made-1, before-budget.Available(), "every attempt but the first takes a token")
			for _, i := range tt.wantAborted {
				// Sure to have seen its call if a later server answered,
				// since that one waited for it.
				entered := false
				for j := i + 1; j < len(tt.order); j++ {
					entered = entered || (tt.order[j] != slowServer && tt.wantAttempts[j] > 0)
				}
				require.Eventually(t, func() bool {
					n := servers[i].handled.Load()
					return servers[i].cancelled.Load() == n && n <= 1 && (n == 1 || !entered)
				}, 5*time.Second, time.Millisecond, "server %d sees its call cancelled", i)
			}
			if tt.wantAnswer >= 0 {
				require.NoError(t, err)
				assert.Equal(t, echoResp{Instance: instances[tt.wantAnswer], N: 7}, resp)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.wantCode, kit.CodeOf(err), "%v", err)
			for _, target := range tt.wantErrs {
				assert.ErrorIs(t, err, target)
			}
			var re *discovery.RetryError
			assert.Equal(t, tt.wantRetryErr, errors.As(err, &re), "%v", err)
			if re != nil {
				assert.Len(t, re.Attempts, made, "the error lists every attempt, hedges too")
				for _, aerr := range re.Attempts {
					assert.Error(t, aerr)
				}
			}
		})
	}
}

// afterSlow returns h, waiting first until each slow server among
// preceding has seen a call, or until its own context ends.
func afterSlow(preceding []*kitServer, roles []role, h func(context.Context, *kitServer, echoReq) (echoResp, error)) func(context.Context, *kitServer, echoReq) (echoResp, error) {
	return func(ctx context.Context, s *kitServer, req echoReq) (echoResp, error) {
		for i, p := range preceding {
			if roles[i] != slowServer {
				continue
			}
			select {
			case <-p.entered:
			case <-ctx.Done():
				return echoResp{}, ctx.Err()
			}
		}
		if h == nil {
			return echoResp{Instance: s.addr, N: req.N}, nil
		}
		return h(ctx, s, req)
	}
}

// drain spends every token of b.
func drain(t *testing.T, b *discovery.Budget) {
	t.Helper()
	fail := discovery.BalancerFunc[echoReq, echoResp](func() (kit.Endpoint[echoReq, echoResp], error) {
		return func(context.Context, echoReq) (echoResp, error) {
			return echoResp{}, kit.WithRetrySafety(kit.NewError(kit.Unavailable, ""), kit.RetryNotProcessed)
		}, nil
	})
	_, err := discovery.Retry(fail, discovery.RetryBudget(b), discovery.RetryMaxAttempts(1<<20))(context.Background(), echoReq{})
	require.ErrorIs(t, err, discovery.ErrBudgetExhausted)
	require.Zero(t, b.Available())
}

// TestHedgeAtPercentile runs two fast real servers and one that never
// answers behind a round robin with percentile hedging: every call
// succeeds from a fast server, every call that started on the slow one
// was hedged, and every call to the slow one is cancelled. How fast the
// calls are is for BenchmarkHedging to measure.
func TestHedgeAtPercentile(t *testing.T) {
	t.Parallel()
	fast1, fast2, slowest := startKitServer(t, nil), startKitServer(t, nil), startKitServer(t, slow)
	var attempts attemptCounter
	e := discovery.NewEndpointer(discovery.FixedInstancer{fast1.addr, fast2.addr, slowest.addr}, httpxFactory(&attempts))
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	// A budget without a bound: on a loaded machine some calls to the
	// fast servers are hedged too. TestHedging checks the accounting.
	call := discovery.Retry(discovery.RoundRobin(e), discovery.RetryIdempotentCalls(), discovery.RetryBudget(nil),
		discovery.RetryHedgeAtPercentile(0.9, 5*time.Millisecond, 50*time.Millisecond))

	const calls = 60 // enough successes for the quantile to replace the maximum
	for i := range calls {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a failure, not a hang
		resp, err := call(ctx, echoReq{N: i})
		cancel()
		require.NoError(t, err)
		assert.NotEqual(t, slowest.addr, resp.Instance)
	}
	hedges := attempts.total() - calls
	assert.GreaterOrEqual(t, hedges, calls/3, "every call that starts on the slow server is hedged")
	require.Eventually(t, func() bool {
		n := slowest.handled.Load()
		return n <= int32(attempts.of(slowest.addr)) && slowest.cancelled.Load() == n
	}, 5*time.Second, time.Millisecond, "every call that reached the slow server is cancelled")
}

// A Retry endpoint with hedging options but without RetryIdempotentCalls
// does not hedge and allocates nothing.
func TestHedgingOffDoesNotAllocate(t *testing.T) {
	var log closeLog
	e := discovery.NewEndpointer(discovery.FixedInstancer(instanceNames(3)), nameFactory(&log))
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	ctx := context.Background()
	for _, opts := range [][]discovery.RetryOption{
		{discovery.RetryHedgeAfter(time.Millisecond)},
		{discovery.RetryHedgeAtPercentile(0.9, 0, time.Millisecond)},
		{discovery.RetryHedgeAfter(0), discovery.RetryIdempotentCalls()},
		{discovery.RetryHedgeAfter(time.Millisecond), discovery.RetryIdempotentCalls(), discovery.RetryMaxAttempts(1)},
	} {
		ep := discovery.Retry(discovery.RoundRobin(e), opts...)
		assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = ep(ctx, echoReq{N: 1}) }))
	}
}

// Hedged calls from many goroutines at once over in-process endpoints,
// one of which blocks until its context ends: every call succeeds, and
// every blocked attempt is released (goleak checks no goroutine is left).
func TestHedgingConcurrent(t *testing.T) {
	t.Parallel()
	var blocked, released atomic.Int64
	factory := func(instance string) (kit.Endpoint[echoReq, echoResp], io.Closer, error) {
		return func(ctx context.Context, req echoReq) (echoResp, error) {
			if instance == "slow:1" {
				blocked.Add(1)
				<-ctx.Done()
				released.Add(1)
				return echoResp{}, kit.WrapError(kit.Canceled, context.Cause(ctx), "")
			}
			return echoResp{Instance: instance, N: req.N}, nil
		}, nil, nil
	}
	// Not PowerOfTwoChoices: its hedges are fresh picks, which may all
	// go to the slow instance.
	for _, bt := range balancers[:2] {
		t.Run(bt.name, func(t *testing.T) {
			e := discovery.NewEndpointer(discovery.FixedInstancer{"a:1", "b:1", "slow:1"}, factory)
			t.Cleanup(func() { require.NoError(t, e.Close()) })
			call := discovery.Retry(bt.new(e), discovery.RetryIdempotentCalls(), discovery.RetryBudget(nil),
				discovery.RetryMaxAttempts(3), discovery.RetryHedgeAfter(time.Millisecond))
			var wg sync.WaitGroup
			var failed atomic.Int64
			for range 8 {
				wg.Go(func() {
					for i := range 50 {
						resp, err := call(context.Background(), echoReq{N: i})
						if err != nil || resp.Instance == "slow:1" {
							failed.Add(1)
						}
					}
				})
			}
			wg.Wait()
			assert.Zero(t, failed.Load())
		})
	}
	require.Eventually(t, func() bool { return released.Load() == blocked.Load() }, 5*time.Second, time.Millisecond)
}

// With Random, the attempts of one call go to distinct instances, so two
// dead instances out of three never fail a call of three attempts.
func TestRandomSpreadsAttemptsOverEndpoints(t *testing.T) {
	t.Parallel()
	e := discovery.NewEndpointer(discovery.FixedInstancer{"dead:1", "dead:2", "a:1"}, failingFactory("dead:1", "dead:2"))
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	call := discovery.Retry(discovery.Random(e), discovery.RetryMaxAttempts(3), discovery.RetryBudget(nil))
	for i := range 1000 {
		resp, err := call(context.Background(), echoReq{N: i})
		require.NoError(t, err)
		assert.Equal(t, "a:1", resp.Instance)
	}
}

func TestRetryHedgeAtPercentileRejectsBadInput(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		p        float64
		min, max time.Duration
	}{
		{0, 0, time.Second}, {95, 0, time.Second}, {-0.5, 0, time.Second}, {0.9, -1, time.Second},
		{0.9, time.Second, time.Millisecond}, {0.9, 0, 0},
	} {
		assert.Panics(t, func() { discovery.RetryHedgeAtPercentile(c.p, c.min, c.max) }, "%+v", c)
	}
	assert.NotPanics(t, func() { discovery.RetryHedgeAtPercentile(1, 0, time.Second) })
}

// A panic in a hedged attempt's endpoint goes on in the caller's
// goroutine, where the caller's recover sees it.
func TestHedgingPanics(t *testing.T) {
	t.Parallel()
	factory := func(instance string) (kit.Endpoint[echoReq, echoResp], io.Closer, error) {
		return func(ctx context.Context, req echoReq) (echoResp, error) {
			if instance == "a:1" {
				panic("boom")
			}
			<-ctx.Done()
			return echoResp{}, ctx.Err()
		}, nil, nil
	}
	e := discovery.NewEndpointer(discovery.FixedInstancer{"a:1", "b:1"}, factory)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	tests := []struct {
		name  string
		order []string
	}{
		{"first attempt", []string{"a:1", "b:1"}},
		{"hedge", []string{"b:1", "a:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := discovery.Retry(ordered(e, tt.order...), discovery.RetryIdempotentCalls(), discovery.RetryHedgeAfter(time.Millisecond))
			assert.PanicsWithValue(t, "boom", func() { _, _ = call(context.Background(), echoReq{}) })
		})
	}
}
