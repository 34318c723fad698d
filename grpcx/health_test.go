package grpcx_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/health"
)

const testService = "typedkit.test.Test"

// serveHealth serves the health service of h on a loopback port until the
// test ends, and returns a client of it.
func serveHealth(t *testing.T, h *health.Health, opts ...grpcx.HealthOption) healthpb.HealthClient {
	t.Helper()
	s := grpc.NewServer()
	grpcx.RegisterHealth(s, h, opts...)
	lis := listenTCP(t)
	served := make(chan error, 1)
	go func() { served <- s.Serve(lis) }()
	t.Cleanup(func() {
		s.Stop()
		<-served
	})
	return healthpb.NewHealthClient(dial(t, lis.Addr().String()))
}

// recv returns the status of the next message of a Watch stream.
func recv(t *testing.T, w healthpb.Health_WatchClient) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	m, err := w.Recv()
	require.NoError(t, err)
	return m.GetStatus()
}

// requireEnded checks that a Watch stream ended without an error.
func requireEnded(t *testing.T, w healthpb.Health_WatchClient) {
	t.Helper()
	_, err := w.Recv()
	require.ErrorIs(t, err, io.EOF)
}

func list(t *testing.T, hc healthpb.HealthClient) map[string]healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	resp, err := hc.List(context.Background(), &healthpb.HealthListRequest{})
	require.NoError(t, err)
	got := map[string]healthpb.HealthCheckResponse_ServingStatus{}
	for name, st := range resp.GetStatuses() {
		got[name] = st.GetStatus()
	}
	return got
}

// TestHealthFollowsTheModel: Check, List and Watch follow the checks of
// the model, and its draining at once; a draining model ends the Watch
// streams.
func TestHealthFollowsTheModel(t *testing.T) {
	t.Parallel()
	model := new(health.Health)
	var failing atomic.Bool
	model.AddCheck("db", func(context.Context) error {
		if failing.Load() {
			return errors.New("db down")
		}
		return nil
	})
	hc := serveHealth(t, model, grpcx.HealthInterval(10*time.Millisecond), grpcx.HealthServices(testService))
	ctx := context.Background()
	const (
		serving    = healthpb.HealthCheckResponse_SERVING
		notServing = healthpb.HealthCheckResponse_NOT_SERVING
		unknown    = healthpb.HealthCheckResponse_SERVICE_UNKNOWN
	)

	for _, svc := range []string{"", testService} {
		st, err := healthStatus(ctx, hc, svc)
		require.NoError(t, err)
		assert.Equal(t, serving, st, "service %q", svc)
	}
	_, err := healthStatus(ctx, hc, "other")
	assert.Equal(t, codes.NotFound, status.Code(err))
	assert.Equal(t, map[string]healthpb.HealthCheckResponse_ServingStatus{"": serving, testService: serving}, list(t, hc))

	watch, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{Service: testService})
	require.NoError(t, err)
	other, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{Service: "other"})
	require.NoError(t, err)
	assert.Equal(t, unknown, recv(t, other))

	steps := []struct {
		name    string
		failing bool
		want    healthpb.HealthCheckResponse_ServingStatus
	}{
		{"checks pass", false, serving},
		{"a check fails", true, notServing},
		{"it recovers", false, serving},
	}
	for _, step := range steps {
		failing.Store(step.failing)
		// The stream sends the status it starts with and then each change.
		assert.Equal(t, step.want, recv(t, watch), step.name)
		got, err := healthStatus(ctx, hc, "")
		require.NoError(t, err)
		assert.Equal(t, step.want, got, step.name)
	}

	// Draining: NOT_SERVING everywhere at once, and the Watch streams end,
	// that of an unknown service too.
	model.SetDraining(true)
	assert.Equal(t, notServing, recv(t, watch))
	requireEnded(t, watch)
	requireEnded(t, other)
	for _, svc := range []string{"", testService} {
		st, err := healthStatus(ctx, hc, svc)
		require.NoError(t, err)
		assert.Equal(t, notServing, st, "service %q while draining", svc)
	}
	assert.Equal(t, map[string]healthpb.HealthCheckResponse_ServingStatus{"": notServing, testService: notServing}, list(t, hc))

	// A Watch that starts while the model drains gets NOT_SERVING and ends.
	late, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	assert.Equal(t, notServing, recv(t, late))
	requireEnded(t, late)

	// Once the draining ends, the checks say again.
	model.SetDraining(false)
	again, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	assert.Equal(t, serving, recv(t, again))
	st, err := healthStatus(ctx, hc, testService)
	require.NoError(t, err)
	assert.Equal(t, serving, st)
}

// TestHealthSharesChecks: calls within the interval share one run of the
// checks, however many there are.
func TestHealthSharesChecks(t *testing.T) {
	t.Parallel()
	model := new(health.Health)
	var runs atomic.Int32
	model.AddCheck("count", func(context.Context) error { runs.Add(1); return nil })
	hc := serveHealth(t, model, grpcx.HealthInterval(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var wg sync.WaitGroup
	statuses := make(chan healthpb.HealthCheckResponse_ServingStatus, 16)
	for i := range 12 {
		wg.Go(func() {
			switch i % 3 {
			case 0:
				st, err := healthStatus(ctx, hc, "")
				assert.NoError(t, err)
				statuses <- st
			case 1:
				resp, err := hc.List(ctx, &healthpb.HealthListRequest{})
				assert.NoError(t, err)
				statuses <- resp.GetStatuses()[""].GetStatus()
			default:
				w, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{})
				if !assert.NoError(t, err) {
					return
				}
				m, err := w.Recv()
				assert.NoError(t, err)
				statuses <- m.GetStatus()
			}
		})
	}
	wg.Wait()
	close(statuses)
	for st := range statuses {
		assert.Equal(t, healthpb.HealthCheckResponse_SERVING, st)
	}
	assert.Equal(t, int32(1), runs.Load(), "runs of the checks")
}

// TestHealthDrainingDoesNotWaitForChecks: a Watch stream waiting for a
// slow check reports the draining at once, and so does Check; a Check
// whose caller gives up on a slow check gets the caller's deadline.
func TestHealthDrainingDoesNotWaitForChecks(t *testing.T) {
	t.Parallel()
	model := &health.Health{CheckTimeout: -1}
	entered, release := make(chan struct{}, 1), make(chan struct{})
	model.AddCheck("slow", func(ctx context.Context) error {
		select {
		case entered <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	hc := serveHealth(t, model, grpcx.HealthInterval(time.Hour))
	defer close(release)
	ctx := context.Background()

	watch, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	<-entered

	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = healthStatus(cctx, hc, "")
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))

	model.SetDraining(true)
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, recv(t, watch))
	requireEnded(t, watch)
	st, err := healthStatus(ctx, hc, "")
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, st)
}

// TestHealthCheckPanics: a check that panics counts as failed, and the
// service goes on answering.
func TestHealthCheckPanics(t *testing.T) {
	t.Parallel()
	model := new(health.Health)
	model.AddCheck("panicky", func(context.Context) error { panic("boom") })
	hc := serveHealth(t, model)
	st, err := healthStatus(context.Background(), hc, "")
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, st)
}

func TestRegisterHealthNeedsAModel(t *testing.T) {
	t.Parallel()
	assert.Panics(t, func() { grpcx.RegisterHealth(grpc.NewServer(), nil) })
}
