package consul_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
	"github.com/typedkit/kit/discovery/consul"
	"github.com/typedkit/kit/internal/consultest"
)

// propagation is the longest a registry change may take to reach a
// subscriber; the tests wait longer (deadline) so that a slow run reports
// the time it took.
const (
	propagation = time.Second
	deadline    = 10 * time.Second
)

// registerTTL registers an instance of service with a TTL check and
// returns its registrar, deregistered when the test ends.
func registerTTL(t *testing.T, client *api.Client, service string, port int, tags ...string) *consul.Registrar {
	t.Helper()
	r, err := consul.NewRegistrar(client, consul.Service{
		Name: service, Address: "127.0.0.1", Port: port, Tags: tags,
		Check: &consul.Check{TTL: time.Minute},
	}, quietRegistrar)
	require.NoError(t, err)
	require.NoError(t, r.Register(context.Background()))
	t.Cleanup(func() { _ = r.Deregister(context.Background()) })
	return r
}

func addrs(ports ...int) []string {
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	}
	slices.Sort(out)
	return out
}

// Not parallel: it asserts that each change arrives within a second,
// which other tests' agents and load can delay.
func TestInstancerFollowsHealth(t *testing.T) {
	client := newClient(t, agent)
	const service = "follow"
	regs := []*consul.Registrar{
		registerTTL(t, client, service, 7001),
		registerTTL(t, client, service, 7002),
		registerTTL(t, client, service, 7003),
	}
	inst, err := consul.NewInstancer(client, service)
	require.NoError(t, err)
	t.Cleanup(inst.Stop)
	w := watch(t, inst)
	w.WaitFor(t, 0, deadline, "three instances", hasInstances(addrs(7001, 7002, 7003)...))

	steps := []struct {
		name   string
		change func() error
		want   []string
	}{
		{"check fails", func() error {
			return client.Agent().FailTTL("service:"+regs[0].ID(), "failing")
		}, addrs(7002, 7003)},
		{"check passes again", func() error {
			return client.Agent().PassTTL("service:"+regs[0].ID(), "")
		}, addrs(7001, 7002, 7003)},
		{"check warns", func() error {
			return client.Agent().WarnTTL("service:"+regs[1].ID(), "")
		}, addrs(7001, 7003)},
		{"deregistered", func() error {
			return regs[2].Deregister(context.Background())
		}, addrs(7001)},
		{"registered again", func() error {
			return regs[2].Register(context.Background())
		}, addrs(7001, 7003)},
	}
	for _, s := range steps {
		mark := w.Mark()
		start := time.Now()
		require.NoError(t, s.change(), s.name)
		ev := w.WaitFor(t, mark, deadline, s.name, hasInstances(s.want...))
		took := ev.At.Sub(start)
		t.Logf("%s: reached the subscriber in %v", s.name, took)
		assert.Less(t, took, propagation, "%s: the change must reach the client within a second", s.name)
	}
}

func TestInstancerOptions(t *testing.T) {
	t.Parallel()
	client := newClient(t, agent)
	const service = "options"
	registerTTL(t, client, service, 7101, "v1", "blue")
	registerTTL(t, client, service, 7102, "v1", "green")
	failing := registerTTL(t, client, service, 7103, "v2")
	require.NoError(t, client.Agent().FailTTL("service:"+failing.ID(), ""))
	ipv6, err := consul.NewRegistrar(client, consul.Service{Name: service, Address: "::1", Port: 7104, Tags: []string{"v6"}})
	require.NoError(t, err)
	require.NoError(t, ipv6.Register(context.Background()))
	t.Cleanup(func() { _ = ipv6.Deregister(context.Background()) })

	tests := []struct {
		name    string
		opts    []consul.InstancerOption
		want    []string
		wantErr string
	}{
		{name: "passing only by default", want: append(addrs(7101, 7102), "[::1]:7104")},
		{name: "one tag", opts: []consul.InstancerOption{consul.InstancerTags("v1")}, want: addrs(7101, 7102)},
		{name: "all tags", opts: []consul.InstancerOption{consul.InstancerTags("v1", "green")}, want: addrs(7102)},
		{name: "tag only a failing instance has", opts: []consul.InstancerOption{consul.InstancerTags("v2")}, want: nil},
		{name: "failing included", opts: []consul.InstancerOption{consul.InstancerTags("v2"), consul.InstancerIncludeFailing()}, want: addrs(7103)},
		{name: "IPv6 address bracketed", opts: []consul.InstancerOption{consul.InstancerTags("v6")}, want: []string{"[::1]:7104"}},
		{name: "own datacenter", opts: []consul.InstancerOption{consul.InstancerDatacenter("dc1"), consul.InstancerTags("blue")}, want: addrs(7101)},
		{name: "unknown datacenter", opts: []consul.InstancerOption{consul.InstancerDatacenter("nowhere")}, wantErr: "No path to datacenter"},
		{name: "tag nobody has", opts: []consul.InstancerOption{consul.InstancerTags("none")}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := append([]consul.InstancerOption{consul.InstancerWaitTime(time.Second), consul.InstancerBackoff(10*time.Millisecond, 50*time.Millisecond)}, tt.opts...)
			inst, err := consul.NewInstancer(client, service, opts...)
			require.NoError(t, err)
			defer inst.Stop()
			w := watch(t, inst)
			if tt.wantErr != "" {
				ev := w.WaitFor(t, 0, deadline, "an error", func(ev discovery.Event) bool { return ev.Err != nil })
				assert.ErrorContains(t, ev.Err, tt.wantErr)
				assert.ErrorContains(t, ev.Err, `consul: watching "options"`)
				return
			}
			w.WaitFor(t, 0, deadline, fmt.Sprint(tt.want), hasInstances(tt.want...))
		})
	}
}

func TestNewInstancerValidates(t *testing.T) {
	t.Parallel()
	client := newClient(t, agent)
	tests := []struct {
		name    string
		client  *api.Client
		service string
		wantErr string
	}{
		{"nil client", nil, "x", "nil client"},
		{"no service", client, "", "needs a service name"},
		{"slash in service", client, "a/b", "must not contain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inst, err := consul.NewInstancer(tt.client, tt.service)
			assert.ErrorContains(t, err, tt.wantErr)
			assert.Nil(t, inst)
		})
	}
}

func TestInstancerStopEndsBlockingQuery(t *testing.T) {
	t.Parallel()
	client := newClient(t, agent)
	registerTTL(t, client, "stop", 7201)
	inst, err := consul.NewInstancer(client, "stop", consul.InstancerWaitTime(5*time.Minute))
	require.NoError(t, err)
	w := watch(t, inst)
	w.WaitFor(t, 0, deadline, "the instance", hasInstances(addrs(7201)...))
	// The watch is now blocked in a query that would wait five minutes.
	stopped := make(chan struct{})
	go func() {
		inst.Stop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(deadline):
		t.Fatal("Stop did not end the blocking query")
	}
	inst.Stop() // a second Stop returns at once
}

// TestInstancerOutage stops the agent under a watching client and starts it
// again: the client keeps its last set and reports the error while the agent
// is away, and recovers without being rebuilt. Not parallel: while the agent
// is stopped its ports are free, and a listener of a parallel test could
// take one before Restart binds it again.
func TestInstancerOutage(t *testing.T) {
	a := consultest.Start(t)
	client := newClient(t, a)
	const service = "outage"
	for _, port := range []int{7301, 7302, 7303} {
		r, err := consul.NewRegistrar(client, consul.Service{
			Name: service, Address: "127.0.0.1", Port: port,
			Check: &consul.Check{TTL: 3 * time.Second, Heartbeat: 200 * time.Millisecond},
		}, quietRegistrar)
		require.NoError(t, err)
		require.NoError(t, r.Register(context.Background()))
		t.Cleanup(func() { _ = r.Deregister(context.Background()) })
	}
	want := addrs(7301, 7302, 7303)

	inst, err := consul.NewInstancer(client, service, consul.InstancerBackoff(20*time.Millisecond, 200*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(inst.Stop)
	w := watch(t, inst)
	endpointer := discovery.NewEndpointer(inst, func(instance string) (kit.Endpoint[string, string], io.Closer, error) {
		return func(context.Context, string) (string, error) { return instance, nil }, nil, nil
	})
	t.Cleanup(func() { require.NoError(t, endpointer.Close()) })
	w.WaitFor(t, 0, deadline, "three instances", hasInstances(want...))

	mark := w.Mark()
	require.NoError(t, a.Stop())
	ev := w.WaitFor(t, mark, deadline, "an error", func(ev discovery.Event) bool { return ev.Err != nil })
	assert.Equal(t, want, ev.Instances, "the last good set is kept")
	t.Logf("error while the agent is away: %v", ev.Err)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Error(c, endpointer.Err())
	}, deadline, 5*time.Millisecond)
	assert.Equal(t, want, endpointer.Instances(), "the client keeps calling the last good set")
	time.Sleep(300 * time.Millisecond) // several failed attempts, with backoff
	state, _ := inst.State()
	assert.Error(t, state.Err)
	assert.Equal(t, want, state.Instances)

	mark = w.Mark()
	start := time.Now()
	require.NoError(t, a.Restart())
	w.WaitFor(t, mark, deadline, "recovery", hasInstances(want...))
	t.Logf("recovered %v after the agent was started again", time.Since(start))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.NoError(c, endpointer.Err())
		assert.Equal(c, want, endpointer.Instances())
	}, deadline, 5*time.Millisecond)
}

// TestPropagation measures how long a registration and a deregistration take
// to reach a subscribed client through the agent, and logs the medians.
// Not parallel: other tests' load would distort what it measures.
func TestPropagation(t *testing.T) {
	client := newClient(t, agent)
	const service, runs = "propagation", 9
	inst, err := consul.NewInstancer(client, service)
	require.NoError(t, err)
	t.Cleanup(inst.Stop)
	w := watch(t, inst)
	w.WaitFor(t, 0, deadline, "the empty set", hasInstances())

	r, err := consul.NewRegistrar(client, consul.Service{Name: service, Address: "127.0.0.1", Port: 7401})
	require.NoError(t, err)
	var up, down []time.Duration
	for range runs {
		mark, start := w.Mark(), time.Now()
		require.NoError(t, r.Register(context.Background()))
		up = append(up, w.WaitFor(t, mark, deadline, "the instance", hasInstances(addrs(7401)...)).At.Sub(start))

		mark, start = w.Mark(), time.Now()
		require.NoError(t, r.Deregister(context.Background()))
		down = append(down, w.WaitFor(t, mark, deadline, "no instance", hasInstances()).At.Sub(start))
	}
	t.Logf("registration reaches the client in %v (median of %d; all: %v)", median(up), runs, up)
	t.Logf("deregistration reaches the client in %v (median of %d; all: %v)", median(down), runs, down)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
