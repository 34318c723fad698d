package consultest_test

import (
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/typedkit/kit/internal/consultest"
)

func TestAgentStopRestartKeepsRegistrations(t *testing.T) {
	defer goleak.VerifyNone(t)

	a := consultest.Start(t)
	c := a.Client(t)
	leader, err := c.Status().Leader()
	require.NoError(t, err)
	assert.NotEmpty(t, leader)

	require.NoError(t, c.Agent().ServiceRegister(&api.AgentServiceRegistration{
		ID: "web-1", Name: "web", Address: "127.0.0.1", Port: 8080,
	}))

	addr := a.Addr
	require.NoError(t, a.Stop())
	_, err = c.Status().Leader()
	require.Error(t, err, "the stopped agent does not answer")
	require.NoError(t, a.Stop(), "stopping twice is harmless")

	require.NoError(t, a.Restart())
	assert.Equal(t, addr, a.Addr, "same address after restart")
	require.Eventually(t, func() bool {
		entries, _, err := c.Health().Service("web", "", false, nil)
		return err == nil && len(entries) == 1
	}, 10*time.Second, 20*time.Millisecond, "the registration survives the restart")

	require.NoError(t, a.Close())
	require.NoError(t, a.Close(), "closing twice is harmless")
	require.Error(t, a.Restart())
}

func TestAgentsDoNotShareAnything(t *testing.T) {
	defer goleak.VerifyNone(t)
	a, b := consultest.Start(t), consultest.Start(t)
	require.NotEqual(t, a.Addr, b.Addr)
	require.NoError(t, a.Client(t).Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "x", Name: "x", Port: 1}))
	services, err := b.Client(t).Agent().Services()
	require.NoError(t, err)
	assert.NotContains(t, services, "x")
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
}

func TestBinary(t *testing.T) {
	path, err := consultest.Binary()
	require.NoError(t, err)
	assert.FileExists(t, path)
}
