package consul_test

import (
	"context"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/typedkit/kit/discovery/consul"
	"github.com/typedkit/kit/internal/consultest"
	"github.com/typedkit/kit/internal/discoverytest"
)

// consulFaults is one row's Consul: the agent its clients and
// registrations use and, for a cluster, the cluster.
type consulFaults struct {
	agent   *consultest.Agent
	cluster *consultest.Cluster
	inst    []*discoverytest.Instance
}

// without returns the HTTP addresses of the instances but gone.
func (c *consulFaults) without(gone *discoverytest.Instance) []string {
	var out []string
	for _, in := range c.inst {
		if in != gone {
			out = append(out, in.HTTP.Addr)
		}
	}
	return out
}

// deregister withdraws both of an instance's registrations from the agent.
func (c *consulFaults) deregister(t *testing.T, in *discoverytest.Instance) {
	t.Helper()
	client := newClient(t, c.agent)
	for _, s := range []struct{ name, addr string }{{"faults", in.HTTP.Addr}, {"faults-grpc", in.GRPC.Addr}} {
		_, port, _ := net.SplitHostPort(s.addr)
		require.NoError(t, client.Agent().ServiceDeregister(s.name+"-127.0.0.1:"+port))
	}
}

// TestFaults is the fault table of the Consul backend: three instances,
// each a process of its own behind a proxy and registered with an HTTP
// check (1 s interval, 500 ms timeout) under "faults" (HTTP) and
// "faults-grpc", called under load by a typed client and by a plain
// grpc-go client through consul:///faults-grpc (see
// discoverytest.RunFault) while an instance is killed, hung or cut off,
// the agent restarts, or a three-server cluster loses its leader. It logs
// the table; it asserts that the sets get right and that no typed call
// fails, never the times.
//
// Not parallel: its rows measure times, and run agents of their own.
func TestFaults(t *testing.T) {
	cases := []struct {
		name          string
		cluster       bool // a three-server cluster instead of a dev agent
		resolverFails bool
		inject        func(t *testing.T, c *consulFaults) (time.Time, []string, []string, string)
	}{
		{name: "kill (SIGKILL of an instance)", inject: func(t *testing.T, c *consulFaults) (time.Time, []string, []string, string) {
			at := time.Now()
			require.NoError(t, c.inst[0].Kill())
			return at, c.without(c.inst[0]), c.without(c.inst[0]), "set: its check fails"
		}},
		{name: "hang (SIGSTOP of an instance)", resolverFails: true, inject: func(t *testing.T, c *consulFaults) (time.Time, []string, []string, string) {
			at := time.Now()
			require.NoError(t, c.inst[0].Hang())
			return at, c.without(c.inst[0]), c.without(c.inst[0]), "balancer: ejected; set: its check times out"
		}},
		{name: "drop (its proxy stops forwarding)", resolverFails: true, inject: func(t *testing.T, c *consulFaults) (time.Time, []string, []string, string) {
			at := time.Now()
			c.inst[0].Drop()
			return at, c.without(c.inst[0]), c.without(c.inst[0]), "balancer: ejected; set: its check times out"
		}},
		{name: "agent restart", inject: func(t *testing.T, c *consulFaults) (time.Time, []string, []string, string) {
			require.NoError(t, c.agent.Stop())
			time.Sleep(time.Second)
			require.NoError(t, c.agent.Restart())
			at := time.Now()
			c.deregister(t, c.inst[0])
			return at, c.without(c.inst[0]), c.without(c.inst[0]), "agent away 1 s; from its answering again to a deregistration made then"
		}},
		{name: "leader loss (SIGKILL of the leader of 3 servers)", cluster: true, inject: func(t *testing.T, c *consulFaults) (time.Time, []string, []string, string) {
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			leader, err := c.cluster.Leader(ctx)
			require.NoError(t, err)
			require.NotSame(t, c.agent, leader)
			at := time.Now()
			require.NoError(t, leader.Kill())
			c.deregister(t, c.inst[0])
			elected := discoverytest.Until(t, at, deadline, "a new leader", func() bool {
				next, err := c.cluster.Leader(ctx)
				return err == nil && next != leader
			})
			return at, c.without(c.inst[0]), c.without(c.inst[0]),
				"from the kill to a deregistration made at once; a new leader after " + strconv.FormatInt(elected.Milliseconds(), 10) + " ms"
		}},
		{name: "leader loss, a change once a new leader is elected", cluster: true, inject: func(t *testing.T, c *consulFaults) (time.Time, []string, []string, string) {
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			leader, err := c.cluster.Leader(ctx)
			require.NoError(t, err)
			require.NotSame(t, c.agent, leader)
			killed := time.Now()
			require.NoError(t, leader.Kill())
			elected := discoverytest.Until(t, killed, deadline, "a new leader", func() bool {
				next, err := c.cluster.Leader(ctx)
				return err == nil && next != leader
			})
			at := time.Now()
			c.deregister(t, c.inst[0])
			return at, c.without(c.inst[0]), c.without(c.inst[0]),
				"from a deregistration made once a new leader was known (" + strconv.FormatInt(elected.Milliseconds(), 10) + " ms after the kill)"
		}},
	}
	var table []discoverytest.FaultRow
	for _, fc := range cases {
		t.Run(fc.name, func(t *testing.T) {
			c := &consulFaults{}
			if fc.cluster {
				c.cluster = consultest.StartCluster(t, 3)
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				leader, err := c.cluster.Leader(ctx)
				cancel()
				require.NoError(t, err)
				i := slices.IndexFunc(c.cluster.Agents, func(a *consultest.Agent) bool { return a != leader })
				c.agent = c.cluster.Agents[i] // the clients' agent survives the leader
			} else {
				c.agent = consultest.Start(t)
			}
			client := newClient(t, c.agent)
			for i := range 3 {
				in := discoverytest.StartInstance(t, "i"+strconv.Itoa(i))
				c.inst = append(c.inst, in)
				check := &consul.Check{HTTP: "http://" + in.HTTP.Addr + "/health", Interval: time.Second, Timeout: 500 * time.Millisecond}
				for _, s := range []struct{ name, addr string }{{"faults", in.HTTP.Addr}, {"faults-grpc", in.GRPC.Addr}} {
					_, port, _ := net.SplitHostPort(s.addr)
					p, _ := strconv.Atoi(port)
					r, err := consul.NewRegistrar(client, consul.Service{Name: s.name, Address: "127.0.0.1", Port: p, Check: check}, quietRegistrar)
					require.NoError(t, err)
					require.NoError(t, r.Register(context.Background()))
				}
			}
			instancer, err := consul.NewInstancer(client, "faults")
			require.NoError(t, err)
			t.Cleanup(instancer.Stop)
			conn, err := grpc.NewClient("consul:///faults-grpc",
				grpc.WithResolvers(consul.NewResolver(client)),
				grpc.WithDefaultServiceConfig(discoverytest.GRPCServiceConfig),
				grpc.WithTransportCredentials(insecure.NewCredentials()))
			require.NoError(t, err)
			t.Cleanup(func() { _ = conn.Close() })

			table = append(table, discoverytest.RunFault(t, discoverytest.Fault{
				Name:            fc.name,
				Instancer:       instancer,
				Conn:            conn,
				Instances:       c.inst,
				ResolverMayFail: fc.resolverFails,
				Inject: func(t *testing.T) (time.Time, []string, []string, string) {
					return fc.inject(t, c)
				},
			}))
		})
	}
	discoverytest.LogTable(t, "Consul fault table", table)
}
