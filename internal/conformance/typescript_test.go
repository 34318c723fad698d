package conformance_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/auth"
	"github.com/typedkit/kit/codegen"
	"github.com/typedkit/kit/codegen/testdata/src/edges"
	"github.com/typedkit/kit/examples/usersvc"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/internal/conformance/shapes"
)

// tsServices are the services whose TypeScript clients must typecheck:
// the golden services of codegen and the conformance suite's own (which
// has enums).
var tsServices = []struct{ name, dir, typ string }{
	{"codegen/shapes", filepath.Join(repoRoot, "codegen", "testdata", "src", "shapes"), "Shapes"},
	{"codegen/minimal", filepath.Join(repoRoot, "codegen", "testdata", "src", "minimal"), "Echo"},
	{"codegen/edges", filepath.Join(repoRoot, "codegen", "testdata", "src", "edges"), "Edges"},
	{"examples/usersvc", filepath.Join(repoRoot, "examples", "usersvc"), "UserService"},
	{"conformance/shapes", "shapes", "Shapes"},
}

// tsStricter are the checks beyond --strict that projects turn on; the
// generated file, which becomes part of theirs, passes them too.
var tsStricter = []string{
	"--noUnusedLocals", "--noUnusedParameters", "--noImplicitReturns", "--noFallthroughCasesInSwitch",
	"--exactOptionalPropertyTypes", "--noUncheckedIndexedAccess", "--noPropertyAccessFromIndexSignature",
	"--noImplicitOverride", "--isolatedModules", "--verbatimModuleSyntax",
}

// tsc runs the suite's TypeScript compiler in dir (where no node_modules
// lends it @types, so the file is checked against the platform's types
// alone) and fails the test on any error.
func tsc(t *testing.T, dir string, args ...string) {
	t.Helper()
	compiler, err := filepath.Abs(bin("tsc"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, compiler, args...)
	cmd.Dir = dir
	cmd.Env = nodeEnv()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "tsc %s:\n%s", strings.Join(args, " "), out)
}

// generateTS returns the TypeScript client kitgen generates for a
// service, and its file name.
func generateTS(t *testing.T, dir, typ string) (string, []byte) {
	t.Helper()
	files, err := codegen.Generate(codegen.Options{Dir: dir, Type: typ, TypeScript: true})
	require.NoError(t, err)
	for name, src := range files {
		if strings.HasSuffix(name, ".ts") {
			return name, src
		}
	}
	t.Fatalf("kitgen wrote no .ts file for %s", typ)
	return "", nil
}

// TestTypeScriptTypechecks generates the TypeScript client of every
// golden service and checks it with tsc --strict --noEmit --target es2022
// --lib es2022,dom, then with the stricter checks of tsStricter: no
// errors. The example's committed client is the generated one.
func TestTypeScriptTypechecks(t *testing.T) {
	t.Parallel()
	requireNode(t)
	for _, s := range tsServices {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			name, src := generateTS(t, s.dir, s.typ)
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), src, 0o644))
			base := []string{"--strict", "--noEmit", "--target", "es2022", "--lib", "es2022,dom"}
			tsc(t, dir, append(base, name)...)
			tsc(t, dir, append(append(base, tsStricter...), name)...)
			if s.typ == "UserService" {
				committed, err := os.ReadFile(filepath.Join(s.dir, name))
				require.NoError(t, err)
				assert.Equal(t, string(src), string(committed), "examples/usersvc/%s is stale: run go generate ./... in examples/usersvc", name)
			}
		})
	}
}

// compileTS compiles TypeScript source to an ES module in a directory of
// its own, which it returns.
func compileTS(t *testing.T, name string, src []byte) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), src, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"type": "module"}`+"\n"), 0o644))
	tsc(t, dir, "--strict", "--target", "es2022", "--module", "es2022", "--lib", "es2022,dom", "--outDir", dir, name)
	return dir
}

// tsLine is a line of js/ts_client.mjs: a case and, for the calls the Go
// client makes too, its result.
type tsLine struct {
	Case   string          `json:"case"`
	Result json.RawMessage `json:"result"`
}

// callResult is the result of a call as js/ts_client.mjs prints it: the
// value, or the error with its kit code, public message, violations and
// Retry-After.
type callResult struct {
	Value any        `json:"value,omitempty"`
	Error *callError `json:"error,omitempty"`
}

type callError struct {
	Code       string               `json:"code"`
	Message    string               `json:"message"`
	Violations []kit.FieldViolation `json:"violations"`
	RetryAfter float64              `json:"retryAfter,omitempty"`
}

// goResult is the result of a call of the Go client.
func goResult(t *testing.T, v any, err error) any {
	t.Helper()
	var r callResult
	if err != nil {
		r.Error = &callError{Code: kit.CodeOf(err).String(), Message: kit.MessageOf(err), Violations: kit.ViolationsOf(err)}
		if r.Error.Violations == nil {
			r.Error.Violations = []kit.FieldViolation{}
		}
		if d, ok := kit.RetryAfterOf(err); ok {
			r.Error.RetryAfter = d.Seconds()
		}
	} else {
		r.Value = v
	}
	return normalise(t, r)
}

// normalise returns v as JSON values, with every created_at, which is
// the store's clock, checked to be RFC 3339 and replaced by "RFC 3339".
func normalise(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(data, &out))
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && k == "created_at" {
					_, err := time.Parse(time.RFC3339Nano, s)
					assert.NoError(t, err, "created_at %q", s)
					v[k] = "RFC 3339"
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(out)
	return out
}

// userServer serves the example's HTTP handler on loopback with a fresh
// store, the write methods behind a bearer token guard as the example's
// command has them, and returns its URL and a token it accepts.
func userServer(t *testing.T) (string, string) {
	t.Helper()
	secret := []byte("0123456789abcdef0123456789abcdef")
	verifier, err := auth.NewVerifier[jwt.RegisteredClaims]([]string{"HS256"}, auth.StaticKey(secret))
	require.NoError(t, err)
	reads := func(r *http.Request) bool { return r.Method == http.MethodGet }
	h := usersvc.NewHTTPHandler(usersvc.NewEndpoints(usersvc.NewStore(), usersvc.Middlewares{}),
		httpx.ServerGuard(auth.HTTPGuard(verifier, reads)),
		httpx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) {})))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Subject: "conformance", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)),
	}).SignedString(secret)
	require.NoError(t, err)
	return srv.URL, token
}

// extraUserServer serves /busy/..., a 503 with Retry-After: 3, and
// /slow/..., which answers when the caller goes away.
func extraUserServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/slow/") {
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
			return
		}
		httpx.DefaultErrorEncoder(r.Context(), kit.WithRetryAfter(kit.NewError(kit.Unavailable, "try again later"), 3*time.Second), w)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestTypeScriptClient serves the example service and calls every method
// through its generated TypeScript client (examples/usersvc/user_service.ts
// compiled by tsc and run by Node), with the error paths: not found,
// invalid arguments with violations, wrong types, no or a bad token, a
// route the server lacks, a busy server's Retry-After, a server that is
// gone, an aborted and a timed-out call. Then the Go HTTP client makes the
// same calls against a fresh server of its own: the values, codes,
// messages and violations must be the same. Both stores start empty, so
// the IDs match; created_at, from the stores' clocks, is checked to be
// RFC 3339 on both sides and left out of the comparison.
func TestTypeScriptClient(t *testing.T) {
	t.Parallel()
	node := requireNode(t)
	src, err := os.ReadFile(filepath.Join(repoRoot, "examples", "usersvc", "user_service.ts"))
	require.NoError(t, err)
	dir := compileTS(t, "user_service.ts", src)
	gone := httptest.NewServer(http.NotFoundHandler())
	closed := gone.URL
	gone.Close()
	extra := extraUserServer(t)

	url, token := userServer(t)
	out, err := run(t, 2*time.Minute, node, "js/ts_client.mjs", "usersvc", dir, url, token, closed, extra)
	reportNode(t, out, err)
	ts := map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l tsLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Case != "" && len(l.Result) > 0 {
			var r any
			require.NoError(t, json.Unmarshal(l.Result, &r))
			ts[l.Case] = normalise(t, r)
		}
	}

	// The same calls through the Go client.
	url, token = userServer(t)
	bearer := httpx.ClientBefore(func(ctx context.Context, r *http.Request) context.Context {
		r.Header.Set("Authorization", "Bearer "+token)
		return ctx
	})
	client := func(base string, opts ...httpx.ClientOption) usersvc.UserService {
		c, err := usersvc.NewHTTPClient(base, opts...)
		require.NoError(t, err)
		return c
	}
	writer, reader := client(url, bearer), client(url)
	ctx := context.Background()
	// raw sends what the Go client's types cannot, and reads the answer
	// as the Go client does.
	raw := func(method, path, body string) (any, error) {
		req, err := http.NewRequestWithContext(ctx, method, url+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, httpx.DecodeError(resp)
		}
		var v any
		return v, json.NewDecoder(resp.Body).Decode(&v)
	}
	list := func(c usersvc.UserService, size int, token string) (any, error) {
		users, next, err := c.ListUsers(ctx, size, token)
		return map[string]any{"users": users, "nextPageToken": next}, err
	}
	deleted := func(err error) (any, error) { return map[string]any{}, err }
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	goCalls := []struct {
		name string
		call func() (any, error)
	}{
		{"create ada", func() (any, error) {
			return writer.CreateUser(ctx, usersvc.CreateUserRequest{Name: "Ada", Email: "ada@example.com"})
		}},
		{"create grace", func() (any, error) {
			return writer.CreateUser(ctx, usersvc.CreateUserRequest{Name: "Grace", Email: "grace@example.com"})
		}},
		{"create with the call's headers", func() (any, error) {
			return writer.CreateUser(ctx, usersvc.CreateUserRequest{Name: "Lin", Email: "lin@example.com"})
		}},
		{"get ada", func() (any, error) { return reader.GetUser(ctx, "u000001") }},
		{"update ada", func() (any, error) {
			return writer.UpdateUser(ctx, usersvc.UpdateUserRequest{ID: "u000001", Name: "Ada L.", Email: "ada@example.com"})
		}},
		{"list the first page", func() (any, error) { return list(reader, 1, "") }},
		{"list the next page", func() (any, error) { return list(reader, 10, "u000001") }},
		{"delete ada", func() (any, error) { return deleted(writer.DeleteUser(ctx, "u000001")) }},
		{"get after delete", func() (any, error) { return reader.GetUser(ctx, "u000001") }},
		{"update a missing user", func() (any, error) {
			return writer.UpdateUser(ctx, usersvc.UpdateUserRequest{ID: "u999999", Name: "X", Email: "x@example.com"})
		}},
		{"delete a missing user", func() (any, error) { return deleted(writer.DeleteUser(ctx, "u999999")) }},
		{"get an id that needs escaping", func() (any, error) { return reader.GetUser(ctx, "a/b c?d") }},
		{"create an invalid user", func() (any, error) {
			return writer.CreateUser(ctx, usersvc.CreateUserRequest{Name: " ", Email: "nope"})
		}},
		{"create a duplicate", func() (any, error) {
			return writer.CreateUser(ctx, usersvc.CreateUserRequest{Name: "Grace", Email: "grace@example.com"})
		}},
		{"list with a negative page size", func() (any, error) { return list(reader, -1, "") }},
		{"a number for a string", func() (any, error) { return raw("POST", "/users", `{"email":"five@example.com","name":5}`) }},
		{"a string for a page size", func() (any, error) { return raw("GET", "/users?pageSize=ten&pageToken=", "") }},
		{"create without a token", func() (any, error) {
			return reader.CreateUser(ctx, usersvc.CreateUserRequest{Name: "Eve", Email: "eve@example.com"})
		}},
		{"create with a bad token", func() (any, error) {
			bad := httpx.ClientBefore(func(ctx context.Context, r *http.Request) context.Context {
				r.Header.Set("Authorization", "Bearer not-a-token")
				return ctx
			})
			return client(url, bad).CreateUser(ctx, usersvc.CreateUserRequest{Name: "Eve", Email: "eve@example.com"})
		}},
		{"a route the server does not have", func() (any, error) { return client(url+"/nope").GetUser(ctx, "u000001") }},
		{"busy, retry after", func() (any, error) { return client(extra+"/busy").GetUser(ctx, "u000001") }},
		{"server gone", func() (any, error) { return client(closed).GetUser(ctx, "u000001") }},
		{"aborted", func() (any, error) { return reader.GetUser(canceled, "u000001") }},
		{"timed out", func() (any, error) {
			ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			return client(extra+"/slow").GetUser(ctx, "u000001")
		}},
	}
	names := map[string]bool{}
	for _, c := range goCalls {
		names[c.name] = true
		v, err := c.call()
		want := goResult(t, v, err)
		got, ok := ts[c.name]
		if assert.True(t, ok, "the TypeScript client reported no result for %q", c.name) {
			assert.Equal(t, want, got, "%s: the Go client's result, then the TypeScript client's", c.name)
		}
	}
	for name := range ts {
		assert.True(t, names[name], "the Go client makes no call %q", name)
	}
}

// TestTypeScriptClientInt64 serves echoing implementations of the edges
// golden service and of the conformance suite's shapes service and calls
// them through their TypeScript clients with 64-bit integers beyond 2^53
// − 1, in fields, lone results, lists, maps and any-JSON values: each
// comes back exactly, as a bigint, safe ones as numbers, and floats stay
// numbers even when Go writes them as integers (1e20).
func TestTypeScriptClientInt64(t *testing.T) {
	t.Parallel()
	node := requireNode(t)
	edgesSrc, err := os.ReadFile(filepath.Join(repoRoot, "codegen", "testdata", "src", "edges", "edges.ts"))
	require.NoError(t, err)
	edgesDir := compileTS(t, "edges.ts", edgesSrc)
	name, shapesSrc := generateTS(t, "shapes", "Shapes")
	shapesDir := compileTS(t, name, shapesSrc)

	quiet := kit.ErrorHandlerFunc(func(context.Context, error) {})
	edgesSrv := httptest.NewServer(edges.NewHTTPHandler(edges.NewEndpoints(edgesEcho{}, edges.Middlewares{}), httpx.ServerErrorHandler(quiet)))
	t.Cleanup(edgesSrv.Close)
	shapesSrv := httptest.NewServer(shapes.NewHTTPHandler(shapes.NewEndpoints(shapesEcho{}, shapes.Middlewares{}), httpx.ServerErrorHandler(quiet)))
	t.Cleanup(shapesSrv.Close)

	out, err := run(t, 2*time.Minute, node, "js/ts_client.mjs", "int64", edgesDir, edgesSrv.URL, shapesDir, shapesSrv.URL)
	reportNode(t, out, err)
}

// edgesEcho answers every method of edges.Edges with what it was given.
type edgesEcho struct{}

func (edgesEcho) Now(context.Context) (time.Time, error) {
	return time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC), nil
}
func (edgesEcho) At(_ context.Context, t time.Time) (*time.Time, error)           { return &t, nil }
func (edgesEcho) Sleep(_ context.Context, d time.Duration) (time.Duration, error) { return d, nil }
func (edgesEcho) Resolve(_ context.Context, a netip.Addr) (netip.Prefix, error) {
	return a.Prefix(a.BitLen())
}
func (edgesEcho) Put(_ context.Context, item edges.Item) (edges.Item, error)     { return item, nil }
func (edgesEcho) Grow(_ context.Context, t edges.Tree) (edges.Tree, error)       { return t, nil }
func (edgesEcho) Reserve(_ context.Context, r edges.ReserveRequest) (int, error) { return r.Seats, nil }
func (edgesEcho) Label(_ context.Context, _ edges.Code, l edges.Labels, _ edges.Tags) (edges.Labels, error) {
	return l, nil
}

// Charge answers the amount it read, in its ID.
func (edgesEcho) Charge(_ context.Context, r edges.ChargeRequest) (edges.Charge, error) {
	return edges.Charge{ID: strconv.FormatInt(r.Amount, 10)}, nil
}

// Find answers one item of what the query said.
func (edgesEcho) Find(_ context.Context, f edges.Filter) ([]edges.Item, error) {
	it := edges.Item{Base: edges.Base{ID: f.Near.String()}, Tags: f.Tags, Codes: f.Codes, Raw: json.RawMessage("null")}
	if f.Audit != nil {
		it.Note = f.Audit.Note
	}
	if f.Since != nil {
		it.Created = *f.Since
	}
	return []edges.Item{it}, nil
}

// shapesEcho answers every method of shapes.Shapes with what it was
// given.
type shapesEcho struct{}

func (shapesEcho) Scalars(_ context.Context, s shapes.Scalars) (shapes.Scalars, error) { return s, nil }
func (shapesEcho) Optional(_ context.Context, o shapes.Optional) (shapes.Optional, error) {
	return o, nil
}
func (shapesEcho) Enums(_ context.Context, e shapes.Enums) (shapes.Enums, error) { return e, nil }
func (shapesEcho) Tree(_ context.Context, n shapes.Node) (shapes.Node, error)    { return n, nil }
func (shapesEcho) Collections(_ context.Context, c shapes.Collections) (shapes.Collections, error) {
	return c, nil
}
func (shapesEcho) Times(_ context.Context, t shapes.Times) (shapes.Times, error) { return t, nil }
func (shapesEcho) Generic(_ context.Context, p shapes.Page[shapes.Inner]) (shapes.Page[string], error) {
	return shapes.Page[string]{Next: p.Next}, nil
}
func (shapesEcho) Length(_ context.Context, s string) (int64, error)             { return int64(len(s)), nil }
func (shapesEcho) Blob(_ context.Context, b []byte) ([]byte, error)              { return b, nil }
func (shapesEcho) Shade(_ context.Context, c shapes.Color) (shapes.Color, error) { return c, nil }
func (shapesEcho) List(_ context.Context, items []shapes.Inner) ([]shapes.Inner, error) {
	return items, nil
}
func (shapesEcho) Several(_ context.Context, _ string, b int32, _ []string) (bool, float64, error) {
	return b != 0, float64(b), nil
}
func (shapesEcho) Ping(context.Context) error { return nil }
func (shapesEcho) Fail(_ context.Context, code string, _ int32) error {
	c, ok := kit.ParseCode(code)
	if !ok {
		return errors.New("unknown code " + code)
	}
	return kit.NewError(c, "failed as asked")
}
