package httpx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// DefaultDrainTimeout is how long [Serve] waits for requests in flight
// when it shuts down, unless [ServeDrainTimeout] sets another: 20 seconds,
// which with a short readiness delay fits in Kubernetes' default grace
// period of 30 seconds.
const DefaultDrainTimeout = 20 * time.Second

// A ServeOption configures [Serve].
type ServeOption func(*serveConfig)

type serveConfig struct {
	health       *Health
	drainTimeout time.Duration
	readyDelay   time.Duration
}

// ServeHealth makes Serve mark h draining as soon as it begins to shut
// down, so readiness probes answer 503 while requests in flight finish.
func ServeHealth(h *Health) ServeOption {
	return func(c *serveConfig) { c.health = h }
}

// ServeDrainTimeout sets how long Serve waits for requests in flight after
// it stops accepting connections; past it, it closes the connections that
// remain. Zero or less means no limit. The default is DefaultDrainTimeout.
func ServeDrainTimeout(d time.Duration) ServeOption {
	return func(c *serveConfig) { c.drainTimeout = d }
}

// ServeReadinessDelay sets how long Serve goes on serving, while reporting
// not ready, before it closes its listener: time for load balancers that
// poll readiness to stop sending new requests. The default is 0: the
// listener closes at once. Set it to about the interval of the balancer's
// readiness probe times the failures it needs.
func ServeReadinessDelay(d time.Duration) ServeOption {
	return func(c *serveConfig) { c.readyDelay = d }
}

// Serve serves srv on lis until ctx ends, then shuts down gracefully: it
// marks the [ServeHealth] Health draining, waits the [ServeReadinessDelay]
// while it goes on serving, stops accepting connections and closes idle
// ones (srv.Shutdown), waits for requests in flight up to the drain
// timeout, and then closes what remains (srv.Close). A service's main is
// then a signal.NotifyContext and an errgroup of Serve calls.
//
// Serve returns nil after a clean drain, and the error of srv.Serve if it
// fails first (nil if srv was shut down by another caller). When requests
// are still running at the drain timeout it returns an error that wraps
// context.DeadlineExceeded.
//
// Requests in flight keep their contexts while they drain; a BaseContext
// of srv derived from ctx would cancel them. srv.Shutdown does not wait
// for hijacked connections such as WebSockets; see
// http.Server.RegisterOnShutdown.
func Serve(ctx context.Context, srv *http.Server, lis net.Listener, opts ...ServeOption) error {
	cfg := serveConfig{drainTimeout: DefaultDrainTimeout}
	for _, o := range opts {
		o(&cfg)
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()

	select {
	case err := <-served:
		return serveFailed(srv, err)
	case <-ctx.Done():
	}

	if cfg.health != nil {
		cfg.health.SetDraining(true)
	}
	if cfg.readyDelay > 0 {
		t := time.NewTimer(cfg.readyDelay)
		select {
		case <-t.C:
		case err := <-served:
			t.Stop()
			return serveFailed(srv, err)
		}
	}

	sctx := context.Background()
	if cfg.drainTimeout > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(sctx, cfg.drainTimeout)
		defer cancel()
	}
	err := srv.Shutdown(sctx)
	if err != nil {
		_ = srv.Close()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("httpx: requests still running after the drain timeout of %s were cut off: %w", cfg.drainTimeout, err)
		}
	}
	if serr := <-served; err == nil && !errors.Is(serr, http.ErrServerClosed) {
		err = serr
	}
	return err
}

// serveFailed closes srv after its Serve returned err early, and returns
// err unless it says the server was closed.
func serveFailed(srv *http.Server, err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	_ = srv.Close()
	return err
}
