package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bearerTransport sends a bearer token with every request.
type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// toolCode returns the kit code of a tool error, or "" for a success.
func toolCode(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	if !res.IsError {
		return ""
	}
	var p struct{ Code string }
	require.NoError(t, json.Unmarshal([]byte(res.Content[0].(*mcp.TextContent).Text), &p))
	return p.Code
}

// TestMCPTools calls the tools the running service serves at /mcp with the
// Go SDK's client: the reads are open, the writes need the bearer token the
// HTTP and gRPC writes need, and a tool call is logged and measured as any
// call is.
func TestMCPTools(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the service")
	}
	secret := strings.Repeat("s3cret", 6)
	svc := startService(t, "-grpc.addr", "", "-auth.secret", secret)
	tokenOut, err := exec.Command(binPath, "-auth.secret", secret, "-auth.print-token").Output()
	require.NoError(t, err)
	token := strings.TrimSpace(string(tokenOut))

	connect := func(rt http.RoundTripper) *mcp.ClientSession {
		client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1.0.0"}, nil)
		cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: svc.base + "/mcp", HTTPClient: &http.Client{Transport: rt}}, nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = cs.Close() })
		return cs
	}
	anonymous := connect(http.DefaultTransport)
	admin := connect(bearerTransport{token})

	tools, err := anonymous.ListTools(t.Context(), nil)
	require.NoError(t, err)
	assert.Len(t, tools.Tools, 5)

	args := map[string]any{"name": "Ada", "email": "ada@example.com"}
	res, err := anonymous.CallTool(t.Context(), &mcp.CallToolParams{Name: "CreateUser", Arguments: args})
	require.NoError(t, err)
	assert.Equal(t, "unauthenticated", toolCode(t, res), "a write without a token")
	res, err = connect(bearerTransport{token[:len(token)-2] + "xx"}).CallTool(t.Context(), &mcp.CallToolParams{Name: "CreateUser", Arguments: args})
	require.NoError(t, err)
	assert.Equal(t, "unauthenticated", toolCode(t, res), "a write with a forged token")

	res, err = admin.CallTool(t.Context(), &mcp.CallToolParams{Name: "CreateUser", Arguments: args})
	require.NoError(t, err)
	require.Empty(t, toolCode(t, res))
	b, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	var u struct{ ID, Name string }
	require.NoError(t, json.Unmarshal(b, &u))
	assert.Equal(t, "Ada", u.Name)

	res, err = anonymous.CallTool(t.Context(), &mcp.CallToolParams{Name: "GetUser", Arguments: map[string]any{"id": u.ID}})
	require.NoError(t, err)
	assert.Empty(t, toolCode(t, res), "reads need no token")

	resp, err := http.Get(svc.base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	var metrics strings.Builder
	_, _ = io.Copy(&metrics, resp.Body)
	assert.Contains(t, metrics.String(), `rpc_system_name="mcp"`, "tool calls are measured")
	svc.stop(t)
}

// TestMCPStdio starts the command as a local agent does, with -mcp.stdio,
// and calls its tools over stdin and stdout.
func TestMCPStdio(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the service")
	}
	buildService(t)
	client := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1.0.0"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.CommandTransport{Command: exec.Command(binPath, "-dev", "-mcp.stdio")}, nil)
	require.NoError(t, err)
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "CreateUser", Arguments: map[string]any{"name": "Ada", "email": "ada@example.com"}})
	require.NoError(t, err)
	assert.Empty(t, toolCode(t, res), "-dev leaves the writes open")
	res, err = cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "ListUsers", Arguments: map[string]any{"pageSize": 10, "pageToken": ""}})
	require.NoError(t, err)
	assert.Empty(t, toolCode(t, res))
	assert.Contains(t, res.Content[0].(*mcp.TextContent).Text, `"name":"Ada"`)
	require.NoError(t, cs.Close(), "the command exits when its stdin closes")
}
