// Package grpcx binds typed endpoints to gRPC methods and makes typed
// endpoints of gRPC calls.
//
// # Servers
//
// A [Server] adapts a kit.Endpoint[Req, Resp] to the signature of a method
// of a generated XServer interface, decoding from and encoding to the wire
// message types. The glue for each method is one line with no type
// assertion:
//
//	type greeter struct {
//		pb.UnimplementedGreeterServer
//		sayHello *grpcx.Server[*pb.HelloRequest, HelloRequest, HelloReply, *pb.HelloReply]
//	}
//
//	func (g *greeter) SayHello(ctx context.Context, r *pb.HelloRequest) (*pb.HelloReply, error) {
//		return g.sayHello.Serve(ctx, r)
//	}
//
// For each call a Server runs the before hooks ([ServerBefore]) with the
// incoming metadata, the decoder, the endpoint, the after hooks
// ([ServerAfter]) that may set header and trailer metadata, the encoder and
// the finalizers ([ServerFinalizer]). A failure at any step, a response
// whose Failed method returns an error (kit.Failer), or a panic goes to the
// error handler and is returned as a gRPC status: the kit code becomes the
// status code (the numbers are the same), the public message the status
// message, and field violations an errdetails.BadRequest detail. An error's
// internal cause is never sent. A status error the endpoint returns passes
// through unchanged.
//
// # Health and shutdown
//
// [RegisterHealth] registers the standard health service with its
// statuses following a health.Health, the model whose /livez and /readyz
// handlers serve HTTP probes. [Serve] serves a grpc.Server until its
// context ends, then marks the model draining ([ServeHealth]), so the
// health service reports NOT_SERVING at once, stops accepting calls and
// waits for those in flight up to a drain timeout.
//
// # Clients
//
// [NewClient] makes an endpoint of a unary call over any
// grpc.ClientConnInterface. The reply is allocated as a new value of the
// reply message type, without reflection. A status error from the server
// becomes a *kit.Error with the same code, message and violations, so a
// NotFound raised by a service is a NotFound at its caller.
//
// # Streams
//
// [ServerStreamHandler], [ClientStreamHandler] and [BidiStreamHandler]
// are the handlers of grpc.StreamDescs that serve the stream endpoints of
// package kit, and [ServerStreamClient], [ClientStreamClient] and
// [BidiStreamClient] call such methods; a [Binder] ties each message to
// one value for the whole stream, so moving a message allocates only what
// the codec does. kitgen writes these registrations and clients.
package grpcx
