package consul_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/typedkit/kit/discovery"
	"github.com/typedkit/kit/internal/consultest"
	"github.com/typedkit/kit/internal/discoverytest"
)

// agent is the Consul agent the tests of this package share. Tests that
// stop it start one of their own.
var agent *consultest.Agent

func TestMain(m *testing.M) {
	discoverytest.ServeIfInstance(nil) // when TestFaults runs this binary as an instance
	a, err := consultest.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	agent = a
	code := m.Run()
	if err := a.Close(); err != nil {
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

// newClient returns an API client for the agent a on a transport of its
// own, whose idle connections are closed when tb ends and when a is closed.
func newClient(tb testing.TB, a *consultest.Agent) *api.Client {
	tb.Helper()
	c, err := api.NewClient(&api.Config{Address: a.Addr, Scheme: "http", Transport: a.Transport(tb)})
	require.NoError(tb, err)
	return c
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
