package httpx_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/httpx"
)

func TestHealthZeroValue(t *testing.T) {
	var h httpx.Health
	mux := http.NewServeMux()
	h.Register(mux)
	srv := newTestServer(t, mux)

	for path, want := range map[string]string{"/livez": `{"status":"live"}`, "/readyz": `{"status":"ready"}`} {
		got := do(t, http.MethodGet, srv.URL+path, nil, "")
		assert.Equal(t, 200, got.status, path)
		assert.Equal(t, httpx.JSONContentType, got.contentType, path)
		assert.JSONEq(t, want, got.body, path)
	}
	require.NoError(t, h.Ready(context.Background()))
}

func TestHealthChecks(t *testing.T) {
	h := &httpx.Health{CheckTimeout: 50 * time.Millisecond}
	var cacheErr atomic.Pointer[error]
	var dbCalls atomic.Int32
	h.AddCheck("db", func(context.Context) error { dbCalls.Add(1); return nil })
	h.AddCheck("cache", func(context.Context) error {
		if p := cacheErr.Load(); p != nil {
			return *p
		}
		return nil
	})
	mux := http.NewServeMux()
	h.Register(mux)
	srv := newTestServer(t, mux)

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
		t.Run(tt.name, func(t *testing.T) {
			setCache(tt.cache)
			h.SetDraining(tt.draining)
			before := dbCalls.Load()
			got := do(t, http.MethodGet, srv.URL+"/readyz", nil, "")
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
			live := do(t, http.MethodGet, srv.URL+"/livez", nil, "")
			assert.Equal(t, 200, live.status, "liveness does not follow readiness")
		})
	}
}

func TestHealthCheckTimeoutAndPanic(t *testing.T) {
	h := &httpx.Health{CheckTimeout: 20 * time.Millisecond}
	h.AddCheck("slow", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	h.AddCheck("panicky", func(context.Context) error { panic("boom") })
	report := h.Check(context.Background())
	assert.Equal(t, httpx.HealthNotReady, report.Status)
	require.Len(t, report.Checks, 2)
	assert.Equal(t, "deadline exceeded", report.Checks[0].Error)
	assert.Equal(t, "check panicked", report.Checks[1].Error)

	assert.Panics(t, func() { h.AddCheck("slow", func(context.Context) error { return nil }) })
	assert.Panics(t, func() { h.AddCheck("", func(context.Context) error { return nil }) })
}

func TestHealthHead(t *testing.T) {
	h := new(httpx.Health)
	h.SetDraining(true)
	mux := http.NewServeMux()
	h.Register(mux)
	srv := newTestServer(t, mux)
	got := do(t, http.MethodHead, srv.URL+"/readyz", nil, "")
	assert.Equal(t, 503, got.status)
	assert.Empty(t, got.body)
	var report httpx.HealthReport
	require.NoError(t, json.Unmarshal([]byte(do(t, http.MethodGet, srv.URL+"/readyz", nil, "").body), &report))
	assert.Equal(t, httpx.HealthDraining, report.Status)
}
