package grpcx_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/internal/grpctest/testpb"
)

// httpx.Health is a readiness for the gRPC health service.
var _ grpcx.Readiness = (*httpx.Health)(nil)

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
	entered, release := make(chan struct{}, 1), make(chan struct{})
	s := blockingServer(entered, release)
	h := grpcx.RegisterHealthReadiness(s, grpcx.ReadinessFunc(func(context.Context) error { return nil }),
		grpcx.HealthInterval(20*time.Millisecond))
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
	lis := listenTCP(t)
	require.NoError(t, lis.Close())
	err := grpcx.Serve(context.Background(), grpc.NewServer(), lis)
	var opErr *net.OpError
	assert.ErrorAs(t, err, &opErr)
}

func TestServeWithEndedContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	lis := listenTCP(t)
	s := grpc.NewServer()
	h := grpcx.RegisterHealthReadiness(s, grpcx.ReadinessFunc(func(context.Context) error { return nil }))
	require.NoError(t, grpcx.Serve(ctx, s, lis, grpcx.ServeHealth(h)))
	_, err := net.Dial("tcp", lis.Addr().String())
	assert.Error(t, err)
	resp, err := h.Check(context.Background(), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, resp.GetStatus())
}

func TestHealthFollowsReadiness(t *testing.T) {
	ready := new(httpx.Health)
	var failing atomic.Bool
	ready.AddCheck("db", func(context.Context) error {
		if failing.Load() {
			return errors.New("db down")
		}
		return nil
	})
	s := grpc.NewServer()
	h := grpcx.RegisterHealthReadiness(s, ready, grpcx.HealthInterval(10*time.Millisecond), grpcx.HealthServices("typedkit.test.Test"))
	lis := listenTCP(t)
	served := make(chan error, 1)
	go func() { served <- s.Serve(lis) }()
	defer func() {
		s.Stop()
		<-served
	}()
	conn := dial(t, lis.Addr().String())
	hc := healthpb.NewHealthClient(conn)
	ctx := context.Background()

	for _, svc := range []string{"", "typedkit.test.Test"} {
		st, err := healthStatus(ctx, hc, svc)
		require.NoError(t, err)
		assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, st, "before the first poll")
	}
	_, err := healthStatus(ctx, hc, "other")
	assert.Equal(t, codes.NotFound, status.Code(err))

	runCtx, stopRun := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- h.Run(runCtx) }()

	watch, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{Service: "typedkit.test.Test"})
	require.NoError(t, err)
	next := func() healthpb.HealthCheckResponse_ServingStatus {
		t.Helper()
		m, err := watch.Recv()
		require.NoError(t, err)
		return m.GetStatus()
	}
	// The stream starts with the status at the time it began.
	st := next()
	if st == healthpb.HealthCheckResponse_NOT_SERVING {
		st = next()
	}

	steps := []struct {
		name     string
		failing  bool
		draining bool
		want     healthpb.HealthCheckResponse_ServingStatus
	}{
		{"checks pass", false, false, healthpb.HealthCheckResponse_SERVING},
		{"a check fails", true, false, healthpb.HealthCheckResponse_NOT_SERVING},
		{"it recovers", false, false, healthpb.HealthCheckResponse_SERVING},
		{"draining", false, true, healthpb.HealthCheckResponse_NOT_SERVING},
		{"no longer draining", false, false, healthpb.HealthCheckResponse_SERVING},
	}
	for i, step := range steps {
		failing.Store(step.failing)
		ready.SetDraining(step.draining)
		if i > 0 {
			st = next()
		}
		assert.Equal(t, step.want, st, step.name)
		got, err := healthStatus(ctx, hc, "")
		require.NoError(t, err)
		assert.Equal(t, step.want, got, step.name)
	}

	// Ending Run shuts the health service down: NOT_SERVING for good, and
	// the Watch stream ends.
	stopRun()
	require.NoError(t, <-ran)
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, next())
	_, err = watch.Recv()
	assert.ErrorIs(t, err, io.EOF)
	require.NoError(t, h.Update(ctx))
	got, err := healthStatus(ctx, hc, "")
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, got, "after shutdown")

	// A Watch that starts after the shutdown gets the final status and
	// ends.
	late, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	m, err := late.Recv()
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, m.GetStatus())
	_, err = late.Recv()
	assert.ErrorIs(t, err, io.EOF)
}
