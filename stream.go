package kit

import (
	"context"
	"iter"
	"sync"

	"github.com/typedkit/kit/internal/failer"
)

// A ServerStreamEndpoint is an operation that answers one request with a
// stream of responses. It may fail before the stream starts, by returning
// an error; once it returned a sequence, an error ends the sequence as its
// last element. The sequence is ranged over once; breaking out of the loop
// ends the stream and cancels what produces it.
type ServerStreamEndpoint[Req, Resp any] func(ctx context.Context, req Req) (iter.Seq2[Resp, error], error)

// A ClientStreamEndpoint is an operation that reads a stream of requests
// and answers with one response. The requests end with the sequence; an
// error in it (the wire failed, the caller gave up) is its last element.
type ClientStreamEndpoint[Req, Resp any] func(ctx context.Context, reqs iter.Seq2[Req, error]) (Resp, error)

// A BidiStreamEndpoint reads a stream of requests and answers with a stream
// of responses, both at once. It may fail before its responses start, as a
// [ServerStreamEndpoint] may.
type BidiStreamEndpoint[Req, Resp any] func(ctx context.Context, reqs iter.Seq2[Req, error]) (iter.Seq2[Resp, error], error)

// A MessageKind says which way a message of a stream travels.
type MessageKind uint8

// The kinds of messages an [Call.OnMessage] hook is told of.
const (
	// RequestMessage is a message from the caller to the service.
	RequestMessage MessageKind = iota
	// ResponseMessage is a message from the service to the caller.
	ResponseMessage
)

// String returns "request" or "response".
func (k MessageKind) String() string {
	if k == ResponseMessage {
		return "response"
	}
	return "request"
}

// OnMessage asks to be told of each message of the running stream call:
// hook is called with the message's kind when a request is read from the
// stream or a response is handed to the stream. It is for what counts or
// times messages, such as metrics; what reads a message's value belongs in
// a typed wrapper of the endpoint. An interceptor calls it before it calls
// next; hooks run on the goroutine that moves the message and must not
// block. It does nothing for a unary call or a Call that describes no
// running call.
func (c Call) OnMessage(hook func(MessageKind)) {
	if s, ok := c.frame.(streamFrame); ok && hook != nil {
		st := s.state()
		st.hooks = append(st.hooks, hook)
	}
}

// streamFrame is the frame of a running stream call.
type streamFrame interface {
	frame
	state() *streamState
}

// streamState is what every stream frame holds: the message hooks.
type streamState struct {
	hooks []func(MessageKind)
}

func (s *streamState) state() *streamState { return s }

func (s *streamState) notify(k MessageKind) {
	for _, h := range s.hooks {
		h(k)
	}
}

// counted returns seq telling the hooks of s of each request it yields, or
// seq itself when there are no hooks.
func counted[T any](s *streamState, seq iter.Seq2[T, error]) iter.Seq2[T, error] {
	if len(s.hooks) == 0 || seq == nil {
		return seq
	}
	return func(yield func(T, error) bool) {
		for v, err := range seq {
			if err == nil {
				s.notify(RequestMessage)
			}
			if !yield(v, err) {
				return
			}
		}
	}
}

// errStreamStarted is what a stream's chain gets when an interceptor calls
// next again after the stream started: its messages cannot be sent twice.
var errStreamStarted = NewError(Internal, "")

// errConsumerGone is the error the chain of a stream sees when the stream's
// consumer stopped reading before the stream ended.
var errConsumerGone = NewError(Canceled, "stream ended by its consumer")

// seqFrame is the frame of a stream call that answers with a sequence.
type seqFrame[Req, Resp any] struct {
	streamState
	req    Req
	reqs   iter.Seq2[Req, error]
	yield  func(Resp, error) bool
	opened bool
	gone   bool
}

func (f *seqFrame[Req, Resp]) request() any {
	if f.reqs != nil {
		return nil
	}
	return f.req
}
func (f *seqFrame[Req, Resp]) response() any { return nil }

// InterceptServerStream returns ep wrapped in interceptors, the first
// outermost, for calls described by call (its Stream is set to
// ServerStream). The interceptors see the whole stream as one call: their
// invoker returns when the stream ended, with its final error (nil when the
// sequence ended without one, Canceled when its consumer stopped early),
// so a log line, a span, a metric or a concurrency slot covers the stream
// from its open to its end; an error they return before the stream started
// is the endpoint's error, and after that the sequence's last element. With
// no interceptors it returns ep.
//
// The chain runs beside the consumer as a coroutine ([iter.Pull2]): the
// consumer and the chain take turns, so no message is buffered. A sequence
// the caller never ranges over holds the chain until ctx ends.
func InterceptServerStream[Req, Resp any](ep ServerStreamEndpoint[Req, Resp], call Call, interceptors ...Interceptor) ServerStreamEndpoint[Req, Resp] {
	if len(interceptors) == 0 {
		return ep
	}
	call.Stream = ServerStream
	inv := chainOf(seqInvoker(func(ctx context.Context, f *seqFrame[Req, Resp]) (iter.Seq2[Resp, error], error) {
		return ep(ctx, f.req)
	}), call, interceptors)
	return func(ctx context.Context, req Req) (iter.Seq2[Resp, error], error) {
		return runSeq(ctx, inv, call, &seqFrame[Req, Resp]{req: req})
	}
}

// InterceptBidiStream is [InterceptServerStream] for a bidirectional
// stream (call's Stream is set to BidiStream): the interceptors' invoker
// returns when the responses ended, and [Call.OnMessage] hooks are told of
// requests as the endpoint reads them.
func InterceptBidiStream[Req, Resp any](ep BidiStreamEndpoint[Req, Resp], call Call, interceptors ...Interceptor) BidiStreamEndpoint[Req, Resp] {
	if len(interceptors) == 0 {
		return ep
	}
	call.Stream = BidiStream
	inv := chainOf(seqInvoker(func(ctx context.Context, f *seqFrame[Req, Resp]) (iter.Seq2[Resp, error], error) {
		return ep(ctx, counted(&f.streamState, f.reqs))
	}), call, interceptors)
	return func(ctx context.Context, reqs iter.Seq2[Req, error]) (iter.Seq2[Resp, error], error) {
		if reqs == nil {
			reqs = func(func(Req, error) bool) {}
		}
		return runSeq(ctx, inv, call, &seqFrame[Req, Resp]{reqs: reqs})
	}
}

// clientFrame is the frame of a client stream call.
type clientFrame[Req, Resp any] struct {
	streamState
	reqs iter.Seq2[Req, error]
	resp Resp
}

func (f *clientFrame[Req, Resp]) request() any  { return nil }
func (f *clientFrame[Req, Resp]) response() any { return f.resp }

// InterceptClientStream returns ep wrapped in interceptors, the first
// outermost, for calls described by call (its Stream is set to
// ClientStream). The invoker runs the whole call: it returns when the
// endpoint answered, and [Call.OnMessage] hooks are told of each request
// the endpoint reads. With no interceptors it returns ep.
func InterceptClientStream[Req, Resp any](ep ClientStreamEndpoint[Req, Resp], call Call, interceptors ...Interceptor) ClientStreamEndpoint[Req, Resp] {
	if len(interceptors) == 0 {
		return ep
	}
	call.Stream = ClientStream
	failed := failer.Func[Resp]()
	inv := chainOf(func(ctx context.Context, c Call) error {
		f, ok := c.frame.(*clientFrame[Req, Resp])
		if !ok {
			return NewError(Internal, "")
		}
		if f.reqs == nil {
			return errStreamStarted
		}
		reqs := f.reqs
		f.reqs = nil // a stream of requests is read once
		resp, err := ep(ctx, counted(&f.streamState, reqs))
		if err == nil {
			err = failed(resp)
		}
		f.resp = resp
		return err
	}, call, interceptors)
	return func(ctx context.Context, reqs iter.Seq2[Req, error]) (Resp, error) {
		if reqs == nil {
			reqs = func(func(Req, error) bool) {}
		}
		f := &clientFrame[Req, Resp]{reqs: reqs}
		c := call
		c.frame = f
		err := inv(ctx, c)
		return f.resp, err
	}
}

// chainOf wraps inv in interceptors, the first outermost.
func chainOf(inv Invoker, call Call, interceptors []Interceptor) Invoker {
	call.frame = nil
	for i := len(interceptors) - 1; i >= 0; i-- {
		if interceptors[i] != nil {
			inv = interceptors[i](call, inv)
		}
	}
	return inv
}

// seqInvoker returns the innermost invoker of a stream that answers with a
// sequence: it opens the stream, tells the consumer it is open, and hands
// it each element, returning when the sequence ended.
func seqInvoker[Req, Resp any](open func(context.Context, *seqFrame[Req, Resp]) (iter.Seq2[Resp, error], error)) Invoker {
	return func(ctx context.Context, c Call) error {
		f, ok := c.frame.(*seqFrame[Req, Resp])
		if !ok {
			return NewError(Internal, "")
		}
		if f.opened {
			return errStreamStarted
		}
		seq, err := open(ctx, f)
		if err != nil {
			return err
		}
		f.opened = true
		var zero Resp
		if !f.yield(zero, nil) { // the stream is open
			f.gone = true
			return errConsumerGone
		}
		if seq == nil {
			return nil
		}
		for v, err := range seq {
			if err != nil {
				return err
			}
			f.notify(ResponseMessage)
			if !f.yield(v, nil) {
				f.gone = true
				return errConsumerGone
			}
		}
		return nil
	}
}

// runSeq runs the chain inv of one stream call in a coroutine and returns
// the stream's sequence once the chain opened it, or the chain's error when
// it ended before that.
func runSeq[Req, Resp any](ctx context.Context, inv Invoker, call Call, f *seqFrame[Req, Resp]) (iter.Seq2[Resp, error], error) {
	c := call
	c.frame = f
	next, stop := iter.Pull2(func(yield func(Resp, error) bool) {
		f.yield = yield
		if err := inv(ctx, c); err != nil && !f.gone {
			var zero Resp
			yield(zero, err)
		}
	})
	_, err, ok := next()
	if !ok || !f.opened {
		stop()
		if err == nil {
			// The chain ended without opening the stream and without an
			// error: the stream is empty.
			return func(func(Resp, error) bool) {}, nil
		}
		return nil, err
	}
	if err != nil { // the chain failed after it opened the stream
		stop()
		return func(yield func(Resp, error) bool) {
			var zero Resp
			yield(zero, err)
		}, nil
	}
	// mu keeps stop, called when ctx ends, from running beside next.
	var mu sync.Mutex
	done := false
	end := func() {
		mu.Lock()
		if !done {
			done = true
			stop()
		}
		mu.Unlock()
	}
	release := context.AfterFunc(ctx, end)
	return func(yield func(Resp, error) bool) {
		defer func() {
			release()
			end()
		}()
		pull := func() (v Resp, err error, ok bool) {
			mu.Lock()
			defer mu.Unlock()
			if done {
				return v, nil, false
			}
			return next()
		}
		for {
			v, err, ok := pull()
			if !ok || !yield(v, err) || err != nil {
				return
			}
		}
	}, nil
}

// Wrap returns ep wrapped in wrappers, the first outermost: Wrap(ep, a, b)
// is a(b(ep)). It is [Apply] for any kind of endpoint, such as a
// [ServerStreamEndpoint] and functions of it to it.
func Wrap[E any](ep E, wrappers ...func(E) E) E {
	for i := len(wrappers) - 1; i >= 0; i-- {
		if wrappers[i] != nil {
			ep = wrappers[i](ep)
		}
	}
	return ep
}

// ValidateEach returns reqs with each request checked by its Validate
// method: the first that fails ends the sequence with its
// [ValidationError].
func ValidateEach[Req Validator](reqs iter.Seq2[Req, error]) iter.Seq2[Req, error] {
	return func(yield func(Req, error) bool) {
		for r, err := range reqs {
			if err == nil {
				if verr := r.Validate(); verr != nil {
					var zero Req
					yield(zero, ValidationError(verr))
					return
				}
			}
			if !yield(r, err) || err != nil {
				return
			}
		}
	}
}

// ValidateEachPointer is [ValidateEach] for a request type whose Validate
// method has a pointer receiver.
func ValidateEachPointer[Req any, PReq interface {
	*Req
	Validator
}](reqs iter.Seq2[Req, error]) iter.Seq2[Req, error] {
	return func(yield func(Req, error) bool) {
		for r, err := range reqs {
			if err == nil {
				if verr := PReq(&r).Validate(); verr != nil {
					var zero Req
					yield(zero, ValidationError(verr))
					return
				}
			}
			if !yield(r, err) || err != nil {
				return
			}
		}
	}
}
