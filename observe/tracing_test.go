package observe_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
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
	t.Parallel()
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
				t.Parallel()
				tp, exp := newTracer(t)
				call, kind, want := testCall, trace.SpanKindServer, tt.server
				if side == "client" {
					call.Side = kit.ClientSide
					kind, want = trace.SpanKindClient, tt.client
				}
				ep := kit.Intercept(echo, call, observe.Tracing(observe.TracerProvider(tp)))
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
				assert.NotContains(t, attrs, "rpc.system.name", "an in-process call has no transport")
				assert.NotContains(t, s.Status.Description, "secret")
				assert.Empty(t, s.Events)
			})
		}
	}
}

// The span is in the context the endpoint sees, as the parent of its own.
func TestTracingContext(t *testing.T) {
	t.Parallel()
	tp, exp := newTracer(t)
	var inner trace.SpanContext
	ep := intercept(func(ctx context.Context, r sumReq) (sumResp, error) {
		inner = trace.SpanContextFromContext(ctx)
		return sumResp{C: r.B}, nil
	}, observe.Tracing(observe.TracerProvider(tp)))
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

// With a no-op tracer provider the interceptor adds nothing to the chain,
// so a call costs nothing. Not parallel: AllocsPerRun counts the
// allocations of the whole process.
func TestTracingNoop(t *testing.T) {
	ep := intercept(echo, observe.Tracing(observe.TracerProvider(tracenoop.NewTracerProvider())))
	ctx := context.Background()
	req := sumReq{B: "x"}
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = ep(ctx, req) }))
}

// The span's name, kind and attributes come from the Call of its method.
func TestTracingAttributesFromTheCall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		call   kit.Call
		name   string
		kind   trace.SpanKind
		system string // "" for none
	}{
		{kit.Call{Service: "users.Service", Method: "GetUser", Transport: kit.HTTP}, "users.Service/GetUser", trace.SpanKindServer, "http"},
		{kit.Call{Service: "users.Service", Method: "GetUser", Transport: kit.GRPC, Side: kit.ClientSide}, "users.Service/GetUser", trace.SpanKindClient, "grpc"},
		{kit.Call{Service: "tools", Method: "search", Transport: kit.MCP}, "tools/search", trace.SpanKindServer, "mcp"},
		{kit.Call{Method: "Ping"}, "Ping", trace.SpanKindServer, ""},
		{kit.Call{Transport: kit.GRPC}, "_OTHER", trace.SpanKindServer, "grpc"},
	}
	tp, exp := newTracer(t)
	ic := observe.Tracing(observe.TracerProvider(tp)) // one interceptor for every method
	// Not parallel: the subtests share exp, which each resets.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp.Reset()
			_, err := kit.Intercept(echo, tt.call, ic)(context.Background(), sumReq{B: "x"})
			require.NoError(t, err)
			spans := exp.GetSpans()
			require.Len(t, spans, 1)
			s := spans[0]
			assert.Equal(t, tt.name, s.Name)
			assert.Equal(t, tt.kind, s.SpanKind)
			attrs := attrsOf(s.Attributes)
			assert.Equal(t, tt.name, attrs["rpc.method"])
			if tt.system == "" {
				assert.NotContains(t, attrs, "rpc.system.name")
			} else {
				assert.Equal(t, tt.system, attrs["rpc.system.name"])
			}
			assert.Equal(t, "OK", attrs["rpc.response.status_code"])
		})
	}
}

// A call through Tracing allocates only what the SDK does for the span:
// as much as starting and ending the same span by hand. Not parallel:
// AllocsPerRun counts the allocations of the whole process.
func TestTracingAddsNoAllocation(t *testing.T) {
	tp, _ := newTracer(t)
	ep := kit.Intercept(echo, kit.Call{Service: "Test", Method: "Sum", Transport: kit.GRPC}, observe.Tracing(observe.TracerProvider(tp)))
	tracer := tp.Tracer(observe.ScopeName)
	start := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
		attribute.String("rpc.method", "Test/Sum"), attribute.String("rpc.system.name", "grpc"))}
	end := []attribute.KeyValue{attribute.String("rpc.response.status_code", "OK")}
	ctx := context.Background()
	req := sumReq{B: "x"}
	byHand := testing.AllocsPerRun(200, func() {
		_, span := tracer.Start(ctx, "Test/Sum", start...)
		span.SetAttributes(end...)
		span.End()
	})
	through := testing.AllocsPerRun(200, func() { _, _ = ep(ctx, req) })
	assert.Equal(t, byHand, through)
}

func TestHooksCarryTraceContext(t *testing.T) {
	t.Parallel()
	tp, _ := newTracer(t)
	ctx, span := tp.Tracer("test").Start(context.Background(), "client")
	t.Cleanup(func() { span.End() }) // after the parallel subtests
	sc := span.SpanContext()

	t.Run("http", func(t *testing.T) {
		t.Parallel()
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
		t.Parallel()
		var md metadata.MD
		observe.ContextToGRPC()(ctx, &md)
		require.Len(t, md.Get("traceparent"), 1)
		got := trace.SpanContextFromContext(observe.GRPCToContext()(context.Background(), md))
		assert.Equal(t, sc.TraceID(), got.TraceID())
		assert.Equal(t, sc.SpanID(), got.SpanID())
		assert.True(t, got.IsRemote())
	})
	t.Run("another propagator", func(t *testing.T) {
		t.Parallel()
		r, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://example.test", nil)
		require.NoError(t, err)
		observe.ContextToHTTP(observe.Propagator(propagation.Baggage{}))(ctx, r)
		assert.Empty(t, r.Header.Get("traceparent"))
	})
	t.Run("no trace context", func(t *testing.T) {
		t.Parallel()
		r, err := http.NewRequest(http.MethodGet, "http://example.test", nil)
		require.NoError(t, err)
		got := trace.SpanContextFromContext(observe.HTTPToContext()(context.Background(), r))
		assert.False(t, got.IsValid())
	})
}

// A trace crosses a real httpx or grpcx client and server: the server's
// span is the child of the client's, which is the child of the caller's,
// and both sides are measured with the transport as rpc.system.name. The
// same two interceptors serve the client and the server; each learns its
// side and transport from the Call its transport gives it.
func TestTraceAcrossTransports(t *testing.T) {
	t.Parallel()
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
	method := kit.Call{Service: "typedkit.test.Test", Method: "Sum"}
	for _, transport := range []string{kit.HTTP.String(), kit.GRPC.String()} {
		for _, oc := range outcomes {
			t.Run(transport+"/"+oc.name, func(t *testing.T) {
				t.Parallel()
				tp, exp := newTracer(t)
				mp, reader := newMeter(t)
				opts := []observe.Option{observe.TracerProvider(tp), observe.MeterProvider(mp)}
				ics := []kit.Interceptor{observe.Tracing(opts...), observe.Metrics(opts...)}

				var client kit.Endpoint[sumReq, sumResp]
				switch transport {
				case kit.HTTP.String():
					client = serveHTTP(t, echo,
						[]httpx.ServerOption{httpx.ServerBefore(observe.HTTPToContext()), httpx.ServerCall(method), httpx.ServerInterceptors(ics...)},
						httpx.ClientBefore(observe.ContextToHTTP()), httpx.ClientCall(method), httpx.ClientInterceptors(ics...))
				case kit.GRPC.String():
					client = serveGRPC(t, echo,
						[]grpcx.ServerOption{grpcx.ServerBefore(observe.GRPCToContext()), grpcx.ServerCall(method), grpcx.ServerInterceptors(ics...)},
						grpcx.ClientBefore(observe.ContextToGRPC()), grpcx.ClientInterceptors(ics...))
				}

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
					assert.Equal(t, "typedkit.test.Test/Sum", s.Name)
					attrs := attrsOf(s.Attributes)
					assert.Equal(t, "typedkit.test.Test/Sum", attrs["rpc.method"])
					assert.Equal(t, transport, attrs["rpc.system.name"])
					assert.Equal(t, oc.status, attrs["rpc.response.status_code"])
				}
				assert.Equal(t, oc.server, ss.Status.Code)
				assert.Equal(t, oc.client, cs.Status.Code)

				rm := collect(t, reader)
				want := map[string]int64{key("rpc.method=typedkit.test.Test/Sum", "rpc.system.name="+transport): 1}
				assert.Equal(t, want, points(rm, observe.ServerRequests))
				assert.Equal(t, want, points(rm, observe.ClientRequests))
			})
		}
	}
}
