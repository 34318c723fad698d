package etcd_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/typedkit/kit/discovery/etcd"
	"github.com/typedkit/kit/internal/etcdtest"
)

func TestNewRegistrarValidates(t *testing.T) {
	t.Parallel()
	client := newClient(t, server.Endpoints()...)
	ok := etcd.Service{Name: "users", Address: "127.0.0.1", Port: 8080}
	with := func(f func(*etcd.Service)) etcd.Service {
		s := ok
		f(&s)
		return s
	}
	tests := []struct {
		name    string
		service etcd.Service
		opts    []etcd.RegistrarOption
		wantErr string // empty: valid
		wantKey string
	}{
		{name: "minimal", service: ok, wantKey: "/typedkit/services/users/127.0.0.1:8080"},
		{name: "IPv6 address", service: with(func(s *etcd.Service) { s.Address = "2001:db8::7" }), wantKey: "/typedkit/services/users/[2001:db8::7]:8080"},
		{name: "host name", service: with(func(s *etcd.Service) { s.Address = "users-0.users.svc" }), wantKey: "/typedkit/services/users/users-0.users.svc:8080"},
		{name: "explicit ID", service: with(func(s *etcd.Service) { s.ID = "users-1" }), wantKey: "/typedkit/services/users/users-1"},
		{name: "prefix", service: ok, opts: []etcd.RegistrarOption{etcd.RegistrarPrefix("/services/")}, wantKey: "/services/users/127.0.0.1:8080"},
		{name: "no name", service: with(func(s *etcd.Service) { s.Name = "" }), wantErr: "Service.Name is required"},
		{name: "slash in name", service: with(func(s *etcd.Service) { s.Name = "a/b" }), wantErr: "Service.Name"},
		{name: "space in ID", service: with(func(s *etcd.Service) { s.ID = "a b" }), wantErr: "Service.ID"},
		{name: "slash in ID", service: with(func(s *etcd.Service) { s.ID = "a/b" }), wantErr: "Service.ID"},
		{name: "no address", service: with(func(s *etcd.Service) { s.Address = "" }), wantErr: "Service.Address is required"},
		{name: "address with port", service: with(func(s *etcd.Service) { s.Address = "10.0.0.1:80" }), wantErr: "must not include a port"},
		{name: "bracketed address", service: with(func(s *etcd.Service) { s.Address = "[::1]" }), wantErr: "without brackets"},
		{name: "port zero", service: with(func(s *etcd.Service) { s.Port = 0 }), wantErr: "Service.Port 0"},
		{name: "port too big", service: with(func(s *etcd.Service) { s.Port = 70000 }), wantErr: "Service.Port 70000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := etcd.NewRegistrar(client, tt.service, tt.opts...)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Nil(t, r)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantKey, r.Key())
			assert.Zero(t, r.Lease(), "no lease before Register")
		})
	}
	_, err := etcd.NewRegistrar(nil, ok)
	assert.ErrorContains(t, err, "nil client")
}

// TestRegistrarRegistersAndRevokes registers an instance: its key holds
// its host:port on a lease of the TTL asked for, kept alive well past the
// TTL; Deregister revokes the lease, and the key is gone at once.
func TestRegistrarRegistersAndRevokes(t *testing.T) {
	t.Parallel()
	client := newClient(t, server.Endpoints()...)
	tests := []struct {
		name    string
		ttl     time.Duration
		wantTTL int64 // the TTL etcd grants
	}{
		{"default TTL", 0, 5},
		{"two seconds", 2 * time.Second, 2},
		{"rounded up", 2100 * time.Millisecond, 3},
		{"raised to etcd's minimum", 500 * time.Millisecond, 2},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []etcd.RegistrarOption
			if tt.ttl > 0 {
				opts = append(opts, etcd.RegistrarTTL(tt.ttl))
			}
			r := register(t, client, "reg-ttl", 9100+i, opts...)
			ctx := context.Background()
			require.NoError(t, r.Register(ctx), "registering again does nothing")

			resp, err := client.Get(ctx, r.Key())
			require.NoError(t, err)
			require.Len(t, resp.Kvs, 1)
			assert.Equal(t, addrs(9100 + i)[0], string(resp.Kvs[0].Value))
			assert.Equal(t, r.Lease(), clientv3.LeaseID(resp.Kvs[0].Lease), "the key is on the registrar's lease")

			ttl, err := client.TimeToLive(ctx, r.Lease())
			require.NoError(t, err)
			assert.Equal(t, tt.wantTTL, ttl.GrantedTTL)

			require.NoError(t, r.Deregister(ctx))
			resp, err = client.Get(ctx, r.Key())
			require.NoError(t, err)
			assert.Empty(t, resp.Kvs, "the key is gone as soon as Deregister returns")
			assert.Zero(t, r.Lease())
			require.NoError(t, r.Deregister(ctx), "deregistering twice is harmless")
		})
	}
}

// TestRegistrarOutlivesTTL registers with etcd's shortest TTL and waits
// several TTLs: the keepalive keeps the same lease and key.
func TestRegistrarOutlivesTTL(t *testing.T) {
	t.Parallel()
	client := newClient(t, server.Endpoints()...)
	r := register(t, client, "reg-keepalive", 9200, etcd.RegistrarTTL(2*time.Second))
	lease := r.Lease()
	time.Sleep(5 * time.Second) // two and a half TTLs: not a timing assertion, a span to outlive
	resp, err := client.Get(context.Background(), r.Key())
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1, "the key outlives its TTL")
	assert.Equal(t, lease, clientv3.LeaseID(resp.Kvs[0].Lease), "on the same lease")
	assert.Equal(t, lease, r.Lease())
}

// TestRegistrarHonoursContext registers with a context that has ended:
// Register fails with the context's error and leaves nothing in etcd.
func TestRegistrarHonoursContext(t *testing.T) {
	t.Parallel()
	client := newClient(t, server.Endpoints()...)
	r, err := etcd.NewRegistrar(client, etcd.Service{Name: "reg-ctx", Address: "127.0.0.1", Port: 9300}, quietRegistrar)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = r.Register(ctx)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	assert.Contains(t, err.Error(), r.Key())
	resp, err := client.Get(context.Background(), r.Key())
	require.NoError(t, err)
	assert.Empty(t, resp.Kvs)
	require.NoError(t, r.Deregister(context.Background()), "nothing to deregister")
}

// TestRegistrarProcessDies registers through a client of its own and
// closes that client without deregistering, as a process that dies does:
// its keepalive stops, and the instance leaves the watching Instancer when
// the lease expires. The test logs how long that took.
func TestRegistrarProcessDies(t *testing.T) {
	t.Parallel()
	watcherClient := newClient(t, server.Endpoints()...)
	const service = "reg-dies"
	inst, err := etcd.NewInstancer(watcherClient, service)
	require.NoError(t, err)
	t.Cleanup(inst.Stop)
	w := watch(t, inst)

	dying := newClient(t, server.Endpoints()...)
	r, err := etcd.NewRegistrar(dying, etcd.Service{Name: service, Address: "127.0.0.1", Port: 9400}, etcd.RegistrarTTL(2*time.Second), quietRegistrar)
	require.NoError(t, err)
	require.NoError(t, r.Register(context.Background()))
	w.WaitFor(t, 0, deadline, "the instance", hasInstances(addrs(9400)...))

	mark, start := w.Mark(), time.Now()
	require.NoError(t, dying.Close())
	ev := w.WaitFor(t, mark, deadline, "the instance gone", hasInstances())
	t.Logf("a registrar whose process died left %v after its client closed (TTL 2s)", ev.At.Sub(start))
	assert.ErrorContains(t, r.Deregister(context.Background()), "the client is closed")
	assert.ErrorContains(t, r.Register(context.Background()), "the client is closed")
}

// TestRegistrarRegistersAgain takes the lease away while the process
// lives, in the two ways it can go: revoked behind the registrar's back,
// and expired while etcd was away for longer than the TTL. The registrar
// puts the instance back with a new lease as soon as etcd answers; the
// test logs how long that took.
func TestRegistrarRegistersAgain(t *testing.T) {
	t.Run("revoked", func(t *testing.T) {
		t.Parallel()
		client := newClient(t, server.Endpoints()...)
		const service = "reg-revoked"
		inst, err := etcd.NewInstancer(client, service)
		require.NoError(t, err)
		t.Cleanup(inst.Stop)
		w := watch(t, inst)
		r := register(t, client, service, 9500, etcd.RegistrarTTL(2*time.Second))
		w.WaitFor(t, 0, deadline, "the instance", hasInstances(addrs(9500)...))

		old := r.Lease()
		mark, start := w.Mark(), time.Now()
		_, err = client.Revoke(context.Background(), old)
		require.NoError(t, err)
		w.WaitFor(t, mark, deadline, "the instance gone", hasInstances())
		ev := w.WaitFor(t, mark, deadline, "the instance back", hasInstances(addrs(9500)...))
		t.Logf("a revoked registration was back %v later", ev.At.Sub(start))
		require.Eventually(t, func() bool { l := r.Lease(); return l != 0 && l != old }, deadline, 10*time.Millisecond, "a new lease")
	})

	// Not parallel: while the server is stopped its ports are free, and a
	// listener of a parallel test could take one before Restart binds it
	// again.
	t.Run("expired while etcd was away", func(t *testing.T) {
		s := etcdtest.Start(t)
		client := newClient(t, s.Endpoints()...)
		const service = "reg-expired"
		r := register(t, client, service, 9600, etcd.RegistrarTTL(2*time.Second))
		old := r.Lease()

		require.NoError(t, s.Kill())
		// The client gives the lease up once no keepalive has been
		// answered for a TTL; wait for that, well past it.
		require.Eventually(t, func() bool { return r.Lease() == 0 }, deadline, 10*time.Millisecond, "the registrar notices the lost lease")

		require.NoError(t, s.Restart())
		start := time.Now()
		other := newClient(t, s.Endpoints()...)
		require.Eventually(t, func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			resp, err := other.Get(ctx, r.Key())
			return err == nil && len(resp.Kvs) == 1 && clientv3.LeaseID(resp.Kvs[0].Lease) != old && clientv3.LeaseID(resp.Kvs[0].Lease) == r.Lease()
		}, deadline, 10*time.Millisecond, "the instance registered again on a new lease\n%s", s.Logs())
		t.Logf("the registration was back %v after etcd restarted", time.Since(start))

		// The old lease, which etcd restored with its data, expires
		// without taking the key along.
		ctx := context.Background()
		require.Eventually(t, func() bool {
			ttl, err := other.TimeToLive(ctx, old)
			return err == nil && ttl.TTL == -1
		}, deadline, 50*time.Millisecond, "the old lease expires")
		resp, err := other.Get(ctx, r.Key())
		require.NoError(t, err)
		assert.Len(t, resp.Kvs, 1, "the key stays on its new lease")
	})
}

// TestRegistrarDeregisterWhileEtcdHangs deregisters while etcd does not
// answer: Deregister gives up when its context ends and says so, the next
// Deregister after etcd is back removes the key, and the instance can
// register again.
func TestRegistrarDeregisterWhileEtcdHangs(t *testing.T) {
	t.Parallel()
	s := etcdtest.Start(t)
	client := newClient(t, s.Endpoints()...)
	r := register(t, client, "reg-hung", 9690)

	require.NoError(t, s.Pause())
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	err := r.Deregister(ctx)
	cancel()
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)

	require.NoError(t, s.Resume())
	ctx, cancel = context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, r.Deregister(ctx), "the next Deregister removes the key")
	resp, err := client.Get(ctx, r.Key())
	require.NoError(t, err)
	assert.Empty(t, resp.Kvs)

	require.NoError(t, r.Register(ctx), "the instance registers again")
	resp, err = client.Get(ctx, r.Key())
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	assert.Equal(t, r.Lease(), clientv3.LeaseID(resp.Kvs[0].Lease))
}
