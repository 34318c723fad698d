package auth_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/auth"
	"github.com/typedkit/kit/httpx"
)

func newVerifier(t *testing.T, opts ...auth.VerifierOption) *auth.Verifier[*jwt.RegisteredClaims] {
	t.Helper()
	opts = append([]auth.VerifierOption{
		auth.VerifierIssuer(testIssuer), auth.VerifierAudience(testAudience), auth.VerifierClock(func() time.Time { return now }), auth.VerifierRealm("users"),
	}, opts...)
	v, err := auth.NewVerifier[jwt.RegisteredClaims]([]string{"RS256"}, auth.StaticKey(&serviceKey().PublicKey), opts...)
	require.NoError(t, err)
	return v
}

// whoami answers the subject of the verified claims.
func whoami(ctx context.Context, _ sumReq) (sumResp, error) {
	c, ok := auth.ClaimsFrom[*jwt.RegisteredClaims](ctx)
	if !ok {
		return sumResp{}, errors.New("no claims")
	}
	return sumResp{C: c.Subject}, nil
}

type badToken struct {
	name   string
	token  string
	reason error // the cause errors.Is finds
}

// badTokens are tokens the verifier of newVerifier must reject.
func badTokens(t *testing.T) []badToken {
	t.Helper()
	rs256 := func(mutate func(*jwt.RegisteredClaims)) string {
		c := validClaims()
		mutate(&c)
		return sign(t, jwt.SigningMethodRS256, c, serviceKey())
	}
	valid := sign(t, jwt.SigningMethodRS256, validClaims(), serviceKey())
	parts := strings.Split(valid, ".")
	require.Len(t, parts, 3)

	tamperedSig := []byte(parts[2])
	i := len(tamperedSig) / 2
	if tamperedSig[i] == 'A' {
		tamperedSig[i] = 'B'
	} else {
		tamperedSig[i] = 'A'
	}
	otherClaims := validClaims()
	otherClaims.Subject = "admin"
	forgedPayload := strings.Split(sign(t, jwt.SigningMethodRS256, otherClaims, otherKey()), ".")[1]

	return []badToken{
		{"expired", rs256(func(c *jwt.RegisteredClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute)) }), jwt.ErrTokenExpired},
		{"no expiry", rs256(func(c *jwt.RegisteredClaims) { c.ExpiresAt = nil }), jwt.ErrTokenRequiredClaimMissing},
		{"not yet valid", rs256(func(c *jwt.RegisteredClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Hour)) }), jwt.ErrTokenNotValidYet},
		{"wrong audience", rs256(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"billing-api"} }), jwt.ErrTokenInvalidAudience},
		{"no audience", rs256(func(c *jwt.RegisteredClaims) { c.Audience = nil }), jwt.ErrTokenRequiredClaimMissing},
		{"wrong issuer", rs256(func(c *jwt.RegisteredClaims) { c.Issuer = "https://evil.test" }), jwt.ErrTokenInvalidIssuer},
		{"alg none", sign(t, jwt.SigningMethodNone, validClaims(), jwt.UnsafeAllowNoneSignatureType), jwt.ErrTokenSignatureInvalid},
		{"HS256 keyed with the RSA public key", sign(t, jwt.SigningMethodHS256, validClaims(), publicKeyPEM(t)), jwt.ErrTokenSignatureInvalid},
		{"RS512 is not allowed", sign(t, jwt.SigningMethodRS512, validClaims(), serviceKey()), jwt.ErrTokenSignatureInvalid},
		{"signed by another key", sign(t, jwt.SigningMethodRS256, validClaims(), otherKey()), jwt.ErrTokenSignatureInvalid},
		{"tampered signature", parts[0] + "." + parts[1] + "." + string(tamperedSig), jwt.ErrTokenSignatureInvalid},
		{"tampered payload", parts[0] + "." + forgedPayload + "." + parts[2], jwt.ErrTokenSignatureInvalid},
		{"no signature", parts[0] + "." + parts[1] + ".", jwt.ErrTokenSignatureInvalid},
		{"malformed header", "eyJub3QganNvbg." + parts[1] + "." + parts[2], jwt.ErrTokenMalformed},
		{"header not base64", "!!!!." + parts[1] + "." + parts[2], jwt.ErrTokenMalformed},
		{"payload not json", parts[0] + ".bm90IGpzb24." + parts[2], jwt.ErrTokenMalformed},
		{"two segments", parts[0] + "." + parts[1], jwt.ErrTokenMalformed},
		{"not a jwt", "opaque-token-0123456789", jwt.ErrTokenMalformed},
	}
}

// assertNoEcho checks that s holds nothing of the token.
func assertNoEcho(t *testing.T, s, token string) {
	t.Helper()
	assert.NotContains(t, s, token)
	for _, part := range strings.Split(token, ".") {
		if len(part) >= 4 {
			assert.NotContains(t, s, part)
		}
	}
}

func TestVerifierRejectsBadTokens(t *testing.T) {
	t.Parallel()
	v := newVerifier(t)
	for _, tt := range badTokens(t) {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			claims, err := v.Verify(tt.token)
			require.Error(t, err)
			assert.Nil(t, claims)
			assert.Equal(t, kit.Unauthenticated, kit.CodeOf(err))
			assert.ErrorIs(t, err, tt.reason)
			var ae *auth.Error
			require.ErrorAs(t, err, &ae)
			assert.Contains(t, ae.Challenge, `error="invalid_token"`)
			assertNoEcho(t, err.Error(), tt.token)
			assertNoEcho(t, kit.MessageOf(err), tt.token)
			assertNoEcho(t, ae.Challenge, tt.token)
		})
	}
}

// Each bad token, sent to a real httpx server, is answered 401 with a
// Bearer challenge, and neither the body, the header nor the error the
// server logs holds any of it.
func TestBearerOverHTTP(t *testing.T) {
	t.Parallel()
	errs := &serverErrors{}
	srv := serveHTTP(t, whoami, errs, auth.Bearer(newVerifier(t)))

	t.Run("valid", func(t *testing.T) {
		t.Parallel()
		got := post(t, srv, auth.BearerAuthorization(sign(t, jwt.SigningMethodRS256, validClaims(), serviceKey())))
		assert.Equal(t, http.StatusOK, got.status)
		assert.JSONEq(t, `{"c":"user-1"}`, got.body)
	})
	// Not parallel: each checks the error the server logged last. The
	// parallel subtests run only after these.
	for _, tt := range badTokens(t) {
		t.Run(tt.name, func(t *testing.T) {
			got := post(t, srv, "Bearer "+tt.token)
			assert.Equal(t, http.StatusUnauthorized, got.status)
			assert.True(t, strings.HasPrefix(got.challenge, `Bearer realm="users", error="invalid_token"`), got.challenge)
			assert.Contains(t, got.body, `"code":"unauthenticated"`)
			assertNoEcho(t, got.body, tt.token)
			assertNoEcho(t, got.challenge, tt.token)
			logged := errs.last()
			require.Error(t, logged)
			assertNoEcho(t, logged.Error(), tt.token)
		})
	}
	missing := []struct{ name, authorization string }{
		{"no authorization", ""},
		{"another scheme", auth.BasicAuthorization("user-1", "secret")},
	}
	for _, tt := range missing {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := post(t, srv, tt.authorization)
			assert.Equal(t, http.StatusUnauthorized, got.status)
			assert.Equal(t, `Bearer realm="users"`, got.challenge)
			assert.Contains(t, got.body, "missing credentials")
			assert.NotContains(t, got.body, "secret")
		})
	}
	t.Run("expired says so", func(t *testing.T) {
		t.Parallel()
		c := validClaims()
		c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Second))
		got := post(t, srv, auth.BearerAuthorization(sign(t, jwt.SigningMethodRS256, c, serviceKey())))
		assert.Equal(t, http.StatusUnauthorized, got.status)
		assert.Equal(t, `Bearer realm="users", error="invalid_token", error_description="token expired"`, got.challenge)
	})
	t.Run("scheme is case-insensitive", func(t *testing.T) {
		t.Parallel()
		got := post(t, srv, "bearer "+sign(t, jwt.SigningMethodRS256, validClaims(), serviceKey()))
		assert.Equal(t, http.StatusOK, got.status)
	})
}

// The typed client sends the context's Authorization, and the server
// answers the codes back through the client.
func TestBearerThroughTypedClients(t *testing.T) {
	t.Parallel()
	v := newVerifier(t)
	onlyUser1 := auth.Authorize[sumReq, sumResp](func(_ context.Context, c *jwt.RegisteredClaims, _ sumReq) bool {
		return c.Subject == "user-1"
	})
	// The server's interceptors run outside the typed middlewares of the
	// method: Bearer has put the claims in the context Authorize reads.
	ep := onlyUser1(whoami)

	user2 := validClaims()
	user2.Subject = "user-2"
	expired := validClaims()
	expired.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Hour))
	tests := []struct {
		name          string
		authorization string
		code          kit.Code
		message       string
	}{
		{"allowed", auth.BearerAuthorization(sign(t, jwt.SigningMethodRS256, validClaims(), serviceKey())), kit.OK, ""},
		{"not allowed", auth.BearerAuthorization(sign(t, jwt.SigningMethodRS256, user2, serviceKey())), kit.PermissionDenied, "permission denied"},
		{"expired", auth.BearerAuthorization(sign(t, jwt.SigningMethodRS256, expired, serviceKey())), kit.Unauthenticated, "token expired"},
		{"missing", "", kit.Unauthenticated, "missing credentials"},
	}

	srv := serveHTTP(t, ep, &serverErrors{}, auth.Bearer(v))
	clients := map[string]kit.Endpoint[sumReq, sumResp]{
		"http": httpx.NewClient[sumReq, sumResp](http.MethodPost, mustURL(t, srv.URL), httpx.EncodeJSONRequest, httpx.DecodeJSONResponse,
			httpx.ClientHTTPClient(srv.Client()), httpx.ClientBefore(auth.ContextToHTTP())).Endpoint(),
		"grpc": serveGRPC(t, ep, auth.Bearer(v)),
	}
	for transport, client := range clients {
		for _, tt := range tests {
			t.Run(transport+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				if tt.authorization != "" {
					ctx = auth.ContextWithAuthorization(ctx, tt.authorization)
				}
				resp, err := client(ctx, sumReq{B: "x"})
				assert.Equal(t, tt.code, kit.CodeOf(err))
				if tt.code == kit.OK {
					require.NoError(t, err)
					assert.Equal(t, "user-1", resp.C)
					return
				}
				assert.Equal(t, tt.message, kit.MessageOf(err))
			})
		}
	}
}

func TestNewVerifierRefuses(t *testing.T) {
	t.Parallel()
	key := auth.StaticKey(&serviceKey().PublicKey)
	tests := []struct {
		name       string
		algorithms []string
		keyFunc    jwt.Keyfunc
	}{
		{"no algorithm", nil, key},
		{"none", []string{"RS256", "none"}, key},
		{"unknown algorithm", []string{"XS256"}, key},
		{"HMAC beside RSA", []string{"RS256", "HS256"}, key},
		{"no key function", []string{"RS256"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := auth.NewVerifier[jwt.RegisteredClaims](tt.algorithms, tt.keyFunc)
			assert.Error(t, err)
			assert.Nil(t, v)
		})
	}
}

type scopedClaims struct {
	jwt.RegisteredClaims
	Scope string `json:"scope"`
}

// Claims of one's own type reach the endpoint typed; they are not seen as
// claims of another type.
func TestCustomClaims(t *testing.T) {
	t.Parallel()
	v, err := auth.NewVerifier[scopedClaims]([]string{"RS256"}, auth.StaticKey(&serviceKey().PublicKey),
		auth.VerifierClock(func() time.Time { return now }))
	require.NoError(t, err)
	ep := intercept(func(ctx context.Context, _ sumReq) (sumResp, error) {
		c, ok := auth.ClaimsFrom[*scopedClaims](ctx)
		if !ok {
			return sumResp{}, errors.New("no claims")
		}
		_, other := auth.ClaimsFrom[*jwt.RegisteredClaims](ctx)
		assert.False(t, other)
		return sumResp{C: c.Subject + " " + c.Scope}, nil
	}, auth.Bearer(v))
	token := sign(t, jwt.SigningMethodRS256, scopedClaims{RegisteredClaims: validClaims(), Scope: "users:write"}, serviceKey())
	resp, err := ep(auth.ContextWithAuthorization(context.Background(), auth.BearerAuthorization(token)), sumReq{})
	require.NoError(t, err)
	assert.Equal(t, "user-1 users:write", resp.C)
}

func TestMapClaims(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	v, err := auth.NewVerifier[jwt.MapClaims]([]string{"HS256"}, auth.StaticKey(secret),
		auth.VerifierClock(func() time.Time { return now }))
	require.NoError(t, err)
	claims, err := v.Verify(sign(t, jwt.SigningMethodHS256, validClaims(), secret))
	require.NoError(t, err)
	assert.Equal(t, "user-1", (*claims)["sub"])
}

func TestVerifierPassesKeyErrorsWithTheirCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		code kit.Code
	}{
		{"unavailable key store", kit.NewError(kit.Unavailable, "keys unavailable"), kit.Unavailable},
		{"unknown key", kit.NewError(kit.Unauthenticated, "unknown key"), kit.Unauthenticated},
		{"plain error", errors.New("no key"), kit.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := auth.NewVerifier[jwt.RegisteredClaims]([]string{"RS256"},
				func(*jwt.Token) (any, error) { return nil, tt.err },
				auth.VerifierClock(func() time.Time { return now }))
			require.NoError(t, err)
			_, err = v.Verify(sign(t, jwt.SigningMethodRS256, validClaims(), serviceKey()))
			assert.Equal(t, tt.code, kit.CodeOf(err))
		})
	}
}

func TestLeeway(t *testing.T) {
	t.Parallel()
	c := validClaims()
	c.ExpiresAt = jwt.NewNumericDate(now.Add(-30 * time.Second))
	token := sign(t, jwt.SigningMethodRS256, c, serviceKey())
	_, err := newVerifier(t).Verify(token)
	assert.ErrorIs(t, err, jwt.ErrTokenExpired)
	_, err = newVerifier(t, auth.VerifierLeeway(time.Minute)).Verify(token)
	assert.NoError(t, err)
}

func TestAuthorizeWithoutClaims(t *testing.T) {
	t.Parallel()
	ep := auth.Authorize[sumReq, sumResp](func(context.Context, *jwt.RegisteredClaims, sumReq) bool { return true })(echo)
	_, err := ep(context.Background(), sumReq{})
	assert.Equal(t, kit.Unauthenticated, kit.CodeOf(err))
}

func TestErrorHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *auth.Error
		want http.Header
	}{
		{"challenge", &auth.Error{Err: kit.NewError(kit.Unauthenticated, ""), Challenge: `Bearer realm="x"`}, http.Header{"Www-Authenticate": {`Bearer realm="x"`}}},
		{"none", &auth.Error{Err: kit.NewError(kit.PermissionDenied, "")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.err.Headers())
		})
	}
}

func TestRealmIsQuoted(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, auth.VerifierRealm("a \"b\" \\c\r\n"))
	ep := intercept(echo, auth.Bearer(v))
	_, err := ep(context.Background(), sumReq{})
	var ae *auth.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, `Bearer realm="a \"b\" \\c"`, ae.Challenge)
}
