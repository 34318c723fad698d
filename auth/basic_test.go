package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/metadata"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/auth"
	"github.com/typedkit/kit/httpx"
)

const basicChallenge = `Basic realm="test", charset="UTF-8"`

// Right and wrong user names and passwords through a real httpx server.
func TestBasicOverHTTP(t *testing.T) {
	t.Parallel()
	users := auth.BasicUsers(map[string]string{"ada": "correct horse", "grace": "battery staple"})
	// "grace" authenticates but may not call the endpoint.
	validate := func(ctx context.Context, user, password string) error {
		if err := users(ctx, user, password); err != nil {
			return err
		}
		if user == "grace" {
			return kit.NewError(kit.PermissionDenied, "read only")
		}
		return nil
	}
	ep := func(ctx context.Context, _ sumReq) (sumResp, error) {
		u, ok := auth.BasicUserFrom(ctx)
		if !ok {
			return sumResp{}, errors.New("no user")
		}
		return sumResp{C: u}, nil
	}
	errs := &serverErrors{}
	srv := serveHTTP(t, ep, errs, auth.Basic("test", validate))

	tests := []struct {
		name          string
		authorization string
		status        int
		challenge     string
		body          string
		secret        string
	}{
		{"right", auth.BasicAuthorization("ada", "correct horse"), http.StatusOK, "", `"c":"ada"`, ""},
		{"scheme in lower case", "basic " + base64.StdEncoding.EncodeToString([]byte("ada:correct horse")), http.StatusOK, "", `"c":"ada"`, ""},
		{"wrong password", auth.BasicAuthorization("ada", "wrong horse"), http.StatusUnauthorized, basicChallenge, "invalid user name or password", "wrong horse"},
		{"another user's password", auth.BasicAuthorization("ada", "battery staple"), http.StatusUnauthorized, basicChallenge, "invalid user name or password", "battery staple"},
		{"wrong user", auth.BasicAuthorization("eve", "correct horse"), http.StatusUnauthorized, basicChallenge, "invalid user name or password", "correct horse"},
		{"empty password", auth.BasicAuthorization("ada", ""), http.StatusUnauthorized, basicChallenge, "invalid user name or password", ""},
		{"missing", "", http.StatusUnauthorized, basicChallenge, "missing credentials", ""},
		{"another scheme", auth.BearerAuthorization("correct-horse"), http.StatusUnauthorized, basicChallenge, "invalid credentials", "correct-horse"},
		{"not base64", "Basic correct horse!", http.StatusUnauthorized, basicChallenge, "invalid credentials", "correct horse"},
		{"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte("ada-correct-horse")), http.StatusUnauthorized, basicChallenge, "invalid credentials", "correct-horse"},
		{"authenticated but not allowed", auth.BasicAuthorization("grace", "battery staple"), http.StatusForbidden, "", "read only", "battery staple"},
	}
	// Not parallel: each checks the error the server logged last. The
	// parallel subtests below run only after these.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := post(t, srv, tt.authorization)
			assert.Equal(t, tt.status, got.status)
			assert.Equal(t, tt.challenge, got.challenge)
			assert.Contains(t, got.body, tt.body)
			if tt.secret != "" {
				assert.NotContains(t, got.body, tt.secret)
				if logged := errs.last(); logged != nil {
					assert.NotContains(t, logged.Error(), tt.secret)
				}
			}
		})
	}

	t.Run("typed client", func(t *testing.T) {
		t.Parallel()
		client := httpx.NewClient[sumReq, sumResp](http.MethodPost, mustURL(t, srv.URL), httpx.EncodeJSONRequest, httpx.DecodeJSONResponse,
			httpx.ClientHTTPClient(srv.Client()), httpx.ClientBefore(auth.ContextToHTTP())).Endpoint()
		resp, err := client(auth.ContextWithAuthorization(context.Background(), auth.BasicAuthorization("ada", "correct horse")), sumReq{})
		require.NoError(t, err)
		assert.Equal(t, "ada", resp.C)
		_, err = client(context.Background(), sumReq{})
		assert.Equal(t, kit.Unauthenticated, kit.CodeOf(err))
	})
}

func TestBasicValidatorErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		code kit.Code
	}{
		{"accepted", nil, kit.OK},
		{"plain error rejects", errors.New("no such user"), kit.Unauthenticated},
		{"unauthenticated rejects", kit.NewError(kit.Unauthenticated, "locked"), kit.Unauthenticated},
		{"permission denied passes", kit.NewError(kit.PermissionDenied, "read only"), kit.PermissionDenied},
		{"unavailable passes", kit.NewError(kit.Unavailable, "directory down"), kit.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ep := intercept(echo, auth.Basic("test", func(context.Context, string, string) error { return tt.err }))
			ctx := auth.ContextWithAuthorization(context.Background(), auth.BasicAuthorization("u", "p"))
			_, err := ep(ctx, sumReq{})
			assert.Equal(t, tt.code, kit.CodeOf(err))
			var ae *auth.Error
			if tt.code == kit.Unauthenticated {
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, basicChallenge, ae.Challenge)
			}
		})
	}
}

func TestBasicUsers(t *testing.T) {
	t.Parallel()
	v := auth.BasicUsers(map[string]string{"a": "1", "b": "2", "": ""})
	tests := []struct {
		user, password string
		ok             bool
	}{
		{"a", "1", true},
		{"b", "2", true},
		{"", "", true},
		{"a", "2", false},
		{"b", "1", false},
		{"a", "", false},
		{"c", "1", false},
		{"a", "1 ", false},
	}
	for _, tt := range tests {
		err := v(context.Background(), tt.user, tt.password)
		assert.Equal(t, tt.ok, err == nil, "%q:%q", tt.user, tt.password)
	}
	assert.Error(t, auth.BasicUsers(nil)(context.Background(), "", ""))
}

func TestAuthorizationHooks(t *testing.T) {
	t.Parallel()
	t.Run("http", func(t *testing.T) {
		t.Parallel()
		out, err := http.NewRequest(http.MethodGet, "http://example.test", nil)
		require.NoError(t, err)
		auth.ContextToHTTP()(context.Background(), out)
		assert.Empty(t, out.Header.Get("Authorization"), "nothing to send")

		ctx := auth.ContextWithAuthorization(context.Background(), "Bearer t")
		auth.ContextToHTTP()(ctx, out)
		assert.Equal(t, "Bearer t", out.Header.Get("Authorization"))

		got, ok := auth.AuthorizationFrom(auth.HTTPToContext()(context.Background(), out))
		assert.True(t, ok)
		assert.Equal(t, "Bearer t", got)
	})
	t.Run("grpc", func(t *testing.T) {
		t.Parallel()
		var out metadata.MD
		auth.ContextToGRPC()(context.Background(), &out)
		assert.Empty(t, out, "nothing to send")

		ctx := auth.ContextWithAuthorization(context.Background(), "Bearer t")
		auth.ContextToGRPC()(ctx, &out)
		assert.Equal(t, []string{"Bearer t"}, out.Get("authorization"))

		got, ok := auth.AuthorizationFrom(auth.GRPCToContext()(context.Background(), out))
		assert.True(t, ok)
		assert.Equal(t, "Bearer t", got)

		_, ok = auth.AuthorizationFrom(auth.GRPCToContext()(context.Background(), nil))
		assert.False(t, ok)
	})
}
