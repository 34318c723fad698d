package observe

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/grpc/metadata"

	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/httpx"
)

// transport is the transport a server hook records in the context. Its
// values index the precomputed attributes of the middlewares: 0 is "the
// transport the options give", the others those of the hooks.
type transport uint8

const (
	transportConfigured transport = iota
	transportHTTP
	transportGRPC
	numTransports
)

var transportNames = [numTransports]string{
	transportHTTP: TransportHTTP,
	transportGRPC: TransportGRPC,
}

type transportKey struct{}

func withTransport(ctx context.Context, t transport) context.Context {
	return context.WithValue(ctx, transportKey{}, t)
}

func transportFrom(ctx context.Context) transport {
	t, _ := ctx.Value(transportKey{}).(transport)
	return t
}

// HTTPToContext returns an httpx server hook (for httpx.ServerBefore) that
// extracts the trace context of the request's headers into the context, so
// the span [Tracing] starts is a child of the caller's, and records that
// the call came over HTTP for the metrics and span attributes.
func HTTPToContext(opts ...Option) httpx.RequestFunc {
	prop := newConfig(opts).propagator
	return func(ctx context.Context, r *http.Request) context.Context {
		ctx = prop.Extract(ctx, propagation.HeaderCarrier(r.Header))
		return withTransport(ctx, transportHTTP)
	}
}

// ContextToHTTP returns an httpx client hook (for httpx.ClientBefore) that
// injects the trace context of the call's context, such as the client span
// of [Tracing] with [AsClient], into the request's headers.
func ContextToHTTP(opts ...Option) httpx.RequestFunc {
	prop := newConfig(opts).propagator
	return func(ctx context.Context, r *http.Request) context.Context {
		prop.Inject(ctx, propagation.HeaderCarrier(r.Header))
		return ctx
	}
}

// GRPCToContext returns a grpcx server hook (for grpcx.ServerBefore) that
// extracts the trace context of the incoming metadata into the context and
// records that the call came over gRPC.
func GRPCToContext(opts ...Option) grpcx.ServerRequestFunc {
	prop := newConfig(opts).propagator
	return func(ctx context.Context, md metadata.MD) context.Context {
		ctx = prop.Extract(ctx, metadataCarrier(md))
		return withTransport(ctx, transportGRPC)
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
