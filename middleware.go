package kit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

// A Middleware wraps an endpoint with behaviour that does not depend on the
// transport: logging, limits, breakers, timeouts, authentication, metrics.
type Middleware[Req, Resp any] func(Endpoint[Req, Resp]) Endpoint[Req, Resp]

// Chain composes middlewares into one. The first argument is the outermost:
// Chain(a, b, c)(ep) runs a, then b, then c, then ep, and the response
// passes back through c, b and a. This is go-kit's order.
func Chain[Req, Resp any](outer Middleware[Req, Resp], others ...Middleware[Req, Resp]) Middleware[Req, Resp] {
	return func(next Endpoint[Req, Resp]) Endpoint[Req, Resp] {
		return outer(Apply(next, others...))
	}
}

// Apply returns ep wrapped in mws, the first outermost: Apply(ep, a, b) is
// Chain(a, b)(ep). With no middlewares it returns ep.
func Apply[Req, Resp any](ep Endpoint[Req, Resp], mws ...Middleware[Req, Resp]) Endpoint[Req, Resp] {
	for i := len(mws) - 1; i >= 0; i-- {
		ep = mws[i](ep)
	}
	return ep
}

// NopMiddleware is a middleware that returns the endpoint it is given.
func NopMiddleware[Req, Resp any](next Endpoint[Req, Resp]) Endpoint[Req, Resp] {
	return next
}

// A Stack builds a chain of middlewares around an endpoint. Its type
// arguments are inferred from the endpoint, so the standard middlewares can
// be added without writing them:
//
//	ep := kit.Wrap(getUser).
//		Logging(logger, "GetUser").
//		Recover(logger).
//		Timeout(2 * time.Second).
//		Endpoint()
//
// The first middleware added is the outermost, as with [Chain]. A Stack is
// a value; each method returns a new Stack and leaves the receiver as it was.
type Stack[Req, Resp any] struct {
	ep  Endpoint[Req, Resp]
	mws []Middleware[Req, Resp]
}

// Wrap starts a [Stack] around ep.
func Wrap[Req, Resp any](ep Endpoint[Req, Resp]) Stack[Req, Resp] {
	return Stack[Req, Resp]{ep: ep}
}

// Use adds middlewares, the first of them outermost, inside those added
// before.
func (s Stack[Req, Resp]) Use(mws ...Middleware[Req, Resp]) Stack[Req, Resp] {
	all := make([]Middleware[Req, Resp], 0, len(s.mws)+len(mws))
	all = append(append(all, s.mws...), mws...)
	return Stack[Req, Resp]{ep: s.ep, mws: all}
}

// Logging adds [Logging].
func (s Stack[Req, Resp]) Logging(logger *slog.Logger, name string, opts ...LogOption) Stack[Req, Resp] {
	return s.Use(Logging[Req, Resp](logger, name, opts...))
}

// Timeout adds [Timeout].
func (s Stack[Req, Resp]) Timeout(d time.Duration) Stack[Req, Resp] {
	return s.Use(Timeout[Req, Resp](d))
}

// Recover adds [Recover].
func (s Stack[Req, Resp]) Recover(logger *slog.Logger) Stack[Req, Resp] {
	return s.Use(Recover[Req, Resp](logger))
}

// Endpoint returns the endpoint wrapped in the stack's middlewares.
func (s Stack[Req, Resp]) Endpoint() Endpoint[Req, Resp] {
	return Apply(s.ep, s.mws...)
}

// A LogOption configures [Logging].
type LogOption func(*logConfig)

type logConfig struct {
	request  bool
	response bool
	level    func(Code) slog.Level
}

// LogRequest makes [Logging] log the request value under the key "request".
// Requests are not logged by default: they may hold personal data.
func LogRequest() LogOption { return func(c *logConfig) { c.request = true } }

// LogResponse makes [Logging] log the response value under the key
// "response" for calls that succeed.
func LogResponse() LogOption { return func(c *logConfig) { c.response = true } }

// LogLevel sets the function that picks the level of a call's record from its
// code. The default is [DefaultLogLevel].
func LogLevel(level func(Code) slog.Level) LogOption {
	return func(c *logConfig) { c.level = level }
}

// DefaultLogLevel logs calls that succeed or fail through the caller's fault
// at Info, and calls that fail through the server's fault (Unknown,
// Internal, Unavailable, DataLoss, DeadlineExceeded, Unimplemented) at
// Error.
func DefaultLogLevel(c Code) slog.Level {
	if IsServerFault(c) {
		return slog.LevelError
	}
	return slog.LevelInfo
}

// IsServerFault reports whether code means the server, not the caller, is at
// fault: Unknown, DeadlineExceeded, Unimplemented, Internal, Unavailable and
// DataLoss.
func IsServerFault(c Code) bool {
	switch c {
	case Unknown, DeadlineExceeded, Unimplemented, Internal, Unavailable, DataLoss:
		return true
	}
	return false
}

// Logging returns a middleware that writes one record per call to logger
// (slog.Default() when nil) with the endpoint's name, the duration, the code
// and, for a failed call, the error with its cause. The message is "call".
// The request and response are logged only when [LogRequest] and
// [LogResponse] ask for them. Nothing is computed when the logger is not
// enabled at the call's level.
func Logging[Req, Resp any](logger *slog.Logger, name string, opts ...LogOption) Middleware[Req, Resp] {
	cfg := logConfig{level: DefaultLogLevel}
	for _, o := range opts {
		o(&cfg)
	}
	return func(next Endpoint[Req, Resp]) Endpoint[Req, Resp] {
		return func(ctx context.Context, req Req) (Resp, error) {
			l := logger
			if l == nil {
				l = slog.Default()
			}
			start := time.Now()
			resp, err := next(ctx, req)
			code := CodeOf(err)
			level := cfg.level(code)
			if !l.Enabled(ctx, level) {
				return resp, err
			}
			attrs := make([]slog.Attr, 0, 6)
			attrs = append(attrs,
				slog.String("endpoint", name),
				slog.Duration("duration", time.Since(start)),
				slog.String("code", code.String()),
			)
			if err != nil {
				attrs = append(attrs, slog.String("error", err.Error()))
			}
			if cfg.request {
				attrs = append(attrs, slog.Any("request", req))
			}
			if cfg.response && err == nil {
				attrs = append(attrs, slog.Any("response", resp))
			}
			l.LogAttrs(ctx, level, "call", attrs...)
			return resp, err
		}
	}
}

// Timeout returns a middleware that gives each call a deadline d from its
// start (or keeps the caller's, if sooner). A call that fails because the
// deadline passed returns a DeadlineExceeded *Error wrapping the endpoint's
// error. The endpoint must honour its context for the deadline to cut it
// short; Timeout starts no goroutine.
func Timeout[Req, Resp any](d time.Duration) Middleware[Req, Resp] {
	return func(next Endpoint[Req, Resp]) Endpoint[Req, Resp] {
		return func(ctx context.Context, req Req) (Resp, error) {
			ctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			resp, err := next(ctx, req)
			if err == nil {
				return resp, nil
			}
			switch code := CodeOf(err); {
			case code == DeadlineExceeded:
				if _, ok := err.(*Error); !ok {
					err = WrapError(DeadlineExceeded, err, "")
				}
			case (code == Unknown || code == Canceled) && errors.Is(ctx.Err(), context.DeadlineExceeded):
				err = WrapError(DeadlineExceeded, err, "")
			}
			return resp, err
		}
	}
}

// A PanicError is the cause of the Internal error that [Recover] returns for
// a panic: the value the endpoint panicked with and the stack at the panic.
type PanicError struct {
	Value any
	Stack []byte
}

// Error returns the panic value as text.
func (p *PanicError) Error() string { return fmt.Sprintf("panic: %v", p.Value) }

// Recover returns a middleware that turns a panic in the endpoint into an
// Internal *Error whose cause is a *PanicError, and logs the panic value and
// the stack to logger (slog.Default() when nil) at Error level. The caller
// sees only "internal error"; the process keeps running.
//
// A panic with http.ErrAbortHandler is not recovered, so net/http can abort
// the response as it intends.
func Recover[Req, Resp any](logger *slog.Logger) Middleware[Req, Resp] {
	return func(next Endpoint[Req, Resp]) Endpoint[Req, Resp] {
		return func(ctx context.Context, req Req) (resp Resp, err error) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler { //nolint:errorlint // net/http compares it the same way
						panic(v)
					}
					p := &PanicError{Value: v, Stack: debug.Stack()}
					l := logger
					if l == nil {
						l = slog.Default()
					}
					l.LogAttrs(ctx, slog.LevelError, "panic",
						slog.String("panic", fmt.Sprint(v)),
						slog.String("stack", string(p.Stack)))
					var zero Resp
					resp, err = zero, WrapError(Internal, p, "")
				}
			}()
			return next(ctx, req)
		}
	}
}
