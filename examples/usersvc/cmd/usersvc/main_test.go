package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/typedkit/kit/examples/usersvc"
	"github.com/typedkit/kit/internal/consultest"
)

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// buildService builds the command once per test run, into binPath.
func buildService(t *testing.T) {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "usersvc-test-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "usersvc")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
}

// service is the built command running under a test.
type service struct {
	cmd     *exec.Cmd
	logs    *syncBuffer
	exited  chan struct{} // closed when the process has exited
	exitErr error         // its exit status, once exited is closed
	base    string
}

// startService builds the command once per test run, starts it with args
// and -http.addr on a free port, and waits until /readyz answers 200.
func startService(t *testing.T, args ...string) *service {
	t.Helper()
	buildService(t)
	httpAddr := freePort(t)
	s := &service{cmd: exec.Command(binPath, append([]string{"-http.addr", httpAddr}, args...)...),
		logs: new(syncBuffer), exited: make(chan struct{}), base: "http://" + httpAddr}
	s.cmd.Stderr = s.logs
	require.NoError(t, s.cmd.Start())
	go func() {
		s.exitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
	require.Eventually(t, func() bool {
		resp, err := http.Get(s.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 20*time.Millisecond, "the service did not become ready:\n%s", s.logs)
	return s
}

// stop sends SIGTERM and waits for a clean exit.
func (s *service) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-s.exited:
		require.NoError(t, s.exitErr, "the service exits cleanly:\n%s", s.logs)
	case <-time.After(15 * time.Second):
		t.Fatalf("the service did not stop:\n%s", s.logs)
	}
}

// syncBuffer is a buffer that a process writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSIGTERMDrainsInFlightRequests builds the service, puts it under load,
// sends it SIGTERM mid-load and counts the answers: every request the
// service accepted is answered 200, the process exits cleanly, and the only
// failures are connections refused once it has stopped listening. Not
// parallel: its own load and the drain it times would disturb, and be
// disturbed by, the other services the parallel tests run.
func TestSIGTERMDrainsInFlightRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the service")
	}
	svc := startService(t, "-dev", "-grpc.addr", freePort(t), "-drain", "10s", "-shutdown.delay", "300ms", "-rate", "1e9", "-burst", "1000000")
	base := svc.base

	// Enough users that listing them takes a moment.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	for i := range 300 {
		resp, err := client.Post(base+"/users", "application/json",
			strings.NewReader(fmt.Sprintf(`{"name":"user %d","email":"u%d@example.com"}`, i, i)))
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}

	var ok, refused, other atomic.Int64
	var otherErrs sync.Map
	var stopped atomic.Bool
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stopped.Load() {
				resp, err := client.Get(base + "/users?pageSize=100")
				switch {
				case err != nil && errors.Is(err, syscall.ECONNREFUSED):
					refused.Add(1)
					return // the listener is closed: the service is gone
				case err != nil && errors.Is(err, syscall.ECONNRESET):
					// A connection the kernel took in for the listener
					// but the service never accepted, reset when the
					// listener closed: a refusal too, since nothing of
					// the request reached the service. (The service
					// accepts its backlog for a moment before it closes,
					// but clients that keep connecting meet this.)
					refused.Add(1)
					return
				case err != nil:
					other.Add(1)
					otherErrs.Store(err.Error(), true)
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode == http.StatusOK {
					ok.Add(1)
				} else {
					other.Add(1)
					otherErrs.Store(fmt.Sprintf("status %d, body error %v", resp.StatusCode, err), true)
				}
			}
		}()
	}

	time.Sleep(300 * time.Millisecond)
	before := ok.Load()
	svc.stop(t)
	stopped.Store(true)
	wg.Wait()
	client.CloseIdleConnections()

	t.Logf("answered %d (%d before SIGTERM), refused after stop %d, other failures %d", ok.Load(), before, refused.Load(), other.Load())
	assert.Positive(t, before, "the load ran")
	assert.Zero(t, other.Load(), "no request lost mid-flight: %q", keys(&otherErrs))
	assert.Contains(t, svc.logs.String(), "stopped")
}

// TestSIGTERMgRPCHealth: the gRPC health service and /readyz follow one
// health model, so at SIGTERM a Watch of the service's gRPC health reports
// NOT_SERVING and ends, while /readyz answers 503 for the shutdown delay.
func TestSIGTERMgRPCHealth(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the service")
	}
	grpcAddr := freePort(t)
	svc := startService(t, "-dev", "-grpc.addr", grpcAddr, "-shutdown.delay", "1s")
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	watch, err := hc.Watch(context.Background(), &healthpb.HealthCheckRequest{Service: usersvc.GRPCServiceName})
	require.NoError(t, err)
	first, err := watch.Recv()
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, first.GetStatus())

	require.NoError(t, svc.cmd.Process.Signal(syscall.SIGTERM))
	last, err := watch.Recv()
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, last.GetStatus())
	_, err = watch.Recv()
	assert.ErrorIs(t, err, io.EOF, "the Watch stream ends so that it does not hold the graceful stop")
	// The model is draining: /readyz says so while the listener accepts.
	if resp, err := http.Get(svc.base + "/readyz"); err == nil {
		resp.Body.Close()
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	}
	select {
	case <-svc.exited:
		require.NoError(t, svc.exitErr, "the service exits cleanly:\n%s", svc.logs)
	case <-time.After(15 * time.Second):
		t.Fatalf("the service did not stop:\n%s", svc.logs)
	}
}

func keys(m *sync.Map) []string {
	var ks []string
	m.Range(func(k, _ any) bool { ks = append(ks, k.(string)); return true })
	return ks
}

func TestFlags(t *testing.T) {
	t.Parallel()
	secret := strings.Repeat("k", 32)
	c, err := parseFlags([]string{"-http.addr", "127.0.0.1:0", "-rate", "5", "-auth.secret", secret})
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:0", c.httpAddr)
	assert.Equal(t, 5.0, c.rps)
	assert.Equal(t, 5*time.Second, c.readyDelay)
	assert.Equal(t, slog.LevelWarn, c.logLevel, "calls are not logged by default")

	c, err = parseFlags([]string{"-dev"})
	require.NoError(t, err, "-dev runs without a secret")
	assert.Zero(t, c.readyDelay)
	assert.Equal(t, slog.LevelInfo, c.logLevel)

	for _, args := range [][]string{
		{"-nope"},
		{},                         // writes would be open
		{"-auth.secret", "s3cret"}, // too short to resist guessing
		{"-dev", "-log.level", "loud"},
	} {
		_, err = parseFlags(args)
		assert.Error(t, err, "%q", args)
	}
}

// TestConsulRegistration runs the service with -consul.addr against a real
// Consul agent: it registers with a passing check on /readyz, and leaves
// Consul when it gets SIGTERM.
func TestConsulRegistration(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the service and a Consul agent")
	}
	agent := consultest.Start(t)
	client, err := api.NewClient(&api.Config{Address: agent.Addr, Scheme: "http", Transport: agent.Transport(t)})
	require.NoError(t, err)
	svc := startService(t, "-dev", "-grpc.addr", "", "-consul.addr", agent.Addr, "-service.name", "usersvc-test")
	httpAddr := strings.TrimPrefix(svc.base, "http://")

	passing := func() []string {
		entries, _, err := client.Health().Service("usersvc-test", "", true, nil)
		if err != nil {
			return nil
		}
		var addrs []string
		for _, e := range entries {
			addrs = append(addrs, net.JoinHostPort(e.Service.Address, fmt.Sprint(e.Service.Port)))
		}
		return addrs
	}
	require.Eventually(t, func() bool { return len(passing()) == 1 }, 20*time.Second, 50*time.Millisecond,
		"the service registers with a passing check:\n%s", svc.logs)
	assert.Equal(t, []string{httpAddr}, passing())

	svc.stop(t)
	services, err := client.Agent().Services()
	require.NoError(t, err)
	for _, s := range services {
		assert.NotEqual(t, "usersvc-test", s.Service, "deregistered on SIGTERM")
	}
	assert.Contains(t, svc.logs.String(), "deregistered from Consul")
}

// TestMetricsAndBearerTokens runs the service with -auth.secret: the write
// methods need a token from -auth.print-token, reads do not, and /metrics
// serves the calls' metrics in Prometheus's format.
func TestMetricsAndBearerTokens(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the service")
	}
	secret := strings.Repeat("s3cret", 6)
	svc := startService(t, "-grpc.addr", "", "-auth.secret", secret)
	base := svc.base
	tokenOut, err := exec.Command(binPath, "-auth.secret", secret, "-auth.print-token").Output()
	require.NoError(t, err)
	token := strings.TrimSpace(string(tokenOut))

	create := func(authz string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/users", strings.NewReader(`{"name":"Ada","email":"ada@example.com"}`))
		req.Header.Set("Content-Type", "application/json")
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	tests := []struct {
		name   string
		authz  string
		status int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"wrong token", "Bearer " + token[:len(token)-2] + "xx", http.StatusUnauthorized},
		{"not bearer", "Basic YTpi", http.StatusUnauthorized},
		{"valid token", "Bearer " + token, http.StatusOK},
	}
	for _, tt := range tests {
		resp, body := create(tt.authz)
		assert.Equal(t, tt.status, resp.StatusCode, "%s: %s", tt.name, body)
		if tt.status == http.StatusUnauthorized {
			assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer", tt.name)
			assert.NotContains(t, body, token[:20], "nothing of the token is echoed")
		}
	}
	resp, err := http.Get(base + "/users/u000001")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "reads need no token")

	resp, err = http.Get(base + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(metrics), "rpc_server_call_duration_seconds_count")
	assert.Contains(t, string(metrics), `rpc_method="usersvc.UserService/CreateUser"`)
	// The refused writes never reached an endpoint; the transport's
	// metrics counted them.
	assert.Regexp(t, `http_server_request_duration_seconds_count\{http_request_method="POST",http_response_status_code="401",http_route="POST /users"[^}]*\} 3`, string(metrics))
}

// TestSIGTERMWithASlowClient holds a connection open as a slow client
// would (headers sent, then a byte of body a second), polls /readyz every
// 5 ms, and sends SIGTERM: readiness answers 503 during the shutdown
// delay, and the process exits 0 within the delay, the drain and a margin,
// the slow client cut at the drain deadline. Not parallel: it must see a
// 503 within the one-second delay, which the other tests' processes can
// starve on a loaded machine.
func TestSIGTERMWithASlowClient(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the service")
	}
	svc := startService(t, "-dev", "-grpc.addr", "", "-shutdown.delay", "1s", "-drain", "2s")
	addr := strings.TrimPrefix(svc.base, "http://")

	slow, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer slow.Close()
	_, err = io.WriteString(slow, "POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	require.NoError(t, err)
	stopTrickle := make(chan struct{})
	defer close(stopTrickle)
	go func() {
		for {
			select {
			case <-stopTrickle:
				return
			case <-time.After(time.Second):
				if _, err := slow.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()

	var saw503 atomic.Bool
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		client := &http.Client{Timeout: time.Second}
		for {
			select {
			case <-svc.exited:
				return
			default:
			}
			resp, err := client.Get(svc.base + "/readyz")
			if err == nil {
				if resp.StatusCode == http.StatusServiceUnavailable {
					saw503.Store(true)
				}
				resp.Body.Close()
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()

	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	require.NoError(t, svc.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-svc.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("the service did not stop:\n%s", svc.logs)
	}
	took := time.Since(start)
	<-pollDone
	t.Logf("shutdown with a slow client connected took %v (delay 1s, drain 2s)", took.Round(time.Millisecond))
	require.NoError(t, svc.exitErr, "exit status 0:\n%s", svc.logs)
	assert.True(t, saw503.Load(), "readiness answered 503 during the shutdown delay")
	assert.Less(t, took, 3*time.Second+10*time.Second, "delay + drain + a generous margin")
	assert.Contains(t, svc.logs.String(), "drain timeout were closed")
}

// TestProductionDefaultsWithCurl has curl, a client we did not write, send
// what the defaults are for: a gzip body, a route that does not exist, a
// method a route does not take, and calls past the rate limit.
func TestProductionDefaultsWithCurl(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the service")
	}
	curl := tool(t, "curl")
	svc := startService(t, "-dev", "-grpc.addr", "", "-rate", "1e-9", "-burst", "3")

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = io.WriteString(zw, `{"name":"Ada","email":"ada@example.com"}`)
	require.NoError(t, zw.Close())
	body := filepath.Join(t.TempDir(), "body.gz")
	require.NoError(t, os.WriteFile(body, gz.Bytes(), 0o600))

	run := func(args ...string) (status int, headers, out string) {
		t.Helper()
		hdr := filepath.Join(t.TempDir(), "headers")
		cmd := exec.Command(curl, append([]string{"-s", "-D", hdr, "-o", "-", "-w", "\n%{http_code}"}, args...)...)
		b, err := cmd.Output()
		require.NoError(t, err, "curl %q", args)
		text := strings.TrimSpace(string(b))
		i := strings.LastIndex(text, "\n")
		status, err = strconv.Atoi(text[i+1:])
		require.NoError(t, err)
		h, _ := os.ReadFile(hdr)
		return status, strings.ToLower(string(h)), text[:max(i, 0)]
	}

	status, _, out := run("-H", "Content-Type: application/json", "-H", "Content-Encoding: gzip", "--data-binary", "@"+body, svc.base+"/users")
	assert.Equal(t, 200, status, out)
	assert.Contains(t, out, `"name":"Ada"`)

	status, headers, out := run(svc.base + "/nowhere")
	assert.Equal(t, 404, status)
	assert.Contains(t, headers, "content-type: application/problem+json")
	assert.Contains(t, out, `"code":"not_found"`)

	status, headers, _ = run("-X", "PATCH", svc.base+"/users")
	assert.Equal(t, 405, status)
	assert.Contains(t, headers, "allow: ")
	assert.Contains(t, headers, "content-type: application/problem+json")

	var limited bool
	for range 5 {
		status, headers, _ = run(svc.base + "/users/u000001")
		if status == 429 {
			limited = true
			assert.Contains(t, headers, "retry-after: 1")
			break
		}
	}
	assert.True(t, limited, "the fourth read of a burst of three is refused")
}
