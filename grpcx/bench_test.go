package grpcx_test

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/internal/grpctest/testpb"
)

// plainService is the same work as a hand-written grpc-go handler.
type plainService struct {
	testpb.UnimplementedTestServer
}

func (plainService) Sum(_ context.Context, r *testpb.SumRequest) (*testpb.SumReply, error) {
	return &testpb.SumReply{C: r.GetB()}, nil
}

func benchSum(_ context.Context, r sumReq) (sumResp, error) { return sumResp{C: r.B}, nil }

func benchServe(b *testing.B, impl testpb.TestServer, transport string) *grpc.ClientConn {
	b.Helper()
	srv := grpc.NewServer()
	testpb.RegisterTestServer(srv, impl)
	var lis net.Listener
	var target string
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if transport == "bufconn" {
		bl := bufconn.Listen(1 << 20)
		lis, target = bl, "passthrough:///bufnet"
		opts = append(opts, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return bl.DialContext(ctx) }))
	} else {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		lis, target = l, l.Addr().String()
	}
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
	})
	return conn
}

// BenchmarkUnary compares one unary call served and called through grpcx
// with the same call through a plain grpc-go handler and generated client,
// over bufconn and loopback TCP.
func BenchmarkUnary(b *testing.B) {
	typed := &service{sum: grpcx.NewServer(kit.Endpoint[sumReq, sumResp](benchSum), decodeSum, encodeSum)}
	for _, transport := range []string{"bufconn", "tcp"} {
		b.Run(transport+"/plain", func(b *testing.B) {
			client := testpb.NewTestClient(benchServe(b, plainService{}, transport))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.Sum(ctx, &testpb.SumRequest{A: 1, B: "x"}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(transport+"/grpcx-server", func(b *testing.B) {
			client := testpb.NewTestClient(benchServe(b, typed, transport))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.Sum(ctx, &testpb.SumRequest{A: 1, B: "x"}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(transport+"/grpcx-client", func(b *testing.B) {
			ep := sumClient(benchServe(b, plainService{}, transport))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ep(ctx, sumReq{A: 1, B: "x"}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(transport+"/grpcx-both", func(b *testing.B) {
			ep := sumClient(benchServe(b, typed, transport))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ep(ctx, sumReq{A: 1, B: "x"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkServe measures the binding alone, without a network.
func BenchmarkServe(b *testing.B) {
	s := grpcx.NewServer(kit.Endpoint[sumReq, sumResp](benchSum), decodeSum, encodeSum)
	ctx := context.Background()
	req := &testpb.SumRequest{A: 1, B: "x"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Serve(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
