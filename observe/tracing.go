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

// Tracing returns a middleware that runs each call of the endpoint in a span
// named name, a child of the span in the call's context: on a server, the
// caller's span that [HTTPToContext] or [GRPCToContext] extracted; on a
// client ([AsClient]), the span of the work that makes the call, which
// [ContextToHTTP] or [ContextToGRPC] then send to the server.
//
// The span is of kind server, or client with [AsClient]. It carries the
// attributes rpc.method (name), rpc.system.name (when the transport is
// known, as for [Metrics]), rpc.response.status_code ([StatusName] of
// kit.CodeOf(err)) and, for a failure, error.type. Its status is Error, with
// the error's public message (kit.MessageOf) as description, when a server
// call fails through the server's fault (kit.IsServerFault) and when a
// client call fails with any code, as the semantic conventions for RPC
// spans ask; an internal cause is never written to the span. A call that
// panics ends its span as Internal and the panic goes on.
//
// With a no-op tracer provider (go.opentelemetry.io/otel/trace/noop),
// Tracing returns the endpoint unchanged.
func Tracing[Req, Resp any](name string, opts ...Option) kit.Middleware[Req, Resp] {
	cfg := newConfig(opts)
	tracer := cfg.tracerProvider.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL))
	if _, ok := tracer.(noop.Tracer); ok {
		return kit.NopMiddleware[Req, Resp]
	}
	kind := trace.SpanKindServer
	if cfg.client {
		kind = trace.SpanKindClient
	}
	var start [numTransports][]trace.SpanStartOption
	for t := range numTransports {
		start[t] = []trace.SpanStartOption{
			trace.WithSpanKind(kind),
			trace.WithAttributes(callAttrs(name, cfg.transportName(t))...),
		}
	}
	var end [numCodes][]attribute.KeyValue
	for c := range numCodes {
		end[c] = resultAttrs(kit.Code(c))
	}
	client := cfg.client

	return func(next kit.Endpoint[Req, Resp]) kit.Endpoint[Req, Resp] {
		return func(ctx context.Context, req Req) (resp Resp, err error) {
			t := transportConfigured
			if !client {
				t = transportFrom(ctx)
			}
			ctx, span := tracer.Start(ctx, name, start[t]...)
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
				c := codeIndex(code)
				span.SetAttributes(end[c]...)
				if code != kit.OK && (client || kit.IsServerFault(code)) {
					span.SetStatus(codes.Error, msg)
				}
				span.End()
			}()
			resp, err = next(ctx, req)
			returned = true
			return resp, err
		}
	}
}
