package codegen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
)

// seedIDL is an interface file shaped like the seed's user service: one
// request struct and one response struct per method, and two streams.
const seedIDL = `package usersvc

import (
	"context"
	"iter"
)

// User is a user.
type User struct {
	ID    string ` + "`json:\"id\"`" + `
	Name  string ` + "`json:\"name\"`" + `
	Email string ` + "`json:\"email\"`" + `
}

type CreateUserRequest struct {
	Name  string ` + "`json:\"name\"`" + `
	Email string ` + "`json:\"email\"`" + `
}

type CreateUserResponse struct {
	User User ` + "`json:\"user\"`" + `
}

type GetUserRequest struct {
	ID string ` + "`json:\"id\"`" + `
}

type GetUserResponse struct {
	User User ` + "`json:\"user\"`" + `
}

type UpdateUserRequest struct {
	ID   string ` + "`json:\"id\"`" + `
	Name string ` + "`json:\"name\"`" + `
}

type UpdateUserResponse struct {
	User User ` + "`json:\"user\"`" + `
}

type DeleteUserRequest struct {
	ID string ` + "`json:\"id\"`" + `
}

type DeleteUserResponse struct {
	Deleted bool ` + "`json:\"deleted\"`" + `
}

type ListUsersRequest struct {
	Limit int ` + "`json:\"limit\"`" + `
}

type ListUsersResponse struct {
	Users []User ` + "`json:\"users\"`" + `
}

// UserService manages users.
type UserService interface {
	//kit:http POST /users
	CreateUser(ctx context.Context, req CreateUserRequest) (CreateUserResponse, error)
	//kit:http GET /users/{id}
	GetUser(ctx context.Context, req GetUserRequest) (GetUserResponse, error)
	//kit:http PUT /users/{id}
	UpdateUser(ctx context.Context, req UpdateUserRequest) (UpdateUserResponse, error)
	//kit:http DELETE /users/{id}
	DeleteUser(ctx context.Context, req DeleteUserRequest) (DeleteUserResponse, error)
	//kit:http GET /users
	ListUsers(ctx context.Context, req ListUsersRequest) (ListUsersResponse, error)
	//kit:http GET /users/watch
	WatchUsers(ctx context.Context, req ListUsersRequest) (iter.Seq2[User, error], error)
	//kit:http POST /users/import
	ImportUsers(ctx context.Context, users iter.Seq2[User, error]) (ListUsersResponse, error)
}
`

func writeIDL(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "idl.go")
	require.NoError(t, os.WriteFile(path, []byte(src), 0o644))
	return path
}

func TestNewBadInput(t *testing.T) {
	t.Parallel()
	idl := writeIDL(t, seedIDL)
	notEmpty := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(notEmpty, "keep.txt"), []byte("mine"), 0o644))
	badShape := writeIDL(t, "package x\n\nimport \"context\"\n\ntype S interface {\n\tM(ctx context.Context, c chan int) error\n}\n")
	tests := []struct {
		name string
		opts NewOptions
		want string
	}{
		{"no such interface", NewOptions{IDL: idl, Service: "Missing"}, "no type Missing in package"},
		{"unsupported shape", NewOptions{IDL: badShape, Service: "S"}, "idl.go:6:2: S.M: parameter c is or holds a channel"},
		{"non-empty out", NewOptions{IDL: idl, Service: "UserService", Out: notEmpty}, "is not empty; choose a new directory, or pass -add"},
		{"no protocol", NewOptions{IDL: idl, Service: "UserService", HTTP: false}, "-protocols names no transport"},
		{"missing flags", NewOptions{}, "missing -idl, -import, -out, -service"},
		{"main package", NewOptions{IDL: writeIDL(t, "package main\n\nimport \"context\"\n\ntype S interface{ M(ctx context.Context) error }\n"), Service: "S"}, "the interface file's package is main"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if opts.Out == "" && tt.name != "missing flags" {
				opts.Out = filepath.Join(t.TempDir(), "svc")
			}
			if opts.Import == "" && tt.name != "missing flags" {
				opts.Import = "example.com/svc"
			}
			if tt.name != "no protocol" && tt.name != "missing flags" {
				opts.HTTP = true
			}
			_, err := New(opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			if opts.Out != "" && opts.Out != notEmpty {
				_, statErr := os.Stat(opts.Out)
				assert.True(t, os.IsNotExist(statErr), "nothing is written on error")
			}
		})
	}
	entries, _ := os.ReadDir(notEmpty)
	assert.Len(t, entries, 1, "a non-empty -out is left as it was")
}

// freeAddr returns a loopback address with a free port.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// startScaffold builds and starts the scaffold's command with more
// flags, and waits for it to answer /readyz. It returns a function that
// stops the command (SIGINT) and waits for it to exit, called when the
// test ends if not before.
func startScaffold(t *testing.T, dir, httpAddr, grpcAddr string, more ...string) (stop func()) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "svc")
	goCmd(t, dir, "build", "-o", bin, "./cmd/userservice")
	args := []string{"-http.addr", httpAddr, "-shutdown.delay", "0"}
	if grpcAddr != "" {
		args = append(args, "-grpc.addr", grpcAddr)
	}
	cmd := exec.Command(bin, append(args, more...)...)
	logs := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
			if t.Failed() {
				t.Logf("service output:\n%s", logs.String())
			}
		})
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + httpAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return stop
			}
		}
		require.True(t, time.Now().Before(deadline), "the service did not become ready: %v\n%s", err, logs.String())
		time.Sleep(50 * time.Millisecond)
	}
}

func goCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

func httpStatus(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// snapshot reads the user-owned files of a scaffold.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, name := range []string{"usersvc/service.go", "usersvc/service_impl.go", "cmd/userservice/main.go", "README.md"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		files[name] = string(b)
	}
	return files
}

// TestNewScaffoldServes scaffolds the seed's user service, builds it,
// serves it, checks that every route answers Unimplemented, implements one
// method, regenerates, and checks that method answers while the user's
// files are untouched by generation.
func TestNewScaffoldServes(t *testing.T) {
	// Serial: it builds and runs a module, CPU-bound work that running
	// beside the others would only slow down on a small machine.
	if testing.Short() {
		t.Skip("builds a module; run without -short")
	}
	for _, protocols := range []string{"http", "http,grpc", "http,mcp"} {
		t.Run(protocols, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "usersvc")
			opts := NewOptions{IDL: writeIDL(t, seedIDL), Out: out, Import: "example.com/usersvc", Service: "UserService",
				HTTP: true, GRPC: strings.Contains(protocols, "grpc"), MCP: strings.Contains(protocols, "mcp"), Replace: repoRoot(t)}
			_, err := New(opts)
			require.NoError(t, err)
			goCmd(t, out, "mod", "tidy")
			goCmd(t, out, "vet", "./...")

			httpAddr, grpcAddr := freeAddr(t), ""
			if opts.GRPC {
				grpcAddr = freeAddr(t)
			}
			startScaffold(t, out, httpAddr, grpcAddr)
			base := "http://" + httpAddr
			for _, c := range []struct{ method, path, body string }{
				{"POST", "/users", `{"name":"a"}`}, {"GET", "/users/1", ""}, {"PUT", "/users/1", `{"name":"b"}`},
				{"DELETE", "/users/1", ""}, {"GET", "/users", ""},
				{"GET", "/users/watch", ""}, {"POST", "/users/import", `{"name":"a"}`},
			} {
				code, body := httpStatus(t, c.method, base+c.path, c.body)
				assert.Equal(t, http.StatusNotImplemented, code, "%s %s: %s", c.method, c.path, body)
				assert.Contains(t, body, `"code":"unimplemented"`)
			}
			if opts.MCP {
				for _, m := range []string{"CreateUser", "GetUser", "UpdateUser", "DeleteUser", "ListUsers"} {
					text, isError := mcpCall(t, base+"/mcp", m)
					assert.True(t, isError, "%s: %s", m, text)
					assert.Contains(t, text, `"code":"unimplemented"`, m)
				}
			}
			if opts.GRPC {
				conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
				require.NoError(t, err)
				defer conn.Close()
				for _, m := range []string{"CreateUser", "GetUser", "UpdateUser", "DeleteUser", "ListUsers"} {
					in, reply := rawMessage{}, rawMessage{}
					err := conn.Invoke(context.Background(), "/usersvc.UserService/"+m, &in, &reply, grpc.ForceCodecV2(rawCodecV2{}))
					assert.Equal(t, codes.Unimplemented, status.Code(err), "%s: %v", m, err)
				}
			}

			// Implement GetUser, regenerate, rebuild.
			before := snapshot(t, out)
			implPath := filepath.Join(out, "usersvc", "service_impl.go")
			impl := before["usersvc/service_impl.go"]
			old := `return GetUserResponse{}, kit.NewError(kit.Unimplemented, "GetUser is not implemented")`
			require.Contains(t, impl, old)
			impl = strings.Replace(impl, old, `return GetUserResponse{User: User{ID: req.ID, Name: "Ada"}}, nil`, 1)
			require.NoError(t, os.WriteFile(implPath, []byte(impl), 0o644))
			before["usersvc/service_impl.go"] = impl
			goCmd(t, out, "generate", "./...")
			assert.Equal(t, before, snapshot(t, out), "go generate leaves the user's files byte for byte")

			httpAddr2 := freeAddr(t)
			grpcAddr2 := ""
			if opts.GRPC {
				grpcAddr2 = freeAddr(t)
			}
			startScaffold(t, out, httpAddr2, grpcAddr2)
			code, body := httpStatus(t, "GET", "http://"+httpAddr2+"/users/42", "")
			assert.Equal(t, http.StatusOK, code, body)
			assert.JSONEq(t, `{"user":{"id":"42","name":"Ada","email":""}}`, body)
		})
	}
}

// TestNewThenAddMethod checks the workflow when the interface grows: the
// glue follows, and the build fails only because the implementation lacks
// the new method.
func TestNewThenAddMethod(t *testing.T) {
	// Serial: it builds and runs a module, CPU-bound work that running
	// beside the others would only slow down on a small machine.
	if testing.Short() {
		t.Skip("builds a module; run without -short")
	}
	out := filepath.Join(t.TempDir(), "usersvc")
	_, err := New(NewOptions{IDL: writeIDL(t, seedIDL), Out: out, Import: "example.com/usersvc", Service: "UserService", HTTP: true, Replace: repoRoot(t)})
	require.NoError(t, err)
	goCmd(t, out, "mod", "tidy")
	svcPath := filepath.Join(out, "usersvc", "service.go")
	src, err := os.ReadFile(svcPath)
	require.NoError(t, err)
	grown := strings.Replace(string(src), "type UserService interface {", "type UserService interface {\n\tCountUsers(ctx context.Context) (int, error)", 1)
	require.NoError(t, os.WriteFile(svcPath, []byte(grown), 0o644))
	goCmd(t, out, "generate", "./...")

	cmd := exec.Command("go", "build", "./...")
	cmd.Dir = out
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	msg, err := cmd.CombinedOutput()
	require.Error(t, err, "the implementation lacks CountUsers")
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(msg))
	for sc.Scan() {
		if l := sc.Text(); strings.Contains(l, ".go:") {
			lines = append(lines, l)
		}
	}
	require.NotEmpty(t, lines, "%s", msg)
	for _, l := range lines {
		assert.Contains(t, l, "missing method CountUsers", "every error is the missing method:\n%s", msg)
		assert.NotContains(t, l, "_gen.go", "generated files compile")
	}
}

// readTree reads every file under dir by its slash-separated relative path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	}))
	return files
}

// TestNewMatchesGoGenerate scaffolds a module, runs go generate in it
// (through the line New wrote, which runs go tool kitgen) and checks that
// every file but go.mod and go.sum, which go mod tidy completes, is byte
// for byte what New wrote: a "generated files are up to date" check
// passes on a fresh scaffold.
func TestNewMatchesGoGenerate(t *testing.T) {
	// Serial: it builds and runs a module, CPU-bound work that running
	// beside the others would only slow down on a small machine.
	if testing.Short() {
		t.Skip("builds a module; run without -short")
	}
	out := filepath.Join(t.TempDir(), "usersvc")
	opts := NewOptions{IDL: writeIDL(t, seedIDL), Out: out, Import: "example.com/usersvc", Service: "UserService",
		HTTP: true, GRPC: true, MCP: true, Replace: repoRoot(t),
		OpenAPI: OpenAPIOptions{
			Version: "2.1.0",
			Servers: []OpenAPIServer{{URL: "https://api.example.org", Description: "production, \"eu\""}, {URL: "/v1"}},
			License: "Apache-2.0", Contact: "Ada Lovelace <ada@example.org>", Security: "bearer",
		}}
	_, err := New(opts)
	require.NoError(t, err)
	scaffolded := readTree(t, out)
	assert.Contains(t, scaffolded["usersvc/service.go"],
		`//go:generate go tool kitgen -type UserService -transports http,grpc,mcp -openapi-version 2.1.0 -openapi-server "https://api.example.org production, \"eu\"" -openapi-server /v1 -openapi-license Apache-2.0 -openapi-contact "Ada Lovelace <ada@example.org>" -security bearer`)
	assert.Contains(t, scaffolded["go.mod"], "\ntool github.com/typedkit/kit/codegen/cmd/kitgen\n")
	assert.Contains(t, scaffolded["usersvc/user_service.proto"], "Go package example.com/usersvc/usersvc\n")
	assert.Contains(t, scaffolded["usersvc/user_service.openapi.json"], `"url": "https://api.example.org"`)

	goCmd(t, out, "mod", "tidy")
	goCmd(t, out, "generate", "./...")
	generated := readTree(t, out)
	for _, f := range []string{"go.mod", "go.sum"} {
		delete(scaffolded, f)
		delete(generated, f)
	}
	assert.Equal(t, scaffolded, generated, "go generate rewrites what kitgen new wrote")

	// protoc compiles the scaffold's .proto (internal/conformance compiles
	// every .proto committed in the repository).
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		t.Log("protoc is not installed: the .proto is not compiled")
		return
	}
	cmd := exec.Command(protoc, "-I", "/usr/include", "-I", filepath.Join(out, "usersvc"), "--descriptor_set_out", filepath.Join(t.TempDir(), "set.pb"), "user_service.proto")
	msg, err := cmd.CombinedOutput()
	assert.NoError(t, err, "protoc:\n%s", msg)
}

// TestGoToolKitgenInFreshModule follows the README's getting-started path
// in a new module outside this repository: kitgen as a tool (go get
// -tool), a go:generate line that runs go tool kitgen, go generate, then
// go mod tidy for what the generated files import. The module points at
// this checkout with a replace directive.
func TestGoToolKitgenInFreshModule(t *testing.T) {
	// Serial: it builds and runs a module, CPU-bound work that running
	// beside the others would only slow down on a small machine.
	if testing.Short() {
		t.Skip("builds a module; run without -short")
	}
	mod := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module example.com/greeter\n\ngo 1.26.7\n\nrequire "+
		kitModule+" v0.0.0\n\nreplace "+kitModule+" => "+repoRoot(t)+"\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(mod, "greeter"), 0o755))
	// The directive is spelled in capitals here, so that go generate does
	// not take it for one of this package's own.
	require.NoError(t, os.WriteFile(filepath.Join(mod, "greeter", "service.go"), []byte(strings.Replace(`// Package greeter greets.
package greeter

import "context"

// Greeter greets people.
//
//GO:GENERATE go tool kitgen -type Greeter -transports http,grpc
type Greeter interface {
	//kit:http GET /hello/{name}
	Hello(ctx context.Context, name string) (string, error)
}
`, "//GO:GENERATE", "//go:generate", 1)), 0o644))
	gocmd := func(env []string, args ...string) (string, error) {
		cmd := exec.Command("go", args...)
		cmd.Dir = mod
		cmd.Env = append(append(os.Environ(), "GOTOOLCHAIN=local", "GOFLAGS="), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// The module is not published: GOPROXY=off makes go get resolve it
	// from the replace directive alone (and the rest from the module
	// cache), as the published module resolves from the proxy.
	out, err := gocmd([]string{"GOPROXY=off"}, "get", "-tool", kitgenTool)
	require.NoError(t, err, out)
	gomod, err := os.ReadFile(filepath.Join(mod, "go.mod"))
	require.NoError(t, err)
	assert.Contains(t, string(gomod), "\ntool "+kitgenTool+"\n")

	out, err = gocmd(nil, "generate", "./...")
	require.NoError(t, err, "go generate right after go get -tool:\n%s", out)
	assert.Contains(t, out, "wrote greeter_grpc_gen.go")

	// The generated files import gRPC and protobuf, which no file of the
	// module imported before: go mod tidy adds them.
	out, err = gocmd(nil, "build", "./...")
	require.Error(t, err, "the module lacks the requirements of the generated files")
	assert.Contains(t, out, "go.sum entry")
	out, err = gocmd(nil, "mod", "tidy")
	require.NoError(t, err, out)
	out, err = gocmd(nil, "vet", "./...")
	require.NoError(t, err, out)

	before := readTree(t, filepath.Join(mod, "greeter"))
	out, err = gocmd(nil, "generate", "./...")
	require.NoError(t, err, out)
	assert.Equal(t, before, readTree(t, filepath.Join(mod, "greeter")), "generating again changes nothing")
}

// rawMessage and rawCodecV2 send empty requests to any method.
type rawMessage struct{}

type rawCodecV2 struct{}

func (rawCodecV2) Name() string                         { return "proto" }
func (rawCodecV2) Marshal(any) (mem.BufferSlice, error) { return nil, nil }
func (rawCodecV2) Unmarshal(mem.BufferSlice, any) error { return nil }

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

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// mcpCall calls an MCP tool with empty arguments as a client of the
// streamable HTTP transport does, in JSON-RPC, and returns the text of the
// result and whether it is a tool error.
func mcpCall(t *testing.T, url, tool string) (string, bool) {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":` + strconv.Quote(tool) + `,"arguments":{}}}`
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
	msg := raw
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		for _, line := range strings.Split(string(raw), "\n") {
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				msg = []byte(data)
			}
		}
	}
	var rpc struct {
		Result struct {
			IsError bool `json:"isError"`
			Content []struct {
				Text string `json:"text"`
			} `json:"content"`
		} `json:"result"`
	}
	require.NoError(t, json.Unmarshal(msg, &rpc), string(raw))
	require.NotEmpty(t, rpc.Result.Content, string(raw))
	return rpc.Result.Content[0].Text, rpc.Result.IsError
}
