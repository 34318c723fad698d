package consul_test

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

	"github.com/typedkit/kit/discovery/consul"
	"github.com/typedkit/kit/internal/grpctest"
	"github.com/typedkit/kit/internal/grpctest/testpb"
)

// serveTest starts a gRPC server of the Test service on a loopback port and
// returns its port and a function that stops it.
func serveTest(t *testing.T) (int, func()) {
	t.Helper()
	addr, stop := grpctest.ServeAddr(t)
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	return p, stop
}

// TestResolver points a plain grpc-go client at consul:///service with
// round_robin: it calls every registered instance, stops calling one as
// soon as it is deregistered, and calls a new one once registered.
func TestResolver(t *testing.T) {
	t.Parallel()
	client := newClient(t, agent)
	const service = "resolved"
	var ports []int
	for range 3 {
		port, _ := serveTest(t)
		ports = append(ports, port)
	}
	regs := make([]*consul.Registrar, 3)
	for i, port := range ports {
		regs[i] = registerTTL(t, client, service, port, "grpc")
	}
	registerTTL(t, client, service, 1, "http") // no grpc tag: never dialled

	conn, err := grpc.NewClient("consul:///"+service+"?tag=grpc",
		grpc.WithResolvers(consul.NewResolver(client)),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig": [{"round_robin":{}}]}`),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	tc := testpb.NewTestClient(conn)

	// seen returns the addresses that answered n calls.
	seen := func(n int) map[string]int {
		got := map[string]int{}
		for range n {
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			reply, err := tc.Sum(ctx, &testpb.SumRequest{}, grpc.WaitForReady(true))
			cancel()
			require.NoError(t, err)
			got[reply.C]++
		}
		return got
	}
	want := func(ps ...int) map[string]bool {
		m := map[string]bool{}
		for _, p := range ps {
			m[net.JoinHostPort("127.0.0.1", strconv.Itoa(p))] = true
		}
		return m
	}
	keys := func(m map[string]int) map[string]bool {
		out := map[string]bool{}
		for k := range m {
			out[k] = true
		}
		return out
	}

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, want(ports...), keys(seen(30)), "round_robin reaches every instance")
	}, deadline, 10*time.Millisecond)

	start := time.Now()
	require.NoError(t, regs[0].Deregister(context.Background()))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, want(ports[1:]...), keys(seen(30)), "a deregistered instance gets no calls")
	}, deadline, 10*time.Millisecond)
	t.Logf("a deregistered instance stopped getting calls within %v", time.Since(start))

	port, _ := serveTest(t)
	start = time.Now()
	registerTTL(t, client, service, port, "grpc")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, want(ports[1], ports[2], port), keys(seen(30)), "a new instance gets calls")
	}, deadline, 10*time.Millisecond)
	t.Logf("a registered instance got calls within %v", time.Since(start))
}

func TestResolverRefusesBadTargets(t *testing.T) {
	t.Parallel()
	client := newClient(t, agent)
	tests := []struct {
		target, want string
	}{
		{"consul://127.0.0.1:8500/users", "names an agent"},
		{"consul:///", "must be consul:///service"},
		{"consul:///a/b", "must be consul:///service"},
		{"consul:///users?healthy=maybe", `healthy="maybe" is not true or false`},
		{"consul:///users?color=blue", `unknown parameter "color"`},
		{"consul:///bad name", "service name"},
	}
	b := consul.NewResolver(client)
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			t.Parallel()
			target, err := parseTarget(tt.target)
			require.NoError(t, err)
			_, err = b.Build(target, nopConn{}, resolver.BuildOptions{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// parseTarget parses a target the way grpc.NewClient does.
func parseTarget(s string) (resolver.Target, error) {
	u, err := url.Parse(s)
	if err != nil {
		return resolver.Target{}, err
	}
	return resolver.Target{URL: *u}, nil
}

// nopConn is a resolver.ClientConn that is never reached: Build fails first.
type nopConn struct{ resolver.ClientConn }
