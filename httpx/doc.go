// Package httpx serves typed endpoints over net/http and calls them from
// typed clients.
//
// A [Server] is an http.Handler around a kit.Endpoint[Req, Resp]. It fits
// Go 1.22 ServeMux patterns, and a decoder reads path values with
// r.PathValue:
//
//	mux := http.NewServeMux()
//	mux.Handle("GET /users/{id}", httpx.NewServer(getUser, decodeGetUser, httpx.EncodeJSONResponse))
//	mux.Handle("POST /users", httpx.NewServer(createUser, httpx.DecodeJSONRequest, httpx.EncodeJSONResponse))
//
// # The life of a request
//
// For each request a Server runs, in order:
//
//  1. the before hooks ([ServerBefore]), which may put values from the
//     request into the context;
//  2. the guards ([ServerGuard]), which may refuse the request before its
//     body is read: authentication (auth.HTTPGuard), limits;
//  3. the decoder, with the request body limited to [DefaultMaxBodyBytes]
//     (see [ServerMaxBodyBytes]) and a gzip Content-Encoding decoded;
//  4. the endpoint, with the request's context, so a client that goes away
//     cancels the work;
//  5. the after hooks ([ServerAfter]), which may set response headers;
//  6. the encoder;
//  7. the finalizers ([ServerFinalizer]), with the status, the bytes
//     written, the duration and the error.
//
// An error at any step, a response whose Failed method returns an error
// (kit.Failer), or a panic skips to the error handler ([ServerErrorHandler],
// for logging) and the error encoder ([ServerErrorEncoder]), then the
// finalizers. The default error encoder maps the error's kit code to an
// HTTP status ([StatusCode]) and writes an RFC 9457 problem body ([Problem])
// with the code and the public message; an error's internal cause is never
// written, and an error that is not a *kit.Error (a plain error from a
// decoder or a Validate method) is sent with its code's default message
// only ([kit.Conceal]). An error after the status was sent aborts the
// response, so the client never takes a cut body for a success.
//
// # Safe defaults
//
// A body larger than the limit answers 413 (after decompression, for a
// gzip body); a decoder given another Content-Type answers 415, and so
// does a Content-Encoding other than gzip; malformed input answers 400 with
// a message that says what was wrong and where; a body not received in
// time answers 408; a panic in any hook answers 500 and the server goes
// on serving. [RouteProblems] makes ServeMux's own 404 and 405 problem
// bodies too. Rejections that know when to come back (rate limits, open
// breakers: [kit.RetryAfterOf]) carry Retry-After.
//
// # Codecs
//
// JSON is the default ([DecodeJSONRequest], [EncodeJSONResponse]); XML
// ([DecodeXMLRequest], [EncodeXMLResponse]) uses encoding/xml. A
// [RawCodec] makes the four codec functions of a content type and a pair of
// marshal and unmarshal functions, for protobuf or MessagePack bodies.
// [DecodeFormRequest] and [DecodeMultipartRequest] read forms into a typed
// request. Every decoder answers bad input alike: 413 past the body limit,
// 415 for another Content-Type, 400 with a message that says what was
// wrong.
//
// [DecodeByContentType] picks a decoder by the request's Content-Type and
// [NegotiateResponse] an encoder by its Accept header (q-values, type/*
// and */* included), the first when the client states no preference and
// 406 when it accepts none: a route that reads and answers JSON or XML
// uses DecodeByContentType(JSONDecoder(), XMLDecoder()) and
// NegotiateResponse(JSONEncoder(), XMLEncoder()). The encoders read the
// Accept header of the request through the ResponseWriter the [Server]
// gives them, so they need no hook, and [NegotiateContentType] serves
// encoders that negotiate by themselves. Error bodies are always JSON
// problems.
//
// # Health and shutdown
//
// A health.Health, the health model the gRPC health service of
// grpcx.RegisterHealth follows too, serves /livez and /readyz: ready while
// its named checks pass and it is not draining. [Serve] serves an
// http.Server with limits a slow or idle client cannot hold open (header,
// body, write and idle timeouts, a 64 KiB header limit: see
// [DefaultReadHeaderTimeout] and the constants beside it) until its
// context ends, then marks the model draining ([ServeHealth]), goes
// on serving for the [ServeReadinessDelay] with "Connection: close", stops
// accepting connections and waits for requests in flight up to the drain
// timeout, so a service's main is:
//
//	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//	defer stop()
//	g, ctx := errgroup.WithContext(ctx)
//	g.Go(func() error { return httpx.Serve(ctx, httpSrv, httpLis, httpx.ServeHealth(health)) })
//	g.Go(func() error { return grpcx.Serve(ctx, grpcSrv, grpcLis, grpcx.ServeHealth(health)) })
//	return g.Wait()
//
// # Clients
//
// A [Client] makes an endpoint of a remote call. Non-2xx answers are
// decoded back into *kit.Error values with the code and message the server
// sent, so a NotFound raised by the service is a NotFound at the caller.
// Connection failures are Unavailable errors. Response bodies are always
// drained and closed, so connections are reused.
//
// # Streams
//
// [ServerStreamHandler], [ClientStreamHandler] and [BidiStreamHandler]
// serve the stream endpoints of package kit: a server stream as
// Server-Sent Events or NDJSON (by Accept), a client stream as an NDJSON
// request body read as it arrives, a bidirectional one as both at once,
// full duplex. [ServerStreamClient], [ClientStreamClient] and
// [BidiStreamClient] call them. An error before a stream opened is an
// ordinary error response; one after it is the stream's last message.
package httpx
