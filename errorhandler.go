package kit

import (
	"context"
	"errors"
	"log/slog"
)

// An ErrorHandler receives the errors a transport's server answers, with the
// request's context, for logging or metrics. httpx and grpcx take one as an
// option.
type ErrorHandler interface {
	Handle(ctx context.Context, err error)
}

// ErrorHandlerFunc adapts a function to an [ErrorHandler].
type ErrorHandlerFunc func(ctx context.Context, err error)

// Handle calls f(ctx, err).
func (f ErrorHandlerFunc) Handle(ctx context.Context, err error) { f(ctx, err) }

// LogServerFaults returns an ErrorHandler that logs to logger
// (slog.Default() when nil), at Error level, the errors whose code is the
// server's fault ([IsServerFault]) and every panic with its stack, and at
// Warn level the [Concealed] errors of other codes, whose text the caller
// was not shown (a plain error from a decoder or a Validate method). Other
// errors that are the caller's, such as a *Error with InvalidArgument or
// NotFound, are not logged. It is the transports' default error handler.
func LogServerFaults(logger *slog.Logger) ErrorHandler {
	return ErrorHandlerFunc(func(ctx context.Context, err error) {
		if !IsServerFault(CodeOf(err)) {
			if Concealed(err) {
				l := logger
				if l == nil {
					l = slog.Default()
				}
				l.LogAttrs(ctx, slog.LevelWarn, "request rejected", slog.String("error", err.Error()))
			}
			return
		}
		l := logger
		if l == nil {
			l = slog.Default()
		}
		var p *PanicError
		if errors.As(err, &p) {
			l.LogAttrs(ctx, slog.LevelError, "panic serving request",
				slog.String("error", err.Error()), slog.String("stack", string(p.Stack)))
			return
		}
		l.LogAttrs(ctx, slog.LevelError, "request failed", slog.String("error", err.Error()))
	})
}
