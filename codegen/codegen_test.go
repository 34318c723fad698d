package codegen

import (
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/tools/go/packages"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/src")

// The golden cases: each is a package under testdata/src whose committed
// _gen.go files are the expected output.
var goldenCases = []struct {
	dir, typ      string
	grpc, mcp, ts bool
	openapi       OpenAPIOptions // the -openapi-* flags of the package's go:generate line
}{
	{"testdata/src/shapes", "Shapes", false, false, true, OpenAPIOptions{}},
	{"testdata/src/minimal", "Echo", true, false, true, OpenAPIOptions{}},
	{"testdata/src/edges", "Edges", true, false, true, OpenAPIOptions{}},
	{"../internal/streamtest", "Streamer", true, false, true, OpenAPIOptions{}},
	{"../examples/usersvc", "UserService", true, true, true, OpenAPIOptions{Servers: []OpenAPIServer{{URL: "http://127.0.0.1:8080"}}, License: "MIT"}},
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, c := range goldenCases {
		t.Run(c.typ, func(t *testing.T) {
			files, err := Generate(Options{Dir: c.dir, Type: c.typ, HTTP: true, GRPC: c.grpc, MCP: c.mcp, TypeScript: c.ts, OpenAPI: c.openapi})
			require.NoError(t, err)
			for name, got := range files {
				path := filepath.Join(c.dir, name)
				if *update {
					require.NoError(t, os.WriteFile(path, got, 0o644))
					continue
				}
				want, err := os.ReadFile(path)
				require.NoError(t, err, "run go test ./codegen -update to create it")
				assert.Equal(t, string(want), string(got), "%s is stale: run go test ./codegen -update", path)
			}

			// protoc compiles the .proto.
			for name, src := range files {
				if strings.HasSuffix(name, ".proto") {
					protoc(t, name, src)
				}
			}

			// Generating again gives the same bytes.
			again, err := Generate(Options{Dir: c.dir, Type: c.typ, HTTP: true, GRPC: c.grpc, MCP: c.mcp, TypeScript: c.ts, OpenAPI: c.openapi})
			require.NoError(t, err)
			assert.Equal(t, files, again)

			// The output type-checks with the package.
			abs, err := filepath.Abs(c.dir)
			require.NoError(t, err)
			overlay := map[string][]byte{}
			for name, src := range files {
				if strings.HasSuffix(name, ".go") {
					overlay[filepath.Join(abs, name)] = src
				}
			}
			pkgs, err := packages.Load(&packages.Config{Mode: packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo, Dir: abs, Overlay: overlay}, ".")
			require.NoError(t, err)
			require.Len(t, pkgs, 1)
			for _, e := range pkgs[0].Errors {
				t.Errorf("generated code does not type-check: %v", e)
			}
		})
	}
}

func TestModel(t *testing.T) {
	t.Parallel()
	svc, err := Load("testdata/src/shapes", "Shapes")
	require.NoError(t, err)
	var names, patterns []string
	for _, m := range svc.Methods {
		names = append(names, m.Name)
		patterns = append(patterns, m.Route.Pattern())
	}
	assert.Equal(t, []string{"StructArg", "PointerArg", "Params", "NoArgs", "Several", "Unnamed", "Search", "Remove", "Header"}, names, "declaration order")
	assert.Equal(t, []string{
		"POST /shapes/structarg", "PUT /accounts/{id}", "POST /params/{user}/{n}", "POST /shapes/noargs",
		"GET /several/{id}", "POST /shapes/unnamed", "GET /search", "DELETE /things/{name}", "POST /shapes/header",
	}, patterns)

	byName := map[string]*Method{}
	for _, m := range svc.Methods {
		byName[m.Name] = m
	}
	assert.False(t, byName["StructArg"].Request.Generated())
	assert.True(t, byName["PointerArg"].Request.Pointer)
	assert.Equal(t, "ParamsRequest", byName["Params"].Request.Name)
	assert.Equal(t, "UnnamedResponse", byName["Unnamed"].Response.Name)
	var fields []string
	for _, f := range byName["Unnamed"].Response.Fields {
		fields = append(fields, f.Name+":"+f.JSON)
	}
	assert.Equal(t, []string{"Result1:result1", "Result2:result2"}, fields)
	assert.Len(t, byName["Search"].QueryBindings, 7)
	assert.True(t, byName["Remove"].QueryBindings[0].Pointer)
	assert.True(t, byName["Remove"].QueryBindings[1].Slice)
	assert.Contains(t, byName["StructArg"].Doc, "takes a request struct")
}

// TestBadInput checks the exact errors for interfaces the generator
// refuses. Each case is put into testdata/bad as service.go.
func TestBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		typ  string
		want string
	}{
		{"no such type", `type S interface{ M(ctx context.Context) error }`, "Missing",
			"no type Missing in package github.com/typedkit/kit/codegen/testdata/bad (DIR) (hint: -type names an interface declared in the package of the directory kitgen runs in)"},
		{"not an interface", `type S struct{}`, "S", "service.go:5:6: S is not an interface"},
		{"generic interface", `type S[T any] interface{ M(ctx context.Context, t T) error }`, "S",
			"service.go:5:6: S is generic (hint: declare a non-generic interface; its methods may use instantiated generic types)"},
		{"empty interface", `type S interface{}`, "S", "service.go:5:6: interface S has no methods"},
		{"no context", `type S interface{ M(id string) error }`, "S",
			"service.go:5:19: S.M: the first parameter must be context.Context (hint: methods have the shape M(ctx context.Context, args...) (results..., error))"},
		{"no error", `type S interface{ M(ctx context.Context) string }`, "S",
			"service.go:5:19: S.M: the last result must be error (hint: methods have the shape M(ctx context.Context, args...) (results..., error))"},
		{"no results", `type S interface{ M(ctx context.Context) }`, "S",
			"service.go:5:19: S.M: the last result must be error (hint: methods have the shape M(ctx context.Context, args...) (results..., error))"},
		{"variadic", `type S interface{ M(ctx context.Context, ids ...string) error }`, "S",
			"service.go:5:19: S.M: variadic parameters are not supported (hint: take a slice instead)"},
		{"channel", `type S interface{ M(ctx context.Context, c chan int) error }`, "S",
			"service.go:5:19: S.M: parameter c is or holds a channel, which cannot cross the wire (hint: use a type that encodes to JSON and is exported or declared in this package)"},
		{"func in a struct", `type T struct{ F func() }
type S interface{ M(ctx context.Context) (T, error) }`, "S",
			"service.go:6:19: S.M: result #1 (field F) is or holds a func, which cannot cross the wire (hint: use a type that encodes to JSON and is exported or declared in this package)"},
		{"unexported foreign type", `type S interface{ M(ctx context.Context, b *strings.Builder, r *big.Rat) error }
var _ = strings.ToUpper`, "S", ""},
		{"unnamed parameter", `type S interface{ M(context.Context, string) error }`, "S",
			"service.go:5:19: S.M: parameter 2 has no name (hint: name the parameters: their names become the request's JSON field names)"},
		{"malformed annotation", `type S interface{
	//kit:http FETCH /x
	M(ctx context.Context) error
}`, "S", "service.go:6:2: S.M: malformed //kit:http: unsupported HTTP method \"FETCH\": want GET, POST, PUT, PATCH or DELETE"},
		{"conflicting annotations", `type S interface{
	//kit:http GET /x
	//kit:http POST /x
	M(ctx context.Context) error
}`, "S", "service.go:7:2: S.M: 2 //kit:http annotations conflict (hint: keep one)"},
		{"duplicate route", `type S interface{
	//kit:http GET /x/{a}
	M(ctx context.Context, a string) error
	//kit:http GET /x/{b}
	N(ctx context.Context, b string) error
}`, "S", "service.go:9:2: S.N: route GET /x/{b} is also the route of M (hint: give each method its own //kit:http route)"},
		{"wildcard without field", `type S interface{
	//kit:http GET /x/{id}
	M(ctx context.Context, name string) error
}`, "S", "service.go:7:2: S.M: route GET /x/{id}: the request MRequest has no field for {id}; its fields are name"},
		{"wildcard of a struct", `type T struct{ A int }
type S interface{
	//kit:http GET /x/{t}
	M(ctx context.Context, t T, u int) error
}`, "S", "service.go:8:2: S.M: route GET /x/{t}: {t} fills field T of type github.com/typedkit/kit/codegen/testdata/bad.T, which a path segment cannot hold (want a string, bool, integer or float type, or a type with MarshalText and UnmarshalText)"},
		{"struct in a query", `type T struct{ A int }
type S interface{
	//kit:http GET /x
	M(ctx context.Context, t T, u int) error
}`, "S", "service.go:8:2: S.M: route GET /x: field T of type github.com/typedkit/kit/codegen/testdata/bad.T cannot be read from a query string; use POST, PUT or PATCH for a request with a body, or a string, bool, number, type with MarshalText and UnmarshalText, or slice of them"},
		{"name taken", `type MRequest struct{}
type S interface{ M(ctx context.Context, a, b string) error }`, "S",
			"service.go:5:6: MRequest is declared here, and kitgen generates MRequest for S (hint: rename it, or keep one service interface per package)"},
		{"unexported method", `type S interface{ m(ctx context.Context) error }`, "S",
			"service.go:5:19: S.m: the method is not exported (hint: export it so clients in other packages can call it)"},
		{"does not type-check", `type S interface{ M(ctx context.Context) (Missing, error) }`, "S", "does not type-check"},
	}
	dir, err := filepath.Abs("testdata/bad")
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			imports := `import "context"`
			if strings.Contains(tt.src, "strings.") {
				imports = "import (\n\t\"context\"\n\t\"math/big\"\n\t\"strings\"\n)"
			}
			src := "package bad\n\n" + imports + "\n\n" + tt.src + "\n"
			if !strings.Contains(src, "context.") || strings.Contains(tt.src, "S struct") || strings.Contains(tt.src, "interface{}") {
				src += "\nvar _ context.Context\n"
			}
			_, err := load(dir, tt.typ, map[string][]byte{filepath.Join(dir, "service.go"): []byte(src)})
			if tt.want == "" {
				require.NoError(t, err, "strings.Builder and big.Rat are exported types")
				return
			}
			require.Error(t, err)
			got := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			got = strings.ReplaceAll(got, dir, "DIR")
			if tt.want == "does not type-check" {
				assert.Contains(t, got, tt.want)
				return
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseHTTPAnnotation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   Route
		errMsg string
	}{
		{" GET /users/{id}", Route{Method: "GET", Path: "/users/{id}", Params: []string{"id"}}, ""},
		{"POST /a/{x}/b/{y}", Route{Method: "POST", Path: "/a/{x}/b/{y}", Params: []string{"x", "y"}}, ""},
		{"GET /files/{path...}", Route{Method: "GET", Path: "/files/{path...}", Params: []string{"path"}}, ""},
		{"DELETE /", Route{Method: "DELETE", Path: "/"}, ""},
		{"GET", Route{}, `want "//kit:http METHOD /path", got "GET"`},
		{"GET /a extra", Route{}, `want "//kit:http METHOD /path", got "GET /a extra"`},
		{"get /a", Route{}, `unsupported HTTP method "get": want GET, POST, PUT, PATCH or DELETE`},
		{"GET a", Route{}, `path "a" must start with /`},
		{"GET /a//b", Route{}, `path "/a//b" has an empty segment`},
		{"GET /a/x{id}", Route{}, `path "/a/x{id}": a wildcard must be a whole segment such as {id}, got "x{id}"`},
		{"GET /a/{id", Route{}, `path "/a/{id": a wildcard must be a whole segment such as {id}, got "{id"`},
		{"GET /a/{1x}", Route{}, `path "/a/{1x}": wildcard name "1x" is not a Go identifier`},
		{"GET /a/{x}/{x}", Route{}, `path "/a/{x}/{x}": wildcard {x} appears twice`},
		{"GET /{p...}/a", Route{}, `path "/{p...}/a": {p...} may only be the last segment`},
		{"GET /a?b", Route{}, `path "/a?b": segment "a?b" has a character a path may not hold`},
		{"GET /.", Route{}, `path "/." is not clean: want "/"`},
		{"GET /a/../b", Route{}, `path "/a/../b" is not clean: want "/b"`},
		{"GET /a/./{id}", Route{}, `path "/a/./{id}" is not clean: want "/a/{id}"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseHTTPAnnotation(tt.in)
			if tt.errMsg != "" {
				assert.EqualError(t, err, tt.errMsg)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// FuzzParseHTTPAnnotation checks that the parser never panics and that
// every route it accepts is a pattern http.ServeMux accepts.
func FuzzParseHTTPAnnotation(f *testing.F) {
	for _, s := range []string{"GET /users/{id}", "POST /a/{b...}", "PUT /", "DELETE /x/{y}/z", "GET /{a}/{b}", "PATCH /é/{ü}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseHTTPAnnotation(s)
		if err != nil {
			return
		}
		defer func() {
			if v := recover(); v != nil {
				t.Fatalf("ServeMux refused %q from %q: %v", r.Pattern(), s, v)
			}
		}()
		http.NewServeMux().Handle(r.Pattern(), http.NotFoundHandler())
	})
}

func TestSnake(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"UserService": "user_service", "HTTPServer": "http_server", "Echo": "echo", "APIv2": "ap_iv2"} {
		assert.Equal(t, want, snake(in), in)
	}
}

func TestWriteRefusesForeignFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "echo_endpoints_gen.go"), []byte("package x\n"), 0o644))
	_, err := Write(Options{Dir: dir, Type: "Echo", EndpointsFile: "echo_endpoints_gen.go"})
	require.Error(t, err)
	_, err = Generate(Options{Dir: dir, Type: "Echo", EndpointsFile: "../x_gen.go"})
	assert.EqualError(t, err, `output file "../x_gen.go" must be a file name ending in _gen.go`)
}

func TestArticle(t *testing.T) {
	t.Parallel()
	for word, want := range map[string]string{
		"OrderService": "an", "UserService": "a", "UpdateService": "an", "Unit": "a", "Under": "an",
		"Item": "an", "Greeter": "a", "": "a", "E": "an", "Usage": "a",
	} {
		assert.Equal(t, want, article(word), word)
	}
}

// Code generated for another runtime contract does not compile, and the
// line that fails says to regenerate.
//
// Not parallel: it changes contractVersion, which every generation reads.
func TestGeneratedCodeNeedsItsRuntime(t *testing.T) {
	dir, err := filepath.Abs("testdata/src/minimal")
	require.NoError(t, err)
	typeErrors := func(version int) []string {
		old := contractVersion
		contractVersion = version
		defer func() { contractVersion = old }()
		files, err := Generate(Options{Dir: dir, Type: "Echo", HTTP: true, GRPC: true})
		require.NoError(t, err)
		overlay := map[string][]byte{}
		for name, src := range files {
			if strings.HasSuffix(name, ".go") {
				overlay[filepath.Join(dir, name)] = src
			}
		}
		src := string(files["echo_endpoints_gen.go"])
		line := "const _ = genrt.SupportPackageIsVersion" + itoa(version)
		require.Contains(t, src, "regenerate them with the kitgen of the typedkit version in go.mod\n// (go generate ./...).\n"+line+"\n")
		pkgs, err := packages.Load(&packages.Config{Mode: packages.NeedTypes | packages.NeedTypesInfo | packages.NeedSyntax, Dir: dir, Overlay: overlay}, ".")
		require.NoError(t, err)
		var msgs []string
		for _, e := range pkgs[0].Errors {
			msgs = append(msgs, e.Msg)
		}
		return msgs
	}
	assert.Empty(t, typeErrors(contractVersion))
	errs := typeErrors(contractVersion + 1)
	require.NotEmpty(t, errs)
	for _, e := range errs {
		assert.Contains(t, e, "undefined: genrt.SupportPackageIsVersion"+itoa(contractVersion+1), "the only error")
	}
}
