package kit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync/atomic"
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

// Logging returns an interceptor that writes one record per call to logger
// (slog.Default() when nil) with the service, the method, the transport and
// side, the duration, the code and, for a failed call, the error with its
// cause. The message is "call". The request and response are logged only
// when [LogRequest] and [LogResponse] ask for them. A stream call is one
// record at its end, with the numbers of requests and responses it carried.
// Nothing is computed when the logger is not enabled at the call's level.
func Logging(logger *slog.Logger, opts ...LogOption) Interceptor {
	cfg := logConfig{level: DefaultLogLevel}
	for _, o := range opts {
		o(&cfg)
	}
	return func(call Call, next Invoker) Invoker {
		static := []slog.Attr{
			slog.String("service", call.Service),
			slog.String("method", call.Method),
			slog.String("transport", call.Transport.String()),
			slog.String("side", call.Side.String()),
		}
		return func(ctx context.Context, c Call) error {
			l := logger
			if l == nil {
				l = slog.Default()
			}
			start := time.Now()
			var counts *messageCounts
			if c.Stream != Unary {
				counts = new(messageCounts)
				c.OnMessage(counts.add)
			}
			err := next(ctx, c)
			code := CodeOf(err)
			level := cfg.level(code)
			if !l.Enabled(ctx, level) {
				return err
			}
			attrs := make([]slog.Attr, 0, len(static)+5)
			attrs = append(attrs, static...)
			attrs = append(attrs,
				slog.Duration("duration", time.Since(start)),
				slog.String("code", code.String()),
			)
			if err != nil {
				attrs = append(attrs, slog.String("error", err.Error()))
			}
			if counts != nil {
				attrs = append(attrs, slog.Int64("requests", counts.requests.Load()), slog.Int64("responses", counts.responses.Load()))
			}
			if cfg.request {
				attrs = append(attrs, slog.Any("request", c.Request()))
			}
			if cfg.response && err == nil {
				attrs = append(attrs, slog.Any("response", c.Response()))
			}
			l.LogAttrs(ctx, level, "call", attrs...)
			return err
		}
	}
}

// messageCounts counts the messages of a stream call for [Logging]. The
// requests of a bidirectional stream are counted on another goroutine than
// its responses.
type messageCounts struct{ requests, responses atomic.Int64 }

func (m *messageCounts) add(k MessageKind) {
	if k == RequestMessage {
		m.requests.Add(1)
	} else {
		m.responses.Add(1)
	}
}

// Timeout returns an interceptor that gives each call a deadline d from
// its start (or keeps the caller's, if sooner). A call that fails because
// the deadline passed returns a DeadlineExceeded *Error wrapping the
// endpoint's error. The endpoint must honour its context for the deadline
// to cut it short; Timeout starts no goroutine.
//
// Stream calls get no deadline from Timeout, so that a long healthy stream
// is not cut: their transports end a stalled stream (httpx and grpcx
// ServerStreamIdleTimeout), and the caller's own deadline still applies.
func Timeout(d time.Duration) Interceptor {
	return func(call Call, next Invoker) Invoker {
		if call.Stream != Unary {
			return next
		}
		return func(ctx context.Context, c Call) error {
			ctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			err := next(ctx, c)
			if err == nil {
				return nil
			}
			switch code := CodeOf(err); {
			case code == DeadlineExceeded:
				var ke *Error
				if !errors.As(err, &ke) {
					err = WrapError(DeadlineExceeded, err, "")
				}
			case (code == Unknown || code == Canceled) && errors.Is(ctx.Err(), context.DeadlineExceeded):
				err = WrapError(DeadlineExceeded, err, "")
			}
			return err
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

// Recover returns an interceptor that turns a panic in the rest of the
// chain into an Internal *Error whose cause is a *PanicError, and logs the
// panic value, the method and the stack to logger (slog.Default() when nil)
// at Error level. The caller sees only "internal error"; the process keeps
// running.
//
// A panic with http.ErrAbortHandler is not recovered, so net/http can abort
// the response as it intends.
func Recover(logger *slog.Logger) Interceptor {
	return func(_ Call, next Invoker) Invoker {
		return func(ctx context.Context, c Call) (err error) {
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
						slog.String("method", c.Procedure()),
						slog.String("panic", fmt.Sprint(v)),
						slog.String("stack", string(p.Stack)))
					err = WrapError(Internal, p, "")
				}
			}()
			return next(ctx, c)
		}
	}
}
