package grpcx_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/health"
	"github.com/typedkit/kit/internal/grpctest/testpb"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type sumReq struct {
	A int64
	B string
}

type sumResp struct {
	C   string
	err error
}

func (r sumResp) Failed() error { return r.err }

type tenantKey struct{}

// testEndpoint gives some values of B special behaviour.
func testEndpoint(seen chan<- error, started chan<- struct{}) kit.Endpoint[sumReq, sumResp] {
	return func(ctx context.Context, r sumReq) (sumResp, error) {
		switch {
		case strings.HasPrefix(r.B, "code:"):
			n, _ := strconv.Atoi(strings.TrimPrefix(r.B, "code:"))
			return sumResp{}, kit.WrapError(kit.Code(n), errors.New("secret cause"), "message "+kit.Code(n).String())
		case r.B == "panic":
			panic("secret panic")
		case r.B == "status":
			return sumResp{}, status.Error(codes.AlreadyExists, "raw status")
		case r.B == "violations":
			return sumResp{}, kit.InvalidArgumentError("bad sum", kit.FieldViolation{Field: "a", Description: "must be even"})
		case r.B == "failer":
			return sumResp{err: kit.NewError(kit.FailedPrecondition, "not now")}, nil
		case r.B == "tenant":
			t, _ := ctx.Value(tenantKey{}).(string)
			return sumResp{C: t}, nil
		case r.B == "deadline":
			d, ok := ctx.Deadline()
			if !ok {
				return sumResp{C: "none"}, nil
			}
			return sumResp{C: time.Until(d).Round(time.Second).String()}, nil
		case r.B == "wait":
			select {
			case started <- struct{}{}:
			default:
			}
			select {
			case <-ctx.Done():
				seen <- ctx.Err()
				return sumResp{}, ctx.Err()
			case <-time.After(10 * time.Second):
				seen <- nil
				return sumResp{C: "late"}, nil
			}
		}
		return sumResp{C: strings.Repeat(r.B, int(max(r.A, 1)))}, nil
	}
}

func decodeSum(_ context.Context, r *testpb.SumRequest) (sumReq, error) {
	if r.GetA() < 0 {
		return sumReq{}, errors.New("a must not be negative")
	}
	return sumReq{A: r.GetA(), B: r.GetB()}, nil
}

func encodeSum(_ context.Context, r sumResp) (*testpb.SumReply, error) {
	return &testpb.SumReply{C: r.C}, nil
}

func encodeSumReq(_ context.Context, r sumReq) (*testpb.SumRequest, error) {
	return &testpb.SumRequest{A: r.A, B: r.B}, nil
}

func decodeSumReply(_ context.Context, r *testpb.SumReply) (sumResp, error) {
	return sumResp{C: r.GetC()}, nil
}

// service is the glue a user writes: one line per method.
type service struct {
	testpb.UnimplementedTestServer
	sum *grpcx.Server[*testpb.SumRequest, sumReq, sumResp, *testpb.SumReply]
}

func (s *service) Sum(ctx context.Context, r *testpb.SumRequest) (*testpb.SumReply, error) {
	return s.sum.Serve(ctx, r)
}

type harness struct {
	conn    *grpc.ClientConn
	seen    chan error
	started chan struct{}
	finMu   sync.Mutex
	fin     []grpcx.FinalizerInfo
}

func (h *harness) finals() []grpcx.FinalizerInfo {
	h.finMu.Lock()
	defer h.finMu.Unlock()
	return append([]grpcx.FinalizerInfo(nil), h.fin...)
}

// start serves the test service on a real grpc.Server over loopback TCP or
// bufconn and returns a connection to it.
func start(t *testing.T, transport string) *harness {
	t.Helper()
	h := &harness{seen: make(chan error, 1), started: make(chan struct{}, 1)}
	svc := &service{sum: grpcx.NewServer(testEndpoint(h.seen, h.started), decodeSum, encodeSum,
		grpcx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) {})),
		grpcx.ServerBefore(func(ctx context.Context, md metadata.MD) context.Context {
			if v := md.Get("x-tenant"); len(v) > 0 {
				ctx = context.WithValue(ctx, tenantKey{}, v[0])
			}
			return ctx
		}),
		grpcx.ServerAfter(grpcx.SetResponseHeader("x-served-by", "grpcx"), func(ctx context.Context, _, trailer *metadata.MD) context.Context {
			trailer.Set("x-trailer", "t")
			return ctx
		}),
		grpcx.ServerFinalizer(func(_ context.Context, info grpcx.FinalizerInfo) {
			h.finMu.Lock()
			h.fin = append(h.fin, info)
			h.finMu.Unlock()
		}),
	)}
	srv := grpc.NewServer()
	testpb.RegisterTestServer(srv, svc)
	grpcx.RegisterHealth(srv, new(health.Health), grpcx.HealthServices("typedkit.test.Test"))

	var lis net.Listener
	var target string
	dialOpts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	switch transport {
	case "tcp":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		lis, target = l, l.Addr().String()
	case "bufconn":
		bl := bufconn.Listen(1 << 20)
		lis, target = bl, "passthrough:///bufnet"
		dialOpts = append(dialOpts, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return bl.DialContext(ctx) }))
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(lis)
	}()
	conn, err := grpc.NewClient(target, dialOpts...)
	require.NoError(t, err)
	h.conn = conn
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
		<-served
	})
	return h
}

var transports = []string{"tcp", "bufconn"}

func sumClient(cc grpc.ClientConnInterface, opts ...grpcx.ClientOption) kit.Endpoint[sumReq, sumResp] {
	return grpcx.NewClient(cc, testpb.Test_Sum_FullMethodName, encodeSumReq, decodeSumReply, opts...).Endpoint()
}

func TestCodeRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			h := start(t, tr)
			client := sumClient(h.conn)
			for _, code := range kit.Codes() {
				t.Run(code.String(), func(t *testing.T) {
					t.Parallel()
					b := "code:" + strconv.Itoa(int(code))
					if code == kit.OK {
						b = "x"
					}
					resp, err := client(context.Background(), sumReq{A: 1, B: b})
					assert.Equal(t, code, kit.CodeOf(err))
					if code == kit.OK {
						require.NoError(t, err)
						assert.Equal(t, "x", resp.C)
						return
					}
					assert.Equal(t, "message "+code.String(), kit.MessageOf(err))
					assert.NotContains(t, err.Error(), "secret")
				})
			}
		})
	}
}

func TestServerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		req        sumReq
		code       kit.Code
		message    string
		violations []kit.FieldViolation
	}{
		{"decode error is InvalidArgument", sumReq{A: -1}, kit.InvalidArgument, "invalid argument", nil},
		{"panic is Internal", sumReq{B: "panic"}, kit.Internal, "internal error", nil},
		{"served after a panic", sumReq{A: 2, B: "ok"}, kit.OK, "", nil},
		{"status passes through", sumReq{B: "status"}, kit.AlreadyExists, "raw status", nil},
		{"violations", sumReq{B: "violations"}, kit.InvalidArgument, "bad sum", []kit.FieldViolation{{Field: "a", Description: "must be even"}}},
		{"failer", sumReq{B: "failer"}, kit.FailedPrecondition, "not now", nil},
	}
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			h := start(t, tr)
			client := sumClient(h.conn)
			for _, tt := range tests {
				// Serial: a case checks that the server still serves after the panic case.
				t.Run(tt.name, func(t *testing.T) {
					_, err := client(context.Background(), tt.req)
					assert.Equal(t, tt.code, kit.CodeOf(err))
					assert.Equal(t, tt.message, kit.MessageOf(err))
					assert.Equal(t, tt.violations, kit.ViolationsOf(err))
					if err != nil {
						assert.NotContains(t, err.Error(), "secret")
					}
				})
			}
		})
	}
}

func TestMetadataHooks(t *testing.T) {
	t.Parallel()
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			h := start(t, tr)
			var header, trailer metadata.MD
			client := sumClient(h.conn,
				grpcx.ClientBefore(grpcx.SetRequestHeader("x-tenant", "acme")),
				grpcx.ClientAfter(func(ctx context.Context, hd, tr metadata.MD) context.Context {
					header, trailer = hd, tr
					return ctx
				}),
			)
			ctx := metadata.AppendToOutgoingContext(context.Background(), "x-other", "kept")
			resp, err := client(ctx, sumReq{B: "tenant"})
			require.NoError(t, err)
			assert.Equal(t, "acme", resp.C)
			assert.Equal(t, []string{"grpcx"}, header.Get("x-served-by"))
			assert.Equal(t, []string{"t"}, trailer.Get("x-trailer"))

			fin := h.finals()
			require.NotEmpty(t, fin)
			last := fin[len(fin)-1]
			assert.Equal(t, testpb.Test_Sum_FullMethodName, last.Method)
			assert.Equal(t, codes.OK, last.Code)
		})
	}
}

func TestDeadlinePropagates(t *testing.T) {
	t.Parallel()
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			h := start(t, tr)
			client := sumClient(h.conn)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			resp, err := client(ctx, sumReq{B: "deadline"})
			require.NoError(t, err)
			assert.Equal(t, "30s", resp.C)

			ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_, err = client(ctx, sumReq{B: "wait"})
			assert.Equal(t, kit.DeadlineExceeded, kit.CodeOf(err))
			select {
			case got := <-h.seen:
				// The server's own copy of the deadline and the client's
				// reset of the stream race; either ends the work.
				assert.Error(t, got)
			case <-time.After(5 * time.Second):
				t.Fatal("the endpoint did not see the deadline")
			}
		})
	}
}

func TestCancellationReachesEndpoint(t *testing.T) {
	t.Parallel()
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			h := start(t, tr)
			client := sumClient(h.conn)
			ctx, cancel := context.WithCancel(context.Background())
			// Cancelled once the endpoint runs, however slow the machine.
			go func() {
				<-h.started
				cancel()
			}()
			_, err := client(ctx, sumReq{B: "wait"})
			assert.Equal(t, kit.Canceled, kit.CodeOf(err))
			select {
			case got := <-h.seen:
				assert.ErrorIs(t, got, context.Canceled)
			case <-time.After(5 * time.Second):
				t.Fatal("the endpoint did not see the cancellation")
			}
		})
	}
}

func TestUnavailableWhenServerIsGone(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	_, err = sumClient(conn)(context.Background(), sumReq{B: "x"})
	assert.Equal(t, kit.Unavailable, kit.CodeOf(err))
}

func TestHealth(t *testing.T) {
	t.Parallel()
	h := start(t, "bufconn")
	hc := healthpb.NewHealthClient(h.conn)
	for _, svc := range []string{"", "typedkit.test.Test"} {
		resp, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{Service: svc})
		require.NoError(t, err)
		assert.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
	}
}

func TestToStatusAndFromStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		code codes.Code
		msg  string
	}{
		{"nil", nil, codes.OK, ""},
		{"kit", kit.WrapError(kit.NotFound, errors.New("secret"), "no user"), codes.NotFound, "no user"},
		{"plain", errors.New("secret"), codes.Unknown, "unknown error"},
		{"context", context.DeadlineExceeded, codes.DeadlineExceeded, "deadline exceeded"},
		{"wrapped status", errors.Join(errors.New("secret"), status.Error(codes.Aborted, "conflict")), codes.Aborted, "conflict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := grpcx.ToStatus(tt.err)
			assert.Equal(t, tt.code, st.Code())
			assert.Equal(t, tt.msg, st.Message())
			back := grpcx.FromStatus(st.Err())
			assert.Equal(t, kit.Code(tt.code), kit.CodeOf(back))
		})
	}
}
