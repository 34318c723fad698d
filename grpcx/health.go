package grpcx

import (
	"context"
	"errors"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/typedkit/kit/health"
)

// DefaultHealthInterval is how long the health service of [RegisterHealth]
// reuses the outcome of the readiness checks unless [HealthInterval] sets
// another.
const DefaultHealthInterval = time.Second

// A HealthOption configures [RegisterHealth].
type HealthOption func(*healthService)

// HealthInterval sets how long the outcome of the readiness checks is
// reused: the Check, List and Watch calls within it share one run of the
// checks, and Watch streams run them again when it has passed. Each run's
// context ends after the interval, so checks that take longer count as
// failed, and a run under way when the server stops ends within it. Zero
// or less means DefaultHealthInterval.
func HealthInterval(d time.Duration) HealthOption {
	return func(s *healthService) {
		if d > 0 {
			s.interval = d
		}
	}
}

// HealthServices adds service names whose status follows the health
// model, beside the overall status "".
func HealthServices(names ...string) HealthOption {
	return func(s *healthService) {
		for _, name := range names {
			s.services[name] = struct{}{}
		}
	}
}

// RegisterHealth registers on s the standard gRPC health service
// (grpc.health.v1.Health) fed by h, the health model the service's HTTP
// probes use too. The overall status ("") and those of the
// [HealthServices] are SERVING while h is ready ([health.Health.Ready]) and
// NOT_SERVING otherwise; other services are unknown (NotFound, or
// SERVICE_UNKNOWN on a Watch stream).
//
// The checks run when a call asks for the status, at most once per
// [HealthInterval] whatever the number of calls. The draining flag is
// followed at once: as soon as h starts draining, which [Serve] does when
// given [ServeHealth] and its context ends, every status is NOT_SERVING,
// and the Watch streams send it and end, so that they do not hold a
// graceful stop; a Watch that starts while h drains gets NOT_SERVING and
// ends.
func RegisterHealth(s grpc.ServiceRegistrar, h *health.Health, opts ...HealthOption) {
	if h == nil {
		panic("grpcx: RegisterHealth needs a health model")
	}
	svc := &healthService{
		model:    h,
		interval: DefaultHealthInterval,
		services: map[string]struct{}{"": {}},
	}
	for _, o := range opts {
		o(svc)
	}
	healthpb.RegisterHealthServer(s, svc)
}

// healthService is the grpc.health.v1.Health service of RegisterHealth.
type healthService struct {
	healthpb.UnimplementedHealthServer

	model    *health.Health
	interval time.Duration
	services map[string]struct{}

	mu   sync.Mutex
	last *poll // the latest run of the checks, finished or not
}

// A poll is one run of the readiness checks. Its status and expires are
// set before done is closed, and not changed after.
type poll struct {
	done     chan struct{}
	status   healthpb.HealthCheckResponse_ServingStatus
	expires  time.Time // when its outcome is stale
	finished bool      // guarded by healthService.mu
}

// errDrainChanged is the error of outcome when the draining flag changed
// while it waited.
var errDrainChanged = status.Error(codes.Aborted, "draining changed")

// outcome returns the outcome of the checks and when it goes stale: that
// of the latest run unless it is stale, otherwise of a new one. It waits
// for the run until ctx ends or changed is closed.
func (s *healthService) outcome(ctx context.Context, changed <-chan struct{}) (healthpb.HealthCheckResponse_ServingStatus, time.Time, error) {
	s.mu.Lock()
	p := s.last
	if p == nil || p.finished && !time.Now().Before(p.expires) {
		p = &poll{done: make(chan struct{})}
		s.last = p
		go s.run(p)
	}
	s.mu.Unlock()
	select {
	case <-p.done:
		return p.status, p.expires, nil
	case <-ctx.Done():
		return 0, time.Time{}, status.FromContextError(ctx.Err()).Err()
	case <-changed:
		return 0, time.Time{}, errDrainChanged
	}
}

// run runs the checks for p, with a context that ends after the interval.
func (s *healthService) run(p *poll) {
	ctx, cancel := context.WithTimeout(context.Background(), s.interval)
	err := s.model.Ready(ctx)
	cancel()
	st, now := healthpb.HealthCheckResponse_SERVING, time.Now()
	expires := now.Add(s.interval)
	if err != nil {
		st = healthpb.HealthCheckResponse_NOT_SERVING
		if s.model.Draining() {
			// Not kept: once the draining ends the checks say.
			expires = now
		}
	}
	s.mu.Lock()
	p.status, p.expires, p.finished = st, expires, true
	s.mu.Unlock()
	close(p.done)
}

// current returns the status of every known service: NOT_SERVING while
// the model drains, the outcome of the checks otherwise.
func (s *healthService) current(ctx context.Context) (healthpb.HealthCheckResponse_ServingStatus, error) {
	if s.model.Draining() {
		return healthpb.HealthCheckResponse_NOT_SERVING, nil
	}
	st, _, err := s.outcome(ctx, nil)
	return st, err
}

// Check implements the health service's Check.
func (s *healthService) Check(ctx context.Context, in *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	if _, ok := s.services[in.GetService()]; !ok {
		return nil, status.Error(codes.NotFound, "unknown service")
	}
	st, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	return &healthpb.HealthCheckResponse{Status: st}, nil
}

// List implements the health service's List: the status of every known
// service.
func (s *healthService) List(ctx context.Context, _ *healthpb.HealthListRequest) (*healthpb.HealthListResponse, error) {
	st, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	statuses := make(map[string]*healthpb.HealthCheckResponse, len(s.services))
	for name := range s.services {
		statuses[name] = &healthpb.HealthCheckResponse{Status: st}
	}
	return &healthpb.HealthListResponse{Statuses: statuses}, nil
}

// Watch implements the health service's Watch: it sends the service's
// status and each change of it until the client goes away or the model
// starts draining, when it sends NOT_SERVING (SERVICE_UNKNOWN stays for a
// service it does not know) and ends the stream.
func (s *healthService) Watch(in *healthpb.HealthCheckRequest, stream healthpb.Health_WatchServer) error {
	ctx := stream.Context()
	_, known := s.services[in.GetService()]
	last := healthpb.HealthCheckResponse_ServingStatus(-1)
	for {
		draining, changed := s.model.WatchDraining()
		st, stale := healthpb.HealthCheckResponse_SERVICE_UNKNOWN, time.Time{}
		switch {
		case !known:
		case draining:
			st = healthpb.HealthCheckResponse_NOT_SERVING
		default:
			var err error
			st, stale, err = s.outcome(ctx, changed)
			if errors.Is(err, errDrainChanged) {
				continue
			}
			if err != nil {
				return err
			}
		}
		if st != last {
			if err := stream.Send(&healthpb.HealthCheckResponse{Status: st}); err != nil {
				return err
			}
			last = st
		}
		if draining {
			return nil
		}
		if err := waitWatch(ctx, changed, stale); err != nil {
			return err
		}
	}
}

// waitWatch waits until ctx ends, which it returns as a status error,
// changed is closed, or the time stale comes; a zero stale never comes.
func waitWatch(ctx context.Context, changed <-chan struct{}, stale time.Time) error {
	var staleC <-chan time.Time
	if !stale.IsZero() {
		t := time.NewTimer(time.Until(stale))
		defer t.Stop()
		staleC = t.C
	}
	select {
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	case <-changed:
	case <-staleC:
	}
	return nil
}
