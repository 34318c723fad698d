package observe

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/typedkit/kit"
)

// Tracing returns an interceptor that runs each call in a span, a child of
// the span in the call's context: on a server, the caller's span that
// [HTTPToContext] or [GRPCToContext] extracted; on a client, the span of
// the work that makes the call, which [ContextToHTTP] or [ContextToGRPC]
// then send to the server.
//
// The span and its attributes come from the method's kit.Call. The span is
// named after the method, "Service/Method", as the semantic conventions
// (v1.43.0) ask, and is of kind server, or client for the calls of a
// client (kit.ClientSide). It carries the attributes rpc.method (the same
// "Service/Method"), rpc.system.name (the transport, as for [Metrics]),
// rpc.response.status_code ([StatusName] of kit.CodeOf of the call's error)
// and, for a failure, error.type. Its status is Error, with the error's
// public message (kit.MessageOf) as description, when a server call fails
// through the server's fault (kit.IsServerFault) and when a client call
// fails with any code, as the semantic conventions for RPC spans ask; an
// internal cause is never written to the span. A call that panics ends its
// span as Internal and the panic goes on.
//
// The options of each method's spans are built when the interceptor is
// called for it, as the endpoints are built; a call allocates only what
// the tracer does. Put Tracing before [Metrics] in a list of interceptors,
// so the span is in the context the measurements are made with (for
// exemplars) and its duration includes theirs. With a no-op tracer
// provider (go.opentelemetry.io/otel/trace/noop), Tracing adds nothing to
// the chain.
func Tracing(opts ...Option) kit.Interceptor {
	cfg := newConfig(opts)
	tracer := cfg.tracerProvider.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL))
	if _, ok := tracer.(noop.Tracer); ok {
		return passThrough
	}
	var end [numCodes][]attribute.KeyValue
	for c := range numCodes {
		end[c] = resultAttrs(kit.Code(c))
	}
	return func(call kit.Call, next kit.Invoker) kit.Invoker {
		name := methodName(call)
		client := call.Side == kit.ClientSide
		kind := trace.SpanKindServer
		if client {
			kind = trace.SpanKindClient
		}
		start := []trace.SpanStartOption{
			trace.WithSpanKind(kind),
			trace.WithAttributes(callAttrs(call)...),
		}
		return func(ctx context.Context, c kit.Call) (err error) {
			ctx, span := tracer.Start(ctx, name, start...)
			returned := false
			defer func() {
				if !span.IsRecording() {
					span.End()
					return
				}
				code, msg := kit.Internal, "panic"
				if returned {
					code, msg = kit.CodeOf(err), kit.MessageOf(err)
				}
				span.SetAttributes(end[codeIndex(code)]...)
				if code != kit.OK && (client || kit.IsServerFault(code)) {
					span.SetStatus(codes.Error, msg)
				}
				span.End()
			}()
			err = next(ctx, c)
			returned = true
			return err
		}
	}
}
