package bench

import (
	"context"
	"testing"

	gokitgrpc "github.com/go-kit/kit/transport/grpc"
	"google.golang.org/grpc"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/internal/grpctest"
	"github.com/typedkit/kit/internal/grpctest/testpb"
)

type plainServer struct{ testpb.UnimplementedTestServer }

func (plainServer) Sum(_ context.Context, r *testpb.SumRequest) (*testpb.SumReply, error) {
	return &testpb.SumReply{C: r.GetB()}, nil
}

type typedServer struct {
	testpb.UnimplementedTestServer
	sum *grpcx.Server[*testpb.SumRequest, Req, Resp, *testpb.SumReply]
}

func (s typedServer) Sum(ctx context.Context, r *testpb.SumRequest) (*testpb.SumReply, error) {
	return s.sum.Serve(ctx, r)
}

type gokitServer struct {
	testpb.UnimplementedTestServer
	sum gokitgrpc.Handler
}

func (s gokitServer) Sum(ctx context.Context, r *testpb.SumRequest) (*testpb.SumReply, error) {
	_, resp, err := s.sum.ServeGRPC(ctx, r)
	if err != nil {
		return nil, err
	}
	return resp.(*testpb.SumReply), nil
}

func decodeSum(_ context.Context, r *testpb.SumRequest) (Req, error) {
	return Req{A: int(r.GetA()), B: r.GetB()}, nil
}
func encodeSum(_ context.Context, r Resp) (*testpb.SumReply, error) {
	return &testpb.SumReply{C: r.C}, nil
}

func servers() []struct {
	impl string
	srv  testpb.TestServer
} {
	return rotate([]struct {
		impl string
		srv  testpb.TestServer
	}{
		{"typedkit", typedServer{sum: grpcx.NewServer(kit.Endpoint[Req, Resp](work), decodeSum, encodeSum)}},
		{"gokit", gokitServer{sum: gokitgrpc.NewServer(workAny,
			func(_ context.Context, r any) (any, error) {
				m := r.(*testpb.SumRequest)
				return Req{A: int(m.GetA()), B: m.GetB()}, nil
			},
			func(_ context.Context, r any) (any, error) { return &testpb.SumReply{C: r.(Resp).C}, nil })}},
		{"grpcgo", plainServer{}},
	})
}

func serve(b *testing.B, impl testpb.TestServer, transport string) *grpc.ClientConn {
	b.Helper()
	return grpctest.Serve(b, transport, func(s *grpc.Server) { testpb.RegisterTestServer(s, impl) })
}

// BenchmarkGRPCServer calls each server implementation with the plain
// generated client.
func BenchmarkGRPCServer(b *testing.B) {
	ctx := context.Background()
	for _, transport := range []string{"bufconn", "loopback"} {
		for _, c := range servers() {
			b.Run(transport+"/"+c.impl, func(b *testing.B) {
				client := testpb.NewTestClient(serve(b, c.srv, transport))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := client.Sum(ctx, &testpb.SumRequest{A: 1, B: "x"}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkGRPCClient calls the plain server through each client
// implementation.
func BenchmarkGRPCClient(b *testing.B) {
	ctx := context.Background()
	type call func(*grpc.ClientConn) func() error
	clients := rotate([]struct {
		impl string
		make call
	}{
		{"typedkit", func(conn *grpc.ClientConn) func() error {
			ep := grpcx.NewClient(conn, testpb.Test_Sum_FullMethodName,
				func(_ context.Context, r Req) (*testpb.SumRequest, error) {
					return &testpb.SumRequest{A: int64(r.A), B: r.B}, nil
				},
				func(_ context.Context, r *testpb.SumReply) (Resp, error) { return Resp{C: r.GetC()}, nil }).Endpoint()
			return func() error { _, err := ep(ctx, Req{A: 1, B: "x"}); return err }
		}},
		{"gokit", func(conn *grpc.ClientConn) func() error {
			ep := gokitgrpc.NewClient(conn, "typedkit.test.Test", "Sum",
				func(_ context.Context, r any) (any, error) {
					q := r.(Req)
					return &testpb.SumRequest{A: int64(q.A), B: q.B}, nil
				},
				func(_ context.Context, r any) (any, error) { return Resp{C: r.(*testpb.SumReply).GetC()}, nil },
				testpb.SumReply{}).Endpoint()
			return func() error { _, err := ep(ctx, Req{A: 1, B: "x"}); return err }
		}},
		{"grpcgo", func(conn *grpc.ClientConn) func() error {
			client := testpb.NewTestClient(conn)
			return func() error {
				r, err := client.Sum(ctx, &testpb.SumRequest{A: 1, B: "x"})
				_ = Resp{C: r.GetC()}
				return err
			}
		}},
	})
	for _, transport := range []string{"bufconn", "loopback"} {
		for _, c := range clients {
			b.Run(transport+"/"+c.impl, func(b *testing.B) {
				do := c.make(serve(b, plainServer{}, transport))
				b.ReportAllocs()
				for b.Loop() {
					if err := do(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
