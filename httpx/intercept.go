package httpx

import "github.com/typedkit/kit"

// ServerInterceptors wraps the server's endpoint in interceptors, the first
// outermost, after those of earlier options. They run after the request is
// decoded and see a [kit.Call] with Transport kit.HTTP and Side
// kit.ServerSide, and the service and method of [ServerCall].
func ServerInterceptors(interceptors ...kit.Interceptor) ServerOption {
	return func(c *serverConfig) { c.interceptors = append(c.interceptors, interceptors...) }
}

// ServerCall sets the service, method, idempotence and stream kind the
// server's interceptors see; the server sets the transport and the side.
// Generated code sets it for each method.
func ServerCall(call kit.Call) ServerOption {
	return func(c *serverConfig) { c.call = call }
}

func (c *serverConfig) callOf() kit.Call {
	call := c.call
	call.Transport, call.Side = kit.HTTP, kit.ServerSide
	return call
}

// ClientInterceptors wraps the client's calls in interceptors, the first
// outermost, after those of earlier options. They see the whole call —
// encoding, the round trip and decoding — and a [kit.Call] with Transport
// kit.HTTP and Side kit.ClientSide.
func ClientInterceptors(interceptors ...kit.Interceptor) ClientOption {
	return func(c *clientConfig) { c.interceptors = append(c.interceptors, interceptors...) }
}

// ClientCall sets the service, method and stream kind the client's
// interceptors see; the client sets the transport and the side. A call
// marked Idempotent makes the client's calls idempotent: sending one twice
// does no more than sending it once, so a failed call may be retried
// whether or not it reached the server (see [kit.RetrySafety]). Generated
// code sets it for each method.
func ClientCall(call kit.Call) ClientOption {
	return func(c *clientConfig) {
		c.call = call
		if call.Idempotent {
			c.idempotent = true
		}
	}
}
