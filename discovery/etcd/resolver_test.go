package etcd_test

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/resolver"

	"github.com/typedkit/kit/discovery/etcd"
	"github.com/typedkit/kit/internal/grpctest"
	"github.com/typedkit/kit/internal/grpctest/testpb"
)

// serveTest starts a gRPC server of the Test service on a loopback port,
// answering with its address, and returns its port, stopped when the test
// ends.
func serveTest(t *testing.T) int {
	t.Helper()
	addr, _ := grpctest.ServeAddr(t)
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	n, err := strconv.Atoi(port)
	require.NoError(t, err)
	return n
}

// TestResolver points a plain grpc-go client at etcd:///service with
// round_robin: it calls every registered instance, stops calling one as
// soon as it is deregistered, and calls a new one once registered.
func TestResolver(t *testing.T) {
	t.Parallel()
	client := newClient(t, server.Endpoints()...)
	const service = "resolved"
	var ports []int
	var regs []*etcd.Registrar
	for range 3 {
		port := serveTest(t)
		ports = append(ports, port)
		regs = append(regs, register(t, client, service, port))
	}

	conn, err := grpc.NewClient("etcd:///"+service,
		grpc.WithResolvers(etcd.NewResolver(client)),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig": [{"round_robin":{}}]}`),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	tc := testpb.NewTestClient(conn)

	// seen returns the addresses that answered n calls.
	seen := func(c require.TestingT, n int) map[string]bool {
		got := map[string]bool{}
		for range n {
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			reply, err := tc.Sum(ctx, &testpb.SumRequest{}, grpc.WaitForReady(true))
			cancel()
			require.NoError(c, err)
			got[reply.C] = true
		}
		return got
	}
	want := func(ps ...int) map[string]bool {
		m := map[string]bool{}
		for _, a := range addrs(ps...) {
			m[a] = true
		}
		return m
	}

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, want(ports...), seen(c, 30), "round_robin reaches every instance")
	}, deadline, 10*time.Millisecond)

	start := time.Now()
	require.NoError(t, regs[0].Deregister(context.Background()))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, want(ports[1:]...), seen(c, 30), "a deregistered instance gets no calls")
	}, deadline, 10*time.Millisecond)
	t.Logf("a deregistered instance stopped getting calls within %v", time.Since(start))

	port := serveTest(t)
	start = time.Now()
	register(t, client, service, port)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, want(ports[1], ports[2], port), seen(c, 30), "a new instance gets calls")
	}, deadline, 10*time.Millisecond)
	t.Logf("a registered instance got calls within %v", time.Since(start))
}

func TestResolverRefusesBadTargets(t *testing.T) {
	t.Parallel()
	client := newClient(t, server.Endpoints()...)
	tests := []struct {
		target, want string
	}{
		{"etcd://127.0.0.1:2379/users", "names a cluster"},
		{"etcd:///", "must be etcd:///service"},
		{"etcd:///a/b", "must be etcd:///service"},
		{"etcd:///users?prefix=/x", "has parameters"},
		{"etcd:///bad%20name", "service name"},
	}
	b := etcd.NewResolver(client)
	assert.Equal(t, etcd.Scheme, b.Scheme())
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(tt.target)
			require.NoError(t, err)
			_, err = b.Build(resolver.Target{URL: *u}, nopConn{}, resolver.BuildOptions{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// nopConn is a resolver.ClientConn that is never reached: Build fails first.
type nopConn struct{ resolver.ClientConn }
