package discovery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type echoReq struct{ N int }

type echoResp struct {
	Instance string
	N        int
}

// testInstancer is an instancer whose set the test changes with Update.
type testInstancer struct{ discovery.Broadcaster }

func (*testInstancer) Stop() {}

// closeLog records the instances whose closers ran, and how often the
// factory ran for each.
type closeLog struct {
	mu     sync.Mutex
	closed []string
	made   map[string]int
}

func (l *closeLog) closedInstances() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.closed)
	slices.Sort(out)
	return out
}

func (l *closeLog) madeCount(instance string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.made[instance]
}

func (l *closeLog) closer(instance string, after func()) io.Closer {
	return closerFunc(func() error {
		if after != nil {
			after()
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		l.closed = append(l.closed, instance)
		return nil
	})
}

func (l *closeLog) noteMade(instance string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.made == nil {
		l.made = make(map[string]int)
	}
	l.made[instance]++
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// nameFactory makes in-process endpoints that answer with their instance's
// name, and records their lifecycle in log.
func nameFactory(log *closeLog) discovery.Factory[echoReq, echoResp] {
	return func(instance string) (kit.Endpoint[echoReq, echoResp], io.Closer, error) {
		log.noteMade(instance)
		ep := func(_ context.Context, req echoReq) (echoResp, error) {
			return echoResp{Instance: instance, N: req.N}, nil
		}
		return ep, log.closer(instance, nil), nil
	}
}

// httpFactory makes endpoints that POST the request as JSON to
// http://instance/echo with a transport of their own, closed by the closer.
// A non-2xx answer becomes a kit error with the code named in the
// X-Kit-Code header; a transport failure is returned as it is.
func httpFactory(log *closeLog) discovery.Factory[echoReq, echoResp] {
	return func(instance string) (kit.Endpoint[echoReq, echoResp], io.Closer, error) {
		log.noteMade(instance)
		tr := &http.Transport{}
		client := &http.Client{Transport: tr}
		url := "http://" + instance + "/echo"
		ep := func(ctx context.Context, req echoReq) (echoResp, error) {
			body, err := json.Marshal(req)
			if err != nil {
				return echoResp{}, err
			}
			hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				return echoResp{}, err
			}
			resp, err := client.Do(hreq)
			if err != nil {
				return echoResp{}, err
			}
			defer resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				code, _ := kit.ParseCode(resp.Header.Get("X-Kit-Code"))
				return echoResp{}, kit.NewError(code, "")
			}
			var out echoResp
			return out, json.NewDecoder(resp.Body).Decode(&out)
		}
		return ep, log.closer(instance, tr.CloseIdleConnections), nil
	}
}

// echoServer starts a loopback HTTP server for httpFactory's endpoints.
// With fail set, it answers every call with that code instead. With block
// set, it answers once the request's context ends or the test ends.
type echoServer struct {
	Fail  kit.Code
	Block bool
}

func (s echoServer) start(t *testing.T) (addr string, calls func() int) {
	t.Helper()
	var (
		mu sync.Mutex
		n  int
	)
	stop := make(chan struct{})
	srv := httptest.NewUnstartedServer(nil)
	addr = srv.Listener.Addr().String()
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		if s.Block {
			// The server notices a client that gave up only once it has
			// read the request body.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		if s.Fail != kit.OK {
			w.Header().Set("X-Kit-Code", s.Fail.String())
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var req echoReq
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			w.Header().Set("X-Kit-Code", kit.InvalidArgument.String())
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		_ = json.NewEncoder(w).Encode(echoResp{Instance: addr, N: req.N})
	})
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // runs first: releases blocked handlers
	return addr, func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// deadAddr returns a loopback address with nothing listening on it.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// instanceNames returns n instance names in sorted order.
func instanceNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "10.0.0." + strconv.Itoa(i+1) + ":80"
	}
	slices.Sort(out)
	return out
}

var errBoom = errors.New("registry unreachable")
