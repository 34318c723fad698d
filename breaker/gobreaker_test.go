package breaker_test

import (
	"context"
	"errors"
	"strings"
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
	mu    sync.Mutex
	log   []string
	names []string // of the breaker of each transition
}

func (tr *transitions) record(name string, from, to gobreaker.State) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.log = append(tr.log, from.String()+"->"+to.String())
	tr.names = append(tr.names, name)
}

// state returns the state the last transition led to.
func (tr *transitions) state() gobreaker.State {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.log) == 0 {
		return gobreaker.StateClosed
	}
	last := tr.log[len(tr.log)-1]
	for _, st := range []gobreaker.State{gobreaker.StateClosed, gobreaker.StateOpen, gobreaker.StateHalfOpen} {
		if strings.HasSuffix(last, "->"+st.String()) {
			return st
		}
	}
	panic("unknown state in " + last)
}

func (tr *transitions) namesSeen() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.names...)
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
	t.Parallel()
	var tr transitions
	var backend scripted
	ep := intercept(backend.endpoint, breaker.Gobreaker(tripAfter3(&tr, time.Minute)))

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
		assert.Equal(t, s.wantState, tr.state(), msg...)
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
	assert.Equal(t, []string{"/users.Service/Get"}, tr.namesSeen(), "the breaker is named after the method")
}

// halfOpen returns an endpoint whose breaker is half-open and lets one
// probe through, with the log of its transitions. The endpoint fails the
// calls for "fail", blocks those for "probe" until release is closed and
// returns probe's error, and answers "other" at once.
func halfOpen(t *testing.T, probe error) (ep kit.Endpoint[string, string], tr *transitions, entered, release chan struct{}) {
	t.Helper()
	tr = new(transitions)
	entered, release = make(chan struct{}), make(chan struct{})
	ep = intercept(func(_ context.Context, id string) (string, error) {
		switch id {
		case "fail":
			return "", errInternal
		case "probe":
			close(entered)
			<-release
			return "probed", probe
		}
		return "other", nil
	}, breaker.Gobreaker(tripAfter3(tr, time.Millisecond)))
	for range 3 {
		_, err := ep(context.Background(), "fail")
		require.ErrorIs(t, err, errInternal)
	}
	require.Equal(t, gobreaker.StateOpen, tr.state())
	// The breaker turns half-open at the first call after its timeout,
	// which the caller makes.
	time.Sleep(2 * time.Millisecond)
	return ep, tr, entered, release
}

func TestGobreakerHalfOpen(t *testing.T) {
	t.Parallel()
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
			t.Parallel()
			ep, tr, entered, release := halfOpen(t, tt.probe)

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
			require.Equal(t, gobreaker.StateHalfOpen, tr.state())

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
			assert.Equal(t, tt.wantState, tr.state())
			assert.Equal(t, tt.wantLog, tr.get())
		})
	}
}

func TestGobreakerClassifier(t *testing.T) {
	t.Parallel()
	tr := new(transitions)
	everyError := func(error) bool { return true }
	ep := intercept(func(context.Context, string) (string, error) { return "", errNotFound },
		breaker.Gobreaker(tripAfter3(tr, time.Minute), breaker.Classify(everyError)))
	for range 3 {
		_, err := ep(context.Background(), "")
		assert.Same(t, errNotFound, err)
	}
	assert.Equal(t, gobreaker.StateOpen, tr.state(), "every error counts with this classifier")
	_, err := ep(context.Background(), "")
	assertRejected(t, err, gobreaker.ErrOpenState)
}

func TestGobreakerPanicCountsAsFailure(t *testing.T) {
	t.Parallel()
	tr := new(transitions)
	settings := tripAfter3(tr, time.Minute)
	settings.ReadyToTrip = func(c gobreaker.Counts) bool { return c.TotalFailures >= 1 }
	ep := intercept(func(context.Context, string) (string, error) { panic("bug") }, breaker.Gobreaker(settings))
	assert.PanicsWithValue(t, "bug", func() { _, _ = ep(context.Background(), "") })
	assert.Equal(t, gobreaker.StateOpen, tr.state())
	_, err := ep(context.Background(), "")
	assertRejected(t, err, gobreaker.ErrOpenState)
}

// Settings with a name give it to every method's breaker.
func TestGobreakerName(t *testing.T) {
	t.Parallel()
	tr := new(transitions)
	settings := tripAfter3(tr, time.Minute)
	settings.Name = "users"
	settings.ReadyToTrip = func(gobreaker.Counts) bool { return true }
	ep := intercept(func(context.Context, string) (string, error) { return "", errInternal }, breaker.Gobreaker(settings))
	_, _ = ep(context.Background(), "")
	assert.Equal(t, []string{"users"}, tr.namesSeen())
}
