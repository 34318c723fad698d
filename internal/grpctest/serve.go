// Package grpctest starts real gRPC servers for tests and benchmarks; its
// testpb package holds the service they serve.
package grpctest

import (
	"context"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/typedkit/kit/internal/grpctest/testpb"
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

// addrServer is a Test service whose Sum answers with the address it
// serves on, so that a client sees which instance answered.
type addrServer struct {
	testpb.UnimplementedTestServer
	addr string
}

func (s addrServer) Sum(context.Context, *testpb.SumRequest) (*testpb.SumReply, error) {
	return &testpb.SumReply{C: s.addr}, nil
}

// ServeAddr starts a gRPC server of the Test service on a loopback port,
// whose Sum answers with the server's address (in SumReply.C), and returns
// that address and a function that stops the server, at once, as a killed
// instance would stop. The server is stopped at the end of the test if it
// was not before.
func ServeAddr(tb testing.TB) (string, func()) {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := grpc.NewServer()
	testpb.RegisterTestServer(s, addrServer{addr: lis.Addr().String()})
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = s.Serve(lis)
	}()
	var once sync.Once
	stop := func() { once.Do(func() { s.Stop(); <-served }) }
	tb.Cleanup(stop)
	return lis.Addr().String(), stop
}
