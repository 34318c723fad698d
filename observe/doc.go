// Package observe measures and traces calls with OpenTelemetry, as
// interceptors that serve every method of a service, on servers and
// clients alike.
//
// It depends on the OpenTelemetry API only (go.opentelemetry.io/otel, its
// metric and trace packages); a program chooses the SDK and exporters and
// hands their providers over with [MeterProvider] and
// [TracerProvider], or sets the global ones.
//
// # Metrics
//
// [Metrics] is an interceptor that records, per method:
//
//	rpc.server.call.duration   histogram, s   rpc.method, rpc.system.name, rpc.response.status_code, error.type
//	typedkit.server.requests   counter        rpc.method, rpc.system.name
//	typedkit.server.errors     counter        rpc.method, rpc.system.name, rpc.response.status_code
//
// and, for the calls of a client, the rpc.client.call.duration,
// typedkit.client.requests and typedkit.client.errors of the same shape.
// The duration histogram is the one of the OpenTelemetry semantic
// conventions for RPC (v1.43.0), with their units and bucket boundaries;
// the conventions name no counters, so the two counters are typedkit's
// own. Every attribute but the outcome comes from the kit.Call the
// interceptor is given for each method: rpc.method is the fully qualified
// method, "Service/Method" (the conventions of v1.43.0 have no separate
// rpc.service), rpc.system.name the transport (the kit.Transport's name: "http",
// "grpc", "mcp"; none for an in-process call), and the side picks
// the server or client instruments. rpc.response.status_code is the gRPC
// name of the error's kit code ([StatusName]): "OK", "NOT_FOUND",
// "UNAUTHENTICATED".
//
// The attribute sets and measurement options of a method are built when
// the interceptor is called for it, once, as the endpoints are built, so a
// call allocates nothing of its own. With the no-op providers of
// go.opentelemetry.io/otel/metric/noop and go.opentelemetry.io/otel/trace/noop
// the interceptors add nothing to the chain.
//
// [HTTPServerMetrics] and [GRPCServerMetrics] are transport finalizers: they
// see every request a server finished, also those refused before the
// endpoint.
//
// # Tracing
//
// [Tracing] is an interceptor that runs each call in a span named after
// the method, of kind server or client as the call's side says, with its
// status and code set from the kit error. Four hooks carry W3C Trace
// Context across the wire, so one trace runs from a client through a
// server over either transport:
//
//	client: httpx.ClientBefore(observe.ContextToHTTP())   grpcx.ClientBefore(observe.ContextToGRPC())
//	server: httpx.ServerBefore(observe.HTTPToContext())   grpcx.ServerBefore(observe.GRPCToContext())
//
// # Putting it together
//
// The same two interceptors serve a server's methods and a client's, the
// tracing first, so the span is in the context the measurements are made
// with (for exemplars) and its duration includes theirs:
//
//	telemetry := []kit.Interceptor{
//		observe.Tracing(observe.TracerProvider(tp)),
//		observe.Metrics(observe.MeterProvider(mp)),
//	}
//	handler := usersvc.NewHTTPHandler(endpoints,
//		httpx.ServerBefore(observe.HTTPToContext()), httpx.ServerInterceptors(telemetry...))
//	client, err := usersvc.NewHTTPClient(base,
//		httpx.ClientBefore(observe.ContextToHTTP()), httpx.ClientInterceptors(telemetry...))
package observe
