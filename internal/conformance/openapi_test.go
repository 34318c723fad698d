package conformance_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit/examples/usersvc"
)

// exampleDoc is the example service's OpenAPI document.
var exampleDoc = filepath.Join(repoRoot, "examples", "usersvc", "user_service.openapi.json")

// emittedOpenAPI returns every OpenAPI document kitgen wrote under root.
// JSON has no room for the generated-code header: kitgen's documents are
// recognised by their shape, as kitgen itself does.
func emittedOpenAPI(t *testing.T, root string) []string {
	t.Helper()
	var docs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (name == "node_modules" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".openapi.json") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err == nil && bytes.HasPrefix(data, []byte("{\n  \"components\"")) && bytes.Contains(data, []byte(`"openapi": "3.1.0"`)) {
			docs = append(docs, path)
		}
		return err
	})
	require.NoError(t, err)
	return docs
}

// redoclyReport is what redocly lint --format=json prints.
type redoclyReport struct {
	Totals struct {
		Errors, Warnings int
	}
	Problems []struct {
		RuleID   string `json:"ruleId"`
		Severity string
		Message  string
		Location []struct {
			Source  struct{ Ref string }
			Pointer string
		}
	}
}

// TestRedoclyLint lints every OpenAPI document kitgen emitted in the
// repository with Redocly's recommended rules: no errors anywhere, and
// none at all, not even a warning, in the example's, which uses kitgen's
// flags for servers and license and //kit:security annotations.
func TestRedoclyLint(t *testing.T) {
	t.Parallel()
	requireNode(t)
	docs := emittedOpenAPI(t, repoRoot)
	require.Contains(t, docs, exampleDoc)
	out, err := run(t, 2*time.Minute, bin("redocly"), append([]string{"lint", "--extends=recommended", "--format=json"}, docs...)...)
	start := strings.Index(out, "{")
	require.GreaterOrEqual(t, start, 0, "redocly printed no report (%v):\n%s", err, out)
	var report redoclyReport
	require.NoError(t, json.NewDecoder(strings.NewReader(out[start:])).Decode(&report), out)
	byDoc := map[string][]string{}
	for _, p := range report.Problems {
		src, pointer := "", ""
		if len(p.Location) > 0 {
			src, pointer = filepath.Clean(p.Location[0].Source.Ref), p.Location[0].Pointer
		}
		line := p.Severity + " " + p.RuleID + ": " + p.Message + " at " + src + " " + pointer
		byDoc[src] = append(byDoc[src], line)
		if p.Severity == "error" {
			t.Error(line)
		}
	}
	assert.Zero(t, report.Totals.Errors, "redocly lint errors")
	assert.Empty(t, byDoc[filepath.Clean(exampleDoc)], "the example's document lints clean")
	if err != nil && report.Totals.Errors == 0 {
		t.Errorf("redocly exited with %v and no error:\n%s", err, out)
	}
}

// prism is a Prism validation proxy in front of an upstream server.
type prism struct {
	url  string
	cmd  *exec.Cmd
	logs *syncBuffer
}

var listening = regexp.MustCompile(`Prism is listening on (http://127\.0\.0\.1:[0-9]+)`)

// startPrism starts `prism proxy --errors` for the document in front of
// upstream, on a loopback port of its choosing, and stops it at the end
// of the test.
func startPrism(t *testing.T, doc, upstream string) *prism {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin("prism"), "proxy", "--errors", "-h", "127.0.0.1", "-p", "0", doc, upstream)
	cmd.Env = nodeEnv()
	cmd.WaitDelay = 5 * time.Second
	logs := &syncBuffer{}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = logs
	require.NoError(t, cmd.Start())
	found := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			logs.WriteString(line + "\n")
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-scanned
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prism's log:\n%s", logs.String())
		}
	})
	select {
	case url := <-found:
		return &prism{url: url, cmd: cmd, logs: logs}
	case <-scanned:
		t.Fatalf("prism stopped before it listened:\n%s", logs.String())
	case <-time.After(90 * time.Second):
		t.Fatalf("prism did not listen in 90s:\n%s", logs.String())
	}
	return nil
}

// TestPrismValidationProxy runs the example's HTTP flows through a Prism
// validation proxy that checks every request and response against the
// example's OpenAPI document: with --errors, a request that violates the
// document is answered 422 by Prism and a response that does is turned
// into a 500; either way the sl-violations header lists the violations.
func TestPrismValidationProxy(t *testing.T) {
	t.Parallel()
	requireNode(t)
	upstream := httptest.NewServer(usersvc.NewHTTPHandler(usersvc.NewEndpoints(usersvc.NewStore(), usersvc.Middlewares{})))
	defer upstream.Close()
	p := startPrism(t, exampleDoc, upstream.URL)

	const token = "Bearer conformance" // the document asks write methods for one; the bare handler ignores it
	flows := []struct {
		name, method, path, body string
		auth                     bool
		status                   int
		want                     string // a part of the body
	}{
		{"create", "POST", "/users", `{"name":"Ada","email":"ada@example.com"}`, true, 200, `"id":"u000001"`},
		{"create another", "POST", "/users", `{"name":"Bob","email":"bob@example.com"}`, true, 200, `"id":"u000002"`},
		{"get", "GET", "/users/u000001", "", false, 200, `"name":"Ada"`},
		{"list", "GET", "/users?pageSize=1", "", false, 200, `"nextPageToken":"u000001"`},
		{"list next page", "GET", "/users?pageSize=1&pageToken=u000001", "", false, 200, `"nextPageToken":""`},
		{"update", "PUT", "/users/u000001", `{"name":"Ada Lovelace","email":"ada@example.com"}`, true, 200, `"name":"Ada Lovelace"`},
		{"delete", "DELETE", "/users/u000002", "", true, 200, `{}`},
		{"not found", "GET", "/users/u000002", "", false, 404, `"code":"not_found"`},
		{"delete not found", "DELETE", "/users/u000002", "", true, 404, `"code":"not_found"`},
		{"validation error", "POST", "/users", `{"name":"","email":"not an email"}`, true, 400, `"violations":[`},
		{"empty body", "POST", "/users", ``, true, 400, `"code":"invalid_argument"`},
		{"already exists", "POST", "/users", `{"name":"Ada","email":"ADA@example.com"}`, true, 409, `"code":"already_exists"`},
		// What the document forbids, Prism refuses itself: the proxy
		// validates, so the flows above passing means something.
		{"refused by Prism", "GET", "/users?pageSize=x", "", false, 422, `"location":["query","pagesize"]`},
	}
	for _, f := range flows {
		// Serial: the flows are steps on one store.
		t.Run(f.name, func(t *testing.T) {
			var body io.Reader
			if f.body != "" {
				body = strings.NewReader(f.body)
			}
			req, err := http.NewRequest(f.method, p.url+f.path, body)
			require.NoError(t, err)
			req.Header.Set("Accept", "application/json, application/problem+json")
			if f.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if f.auth {
				req.Header.Set("Authorization", token)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			if f.status != http.StatusUnprocessableEntity {
				assert.Empty(t, resp.Header.Values("sl-violations"), "Prism found violations")
			}
			assert.Equal(t, f.status, resp.StatusCode, "%s", got)
			assert.Contains(t, string(got), f.want)
		})
	}
}

// syncBuffer is a buffer that a process writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) WriteString(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(s)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestPrismCatchesResponseViolations checks the check: an upstream that
// answers what the document does not allow is caught by the proxy.
func TestPrismCatchesResponseViolations(t *testing.T) {
	t.Parallel()
	requireNode(t)
	liar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":5}`))
	}))
	defer liar.Close()
	p := startPrism(t, exampleDoc, liar.URL)
	resp, err := http.Get(p.url + "/users/u1")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.NotEmpty(t, resp.Header.Values("sl-violations"), "%d %s", resp.StatusCode, body)
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode, "%s", body)
}
