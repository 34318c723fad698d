package grpcx_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/internal/grpctest"
	"github.com/typedkit/kit/internal/grpctest/testpb"
	"github.com/typedkit/kit/limit"
)

// TestServerHookPanicsAndGuards panics in the hooks that run after the
// answer is chosen and refuses calls in a guard: every call gets a status,
// the process and the server survive, and no internal text leaves it.
func TestServerHookPanicsAndGuards(t *testing.T) {
	t.Parallel()
	boom := func() { panic("hook broke: 10.1.2.3") }
	var decoded atomic.Int32
	decode := func(ctx context.Context, r *testpb.SumRequest) (sumReq, error) {
		decoded.Add(1)
		return decodeSum(ctx, r)
	}
	tests := []struct {
		name string
		opts []grpcx.ServerOption
		req  sumReq
		code kit.Code
		msg  string
	}{
		{"panicking finalizer", []grpcx.ServerOption{grpcx.ServerFinalizer(func(context.Context, grpcx.FinalizerInfo) { boom() })},
			sumReq{A: 1, B: "x"}, kit.OK, ""},
		{"panicking error handler", []grpcx.ServerOption{grpcx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) { boom() }))},
			sumReq{B: "panic"}, kit.Internal, "internal error"},
		{"panicking finalizer after an error", []grpcx.ServerOption{grpcx.ServerFinalizer(func(context.Context, grpcx.FinalizerInfo) { boom() })},
			sumReq{A: -1}, kit.InvalidArgument, "invalid argument"},
		{"guard refuses before decoding", []grpcx.ServerOption{grpcx.ServerGuard(func(ctx context.Context, md metadata.MD) (context.Context, error) {
			if len(md.Get("authorization")) == 0 {
				return ctx, kit.NewError(kit.Unauthenticated, "credentials required")
			}
			return ctx, nil
		})}, sumReq{A: -1}, kit.Unauthenticated, "credentials required"},
		{"plain guard error is concealed", []grpcx.ServerOption{grpcx.ServerGuard(func(ctx context.Context, _ metadata.MD) (context.Context, error) {
			return ctx, errors.New("dial tcp 10.1.2.3:5432")
		})}, sumReq{A: 1}, kit.PermissionDenied, "permission denied"},
	}
	for _, tt := range tests {
		// Serial: the cases share decoded.
		t.Run(tt.name, func(t *testing.T) {
			decoded.Store(0)
			opts := append([]grpcx.ServerOption{grpcx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) {}))}, tt.opts...)
			svc := &service{sum: grpcx.NewServer(testEndpoint(make(chan error, 1), make(chan struct{}, 1)), decode, encodeSum, opts...)}
			conn := grpctest.Serve(t, "tcp", func(s *grpc.Server) { testpb.RegisterTestServer(s, svc) })
			client := sumClient(conn)
			for range 3 {
				_, err := client(context.Background(), tt.req)
				assert.Equal(t, tt.code, kit.CodeOf(err), "%v", err)
				if err != nil {
					assert.Equal(t, tt.msg, kit.MessageOf(err))
					assert.NotContains(t, err.Error(), "10.1.2.3")
				}
			}
			if tt.code == kit.Unauthenticated || tt.code == kit.PermissionDenied {
				assert.Zero(t, decoded.Load(), "a refused call is not decoded")
			}
			resp, err := client(context.Background(), sumReq{A: 2, B: "ok"})
			if tt.code == kit.OK || tt.code == kit.Internal || tt.code == kit.InvalidArgument {
				require.NoError(t, err, "the server keeps serving")
				assert.Equal(t, "okok", resp.C)
			}
		})
	}
}

// TestToStatusOfRawStatuses: a raw status of a caller's code passes as it
// is; one of a server fault, such as the Unavailable a grpc-go client
// returns for a downstream it could not dial, keeps only its code.
func TestToStatusOfRawStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		code codes.Code
		msg  string
	}{
		{"caller's code passes", status.Error(codes.NotFound, "user 42 not found"), codes.NotFound, "user 42 not found"},
		{"downstream dial failure", status.Error(codes.Unavailable, "connection error: desc = \"transport: Error while dialing: dial tcp 10.1.2.3:5432: connect: connection refused\""), codes.Unavailable, "service unavailable"},
		{"wrapped internal", fmt.Errorf("calling billing: %w", status.Error(codes.Internal, "panic at db.go:42")), codes.Internal, "internal error"},
		{"kit error over a status", kit.WrapError(kit.Unavailable, status.Error(codes.Unavailable, "10.1.2.3"), "billing is down"), codes.Unavailable, "billing is down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := grpcx.ToStatus(tt.err)
			assert.Equal(t, tt.code, st.Code())
			assert.Equal(t, tt.msg, st.Message())
		})
	}
}

// TestRejectionsAreNotProcessed serves Sum behind a real rate limit that
// rejects every call: the status carries RetryInfo, so the client marks
// the error not processed, while an endpoint's own Unavailable stays
// unsafe to resend.
func TestRejectionsAreNotProcessed(t *testing.T) {
	t.Parallel()
	limited := kit.Intercept(testEndpoint(make(chan error, 1), make(chan struct{}, 1)), kit.Call{Method: "Sum"}, limit.Erroring(rate.NewLimiter(0, 0)))
	down := kit.Endpoint[sumReq, sumResp](func(context.Context, sumReq) (sumResp, error) {
		return sumResp{}, kit.NewError(kit.Unavailable, "down")
	})
	for _, tt := range []struct {
		name   string
		ep     kit.Endpoint[sumReq, sumResp]
		code   kit.Code
		safety kit.RetrySafety
	}{
		{"rate limit", limited, kit.ResourceExhausted, kit.RetryNotProcessed},
		{"the endpoint's own Unavailable", down, kit.Unavailable, kit.RetryUnsafe},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := &service{sum: grpcx.NewServer(tt.ep, decodeSum, encodeSum, grpcx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) {})))}
			conn := grpctest.Serve(t, "tcp", func(s *grpc.Server) { testpb.RegisterTestServer(s, svc) })
			_, err := sumClient(conn)(context.Background(), sumReq{A: 1, B: "x"})
			assert.Equal(t, tt.code, kit.CodeOf(err))
			assert.Equal(t, tt.safety, kit.RetrySafetyOf(err))
		})
	}
}
