package breaker_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/breaker"
)

// fakeBreaker is a Breaker that allows calls while open is false and
// records what it is told.
type fakeBreaker struct {
	mu        sync.Mutex
	open      bool
	successes int
	failures  int
	durations []time.Duration
}

var _ breaker.Breaker = (*fakeBreaker)(nil)

func (b *fakeBreaker) Allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.open
}

func (b *fakeBreaker) Success(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.successes++
	b.durations = append(b.durations, d)
}

func (b *fakeBreaker) Failure(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	b.durations = append(b.durations, d)
}

// handy returns an interceptor whose every method has the breaker b.
func handy(b breaker.Breaker, opts ...breaker.Option) kit.Interceptor {
	return breaker.Handy(func(kit.Call) breaker.Breaker { return b }, opts...)
}

func TestHandy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		open          bool
		err           error
		opts          []breaker.Option
		wantCalled    bool
		wantSuccesses int
		wantFailures  int
	}{
		{name: "success", err: nil, wantCalled: true, wantSuccesses: 1},
		{name: "failure", err: errInternal, wantCalled: true, wantFailures: 1},
		{name: "transport failure", err: errors.New("connection reset"), wantCalled: true, wantFailures: 1},
		{name: "caller error is a success", err: errNotFound, wantCalled: true, wantSuccesses: 1},
		{name: "canceled is a success", err: context.Canceled, wantCalled: true, wantSuccesses: 1},
		{
			name:         "custom classifier",
			err:          errNotFound,
			opts:         []breaker.Option{breaker.Classify(func(err error) bool { return kit.CodeOf(err) == kit.NotFound })},
			wantCalled:   true,
			wantFailures: 1,
		},
		{
			name:          "nil classifier keeps the default",
			err:           errNotFound,
			opts:          []breaker.Option{breaker.Classify(nil)},
			wantCalled:    true,
			wantSuccesses: 1,
		},
		{name: "open", open: true, err: nil, wantCalled: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := &fakeBreaker{open: tt.open}
			called := false
			ep := intercept(func(_ context.Context, id string) (string, error) {
				called = true
				return "user " + id, tt.err
			}, handy(b, tt.opts...))
			resp, err := ep(context.Background(), "42")
			assert.Equal(t, tt.wantCalled, called)
			assert.Equal(t, tt.wantSuccesses, b.successes)
			assert.Equal(t, tt.wantFailures, b.failures)
			for _, d := range b.durations {
				assert.GreaterOrEqual(t, d, time.Duration(0))
			}
			switch {
			case tt.open:
				assertRejected(t, err)
				assert.Empty(t, resp)
			case tt.err == nil:
				require.NoError(t, err)
				assert.Equal(t, "user 42", resp)
			default:
				assert.Same(t, tt.err, err)
				assert.Equal(t, "user 42", resp)
			}
		})
	}
}

func TestHandyPanicIsFailure(t *testing.T) {
	t.Parallel()
	b := new(fakeBreaker)
	ep := intercept(func(context.Context, string) (string, error) { panic("bug") }, handy(b))
	assert.PanicsWithValue(t, "bug", func() { _, _ = ep(context.Background(), "") })
	assert.Equal(t, 1, b.failures)
	assert.Equal(t, 0, b.successes)
}

// Handy asks for a breaker once per method, when the chains are built,
// with the method's Call; a method given none goes unbroken.
func TestHandyPerMethod(t *testing.T) {
	t.Parallel()
	var asked []string
	breakers := map[string]*fakeBreaker{"Get": {}, "List": {}}
	ic := breaker.Handy(func(call kit.Call) breaker.Breaker {
		asked = append(asked, call.Procedure())
		if b, ok := breakers[call.Method]; ok {
			return b
		}
		return nil
	})
	ep := func(context.Context, string) (string, error) { return "ok", nil }
	get := kit.Intercept(ep, getCall, ic)
	list := kit.Intercept(ep, listCall, ic)
	other := kit.Intercept(ep, kit.Call{Service: "users.Service", Method: "Ping"}, ic)
	assert.Equal(t, []string{"/users.Service/Get", "/users.Service/List", "/users.Service/Ping"}, asked)

	breakers["Get"].open = true
	for range 3 {
		_, err := get(context.Background(), "")
		assertRejected(t, err)
		_, err = list(context.Background(), "")
		require.NoError(t, err)
		_, err = other(context.Background(), "")
		require.NoError(t, err)
	}
	assert.Equal(t, 3, breakers["List"].successes)
	assert.Zero(t, breakers["Get"].successes)
	assert.Len(t, asked, 3, "no breaker is made per call")
}

func TestHandyInvalid(t *testing.T) {
	t.Parallel()
	assert.Panics(t, func() { breaker.Handy(nil) })
}
