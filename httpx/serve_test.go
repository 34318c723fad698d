package httpx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit/health"
	"github.com/typedkit/kit/httpx"
)

// freshClient is a client whose every request opens a new connection, so
// it sees a closed listener at once.
func freshClient(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

// slowServer serves /slow, which waits for release, beside the health
// handlers, and reports on entered when a slow request arrives.
func slowServer(h *health.Health, entered chan<- struct{}, release <-chan struct{}) *http.Server {
	mux := http.NewServeMux()
	h.Register(mux)
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select {
		case <-release:
			_, _ = io.WriteString(w, "done")
		case <-r.Context().Done():
		}
	})
	return &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return lis
}

func TestServeDrainsGracefully(t *testing.T) {
	t.Parallel()
	h := new(health.Health)
	entered, release := make(chan struct{}, 1), make(chan struct{})
	srv := slowServer(h, entered, release)
	lis := listen(t)
	base := "http://" + lis.Addr().String()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() {
		served <- httpx.Serve(ctx, srv, lis, httpx.ServeHealth(h), httpx.ServeReadinessDelay(300*time.Millisecond))
	}()

	client := freshClient(t)
	resp, err := client.Get(base + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	type result struct {
		status int
		body   string
		err    error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := client.Get(base + "/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		slow <- result{resp.StatusCode, string(b), err}
	}()
	<-entered

	cancel()

	// While the readiness delay lasts, /readyz answers 503 on a listener
	// that still accepts; afterwards the listener refuses.
	sawDraining := false
	require.Eventually(t, func() bool {
		resp, err := client.Get(base + "/readyz")
		if err != nil {
			return true
		}
		defer resp.Body.Close()
		var report health.Report
		if resp.StatusCode == http.StatusServiceUnavailable && json.NewDecoder(resp.Body).Decode(&report) == nil {
			sawDraining = report.Status == health.StatusDraining
			return sawDraining
		}
		return false
	}, 5*time.Second, 5*time.Millisecond)
	t.Logf("saw the draining report: %v", sawDraining)
	assert.True(t, h.Draining())

	// The listener closes while the slow request is still in flight.
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", lis.Addr().String())
		if err != nil {
			return true
		}
		c.Close()
		return false
	}, 5*time.Second, 5*time.Millisecond)
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v with a request in flight", err)
	default:
	}

	close(release)
	r := <-slow
	require.NoError(t, r.err)
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "done", r.body)
	require.NoError(t, <-served)

	_, err = net.Dial("tcp", lis.Addr().String())
	assert.Error(t, err, "a new connection after Serve returned")
}

func TestServeDrainTimeout(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}, 1), make(chan struct{})
	defer close(release)
	srv := slowServer(new(health.Health), entered, release)
	lis := listen(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	go func() {
		served <- httpx.Serve(ctx, srv, lis, httpx.ServeDrainTimeout(50*time.Millisecond), httpx.ServeLogger(logger))
	}()

	client := freshClient(t)
	slow := make(chan error, 1)
	go func() {
		resp, err := client.Get("http://" + lis.Addr().String() + "/slow")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		slow <- err
	}()
	<-entered
	cancel()

	require.NoError(t, <-served, "a shutdown that had to close connections is still a shutdown")
	assert.Contains(t, logs.String(), "drain_timeout=50ms")
	assert.Error(t, <-slow, "the cut-off request fails")
}

func TestServeReturnsTheServeError(t *testing.T) {
	t.Parallel()
	lis := listen(t)
	require.NoError(t, lis.Close())
	err := httpx.Serve(context.Background(), &http.Server{ReadHeaderTimeout: time.Second}, lis)
	var opErr *net.OpError
	assert.ErrorAs(t, err, &opErr)
}

func TestServeWithEndedContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	lis := listen(t)
	require.NoError(t, httpx.Serve(ctx, &http.Server{ReadHeaderTimeout: time.Second}, lis))
	_, err := net.Dial("tcp", lis.Addr().String())
	assert.Error(t, err)
}
