// Package grpctest starts real gRPC servers for tests and benchmarks; its
// testpb package holds the service they serve.
package grpctest

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
)

// Serve starts a grpc.Server with the services that register adds, over
// bufconn (transport "bufconn") or loopback TCP (any other transport), and
// returns a connection to it. At the end of the test the connection is
// closed, the server stopped, and Serve waits for the server's goroutine.
func Serve(tb testing.TB, transport string, register func(*grpc.Server), opts ...grpc.ServerOption) *grpc.ClientConn {
	tb.Helper()
	srv := grpc.NewServer(opts...)
	register(srv)
	dial := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	var lis net.Listener
	target := "passthrough:///bufnet"
	if transport == "bufconn" {
		bl := bufconn.Listen(1 << 20)
		lis = bl
		dial = append(dial, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return bl.DialContext(ctx) }))
	} else {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		lis, target = l, l.Addr().String()
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(lis)
	}()
	conn, err := grpc.NewClient(target, dial...)
	if err != nil {
		srv.Stop()
		<-served
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
		<-served
	})
	return conn
}
