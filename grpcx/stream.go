package grpcx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"runtime/debug"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/typedkit/kit"
)

// A Binder returns the message the gRPC codec reads into or writes from
// *v: for a type with generated protobuf codecs, the generated wire view
// of v (kitgen writes them); for a protoc-generated message type M used as
// the endpoint's type itself, func(v *M) any { return v } does not work,
// since a message must not be copied: bind a struct that holds a *M.
// A stream binds one value for all its messages, so moving a message
// allocates nothing beyond what the codec does.
type Binder[T any] func(v *T) any

// ServerStreamHandler returns the handler of a grpc.StreamDesc (with
// ServerStreams set) that serves ep: it reads the one request, calls ep
// and sends each element of its sequence. The options are a [Server]'s:
// the before hooks and guards run first with the incoming metadata, the
// interceptors see the whole stream (see [kit.InterceptServerStream]),
// the after hooks run when the stream opens and their header is sent at
// once, so a client learns the stream started before its first message;
// their trailer goes with the final status. An error before the stream
// opened and one that ends it arrive alike, as the call's status with its
// details; the error handler and the finalizers see it.
func ServerStreamHandler[Req, Resp any](ep kit.ServerStreamEndpoint[Req, Resp], req Binder[Req], resp Binder[Resp], opts ...ServerOption) grpc.StreamHandler {
	cfg := newServerConfig(opts)
	call := cfg.callOf()
	call.Stream = kit.ServerStream
	ep = kit.InterceptServerStream(ep, call, cfg.interceptors...)
	return func(_ any, ss grpc.ServerStream) error {
		return cfg.serveStream(ss, func(ctx context.Context) error {
			var r Req
			if err := ss.RecvMsg(req(&r)); err != nil {
				return recvError(err)
			}
			seq, err := ep(ctx, r)
			if err != nil {
				return err
			}
			return sendSeq(ctx, cfg, ss, seq, resp)
		})
	}
}

// ClientStreamHandler returns the handler of a grpc.StreamDesc (with
// ClientStreams set) that serves ep: ep ranges over the requests as they
// arrive, and its response is sent when it returns. A request that cannot
// be read ends the sequence with an InvalidArgument error; the client's
// half-close ends it without one. Options are as for
// [ServerStreamHandler]; the after hooks run when ep answered.
func ClientStreamHandler[Req, Resp any](ep kit.ClientStreamEndpoint[Req, Resp], req Binder[Req], resp Binder[Resp], opts ...ServerOption) grpc.StreamHandler {
	cfg := newServerConfig(opts)
	call := cfg.callOf()
	call.Stream = kit.ClientStream
	ep = kit.InterceptClientStream(ep, call, cfg.interceptors...)
	return func(_ any, ss grpc.ServerStream) error {
		return cfg.serveStream(ss, func(ctx context.Context) error {
			out, err := ep(ctx, received(ss, req))
			if err == nil {
				err = kit.Failed(out)
			}
			if err != nil {
				return err
			}
			if err := cfg.sendHeader(ctx, ss); err != nil {
				return err
			}
			if err := ss.SendMsg(resp(&out)); err != nil {
				return sendError(err)
			}
			return nil
		})
	}
}

// BidiStreamHandler returns the handler of a grpc.StreamDesc (with both
// ServerStreams and ClientStreams set) that serves ep: ep ranges over the
// requests as they arrive while its responses are sent. The requests may
// be read on another goroutine than the responses are produced on. Options
// are as for [ServerStreamHandler].
func BidiStreamHandler[Req, Resp any](ep kit.BidiStreamEndpoint[Req, Resp], req Binder[Req], resp Binder[Resp], opts ...ServerOption) grpc.StreamHandler {
	cfg := newServerConfig(opts)
	call := cfg.callOf()
	call.Stream = kit.BidiStream
	ep = kit.InterceptBidiStream(ep, call, cfg.interceptors...)
	return func(_ any, ss grpc.ServerStream) error {
		return cfg.serveStream(ss, func(ctx context.Context) error {
			seq, err := ep(ctx, received(ss, req))
			if err != nil {
				return err
			}
			return sendSeq(ctx, cfg, ss, seq, resp)
		})
	}
}

// serveStream runs one stream call: the before hooks and guards, then run
// under recovery, then the error handler and the finalizers.
func (s *serverConfig) serveStream(ss grpc.ServerStream, run func(ctx context.Context) error) (err error) {
	ctx := ss.Context()
	var start time.Time
	if len(s.finalizers) > 0 {
		start = time.Now()
	}
	defer func() {
		if v := recover(); v != nil {
			err = kit.WrapError(kit.Internal, &kit.PanicError{Value: v, Stack: debug.Stack()}, "")
		}
		err = s.finish(ctx, start, drained(ss.Context(), err))
	}()
	if ctx, err = s.admit(ctx); err != nil {
		return err
	}
	return run(ctx)
}

// sendHeader runs the after hooks and sends their header, and sets their
// trailer for the end of the call. With no hooks, it sends an empty
// header, which tells the client the stream is open.
func (s *serverConfig) sendHeader(ctx context.Context, ss grpc.ServerStream) error {
	header, trailer := metadata.MD{}, metadata.MD{}
	for _, f := range s.after {
		ctx = f(ctx, &header, &trailer)
	}
	if len(trailer) > 0 {
		ss.SetTrailer(trailer)
	}
	if err := ss.SendHeader(header); err != nil {
		return sendError(err)
	}
	return nil
}

// sendSeq opens a stream and sends each element of seq, bound once.
func sendSeq[Resp any](ctx context.Context, s *serverConfig, ss grpc.ServerStream, seq iter.Seq2[Resp, error], bind Binder[Resp]) error {
	if err := s.sendHeader(ctx, ss); err != nil {
		return err
	}
	if seq == nil {
		return nil
	}
	var v Resp
	m := bind(&v)
	for r, err := range seq {
		if err != nil {
			return err
		}
		v = r
		if err := ss.SendMsg(m); err != nil {
			return sendError(err)
		}
	}
	return nil
}

// received returns the requests of a server's stream, read into one bound
// value, up to the client's half-close.
func received[Req any](ss grpc.ServerStream, bind Binder[Req]) iter.Seq2[Req, error] {
	return func(yield func(Req, error) bool) {
		var v Req
		m := bind(&v)
		for {
			var zero Req
			v = zero
			if err := ss.RecvMsg(m); err != nil {
				if errors.Is(err, io.EOF) {
					return
				}
				yield(zero, recvError(err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// recvError is the error of a message a server could not receive: a
// status of grpc-go's (a message over the limit, the call cancelled) as it
// is, the codec's error as InvalidArgument.
func recvError(err error) error {
	if _, ok := wrappedStatus(err); ok {
		return FromStatus(err)
	}
	if hasCode(err) {
		return err
	}
	return kit.Conceal(kit.InvalidArgument, err)
}

// sendError is the error of a message that could not be sent: the stream
// ended under it (the client went away, the connection closed), which is
// Canceled and no fault of the server's, or the message could not be
// encoded or is over the limit, which keeps its code.
func sendError(err error) error {
	if st, ok := wrappedStatus(err); ok {
		if st.Code() == codes.Unavailable || st.Code() == codes.Canceled {
			return kit.WrapError(kit.Canceled, err, "the stream's client went away")
		}
		return FromStatus(err)
	}
	if hasCode(err) {
		return err
	}
	return kit.WrapError(kit.Internal, err, "")
}

// ServerStreamClient returns an endpoint that calls a server-streaming
// method (its full name) over cc: it sends the request, waits until the
// server opened the stream or failed, and returns the stream's messages
// as a sequence. Ranging over it to its end, or breaking out of the loop,
// ends the call; a sequence never ranged over holds the call until ctx
// ends. The options are a [Client]'s: before hooks add metadata, after
// hooks see the header when the stream opens (the trailer is not read),
// finalizers run at the end with the stream's error, interceptors see the
// whole stream (see [kit.InterceptServerStream]).
func ServerStreamClient[Req, Resp any](cc grpc.ClientConnInterface, method string, req Binder[Req], resp Binder[Resp], opts ...ClientOption) kit.ServerStreamEndpoint[Req, Resp] {
	c := newStreamClient(cc, method, opts, &grpc.StreamDesc{ServerStreams: true})
	call := c.callOf()
	call.Stream = kit.ServerStream
	ep := kit.ServerStreamEndpoint[Req, Resp](func(ctx context.Context, r Req) (iter.Seq2[Resp, error], error) {
		cs, ctx, end, err := c.open(ctx)
		if err != nil {
			return nil, err
		}
		if err := cs.SendMsg(req(&r)); err != nil && !errors.Is(err, io.EOF) {
			return nil, end(c.wireError(err))
		}
		if err := cs.CloseSend(); err != nil {
			return nil, end(c.wireError(err))
		}
		if err := c.header(ctx, cs); err != nil {
			return nil, end(err)
		}
		return replies(cs, resp, c, end), nil
	})
	return kit.InterceptServerStream(ep, call, c.interceptors...)
}

// ClientStreamClient returns an endpoint that calls a client-streaming
// method over cc: it sends each element of the requests' sequence, closes
// its side of the stream when the sequence ends and returns the server's
// response. An error in the sequence cancels the call and is returned.
// Options are as for [ServerStreamClient].
func ClientStreamClient[Req, Resp any](cc grpc.ClientConnInterface, method string, req Binder[Req], resp Binder[Resp], opts ...ClientOption) kit.ClientStreamEndpoint[Req, Resp] {
	c := newStreamClient(cc, method, opts, &grpc.StreamDesc{ClientStreams: true})
	call := c.callOf()
	call.Stream = kit.ClientStream
	ep := kit.ClientStreamEndpoint[Req, Resp](func(ctx context.Context, reqs iter.Seq2[Req, error]) (out Resp, err error) {
		cs, ctx, end, err := c.open(ctx)
		if err != nil {
			return out, err
		}
		if err := sendAll(cs, reqs, req); err != nil {
			if !errors.Is(err, io.EOF) {
				return out, end(err)
			}
			// The server ended the call: its status says why.
		} else if err := cs.CloseSend(); err != nil {
			return out, end(c.wireError(err))
		}
		if err := c.header(ctx, cs); err != nil {
			return out, end(err)
		}
		if err := cs.RecvMsg(resp(&out)); err != nil {
			var zero Resp
			return zero, end(c.wireError(err))
		}
		return out, end(nil)
	})
	return kit.InterceptClientStream(ep, call, c.interceptors...)
}

// BidiStreamClient returns an endpoint that calls a bidirectional method
// over cc: the requests' sequence is sent on a goroutine of its own, which
// closes the client's side when it ends, while the responses are returned
// as a sequence, at once: an error of the server's before its first
// answer (one that refused the call) is the sequence's first element, since
// a server may send nothing before it reads requests. The call ends when the
// responses end or the caller breaks out of them; the sending goroutine
// returns at the requests' next element after that.
// Options are as for [ServerStreamClient].
func BidiStreamClient[Req, Resp any](cc grpc.ClientConnInterface, method string, req Binder[Req], resp Binder[Resp], opts ...ClientOption) kit.BidiStreamEndpoint[Req, Resp] {
	c := newStreamClient(cc, method, opts, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true})
	call := c.callOf()
	call.Stream = kit.BidiStream
	ep := kit.BidiStreamEndpoint[Req, Resp](func(ctx context.Context, reqs iter.Seq2[Req, error]) (iter.Seq2[Resp, error], error) {
		cs, ctx, end, err := c.open(ctx)
		if err != nil {
			return nil, err
		}
		var mu sync.Mutex
		var sendErr error
		go func() {
			if err := sendAll(cs, reqs, req); err != nil {
				if !errors.Is(err, io.EOF) {
					mu.Lock()
					sendErr = err
					mu.Unlock()
					end(err) // cancels the call
				}
				return
			}
			_ = cs.CloseSend()
		}()
		// stop ends the call; the goroutine that sends returns at the
		// requests' next element, as they may wait for what the caller
		// does only later.
		stop := func(err error) error {
			err = end(err)
			mu.Lock()
			defer mu.Unlock()
			if sendErr != nil {
				return sendErr
			}
			return err
		}
		// The header is not waited for here: many servers (those of
		// protoc-gen-go-grpc, grpc-js) send none before their first
		// answer, which may wait for requests the caller sends only once
		// this returns. A failure to open is the sequence's first element.
		answers := replies(cs, resp, c, stop)
		return func(yield func(Resp, error) bool) {
			if err := c.header(ctx, cs); err != nil {
				var zero Resp
				yield(zero, stop(err))
				return
			}
			answers(yield)
		}, nil
	})
	return kit.InterceptBidiStream(ep, call, c.interceptors...)
}

// streamClient is what the stream clients of one method share.
type streamClient struct {
	cc     grpc.ClientConnInterface
	method string
	desc   *grpc.StreamDesc
	clientConfig
}

func newStreamClient(cc grpc.ClientConnInterface, method string, opts []ClientOption, desc *grpc.StreamDesc) *streamClient {
	c := &streamClient{cc: cc, method: method, desc: desc}
	for _, o := range opts {
		o(&c.clientConfig)
	}
	desc.StreamName = method
	if c.call.Service == "" && c.call.Method == "" {
		c.call.Service, c.call.Method = splitMethod(method)
	}
	return c
}

func (c *streamClient) callOf() kit.Call {
	call := c.call
	call.Transport, call.Side = kit.GRPC, kit.ClientSide
	return call
}

// open starts a call: the before hooks, then the stream, under a context
// of its own. end, called once when the call ends (with its error or nil),
// cancels that context, runs the finalizers and returns the error.
func (c *streamClient) open(ctx context.Context) (grpc.ClientStream, context.Context, func(error) error, error) {
	ctx = c.runBefore(ctx)
	ctx, cancel := context.WithCancel(ctx)
	var once sync.Once
	var final error
	end := func(err error) error {
		once.Do(func() {
			cancel()
			final = err
			for _, f := range c.finalizers {
				f(ctx, err)
			}
		})
		return final
	}
	cs, err := c.cc.NewStream(ctx, c.desc, c.method, c.callOptions...)
	if err != nil {
		return nil, nil, nil, end(c.wireError(err))
	}
	return cs, ctx, end, nil
}

// header waits for the server to open the stream and runs the after hooks
// with its header. A server that ended the call without opening it (a
// status alone) makes it the call's error.
func (c *streamClient) header(ctx context.Context, cs grpc.ClientStream) error {
	md, err := cs.Header()
	if err != nil {
		return c.wireError(err)
	}
	if md == nil {
		// The call ended with a status and no header.
		if err := cs.RecvMsg(new(emptyMessage)); err != nil {
			return c.wireError(err)
		}
		return kit.WrapError(kit.Internal, fmt.Errorf("grpcx: %s ended without a status", c.method), "")
	}
	for _, f := range c.after {
		ctx = f(ctx, md, nil)
	}
	return nil
}

// wireError turns a stream's error into a kit error, marked with the retry
// safety a unary client gives it. io.EOF from RecvMsg means a clean end and
// is not passed here.
func (c *streamClient) wireError(err error) error {
	kerr := FromStatus(err)
	switch {
	case notProcessed(err):
		kerr = kit.WithRetrySafety(kerr, kit.RetryNotProcessed)
	case c.idempotent:
		kerr = kit.WithRetrySafety(kerr, kit.RetryIdempotent)
	}
	return kerr
}

// replies returns the messages of a client's stream as a sequence, read
// into one bound value; end is called once with the stream's error when
// the sequence ends, or with Canceled when its consumer stops.
func replies[Resp any](cs grpc.ClientStream, bind Binder[Resp], c *streamClient, end func(error) error) iter.Seq2[Resp, error] {
	return func(yield func(Resp, error) bool) {
		var v Resp
		m := bind(&v)
		for {
			var zero Resp
			v = zero
			if err := cs.RecvMsg(m); err != nil {
				if errors.Is(err, io.EOF) {
					end(nil)
					return
				}
				yield(zero, end(c.wireError(err)))
				return
			}
			if !yield(v, nil) {
				end(kit.NewError(kit.Canceled, "stream ended by its consumer"))
				return
			}
		}
	}
}

// sendAll sends each element of reqs on cs, bound once. It returns the
// sequence's own error, or io.EOF when the server ended the call.
func sendAll[Req any](cs grpc.ClientStream, reqs iter.Seq2[Req, error], bind Binder[Req]) error {
	if reqs == nil {
		return nil
	}
	var v Req
	m := bind(&v)
	for r, err := range reqs {
		if err != nil {
			return err
		}
		v = r
		if err := cs.SendMsg(m); err != nil {
			return err
		}
	}
	return nil
}

// emptyMessage receives the status of a call that ended without a header.
type emptyMessage struct{}

func (*emptyMessage) MarshalProtoWire(b []byte) ([]byte, error) { return b, nil }
func (*emptyMessage) UnmarshalProtoWire([]byte) error           { return nil }
