package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/typedkit/kit/discovery/etcd"
	"github.com/typedkit/kit/internal/etcdtest"
)

func TestEtcdFlags(t *testing.T) {
	t.Parallel()
	c, err := parseFlags([]string{"-dev", "-etcd.addr", "10.0.0.1:2379, 10.0.0.2:2379,"})
	require.NoError(t, err)
	assert.Equal(t, []string{"10.0.0.1:2379", "10.0.0.2:2379"}, c.etcdAddrs)

	c, err = parseFlags([]string{"-dev"})
	require.NoError(t, err)
	assert.Empty(t, c.etcdAddrs, "no registration by default")

	_, err = parseFlags([]string{"-dev", "-etcd.addr", "127.0.0.1:2379", "-consul.addr", "127.0.0.1:8500"})
	assert.ErrorContains(t, err, "one registry")
}

// TestEtcdRegistration runs the service with -etcd.addr against a real etcd
// server: a client's Instancer finds it while it serves, and it leaves
// etcd, its lease revoked, when it gets SIGTERM.
func TestEtcdRegistration(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the service and an etcd server")
	}
	server := etcdtest.Start(t)
	client, err := clientv3.New(clientv3.Config{Endpoints: server.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	inst, err := etcd.NewInstancer(client, "usersvc-test")
	require.NoError(t, err)
	t.Cleanup(inst.Stop)

	svc := startService(t, "-dev", "-grpc.addr", "", "-etcd.addr", server.Addr, "-service.name", "usersvc-test")
	httpAddr := strings.TrimPrefix(svc.base, "http://")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		ev, ok := inst.State()
		assert.True(c, ok)
		assert.NoError(c, ev.Err)
		assert.Equal(c, []string{httpAddr}, ev.Instances)
	}, 20*time.Second, 20*time.Millisecond, "the service registers in etcd:\n%s", svc.logs)

	key := etcd.DefaultPrefix + "/usersvc-test/" + httpAddr
	resp, err := client.Get(context.Background(), key)
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	assert.Equal(t, httpAddr, string(resp.Kvs[0].Value))
	lease := clientv3.LeaseID(resp.Kvs[0].Lease)
	assert.NotZero(t, lease, "the key is on a lease")

	svc.stop(t)
	resp, err = client.Get(context.Background(), key)
	require.NoError(t, err)
	assert.Empty(t, resp.Kvs, "deregistered on SIGTERM")
	ttl, err := client.TimeToLive(context.Background(), lease)
	require.NoError(t, err)
	assert.Equal(t, int64(-1), ttl.TTL, "the lease is revoked, not left to expire")
	assert.Contains(t, svc.logs.String(), "deregistered from etcd")
}
