package grpcx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"google.golang.org/grpc"
)

// DefaultDrainTimeout is how long [Serve] waits for calls in flight when it
// shuts down, unless [ServeDrainTimeout] sets another: 20 seconds, as
// httpx's.
const DefaultDrainTimeout = 20 * time.Second

// A ServeOption configures [Serve].
type ServeOption func(*serveConfig)

type serveConfig struct {
	health       *Health
	drainTimeout time.Duration
	readyDelay   time.Duration
}

// ServeHealth makes Serve run h (see [Health.Run]) while it serves, and
// shut it down, so that every status is NOT_SERVING, as soon as it begins
// to shut down.
func ServeHealth(h *Health) ServeOption {
	return func(c *serveConfig) { c.health = h }
}

// ServeDrainTimeout sets how long Serve waits for calls in flight after it
// stops accepting new ones; past it, it stops the server, which cancels
// the calls that remain. Zero or less means no limit. The default is
// DefaultDrainTimeout.
func ServeDrainTimeout(d time.Duration) ServeOption {
	return func(c *serveConfig) { c.drainTimeout = d }
}

// ServeReadinessDelay sets how long Serve goes on serving, while reporting
// NOT_SERVING, before it stops accepting connections and calls: time for
// clients and balancers that watch the health service to move away. The
// default is 0.
func ServeReadinessDelay(d time.Duration) ServeOption {
	return func(c *serveConfig) { c.readyDelay = d }
}

// Serve serves s on lis until ctx ends, then stops it gracefully: it shuts
// the [ServeHealth] Health down (NOT_SERVING), waits the
// [ServeReadinessDelay] while it goes on serving, stops accepting
// connections and calls and waits for those in flight (s.GracefulStop) up
// to the drain timeout, and then stops the server (s.Stop), cancelling what
// remains.
//
// Serve returns nil after a clean drain, and the error of s.Serve if it
// fails first. When calls are still running at the drain timeout it
// returns an error that wraps context.DeadlineExceeded. Long-lived streams
// hold a graceful stop until they end or the drain timeout passes; the
// Watch streams of a [Health] end when it shuts down.
func Serve(ctx context.Context, s *grpc.Server, lis net.Listener, opts ...ServeOption) error {
	cfg := serveConfig{drainTimeout: DefaultDrainTimeout}
	for _, o := range opts {
		o(&cfg)
	}

	served := make(chan error, 1)
	go func() { served <- s.Serve(lis) }()

	stopHealth := func() {}
	if h := cfg.health; h != nil {
		hctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = h.Run(hctx)
		}()
		stopHealth = func() {
			h.Shutdown()
			cancel()
			<-done
		}
	}

	select {
	case err := <-served:
		stopHealth()
		s.Stop()
		return err
	case <-ctx.Done():
	}
	stopHealth()

	if cfg.readyDelay > 0 {
		t := time.NewTimer(cfg.readyDelay)
		select {
		case <-t.C:
		case err := <-served:
			t.Stop()
			s.Stop()
			return err
		}
	}

	stopped := make(chan struct{})
	go func() {
		s.GracefulStop()
		close(stopped)
	}()
	var err error
	if cfg.drainTimeout > 0 {
		t := time.NewTimer(cfg.drainTimeout)
		select {
		case <-stopped:
			t.Stop()
		case <-t.C:
			s.Stop()
			<-stopped
			err = fmt.Errorf("grpcx: calls still running after the drain timeout of %s were cancelled: %w", cfg.drainTimeout, context.DeadlineExceeded)
		}
	} else {
		<-stopped
	}
	if serr := <-served; err == nil && serr != nil && !errors.Is(serr, grpc.ErrServerStopped) {
		err = serr
	}
	return err
}
