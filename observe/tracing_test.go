package observe_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc/metadata"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/observe"
)

// newTracer returns a tracer provider that exports every span to an
// in-memory exporter as it ends.
func newTracer(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, exp
}

func TestTracingStatus(t *testing.T) {
	tests := []struct {
		name           string
		req            sumReq
		status         string
		server, client codes.Code
		description    string
		panics         bool
	}{
		{"ok", sumReq{B: "x"}, "OK", codes.Unset, codes.Unset, "", false},
		{"caller's fault", codeReq(kit.NotFound), "NOT_FOUND", codes.Unset, codes.Error, "message not_found", false},
		{"unauthenticated", codeReq(kit.Unauthenticated), "UNAUTHENTICATED", codes.Unset, codes.Error, "message unauthenticated", false},
		{"server's fault", codeReq(kit.Internal), "INTERNAL", codes.Error, codes.Error, "message internal", false},
		{"unavailable", codeReq(kit.Unavailable), "UNAVAILABLE", codes.Error, codes.Error, "message unavailable", false},
		{"plain error", sumReq{B: "plain"}, "UNKNOWN", codes.Error, codes.Error, "unknown error", false},
		{"panic", sumReq{B: "panic"}, "INTERNAL", codes.Error, codes.Error, "panic", true},
	}
	for _, tt := range tests {
		for _, side := range []string{"server", "client"} {
			t.Run(tt.name+"/"+side, func(t *testing.T) {
				tp, exp := newTracer(t)
				opts := []observe.Option{observe.WithTracerProvider(tp)}
				kind, want := trace.SpanKindServer, tt.server
				if side == "client" {
					opts = append(opts, observe.AsClient())
					kind, want = trace.SpanKindClient, tt.client
				}
				ep := observe.Tracing[sumReq, sumResp]("Test/Sum", opts...)(echo)
				if tt.panics {
					assert.Panics(t, func() { _, _ = ep(context.Background(), tt.req) })
				} else {
					_, _ = ep(context.Background(), tt.req)
				}

				spans := exp.GetSpans()
				require.Len(t, spans, 1)
				s := spans[0]
				assert.Equal(t, "Test/Sum", s.Name)
				assert.Equal(t, kind, s.SpanKind)
				assert.Equal(t, observe.ScopeName, s.InstrumentationScope.Name)
				assert.Equal(t, want, s.Status.Code)
				if want == codes.Error {
					assert.Equal(t, tt.description, s.Status.Description)
				}
				attrs := attrsOf(s.Attributes)
				assert.Equal(t, "Test/Sum", attrs["rpc.method"])
				assert.Equal(t, tt.status, attrs["rpc.response.status_code"])
				if tt.status == "OK" {
					assert.NotContains(t, attrs, "error.type")
				} else {
					assert.Equal(t, tt.status, attrs["error.type"])
				}
				assert.NotContains(t, attrs, "rpc.system.name", "the transport is not known")
				assert.NotContains(t, s.Status.Description, "secret")
				assert.Empty(t, s.Events)
			})
		}
	}
}

// The span is in the context the endpoint sees, as the parent of its own.
func TestTracingContext(t *testing.T) {
	tp, exp := newTracer(t)
	var inner trace.SpanContext
	ep := observe.Tracing[sumReq, sumResp]("Test/Sum", observe.WithTracerProvider(tp))(
		func(ctx context.Context, r sumReq) (sumResp, error) {
			inner = trace.SpanContextFromContext(ctx)
			return sumResp{C: r.B}, nil
		})
	ctx, parent := tp.Tracer("test").Start(context.Background(), "parent")
	_, err := ep(ctx, sumReq{B: "x"})
	require.NoError(t, err)
	parent.End()

	spans := exp.GetSpans()
	require.Len(t, spans, 2)
	assert.Equal(t, spans[0].SpanContext, inner)
	assert.Equal(t, parent.SpanContext().SpanID(), spans[0].Parent.SpanID())
	assert.Equal(t, parent.SpanContext().TraceID(), inner.TraceID())
}

// With a no-op tracer provider the middleware returns the endpoint as it
// is, so a call costs nothing.
func TestTracingNoop(t *testing.T) {
	ep := observe.Tracing[sumReq, sumResp]("Test/Sum", observe.WithTracerProvider(tracenoop.NewTracerProvider()))(echo)
	ctx := context.Background()
	req := sumReq{B: "x"}
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = ep(ctx, req) }))
}

func TestHooksCarryTraceContext(t *testing.T) {
	tp, _ := newTracer(t)
	ctx, span := tp.Tracer("test").Start(context.Background(), "client")
	defer span.End()
	sc := span.SpanContext()

	t.Run("http", func(t *testing.T) {
		r, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://example.test", nil)
		require.NoError(t, err)
		observe.ContextToHTTP()(ctx, r)
		require.NotEmpty(t, r.Header.Get("traceparent"))
		got := trace.SpanContextFromContext(observe.HTTPToContext()(context.Background(), r))
		assert.Equal(t, sc.TraceID(), got.TraceID())
		assert.Equal(t, sc.SpanID(), got.SpanID())
		assert.True(t, got.IsRemote())
	})
	t.Run("grpc", func(t *testing.T) {
		var md metadata.MD
		observe.ContextToGRPC()(ctx, &md)
		require.Len(t, md.Get("traceparent"), 1)
		got := trace.SpanContextFromContext(observe.GRPCToContext()(context.Background(), md))
		assert.Equal(t, sc.TraceID(), got.TraceID())
		assert.Equal(t, sc.SpanID(), got.SpanID())
		assert.True(t, got.IsRemote())
	})
	t.Run("another propagator", func(t *testing.T) {
		r, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://example.test", nil)
		require.NoError(t, err)
		observe.ContextToHTTP(observe.WithPropagator(propagation.Baggage{}))(ctx, r)
		assert.Empty(t, r.Header.Get("traceparent"))
	})
	t.Run("no trace context", func(t *testing.T) {
		r, err := http.NewRequest(http.MethodGet, "http://example.test", nil)
		require.NoError(t, err)
		got := trace.SpanContextFromContext(observe.HTTPToContext()(context.Background(), r))
		assert.False(t, got.IsValid())
	})
}

// A trace crosses a real httpx or grpcx client and server: the server's
// span is the child of the client's, which is the child of the caller's,
// and both sides are measured with the transport as rpc.system.name.
func TestTraceAcrossTransports(t *testing.T) {
	outcomes := []struct {
		name           string
		req            sumReq
		status         string
		server, client codes.Code
	}{
		{"ok", sumReq{B: "x"}, "OK", codes.Unset, codes.Unset},
		{"not found", codeReq(kit.NotFound), "NOT_FOUND", codes.Unset, codes.Error},
		{"internal", codeReq(kit.Internal), "INTERNAL", codes.Error, codes.Error},
	}
	for _, transport := range []string{observe.TransportHTTP, observe.TransportGRPC} {
		for _, oc := range outcomes {
			t.Run(transport+"/"+oc.name, func(t *testing.T) {
				tp, exp := newTracer(t)
				mp, reader := newMeter(t)
				opts := []observe.Option{observe.WithTracerProvider(tp), observe.WithMeterProvider(mp)}
				server := observe.Middleware[sumReq, sumResp]("Test/Sum", opts...)(echo)
				clientOpts := append(opts, observe.AsClient(), observe.WithTransport(transport))

				var client kit.Endpoint[sumReq, sumResp]
				switch transport {
				case observe.TransportHTTP:
					client = serveHTTP(t, server,
						[]httpx.ServerOption{httpx.ServerBefore(observe.HTTPToContext())},
						httpx.ClientBefore(observe.ContextToHTTP()))
				case observe.TransportGRPC:
					client = serveGRPC(t, server,
						[]grpcx.ServerOption{grpcx.ServerBefore(observe.GRPCToContext())},
						grpcx.ClientBefore(observe.ContextToGRPC()))
				}
				client = observe.Middleware[sumReq, sumResp]("Test/Sum", clientOpts...)(client)

				ctx, parent := tp.Tracer("test").Start(context.Background(), "caller")
				_, err := client(ctx, oc.req)
				parent.End()
				if oc.status == "OK" {
					require.NoError(t, err)
				} else {
					require.Error(t, err)
				}

				byKind := map[trace.SpanKind]tracetest.SpanStub{}
				for _, s := range exp.GetSpans() {
					byKind[s.SpanKind] = s
				}
				require.Len(t, byKind, 3, "caller, client and server spans")
				caller, cs, ss := byKind[trace.SpanKindInternal], byKind[trace.SpanKindClient], byKind[trace.SpanKindServer]

				traceID := caller.SpanContext.TraceID()
				assert.Equal(t, traceID, cs.SpanContext.TraceID())
				assert.Equal(t, traceID, ss.SpanContext.TraceID())
				assert.Equal(t, caller.SpanContext.SpanID(), cs.Parent.SpanID())
				assert.Equal(t, cs.SpanContext.SpanID(), ss.Parent.SpanID())
				assert.True(t, ss.Parent.IsRemote())

				for _, s := range []tracetest.SpanStub{cs, ss} {
					attrs := attrsOf(s.Attributes)
					assert.Equal(t, transport, attrs["rpc.system.name"])
					assert.Equal(t, oc.status, attrs["rpc.response.status_code"])
				}
				assert.Equal(t, oc.server, ss.Status.Code)
				assert.Equal(t, oc.client, cs.Status.Code)

				rm := collect(t, reader)
				want := map[string]int64{key("rpc.method=Test/Sum", "rpc.system.name="+transport): 1}
				assert.Equal(t, want, points(rm, observe.ServerRequests))
				assert.Equal(t, want, points(rm, observe.ClientRequests))
			})
		}
	}
}
