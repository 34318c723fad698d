package httpx

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/typedkit/kit/health"
	"github.com/typedkit/kit/tlsx"
)

// DefaultDrainTimeout is how long [Serve] waits for requests in flight
// when it shuts down, unless [ServeDrainTimeout] sets another: 20 seconds,
// which with a short readiness delay fits in Kubernetes' default grace
// period of 30 seconds.
const DefaultDrainTimeout = 20 * time.Second

// The limits [Serve] gives an http.Server whose own fields are zero, and
// the per-request deadlines it sets unless its options say otherwise. Each
// bounds what one client can hold: without them a client that sends its
// headers or body a byte at a time, or opens connections and leaves them
// idle, keeps a goroutine, a buffer and a file descriptor for ever, and a
// few thousand such clients lock everyone else out.
const (
	// DefaultReadHeaderTimeout bounds the reading of a request's headers
	// (http.Server.ReadHeaderTimeout): 10 seconds, far more than any
	// client on a working network needs.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultBodyReadTimeout bounds the reading of a request's body, from
	// the moment the handler starts: 30 seconds, enough for the 4 MiB
	// default body limit at about 1 Mbit/s. It is a deadline of each
	// request (set through http.ResponseController), not a whole-server
	// ReadTimeout, so a handler that streams its body longer can lift it
	// with http.NewResponseController(w).SetReadDeadline(time.Time{}), and
	// it is lifted once the body has been read, so a slow endpoint never
	// sees its request cancelled by it.
	DefaultBodyReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds the writing of a response, from the moment
	// the handler starts: 60 seconds, so a client that stops reading
	// cannot hold a connection. A streaming handler lifts it with
	// http.NewResponseController(w).SetWriteDeadline(time.Time{}).
	DefaultWriteTimeout = 60 * time.Second
	// DefaultIdleTimeout is how long a keep-alive connection may wait for
	// its next request (http.Server.IdleTimeout): 30 seconds, longer than
	// the idle timeouts of common clients and balancers (Go's transport
	// keeps idle connections 90 seconds, but retries a request that meets
	// a connection the server closed while idle).
	DefaultIdleTimeout = 30 * time.Second
	// DefaultMaxHeaderBytes bounds the size of a request's headers
	// (http.Server.MaxHeaderBytes): 64 KiB, where net/http allows 1 MiB.
	DefaultMaxHeaderBytes = 64 << 10
)

// A ServeOption configures [Serve].
type ServeOption func(*serveConfig)

type serveConfig struct {
	health       *health.Health
	drainTimeout time.Duration
	readyDelay   time.Duration
	bodyTimeout  time.Duration
	writeTimeout time.Duration
	logger       *slog.Logger
	tls          *tlsx.Server
}

// ServeHealth makes Serve mark h draining as soon as it begins to shut
// down, before the [ServeReadinessDelay], so readiness probes answer 503
// while requests in flight finish, and the gRPC health service of the same
// model (grpcx.RegisterHealth) reports NOT_SERVING.
func ServeHealth(h *health.Health) ServeOption {
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

// ServeBodyReadTimeout sets the deadline for reading each request's body,
// counted from the start of its handler; zero or less sets none. The
// default is DefaultBodyReadTimeout.
func ServeBodyReadTimeout(d time.Duration) ServeOption {
	return func(c *serveConfig) { c.bodyTimeout = d }
}

// ServeWriteTimeout sets the deadline for writing each response, counted
// from the start of its handler; zero or less sets none. The default is
// DefaultWriteTimeout.
func ServeWriteTimeout(d time.Duration) ServeOption {
	return func(c *serveConfig) { c.writeTimeout = d }
}

// ServeLogger sets the logger Serve reports a forced shutdown to; the
// default is slog.Default().
func ServeLogger(l *slog.Logger) ServeOption {
	return func(c *serveConfig) { c.logger = l }
}

// Serve serves srv on lis until ctx ends, then shuts down gracefully: it
// marks the [ServeHealth] model draining, waits the [ServeReadinessDelay]
// while it goes on serving (each response in that time carries
// "Connection: close", so keep-alive clients move to another instance
// instead of meeting a closed connection later), stops accepting
// connections and closes idle ones (srv.Shutdown), waits for requests in
// flight up to the drain timeout, and then closes what remains
// (srv.Close), such as a client stalled in the middle of its body. A
// service's main is then a signal.NotifyContext and an errgroup of Serve
// calls.
//
// Before it serves, Serve gives srv's zero fields safe values:
// ReadHeaderTimeout DefaultReadHeaderTimeout, IdleTimeout
// DefaultIdleTimeout and MaxHeaderBytes DefaultMaxHeaderBytes; a field the
// caller set is kept. Unless srv has a ReadTimeout or WriteTimeout of its
// own, each request also gets a body read deadline ([ServeBodyReadTimeout])
// and a write deadline ([ServeWriteTimeout]); the stream handlers
// ([ServerStreamHandler] and its kin) replace these by their idle timeout,
// and end their streams with an Unavailable error when the drain begins,
// so that their clients reconnect elsewhere. A cleartext server (no
// [ServeTLS]) whose Protocols field is nil speaks HTTP/1.1 and HTTP/2
// with prior knowledge (h2c).
//
// Serve returns nil once it has shut down, also when it had to close
// requests still running at the drain timeout (it logs how long it
// waited), and the error of srv.Serve if it fails first (nil if srv was
// shut down by another caller).
//
// Requests in flight keep their contexts while they drain; a BaseContext
// of srv derived from ctx would cancel them. srv.Shutdown does not wait
// for hijacked connections such as WebSockets; see
// http.Server.RegisterOnShutdown.
func Serve(ctx context.Context, srv *http.Server, lis net.Listener, opts ...ServeOption) error {
	cfg := serveConfig{drainTimeout: DefaultDrainTimeout, bodyTimeout: DefaultBodyReadTimeout, writeTimeout: DefaultWriteTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.tls != nil {
		if srv.TLSConfig != nil {
			return errors.New("httpx: Serve was given ServeTLS and an http.Server with a TLSConfig of its own; use one")
		}
		srv.TLSConfig = cfg.tls.Config("h2", "http/1.1")
		srv.ConnContext = tlsConnContext(srv.ConnContext)
	}
	var draining atomic.Bool
	conns := harden(srv, &cfg, &draining)
	// Stream handlers end their streams when the server drains.
	drainCh := make(chan struct{})
	base := srv.BaseContext
	srv.BaseContext = func(l net.Listener) context.Context {
		ctx := context.Background()
		if base != nil {
			ctx = base(l)
		}
		return context.WithValue(ctx, drainingKey{}, (<-chan struct{})(drainCh))
	}
	if cfg.tls == nil && srv.Protocols == nil {
		// Cleartext HTTP/2 (h2c with prior knowledge) beside HTTP/1.1.
		p := new(http.Protocols)
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		srv.Protocols = p
	}

	dl := &drainListener{Listener: lis}
	served := make(chan error, 1)
	if cfg.tls != nil {
		go func() { served <- srv.ServeTLS(dl, "", "") }()
	} else {
		go func() { served <- srv.Serve(dl) }()
	}

	select {
	case err := <-served:
		return serveFailed(srv, err)
	case <-ctx.Done():
	}

	draining.Store(true)
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
	// Stop accepting first, and give the connections accepted a moment
	// to send their request: net/http drops, unanswered, a request it
	// reads once Shutdown has begun, so a client that connected just
	// before the listener closed would see its connection closed.
	dl.stop()
	listenerClosed := <-served
	conns.waitNew(sctx, newConnGrace)
	close(drainCh)
	err := srv.Shutdown(sctx)
	if err != nil {
		_ = srv.Close()
		if errors.Is(err, context.DeadlineExceeded) {
			logger := cfg.logger
			if logger == nil {
				logger = slog.Default()
			}
			logger.Warn("httpx: connections still open after the drain timeout were closed", "drain_timeout", cfg.drainTimeout)
			err = nil
		}
	}
	if err == nil && listenerClosed != nil && !errors.Is(listenerClosed, net.ErrClosed) && !errors.Is(listenerClosed, http.ErrServerClosed) {
		err = listenerClosed
	}
	return err
}

// backlogQuiet is how long a stopping drainListener goes on accepting after
// the last connection it accepted before it closes.
const backlogQuiet = 20 * time.Millisecond

// drainListener is the listener Serve serves on. When it stops, it does not
// close at once: closing a listening socket resets every connection the
// kernel accepted for it and the server had not, and the clients of those
// see "connection reset" although nothing of theirs was processed. It
// accepts, for as long as connections keep coming without a gap of
// backlogQuiet, what is waiting, then closes; the server answers what it
// accepted with "Connection: close".
type drainListener struct {
	net.Listener
	closing atomic.Bool
	until   atomic.Int64 // UnixNano past which it closes whatever comes
}

// maxBacklogDrain bounds how long a stopping drainListener accepts, so
// that clients that go on connecting cannot keep the server from stopping.
const maxBacklogDrain = 250 * time.Millisecond

type deadliner interface{ SetDeadline(time.Time) error }

func (l *drainListener) Accept() (net.Conn, error) {
	d, canDrain := l.Listener.(deadliner)
	if l.closing.Load() && canDrain {
		_ = d.SetDeadline(time.Now().Add(backlogQuiet))
	}
	c, err := l.Listener.Accept()
	if l.closing.Load() {
		var ne net.Error
		if err != nil && (!canDrain || (errors.As(err, &ne) && ne.Timeout())) || time.Now().UnixNano() > l.until.Load() {
			_ = l.Listener.Close()
			if err == nil {
				return c, nil // served; the next Accept reports the close
			}
			return nil, net.ErrClosed
		}
	}
	return c, err
}

// stop makes the listener close once its backlog is empty; a listener
// that cannot drain (one without SetDeadline) closes at once.
func (l *drainListener) stop() {
	l.until.Store(time.Now().Add(maxBacklogDrain).UnixNano())
	l.closing.Store(true)
	if d, ok := l.Listener.(deadliner); ok {
		_ = d.SetDeadline(time.Now().Add(backlogQuiet)) // wakes a blocked Accept
		return
	}
	_ = l.Listener.Close()
}

// newConnGrace bounds how long Serve, once its listener is closed, waits
// for connections it accepted to send a request before it shuts down. A
// client on a working network sends its request with its first bytes; one
// that sends nothing is cut at this bound.
const newConnGrace = 500 * time.Millisecond

// connTracker counts the connections that were accepted and have not yet
// sent the first bytes of a request (http.StateNew).
type connTracker struct {
	fresh sync.Map // net.Conn → struct{}, while in StateNew
	n     atomic.Int64
}

func (t *connTracker) update(c net.Conn, st http.ConnState) {
	if st == http.StateNew {
		t.fresh.Store(c, struct{}{})
		t.n.Add(1)
		return
	}
	if _, ok := t.fresh.LoadAndDelete(c); ok {
		t.n.Add(-1)
	}
}

// waitNew waits until no connection is in StateNew, ctx ends, or grace
// passes.
func (t *connTracker) waitNew(ctx context.Context, grace time.Duration) {
	deadline := time.Now().Add(grace)
	for t.n.Load() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
}

// harden gives srv's zero limits their defaults, wraps its handler to set
// the per-request deadlines and, while draining, "Connection: close", and
// tracks its new connections.
func harden(srv *http.Server, cfg *serveConfig, draining *atomic.Bool) *connTracker {
	conns := new(connTracker)
	prevState := srv.ConnState
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		conns.update(c, st)
		if prevState != nil {
			prevState(c, st)
		}
	}
	if srv.ReadHeaderTimeout == 0 && srv.ReadTimeout == 0 {
		srv.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if srv.IdleTimeout == 0 {
		srv.IdleTimeout = DefaultIdleTimeout
	}
	if srv.MaxHeaderBytes == 0 {
		srv.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	body, write := cfg.bodyTimeout, cfg.writeTimeout
	if srv.ReadTimeout > 0 {
		body = 0
	}
	if srv.WriteTimeout > 0 {
		write = 0
	}
	next := srv.Handler
	if next == nil {
		next = http.DefaultServeMux
	}
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() {
			w.Header().Set("Connection", "close")
		}
		if body > 0 || write > 0 {
			rc := http.NewResponseController(w)
			now := time.Now()
			if write > 0 {
				_ = rc.SetWriteDeadline(now.Add(write))
			}
			if body > 0 && r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
				if rc.SetReadDeadline(now.Add(body)) == nil {
					r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
				}
			}
		}
		next.ServeHTTP(w, r)
	})
	return conns
}

// deadlineBody lifts the body read deadline once the body has been read to
// its end, so that the server's background read of the connection, which
// watches for the client going away, is not cut by it.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done { //nolint:errorlint // io.EOF is returned unwrapped by Read
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
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
