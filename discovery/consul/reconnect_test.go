package consul_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit/discovery"
	"github.com/typedkit/kit/discovery/consul"
	"github.com/typedkit/kit/internal/consultest"
)

// TestInstancerReconnectsAfterARestart stops the agent for long enough that
// a watch with the default backoff has reached its longest delay, starts it
// again and changes the service at once: the watch sees the change about
// as soon as the agent answers (the default backoff stops growing at one
// second), and the test logs how long it took. Not parallel: while the
// agent is stopped its ports are free, and a listener of a parallel test
// could take one before Restart binds it again.
func TestInstancerReconnectsAfterARestart(t *testing.T) {
	a := consultest.Start(t)
	client := newClient(t, a)
	const service = "reconnect"
	registerTTL(t, client, service, 7501)
	inst, err := consul.NewInstancer(client, service)
	require.NoError(t, err)
	t.Cleanup(inst.Stop)
	w := watch(t, inst)
	w.WaitFor(t, 0, deadline, "one instance", hasInstances(addrs(7501)...))

	mark := w.Mark()
	require.NoError(t, a.Stop())
	w.WaitFor(t, mark, deadline, "an error", func(ev discovery.Event) bool { return ev.Err != nil })
	time.Sleep(4 * time.Second) // well past the backoff's growth to its cap

	require.NoError(t, a.Restart())
	mark, start := w.Mark(), time.Now()
	r, err := consul.NewRegistrar(client, consul.Service{Name: service, Address: "127.0.0.1", Port: 7502, Check: &consul.Check{TTL: time.Minute}}, quietRegistrar)
	require.NoError(t, err)
	require.NoError(t, r.Register(context.Background()))
	t.Cleanup(func() { _ = r.Deregister(context.Background()) })
	ev := w.WaitFor(t, mark, deadline, "the new instance", hasInstances(addrs(7501, 7502)...))
	t.Logf("a change made as the agent came back reached the watch %v later", ev.At.Sub(start))
}
