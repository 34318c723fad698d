package conformance_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/auth"
	"github.com/typedkit/kit/examples/usersvc"
	"github.com/typedkit/kit/mcpx"
)

// TestTypeScriptMCPClient serves the generated MCP tools of the example
// service over streamable HTTP, the write tools behind a bearer token, and
// runs the official TypeScript SDK's client against them: initialize, list
// the tools and check their schemas compile as JSON Schema 2020-12 and
// their hints, call every tool with valid and invalid arguments, with and
// without a token.
func TestTypeScriptMCPClient(t *testing.T) {
	t.Parallel()
	node := requireNode(t)
	secret := []byte("0123456789abcdef0123456789abcdef")
	verifier, err := auth.NewVerifier[jwt.RegisteredClaims]([]string{"HS256"}, auth.StaticKey(secret))
	require.NoError(t, err)
	bearer := auth.Bearer(verifier)
	writes := func(call kit.Call, next kit.Invoker) kit.Invoker {
		if call.Method == "GetUser" || call.Method == "ListUsers" {
			return next
		}
		return bearer(call, next)
	}
	eps := usersvc.NewEndpoints(usersvc.NewStore(), usersvc.Middlewares{})
	tools := usersvc.NewMCPServer(eps, "1.0.0", mcpx.ServerInterceptors(kit.Recover(nil), writes),
		mcpx.ServerBefore(mcpx.AuthorizationToContext()), mcpx.ServerErrorHandler(kit.ErrorHandlerFunc(func(ctx context.Context, err error) {})))
	srv := httptest.NewServer(mcpx.Handler(tools))
	t.Cleanup(srv.Close)
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Subject: "conformance", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)),
	}).SignedString(secret)
	require.NoError(t, err)

	out, err := run(t, 2*time.Minute, node, "js/mcp_client.mjs", srv.URL, token)
	reportNode(t, out, err)
}
