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

func TestHandy(t *testing.T) {
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
			opts:         []breaker.Option{breaker.WithClassifier(func(err error) bool { return kit.IsCode(err, kit.NotFound) })},
			wantCalled:   true,
			wantFailures: 1,
		},
		{
			name:          "nil classifier keeps the default",
			err:           errNotFound,
			opts:          []breaker.Option{breaker.WithClassifier(nil)},
			wantCalled:    true,
			wantSuccesses: 1,
		},
		{name: "open", open: true, err: nil, wantCalled: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &fakeBreaker{open: tt.open}
			called := false
			ep := breaker.Handy[string, string](b, tt.opts...)(func(_ context.Context, id string) (string, error) {
				called = true
				return "user " + id, tt.err
			})
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
	b := new(fakeBreaker)
	ep := breaker.Handy[string, string](b)(func(context.Context, string) (string, error) { panic("bug") })
	assert.PanicsWithValue(t, "bug", func() { _, _ = ep(context.Background(), "") })
	assert.Equal(t, 1, b.failures)
	assert.Equal(t, 0, b.successes)
}
