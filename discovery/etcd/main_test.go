package etcd_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/typedkit/kit/discovery"
	"github.com/typedkit/kit/discovery/etcd"
	"github.com/typedkit/kit/internal/discoverytest"
	"github.com/typedkit/kit/internal/etcdtest"
)

// server is the etcd server the tests of this package share. Tests that
// stop it, or need a revision history of their own, start one of their
// own.
var server *etcdtest.Server

func TestMain(m *testing.M) {
	discoverytest.ServeIfInstance(registerSelf) // when TestFaults runs this binary as an instance
	s, err := etcdtest.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	server = s
	code := m.Run()
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// deadline bounds every wait for a condition: generous, so that a loaded
// machine makes a test slow, never failed. The tests log the times they
// measure instead of asserting them.
const deadline = 15 * time.Second

var quietRegistrar = etcd.RegistrarLogger(slog.New(slog.DiscardHandler))

// newClient returns an etcd client of the server s (or of a proxy's
// address), closed when tb ends.
func newClient(tb testing.TB, endpoints ...string) *clientv3.Client {
	tb.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, DialOptions: etcd.DialOptions(), Logger: zap.NewNop()})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// register registers an instance of service at 127.0.0.1:port through
// client and returns its registrar, deregistered when the test ends.
func register(t *testing.T, client *clientv3.Client, service string, port int, opts ...etcd.RegistrarOption) *etcd.Registrar {
	t.Helper()
	r, err := etcd.NewRegistrar(client, etcd.Service{Name: service, Address: "127.0.0.1", Port: port}, append([]etcd.RegistrarOption{quietRegistrar}, opts...)...)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, r.Register(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = r.Deregister(ctx)
	})
	return r
}

// watch, the watcher and hasInstances are discoverytest's, shared with the
// other backends' tests.
func watch(t *testing.T, src discovery.Instancer) *discoverytest.Watcher {
	t.Helper()
	return discoverytest.Watch(t, src)
}

func hasInstances(want ...string) func(discovery.Event) bool {
	return discoverytest.HasInstances(want...)
}

// failingWith returns a predicate for an error event that still holds
// exactly want, the last good set.
func failingWith(want ...string) func(discovery.Event) bool {
	want = slices.Sorted(slices.Values(want))
	return func(ev discovery.Event) bool {
		return ev.Err != nil && slices.Equal(ev.Instances, want)
	}
}

func addrs(ports ...int) []string {
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = fmt.Sprintf("127.0.0.1:%d", p)
	}
	slices.Sort(out)
	return out
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
