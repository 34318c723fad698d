package consultest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/typedkit/kit/internal/consultest"
)

// api calls the agent's HTTP API: it sends body (when not nil) as JSON,
// fails the test on a status other than 200 and decodes the answer into
// out (when not nil).
type api struct {
	t      *testing.T
	addr   string
	client *http.Client
}

func newAPI(t *testing.T, a *consultest.Agent) *api {
	return &api{t: t, addr: a.Addr, client: &http.Client{Transport: a.Transport(t), Timeout: 5 * time.Second}}
}

// do returns the transport's error, so a test can expect one from a stopped
// agent.
func (c *api) do(method, path string, body, out any) error {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(c.t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+c.addr+path, r)
	require.NoError(c.t, err)
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	require.Equal(c.t, http.StatusOK, resp.StatusCode, "%s %s: %s", method, path, data)
	if out != nil {
		require.NoError(c.t, json.Unmarshal(data, out), "%s %s: %s", method, path, data)
	}
	return nil
}

// registration is a service registration as the agent takes it.
type registration struct {
	ID      string
	Name    string
	Address string `json:",omitempty"`
	Port    int
}

// service is a service as the agent lists it.
type service struct {
	ID      string
	Service string
	Address string
	Port    int
}

func (c *api) register(s registration) {
	c.t.Helper()
	require.NoError(c.t, c.do(http.MethodPut, "/v1/agent/service/register", s, nil))
}

func (c *api) services() map[string]service {
	c.t.Helper()
	var out map[string]service
	require.NoError(c.t, c.do(http.MethodGet, "/v1/agent/services", nil, &out))
	return out
}

func TestAgentStopRestartKeepsRegistrations(t *testing.T) {
	defer goleak.VerifyNone(t)

	a := consultest.Start(t)
	c := newAPI(t, a)
	var leader string
	require.NoError(t, c.do(http.MethodGet, "/v1/status/leader", nil, &leader))
	assert.NotEmpty(t, leader)

	c.register(registration{ID: "web-1", Name: "web", Address: "127.0.0.1", Port: 8080})

	addr := a.Addr
	require.NoError(t, a.Stop())
	require.Error(t, c.do(http.MethodGet, "/v1/status/leader", nil, &leader), "the stopped agent does not answer")
	require.NoError(t, a.Stop(), "stopping twice is harmless")

	require.NoError(t, a.Restart())
	assert.Equal(t, addr, a.Addr, "same address after restart")
	require.Eventually(t, func() bool {
		var entries []json.RawMessage
		err := c.do(http.MethodGet, "/v1/health/service/web", nil, &entries)
		return err == nil && len(entries) == 1
	}, 10*time.Second, 20*time.Millisecond, "the registration survives the restart")
	assert.Equal(t, service{ID: "web-1", Service: "web", Address: "127.0.0.1", Port: 8080}, c.services()["web-1"])

	require.NoError(t, a.Close())
	require.NoError(t, a.Close(), "closing twice is harmless")
	require.Error(t, a.Restart())
}

func TestAgentsDoNotShareAnything(t *testing.T) {
	defer goleak.VerifyNone(t)
	a, b := consultest.Start(t), consultest.Start(t)
	require.NotEqual(t, a.Addr, b.Addr)
	newAPI(t, a).register(registration{ID: "x", Name: "x", Port: 1})
	assert.Contains(t, newAPI(t, a).services(), "x")
	assert.NotContains(t, newAPI(t, b).services(), "x")
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
}

func TestBinary(t *testing.T) {
	t.Parallel()
	path, err := consultest.Binary()
	require.NoError(t, err)
	assert.FileExists(t, path)
}
