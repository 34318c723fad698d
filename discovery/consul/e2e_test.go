package consul_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
	"github.com/typedkit/kit/discovery/consul"
	"github.com/typedkit/kit/httpx"
)

type echoReq struct{ N int }

type echoResp struct {
	Instance string
	N        int
}

// backend is one instance of the service: an httpx server on a loopback
// port, registered in Consul with an HTTP check on /health.
type backend struct {
	addr string
	srv  *http.Server
	reg  *consul.Registrar
	done chan struct{}
}

func startBackend(t *testing.T, client *api.Client, service string) *backend {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()

	echo := func(_ context.Context, req echoReq) (echoResp, error) {
		return echoResp{Instance: addr, N: req.N}, nil
	}
	mux := http.NewServeMux()
	mux.Handle("POST /echo", httpx.NewServer(echo, httpx.DecodeJSONRequest[echoReq], httpx.EncodeJSONResponse[echoResp]))
	mux.HandleFunc("GET /health", func(http.ResponseWriter, *http.Request) {})
	b := &backend{addr: addr, srv: &http.Server{Handler: mux}, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		_ = b.srv.Serve(lis)
	}()
	t.Cleanup(b.kill)

	port := lis.Addr().(*net.TCPAddr).Port
	b.reg, err = consul.NewRegistrar(client, consul.Service{
		Name:    service,
		Address: "127.0.0.1",
		Port:    port,
		Check: &consul.Check{
			HTTP:     "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + "/health",
			Interval: time.Second, // Consul's minimum
			Timeout:  time.Second,
		},
	}, quietRegistrar)
	require.NoError(t, err)
	require.NoError(t, b.reg.Register(context.Background()))
	t.Cleanup(func() { _ = b.reg.Deregister(context.Background()) })
	return b
}

// kill stops the server at once, as a crash would: the listener and every
// connection close, and the instance stays registered until its check
// fails.
func (b *backend) kill() {
	_ = b.srv.Close()
	<-b.done
}

// shutdown withdraws the instance from Consul, waits until the client no
// longer has it, then drains the server: the graceful way out.
func (b *backend) shutdown(t *testing.T, gone func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, b.reg.Deregister(ctx))
	require.Eventually(t, gone, deadline, 5*time.Millisecond, "the deregistered instance leaves the client")
	require.NoError(t, b.srv.Shutdown(ctx))
	<-b.done
}

// httpFactory makes an httpx client for each instance, with a transport of
// its own whose idle connections the closer closes.
func httpFactory(failures *atomic.Int64) discovery.Factory[echoReq, echoResp] {
	return func(instance string) (kit.Endpoint[echoReq, echoResp], io.Closer, error) {
		u, err := url.Parse("http://" + instance + "/echo")
		if err != nil {
			return nil, nil, err
		}
		tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}
		// Echo is idempotent, so a call that met the crash mid-flight may
		// be sent again.
		client := httpx.NewClient(http.MethodPost, u, httpx.EncodeJSONRequest[echoReq], httpx.DecodeJSONResponse[echoResp],
			httpx.ClientHTTPClient(&http.Client{Transport: tr}), httpx.ClientCall(kit.Call{Method: "Echo", Idempotent: true}))
		ep := client.Endpoint()
		counted := func(ctx context.Context, req echoReq) (echoResp, error) {
			resp, err := ep(ctx, req)
			if err != nil {
				failures.Add(1)
			}
			return resp, err
		}
		return counted, closeIdle{tr}, nil
	}
}

type closeIdle struct{ tr *http.Transport }

func (c closeIdle) Close() error {
	c.tr.CloseIdleConnections()
	return nil
}

// TestEndToEnd runs three HTTP instances registered in Consul and a typed
// client through Instancer → Endpointer → RoundRobin → Retry under load. One
// instance crashes mid-load and another shuts down gracefully; no caller
// sees an error, and both instances leave the client's set.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	client := newClient(t, agent)
	const service = "e2e"
	backends := []*backend{
		startBackend(t, client, service),
		startBackend(t, client, service),
		startBackend(t, client, service),
	}

	inst, err := consul.NewInstancer(client, service)
	require.NoError(t, err)
	t.Cleanup(inst.Stop)
	var failures atomic.Int64
	endpointer := discovery.NewEndpointer(inst, httpFactory(&failures))
	t.Cleanup(func() { require.NoError(t, endpointer.Close()) })
	call := discovery.Retry(discovery.RoundRobin(endpointer),
		discovery.RetryMaxAttempts(3),
		discovery.RetryAttemptTimeout(2*time.Second),
		// Until the crashed instance's check fails, a third of the calls
		// fail over: give the retries room for that.
		discovery.RetryBudget(discovery.NewBudget(0.5, 10)),
	)

	has := func(want int, without ...string) func() bool {
		return func() bool {
			set := endpointer.Instances()
			if len(set) != want {
				return false
			}
			for _, s := range set {
				for _, w := range without {
					if s == w {
						return false
					}
				}
			}
			return true
		}
	}
	// HTTP checks start critical and first run within their interval.
	require.Eventually(t, has(3), deadline, 10*time.Millisecond, "three healthy instances")

	var (
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		calls   atomic.Int64
		errs    atomic.Int64
		firstMu sync.Mutex
		first   error
		served  sync.Map // instance → *atomic.Int64
	)
	for w := range 4 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				resp, err := call(ctx, echoReq{N: w*1_000_000 + n})
				cancel()
				calls.Add(1)
				if err != nil {
					errs.Add(1)
					firstMu.Lock()
					if first == nil {
						first = err
					}
					firstMu.Unlock()
					continue
				}
				c, _ := served.LoadOrStore(resp.Instance, new(atomic.Int64))
				c.(*atomic.Int64).Add(1)
				time.Sleep(time.Millisecond)
			}
		})
	}
	servedBy := func(addr string) int64 {
		c, ok := served.Load(addr)
		if !ok {
			return 0
		}
		return c.(*atomic.Int64).Load()
	}

	time.Sleep(300 * time.Millisecond)
	crashed := backends[0]
	require.Positive(t, servedBy(crashed.addr), "the instance served before it crashed")
	crashed.kill()
	start := time.Now()
	require.Eventually(t, has(2, crashed.addr), deadline, 5*time.Millisecond, "the crashed instance leaves the set when its check fails")
	t.Logf("the crashed instance left the client's set %v after the crash", time.Since(start))
	time.Sleep(200 * time.Millisecond)

	drained := backends[1]
	start = time.Now()
	drained.shutdown(t, has(1, crashed.addr, drained.addr))
	t.Logf("the deregistered instance left the client's set %v after Deregister", time.Since(start))
	time.Sleep(200 * time.Millisecond)

	close(stop)
	wg.Wait()
	t.Logf("%d calls, %d failed attempts retried on another instance", calls.Load(), failures.Load())
	firstMu.Lock()
	assert.Zero(t, errs.Load(), "no caller sees an error; first: %v", first)
	firstMu.Unlock()
	assert.Positive(t, failures.Load(), "calls to the crashed instance failed and were retried")
	assert.Positive(t, servedBy(backends[2].addr))
	assert.Equal(t, []string{backends[2].addr}, endpointer.Instances())
	assert.NoError(t, endpointer.Err())
}
