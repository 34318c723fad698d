// Package observe measures and traces typed endpoints with OpenTelemetry.
//
// It depends on the OpenTelemetry API only (go.opentelemetry.io/otel, its
// metric and trace packages); a program chooses the SDK and exporters and
// hands their providers over with [WithMeterProvider] and
// [WithTracerProvider], or sets the global ones.
//
// # Metrics
//
// [Metrics] is a middleware that records, per endpoint:
//
//	rpc.server.call.duration   histogram, s   rpc.method, rpc.system.name, rpc.response.status_code, error.type
//	typedkit.server.requests   counter        rpc.method, rpc.system.name
//	typedkit.server.errors     counter        rpc.method, rpc.system.name, rpc.response.status_code
//
// and, with [AsClient], the rpc.client.call.duration, typedkit.client.requests
// and typedkit.client.errors of the same shape. The duration histogram is
// the one of the OpenTelemetry semantic conventions for RPC (v1.43.0), with
// their units and bucket boundaries; the conventions name no counters, so
// the two counters are typedkit's own. rpc.method is the endpoint's name,
// rpc.system.name its transport ([TransportHTTP], [TransportGRPC]) where it
// is known, and rpc.response.status_code the gRPC name of the error's kit
// code ([StatusName]): "OK", "NOT_FOUND", "UNAUTHENTICATED".
//
// Attribute sets and measurement options are built with the middleware, so
// a call allocates nothing of its own. With the no-op providers of
// go.opentelemetry.io/otel/metric/noop and go.opentelemetry.io/otel/trace/noop
// the middlewares return the endpoint unchanged.
//
// # Tracing
//
// [Tracing] is a middleware that runs each call in a span, with its status
// and code set from the kit error. Four hooks carry W3C Trace Context
// across the wire, so one trace runs from a client through a server over
// either transport:
//
//	client: httpx.ClientBefore(observe.ContextToHTTP())   grpcx.ClientBefore(observe.ContextToGRPC())
//	server: httpx.ServerBefore(observe.HTTPToContext())   grpcx.ServerBefore(observe.GRPCToContext())
//
// The server hooks also tell the middlewares which transport a call came
// over, so one endpoint served over HTTP and gRPC is labelled by each.
//
// # Putting it together
//
// [Middleware] chains tracing and metrics for one endpoint:
//
//	getUser := observe.Middleware[GetUserRequest, User]("UserService/GetUser",
//		observe.WithMeterProvider(mp), observe.WithTracerProvider(tp))(getUserEndpoint)
//
// On a client, the same with [AsClient] around the client's endpoint, and
// the client hook that sends the span:
//
//	c := httpx.NewClient(http.MethodGet, u, enc, dec, httpx.ClientBefore(observe.ContextToHTTP()))
//	getUser := observe.Middleware[GetUserRequest, User]("UserService/GetUser",
//		observe.AsClient(), observe.WithTransport(observe.TransportHTTP))(c.Endpoint())
package observe
