package httpx_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/health"
	"github.com/typedkit/kit/httpx"
)

// serveFor starts Serve with srv and opts on a loopback listener and
// returns its address and a function that shuts it down and returns
// Serve's result.
func serveFor(t *testing.T, srv *http.Server, opts ...httpx.ServeOption) (string, func() error) {
	t.Helper()
	lis := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- httpx.Serve(ctx, srv, lis, opts...) }()
	var result error
	stopped := false
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			result = <-served
		}
		return result
	}
	t.Cleanup(func() { _ = stop() })
	return lis.Addr().String(), stop
}

// closedWithin reports whether the server closes conn (or answers and then
// closes it) before limit passes, reading whatever it sends.
func closedWithin(conn net.Conn, limit time.Duration) (string, bool) {
	_ = conn.SetReadDeadline(time.Now().Add(limit))
	data, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return string(data), false
	}
	return string(data), true
}

func echoServer() *http.Server {
	mux := http.NewServeMux()
	mux.Handle("POST /echo", httpx.NewServer(kit.Endpoint[sumRequest, sumResponse](sum),
		httpx.DecodeJSONRequest[sumRequest], httpx.EncodeJSONResponse[sumResponse], quiet()))
	mux.HandleFunc("POST /slow-work", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-time.After(600 * time.Millisecond):
			_, _ = io.WriteString(w, "done")
		case <-r.Context().Done():
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	return &http.Server{Handler: mux}
}

// TestServeCutsClientsThatHoldConnections opens the connections an attacker
// would hold — headers or a body sent a byte at a time, a keep-alive
// connection left idle — and checks that Serve's limits close each of them
// within its limit and a margin, while a slow endpoint that read its body
// is not cut.
func TestServeCutsClientsThatHoldConnections(t *testing.T) {
	t.Parallel()
	const limit = 300 * time.Millisecond
	const margin = 5 * time.Second // generous: the machine may be loaded
	srv := echoServer()
	srv.ReadHeaderTimeout = limit
	srv.IdleTimeout = limit
	addr, _ := serveFor(t, srv, httpx.ServeBodyReadTimeout(limit))

	dial := func(t *testing.T) net.Conn {
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	trickle := func(conn net.Conn, s string, stop <-chan struct{}) {
		for i := range len(s) {
			if _, err := conn.Write([]byte{s[i]}); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}

	t.Run("slow headers", func(t *testing.T) {
		t.Parallel()
		conn := dial(t)
		stop := make(chan struct{})
		defer close(stop)
		go trickle(conn, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+strings.Repeat("X-Pad: 1\r\n", 100), stop)
		_, closed := closedWithin(conn, limit+margin)
		assert.True(t, closed, "a client that sends its headers a byte at a time is cut")
	})
	t.Run("slow body", func(t *testing.T) {
		t.Parallel()
		conn := dial(t)
		_, err := io.WriteString(conn, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
		require.NoError(t, err)
		stop := make(chan struct{})
		defer close(stop)
		go trickle(conn, `{"a":1,"b":"`+strings.Repeat("x", 990), stop)
		answer, closed := closedWithin(conn, limit+margin)
		assert.True(t, closed, "a client that sends its body a byte at a time is cut")
		assert.Contains(t, answer, "408 Request Timeout")
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		t.Parallel()
		conn := dial(t)
		_, err := io.WriteString(conn, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"a\":1,\"b\":\"x\"}")
		require.NoError(t, err)
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode)
		_ = conn.SetReadDeadline(time.Now().Add(limit + margin))
		_, err = br.ReadByte()
		assert.ErrorIs(t, err, io.EOF, "an idle keep-alive connection is closed")
	})
	t.Run("slow endpoint keeps its request", func(t *testing.T) {
		t.Parallel()
		resp, err := http.Post("http://"+addr+"/slow-work", "text/plain", strings.NewReader("payload"))
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "done", string(body), "the body deadline is lifted once the body is read")
	})
}

// TestServeDefaults checks the limits Serve gives a server that sets none,
// and that limits the caller set are kept.
func TestServeDefaults(t *testing.T) {
	t.Parallel()
	srv := &http.Server{Handler: http.NotFoundHandler()}
	_, stop := serveFor(t, srv)
	require.NoError(t, stop())
	assert.Equal(t, httpx.DefaultReadHeaderTimeout, srv.ReadHeaderTimeout)
	assert.Equal(t, httpx.DefaultIdleTimeout, srv.IdleTimeout)
	assert.Equal(t, httpx.DefaultMaxHeaderBytes, srv.MaxHeaderBytes)

	own := &http.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: time.Second, IdleTimeout: 2 * time.Second, MaxHeaderBytes: 4096}
	_, stop = serveFor(t, own)
	require.NoError(t, stop())
	assert.Equal(t, time.Second, own.ReadHeaderTimeout)
	assert.Equal(t, 2*time.Second, own.IdleTimeout)
	assert.Equal(t, 4096, own.MaxHeaderBytes)
}

// TestServeReadinessDelay polls readiness while Serve shuts down: the 503
// is seen during the delay, and responses in it carry Connection: close.
func TestServeReadinessDelay(t *testing.T) {
	t.Parallel()
	h := new(health.Health)
	mux := http.NewServeMux()
	h.Register(mux)
	addr, stop := serveFor(t, &http.Server{Handler: mux}, httpx.ServeHealth(h), httpx.ServeReadinessDelay(500*time.Millisecond))

	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)

	done := make(chan error, 1)
	go func() { done <- stop() }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get("http://" + addr + "/readyz")
		if err != nil {
			break
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			assert.True(t, resp.Close, "a response while draining closes its connection")
			require.NoError(t, <-done)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("readiness never answered 503 before the listener closed")
}
