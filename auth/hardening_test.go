package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/auth"
	"github.com/typedkit/kit/httpx"
)

// TestNewVerifierRefusesWeakHMACKeys: a secret missing from the
// environment (empty) or too short to resist guessing is refused at start,
// and a key function that gives a weak key later fails every token.
func TestNewVerifierRefusesWeakHMACKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		alg  string
		key  []byte
		fail bool
	}{
		{"HS256", nil, true},
		{"HS256", []byte("x"), true},
		{"HS256", []byte(strings.Repeat("k", 31)), true},
		{"HS256", []byte(strings.Repeat("k", 32)), false},
		{"HS384", []byte(strings.Repeat("k", 47)), true},
		{"HS384", []byte(strings.Repeat("k", 48)), false},
		{"HS512", []byte(strings.Repeat("k", 63)), true},
		{"HS512", []byte(strings.Repeat("k", 64)), false},
	}
	for _, tt := range tests {
		t.Run(tt.alg+"/"+string(rune('0'+len(tt.key)%10)), func(t *testing.T) {
			t.Parallel()
			v, err := auth.NewVerifier[jwt.RegisteredClaims]([]string{tt.alg}, auth.StaticKey(tt.key))
			if tt.fail {
				require.Error(t, err)
				assert.Nil(t, v)
				assert.Contains(t, err.Error(), "RFC 7518")
				return
			}
			require.NoError(t, err)
		})
	}

	// A key set holding a weak key is weak too.
	set := func(*jwt.Token) (any, error) {
		return jwt.VerificationKeySet{Keys: []jwt.VerificationKey{[]byte(strings.Repeat("k", 32)), []byte("x")}}, nil
	}
	_, err := auth.NewVerifier[jwt.RegisteredClaims]([]string{"HS256"}, set)
	require.Error(t, err, "a weak key in a key set")

	// A key function that gives a weak key only for real tokens.
	weak := func(tok *jwt.Token) (any, error) {
		if tok.Raw == "" {
			return []byte(strings.Repeat("k", 32)), nil
		}
		return []byte("short"), nil
	}
	v, err := auth.NewVerifier[jwt.RegisteredClaims]([]string{"HS256"}, weak, auth.VerifierClock(func() time.Time { return now }))
	require.NoError(t, err)
	c := validClaims()
	_, err = v.Verify(sign(t, jwt.SigningMethodHS256, c, []byte("short")))
	require.Error(t, err)
	assert.Equal(t, kit.Internal, kit.CodeOf(err), "a weak key is the server's fault")
	assert.Equal(t, "internal error", kit.MessageOf(err))
}

// TestMaxLifetime refuses tokens that live longer than allowed, by iat or
// from now.
func TestMaxLifetime(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, auth.VerifierMaxLifetime(2*time.Hour))
	long := validClaims()
	long.ExpiresAt = jwt.NewNumericDate(now.Add(30 * 24 * time.Hour))
	_, err := v.Verify(sign(t, jwt.SigningMethodRS256, long, serviceKey()))
	assert.Equal(t, kit.Unauthenticated, kit.CodeOf(err))
	assert.ErrorIs(t, err, jwt.ErrTokenInvalidClaims)

	issued := validClaims()
	issued.IssuedAt = jwt.NewNumericDate(now.Add(-time.Hour))
	issued.ExpiresAt = jwt.NewNumericDate(now.Add(90 * time.Minute)) // 2.5 h after iat
	_, err = v.Verify(sign(t, jwt.SigningMethodRS256, issued, serviceKey()))
	assert.Equal(t, kit.Unauthenticated, kit.CodeOf(err))

	future := validClaims()
	future.ExpiresAt = jwt.NewNumericDate(now.Add(365 * 24 * time.Hour))
	future.IssuedAt = jwt.NewNumericDate(now.Add(365*24*time.Hour - time.Minute))
	_, err = v.Verify(sign(t, jwt.SigningMethodRS256, future, serviceKey()))
	assert.Equal(t, kit.Unauthenticated, kit.CodeOf(err), "an iat in the future does not stretch the bound")

	_, err = v.Verify(sign(t, jwt.SigningMethodRS256, validClaims(), serviceKey()))
	assert.NoError(t, err, "an hour is within two")
}

// TestHTTPGuardRefusesBeforeDecoding sends unauthenticated requests that
// would fail decoding, or are huge: each is answered 401 and the decoder
// never runs; public requests pass without a token.
func TestHTTPGuardRefusesBeforeDecoding(t *testing.T) {
	t.Parallel()
	var decoded atomic.Int32
	dec := func(ctx context.Context, r *http.Request) (sumReq, error) {
		decoded.Add(1)
		return httpx.DecodeJSONRequest[sumReq](ctx, r)
	}
	public := func(r *http.Request) bool { return r.Method == http.MethodGet }
	srv := httptest.NewServer(httpx.NewServer(whoami, dec, httpx.EncodeJSONResponse[sumResp],
		httpx.ServerGuard(auth.HTTPGuard(newVerifier(t), public)),
		httpx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) {}))))
	t.Cleanup(srv.Close)
	token := auth.BearerAuthorization(sign(t, jwt.SigningMethodRS256, validClaims(), serviceKey()))
	tests := []struct {
		name, method, body, authorization, contentType string
		status                                         int
	}{
		{"malformed JSON without credentials", "POST", `{"b":`, "", "application/json", 401},
		{"wrong content type without credentials", "POST", `x`, "", "text/plain", 401},
		{"3 MiB without credentials", "POST", `{"b":"` + strings.Repeat("x", 3<<20) + `"}`, "", "application/json", 401},
		{"bad token", "POST", `{"b":"x"}`, "Bearer nope", "application/json", 401},
		{"valid token", "POST", `{"b":"x"}`, token, "application/json", 200},
		{"valid token, malformed JSON", "POST", `{"b":`, token, "application/json", 400},
		// Passes the guard and reaches whoami, which fails without claims.
		{"public read without credentials", "GET", ``, "", "", 500},
	}
	// Not parallel: each compares the shared count of decoded requests.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := decoded.Load()
			r, err := http.NewRequest(tt.method, srv.URL, strings.NewReader(tt.body))
			require.NoError(t, err)
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			if tt.authorization != "" {
				r.Header.Set("Authorization", tt.authorization)
			}
			resp, err := http.DefaultClient.Do(r)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.status, resp.StatusCode)
			if tt.status == 401 {
				assert.Equal(t, before, decoded.Load(), "the request was not decoded")
			} else {
				assert.Equal(t, before+1, decoded.Load(), "the request was decoded")
			}
		})
	}
}
