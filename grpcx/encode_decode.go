package grpcx

import "context"

// DecodeRequestFunc turns a wire request message into the endpoint's
// request. An error it returns is answered as InvalidArgument unless it
// carries another kit code.
type DecodeRequestFunc[Wire, Req any] func(ctx context.Context, wire Wire) (Req, error)

// EncodeResponseFunc turns the endpoint's response into a wire reply
// message.
type EncodeResponseFunc[Resp, Wire any] func(ctx context.Context, resp Resp) (Wire, error)

// EncodeRequestFunc turns a client's request into a wire request message.
type EncodeRequestFunc[Req, Wire any] func(ctx context.Context, req Req) (Wire, error)

// DecodeResponseFunc turns a wire reply message into a client's response.
// The reply is a pointer to a message the client allocated for the call.
type DecodeResponseFunc[Reply, Resp any] func(ctx context.Context, reply *Reply) (Resp, error)

// Identity is a decoder or encoder for endpoints whose request or response
// is the wire message itself: it returns its argument.
func Identity[T any](_ context.Context, v T) (T, error) { return v, nil }
