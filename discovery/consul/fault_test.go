package consul_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
	"github.com/typedkit/kit/discovery/consul"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/internal/consultest"
	"github.com/typedkit/kit/internal/discoverytest"
	"github.com/typedkit/kit/internal/grpctest/testpb"
)

// echoFactory makes an httpx client of an instance's POST /echo, with a
// transport of its own whose idle connections the closer closes.
func echoFactory(instance string) (kit.Endpoint[discoverytest.EchoRequest, discoverytest.EchoResponse], io.Closer, error) {
	u, err := url.Parse("http://" + instance + "/echo")
	if err != nil {
		return nil, nil, err
	}
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}
	client := httpx.NewClient(http.MethodPost, u,
		httpx.EncodeJSONRequest[discoverytest.EchoRequest], httpx.DecodeJSONResponse[discoverytest.EchoResponse],
		httpx.ClientHTTPClient(&http.Client{Transport: tr}), httpx.ClientCall(kit.Call{Method: "Echo", Idempotent: true}))
	return client.Endpoint(), closeIdle{tr}, nil
}

// faultCluster is one row's Consul: the agent its clients and registrations
// use, and, for a cluster, the cluster.
type faultCluster struct {
	agent   *consultest.Agent
	cluster *consultest.Cluster
}

// A faultCase is a row of the fault table: fault breaks something at the
// returned time and says which instance must leave the set ("" for none);
// for a fault of the registry, change then makes the change that must
// reach the client, and returns when it made it.
type faultCase struct {
	name    string
	cluster bool // a three-server cluster instead of a dev agent of its own
	fault   func(t *testing.T, c faultCluster, inst []*discoverytest.Instance) (at time.Time, faulty *discoverytest.Instance, note string)
	// resolverFails: a plain grpc-go client may fail calls in this fault
	// (it has no per-attempt timeout: a call to an instance that never
	// answers fails at its deadline).
	resolverFails bool
}

// TestFaults is the fault table of the Consul backend: three instances,
// each a process of its own behind a proxy and registered with an HTTP
// check (1 s interval, 500 ms timeout), called under load by a typed client
// (Endpointer with outlier ejection, RoundRobin, Retry of idempotent calls
// with an attempt timeout and a budget) and by a plain grpc-go client
// through consul:///, while an instance is killed, hung or cut off, the
// agent restarts, or a three-server cluster loses its leader. Each row
// logs the failed calls at each caller and how long until the client's
// set was right; the test asserts that the set gets right and that the
// typed client's calls do not fail, never the times.
//
// Not parallel: its rows measure times, and run agents of their own.
func TestFaults(t *testing.T) {
	cases := []faultCase{
		{name: "kill (SIGKILL of an instance)", fault: func(t *testing.T, _ faultCluster, inst []*discoverytest.Instance) (time.Time, *discoverytest.Instance, string) {
			at := time.Now()
			require.NoError(t, inst[0].Kill())
			return at, inst[0], "set: its check fails"
		}},
		{name: "hang (SIGSTOP of an instance)", resolverFails: true, fault: func(t *testing.T, _ faultCluster, inst []*discoverytest.Instance) (time.Time, *discoverytest.Instance, string) {
			at := time.Now()
			require.NoError(t, inst[0].Hang())
			return at, inst[0], "set: its check times out"
		}},
		{name: "drop (a proxy stops forwarding)", resolverFails: true, fault: func(t *testing.T, _ faultCluster, inst []*discoverytest.Instance) (time.Time, *discoverytest.Instance, string) {
			at := time.Now()
			inst[0].Drop()
			return at, inst[0], "set: its check times out"
		}},
		{name: "agent restart", fault: func(t *testing.T, c faultCluster, inst []*discoverytest.Instance) (time.Time, *discoverytest.Instance, string) {
			require.NoError(t, c.agent.Stop())
			time.Sleep(time.Second)
			require.NoError(t, c.agent.Restart())
			at := time.Now()
			deregister(t, c.agent, inst[0])
			return at, inst[0], "agent away 1 s; from the agent answering again to a deregistration made then"
		}},
		{name: "leader loss (SIGKILL of the leader of 3 servers)", cluster: true, fault: func(t *testing.T, c faultCluster, inst []*discoverytest.Instance) (time.Time, *discoverytest.Instance, string) {
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			leader, err := c.cluster.Leader(ctx)
			require.NoError(t, err)
			require.NotSame(t, c.agent, leader)
			at := time.Now()
			require.NoError(t, leader.Kill())
			deregister(t, c.agent, inst[0])
			var next *consultest.Agent
			elected := discoverytest.Until(t, at, deadline, "a new leader", func() bool {
				next, err = c.cluster.Leader(ctx)
				return err == nil && next != leader
			})
			return at, inst[0], "from the kill to a deregistration made at once; a new leader after " + strconv.FormatInt(elected.Milliseconds(), 10) + " ms"
		}},
	}
	var table []discoverytest.FaultRow
	for _, fc := range cases {
		t.Run(fc.name, func(t *testing.T) {
			table = append(table, runFault(t, fc))
		})
	}
	discoverytest.LogTable(t, "Consul fault table", table)
}

// deregister withdraws both of an instance's registrations from the agent a.
func deregister(t *testing.T, a *consultest.Agent, inst *discoverytest.Instance) {
	t.Helper()
	client := newClient(t, a)
	for _, addr := range []string{inst.HTTP.Addr, inst.GRPC.Addr} {
		_, port, _ := net.SplitHostPort(addr)
		name := "faults"
		if addr == inst.GRPC.Addr {
			name = "faults-grpc"
		}
		require.NoError(t, client.Agent().ServiceDeregister(name+"-127.0.0.1:"+port))
	}
}

func runFault(t *testing.T, fc faultCase) discoverytest.FaultRow {
	var c faultCluster
	if fc.cluster {
		c.cluster = consultest.StartCluster(t, 3)
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		leader, err := c.cluster.Leader(ctx)
		cancel()
		require.NoError(t, err)
		for _, a := range c.cluster.Agents {
			if a != leader {
				c.agent = a // the clients' agent survives the leader
				break
			}
		}
	} else {
		c.agent = consultest.Start(t)
	}
	client := newClient(t, c.agent)

	const service = "faults"
	var inst []*discoverytest.Instance
	for i := range 3 {
		in := discoverytest.StartInstance(t, "i"+strconv.Itoa(i))
		inst = append(inst, in)
		check := &consul.Check{HTTP: "http://" + in.HTTP.Addr + "/health", Interval: time.Second, Timeout: 500 * time.Millisecond}
		for _, s := range []struct{ name, addr string }{{service, in.HTTP.Addr}, {service + "-grpc", in.GRPC.Addr}} {
			_, port, _ := net.SplitHostPort(s.addr)
			p, _ := strconv.Atoi(port)
			r, err := consul.NewRegistrar(client, consul.Service{Name: s.name, Address: "127.0.0.1", Port: p, Check: check}, quietRegistrar)
			require.NoError(t, err)
			require.NoError(t, r.Register(context.Background()))
		}
	}
	all := []string{inst[0].HTTP.Addr, inst[1].HTTP.Addr, inst[2].HTTP.Addr}

	// The typed client.
	instancer, err := consul.NewInstancer(client, service)
	require.NoError(t, err)
	t.Cleanup(instancer.Stop)
	w := watch(t, instancer)
	endpointer := discovery.NewEndpointer(instancer, echoFactory,
		discovery.EndpointerLogger(slog.New(slog.DiscardHandler)),
		discovery.EndpointerOutlierEjection(discovery.OutlierEjection{ConsecutiveFailures: 3}))
	t.Cleanup(func() { assert.NoError(t, endpointer.Close()) })
	call := discovery.Retry(discovery.RoundRobin(endpointer),
		discovery.RetryIdempotentCalls(),
		discovery.RetryMaxAttempts(3),
		discovery.RetryAttemptTimeout(250*time.Millisecond),
		discovery.RetryBudget(discovery.NewBudget(0.5, 10)))
	w.WaitFor(t, 0, deadline, "three healthy instances", hasInstances(all...))
	require.Eventually(t, func() bool { return len(endpointer.Instances()) == 3 }, deadline, time.Millisecond)

	// The plain grpc-go client.
	conn, err := grpc.NewClient("consul:///"+service+"-grpc",
		grpc.WithResolvers(consul.NewResolver(client)),
		grpc.WithDefaultServiceConfig(`{
			"loadBalancingConfig": [{"round_robin":{}}],
			"methodConfig": [{"name": [{}], "retryPolicy": {"maxAttempts": 3, "initialBackoff": "0.01s", "maxBackoff": "0.1s",
				"backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}]}`),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	tc := testpb.NewTestClient(conn)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		seen := map[string]bool{}
		for range 12 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			reply, err := tc.Sum(ctx, &testpb.SumRequest{}, grpc.WaitForReady(true))
			cancel()
			if assert.NoError(c, err) {
				seen[reply.C] = true
			}
		}
		assert.Len(c, seen, 3)
	}, deadline, 10*time.Millisecond, "the grpc-go client reaches every instance")

	typed := discoverytest.StartLoad(4, time.Millisecond, func(n int) error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := call(ctx, discoverytest.EchoRequest{N: n})
		return err
	})
	resolved := discoverytest.StartLoad(2, time.Millisecond, func(int) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := tc.Sum(ctx, &testpb.SumRequest{}, grpc.WaitForReady(true))
		return err
	})
	time.Sleep(300 * time.Millisecond)

	mark := w.Mark()
	at, faulty, note := fc.fault(t, c, inst)
	row := discoverytest.FaultRow{Fault: fc.name, Note: note}
	others := slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s == faulty.HTTP.Addr })
	row.Balancer = discoverytest.Until(t, at, deadline, "the balancer leaves the faulty instance out", func() bool {
		active := slices.DeleteFunc(endpointer.Instances(), func(s string) bool { return slices.Contains(endpointer.Ejected(), s) })
		return !slices.Contains(active, faulty.HTTP.Addr)
	})
	ev := w.WaitFor(t, mark, deadline, "the set without the faulty instance", hasInstances(others...))
	row.Set = ev.At.Sub(at)
	for _, e := range w.Events()[mark:] {
		t.Logf("event %+8.0f ms: %d instances, err %v", float64(e.At.Sub(at))/1e6, len(e.Instances), e.Err)
	}
	require.Eventually(t, func() bool { return slices.Equal(endpointer.Instances(), others) }, deadline, time.Millisecond,
		"the endpointer follows the instancer")
	time.Sleep(300 * time.Millisecond) // calls go on over the right set

	row.Typed = typed.Stop()
	r := resolved.Stop()
	row.Resolver = &r
	t.Logf("typed client: %d calls, %d failed (first: %v); grpc-go client: %d calls, %d failed (first: %v); out of the balancer after %v, set right after %v (%s)",
		row.Typed.Calls, row.Typed.Failures, row.Typed.First, r.Calls, r.Failures, r.First, row.Balancer, row.Set, note)
	assert.Zero(t, row.Typed.Failures, "the typed client's retries cover the fault")
	if !fc.resolverFails {
		assert.Zero(t, r.Failures, "grpc-go's retries cover the fault")
	}
	return row
}
