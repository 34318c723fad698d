package grpcx

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/genrt"
)

// Client calls one unary gRPC method. Req and Resp are the endpoint's types,
// WireReq the request message type (usually a pointer such as
// *pb.HelloRequest) and Reply the reply message type itself (such as
// pb.HelloReply): the client allocates a new(Reply) for each call, so it
// needs no reflection. Build it with [NewClient]. It is safe for concurrent
// use.
type Client[Req, WireReq, Reply, Resp any] struct {
	cc     grpc.ClientConnInterface
	method string
	enc    EncodeRequestFunc[Req, WireReq]
	dec    DecodeResponseFunc[Reply, Resp]
	ep     kit.Endpoint[Req, Resp]
	clientConfig
}

type clientConfig struct {
	call         kit.Call
	interceptors []kit.Interceptor
	before       []ClientRequestFunc
	after        []ClientResponseFunc
	finalizers   []ClientFinalizerFunc
	callOptions  []grpc.CallOption
	idempotent   bool
}

// A ClientOption configures a Client. Options are not generic.
type ClientOption func(*clientConfig)

// ClientBefore adds hooks that run before each call and may add to its
// outgoing metadata, in the order given.
func ClientBefore(before ...ClientRequestFunc) ClientOption {
	return func(c *clientConfig) { c.before = append(c.before, before...) }
}

// ClientAfter adds hooks that run after a reply arrives, with its header and
// trailer metadata, in the order given.
func ClientAfter(after ...ClientResponseFunc) ClientOption {
	return func(c *clientConfig) { c.after = append(c.after, after...) }
}

// ClientFinalizer adds hooks that run at the end of every call.
func ClientFinalizer(f ...ClientFinalizerFunc) ClientOption {
	return func(c *clientConfig) { c.finalizers = append(c.finalizers, f...) }
}

// ClientCallOptions adds grpc.CallOptions to every call.
func ClientCallOptions(opts ...grpc.CallOption) ClientOption {
	return func(c *clientConfig) { c.callOptions = append(c.callOptions, opts...) }
}

// NewClient returns a Client that calls the method (its full name,
// "/package.Service/Method") over cc, encoding requests with enc and
// decoding replies with dec. Every type argument is inferred from enc and
// dec:
//
//	grpcx.NewClient(conn, "/helloworld.Greeter/SayHello",
//		func(_ context.Context, r HelloRequest) (*pb.HelloRequest, error) { return &pb.HelloRequest{Name: r.Name}, nil },
//		func(_ context.Context, r *pb.HelloReply) (HelloReply, error) { return HelloReply{Message: r.GetMessage()}, nil },
//	).Endpoint()
func NewClient[Req, WireReq, Reply, Resp any](cc grpc.ClientConnInterface, method string, enc EncodeRequestFunc[Req, WireReq], dec DecodeResponseFunc[Reply, Resp], opts ...ClientOption) *Client[Req, WireReq, Reply, Resp] {
	c := &Client[Req, WireReq, Reply, Resp]{cc: cc, method: method, enc: enc, dec: dec}
	for _, o := range opts {
		o(&c.clientConfig)
	}
	call := c.call
	if call.Service == "" && call.Method == "" {
		call.Service, call.Method = splitMethod(method)
	}
	call.Transport, call.Side = kit.GRPC, kit.ClientSide
	call.Idempotent = c.idempotent
	if _, ok := any(*new(WireReq)).(genrt.WireMessage); ok {
		// The call names its codec, so it needs no process-wide
		// registration and no other package's codec can take its place.
		c.callOptions = append(c.callOptions[:len(c.callOptions):len(c.callOptions)], grpc.ForceCodecV2(genrt.Codec()))
	}
	c.ep = kit.Intercept(c.do, call, c.interceptors...)
	return c
}

// Endpoint returns the endpoint that makes the call, wrapped in the
// client's interceptors ([ClientInterceptors]). Its errors are *kit.Error
// values with the code, message and violations the server sent (see
// [FromStatus]).
func (c *Client[Req, WireReq, Reply, Resp]) Endpoint() kit.Endpoint[Req, Resp] { return c.ep }

func (c *Client[Req, WireReq, Reply, Resp]) do(ctx context.Context, req Req) (resp Resp, err error) {
	if len(c.finalizers) > 0 {
		defer func() {
			for _, f := range c.finalizers {
				f(ctx, err)
			}
		}()
	}

	wreq, err := c.enc(ctx, req)
	if err != nil {
		if !hasKitCode(err) {
			err = kit.WrapError(kit.Internal, fmt.Errorf("encode request: %w", err), "")
		}
		return resp, err
	}

	ctx = c.runBefore(ctx)

	opts := c.callOptions
	var header, trailer metadata.MD
	if len(c.after) > 0 {
		opts = append(opts[:len(opts):len(opts)], grpc.Header(&header), grpc.Trailer(&trailer))
	}

	reply := new(Reply)
	if err := c.cc.Invoke(ctx, c.method, wreq, reply, opts...); err != nil {
		kerr := FromStatus(err)
		switch {
		case notProcessed(err):
			kerr = kit.WithRetrySafety(kerr, kit.RetryNotProcessed)
		case c.idempotent:
			kerr = kit.WithRetrySafety(kerr, kit.RetryIdempotent)
		}
		return resp, kerr
	}

	for _, f := range c.after {
		ctx = f(ctx, header, trailer)
	}

	resp, err = c.dec(ctx, reply)
	if err != nil {
		if !hasKitCode(err) {
			err = kit.WrapError(kit.Internal, fmt.Errorf("decode reply: %w", err), "")
		}
		return resp, err
	}
	return resp, nil
}

// runBefore runs the before hooks on a copy of ctx's outgoing metadata and
// returns ctx with the metadata they made.
func (c *clientConfig) runBefore(ctx context.Context) context.Context {
	if len(c.before) == 0 {
		return ctx
	}
	md, ok := metadata.FromOutgoingContext(ctx)
	if ok {
		md = md.Copy()
	} else {
		md = metadata.MD{}
	}
	for _, f := range c.before {
		ctx = f(ctx, &md)
	}
	return metadata.NewOutgoingContext(ctx, md)
}

// notProcessed reports whether a call's error says the server did not
// process it: a status that carries a RetryInfo detail (the answer of a
// grpcx server's rate limit or open breaker, see [ToStatus]), or an
// UNAVAILABLE grpc-go made because the connection could not be made (its
// "connection error: desc = \"transport: Error while dialing" message; a
// server that sends that text itself would be believed). grpc-go
// itself retries, transparently, calls that never left the client or that
// a draining server refused.
func notProcessed(err error) bool {
	st, ok := wrappedStatus(err)
	if !ok {
		return false
	}
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.RetryInfo); ok {
			return true
		}
	}
	// The message grpc-go itself gives a call whose connection could not
	// be made. A server could send the same text; only grpc-go's exact
	// prefix is taken, to make that unlikely.
	return st.Code() == codes.Unavailable &&
		strings.HasPrefix(st.Message(), `connection error: desc = "transport: Error while dialing`)
}

// hasKitCode reports whether err is or wraps a *kit.Error or a
// [kit.Coder], whose code (and message) a client passes on as they are.
func hasKitCode(err error) bool {
	var ke *kit.Error
	var kc kit.Coder
	return errors.As(err, &ke) || errors.As(err, &kc)
}
