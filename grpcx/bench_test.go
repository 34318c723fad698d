package grpcx_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/internal/grpctest"
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
	return grpctest.Serve(b, transport, func(s *grpc.Server) { testpb.RegisterTestServer(s, impl) })
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
