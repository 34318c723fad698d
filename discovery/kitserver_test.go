package discovery_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
	"github.com/typedkit/kit/httpx"
)

// A kitServer is a real httpx server on loopback whose endpoint runs
// handle, and counts the calls its endpoint saw and those whose context
// ended before handle returned.
type kitServer struct {
	addr      string
	handled   atomic.Int32
	cancelled atomic.Int32
	release   chan struct{} // closed when the test ends
	entered   chan struct{} // closed when the first call reaches the endpoint
}

// startKitServer starts a kitServer. Its endpoint answers with handle's
// result, or, when handle is nil, with its own address.
func startKitServer(t testing.TB, handle func(ctx context.Context, s *kitServer, req echoReq) (echoResp, error)) *kitServer {
	t.Helper()
	s := &kitServer{release: make(chan struct{}), entered: make(chan struct{})}
	var once sync.Once
	ep := func(ctx context.Context, req echoReq) (echoResp, error) {
		s.handled.Add(1)
		once.Do(func() { close(s.entered) })
		if handle == nil {
			return echoResp{Instance: s.addr, N: req.N}, nil
		}
		resp, err := handle(ctx, s, req)
		if ctx.Err() != nil {
			s.cancelled.Add(1)
		}
		return resp, err
	}
	srv := httptest.NewUnstartedServer(httpx.NewServer(kit.Endpoint[echoReq, echoResp](ep), httpx.DecodeJSONRequest[echoReq], httpx.EncodeJSONResponse[echoResp],
		httpx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) {})))) // the tests' servers fail on purpose
	s.addr = srv.Listener.Addr().String()
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(s.release) }) // runs first: releases blocked handlers
	return s
}

// hang is a handler that blocks until the test ends, whatever its
// context: an instance that accepts connections and never answers, like a
// stopped process.
func hang(_ context.Context, s *kitServer, _ echoReq) (echoResp, error) {
	<-s.release
	return echoResp{}, kit.NewError(kit.Unavailable, "released")
}

// slow is a handler that answers only when its context ends (or the test
// does): an instance far slower than the others, which notices that its
// caller gave up.
func slow(ctx context.Context, s *kitServer, _ echoReq) (echoResp, error) {
	select {
	case <-ctx.Done():
		return echoResp{}, ctx.Err()
	case <-s.release:
		return echoResp{}, kit.NewError(kit.Unavailable, "released")
	}
}

// failWith returns a handler that answers with err.
func failWith(err error) func(context.Context, *kitServer, echoReq) (echoResp, error) {
	return func(context.Context, *kitServer, echoReq) (echoResp, error) { return echoResp{}, err }
}

// attemptCounter counts the attempts a factory's endpoints started, per
// instance, at the client.
type attemptCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *attemptCounter) add(instance string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[instance]++
}

func (c *attemptCounter) of(instance string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[instance]
}

func (c *attemptCounter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.n {
		n += v
	}
	return n
}

// httpxFactory makes httpx client endpoints that POST to
// http://instance/, each with a transport of its own that its closer
// releases, and counts their attempts in c.
func httpxFactory(c *attemptCounter) discovery.Factory[echoReq, echoResp] {
	return func(instance string) (kit.Endpoint[echoReq, echoResp], io.Closer, error) {
		tr := &http.Transport{}
		u := &url.URL{Scheme: "http", Host: instance, Path: "/"}
		ep := httpx.NewClient(http.MethodPost, u, httpx.EncodeJSONRequest[echoReq], httpx.DecodeJSONResponse[echoResp],
			httpx.ClientHTTPClient(&http.Client{Transport: tr})).Endpoint()
		counted := func(ctx context.Context, req echoReq) (echoResp, error) {
			c.add(instance)
			return ep(ctx, req)
		}
		return counted, closerFunc(func() error { tr.CloseIdleConnections(); return nil }), nil
	}
}

// ordered returns a balancer that picks e's endpoints in the order of
// instances, over and over, safe for the concurrent picks of hedging.
func ordered(e *discovery.Endpointer[echoReq, echoResp], instances ...string) discovery.Balancer[echoReq, echoResp] {
	var next atomic.Int64
	return discovery.BalancerFunc[echoReq, echoResp](func() (kit.Endpoint[echoReq, echoResp], error) {
		eps, err := e.Endpoints()
		if err != nil {
			return nil, err
		}
		inst := instances[int(next.Add(1)-1)%len(instances)]
		ejected := e.Ejected()
		admitted := slices.DeleteFunc(e.Instances(), func(s string) bool { return slices.Contains(ejected, s) })
		i := slices.Index(admitted, inst)
		if i < 0 || i >= len(eps) {
			return nil, kit.NewError(kit.Internal, "ordered: no endpoint for "+inst)
		}
		return eps[i], nil
	})
}

// logRecorder is a slog.Handler that keeps the records it handles.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (*logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}

func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// withMessage returns the attributes of the records with the message msg,
// as maps.
func (l *logRecorder) withMessage(msg string) []map[string]slog.Value {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]slog.Value
	for _, r := range l.records {
		if r.Message != msg {
			continue
		}
		attrs := map[string]slog.Value{}
		r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value; return true })
		out = append(out, attrs)
	}
	return out
}
