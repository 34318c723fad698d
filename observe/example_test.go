package observe_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/observe"
)

// The metrics of a method, read back through a manual reader. The
// attributes come from the method's Call.
func ExampleMetrics() {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(ctx) }()

	getUser := func(_ context.Context, id string) (string, error) {
		if id != "42" {
			return "", kit.NewError(kit.NotFound, "no such user")
		}
		return "Ada", nil
	}
	call := kit.Call{Service: "UserService", Method: "GetUser", Transport: kit.HTTP}
	ep := kit.Intercept(getUser, call, observe.Metrics(observe.MeterProvider(mp)))
	for _, id := range []string{"42", "42", "7"} {
		_, _ = ep(ctx, id)
	}

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(ctx, &rm)
	var lines []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch data := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range data.DataPoints {
					lines = append(lines, fmt.Sprintf("%s {%s} %d", m.Name, p.Attributes.Encoded(attribute.DefaultEncoder()), p.Value))
				}
			case metricdata.Histogram[float64]:
				for _, p := range data.DataPoints {
					lines = append(lines, fmt.Sprintf("%s {%s} count=%d", m.Name, p.Attributes.Encoded(attribute.DefaultEncoder()), p.Count))
				}
			}
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// rpc.server.call.duration {error.type=NOT_FOUND,rpc.method=UserService/GetUser,rpc.response.status_code=NOT_FOUND,rpc.system.name=http} count=1
	// rpc.server.call.duration {rpc.method=UserService/GetUser,rpc.response.status_code=OK,rpc.system.name=http} count=2
	// typedkit.server.errors {rpc.method=UserService/GetUser,rpc.response.status_code=NOT_FOUND,rpc.system.name=http} 1
	// typedkit.server.requests {rpc.method=UserService/GetUser,rpc.system.name=http} 3
}

type HelloRequest struct {
	Name string `json:"name"`
}

type HelloReply struct {
	Message string `json:"message"`
}

// One trace from an httpx client to an httpx server, with the same Tracing
// interceptor on both: the client span's context travels in the
// traceparent header, and the server's span is its child.
func ExampleHTTPToContext() {
	ctx := context.Background()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer func() { _ = tp.Shutdown(ctx) }()

	hello := func(_ context.Context, r HelloRequest) (HelloReply, error) {
		return HelloReply{Message: "Hello, " + r.Name}, nil
	}
	tracing := observe.Tracing(observe.TracerProvider(tp))
	method := kit.Call{Service: "Greeter", Method: "SayHello"}
	srv := httptest.NewServer(httpx.NewServer(hello, httpx.DecodeJSONRequest, httpx.EncodeJSONResponse,
		httpx.ServerBefore(observe.HTTPToContext()), httpx.ServerCall(method), httpx.ServerInterceptors(tracing)))
	defer srv.Close()

	u, _ := url.Parse(srv.URL)
	client := httpx.NewClient[HelloRequest, HelloReply](http.MethodPost, u, httpx.EncodeJSONRequest, httpx.DecodeJSONResponse,
		httpx.ClientHTTPClient(srv.Client()), httpx.ClientBefore(observe.ContextToHTTP()),
		httpx.ClientCall(method), httpx.ClientInterceptors(tracing)).Endpoint()

	reply, err := client(ctx, HelloRequest{Name: "Ada"})
	fmt.Println(reply.Message, err)

	spans := exp.GetSpans() // in the order they ended: the server's first
	serverSpan, clientSpan := spans[0], spans[1]
	fmt.Println(serverSpan.Name, serverSpan.SpanKind, "child of", clientSpan.SpanKind,
		serverSpan.Parent.SpanID() == clientSpan.SpanContext.SpanID())
	fmt.Println("one trace:", serverSpan.SpanContext.TraceID() == clientSpan.SpanContext.TraceID())
	// Output:
	// Hello, Ada <nil>
	// Greeter/SayHello server child of client true
	// one trace: true
}
