package codegen

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit/internal/consultest"
	"github.com/typedkit/kit/internal/etcdtest"
)

// TestNewScaffoldRegisters scaffolds the service with each discovery
// backend, builds it, runs it against a real Consul agent or etcd server
// (or with no registry), and checks that it registers and, at shutdown,
// deregisters.
func TestNewScaffoldRegisters(t *testing.T) {
	// Serial: it builds and runs modules, CPU-bound work that running
	// beside the others would only slow down on a small machine.
	if testing.Short() {
		t.Skip("builds modules and starts registries; run without -short")
	}
	for _, backend := range []string{DiscoveryNone, DiscoveryConsul, DiscoveryEtcd} {
		t.Run(backend, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "usersvc")
			_, err := New(NewOptions{IDL: writeIDL(t, seedIDL), Out: out, Import: "example.com/usersvc", Service: "UserService",
				HTTP: true, Discovery: backend, Replace: repoRoot(t)})
			require.NoError(t, err)
			mainGo, err := os.ReadFile(filepath.Join(out, "cmd", "userservice", "main.go"))
			require.NoError(t, err)
			goMod, err := os.ReadFile(filepath.Join(out, "go.mod"))
			require.NoError(t, err)
			for _, b := range []string{DiscoveryConsul, DiscoveryEtcd} {
				assert.Equal(t, b == backend, strings.Contains(string(mainGo), `"`+b+`.addr"`), "main.go has -%s.addr", b)
				assert.Equal(t, b == backend, strings.Contains(string(goMod), "kit/discovery/"+b+" "), "go.mod requires discovery/%s", b)
			}
			goCmd(t, out, "mod", "tidy")
			goCmd(t, out, "vet", "./...")

			httpAddr := freeAddr(t)
			var args []string
			var registered func() bool
			switch backend {
			case DiscoveryConsul:
				agent := consultest.Start(t)
				args = []string{"-consul.addr", agent.Addr}
				port := portOf(t, httpAddr)
				registered = func() bool {
					var entries []struct {
						Service struct{ Port int }
					}
					body := httpGet(t, "http://"+agent.Addr+"/v1/health/service/userservice?passing=1")
					require.NoError(t, json.Unmarshal([]byte(body), &entries), body)
					return len(entries) == 1 && strconv.Itoa(entries[0].Service.Port) == port
				}
			case DiscoveryEtcd:
				server := etcdtest.Start(t)
				args = []string{"-etcd.addr", server.Addr}
				registered = func() bool {
					return strings.Contains(etcdValues(t, server.Addr, "/typedkit/services/userservice/"), httpAddr)
				}
			}
			stop := startScaffold(t, out, httpAddr, "", args...)
			if registered == nil {
				return
			}
			require.Eventually(t, registered, 20*time.Second, 20*time.Millisecond, "the service registers in %s", backend)
			stop()
			assert.False(t, registered(), "the service deregisters at shutdown")
		})
	}
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	return port
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	code, body := httpStatus(t, http.MethodGet, url, "")
	require.Equal(t, http.StatusOK, code, body)
	return body
}

// etcdValues returns the values under prefix in the etcd at addr, through
// etcd's JSON gateway: the root module has no etcd client.
func etcdValues(t *testing.T, addr, prefix string) string {
	t.Helper()
	end := []byte(prefix)
	end[len(end)-1]++
	body, err := json.Marshal(map[string]string{
		"key":       base64.StdEncoding.EncodeToString([]byte(prefix)),
		"range_end": base64.StdEncoding.EncodeToString(end),
	})
	require.NoError(t, err)
	code, resp := httpStatus(t, http.MethodPost, "http://"+addr+"/v3/kv/range", string(body))
	require.Equal(t, http.StatusOK, code, resp)
	var r struct {
		KVs []struct{ Value []byte } `json:"kvs"`
	}
	require.NoError(t, json.Unmarshal([]byte(resp), &r))
	var vals []string
	for _, kv := range r.KVs {
		vals = append(vals, string(kv.Value))
	}
	return strings.Join(vals, " ")
}
