package usersvc_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/examples/usersvc"
	"github.com/typedkit/kit/httpx"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func serve(t *testing.T) usersvc.UserService {
	t.Helper()
	srv := httptest.NewServer(usersvc.NewHTTPHandler(usersvc.NewEndpoints(usersvc.NewStore(), usersvc.Middlewares{})))
	t.Cleanup(srv.Close)
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	client, err := usersvc.NewHTTPClient(srv.URL, httpx.ClientHTTPClient(&http.Client{Transport: transport}))
	require.NoError(t, err)
	return client
}

// Every method through the generated HTTP client against the generated
// handler on loopback.
func TestUserServiceOverHTTP(t *testing.T) {
	t.Parallel()
	c := serve(t)
	ctx := context.Background()

	ada, err := c.CreateUser(ctx, usersvc.CreateUserRequest{Name: "Ada", Email: "ada@example.com"})
	require.NoError(t, err)
	assert.Equal(t, "u000001", ada.ID)
	assert.False(t, ada.CreatedAt.IsZero())

	_, err = c.CreateUser(ctx, usersvc.CreateUserRequest{Name: "Ada", Email: "ADA@example.com"})
	assert.Equal(t, kit.AlreadyExists, kit.CodeOf(err))

	_, err = c.CreateUser(ctx, usersvc.CreateUserRequest{Name: " ", Email: "nope"})
	assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err))
	assert.Len(t, kit.ViolationsOf(err), 2)

	got, err := c.GetUser(ctx, ada.ID)
	require.NoError(t, err)
	assert.Equal(t, ada.Email, got.Email)

	_, err = c.GetUser(ctx, "u999")
	assert.Equal(t, kit.NotFound, kit.CodeOf(err))
	assert.Equal(t, "user u999 not found", kit.MessageOf(err))

	upd, err := c.UpdateUser(ctx, usersvc.UpdateUserRequest{ID: ada.ID, Name: "Ada Lovelace", Email: "ada@example.com"})
	require.NoError(t, err)
	assert.Equal(t, "Ada Lovelace", upd.Name)

	for _, name := range []string{"Bob", "Cy", "Di"} {
		_, err := c.CreateUser(ctx, usersvc.CreateUserRequest{Name: name, Email: strings.ToLower(name) + "@example.com"})
		require.NoError(t, err)
	}
	page, next, err := c.ListUsers(ctx, 3, "")
	require.NoError(t, err)
	require.Len(t, page, 3)
	assert.Equal(t, "u000003", next)
	page, next, err = c.ListUsers(ctx, 3, next)
	require.NoError(t, err)
	assert.Len(t, page, 1)
	assert.Empty(t, next)

	_, _, err = c.ListUsers(ctx, -1, "")
	assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err))

	require.NoError(t, c.DeleteUser(ctx, ada.ID))
	assert.Equal(t, kit.NotFound, kit.CodeOf(c.DeleteUser(ctx, ada.ID)))
}

// The routes answer plain HTTP clients as the README shows.
func TestUserServiceRoutes(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(usersvc.NewHTTPHandler(usersvc.NewEndpoints(usersvc.NewStore(), usersvc.Middlewares{})))
	defer srv.Close()
	tests := []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{"POST", "/users", `{"name":"Ada","email":"ada@example.com"}`, 200, `"id":"u000001"`},
		{"GET", "/users/u000001", "", 200, `"name":"Ada"`},
		{"GET", "/users?pageSize=10", "", 200, `"users":[{"id":"u000001"`},
		{"GET", "/users?pageSize=ten", "", 400, `invalid parameter pageSize: \"ten\" is not an integer of 64 bits`},
		{"PUT", "/users/u000001", `{"name":"Ada L","email":"ada@example.com"}`, 200, `"name":"Ada L"`},
		{"POST", "/users", `{"name":`, 400, `malformed JSON`},
		{"DELETE", "/users/u000001", "", 200, `{}`},
		{"GET", "/users/u000001", "", 404, `"code":"not_found"`},
		{"PATCH", "/users/u000001", "", 405, ``},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
		require.NoError(t, err)
		if tt.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, tt.status, resp.StatusCode, "%s %s: %s", tt.method, tt.path, body)
		assert.Contains(t, string(body), tt.contains, "%s %s", tt.method, tt.path)
	}
}
