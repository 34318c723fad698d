package kit

import "context"

// An Endpoint is one operation of a service: a typed function from a request
// to a response. Transports serve endpoints and clients are endpoints, so
// middleware written once works on both sides and over every transport.
type Endpoint[Req, Resp any] func(ctx context.Context, req Req) (Resp, error)

// Nop is an endpoint that does nothing and returns the zero response. Use it
// as kit.Nop[Req, Resp] where an endpoint is needed in tests and examples.
func Nop[Req, Resp any](context.Context, Req) (Resp, error) {
	var zero Resp
	return zero, nil
}

// A Failer is a response that carries a business error of its own, as an
// alternative to returning it as the endpoint's error. Every transport
// encodes a response whose Failed method returns non-nil as that error.
type Failer interface {
	Failed() error
}

// Failed returns resp.Failed() when the response type implements [Failer],
// and nil otherwise.
func Failed[Resp any](resp Resp) error {
	if f, ok := any(resp).(Failer); ok {
		return f.Failed()
	}
	return nil
}
