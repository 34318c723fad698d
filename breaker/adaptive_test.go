package breaker_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/breaker"
)

// adaptive returns a middleware that wraps an endpoint in
// Adaptive(opts...) for getCall.
func adaptive(opts ...breaker.AdaptiveOption) kit.Middleware[int, int] {
	return using[int, int](breaker.Adaptive(opts...))
}

// fakeClock is a clock that moves only when told to.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// model computes what Adaptive should do from its own count of requests
// (including rejected ones) and accepts.
type model struct {
	k                 float64
	min               int
	requests, accepts int
}

// p returns the probability with which the next call is rejected.
func (m *model) p() float64 {
	if m.requests < m.min {
		return 0
	}
	return max(0, (float64(m.requests)-m.k*float64(m.accepts))/float64(m.requests+1))
}

func (m *model) record(accepted bool) {
	m.requests++
	if accepted {
		m.accepts++
	}
}

// backend is an endpoint that fails as fail says and counts its calls.
type backend struct {
	calls atomic.Int64
	fail  func() error
}

func (b *backend) endpoint(context.Context, int) (int, error) {
	b.calls.Add(1)
	if err := b.fail(); err != nil {
		return 0, err
	}
	return 1, nil
}

// failRatio returns a fail func that fails a fraction ratio of calls, in an
// order fixed by seed.
func failRatio(ratio float64, seed uint64) func() error {
	rng := rand.New(rand.NewPCG(seed, 0))
	return func() error {
		if rng.Float64() < ratio {
			return errUnavailable
		}
		return nil
	}
}

func TestAdaptiveFollowsFormulaExactly(t *testing.T) {
	t.Parallel()
	// With a random source that always returns u, a call is rejected
	// exactly when the formula's probability exceeds u, so every decision
	// can be checked.
	for _, k := range []float64{1, 1.5, 2, 3} {
		for _, ratio := range []float64{0.2, 0.5, 0.7, 0.9, 1} {
			for _, u := range []float64{0, 0.3, 0.9} {
				var clock fakeClock
				b := &backend{fail: failRatio(ratio, 1)}
				ep := adaptive(
					breaker.AdaptiveK(k),
					breaker.AdaptiveClock(clock.now),
					breaker.AdaptiveRand(func() float64 { return u }),
				)(b.endpoint)
				m := model{k: k, min: 20}
				for i := range 2000 {
					p := m.p()
					calls := b.calls.Load()
					_, err := ep(context.Background(), i)
					rejected := errors.Is(err, breaker.ErrOpen)
					require.Equal(t, p > u, rejected, "K=%v ratio=%v u=%v call %d: p=%v", k, ratio, u, i, p)
					require.Equal(t, rejected, b.calls.Load() == calls, "a rejected call does not reach the endpoint")
					m.record(err == nil)
				}
			}
		}
	}
}

func TestAdaptiveRejectionRate(t *testing.T) {
	t.Parallel()
	// With a real random source, the number of rejections is within a few
	// standard deviations of the sum of the formula's probabilities.
	tests := []struct {
		k, ratio float64
	}{
		{2, 0.1}, {2, 0.4}, {2, 0.6}, {2, 0.9}, {2, 1},
		{1.5, 0.5}, {3, 0.8}, {1, 0.2},
	}
	for _, tt := range tests {
		var clock fakeClock
		rng := rand.New(rand.NewPCG(7, 11))
		b := &backend{fail: failRatio(tt.ratio, 3)}
		ep := adaptive(
			breaker.AdaptiveK(tt.k),
			breaker.AdaptiveClock(clock.now),
			breaker.AdaptiveRand(rng.Float64),
		)(b.endpoint)
		m := model{k: tt.k, min: 20}
		var expected, variance float64
		rejections := 0
		for i := range 5000 {
			p := m.p()
			expected += p
			variance += p * (1 - p)
			_, err := ep(context.Background(), i)
			if errors.Is(err, breaker.ErrOpen) {
				rejections++
				assertRejected(t, err)
			}
			m.record(err == nil)
		}
		tolerance := 4*math.Sqrt(variance) + 1
		assert.InDelta(t, expected, float64(rejections), tolerance, "K=%v failure ratio=%v", tt.k, tt.ratio)
		t.Logf("K=%v failure ratio=%v: %d rejections, formula %.1f ± %.1f", tt.k, tt.ratio, rejections, expected, tolerance)
	}
}

// runAt calls ep perSecond times a second, on clock, for the given number
// of seconds, and returns the rejections and the calls that reached b in
// each second.
func runAt(ep kit.Endpoint[int, int], clock *fakeClock, b *backend, perSecond, seconds int) (rejected, reached []int) {
	for range seconds {
		r, before := 0, b.calls.Load()
		for range perSecond {
			clock.advance(time.Second / time.Duration(perSecond))
			if _, err := ep(context.Background(), 0); errors.Is(err, breaker.ErrOpen) {
				r++
			}
		}
		rejected = append(rejected, r)
		reached = append(reached, int(b.calls.Load()-before))
	}
	return rejected, reached
}

func TestAdaptiveSteadyState(t *testing.T) {
	t.Parallel()
	// K·(1 − failure ratio) ≥ 1: the service accepts enough for nothing to
	// be rejected. Below: almost everything is, but probes still go through.
	tests := []struct {
		ratio         float64
		wantThrottled bool
	}{
		{0, false}, {0.2, false}, {0.4, false},
		{0.7, true}, {0.9, true}, {1, true},
	}
	for _, tt := range tests {
		var clock fakeClock
		b := &backend{fail: failRatio(tt.ratio, 5)}
		ep := adaptive(
			breaker.AdaptiveClock(clock.now),
			breaker.AdaptiveRand(rand.New(rand.NewPCG(1, 2)).Float64),
		)(b.endpoint)
		rejected, reached := runAt(ep, &clock, b, 100, 60)
		// Judge the last 50 seconds: ten windows after the first.
		total := 0
		for s := 10; s < 60; s++ {
			total += rejected[s]
			if tt.wantThrottled {
				assert.GreaterOrEqual(t, reached[s], 1, "failure ratio %v, second %d: a probe goes through", tt.ratio, s)
			}
		}
		rate := float64(total) / 5000
		switch {
		case tt.wantThrottled:
			assert.Greater(t, rate, 0.9, "failure ratio %v", tt.ratio)
		case tt.ratio < 0.3:
			assert.Zero(t, total, "failure ratio %v", tt.ratio)
		default:
			// A one-second window at 100 calls a second holds 100 calls,
			// and a random 40% failure ratio now and then exceeds a half
			// in one of them.
			assert.Less(t, rate, 0.005, "failure ratio %v", tt.ratio)
		}
	}
}

func TestAdaptiveRecovers(t *testing.T) {
	t.Parallel()
	var clock fakeClock
	var failing atomic.Bool
	failing.Store(true)
	b := &backend{fail: func() error {
		if failing.Load() {
			return errors.New("connection refused")
		}
		return nil
	}}
	ep := adaptive(
		breaker.AdaptiveClock(clock.now),
		breaker.AdaptiveRand(rand.New(rand.NewPCG(3, 4)).Float64),
	)(b.endpoint)

	rejected, reached := runAt(ep, &clock, b, 100, 20)
	for s := 1; s < 20; s++ {
		assert.Greater(t, rejected[s], 90, "second %d of the outage", s)
		assert.GreaterOrEqual(t, reached[s], 1, "second %d of the outage: probes go through", s)
	}

	// The service is back: within five windows (5 s) nothing is rejected,
	// and nothing is from then on.
	failing.Store(false)
	rejected, _ = runAt(ep, &clock, b, 100, 40)
	for s := 5; s < 40; s++ {
		assert.Zero(t, rejected[s], "second %d after recovery", s)
	}
	assert.Positive(t, rejected[0], "recovery is gradual")
}

func TestAdaptiveForgetsOldFailures(t *testing.T) {
	t.Parallel()
	var clock fakeClock
	var failing atomic.Bool
	failing.Store(true)
	b := &backend{fail: func() error {
		if failing.Load() {
			return errInternal
		}
		return nil
	}}
	ep := using[int, int](breaker.Adaptive(breaker.AdaptiveClock(clock.now)))(b.endpoint)
	rejected, _ := runAt(ep, &clock, b, 100, 3)
	require.Positive(t, rejected[2])

	// A window with no calls at all forgets the outage.
	failing.Store(false)
	clock.advance(5 * time.Second)
	rejected, _ = runAt(ep, &clock, b, 100, 1)
	assert.Zero(t, rejected[0])
}

func TestAdaptiveMinRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		min        int
		wantPasses int
	}{
		{0, 1}, // the first call has nothing against it
		{1, 1},
		{5, 5},
		{20, 20},
		{-3, 1},
	}
	for _, tt := range tests {
		var clock fakeClock
		b := &backend{fail: func() error { return errInternal }}
		ep := adaptive(
			breaker.AdaptiveMinRequests(tt.min),
			breaker.AdaptiveClock(clock.now),
			breaker.AdaptiveRand(func() float64 { return 0 }), // reject whenever p > 0
		)(b.endpoint)
		for range tt.wantPasses + 10 {
			_, _ = ep(context.Background(), 0)
		}
		assert.Equal(t, int64(tt.wantPasses), b.calls.Load(), "min %d", tt.min)
	}
}

func TestAdaptiveProbes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		interval time.Duration
		want     int64 // calls that reach the service in 10 s of rejections
	}{
		{0, 0},
		{time.Second, 10},
		{500 * time.Millisecond, 20},
		{time.Hour, 0},
	}
	for _, tt := range tests {
		var clock fakeClock
		b := &backend{fail: func() error { return errInternal }}
		ep := adaptive(
			breaker.AdaptiveProbeInterval(tt.interval),
			breaker.AdaptiveMinRequests(1),
			breaker.AdaptiveClock(clock.now),
			breaker.AdaptiveRand(func() float64 { return 0 }),
		)(b.endpoint)
		_, err := ep(context.Background(), 0)
		require.ErrorIs(t, err, errInternal)
		before := b.calls.Load()
		for range 100 {
			clock.advance(100 * time.Millisecond)
			_, _ = ep(context.Background(), 0)
		}
		assert.Equal(t, tt.want, b.calls.Load()-before, "probe interval %v", tt.interval)
	}
}

func TestAdaptiveClassifier(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		err           error
		opts          []breaker.AdaptiveOption
		wantThrottled bool
	}{
		{"caller errors", errNotFound, nil, false},
		{"invalid arguments", errInvalid, nil, false},
		{"canceled", context.Canceled, nil, false},
		{"failures", errInternal, nil, true},
		{"transport errors", errors.New("EOF"), nil, true},
		{"deadlines", context.DeadlineExceeded, nil, true},
		{"custom classifier", errNotFound, []breaker.AdaptiveOption{breaker.Classify(func(error) bool { return true })}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var clock fakeClock
			b := &backend{fail: func() error { return tt.err }}
			opts := append([]breaker.AdaptiveOption{breaker.AdaptiveClock(clock.now)}, tt.opts...)
			ep := using[int, int](breaker.Adaptive(opts...))(b.endpoint)
			rejected := 0
			for range 200 {
				_, err := ep(context.Background(), 0)
				if errors.Is(err, breaker.ErrOpen) {
					rejected++
					continue
				}
				assert.Equal(t, tt.err, err, "the endpoint's error, unchanged")
			}
			if tt.wantThrottled {
				assert.Greater(t, rejected, 150)
			} else {
				assert.Zero(t, rejected)
			}
		})
	}
}

func TestAdaptivePanicIsFailure(t *testing.T) {
	t.Parallel()
	var clock fakeClock
	mw := adaptive(
		breaker.AdaptiveMinRequests(1),
		breaker.AdaptiveClock(clock.now),
		breaker.AdaptiveRand(func() float64 { return 0 }),
	)
	ep := mw(func(context.Context, int) (int, error) { panic("bug") })
	assert.PanicsWithValue(t, "bug", func() { _, _ = ep(context.Background(), 0) })
	_, err := ep(context.Background(), 0)
	assertRejected(t, err)
}

// One Adaptive value gives each method a breaker of its own: the failures
// of one method throttle it and leave the other alone.
func TestAdaptivePerMethod(t *testing.T) {
	t.Parallel()
	var clock fakeClock
	ic := breaker.Adaptive(
		breaker.AdaptiveClock(clock.now),
		breaker.AdaptiveRand(func() float64 { return 0 }),
	)
	failing := kit.Intercept(func(context.Context, int) (int, error) { return 0, errUnavailable }, getCall, ic)
	healthy := &backend{fail: func() error { return nil }}
	other := kit.Intercept(healthy.endpoint, listCall, ic)
	for range 30 {
		_, _ = failing(context.Background(), 0)
	}
	_, err := failing(context.Background(), 0)
	assertRejected(t, err)
	for range 30 {
		_, err := other(context.Background(), 0)
		require.NoError(t, err, "the other method has a breaker of its own")
	}
	assert.Equal(t, int64(30), healthy.calls.Load())
}

func TestAdaptiveInvalidOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  breaker.AdaptiveOption
	}{
		{"K below 1", breaker.AdaptiveK(0.5)},
		{"K not a number", breaker.AdaptiveK(math.NaN())},
		{"K infinite", breaker.AdaptiveK(math.Inf(1))},
		{"no window", breaker.AdaptiveWindow(0, 10)},
		{"no buckets", breaker.AdaptiveWindow(time.Second, 0)},
		{"buckets too small", breaker.AdaptiveWindow(5, 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Panics(t, func() { breaker.Adaptive(tt.opt) }, "when the interceptor is made, before any method")
		})
	}
	assert.NotPanics(t, func() { breaker.Adaptive(breaker.AdaptiveK(1), breaker.AdaptiveWindow(10, 10)) })
}

func TestAdaptiveConcurrent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		fail          func(i int) error
		wantThrottled bool
	}{
		{"healthy with caller errors", func(i int) error {
			if i%10 == 0 {
				return errNotFound
			}
			return nil
		}, false},
		{"failing", func(int) error { return errUnavailable }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ep := intercept(func(_ context.Context, i int) (int, error) { return i, tt.fail(i) }, breaker.Adaptive())
			var rejected atomic.Int64
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					for i := range 2000 {
						resp, err := ep(context.Background(), g*2000+i)
						switch {
						case errors.Is(err, breaker.ErrOpen):
							rejected.Add(1)
						case err == nil:
							assert.Equal(t, g*2000+i, resp)
						}
					}
				})
			}
			wg.Wait()
			if tt.wantThrottled {
				assert.Greater(t, rejected.Load(), int64(8*2000*9/10))
			} else {
				assert.Zero(t, rejected.Load())
			}
		})
	}
}

// TestAdaptiveRecoveryTime measures, on a simulated clock, how long the
// default Adaptive goes on rejecting calls after a service that failed
// every call for 20 seconds is back: the figure the package documents.
func TestAdaptiveRecoveryTime(t *testing.T) {
	t.Parallel()
	for _, perSecond := range []int{100, 1000} {
		var clock fakeClock
		var failing atomic.Bool
		failing.Store(true)
		b := &backend{fail: func() error {
			if failing.Load() {
				return errors.New("connection refused")
			}
			return nil
		}}
		ep := using[int, int](breaker.Adaptive(breaker.AdaptiveClock(clock.now), breaker.AdaptiveRand(rand.New(rand.NewPCG(3, 4)).Float64)))(b.endpoint)
		runAt(ep, &clock, b, perSecond, 20)
		failing.Store(false)
		rejected, _ := runAt(ep, &clock, b, perSecond, 30)
		last := 0
		for s, r := range rejected {
			if r > 0 {
				last = s + 1
			}
		}
		assert.LessOrEqual(t, last, 4, "%d calls a second: rejections end within four seconds of the recovery", perSecond)
		t.Logf("%d calls a second: the last rejection in second %d after the recovery", perSecond, last)
	}
}

// TestBreakersIgnoreTheCallersDeadline fails every call because the
// caller's own context ends: no breaker may count that against the
// service, so a caller with a healthy deadline is never rejected.
func TestBreakersIgnoreTheCallersDeadline(t *testing.T) {
	t.Parallel()
	slow := func(ctx context.Context, _ int) (int, error) {
		<-ctx.Done()
		return 0, kit.WrapError(kit.CodeOf(ctx.Err()), ctx.Err(), "")
	}
	var clock fakeClock
	tests := []struct {
		name string
		ic   kit.Interceptor
	}{
		{"adaptive", breaker.Adaptive(breaker.AdaptiveClock(clock.now))},
		{"gobreaker", breaker.Gobreaker(gobreaker.Settings{})},
		{"handy", breaker.Handy(func(kit.Call) breaker.Breaker { return &failOnceBreaker{} })},
	}
	// Not parallel: the subtests all advance the one clock of the adaptive breaker.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := intercept(slow, tt.ic)
			for range 200 {
				// The caller's own deadline has passed: DeadlineExceeded,
				// which IsFailure counts when the service causes it.
				ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
				_, err := ep(ctx, 0)
				cancel()
				require.Equal(t, kit.DeadlineExceeded, kit.CodeOf(err))
				require.Error(t, err)
				require.NotErrorIs(t, err, breaker.ErrOpen, "a call is rejected because other callers gave up")
				clock.advance(time.Millisecond)
			}
		})
	}
}

// failOnceBreaker opens at the first failure it is told of.
type failOnceBreaker struct{ failed atomic.Bool }

func (b *failOnceBreaker) Allow() bool           { return !b.failed.Load() }
func (b *failOnceBreaker) Success(time.Duration) {}
func (b *failOnceBreaker) Failure(time.Duration) { b.failed.Store(true) }

// TestBreakersCountAHungService calls a service that never answers with a
// deadline the breakers count (the caller gave the call more than the
// floor): each breaker opens, since a hung dependency is what a breaker is
// for, while TestBreakersIgnoreTheCallersDeadline shows a tight deadline
// opening none.
func TestBreakersCountAHungService(t *testing.T) {
	t.Parallel()
	hung := func(ctx context.Context, _ int) (int, error) {
		<-ctx.Done()
		return 0, kit.WrapError(kit.CodeOf(ctx.Err()), ctx.Err(), "")
	}
	floor := breaker.MinCountedDeadline(time.Millisecond)
	tests := []struct {
		name string
		ic   kit.Interceptor
	}{
		{"adaptive", breaker.Adaptive(floor, breaker.AdaptiveMinRequests(5))},
		{"gobreaker", breaker.Gobreaker(gobreaker.Settings{}, floor)},
		{"handy", breaker.Handy(func(kit.Call) breaker.Breaker { return &failOnceBreaker{} }, floor)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ep := intercept(hung, tt.ic)
			opened := false
			for range 200 {
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				_, err := ep(ctx, 0)
				cancel()
				if errors.Is(err, breaker.ErrOpen) {
					opened = true
					break
				}
			}
			assert.True(t, opened, "a service that lets every deadline pass opens the breaker")
		})
	}
}
