package grpcx

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/genrt"
	"github.com/typedkit/kit/internal/failer"
	"github.com/typedkit/kit/internal/hook"
)

// Server serves one typed endpoint as a unary gRPC method: WireReq and
// WireResp are the method's message types, Req and Resp the endpoint's.
// Build it with [NewServer] and call [Server.Serve] from the method of the
// generated server interface. It is safe for concurrent use.
type Server[WireReq, Req, Resp, WireResp any] struct {
	ep     kit.Endpoint[Req, Resp]
	dec    DecodeRequestFunc[WireReq, Req]
	enc    EncodeResponseFunc[Resp, WireResp]
	failed func(Resp) error
	serverConfig
}

type serverConfig struct {
	call         kit.Call
	interceptors []kit.Interceptor
	before       []ServerRequestFunc
	guards       []GuardFunc
	after        []ServerResponseFunc
	finalizers   []ServerFinalizerFunc
	errorHandler kit.ErrorHandler
}

// A ServerOption configures a Server. Options are not generic.
type ServerOption func(*serverConfig)

// ServerBefore adds hooks that run with the incoming metadata before the
// request is decoded, in the order given.
func ServerBefore(before ...ServerRequestFunc) ServerOption {
	return func(c *serverConfig) { c.before = append(c.before, before...) }
}

// ServerGuard adds guards that run after the before hooks and before the
// request is decoded, in the order given: the place for what must see every
// call and may refuse it before any work, such as authentication
// (auth.GRPCGuard) or a rate limit. A guard's error is the call's status
// and is seen by the error handler and the finalizers; a *kit.Error or a
// gRPC status anywhere in its chain keeps its code and message, a
// [kit.Coder] or a context's error its code, and any other error is a
// [kit.Conceal]ed PermissionDenied.
func ServerGuard(guards ...GuardFunc) ServerOption {
	return func(c *serverConfig) { c.guards = append(c.guards, guards...) }
}

// ServerAfter adds hooks that run after the endpoint succeeds, in the order
// given. The header and trailer metadata they set are sent with the reply.
func ServerAfter(after ...ServerResponseFunc) ServerOption {
	return func(c *serverConfig) { c.after = append(c.after, after...) }
}

// ServerFinalizer adds hooks that run at the end of every call.
func ServerFinalizer(f ...ServerFinalizerFunc) ServerOption {
	return func(c *serverConfig) { c.finalizers = append(c.finalizers, f...) }
}

// ServerErrorHandler sets the handler that sees every error before it is
// returned as a status. The default is kit.LogServerFaults(nil).
func ServerErrorHandler(h kit.ErrorHandler) ServerOption {
	return func(c *serverConfig) { c.errorHandler = h }
}

// newServerConfig returns the defaults of a server with opts applied.
func newServerConfig(opts []ServerOption) *serverConfig {
	cfg := &serverConfig{errorHandler: kit.LogServerFaults(nil)}
	for _, o := range opts {
		o(cfg)
	}
	return cfg
}

// NewServer returns a Server that decodes wire requests with dec, calls ep
// and encodes its responses with enc. Every type argument is inferred from
// the three functions.
func NewServer[WireReq, Req, Resp, WireResp any](ep kit.Endpoint[Req, Resp], dec DecodeRequestFunc[WireReq, Req], enc EncodeResponseFunc[Resp, WireResp], opts ...ServerOption) *Server[WireReq, Req, Resp, WireResp] {
	s := &Server[WireReq, Req, Resp, WireResp]{
		ep:           ep,
		dec:          dec,
		enc:          enc,
		failed:       failer.Func[Resp](),
		serverConfig: *newServerConfig(opts),
	}
	s.ep = kit.Intercept(ep, s.serverConfig.callOf(), s.interceptors...)
	return s
}

// Serve handles one call. It has the signature of a unary method of a
// generated server interface, so the method's body is a call to it. Errors
// are returned as gRPC status errors; a panic is returned as Internal and
// logged by the error handler with its stack.
//
// A handler of protoc-gen-go-grpc reads the request before it calls the
// method, so a request grpc-go cannot receive or unmarshal never reaches
// Serve, its hooks or its finalizers. The registrations kitgen generates
// serve through [MethodHandler], which hands such a request to the server
// with its error.
func (s *Server[WireReq, Req, Resp, WireResp]) Serve(ctx context.Context, wreq WireReq) (wresp WireResp, err error) {
	return s.serve(ctx, wreq, nil)
}

// serve is Serve for a request whose wire decoding failed with wireErr, or
// succeeded when wireErr is nil: the before hooks and guards run first, so
// a refused caller learns nothing about the request's shape, and the
// finalizers see every call.
//
// Every hook runs under recovery: a panic in any of them, the decoder, the
// endpoint or the encoder is an Internal status and the server stays up.
func (s *Server[WireReq, Req, Resp, WireResp]) serve(ctx context.Context, wreq WireReq, wireErr error) (wresp WireResp, err error) {
	var start time.Time
	if len(s.finalizers) > 0 {
		start = time.Now()
	}
	defer func() {
		if v := recover(); v != nil {
			err = kit.WrapError(kit.Internal, &kit.PanicError{Value: v, Stack: debug.Stack()}, "")
		}
		if err != nil {
			var zero WireResp
			wresp = zero
		}
		err = s.finish(ctx, start, err)
	}()

	if ctx, err = s.admit(ctx); err != nil {
		return wresp, err
	}
	if wireErr != nil {
		return wresp, decodeError(wireErr)
	}

	req, err := s.dec(ctx, wreq)
	if err != nil {
		return wresp, decodeError(err)
	}

	resp, err := s.ep(ctx, req)
	if err == nil {
		err = s.failed(resp)
	}
	if err != nil {
		return wresp, err
	}

	if len(s.after) > 0 {
		header, trailer := metadata.MD{}, metadata.MD{}
		for _, f := range s.after {
			ctx = f(ctx, &header, &trailer)
		}
		if len(header) > 0 {
			if err := grpc.SetHeader(ctx, header); err != nil {
				return wresp, kit.WrapError(kit.Internal, err, "")
			}
		}
		if len(trailer) > 0 {
			if err := grpc.SetTrailer(ctx, trailer); err != nil {
				return wresp, kit.WrapError(kit.Internal, err, "")
			}
		}
	}

	wresp, err = s.enc(ctx, resp)
	if err != nil {
		return wresp, encodeError(err)
	}
	return wresp, nil
}

// finish ends a call that began at start (the zero time when the server
// has no finalizers) with err, or with success when err is nil: it hands
// err to the error handler, runs the finalizers with it, and returns the
// status error sent for it.
func (s *serverConfig) finish(ctx context.Context, start time.Time, err error) error {
	var st error
	code := codes.OK
	if err != nil {
		s.safely(ctx, func() { s.errorHandler.Handle(ctx, err) })
		status := ToStatus(err)
		st, code = status.Err(), status.Code()
	}
	if len(s.finalizers) > 0 {
		info := FinalizerInfo{Code: code, Duration: time.Since(start), Err: err}
		if m, ok := grpc.Method(ctx); ok {
			info.Method = m
		}
		for _, f := range s.finalizers {
			s.safely(ctx, func() { f(ctx, info) })
		}
	}
	return st
}

// safely runs f, a user hook that runs after the answer was chosen,
// handing a panic in it to the error handler.
func (s *serverConfig) safely(ctx context.Context, f func()) {
	hook.Safely(ctx, s.errorHandler, f)
}

// admit runs the before hooks and then the guards with the call's incoming
// metadata, and returns the context they made or a guard's refusal.
func (s *serverConfig) admit(ctx context.Context) (context.Context, error) {
	if len(s.before) == 0 && len(s.guards) == 0 {
		return ctx, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	for _, f := range s.before {
		ctx = f(ctx, md)
	}
	for _, g := range s.guards {
		var err error
		if ctx, err = g(ctx, md); err != nil {
			return ctx, guardError(err)
		}
	}
	return ctx, nil
}

// guardError gives a guard's error the PermissionDenied code unless it has
// a code or a status of its own.
func guardError(err error) error {
	if hasCode(err) {
		return err
	}
	return kit.Conceal(kit.PermissionDenied, err)
}

// decodeError gives a decoder's error the InvalidArgument code unless it
// has a code of its own; a plain error is concealed, so its text never
// reaches the caller.
func decodeError(err error) error {
	if hasCode(err) {
		return err
	}
	return kit.Conceal(kit.InvalidArgument, err)
}

// encodeError gives an encoder's error the Internal code unless it has a
// code of its own: such an error is answered as it is, with its code,
// public message, violations and retry wait.
func encodeError(err error) error {
	if hasCode(err) {
		return err
	}
	return kit.WrapError(kit.Internal, err, "")
}

// hasCode reports whether err chooses its own status: a *kit.Error, a
// [kit.Coder] or a gRPC status anywhere in its chain, or a context's error
// (Canceled, DeadlineExceeded). Such an error is answered as it is, never
// wrapped in another *kit.Error, whose code and message would hide its
// own.
func hasCode(err error) bool {
	var ke *kit.Error
	var kc kit.Coder
	var gs grpcStatuser
	return errors.As(err, &ke) || errors.As(err, &kc) || errors.As(err, &gs) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// MethodHandler returns the handler of a grpc.MethodDesc that serves a unary
// method with s: it reads the request into a new In through the codec, runs
// the server's interceptor if there is one, and calls s.Serve. A request the
// codec cannot read is answered InvalidArgument, after the before hooks
// and the guards. One grpc-go cannot receive (larger than the server's
// limit, compressed with an unknown or a broken encoding) is answered by
// grpc-go itself with its status, so the caller may have it before the
// server's hooks run; either call is seen by the error handler and the
// finalizers as every other call is. Generated service registrations use
// it.
func MethodHandler[In any, PIn interface {
	*In
	genrt.WireMessage
}, Req, Resp, Out any](s *Server[PIn, Req, Resp, Out], fullMethod string) func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	return func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		d := &deferredDecode[In, PIn]{}
		if err := dec(d); err != nil && d.err == nil {
			// grpc-go could not receive the request, or a codec other
			// than grpcx's could not read it: the call goes on, with
			// the error, to the hooks, the error handler and the
			// finalizers.
			d.err = err
		}
		in := PIn(&d.in)
		if interceptor == nil {
			return s.serve(ctx, in, d.err)
		}
		info := &grpc.UnaryServerInfo{Server: srv, FullMethod: fullMethod}
		return interceptor(ctx, in, info, func(ctx context.Context, req any) (any, error) {
			p, ok := req.(PIn)
			if !ok {
				var start time.Time
				if len(s.finalizers) > 0 {
					start = time.Now()
				}
				err := kit.WrapError(kit.Internal, fmt.Errorf("grpcx: an interceptor passed a %T where the handler takes a %T", req, in), "")
				return nil, s.finish(ctx, start, err)
			}
			return s.serve(ctx, p, d.err)
		})
	}
}

// deferredDecode reads a request for MethodHandler and keeps the error
// instead of returning it, so that grpc-go does not turn a malformed
// request into an Internal error.
type deferredDecode[In any, PIn interface {
	*In
	genrt.WireMessage
}] struct {
	in  In
	err error
}

func (d *deferredDecode[In, PIn]) MarshalProtoWire(b []byte) ([]byte, error) {
	return PIn(&d.in).MarshalProtoWire(b)
}

func (d *deferredDecode[In, PIn]) UnmarshalProtoWire(b []byte) error {
	d.err = PIn(&d.in).UnmarshalProtoWire(b)
	return nil
}
