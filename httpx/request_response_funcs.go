package httpx

import (
	"context"
	"net/http"
	"time"
)

// RequestFunc is a hook that may take information from an HTTP request and
// put it into the context. On a server it runs before the request is
// decoded; on a client, after the request is encoded and before it is sent,
// where it may also set headers.
type RequestFunc func(ctx context.Context, r *http.Request) context.Context

// A GuardFunc inspects a request before its body is read and may refuse it
// with an error; otherwise it returns the context the request goes on
// with. See [ServerGuard].
type GuardFunc func(ctx context.Context, r *http.Request) (context.Context, error)

// ServerResponseFunc is a hook that runs on a server after the endpoint
// succeeds and before the response is encoded. It may set response
// headers.
type ServerResponseFunc func(ctx context.Context, w http.ResponseWriter) context.Context

// ClientResponseFunc is a hook that runs on a client after a response
// arrives and before it is decoded. It may take information from the
// response and put it into the context.
type ClientResponseFunc func(ctx context.Context, r *http.Response) context.Context

// FinalizerInfo describes a request a Server finished.
type FinalizerInfo struct {
	// Request is the request served.
	Request *http.Request
	// Status is the status written: 200 when the handler wrote no header.
	Status int
	// Written is the number of body bytes written.
	Written int64
	// Duration is the time from the start of ServeHTTP to the finalizer.
	Duration time.Duration
	// Err is the error the request failed with, or nil.
	Err error
}

// ServerFinalizerFunc is a hook that runs at the end of every request a
// Server serves.
type ServerFinalizerFunc func(ctx context.Context, info FinalizerInfo)

// ClientFinalizerFunc is a hook that runs at the end of every call a Client
// makes, with the call's error or nil.
type ClientFinalizerFunc func(ctx context.Context, err error)

// SetRequestHeader returns a RequestFunc that sets a header on an outgoing
// request.
func SetRequestHeader(key, value string) RequestFunc {
	return func(ctx context.Context, r *http.Request) context.Context {
		r.Header.Set(key, value)
		return ctx
	}
}

// SetResponseHeader returns a ServerResponseFunc that sets a response
// header.
func SetResponseHeader(key, value string) ServerResponseFunc {
	return func(ctx context.Context, w http.ResponseWriter) context.Context {
		w.Header().Set(key, value)
		return ctx
	}
}
