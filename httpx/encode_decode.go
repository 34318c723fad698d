package httpx

import (
	"context"
	"net/http"
)

// DecodeRequestFunc extracts a typed request from an HTTP request. An error
// it returns is answered as InvalidArgument (400) unless it carries another
// kit code.
type DecodeRequestFunc[Req any] func(ctx context.Context, r *http.Request) (Req, error)

// EncodeResponseFunc writes a typed response to the ResponseWriter.
type EncodeResponseFunc[Resp any] func(ctx context.Context, w http.ResponseWriter, resp Resp) error

// EncodeRequestFunc writes a typed request into an outgoing HTTP request:
// its body, and its URL path, query or headers as needed.
type EncodeRequestFunc[Req any] func(ctx context.Context, r *http.Request, req Req) error

// DecodeResponseFunc extracts a typed response from a 2xx HTTP response.
// Non-2xx responses never reach it: the client turns them into errors.
type DecodeResponseFunc[Resp any] func(ctx context.Context, r *http.Response) (Resp, error)
