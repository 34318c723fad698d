package codegen

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const edgesImpl = `package edges

import (
	"context"
	"net/netip"
	"strings"
	"time"
)

type impl struct{}

func (impl) Now(context.Context) (time.Time, error) { return time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC), nil }
func (impl) At(_ context.Context, t time.Time) (*time.Time, error) {
	if t.IsZero() {
		return nil, nil
	}
	t = t.Add(time.Hour)
	return &t, nil
}
func (impl) Sleep(_ context.Context, d time.Duration) (time.Duration, error) { return 2 * d, nil }
func (impl) Resolve(_ context.Context, a netip.Addr) (netip.Prefix, error)  { return a.Prefix(24) }
func (impl) Find(_ context.Context, f Filter) ([]Item, error) {
	item := Item{Base: Base{ID: strings.Join(f.Tags, ",")}, Audit: f.Audit, Codes: f.Codes, Addr: &f.Near}
	if f.Since != nil {
		item.Created = *f.Since
	}
	return []Item{item}, nil
}
func (impl) Put(_ context.Context, item Item) (Item, error) { return item, nil }
func (impl) Label(_ context.Context, code Code, labels Labels, tags Tags) (Labels, error) {
	text, _ := code.MarshalText()
	out := Labels{"code": string(text), "tags": strings.Join(tags, ",")}
	for k, v := range labels {
		out[k] = v
	}
	return out, nil
}
func (impl) Grow(_ context.Context, t Tree) (Tree, error) { return Tree{Name: "root", Children: []Tree{t}}, nil }
func (impl) Charge(_ context.Context, r ChargeRequest) (Charge, error) {
	return Charge{ID: strings.Repeat("x", int(r.Amount))}, nil
}
func (impl) Reserve(_ context.Context, r ReserveRequest) (int, error) { return r.Seats, nil }
`

const edgesTest = `package edges

import (
	"context"
	"encoding/json"
	"net"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/typedkit/kit"
)

func clients(t *testing.T) map[string]Edges {
	eps := NewEndpoints(impl{}, Middlewares{})
	srv := httptest.NewServer(NewHTTPHandler(eps))
	t.Cleanup(srv.Close)
	hc, err := NewHTTPClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	RegisterGRPC(gs, eps)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return map[string]Edges{"http": hc, "grpc": NewGRPCClient(conn)}
}

func same(t *testing.T, what string, want, got any) {
	t.Helper()
	w, _ := json.Marshal(want)
	g, _ := json.Marshal(got)
	if string(w) != string(g) {
		t.Errorf("%s:\nwant %s\ngot  %s", what, w, g)
	}
}

func TestEveryShapeOverEveryTransport(t *testing.T) {
	// Serial: it builds and runs a module, CPU-bound work that running
	// beside the others would only slow down on a small machine.
	ctx := context.Background()
	for name, c := range clients(t) {
		t.Run(name, func(t *testing.T) {
			now, err := c.Now(ctx)
			if err != nil || !now.Equal(time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)) {
				t.Fatalf("Now: %v %v", now, err)
			}
			when := time.Date(2030, 5, 6, 7, 8, 9, 10, time.UTC)
			at, err := c.At(ctx, when)
			if err != nil || at == nil || !at.Equal(when.Add(time.Hour)) {
				t.Fatalf("At: %v %v", at, err)
			}
			if at, err := c.At(ctx, time.Time{}); err != nil || at != nil {
				t.Fatalf("At zero: %v %v", at, err)
			}
			if d, err := c.Sleep(ctx, -1500*time.Millisecond); err != nil || d != -3*time.Second {
				t.Fatalf("Sleep: %v %v", d, err)
			}
			p, err := c.Resolve(ctx, netip.MustParseAddr("192.0.2.77"))
			if err != nil || p != netip.MustParsePrefix("192.0.2.0/24") {
				t.Fatalf("Resolve: %v %v", p, err)
			}
			since := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
			f := Filter{Audit: &Audit{By: "me", Note: "n"}, Tags: Tags{"a", "b"}, Codes: []Code{{n: 2}, {n: 25}}, Near: netip.MustParseAddr("::1"), Since: &since}
			found, err := c.Find(ctx, f)
			if err != nil {
				t.Fatalf("Find: %v", err)
			}
			same(t, "Find", []Item{{Base: Base{ID: "a,b", Created: since}, Audit: f.Audit, Codes: f.Codes, Addr: &f.Near}}, found)
			if found[0].Codes[1] != (Code{n: 25}) {
				t.Errorf("Find codes: %v", found[0].Codes)
			}
			addr := netip.MustParseAddr("10.1.2.3")
			item := Item{Base: Base{ID: "id/with slash", Created: since}, Audit: &Audit{By: "x"}, Note: "top", Code: Code{n: 1},
				Addr: &addr, Labels: Labels{"k": "v"}, Tags: Tags{"t"}, Raw: json.RawMessage(` + "`" + `{"a":[1,2]}` + "`" + `),
				ByCode: map[string]Code{"c": {n: 3}}, Nets: map[int32]netip.Prefix{7: netip.MustParsePrefix("10.0.0.0/8")}}
			put, err := c.Put(ctx, item)
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			same(t, "Put", item, put)
			if !reflect.DeepEqual(item.ByCode, put.ByCode) || put.Code != item.Code {
				t.Errorf("Put codes: %+v", put)
			}
			labels, err := c.Label(ctx, Code{n: 4}, Labels{"x": "y"}, Tags{"p", "q"})
			if err != nil {
				t.Fatalf("Label: %v", err)
			}
			same(t, "Label", Labels{"code": "E", "tags": "p,q", "x": "y"}, labels)
			tree := Tree{Name: "leaf", Children: []Tree{{Name: "a"}}, Parent: &Tree{Name: "up"}}
			grown, err := c.Grow(ctx, tree)
			if err != nil {
				t.Fatalf("Grow: %v", err)
			}
			same(t, "Grow", Tree{Name: "root", Children: []Tree{tree}}, grown)
			if ch, err := c.Charge(ctx, ChargeRequest{Amount: 3}); err != nil || ch.ID != "xxx" {
				t.Fatalf("Charge: %v %v", ch, err)
			}
			if n, err := c.Reserve(ctx, ReserveRequest{Seats: 2}); err != nil || n != 2 {
				t.Fatalf("Reserve: %v %v", n, err)
			}
			if _, err := c.Reserve(ctx, ReserveRequest{}); kit.CodeOf(err) != kit.InvalidArgument {
				t.Fatalf("Reserve with no seats, validated with a pointer receiver: %v", err)
			}
		})
	}
}
`

// TestEndToEndEdges serves the edges golden service (lone times and texts,
// text types in paths and queries, embedded structs, named slices and
// maps, recursion, a pointer-receiver Validate) over HTTP and gRPC in a
// new module, and calls every method through both generated clients.
func TestEndToEndEdges(t *testing.T) {
	// Serial: it builds and runs a module, CPU-bound work that running
	// beside the others would only slow down on a small machine.
	if testing.Short() {
		t.Skip("builds a module; run without -short")
	}
	root := repoRoot(t)
	mod := t.TempDir()
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	service, err := os.ReadFile("testdata/src/edges/service.go")
	require.NoError(t, err)
	files := map[string]string{
		"go.mod":        "module example.com/edges\n\ngo 1.26.7\n\nrequire github.com/typedkit/kit v0.0.0\n\nreplace github.com/typedkit/kit => " + root + "\n",
		"go.sum":        string(sum),
		"service.go":    string(service),
		"impl.go":       edgesImpl,
		"edges_test.go": edgesTest,
	}
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(mod, name), []byte(content), 0o644))
	}
	_, err = Write(Options{Dir: mod, Type: "Edges", HTTP: true, GRPC: true})
	require.NoError(t, err)
	cmd := exec.Command("go", "test", "-count=1", "./...")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.True(t, strings.Contains(string(out), "ok"), "%s", out)
}
