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

// assertLimited asserts that err is a rejection by a limit, caused by
// sentinel.
func assertLimited(t *testing.T, err error, sentinel error) {
	t.Helper()
	assert.Equal(t, kit.ResourceExhausted, kit.CodeOf(err), "code of %v", err)
	assert.ErrorIs(t, err, sentinel)
}

func TestErroring(t *testing.T) {
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
			var c counter
			ep := limit.Erroring[string, string](tt.allower)(c.endpoint)
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
	const burst = 100
	var c counter
	ep := limit.Erroring[string, string](rate.NewLimiter(rate.Every(time.Hour), burst))(c.endpoint)
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
			waiting := make(chan struct{})
			ctx := tt.ctx(t, waiting)
			var c counter
			ep := limit.Delaying[string, string](announce(tt.waiter, waiting))(c.endpoint)
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
	// Every call of a burst beyond the limiter's goes through, in turn.
	var c counter
	ep := limit.Delaying[string, string](rate.NewLimiter(rate.Every(time.Millisecond), 1))(c.endpoint)
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
	broken := errors.New("quota service down")
	ep := limit.Delaying[string, string](limit.WaiterFunc(func(context.Context) error { return broken }))(
		new(counter).endpoint)
	_, err := ep(context.Background(), "")
	assertLimited(t, err, limit.ErrRateLimited)
	assert.ErrorIs(t, err, broken)
}
