package etcd_test

import (
	"context"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/typedkit/kit/discovery"
	"github.com/typedkit/kit/discovery/etcd"
	"github.com/typedkit/kit/internal/discoverytest"
	"github.com/typedkit/kit/internal/etcdtest"
)

func TestNewInstancerValidates(t *testing.T) {
	t.Parallel()
	client := newClient(t, server.Endpoints()...)
	tests := []struct {
		name    string
		client  *clientv3.Client
		service string
		wantErr string
	}{
		{"nil client", nil, "users", "nil client"},
		{"no service", client, "", "needs a service name"},
		{"slash", client, "a/b", "must not contain '/'"},
		{"space", client, "a b", "must not contain '/' or spaces"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inst, err := etcd.NewInstancer(tt.client, tt.service)
			assert.ErrorContains(t, err, tt.wantErr)
			assert.Nil(t, inst)
		})
	}
}

// TestInstancerFollowsKeys registers and deregisters instances and writes
// keys that are not instances of the service: the Instancer reports
// exactly the instances of its service under its prefix.
func TestInstancerFollowsKeys(t *testing.T) {
	t.Parallel()
	client := newClient(t, server.Endpoints()...)
	ctx := context.Background()
	tests := []struct {
		name    string
		service string
		prefix  string // empty: the default
	}{
		{"default prefix", "follow", ""},
		{"own prefix", "follow", "/other/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var iopts []etcd.InstancerOption
			var ropts []etcd.RegistrarOption
			prefix := etcd.DefaultPrefix
			if tt.prefix != "" {
				iopts, ropts, prefix = append(iopts, etcd.InstancerPrefix(tt.prefix)), append(ropts, etcd.RegistrarPrefix(tt.prefix)), "/other"
			}
			base := 9700
			if tt.prefix != "" {
				base = 9710
			}
			// Keys that are not instances of the service, before and after
			// the Instancer starts: a service whose name extends this one's,
			// and values that are not host:port.
			register(t, client, tt.service+"2", base+9, ropts...)
			_, err := client.Put(ctx, prefix+"/"+tt.service+"/junk", "not an address")
			require.NoError(t, err)
			t.Cleanup(func() { _, _ = client.Delete(context.Background(), prefix+"/"+tt.service+"/junk") })

			a := register(t, client, tt.service, base+1, ropts...)
			inst, err := etcd.NewInstancer(client, tt.service, iopts...)
			require.NoError(t, err)
			t.Cleanup(inst.Stop)
			w := watch(t, inst)
			w.WaitFor(t, 0, deadline, "the first instance", hasInstances(addrs(base+1)...))

			mark := w.Mark()
			register(t, client, tt.service, base+2, ropts...)
			w.WaitFor(t, mark, deadline, "two instances", hasInstances(addrs(base+1, base+2)...))

			mark = w.Mark()
			_, err = client.Put(ctx, prefix+"/"+tt.service+"/bad-port", "127.0.0.1:http")
			require.NoError(t, err)
			t.Cleanup(func() { _, _ = client.Delete(context.Background(), prefix+"/"+tt.service+"/bad-port") })
			require.NoError(t, a.Deregister(ctx))
			w.WaitFor(t, mark, deadline, "the first instance gone", hasInstances(addrs(base+2)...))

			// A key whose value stops being an address leaves the set.
			mark = w.Mark()
			_, err = client.Put(ctx, prefix+"/"+tt.service+"/127.0.0.1:"+itoa(base+2), "")
			require.NoError(t, err)
			w.WaitFor(t, mark, deadline, "no instance", hasInstances())
			ev, ok := inst.State()
			require.True(t, ok)
			assert.NoError(t, ev.Err)
		})
	}
}

// TestPropagation measures how long a registration and a deregistration take
// to reach a subscribed Instancer through etcd, and logs the medians. Not
// parallel: other tests' load would distort what it measures.
func TestPropagation(t *testing.T) {
	client := newClient(t, server.Endpoints()...)
	const service, runs = "propagation", 15
	inst, err := etcd.NewInstancer(client, service)
	require.NoError(t, err)
	t.Cleanup(inst.Stop)
	w := watch(t, inst)
	w.WaitFor(t, 0, deadline, "the empty set", hasInstances())

	r, err := etcd.NewRegistrar(client, etcd.Service{Name: service, Address: "127.0.0.1", Port: 9801}, quietRegistrar)
	require.NoError(t, err)
	var up, down []time.Duration
	for range runs {
		mark, start := w.Mark(), time.Now()
		require.NoError(t, r.Register(context.Background()))
		up = append(up, w.WaitFor(t, mark, deadline, "the instance", hasInstances(addrs(9801)...)).At.Sub(start))

		mark, start = w.Mark(), time.Now()
		require.NoError(t, r.Deregister(context.Background()))
		down = append(down, w.WaitFor(t, mark, deadline, "no instance", hasInstances()).At.Sub(start))
	}
	t.Logf("registration reaches the Instancer in %v (median of %d, from before Register; all: %v)", median(up), runs, up)
	t.Logf("deregistration reaches the Instancer in %v (median of %d, from before Deregister; all: %v)", median(down), runs, down)
}

// TestInstancerFaults takes etcd away from a watching Instancer in each way
// it can go (stopped, killed, hung, cut off by a network that drops
// packets or resets connections, restarted) for long enough that the
// Instancer's backoff has reached its cap, and brings it back. While etcd
// is away the Instancer keeps the last good set and reports the error;
// once etcd answers, a change reaches it, and the test logs how long after
// etcd came back (the goal is under a second). Not parallel: while a
// server is stopped its ports are free, and a listener of a parallel test
// could take one before Restart binds it again.
func TestInstancerFaults(t *testing.T) {
	tests := []struct {
		name string
		// network faults cut the Instancer's client off through a proxy
		// while etcd itself serves, so the change is made during the fault.
		network      bool
		fault, mend  func(*etcdtest.Server, *discoverytest.Proxy) error
		noErrorEvent bool // the fault is too short to be seen
	}{
		{name: "stop", fault: func(s *etcdtest.Server, _ *discoverytest.Proxy) error { return s.Stop() }, mend: restart},
		{name: "kill", fault: func(s *etcdtest.Server, _ *discoverytest.Proxy) error { return s.Kill() }, mend: restart},
		{
			name:  "hang",
			fault: func(s *etcdtest.Server, _ *discoverytest.Proxy) error { return s.Pause() },
			mend:  func(s *etcdtest.Server, _ *discoverytest.Proxy) error { return s.Resume() },
		},
		{
			name: "network drops packets", network: true,
			fault: func(_ *etcdtest.Server, p *discoverytest.Proxy) error { p.Hold(); return nil },
			mend:  func(_ *etcdtest.Server, p *discoverytest.Proxy) error { p.Heal(); return nil },
		},
		{
			name: "network resets connections", network: true,
			fault: func(_ *etcdtest.Server, p *discoverytest.Proxy) error { p.Refuse(); return nil },
			mend:  func(_ *etcdtest.Server, p *discoverytest.Proxy) error { p.Heal(); return nil },
		},
		{name: "restart", fault: func(*etcdtest.Server, *discoverytest.Proxy) error { return nil }, mend: restart, noErrorEvent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := etcdtest.Start(t)
			p := discoverytest.NewProxy(t, s.Addr)
			watched := newClient(t, s.Endpoints()...)
			if tt.network {
				watched = newClient(t, "http://"+p.Addr)
			}
			// Leases long enough to outlive a hung etcd's clock jump.
			long := etcd.RegistrarTTL(time.Minute)
			admin := newClient(t, s.Endpoints()...)
			const service = "faults"
			inst, err := etcd.NewInstancer(watched, service)
			require.NoError(t, err)
			t.Cleanup(inst.Stop)
			w := watch(t, inst)
			w.WaitFor(t, 0, deadline, "the empty set", hasInstances())
			// Seen through the watch: the fault finds the Instancer
			// watching.
			register(t, admin, service, 9901, long)
			w.WaitFor(t, 0, deadline, "one instance", hasInstances(addrs(9901)...))

			mark, faulted := w.Mark(), time.Now()
			require.NoError(t, tt.fault(s, p))
			if !tt.noErrorEvent {
				ev := w.WaitFor(t, mark, deadline, "an error with the last good set", failingWith(addrs(9901)...))
				t.Logf("the Instancer reported etcd away %v after the fault: %v", ev.At.Sub(faulted), ev.Err)
				time.Sleep(3 * time.Second) // a span for the backoff to reach its cap, not a wait for a condition
				state, _ := inst.State()
				assert.Equal(t, addrs(9901), state.Instances, "the last good set is kept while etcd is away")
				assert.Error(t, state.Err)
			}
			if tt.network {
				// etcd serves; only the Instancer's path is cut: the change
				// happens during the fault.
				register(t, admin, service, 9902, long)
			}

			require.NoError(t, tt.mend(s, p))
			back := time.Now()
			mark = w.Mark()
			var changed time.Time
			if !tt.network {
				// A client of its own, so that the change is not held up by
				// the reconnection of the admin client.
				fresh := newClient(t, s.Endpoints()...)
				register(t, fresh, service, 9902, long)
				changed = time.Now()
			}
			ev := w.WaitFor(t, mark, deadline, "the change made as etcd came back", hasInstances(addrs(9901, 9902)...))
			if tt.network {
				t.Logf("a change made while the network was cut reached the Instancer %v after it healed", ev.At.Sub(back))
			} else {
				t.Logf("a change made as etcd came back (committed %v after etcd answered) reached the Instancer %v after etcd answered, %v after the commit",
					changed.Sub(back), ev.At.Sub(back), ev.At.Sub(changed))
			}
		})
	}
}

func restart(s *etcdtest.Server, _ *discoverytest.Proxy) error { return s.Restart() }

func itoa(n int) string { return strconv.Itoa(n) }

// A tapWatcher counts the watch responses that report a compacted
// revision, on their way from the client's watcher to the Instancer.
type tapWatcher struct {
	clientv3.Watcher
	compacted atomic.Int64
}

func (w *tapWatcher) Watch(ctx context.Context, key string, opts ...clientv3.OpOption) clientv3.WatchChan {
	in := w.Watcher.Watch(ctx, key, opts...)
	out := make(chan clientv3.WatchResponse)
	go func() {
		defer close(out)
		for resp := range in {
			if resp.CompactRevision != 0 {
				w.compacted.Add(1)
			}
			select {
			case out <- resp:
			case <-ctx.Done():
				// The client closes in once ctx has ended; drain it.
			}
		}
	}()
	return out
}

// TestInstancerResyncsAfterCompaction cuts the Instancer's client off while
// the service changes and etcd compacts the revisions the watch would
// resume from. Probes are off, so the client's own watch resumes from its
// last revision when the network heals, and etcd answers that the
// revision is compacted: the Instancer reads the keys afresh and watches
// from there.
func TestInstancerResyncsAfterCompaction(t *testing.T) {
	t.Parallel()
	s := etcdtest.Start(t) // a revision history of its own to compact
	p := discoverytest.NewProxy(t, s.Addr)
	watched := newClient(t, "http://"+p.Addr)
	tap := &tapWatcher{Watcher: watched.Watcher}
	watched.Watcher = tap
	admin := newClient(t, s.Endpoints()...)
	const service = "compacted"

	inst, err := etcd.NewInstancer(watched, service, etcd.InstancerProbeInterval(time.Hour))
	require.NoError(t, err)
	t.Cleanup(inst.Stop)
	w := watch(t, inst)
	w.WaitFor(t, 0, deadline, "the empty set", hasInstances())
	a := register(t, admin, service, 9951)
	w.WaitFor(t, 0, deadline, "one instance", hasInstances(addrs(9951)...))

	p.Refuse()
	ctx := context.Background()
	register(t, admin, service, 9952)
	require.NoError(t, a.Deregister(ctx))
	for range 5 {
		_, err := admin.Put(ctx, "/unrelated", "churn")
		require.NoError(t, err)
	}
	resp, err := admin.Get(ctx, "/unrelated")
	require.NoError(t, err)
	_, err = admin.Compact(ctx, resp.Header.Revision, clientv3.WithCompactPhysical())
	require.NoError(t, err)

	mark, healed := w.Mark(), time.Now()
	p.Heal()
	ev := w.WaitFor(t, mark, deadline, "the set after the compaction", hasInstances(addrs(9952)...))
	t.Logf("the Instancer caught up %v after the network healed (probes off: at the pace of the client's own reconnection)", ev.At.Sub(healed))
	assert.Positive(t, tap.compacted.Load(), "the resumed watch met the compaction")
}

// TestInstancerStopWhileEtcdHangs stops Instancers while etcd does not
// answer, one still waiting for its first read and one watching: Stop
// cancels what is in flight and returns.
func TestInstancerStopWhileEtcdHangs(t *testing.T) {
	t.Parallel()
	s := etcdtest.Start(t)
	client := newClient(t, s.Endpoints()...)
	watching, err := etcd.NewInstancer(client, "hung", etcd.InstancerTimeout(time.Hour))
	require.NoError(t, err)
	w := watch(t, watching)
	w.WaitFor(t, 0, deadline, "the empty set", hasInstances())

	require.NoError(t, s.Pause())
	t.Cleanup(func() { _ = s.Resume() })
	reading, err := etcd.NewInstancer(client, "hung", etcd.InstancerTimeout(time.Hour))
	require.NoError(t, err)

	for _, inst := range []*etcd.Instancer{reading, watching} {
		stopped := make(chan struct{})
		go func() {
			inst.Stop()
			close(stopped)
		}()
		select {
		case <-stopped:
		case <-time.After(deadline):
			t.Fatal("Stop did not return while etcd hangs")
		}
		inst.Stop() // stopping twice is harmless
	}
	_, ok := reading.State()
	assert.False(t, ok, "the reading Instancer never had a state")
}

// TestFollowingANewCluster puts another etcd cluster behind the address
// that a Registrar's and an Instancer's client dial, as a restore from
// scratch or a misdirected DNS name does. The client's watch resumes on a
// cluster whose revisions are unrelated: the Instancer's probe, seeing
// another cluster ID, reads the keys of the new cluster afresh. The
// Registrar's keepalive finds its lease unknown there, and it registers
// the instance again, in the new cluster.
func TestFollowingANewCluster(t *testing.T) {
	t.Parallel()
	old, fresh := etcdtest.Start(t), etcdtest.Start(t)
	p := discoverytest.NewProxy(t, old.Addr)
	moving := newClient(t, "http://"+p.Addr)
	const service = "moved"
	register(t, newClient(t, old.Endpoints()...), service, 9981)
	register(t, newClient(t, fresh.Endpoints()...), service, 9982)
	register(t, moving, service, 9983, etcd.RegistrarTTL(2*time.Second))

	inst, err := etcd.NewInstancer(moving, service)
	require.NoError(t, err)
	t.Cleanup(inst.Stop)
	w := watch(t, inst)
	w.WaitFor(t, 0, deadline, "the old cluster's instances", hasInstances(addrs(9981, 9983)...))

	mark, moved := w.Mark(), time.Now()
	p.Retarget(fresh.Addr)
	p.Refuse()
	p.Heal()
	ev := w.WaitFor(t, mark, deadline, "the new cluster's instance", func(ev discovery.Event) bool {
		return ev.Err == nil && slices.Contains(ev.Instances, addrs(9982)[0])
	})
	t.Logf("the Instancer followed the new cluster %v after the move", ev.At.Sub(moved))
	ev = w.WaitFor(t, mark, deadline, "the moving instance registered in the new cluster", hasInstances(addrs(9982, 9983)...))
	t.Logf("the Registrar registered again in the new cluster %v after the move", ev.At.Sub(moved))
}
