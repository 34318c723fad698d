package limit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/limit"
)

// counter is an endpoint that counts its calls.
type counter struct{ calls atomic.Int64 }

func (c *counter) endpoint(_ context.Context, id string) (string, error) {
	c.calls.Add(1)
	return "user " + id, nil
}

// The calls of two methods of one service, as a transport describes them
// to its interceptors.
var (
	getCall  = kit.Call{Service: "svc", Method: "Get", Transport: kit.HTTP}
	listCall = kit.Call{Service: "svc", Method: "List", Transport: kit.HTTP}
)

// intercept wraps ep, the endpoint of getCall, in interceptors.
func intercept(ep kit.Endpoint[string, string], ics ...kit.Interceptor) kit.Endpoint[string, string] {
	return kit.Intercept(ep, getCall, ics...)
}

// assertLimited asserts that err is a rejection by a limit, caused by
// sentinel.
func assertLimited(t *testing.T, err error, sentinel error) {
	t.Helper()
	assert.Equal(t, kit.ResourceExhausted, kit.CodeOf(err), "code of %v", err)
	assert.ErrorIs(t, err, sentinel)
}

func TestErroring(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		allower limit.Allower
		calls   int
		want    int // calls that go through
	}{
		{"allows", limit.AllowerFunc(func() bool { return true }), 5, 5},
		{"denies", limit.AllowerFunc(func() bool { return false }), 5, 0},
		{"token bucket", rate.NewLimiter(rate.Every(time.Hour), 3), 5, 3},
		{"no burst", rate.NewLimiter(rate.Every(time.Hour), 0), 5, 0},
		{"no limit", rate.NewLimiter(rate.Inf, 0), 5, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c counter
			ep := intercept(c.endpoint, limit.Erroring(tt.allower))
			for i := range tt.calls {
				resp, err := ep(context.Background(), "42")
				if i < tt.want {
					require.NoError(t, err)
					assert.Equal(t, "user 42", resp)
					continue
				}
				assertLimited(t, err, limit.ErrRateLimited)
				assert.Equal(t, "rate limit exceeded", kit.MessageOf(err))
				assert.Empty(t, resp)
			}
			assert.Equal(t, int64(tt.want), c.calls.Load(), "rejected calls do not reach the endpoint")
		})
	}
}

func TestErroringConcurrent(t *testing.T) {
	t.Parallel()
	const burst = 100
	var c counter
	ep := intercept(c.endpoint, limit.Erroring(rate.NewLimiter(rate.Every(time.Hour), burst)))
	var ok, rejected atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := ep(context.Background(), ""); err == nil {
					ok.Add(1)
				} else {
					assertLimited(t, err, limit.ErrRateLimited)
					rejected.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(burst), ok.Load())
	assert.Equal(t, int64(8*50-burst), rejected.Load())
	assert.Equal(t, int64(burst), c.calls.Load())
}

// exhausted returns a limiter whose only token is spent and that makes a
// new one each interval.
func exhausted(interval time.Duration) *rate.Limiter {
	lim := rate.NewLimiter(rate.Every(interval), 1)
	lim.Allow()
	return lim
}

// announce returns a Waiter that closes waiting, then waits on w.
func announce(w limit.Waiter, waiting chan<- struct{}) limit.Waiter {
	return limit.WaiterFunc(func(ctx context.Context) error {
		close(waiting)
		return w.Wait(ctx)
	})
}

func TestDelaying(t *testing.T) {
	t.Parallel()
	blockUntilDone := limit.WaiterFunc(func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
	background := func(*testing.T, <-chan struct{}) context.Context { return context.Background() }
	tests := []struct {
		name   string
		waiter limit.Waiter
		// ctx returns the call's context; waiting is closed when the wait
		// begins.
		ctx      func(t *testing.T, waiting <-chan struct{}) context.Context
		wantCode kit.Code
		wantErrs []error
	}{
		{
			name:     "token available",
			waiter:   rate.NewLimiter(rate.Every(time.Hour), 1),
			ctx:      background,
			wantCode: kit.OK,
		},
		{
			name:     "waits for a token",
			waiter:   exhausted(time.Millisecond),
			ctx:      background,
			wantCode: kit.OK,
		},
		{
			name:   "canceled before the wait",
			waiter: rate.NewLimiter(rate.Every(time.Hour), 1),
			ctx: func(*testing.T, <-chan struct{}) context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx
			},
			wantCode: kit.Canceled,
			wantErrs: []error{context.Canceled},
		},
		{
			name:   "canceled during the wait",
			waiter: exhausted(time.Hour),
			ctx: func(t *testing.T, waiting <-chan struct{}) context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				t.Cleanup(cancel)
				go func() {
					<-waiting
					cancel()
				}()
				return ctx
			},
			wantCode: kit.Canceled,
			wantErrs: []error{context.Canceled},
		},
		{
			name:   "deadline expires during the wait",
			waiter: blockUntilDone,
			ctx: func(t *testing.T, _ <-chan struct{}) context.Context {
				ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
				t.Cleanup(cancel)
				return ctx
			},
			wantCode: kit.DeadlineExceeded,
			wantErrs: []error{context.DeadlineExceeded},
		},
		{
			name:   "deadline before the next token",
			waiter: exhausted(time.Hour),
			ctx: func(t *testing.T, _ <-chan struct{}) context.Context {
				ctx, cancel := context.WithTimeout(context.Background(), time.Hour/2)
				t.Cleanup(cancel)
				return ctx
			},
			wantCode: kit.ResourceExhausted,
			wantErrs: []error{limit.ErrRateLimited},
		},
		{
			name:     "burst too small",
			waiter:   rate.NewLimiter(rate.Every(time.Hour), 0),
			ctx:      background,
			wantCode: kit.ResourceExhausted,
			wantErrs: []error{limit.ErrRateLimited},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			waiting := make(chan struct{})
			ctx := tt.ctx(t, waiting)
			var c counter
			ep := intercept(c.endpoint, limit.Delaying(announce(tt.waiter, waiting)))
			resp, err := ep(ctx, "42")
			assert.Equal(t, tt.wantCode, kit.CodeOf(err), "error %v", err)
			for _, e := range tt.wantErrs {
				assert.ErrorIs(t, err, e)
			}
			if tt.wantCode == kit.OK {
				assert.Equal(t, "user 42", resp)
				assert.Equal(t, int64(1), c.calls.Load())
				return
			}
			assert.Empty(t, resp)
			assert.Zero(t, c.calls.Load(), "a call whose wait failed does not reach the endpoint")
			if tt.wantCode == kit.ResourceExhausted {
				assert.NoError(t, ctx.Err(), "a wait that cannot end before the deadline fails before it")
			}
		})
	}
}

func TestDelayingIsNotErroring(t *testing.T) {
	t.Parallel()
	// Every call of a burst beyond the limiter's goes through, in turn.
	var c counter
	ep := intercept(c.endpoint, limit.Delaying(rate.NewLimiter(rate.Every(time.Millisecond), 1)))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := ep(context.Background(), "")
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, int64(8), c.calls.Load())
}

func TestDelayingWaiterError(t *testing.T) {
	t.Parallel()
	broken := errors.New("quota service down")
	ep := intercept(new(counter).endpoint, limit.Delaying(limit.WaiterFunc(func(context.Context) error { return broken })))
	_, err := ep(context.Background(), "")
	assertLimited(t, err, limit.ErrRateLimited)
	assert.ErrorIs(t, err, broken)
}

// One Erroring value is one budget for every method it wraps: the calls of
// one method spend the tokens of the other.
func TestErroringSharedByMethods(t *testing.T) {
	t.Parallel()
	ic := limit.Erroring(rate.NewLimiter(rate.Every(time.Hour), 2))
	var c counter
	get := kit.Intercept(c.endpoint, getCall, ic)
	list := kit.Intercept(c.endpoint, listCall, ic)
	_, err := get(context.Background(), "1")
	require.NoError(t, err)
	_, err = list(context.Background(), "2")
	require.NoError(t, err)
	_, err = get(context.Background(), "3")
	assertLimited(t, err, limit.ErrRateLimited)
	_, err = list(context.Background(), "4")
	assertLimited(t, err, limit.ErrRateLimited)
	assert.Equal(t, int64(2), c.calls.Load())
}

// An interceptor that makes its limiter when it is called for a method
// gives each method a budget of its own: a flood of one leaves the other
// its tokens.
func TestErroringPerMethod(t *testing.T) {
	t.Parallel()
	var built atomic.Int64
	perMethod := func(call kit.Call, next kit.Invoker) kit.Invoker {
		built.Add(1)
		return limit.Erroring(rate.NewLimiter(rate.Every(time.Hour), 2))(call, next)
	}
	var c counter
	get := kit.Intercept(c.endpoint, getCall, perMethod)
	list := kit.Intercept(c.endpoint, listCall, perMethod)
	for range 2 {
		_, err := get(context.Background(), "")
		require.NoError(t, err)
	}
	_, err := get(context.Background(), "")
	assertLimited(t, err, limit.ErrRateLimited)
	for range 2 {
		_, err := list(context.Background(), "")
		require.NoError(t, err, "the other method has its own tokens")
	}
	_, err = list(context.Background(), "")
	assertLimited(t, err, limit.ErrRateLimited)
	assert.Equal(t, int64(2), built.Load(), "one limiter per method, made when the chains are built")
}

// A limiter that decides on every call through the same Delaying value,
// whatever the method.
func TestDelayingSharedByMethods(t *testing.T) {
	t.Parallel()
	var waits atomic.Int64
	ic := limit.Delaying(limit.WaiterFunc(func(context.Context) error {
		waits.Add(1)
		return nil
	}))
	var c counter
	for _, call := range []kit.Call{getCall, listCall, getCall} {
		_, err := kit.Intercept(c.endpoint, call, ic)(context.Background(), "")
		require.NoError(t, err)
	}
	assert.Equal(t, int64(3), waits.Load())
}

func TestRateInvalid(t *testing.T) {
	t.Parallel()
	assert.Panics(t, func() { limit.Erroring(nil) })
	assert.Panics(t, func() { limit.Delaying(nil) })
}

// A call that a limit lets through allocates nothing of the interceptor's,
// nor does a rejection by Erroring (Delaying's wraps the Waiter's error).
// Not parallel: AllocsPerRun counts the allocations of the whole process.
func TestLimitsAllocateNothing(t *testing.T) {
	tests := []struct {
		name     string
		ic       kit.Interceptor
		rejected bool
	}{
		{"Erroring allowed", limit.Erroring(rate.NewLimiter(rate.Inf, 0)), false},
		{"Erroring rejected", limit.Erroring(rate.NewLimiter(0, 0)), true},
		{"Delaying allowed", limit.Delaying(rate.NewLimiter(rate.Inf, 0)), false},
		{"InFlight allowed", limit.InFlight(1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := intercept(func(_ context.Context, s string) (string, error) { return s, nil }, tt.ic)
			ctx := context.Background()
			allocs := testing.AllocsPerRun(1000, func() {
				_, err := ep(ctx, "x")
				if (err != nil) != tt.rejected {
					t.Fatalf("error %v", err)
				}
			})
			assert.Zero(t, allocs)
		})
	}
}
