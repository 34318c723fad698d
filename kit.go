// Package kit is the core of typedkit, a toolkit for Go services with
// go-kit's architecture, typed end to end.
//
// # The model
//
// A service is a Go interface. Each of its methods becomes an [Endpoint]: a
// function from a typed request to a typed response,
//
//	type Endpoint[Req, Resp any] func(ctx context.Context, req Req) (Resp, error)
//
// Behaviour that does not depend on the transport or on the values —
// logging, timeouts, panic recovery, rate limits, circuit breakers,
// metrics, tracing, authentication — is an [Interceptor]: one function that
// wraps every method of a service, on the server and the client, over every
// transport. It sees the [Call] (service, method, transport, side, whether
// the method is idempotent), not the request, so one list serves every
// method and a call through it allocates nothing:
//
//	stack := []kit.Interceptor{kit.Logging(logger), kit.Recover(logger), kit.Timeout(time.Second)}
//	eps := usersvc.NewEndpoints(svc, usersvc.Middlewares{}, stack...)
//
// [Intercept] applies interceptors to a single endpoint. What reads the
// request — validation, a bulkhead key, a fallback value, authorization of
// one resource — is a typed [Middleware], a function from an endpoint to an
// endpoint of the same types; [Chain] composes middlewares with the first
// outermost, as go-kit does.
//
// Transports serve endpoints and make endpoints of remote calls, so a client
// is an endpoint too and the same middleware works on both sides. A type
// mistake anywhere in this path is a compile error; no request or response
// is boxed into an interface value.
//
// # Streams
//
// A method that streams has an iterator in its signature, and its
// endpoint is a [ServerStreamEndpoint], a [ClientStreamEndpoint] or a
// [BidiStreamEndpoint]:
//
//	Watch(ctx context.Context, req WatchRequest) (iter.Seq2[Event, error], error)
//	Upload(ctx context.Context, chunks iter.Seq2[Chunk, error]) (Summary, error)
//	Chat(ctx context.Context, in iter.Seq2[Message, error]) (iter.Seq2[Reply, error], error)
//
// The same interceptors wrap them ([InterceptServerStream] and its kin):
// a stream is one call to them, from its open to its end, and
// [Call.OnMessage] tells them of each message. Both transports serve and
// call all three kinds.
//
// # Errors
//
// One error model serves every transport. An [*Error] carries a [Code]
// (gRPC's codes), a public message and an internal cause. Transports write
// the code and the public message and never the cause; clients turn them
// back into an *Error, so a NotFound raised by a service arrives as NotFound
// at its caller over HTTP and gRPC alike. [CodeOf] classifies any error,
// [MessageOf] gives the text a caller may see. A response type may carry a
// business error of its own by implementing [Failer]; transports honour it.
//
// # Packages
//
//   - httpx: a typed net/http server (an http.Handler for Go 1.22 ServeMux
//     patterns) and client, with JSON codecs and safe defaults.
//   - grpcx: typed gRPC server bindings and clients, with errors mapped to
//     and from gRPC status.
//   - breaker: circuit breakers as middleware (sony/gobreaker, hystrix-go,
//     any Allow/Success/Failure breaker, an adaptive client-side throttle)
//     and fallback.
//   - limit: rate, in-flight and per-key (bulkhead) limits as middleware.
//   - observe: OpenTelemetry metrics and tracing middleware, with trace
//     context carried over both transports.
//   - auth: HTTP Basic and bearer JWT authentication middleware and hooks.
//   - discovery: instancers, a typed endpointer, balancers and retry, with a
//     Consul backend in discovery/consul.
//   - codegen: the kitgen generator, which turns a service interface into
//     its endpoints, HTTP and gRPC glue (a .proto and protobuf codecs
//     included, no protoc needed) and an OpenAPI document, and scaffolds
//     new services (kitgen new).
//
// Requests that check themselves ([Validator]) are validated by [Validate]
// before the endpoint runs; both transports carry the field violations of
// an InvalidArgument error to their clients.
package kit
