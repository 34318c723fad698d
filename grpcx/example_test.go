package grpcx_test

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/internal/grpctest/testpb"
)

// EchoService is the glue for the generated TestServer interface: one field
// and one line per method.
type EchoService struct {
	testpb.UnimplementedTestServer
	sum *grpcx.Server[*testpb.SumRequest, sumReq, sumResp, *testpb.SumReply]
}

// Sum implements testpb.TestServer.
func (s *EchoService) Sum(ctx context.Context, r *testpb.SumRequest) (*testpb.SumReply, error) {
	return s.sum.Serve(ctx, r)
}

// A typed endpoint served as a gRPC method, and a typed client for it.
func Example() {
	echo := func(_ context.Context, r sumReq) (sumResp, error) {
		if r.B == "" {
			return sumResp{}, kit.NewError(kit.InvalidArgument, "b is required")
		}
		return sumResp{C: r.B}, nil
	}
	srv := grpc.NewServer()
	testpb.RegisterTestServer(srv, &EchoService{sum: grpcx.NewServer(echo, decodeSum, encodeSum)})
	lis := bufconn.Listen(1 << 16)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	conn, _ := grpc.NewClient("passthrough:///bufnet",
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	defer conn.Close()

	client := grpcx.NewClient(conn, testpb.Test_Sum_FullMethodName,
		func(_ context.Context, r sumReq) (*testpb.SumRequest, error) {
			return &testpb.SumRequest{A: r.A, B: r.B}, nil
		},
		func(_ context.Context, r *testpb.SumReply) (sumResp, error) { return sumResp{C: r.GetC()}, nil },
	).Endpoint()

	resp, err := client(context.Background(), sumReq{B: "hello"})
	fmt.Println(resp.C, err)
	_, err = client(context.Background(), sumReq{})
	fmt.Println(kit.CodeOf(err), kit.MessageOf(err))
	// Output:
	// hello <nil>
	// invalid_argument b is required
}
