package grpcx

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/genrt"
	"github.com/typedkit/kit/health"
)

// DefaultDrainTimeout is how long [Serve] waits for calls in flight when it
// shuts down, unless [ServeDrainTimeout] sets another: 20 seconds, as
// httpx's.
const DefaultDrainTimeout = 20 * time.Second

// The limits [NewGRPCServer] gives a grpc.Server, each of which bounds what one
// client can hold. grpc-go's own defaults let a connection that never
// finishes its handshake wait two minutes, an idle connection live for
// ever, and one connection open any number of streams.
const (
	// DefaultConnectionTimeout bounds a new connection's handshake, up to
	// and including HTTP/2's preface (grpc.ConnectionTimeout): 10 seconds,
	// where grpc-go waits 120.
	DefaultConnectionTimeout = 10 * time.Second
	// DefaultMaxConnectionIdle is how long a connection with no call may
	// stay open before the server sends GOAWAY (keepalive
	// MaxConnectionIdle): 5 minutes. Clients reconnect on their next call.
	DefaultMaxConnectionIdle = 5 * time.Minute
	// DefaultKeepaliveTime is how long the server waits on a silent
	// connection before it pings the client, and DefaultKeepaliveTimeout
	// how long it waits for the answer before it closes the connection:
	// a peer that went away without closing is found in under a minute and
	// a half, where grpc-go waits two hours.
	DefaultKeepaliveTime    = time.Minute
	DefaultKeepaliveTimeout = 20 * time.Second
	// DefaultKeepaliveMinTime is the shortest interval between client
	// pings the server accepts; a client that pings more often is sent
	// GOAWAY (keepalive EnforcementPolicy). Pings without calls in flight
	// are allowed, so that clients may keep idle connections alive.
	DefaultKeepaliveMinTime = 10 * time.Second
	// DefaultMaxConcurrentStreams bounds the calls one connection may have
	// in flight (grpc.MaxConcurrentStreams): 1,000, where grpc-go allows
	// 2³²−1.
	DefaultMaxConcurrentStreams = 1000
)

// ServerOptions returns the grpc.ServerOptions of the defaults above, and
// the codec of generated messages for every call (it hands every other
// message to the "proto" codec, so services of protoc-generated types on
// the same server are unchanged). [NewGRPCServer] applies them; pass them
// to grpc.NewServer yourself to combine them with a server built
// elsewhere. Options given after them override them.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ConnectionTimeout(DefaultConnectionTimeout),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: DefaultMaxConnectionIdle,
			Time:              DefaultKeepaliveTime,
			Timeout:           DefaultKeepaliveTimeout,
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             DefaultKeepaliveMinTime,
			PermitWithoutStream: true,
		}),
		grpc.MaxConcurrentStreams(DefaultMaxConcurrentStreams),
		grpc.ForceServerCodecV2(genrt.Codec()),
	}
}

// NewGRPCServer returns a grpc.Server with the limits of [ServerOptions]
// and then opts, which override them. [Serve] ends the streams open on it
// with Unavailable when it begins to drain, so that their clients move to
// another instance at once instead of holding the shutdown until the drain
// timeout.
func NewGRPCServer(opts ...grpc.ServerOption) *grpc.Server {
	d := &streamDrain{streams: map[*drainStream]struct{}{}}
	s := grpc.NewServer(append(append(ServerOptions(), grpc.ChainStreamInterceptor(d.intercept)), opts...)...)
	drains.Store(s, d)
	return s
}

// drains holds the streamDrain of each server NewGRPCServer made, until
// Serve stops it.
var drains sync.Map

// errDraining is the cause of a stream's context when its server drains.
var errDraining = kit.NewError(kit.Unavailable, "the server is shutting down; reconnect")

// streamDrain keeps the open streams of a server, to end them when it
// drains.
type streamDrain struct {
	mu       sync.Mutex
	draining bool
	streams  map[*drainStream]struct{}
}

// drainStream is a stream whose context the drain can cancel.
type drainStream struct {
	grpc.ServerStream
	ctx    context.Context
	cancel context.CancelCauseFunc
}

func (s *drainStream) Context() context.Context { return s.ctx }

func (d *streamDrain) intercept(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, cancel := context.WithCancelCause(ss.Context())
	ds := &drainStream{ServerStream: ss, ctx: ctx, cancel: cancel}
	d.mu.Lock()
	if d.draining {
		cancel(errDraining)
	} else {
		d.streams[ds] = struct{}{}
	}
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.streams, ds)
		d.mu.Unlock()
		cancel(nil)
	}()
	return handler(srv, ds)
}

// drain ends every open stream, and those that open later.
func (d *streamDrain) drain() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.draining = true
	for ds := range d.streams {
		ds.cancel(errDraining)
	}
}

// drained reports whether err, the end of a stream whose context is ctx,
// is its server's drain, and returns the error the stream ends with.
func drained(ctx context.Context, err error) error {
	if err != nil && kit.CodeOf(err) == kit.Canceled && errors.Is(context.Cause(ctx), errDraining) {
		return errDraining
	}
	return err
}

// A ServeOption configures [Serve].
type ServeOption func(*serveConfig)

type serveConfig struct {
	health       *health.Health
	drainTimeout time.Duration
	readyDelay   time.Duration
	logger       *slog.Logger
}

// ServeLogger sets the logger Serve reports a forced stop to; the default
// is slog.Default().
func ServeLogger(l *slog.Logger) ServeOption {
	return func(c *serveConfig) { c.logger = l }
}

// ServeHealth makes Serve mark h draining as soon as it begins to shut
// down, before the [ServeReadinessDelay]: the health service of
// [RegisterHealth] reports NOT_SERVING for every service at once and ends
// its Watch streams, and the HTTP probes of the same model answer 503.
func ServeHealth(h *health.Health) ServeOption {
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

// Serve serves s on lis until ctx ends, then stops it gracefully: it marks
// the [ServeHealth] model draining (NOT_SERVING), waits the
// [ServeReadinessDelay] while it goes on serving, stops accepting
// connections and calls and waits for those in flight (s.GracefulStop) up
// to the drain timeout, and then stops the server (s.Stop), cancelling what
// remains.
//
// Serve returns nil once it has stopped, also when it had to cancel calls
// still running at the drain timeout (it logs that it did), and the error
// of s.Serve if it fails first. Build s with [NewGRPCServer] for limits that a
// client cannot hold open. On such a server, streams end with Unavailable
// when the drain begins (after the readiness delay); on another, long-lived
// streams hold a graceful stop until they end or the drain timeout passes.
// The Watch streams of the health service of [RegisterHealth] end when its
// model starts draining.
func Serve(ctx context.Context, s *grpc.Server, lis net.Listener, opts ...ServeOption) error {
	cfg := serveConfig{drainTimeout: DefaultDrainTimeout}
	for _, o := range opts {
		o(&cfg)
	}

	served := make(chan error, 1)
	go func() { served <- s.Serve(lis) }()

	select {
	case err := <-served:
		s.Stop()
		return err
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
			s.Stop()
			return err
		}
	}

	if d, ok := drains.LoadAndDelete(s); ok {
		d.(*streamDrain).drain()
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
			logger := cfg.logger
			if logger == nil {
				logger = slog.Default()
			}
			logger.Warn("grpcx: calls still running after the drain timeout were cancelled", "drain_timeout", cfg.drainTimeout)
		}
	} else {
		<-stopped
	}
	if serr := <-served; err == nil && serr != nil && !errors.Is(serr, grpc.ErrServerStopped) {
		err = serr
	}
	return err
}
