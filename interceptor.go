package kit

import (
	"context"
	"reflect"
	"sync"

	"github.com/typedkit/kit/internal/failer"
)

// A Transport names how a call travels.
type Transport uint8

// The transports of a [Call].
const (
	// InProcess is a call of a service's endpoints within the process,
	// through no transport.
	InProcess Transport = iota
	// HTTP is a call over httpx.
	HTTP
	// GRPC is a call over grpcx.
	GRPC
	// MCP is a call of a Model Context Protocol tool.
	MCP
)

// String returns "inprocess", "http", "grpc" or "mcp".
func (t Transport) String() string {
	switch t {
	case InProcess:
		return "inprocess"
	case HTTP:
		return "http"
	case GRPC:
		return "grpc"
	case MCP:
		return "mcp"
	}
	return "transport(" + itoa(uint32(t)) + ")"
}

// A Side says whether a call is served or made.
type Side uint8

// The sides of a [Call].
const (
	// ServerSide is a call a server answers.
	ServerSide Side = iota
	// ClientSide is a call a client makes.
	ClientSide
)

// String returns "server" or "client".
func (s Side) String() string {
	if s == ClientSide {
		return "client"
	}
	return "server"
}

// A StreamKind says how many messages each way a call carries.
type StreamKind uint8

// The kinds of a [Call].
const (
	// Unary is one request and one response.
	Unary StreamKind = iota
	// ServerStream is one request and a stream of responses.
	ServerStream
	// ClientStream is a stream of requests and one response.
	ClientStream
	// BidiStream is a stream each way.
	BidiStream
)

// String returns "unary", "server_stream", "client_stream" or
// "bidi_stream".
func (k StreamKind) String() string {
	switch k {
	case Unary:
		return "unary"
	case ServerStream:
		return "server_stream"
	case ClientStream:
		return "client_stream"
	case BidiStream:
		return "bidi_stream"
	}
	return "stream(" + itoa(uint32(k)) + ")"
}

// A Call describes one call of an endpoint to an [Interceptor]: the service
// and method, the transport, the side, whether the method is idempotent and
// the kind of stream. Generated code fills it in; an interceptor reads it
// and passes it on unchanged. It is a small value: copying it costs no
// allocation.
type Call struct {
	// Service is the service's name, such as "usersvc.UserService" (the
	// gRPC service name where there is one).
	Service string
	// Method is the method's name, such as "GetUser".
	Method string
	// Transport is how the call travels.
	Transport Transport
	// Side says whether the call is served or made.
	Side Side
	// Idempotent reports whether calling the method twice has the effect
	// of calling it once (a //kit:idempotent method, or an HTTP GET, HEAD,
	// PUT or DELETE route), so a client may retry or hedge it.
	Idempotent bool
	// Stream is the kind of stream of the method.
	Stream StreamKind

	frame frame
}

// Procedure returns "/" + Service + "/" + Method, the form gRPC uses.
func (c Call) Procedure() string { return "/" + c.Service + "/" + c.Method }

// Request returns the request of the call, boxed in an interface value (an
// allocation for most types), or nil for a Call that describes no running
// call. It is for what must show the value, such as [LogRequest]; an
// interceptor that decides on requests belongs in a typed [Middleware].
func (c Call) Request() any {
	if c.frame == nil {
		return nil
	}
	return c.frame.request()
}

// Response returns the response of the call once the invoker it was passed
// to returned, boxed as [Call.Request] boxes the request.
func (c Call) Response() any {
	if c.frame == nil {
		return nil
	}
	return c.frame.response()
}

// frame is what a running call carries through the interceptors: its
// request and, once the endpoint returned, its response.
type frame interface {
	request() any
	response() any
}

type typedFrame[Req, Resp any] struct {
	req  Req
	resp Resp
}

func (f *typedFrame[Req, Resp]) request() any  { return f.req }
func (f *typedFrame[Req, Resp]) response() any { return f.resp }

// An Invoker runs a call: the rest of the interceptor chain and, at its
// end, the endpoint. It returns the call's error; the response stays with
// the call.
type Invoker func(ctx context.Context, call Call) error

// An Interceptor wraps every method of a service with behaviour that reads
// the call, not its values: logging, recovery, timeouts, limits, breakers,
// metrics, tracing, authentication. It is called once per method when the
// endpoints are built, with the method's [Call] (so it can keep state per
// method, such as a breaker, at no cost per call), and returns the invoker
// that runs at each call; that invoker is given the Call again.
//
// An invoker calls next at most once at a time and returns only after next
// returned: the request and response of a running call belong to it until
// then. It may call next again after that, as a retry does.
//
// Interceptors do not depend on the request and response types, so one list
// serves every method, on the server and the client, over every transport.
// What reads the request (validation, a bulkhead key, a fallback value,
// authorization of one resource) is a typed [Middleware].
type Interceptor func(call Call, next Invoker) Invoker

// Intercept returns ep wrapped in interceptors, the first outermost (go-kit's
// order, as in [Chain]), for calls described by call. The chain is built
// once, here; a call through it costs no allocation beyond what the
// interceptors themselves do. With no interceptors it returns ep.
//
// The error a chain sees is the call's: a response whose type implements
// [Failer] and that failed is reported to the interceptors as that error,
// and returned with it.
func Intercept[Req, Resp any](ep Endpoint[Req, Resp], call Call, interceptors ...Interceptor) Endpoint[Req, Resp] {
	if len(interceptors) == 0 {
		return ep
	}
	call.frame = nil
	failed := failer.Func[Resp]()
	var inv Invoker = func(ctx context.Context, c Call) error {
		f, ok := c.frame.(*typedFrame[Req, Resp])
		if !ok {
			return NewError(Internal, "")
		}
		resp, err := ep(ctx, f.req)
		if err == nil {
			err = failed(resp)
		}
		f.resp = resp
		return err
	}
	for i := len(interceptors) - 1; i >= 0; i-- {
		if interceptors[i] != nil {
			inv = interceptors[i](call, inv)
		}
	}
	pool := sync.Pool{New: func() any { return new(typedFrame[Req, Resp]) }}
	// A frame that holds no pointers is not cleared before reuse: it keeps
	// nothing alive.
	clear := hasPointers(reflect.TypeFor[typedFrame[Req, Resp]]())
	return func(ctx context.Context, req Req) (Resp, error) {
		f := pool.Get().(*typedFrame[Req, Resp])
		f.req = req
		c := call
		c.frame = f
		err := inv(ctx, c)
		resp := f.resp
		if clear {
			*f = typedFrame[Req, Resp]{}
		}
		pool.Put(f)
		return resp, err
	}
}

// Interceptors composes interceptors into one, the first outermost. Nil
// entries are skipped.
func Interceptors(interceptors ...Interceptor) Interceptor {
	list := append([]Interceptor(nil), interceptors...)
	return func(call Call, next Invoker) Invoker {
		for i := len(list) - 1; i >= 0; i-- {
			if list[i] != nil {
				next = list[i](call, next)
			}
		}
		return next
	}
}

// hasPointers reports whether a value of type t can hold a pointer.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	}
	return true
}
