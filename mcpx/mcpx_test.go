package mcpx_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/auth"
	"github.com/typedkit/kit/mcpx"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type getReq struct {
	ID int `json:"id"`
}

type user struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

var objectSchema = json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]}`)

// header adds a header to every request, as an agent configured with a
// token would.
type header struct {
	key, value string
}

func (h header) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.key, h.value)
	return http.DefaultTransport.RoundTrip(r)
}

// newServer serves the tools of a small service over streamable HTTP on
// loopback and returns a connected SDK client session.
func newServer(t *testing.T, rt http.RoundTripper, opts ...mcpx.ServerOption) (*mcp.ClientSession, *[]kit.Call) {
	t.Helper()
	s := mcp.NewServer(&mcp.Implementation{Name: "users", Version: "1.0.0"}, nil)
	var mu sync.Mutex
	var calls []kit.Call
	record := func(call kit.Call, next kit.Invoker) kit.Invoker {
		return func(ctx context.Context, c kit.Call) error {
			mu.Lock()
			calls = append(calls, c)
			mu.Unlock()
			return next(ctx, c)
		}
	}
	opts = append([]mcpx.ServerOption{mcpx.ServerInterceptors(record)}, opts...)
	get := func(_ context.Context, r getReq) (user, error) {
		switch r.ID {
		case 0:
			return user{}, kit.InvalidArgumentError("id is required", kit.FieldViolation{Field: "id", Description: "must be positive"})
		case 404:
			return user{}, kit.NewError(kit.NotFound, "no such user")
		case 500:
			return user{}, errors.New("db password=hunter2 rejected")
		case 666:
			panic("boom")
		}
		return user{ID: r.ID, Name: "ada"}, nil
	}
	mcpx.AddTool(s, mcpx.Tool{
		Name: "GetUser", Description: "GetUser returns a user.", InputSchema: objectSchema,
		OutputSchema: json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"}}}`),
		ReadOnly:     true,
	}, get, append(opts, mcpx.ServerCall(kit.Call{Service: "UserService", Method: "GetUser", Idempotent: true}))...)
	mcpx.AddTool(s, mcpx.Tool{
		Name: "ListNames", InputSchema: json.RawMessage(`{"type":"object"}`),
		OutputSchema: json.RawMessage(`{"type":"object","properties":{"result":{"type":"array","items":{"type":"string"}}}}`),
		Wrapped:      true, Destructive: true,
	}, func(context.Context, struct{}) ([]string, error) { return []string{"ada", "grace"}, nil }, opts...)

	srv := httptest.NewServer(mcpx.Handler(s))
	t.Cleanup(srv.Close)
	hc := &http.Client{Transport: rt}
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1.0.0"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: srv.URL, HTTPClient: hc}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs, &calls
}

func errorText(t *testing.T, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	require.True(t, res.IsError, "a tool error")
	require.Len(t, res.Content, 1)
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(res.Content[0].(*mcp.TextContent).Text), &p))
	return p
}

func TestTools(t *testing.T) {
	t.Parallel()
	cs, calls := newServer(t, http.DefaultTransport)
	ctx := t.Context()

	list, err := cs.ListTools(ctx, nil)
	require.NoError(t, err)
	require.Len(t, list.Tools, 2)
	byName := map[string]*mcp.Tool{}
	for _, tool := range list.Tools {
		byName[tool.Name] = tool
	}
	get := byName["GetUser"]
	require.NotNil(t, get)
	assert.Equal(t, "GetUser returns a user.", get.Description)
	assert.True(t, get.Annotations.ReadOnlyHint)
	assert.Nil(t, get.Annotations.DestructiveHint)
	assert.NotNil(t, get.OutputSchema)
	names := byName["ListNames"]
	require.NotNil(t, names.Annotations.DestructiveHint)
	assert.True(t, *names.Annotations.DestructiveHint, "a write tool says it may destroy")
	assert.False(t, names.Annotations.ReadOnlyHint)

	tests := []struct {
		name       string
		tool       string
		args       any
		want       string // the structured content, as JSON
		wantCode   string
		wantMsg    string
		violations int
	}{
		{name: "ok", tool: "GetUser", args: map[string]any{"id": 7}, want: `{"id":7,"name":"ada"}`},
		{name: "wrapped result", tool: "ListNames", want: `{"result":["ada","grace"]}`},
		{name: "wrong type", tool: "GetUser", args: map[string]any{"id": "seven"}, wantCode: "invalid_argument", wantMsg: "invalid JSON value for id", violations: 1},
		{name: "violations", tool: "GetUser", args: map[string]any{"id": 0}, wantCode: "invalid_argument", wantMsg: "id is required", violations: 1},
		{name: "not found", tool: "GetUser", args: map[string]any{"id": 404}, wantCode: "not_found", wantMsg: "no such user"},
		{name: "internal text concealed", tool: "GetUser", args: map[string]any{"id": 500}, wantCode: "unknown"},
		{name: "panic", tool: "GetUser", args: map[string]any{"id": 666}, wantCode: "internal"},
	}
	// Not parallel: the checks of the recorded calls after the loop need
	// every subtest done, the first of them GetUser's.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tt.tool, Arguments: tt.args})
			require.NoError(t, err)
			if tt.wantCode == "" {
				require.False(t, res.IsError)
				b, err := json.Marshal(res.StructuredContent)
				require.NoError(t, err)
				assert.JSONEq(t, tt.want, string(b))
				return
			}
			p := errorText(t, res)
			assert.Equal(t, tt.wantCode, p["code"])
			assert.Contains(t, p["message"], tt.wantMsg)
			assert.NotContains(t, res.Content[0].(*mcp.TextContent).Text, "hunter2")
			assert.NotContains(t, res.Content[0].(*mcp.TextContent).Text, "boom")
			if tt.violations > 0 {
				assert.Len(t, p["violations"], tt.violations)
			}
		})
	}
	require.NotEmpty(t, *calls)
	for _, c := range *calls {
		assert.Equal(t, kit.MCP, c.Transport)
		assert.Equal(t, kit.ServerSide, c.Side)
	}
	assert.Equal(t, "/UserService/GetUser", (*calls)[0].Procedure())
}

func TestAuthorization(t *testing.T) {
	t.Parallel()
	basic := auth.Basic("users", auth.BasicUsers(map[string]string{"ada": "secret"}))
	tests := []struct {
		name     string
		rt       http.RoundTripper
		wantCode string
	}{
		{name: "no credentials", rt: http.DefaultTransport, wantCode: "unauthenticated"},
		{name: "wrong password", rt: header{"Authorization", auth.BasicAuthorization("ada", "nope")}, wantCode: "unauthenticated"},
		{name: "good credentials", rt: header{"Authorization", auth.BasicAuthorization("ada", "secret")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cs, _ := newServer(t, tt.rt, mcpx.ServerBefore(mcpx.AuthorizationToContext()), mcpx.ServerInterceptors(basic))
			res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "GetUser", Arguments: map[string]any{"id": 1}})
			require.NoError(t, err)
			if tt.wantCode == "" {
				assert.False(t, res.IsError)
				return
			}
			assert.Equal(t, tt.wantCode, errorText(t, res)["code"])
		})
	}
}

func TestHostileRequests(t *testing.T) {
	t.Parallel()
	s := mcp.NewServer(&mcp.Implementation{Name: "users", Version: "1.0.0"}, nil)
	mcpx.AddTool(s, mcpx.Tool{Name: "Echo"}, func(_ context.Context, r getReq) (getReq, error) { return r, nil })
	srv := httptest.NewServer(mcpx.Handler(s, mcpx.HandlerMaxBodyBytes(1024)))
	t.Cleanup(srv.Close) // after the parallel subtests

	post := func(t *testing.T, host, body string) int {
		req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`
	tests := []struct {
		name string
		host string
		body string
		want int
	}{
		{name: "initialize", body: init, want: http.StatusOK},
		{name: "oversized", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"Echo","arguments":{"x":"` + strings.Repeat("a", 4096) + `"}}}`, want: http.StatusRequestEntityTooLarge},
		{name: "malformed", body: `{"jsonrpc":`, want: http.StatusBadRequest},
		{name: "DNS rebinding", host: "evil.example", body: init, want: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, post(t, tt.host, tt.body))
		})
	}
}

func TestAddToolRefusesAToolWithoutName(t *testing.T) {
	t.Parallel()
	s := mcp.NewServer(&mcp.Implementation{Name: "x", Version: "1"}, nil)
	assert.PanicsWithValue(t, "mcpx: AddTool: the tool has no name", func() {
		mcpx.AddTool(s, mcpx.Tool{}, func(context.Context, struct{}) (struct{}, error) { return struct{}{}, nil })
	})
}
