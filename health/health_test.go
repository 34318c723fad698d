package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/health"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// probe is the answer to a probe.
type probe struct {
	status      int
	contentType string
	cache       string
	body        string
}

// serve serves h's handlers on a loopback port until the test ends.
func serve(t *testing.T, h *health.Health) string {
	t.Helper()
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv.URL
}

func get(t *testing.T, method, url string) probe {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return probe{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), string(b)}
}

func TestZeroValue(t *testing.T) {
	t.Parallel()
	var h health.Health
	url := serve(t, &h)

	for path, want := range map[string]string{"/livez": `{"status":"live"}`, "/readyz": `{"status":"ready"}`} {
		got := get(t, http.MethodGet, url+path)
		assert.Equal(t, 200, got.status, path)
		assert.Equal(t, "application/json", got.contentType, path)
		assert.Equal(t, "no-store", got.cache, path)
		assert.JSONEq(t, want, got.body, path)
	}
	require.NoError(t, h.Ready(context.Background()))
	assert.False(t, h.Draining())
}

func TestChecks(t *testing.T) {
	t.Parallel()
	h := &health.Health{CheckTimeout: 50 * time.Millisecond}
	var cacheErr atomic.Pointer[error]
	var dbCalls atomic.Int32
	h.AddCheck("db", func(context.Context) error { dbCalls.Add(1); return nil })
	h.AddCheck("cache", func(context.Context) error {
		if p := cacheErr.Load(); p != nil {
			return *p
		}
		return nil
	})
	url := serve(t, h)

	setCache := func(err error) {
		if err == nil {
			cacheErr.Store(nil)
			return
		}
		cacheErr.Store(&err)
	}
	tests := []struct {
		name     string
		cache    error
		draining bool
		status   int
		body     string
		code     kit.Code
		message  string
	}{
		{"all pass", nil, false, 200,
			`{"status":"ready","checks":[{"name":"db","status":"ok"},{"name":"cache","status":"ok"}]}`, kit.OK, ""},
		{"kit error shows its message", kit.NewError(kit.Unavailable, "cache cold"), false, 503,
			`{"status":"not_ready","checks":[{"name":"db","status":"ok"},{"name":"cache","status":"failed","error":"cache cold"}]}`,
			kit.Unavailable, "not ready: failed checks: cache"},
		{"plain error hides its text", errors.New("dial 10.0.0.7: secret"), false, 503,
			`{"status":"not_ready","checks":[{"name":"db","status":"ok"},{"name":"cache","status":"failed","error":"unknown error"}]}`,
			kit.Unavailable, "not ready: failed checks: cache"},
		{"draining answers at once", nil, true, 503, `{"status":"draining"}`, kit.Unavailable, "draining"},
		{"ready again", nil, false, 200,
			`{"status":"ready","checks":[{"name":"db","status":"ok"},{"name":"cache","status":"ok"}]}`, kit.OK, ""},
	}
	for _, tt := range tests {
		// Serial: the cases are steps on one Health.
		t.Run(tt.name, func(t *testing.T) {
			setCache(tt.cache)
			h.SetDraining(tt.draining)
			assert.Equal(t, tt.draining, h.Draining())
			before := dbCalls.Load()
			got := get(t, http.MethodGet, url+"/readyz")
			assert.Equal(t, tt.status, got.status)
			assert.JSONEq(t, tt.body, got.body)
			assert.NotContains(t, got.body, "secret")
			if tt.draining {
				assert.Equal(t, before, dbCalls.Load(), "checks run while draining")
			}
			err := h.Ready(context.Background())
			assert.Equal(t, tt.code, kit.CodeOf(err))
			assert.Equal(t, tt.message, kit.MessageOf(err))
			if tt.cache != nil {
				assert.ErrorIs(t, err, tt.cache)
			}
			live := get(t, http.MethodGet, url+"/livez")
			assert.Equal(t, 200, live.status, "liveness does not follow readiness")
		})
	}
}

func TestCheckTimeoutAndPanic(t *testing.T) {
	t.Parallel()
	h := &health.Health{CheckTimeout: 20 * time.Millisecond}
	h.AddCheck("slow", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	h.AddCheck("panicky", func(context.Context) error { panic("boom") })
	report := h.Check(context.Background())
	assert.Equal(t, health.StatusNotReady, report.Status)
	require.Len(t, report.Checks, 2)
	assert.Equal(t, "deadline exceeded", report.Checks[0].Error)
	assert.Equal(t, health.CheckFailed, report.Checks[0].Status)
	assert.Equal(t, "check panicked", report.Checks[1].Error)
	var p *kit.PanicError
	assert.ErrorAs(t, h.Ready(context.Background()), &p, "the panic stays in the error chain")

	assert.Panics(t, func() { h.AddCheck("slow", func(context.Context) error { return nil }) })
	assert.Panics(t, func() { h.AddCheck("", func(context.Context) error { return nil }) })
	assert.Panics(t, func() { h.AddCheck("nil", nil) })
}

func TestHead(t *testing.T) {
	t.Parallel()
	h := new(health.Health)
	h.SetDraining(true)
	url := serve(t, h)
	got := get(t, http.MethodHead, url+"/readyz")
	assert.Equal(t, 503, got.status)
	assert.Empty(t, got.body)
	var report health.Report
	require.NoError(t, json.Unmarshal([]byte(get(t, http.MethodGet, url+"/readyz").body), &report))
	assert.Equal(t, health.StatusDraining, report.Status)
	assert.Empty(t, report.Checks)
}

// closed reports whether c is closed, without waiting.
func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// TestWatchDraining: the channel WatchDraining returns closes on the next
// change of the draining flag, and only on a change.
func TestWatchDraining(t *testing.T) {
	t.Parallel()
	var h health.Health
	steps := []struct {
		name     string
		set      bool
		changes  bool
		draining bool
	}{
		{"not draining again is no change", false, false, false},
		{"draining", true, true, true},
		{"draining again is no change", true, false, true},
		{"no longer draining", false, true, false},
		{"draining once more", true, true, true},
	}
	for _, step := range steps {
		// Serial: the cases are steps on one Health.
		t.Run(step.name, func(t *testing.T) {
			_, before := h.WatchDraining()
			_, other := h.WatchDraining()
			h.SetDraining(step.set)
			assert.Equal(t, step.changes, closed(before))
			assert.Equal(t, step.changes, closed(other), "every watcher learns of it")
			draining, after := h.WatchDraining()
			assert.Equal(t, step.draining, draining)
			assert.False(t, closed(after), "a fresh channel waits for the next change")
		})
	}
}

// TestWatchDrainingWakesWaiters: goroutines that wait on the channel wake
// when the service starts draining, and none is left behind.
func TestWatchDrainingWakesWaiters(t *testing.T) {
	t.Parallel()
	var h health.Health
	const waiters = 8
	var wg sync.WaitGroup
	woke := make(chan bool, waiters)
	for range waiters {
		_, changed := h.WatchDraining()
		wg.Go(func() {
			<-changed
			woke <- h.Draining()
		})
	}
	h.SetDraining(true)
	wg.Wait()
	close(woke)
	for draining := range woke {
		assert.True(t, draining)
	}
}

// TestConcurrentUse runs probes, checks and draining changes at once, for
// the race detector.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	h := &health.Health{CheckTimeout: time.Second}
	h.AddCheck("a", func(context.Context) error { return nil })
	url := serve(t, h)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 20 {
				switch (i + j) % 4 {
				case 0:
					h.SetDraining(j%2 == 0)
				case 1:
					_, _ = h.WatchDraining()
				case 2:
					_ = h.Ready(context.Background())
				default:
					resp, err := http.Get(url + "/readyz")
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}
			}
		})
	}
	wg.Wait()
}
