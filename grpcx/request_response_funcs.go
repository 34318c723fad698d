package grpcx

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

// ServerRequestFunc is a hook that runs on a server before the request is
// decoded. It may take values from the incoming metadata and put them into
// the context.
type ServerRequestFunc func(ctx context.Context, md metadata.MD) context.Context

// A GuardFunc inspects a call's incoming metadata before its request is
// decoded and may refuse it with an error; otherwise it returns the context
// the call goes on with. See [ServerGuard].
type GuardFunc func(ctx context.Context, md metadata.MD) (context.Context, error)

// ServerResponseFunc is a hook that runs on a server after the endpoint
// succeeds. It may add to the header and trailer metadata sent with the
// reply.
type ServerResponseFunc func(ctx context.Context, header, trailer *metadata.MD) context.Context

// ClientRequestFunc is a hook that runs on a client before the call. It may
// add to the outgoing metadata.
type ClientRequestFunc func(ctx context.Context, md *metadata.MD) context.Context

// ClientResponseFunc is a hook that runs on a client after a reply arrives
// and before it is decoded, with the header and trailer metadata the server
// sent.
type ClientResponseFunc func(ctx context.Context, header, trailer metadata.MD) context.Context

// FinalizerInfo describes a call a Server finished.
type FinalizerInfo struct {
	// Method is the full method name, such as "/pkg.Service/Method", when
	// the call came through a grpc.Server.
	Method string
	// Code is the status code returned.
	Code codes.Code
	// Duration is the time from the start of Serve to the finalizer.
	Duration time.Duration
	// Err is the error the call failed with, as the error handler saw it
	// (the status sent is [ToStatus] of it), or nil.
	Err error
}

// ServerFinalizerFunc is a hook that runs at the end of every call a Server
// serves.
type ServerFinalizerFunc func(ctx context.Context, info FinalizerInfo)

// ClientFinalizerFunc is a hook that runs at the end of every call a Client
// makes, with the call's error or nil.
type ClientFinalizerFunc func(ctx context.Context, err error)

// SetRequestHeader returns a ClientRequestFunc that sets a metadata key on
// outgoing calls.
func SetRequestHeader(key, value string) ClientRequestFunc {
	return func(ctx context.Context, md *metadata.MD) context.Context {
		md.Set(key, value)
		return ctx
	}
}

// SetResponseHeader returns a ServerResponseFunc that sets a header
// metadata key on replies.
func SetResponseHeader(key, value string) ServerResponseFunc {
	return func(ctx context.Context, header, _ *metadata.MD) context.Context {
		header.Set(key, value)
		return ctx
	}
}
