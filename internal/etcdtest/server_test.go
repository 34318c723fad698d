package etcdtest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/typedkit/kit/internal/etcdtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// kv reads and writes keys through etcd's JSON gateway, so that these
// tests need no etcd client.
type kv struct {
	t      *testing.T
	addr   string
	client *http.Client
}

func newKV(t *testing.T, s *etcdtest.Server) *kv {
	tr := &http.Transport{Proxy: nil}
	t.Cleanup(tr.CloseIdleConnections)
	return &kv{t: t, addr: s.Addr, client: &http.Client{Transport: tr, Timeout: 5 * time.Second}}
}

// call posts body to the gateway's path and decodes the answer into out. It
// returns the transport's error, so a test can expect one from a server
// that is away.
func (c *kv) call(ctx context.Context, path string, body, out any) error {
	c.t.Helper()
	b, err := json.Marshal(body)
	require.NoError(c.t, err)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+c.addr+path, bytes.NewReader(b))
	require.NoError(c.t, err)
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	require.Equal(c.t, http.StatusOK, resp.StatusCode, "%s: %s", path, data)
	if out != nil {
		require.NoError(c.t, json.Unmarshal(data, out), "%s: %s", path, data)
	}
	return nil
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func (c *kv) put(key, value string) {
	c.t.Helper()
	require.NoError(c.t, c.call(context.Background(), "/v3/kv/put", map[string]string{"key": b64(key), "value": b64(value)}, nil))
}

// get returns the value of key, and false when there is none.
func (c *kv) get(ctx context.Context, key string) (string, bool, error) {
	c.t.Helper()
	var out struct {
		Kvs []struct{ Value string }
	}
	if err := c.call(ctx, "/v3/kv/range", map[string]string{"key": b64(key)}, &out); err != nil {
		return "", false, err
	}
	if len(out.Kvs) == 0 {
		return "", false, nil
	}
	v, err := base64.StdEncoding.DecodeString(out.Kvs[0].Value)
	require.NoError(c.t, err)
	return string(v), true, nil
}

func (c *kv) mustGet(key string) string {
	c.t.Helper()
	v, ok, err := c.get(context.Background(), key)
	require.NoError(c.t, err)
	require.True(c.t, ok, "key %q", key)
	return v
}

// TestStopKillRestartKeepData stops the server each way it can go away and
// starts it again: the keys written before survive on the same address.
// Not parallel: while the server is stopped its ports are free, and a
// listener of a parallel test could take one before Restart binds it again.
func TestStopKillRestartKeepData(t *testing.T) {
	tests := []struct {
		name string
		stop func(*etcdtest.Server) error
	}{
		{"stop", (*etcdtest.Server).Stop},
		{"kill", (*etcdtest.Server).Kill},
		{"pause", (*etcdtest.Server).Pause}, // Restart ends a paused server too
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := etcdtest.Start(t)
			c := newKV(t, s)
			c.put("/k", "v1")

			addr := s.Addr
			require.NoError(t, tt.stop(s))
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			_, _, err := c.get(ctx, "/k")
			cancel()
			require.Error(t, err, "the server does not answer")

			require.NoError(t, s.Restart())
			assert.Equal(t, addr, s.Addr, "same address after restart")
			assert.Equal(t, []string{"http://" + addr}, s.Endpoints())
			assert.Equal(t, "v1", c.mustGet("/k"), "the key survives")
			c.put("/k", "v2")
			assert.Equal(t, "v2", c.mustGet("/k"))

			require.NoError(t, s.Stop())
			require.NoError(t, s.Stop(), "stopping twice is harmless")
			require.NoError(t, s.Kill(), "killing a stopped server is harmless")
			require.NoError(t, s.Close())
			require.NoError(t, s.Close(), "closing twice is harmless")
			require.Error(t, s.Restart())
		})
	}
}

// TestPauseResume pauses the server: requests wait unanswered on open
// connections, and are answered once it resumes.
func TestPauseResume(t *testing.T) {
	t.Parallel()
	s := etcdtest.Start(t)
	c := newKV(t, s)
	c.put("/k", "v")
	require.NoError(t, s.Pause())

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, _, err := c.get(ctx, "/k")
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "a paused server accepts but does not answer")

	got := make(chan string, 1)
	go func() {
		v, _, _ := c.get(context.Background(), "/k")
		got <- v
	}()
	require.NoError(t, s.Resume())
	require.NoError(t, s.Resume(), "resuming twice is harmless")
	select {
	case v := <-got:
		assert.Equal(t, "v", v, "a request sent while paused is answered once the server resumes")
	case <-time.After(10 * time.Second):
		t.Fatalf("no answer after Resume; etcd log:\n%s", s.Logs())
	}
	require.NoError(t, s.Close())
	require.Error(t, s.Pause(), "a closed server cannot be paused")
}

func TestServersDoNotShareAnything(t *testing.T) {
	t.Parallel()
	a, b := etcdtest.Start(t), etcdtest.Start(t)
	require.NotEqual(t, a.Addr, b.Addr)
	newKV(t, a).put("/only-a", "x")
	_, ok, err := newKV(t, b).get(context.Background(), "/only-a")
	require.NoError(t, err)
	assert.False(t, ok)
	assert.NotContains(t, b.Logs(), "panic")
}

func TestBinary(t *testing.T) {
	t.Parallel()
	path, err := etcdtest.Binary()
	require.NoError(t, err)
	assert.FileExists(t, path)
}

// The version this package names, and the Makefile's, are the version the
// tool module pins, so the cached server's file name changes with the pin.
func TestVersionMatchesPin(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	gomod, err := os.ReadFile(filepath.Join(root, "internal", "tools", "etcd", "go.mod"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^\s*go\.etcd\.io/etcd/server/v3 (v\S+)`).FindSubmatch(gomod)
	require.NotNil(t, m, "internal/tools/etcd/go.mod requires no go.etcd.io/etcd/server/v3")
	assert.Equal(t, etcdtest.Version, string(m[1]), "internal/tools/etcd/go.mod pins another version")
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	require.NoError(t, err)
	assert.True(t, regexp.MustCompile(`(?m)^ETCD_VERSION\s*:=\s*`+regexp.QuoteMeta(etcdtest.Version)+`\s*$`).Match(makefile),
		"the Makefile's ETCD_VERSION is not %s", etcdtest.Version)
}
