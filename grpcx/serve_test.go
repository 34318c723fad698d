package grpcx_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/health"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/internal/grpctest/testpb"
)

// blockingServer is a gRPC server whose Sum reports on entered and then
// waits for release or for its context to end.
func blockingServer(entered chan<- struct{}, release <-chan struct{}) *grpc.Server {
	s := grpc.NewServer()
	testpb.RegisterTestServer(s, &service{sum: blockingSum(entered, release)})
	return s
}

// blockingSum is the Sum method of blockingServer.
func blockingSum(entered chan<- struct{}, release <-chan struct{}) *grpcx.Server[*testpb.SumRequest, sumReq, sumResp, *testpb.SumReply] {
	ep := func(ctx context.Context, r sumReq) (sumResp, error) {
		entered <- struct{}{}
		select {
		case <-release:
			return sumResp{C: "done " + r.B}, nil
		case <-ctx.Done():
			return sumResp{}, ctx.Err()
		}
	}
	return grpcx.NewServer(ep, decodeSum, encodeSum,
		grpcx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) {})))
}

func listenTCP(t *testing.T) net.Listener {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return lis
}

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func healthStatus(ctx context.Context, hc healthpb.HealthClient, service string) (healthpb.HealthCheckResponse_ServingStatus, error) {
	resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	return resp.GetStatus(), err
}

func TestServeDrainsInFlightCall(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}, 1), make(chan struct{})
	s := blockingServer(entered, release)
	h := new(health.Health)
	grpcx.RegisterHealth(s, h, grpcx.HealthInterval(20*time.Millisecond))
	lis := listenTCP(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() {
		served <- grpcx.Serve(ctx, s, lis, grpcx.ServeHealth(h), grpcx.ServeReadinessDelay(300*time.Millisecond))
	}()

	conn := dial(t, lis.Addr().String())
	hc := healthpb.NewHealthClient(conn)
	require.Eventually(t, func() bool {
		st, err := healthStatus(ctx, hc, "")
		return err == nil && st == healthpb.HealthCheckResponse_SERVING
	}, 5*time.Second, 5*time.Millisecond)

	wctx, wcancel := context.WithCancel(context.Background())
	defer wcancel()
	watch, err := hc.Watch(wctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	first, err := watch.Recv()
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, first.GetStatus())

	type result struct {
		resp sumResp
		err  error
	}
	call := make(chan result, 1)
	go func() {
		resp, err := sumClient(conn)(context.Background(), sumReq{B: "x"})
		call <- result{resp, err}
	}()
	<-entered

	cancel()

	// The Watch stream sees NOT_SERVING and ends, so it does not hold the
	// graceful stop.
	last, err := watch.Recv()
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, last.GetStatus())
	_, err = watch.Recv()
	assert.ErrorIs(t, err, io.EOF)

	assert.True(t, h.Draining())

	// Check answers NOT_SERVING while the readiness delay lasts, or the
	// server already refuses new calls.
	st, err := healthStatus(context.Background(), hc, "")
	if err == nil {
		assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, st)
	}

	// The listener closes while the call is still in flight.
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
		t.Fatalf("Serve returned %v with a call in flight", err)
	default:
	}

	close(release)
	r := <-call
	require.NoError(t, r.err)
	assert.Equal(t, "done x", r.resp.C)
	require.NoError(t, <-served)

	_, err = net.Dial("tcp", lis.Addr().String())
	assert.Error(t, err, "a new connection after Serve returned")
}

func TestServeDrainTimeoutCancelsCalls(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}, 1), make(chan struct{})
	defer close(release)
	s := blockingServer(entered, release)
	lis := listenTCP(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		served <- grpcx.Serve(ctx, s, lis, grpcx.ServeDrainTimeout(50*time.Millisecond),
			grpcx.ServeLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	}()

	conn := dial(t, lis.Addr().String())
	call := make(chan error, 1)
	go func() {
		_, err := sumClient(conn)(context.Background(), sumReq{B: "x"})
		call <- err
	}()
	<-entered
	cancel()

	require.NoError(t, <-served, "a stop that had to cancel calls is still a stop")
	assert.Contains(t, logs.String(), "drain_timeout=50ms")
	err := <-call
	require.Error(t, err)
	assert.Contains(t, []kit.Code{kit.Unavailable, kit.Canceled}, kit.CodeOf(err), "%v", err)
}

func TestServeReturnsTheServeError(t *testing.T) {
	t.Parallel()
	lis := listenTCP(t)
	require.NoError(t, lis.Close())
	err := grpcx.Serve(context.Background(), grpc.NewServer(), lis)
	var opErr *net.OpError
	assert.ErrorAs(t, err, &opErr)
}

func TestServeWithEndedContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	lis := listenTCP(t)
	s := grpc.NewServer()
	h := new(health.Health)
	grpcx.RegisterHealth(s, h)
	require.NoError(t, grpcx.Serve(ctx, s, lis, grpcx.ServeHealth(h)))
	_, err := net.Dial("tcp", lis.Addr().String())
	assert.Error(t, err)
	assert.True(t, h.Draining(), "Serve marked the model draining")
}

// TestServeOneHealthModelForBothTransports serves HTTP and gRPC from one
// health model: when the shutdown begins, the gRPC health service reports
// NOT_SERVING and /readyz answers 503 together, while both servers still
// serve for the readiness delay.
func TestServeOneHealthModelForBothTransports(t *testing.T) {
	t.Parallel()
	h := new(health.Health)
	mux := http.NewServeMux()
	h.Register(mux)
	s := grpc.NewServer()
	grpcx.RegisterHealth(s, h, grpcx.HealthServices(testService))
	httpLis, grpcLis := listenTCP(t), listenTCP(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 2)
	const delay = 500 * time.Millisecond
	go func() {
		served <- httpx.Serve(ctx, &http.Server{Handler: mux}, httpLis, httpx.ServeHealth(h), httpx.ServeReadinessDelay(delay))
	}()
	go func() {
		served <- grpcx.Serve(ctx, s, grpcLis, grpcx.ServeHealth(h), grpcx.ServeReadinessDelay(delay))
	}()

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	readyz := func() (int, error) {
		resp, err := client.Get("http://" + httpLis.Addr().String() + "/readyz")
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	hc := healthpb.NewHealthClient(dial(t, grpcLis.Addr().String()))
	code, err := readyz()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	watch, err := hc.Watch(context.Background(), &healthpb.HealthCheckRequest{Service: testService})
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, recv(t, watch))

	cancel()
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, recv(t, watch))
	requireEnded(t, watch)
	// The model drains, so /readyz answers 503 for as long as the listener
	// accepts.
	if code, err := readyz(); err == nil {
		assert.Equal(t, http.StatusServiceUnavailable, code)
	}
	if st, err := healthStatus(context.Background(), hc, ""); err == nil {
		assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, st)
	}
	require.NoError(t, <-served)
	require.NoError(t, <-served)
}
