package breaker_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/breaker"
)

// transitions records a breaker's state changes.
type transitions struct {
	mu  sync.Mutex
	log []string
}

func (tr *transitions) record(_ string, from, to gobreaker.State) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.log = append(tr.log, from.String()+"->"+to.String())
}

func (tr *transitions) get() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.log...)
}

// tripAfter3 returns gobreaker settings that open after three consecutive
// failures and stay open for timeout.
func tripAfter3(tr *transitions, timeout time.Duration) gobreaker.Settings {
	return gobreaker.Settings{
		Name:          "users",
		Timeout:       timeout,
		ReadyToTrip:   func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 3 },
		OnStateChange: tr.record,
	}
}

// scripted is an endpoint that returns the errors it is given, one per
// call, and counts its calls.
type scripted struct {
	calls int
	next  error
}

func (s *scripted) endpoint(_ context.Context, id string) (string, error) {
	s.calls++
	if s.next != nil {
		return "", s.next
	}
	return "user " + id, nil
}

func TestGobreakerClosedToOpen(t *testing.T) {
	var tr transitions
	cb := gobreaker.NewCircuitBreaker[string](tripAfter3(&tr, time.Minute))
	var backend scripted
	ep := breaker.Gobreaker[string](cb)(backend.endpoint)

	steps := []struct {
		name      string
		err       error // what the endpoint returns
		rejected  bool  // whether the breaker rejects the call
		wantState gobreaker.State
	}{
		{"success", nil, false, gobreaker.StateClosed},
		{"caller error", errNotFound, false, gobreaker.StateClosed},
		{"caller error", errInvalid, false, gobreaker.StateClosed},
		{"caller error", errNotFound, false, gobreaker.StateClosed},
		{"canceled", context.Canceled, false, gobreaker.StateClosed},
		{"failure 1", errInternal, false, gobreaker.StateClosed},
		{"failure 2", errUnavailable, false, gobreaker.StateClosed},
		{"success ends the run", nil, false, gobreaker.StateClosed},
		{"failure 1", errInternal, false, gobreaker.StateClosed},
		{"failure 2", errInternal, false, gobreaker.StateClosed},
		{"caller error counts as a success and ends the run", errNotFound, false, gobreaker.StateClosed},
		{"failure 1", errInternal, false, gobreaker.StateClosed},
		{"failure 2", errors.New("connection refused"), false, gobreaker.StateClosed},
		{"failure 3 opens", kit.NewError(kit.DeadlineExceeded, ""), false, gobreaker.StateOpen},
		{"rejected", nil, true, gobreaker.StateOpen},
		{"still rejected", errInternal, true, gobreaker.StateOpen},
	}
	for i, s := range steps {
		calls := backend.calls
		backend.next = s.err
		resp, err := ep(context.Background(), "42")
		msg := []any{"step %d (%s)", i, s.name}
		assert.Equal(t, !s.rejected, backend.calls > calls, msg...)
		assert.Equal(t, s.wantState, cb.State(), msg...)
		switch {
		case s.rejected:
			assertRejected(t, err, gobreaker.ErrOpenState)
			assert.Empty(t, resp, msg...)
		case s.err == nil:
			require.NoError(t, err, msg...)
			assert.Equal(t, "user 42", resp, msg...)
		default:
			assert.Same(t, s.err, err, msg...) // the endpoint's error, unchanged
		}
	}
	assert.Equal(t, []string{"closed->open"}, tr.get())
}

// halfOpen returns a breaker that is half-open and lets one probe through,
// with the log of its transitions.
func halfOpen(t *testing.T) (*gobreaker.CircuitBreaker[string], *transitions) {
	t.Helper()
	tr := new(transitions)
	cb := gobreaker.NewCircuitBreaker[string](tripAfter3(tr, time.Millisecond))
	failing := breaker.Gobreaker[string](cb)(func(context.Context, string) (string, error) { return "", errInternal })
	for range 3 {
		_, err := failing(context.Background(), "")
		require.ErrorIs(t, err, errInternal)
	}
	require.Eventually(t, func() bool { return cb.State() == gobreaker.StateHalfOpen }, 5*time.Second, time.Millisecond)
	return cb, tr
}

func TestGobreakerHalfOpen(t *testing.T) {
	tests := []struct {
		name      string
		probe     error
		wantState gobreaker.State
		wantLog   []string
	}{
		{"probe succeeds", nil, gobreaker.StateClosed, []string{"closed->open", "open->half-open", "half-open->closed"}},
		{"probe fails with a caller error", errNotFound, gobreaker.StateClosed, []string{"closed->open", "open->half-open", "half-open->closed"}},
		{"probe fails", errUnavailable, gobreaker.StateOpen, []string{"closed->open", "open->half-open", "half-open->open"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb, tr := halfOpen(t)
			entered, release := make(chan struct{}), make(chan struct{})
			ep := breaker.Gobreaker[string](cb)(func(_ context.Context, id string) (string, error) {
				if id == "probe" {
					close(entered)
					<-release
					return "probed", tt.probe
				}
				return "other", nil
			})

			type result struct {
				resp string
				err  error
			}
			probe := make(chan result)
			go func() {
				resp, err := ep(context.Background(), "probe")
				probe <- result{resp, err}
			}()
			<-entered

			// The probe is in flight: a half-open breaker lets no other call through.
			resp, err := ep(context.Background(), "other")
			assertRejected(t, err, gobreaker.ErrTooManyRequests)
			assert.Empty(t, resp)

			close(release)
			r := <-probe
			assert.Equal(t, "probed", r.resp)
			if tt.probe == nil {
				assert.NoError(t, r.err)
			} else {
				assert.Same(t, tt.probe, r.err)
			}
			assert.Equal(t, tt.wantState, cb.State())
			assert.Equal(t, tt.wantLog, tr.get())
		})
	}
}

func TestGobreakerClassifier(t *testing.T) {
	cb := gobreaker.NewCircuitBreaker[string](tripAfter3(new(transitions), time.Minute))
	everyError := func(error) bool { return true }
	ep := breaker.Gobreaker[string](cb, breaker.WithClassifier(everyError))(
		func(context.Context, string) (string, error) { return "", errNotFound })
	for range 3 {
		_, err := ep(context.Background(), "")
		assert.Same(t, errNotFound, err)
	}
	assert.Equal(t, gobreaker.StateOpen, cb.State(), "every error counts with this classifier")
	_, err := ep(context.Background(), "")
	assertRejected(t, err, gobreaker.ErrOpenState)
}

func TestGobreakerPanicCountsAsFailure(t *testing.T) {
	cb := gobreaker.NewCircuitBreaker[string](tripAfter3(new(transitions), time.Minute))
	ep := breaker.Gobreaker[string](cb)(func(context.Context, string) (string, error) { panic("bug") })
	assert.PanicsWithValue(t, "bug", func() { _, _ = ep(context.Background(), "") })
	assert.Equal(t, uint32(1), cb.Counts().TotalFailures)
}
