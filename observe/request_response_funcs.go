package observe

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/grpc/metadata"

	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/httpx"
)

// HTTPToContext returns an httpx server hook (for httpx.ServerBefore) that
// extracts the trace context of the request's headers into the context, so
// the span [Tracing] starts is a child of the caller's.
func HTTPToContext(opts ...Option) httpx.RequestFunc {
	prop := newConfig(opts).propagator
	return func(ctx context.Context, r *http.Request) context.Context {
		return prop.Extract(ctx, propagation.HeaderCarrier(r.Header))
	}
}

// ContextToHTTP returns an httpx client hook (for httpx.ClientBefore) that
// injects the trace context of the call's context, such as the client span
// of [Tracing] in the client's interceptors (httpx.ClientInterceptors),
// into the request's headers.
func ContextToHTTP(opts ...Option) httpx.RequestFunc {
	prop := newConfig(opts).propagator
	return func(ctx context.Context, r *http.Request) context.Context {
		prop.Inject(ctx, propagation.HeaderCarrier(r.Header))
		return ctx
	}
}

// GRPCToContext returns a grpcx server hook (for grpcx.ServerBefore) that
// extracts the trace context of the incoming metadata into the context, so
// the span [Tracing] starts is a child of the caller's.
func GRPCToContext(opts ...Option) grpcx.ServerRequestFunc {
	prop := newConfig(opts).propagator
	return func(ctx context.Context, md metadata.MD) context.Context {
		return prop.Extract(ctx, metadataCarrier(md))
	}
}

// ContextToGRPC returns a grpcx client hook (for grpcx.ClientBefore) that
// injects the trace context of the call's context into the outgoing
// metadata.
func ContextToGRPC(opts ...Option) grpcx.ClientRequestFunc {
	prop := newConfig(opts).propagator
	return func(ctx context.Context, md *metadata.MD) context.Context {
		if *md == nil {
			*md = metadata.MD{}
		}
		prop.Inject(ctx, metadataCarrier(*md))
		return ctx
	}
}

// metadataCarrier lets a propagator read and write gRPC metadata, whose
// keys are lower case.
type metadataCarrier metadata.MD

var _ propagation.ValuesGetter = metadataCarrier(nil)

func (c metadataCarrier) Get(key string) string {
	if v := metadata.MD(c).Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (c metadataCarrier) Values(key string) []string { return metadata.MD(c).Get(key) }

func (c metadataCarrier) Set(key, value string) { metadata.MD(c).Set(key, value) }

func (c metadataCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}
