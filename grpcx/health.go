package grpcx

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// RegisterHealth registers the standard gRPC health service
// (grpc.health.v1.Health) on s and returns it, with the overall status
// ("") and each named service set to SERVING. Set a service NOT_SERVING
// with SetServingStatus, and call Shutdown on the returned server when
// draining so every client sees NOT_SERVING. To have the statuses follow a
// readiness check instead, use [RegisterHealthReadiness].
func RegisterHealth(s grpc.ServiceRegistrar, services ...string) *health.Server {
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	for _, name := range services {
		hs.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	healthpb.RegisterHealthServer(s, hs)
	return hs
}

// A Readiness says whether a service should be sent traffic: Ready returns
// nil when it should. httpx.Health is one.
type Readiness interface {
	Ready(ctx context.Context) error
}

// ReadinessFunc adapts a function to a [Readiness].
type ReadinessFunc func(ctx context.Context) error

// Ready calls f(ctx).
func (f ReadinessFunc) Ready(ctx context.Context) error { return f(ctx) }

// DefaultHealthInterval is how often a [Health] polls its readiness unless
// [HealthInterval] sets another.
const DefaultHealthInterval = time.Second

// A HealthOption configures [RegisterHealthReadiness].
type HealthOption func(*Health)

// HealthInterval sets how often the readiness is polled. Each poll's
// context ends after the interval, so a Ready call that takes longer counts
// as not ready. Zero or less means DefaultHealthInterval.
func HealthInterval(d time.Duration) HealthOption {
	return func(h *Health) {
		if d > 0 {
			h.interval = d
		}
	}
}

// HealthServices adds service names whose status follows the readiness,
// beside the overall status "".
func HealthServices(names ...string) HealthOption {
	return func(h *Health) { h.services = append(h.services, names...) }
}

// Health is the standard gRPC health service (grpc.health.v1.Health) with
// its statuses following a [Readiness]: SERVING while Ready returns nil,
// NOT_SERVING otherwise. It polls Ready from [Health.Run] at an interval,
// so Check is cheap and Watch streams see each change; [Serve] runs it for
// the life of the server when given [ServeHealth]. Build it with
// [RegisterHealthReadiness].
//
// [Health.Shutdown] sets every status NOT_SERVING for good and ends the
// Watch streams after sending it, so that a graceful stop does not wait
// for them.
type Health struct {
	healthpb.UnimplementedHealthServer

	srv      *health.Server
	ready    Readiness
	interval time.Duration
	services []string

	updating sync.Mutex // held across an update, so updates apply in order
	mu       sync.Mutex
	status   healthpb.HealthCheckResponse_ServingStatus
	stopped  context.Context
	stop     context.CancelFunc
}

// RegisterHealthReadiness registers on s a [Health] whose statuses, the
// overall one ("") and those of [HealthServices], follow r. They are
// NOT_SERVING until the first poll; start polling with [Health.Run], or
// pass the Health to [Serve] with [ServeHealth]. Register either this or
// [RegisterHealth] on a server, not both.
func RegisterHealthReadiness(s grpc.ServiceRegistrar, r Readiness, opts ...HealthOption) *Health {
	h := &Health{
		srv:      health.NewServer(),
		ready:    r,
		interval: DefaultHealthInterval,
		status:   healthpb.HealthCheckResponse_NOT_SERVING,
	}
	for _, o := range opts {
		o(h)
	}
	h.stopped, h.stop = context.WithCancel(context.Background())
	h.setAll(h.status)
	healthpb.RegisterHealthServer(s, h)
	return h
}

func (h *Health) setAll(st healthpb.HealthCheckResponse_ServingStatus) {
	h.srv.SetServingStatus("", st)
	for _, name := range h.services {
		h.srv.SetServingStatus(name, st)
	}
}

// Run polls the readiness now and then every interval until ctx ends or
// the Health is shut down, keeping the statuses in step. When ctx ends it
// shuts the Health down, since no one keeps its statuses current any
// more, and returns nil.
func (h *Health) Run(ctx context.Context) error {
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, h.interval)
		_ = h.Update(pctx)
		cancel()
		select {
		case <-ctx.Done():
			h.Shutdown()
			return nil
		case <-h.stopped.Done():
			return nil
		case <-t.C:
		}
	}
}

// Update asks the readiness once and sets the statuses from its answer,
// which it returns. Updates run one at a time, so the statuses are those of
// the last answer. After Shutdown it changes nothing.
func (h *Health) Update(ctx context.Context) error {
	h.updating.Lock()
	defer h.updating.Unlock()
	err := h.ready.Ready(ctx)
	st := healthpb.HealthCheckResponse_SERVING
	if err != nil {
		st = healthpb.HealthCheckResponse_NOT_SERVING
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped.Err() == nil && st != h.status {
		h.status = st
		h.setAll(st)
	}
	return err
}

// Shutdown sets every status NOT_SERVING for good and ends the Watch
// streams, and those that start later, once they have sent it.
func (h *Health) Shutdown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped.Err() != nil {
		return
	}
	h.status = healthpb.HealthCheckResponse_NOT_SERVING
	h.srv.Shutdown()
	h.stop()
}

// Check implements the health service's Check.
func (h *Health) Check(ctx context.Context, in *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	return h.srv.Check(ctx, in)
}

// List implements the health service's List.
func (h *Health) List(ctx context.Context, in *healthpb.HealthListRequest) (*healthpb.HealthListResponse, error) {
	return h.srv.List(ctx, in)
}

// Watch implements the health service's Watch: it sends the service's
// status and each change of it until the client goes away, or until the
// Health is shut down, when it sends NOT_SERVING (or SERVICE_UNKNOWN for a
// service it does not know) and ends the stream.
func (h *Health) Watch(in *healthpb.HealthCheckRequest, stream healthpb.Health_WatchServer) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	defer context.AfterFunc(h.stopped, cancel)()

	ws := &watchStream{Health_WatchServer: stream, ctx: ctx, last: -1}
	err := h.srv.Watch(in, ws)
	if h.stopped.Err() == nil || stream.Context().Err() != nil {
		return err
	}
	// Shut down: make sure the last status the client saw is the final
	// one, then end the stream.
	final := healthpb.HealthCheckResponse_SERVICE_UNKNOWN
	if resp, cerr := h.srv.Check(stream.Context(), in); cerr == nil {
		final = resp.GetStatus()
	}
	if ws.last != final {
		return stream.Send(&healthpb.HealthCheckResponse{Status: final})
	}
	return nil
}

// watchStream is a Watch stream whose context also ends when the Health
// shuts down, and which remembers the last status sent.
type watchStream struct {
	healthpb.Health_WatchServer
	ctx  context.Context
	last healthpb.HealthCheckResponse_ServingStatus
}

// Context returns the stream's context, which also ends at shutdown.
func (s *watchStream) Context() context.Context { return s.ctx }

// Send sends m and remembers its status.

func (s *watchStream) Send(m *healthpb.HealthCheckResponse) error {
	if err := s.Health_WatchServer.Send(m); err != nil {
		return err
	}
	s.last = m.GetStatus()
	return nil
}
