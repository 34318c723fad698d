package grpcx_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/keepalive"

	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/internal/grpctest/testpb"
)

// TestNewGRPCServerCutsHeldConnections holds connections open as an
// attacker would — a TCP connection that never speaks HTTP/2, a client
// connection left idle — and checks that the limits of NewGRPCServer close
// them. The limits are shortened by options given after the defaults,
// which is also how a user overrides them.
func TestNewGRPCServerCutsHeldConnections(t *testing.T) {
	t.Parallel()
	const limit = 300 * time.Millisecond
	const margin = 5 * time.Second // generous: the machine may be loaded
	entered, release := make(chan struct{}, 8), make(chan struct{})
	defer close(release)
	s := grpcx.NewGRPCServer(grpc.ConnectionTimeout(limit), grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: limit}))
	testpb.RegisterTestServer(s, &service{sum: blockingSum(entered, release)})
	lis := listenTCP(t)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- grpcx.Serve(ctx, s, lis, grpcx.ServeDrainTimeout(time.Second)) }()
	t.Cleanup(func() {
		cancel()
		<-served
	})

	// Serial: release is closed when the test function returns.
	t.Run("silent connection", func(t *testing.T) {
		conn, err := net.Dial("tcp", lis.Addr().String())
		require.NoError(t, err)
		defer conn.Close()
		_ = conn.SetReadDeadline(time.Now().Add(limit + margin))
		_, err = io.ReadAll(conn)
		assert.NoError(t, err, "the server closes a connection that never sends its preface")
	})
	t.Run("idle connection", func(t *testing.T) {
		conn := dial(t, lis.Addr().String())
		go func() {
			<-entered
			release <- struct{}{}
		}()
		_, err := sumClient(conn)(context.Background(), sumReq{B: "x"})
		require.NoError(t, err)
		require.Equal(t, connectivity.Ready, conn.GetState())
		wctx, wcancel := context.WithTimeout(context.Background(), limit+margin)
		defer wcancel()
		for conn.GetState() == connectivity.Ready && conn.WaitForStateChange(wctx, connectivity.Ready) {
		}
		assert.NotEqual(t, connectivity.Ready, conn.GetState(), "the server sends GOAWAY to an idle connection")
	})
}
