package etcd_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
	"github.com/typedkit/kit/discovery/etcd"
	"github.com/typedkit/kit/internal/etcdtest"
)

// instances is a set of in-process instances that a Factory makes
// endpoints of: each answers with its own address, and records when its
// endpoint is closed.
type instances struct {
	mu     sync.Mutex
	closed map[string]int
}

func (in *instances) factory(instance string) (kit.Endpoint[string, string], io.Closer, error) {
	ep := func(context.Context, string) (string, error) { return instance, nil }
	return ep, closerFunc(func() error {
		in.mu.Lock()
		defer in.mu.Unlock()
		if in.closed == nil {
			in.closed = map[string]int{}
		}
		in.closed[instance]++
		return nil
	}), nil
}

func (in *instances) closedCount(instance string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.closed[instance]
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// TestEndpointerThroughAnOutage runs a Factory-backed Endpointer and a
// retrying round-robin client over the Instancer while etcd is killed and
// restarted: calls never fail, the endpoints survive the outage, and after
// etcd is back a new instance gets calls and a deregistered one stops
// getting them, its endpoint closed. Not parallel: while the server is
// stopped its ports are free, and a listener of a parallel test could take
// one before Restart binds it again.
func TestEndpointerThroughAnOutage(t *testing.T) {
	s := etcdtest.Start(t)
	admin := newClient(t, s.Endpoints()...)
	watched := newClient(t, s.Endpoints()...)
	const service = "endpointer"
	long := etcd.RegistrarTTL(time.Minute)
	a := register(t, admin, service, 9961, long)
	register(t, admin, service, 9962, long)

	inst, err := etcd.NewInstancer(watched, service)
	require.NoError(t, err)
	t.Cleanup(inst.Stop)
	var in instances
	e := discovery.NewEndpointer(inst, in.factory)
	t.Cleanup(func() { _ = e.Close() })
	call := discovery.Retry(discovery.RoundRobin(e))

	// answered makes n calls and returns who answered them; no call may
	// fail.
	answered := func(t require.TestingT, n int) map[string]bool {
		got := map[string]bool{}
		for range n {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			who, err := call(ctx, "hi")
			cancel()
			require.NoError(t, err)
			got[who] = true
		}
		return got
	}
	set := func(ports ...int) map[string]bool {
		m := map[string]bool{}
		for _, a := range addrs(ports...) {
			m[a] = true
		}
		return m
	}

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, addrs(9961, 9962), e.Instances())
	}, deadline, 5*time.Millisecond)
	assert.Equal(t, set(9961, 9962), answered(t, 10))

	require.NoError(t, s.Kill())
	require.Eventually(t, func() bool { return e.Err() != nil }, deadline, 5*time.Millisecond, "the Endpointer learns that etcd is away")
	assert.Equal(t, set(9961, 9962), answered(t, 10), "the endpoints survive the outage")
	assert.ErrorContains(t, e.Err(), `etcd: watching "endpointer"`)

	require.NoError(t, s.Restart())
	back := time.Now()
	fresh := newClient(t, s.Endpoints()...)
	register(t, fresh, service, 9963, long)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, a.Deregister(ctx))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.NoError(c, e.Err())
		assert.Equal(c, addrs(9962, 9963), e.Instances())
	}, deadline, 5*time.Millisecond)
	t.Logf("after etcd came back, a registration and a deregistration reached the Endpointer within %v", time.Since(back))
	assert.Equal(t, set(9962, 9963), answered(t, 10))
	assert.Equal(t, 1, in.closedCount(addrs(9961)[0]), "the deregistered instance's endpoint is closed")
	assert.Zero(t, in.closedCount(addrs(9962)[0]))
}
