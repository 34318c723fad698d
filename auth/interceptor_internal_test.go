package auth

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
)

var (
	sinkCtx context.Context
	sinkErr error
)

// The interceptors allocate nothing beyond the checks they run: a call
// through Basic or Bearer allocates what reading the credentials, checking
// them and putting the result in the context does, and nothing of the
// interceptor's own.
//
// Not parallel: AllocsPerRun counts the allocations of the whole process.
func TestInterceptorsAddNoAllocation(t *testing.T) {
	call := kit.Call{Service: "s", Method: "M", Transport: kit.HTTP}
	nop := kit.Endpoint[struct{}, struct{}](func(context.Context, struct{}) (struct{}, error) { return struct{}{}, nil })

	validate := BasicUsers(map[string]string{"ada": "correct horse"})
	basicCtx := ContextWithAuthorization(context.Background(), BasicAuthorization("ada", "correct horse"))
	basicWork := func() {
		v, _ := AuthorizationFrom(basicCtx)
		user, password, _ := parseBasic(v)
		sinkErr = validate(basicCtx, user, password)
		sinkCtx = context.WithValue(basicCtx, basicUserKey{}, user)
	}

	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	v, err := NewVerifier[jwt.RegisteredClaims]([]string{"HS256"}, StaticKey(secret), VerifierClock(func() time.Time { return now }))
	require.NoError(t, err)
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}).SignedString(secret)
	require.NoError(t, err)
	bearerCtx := ContextWithAuthorization(context.Background(), BearerAuthorization(token))
	bearerWork := func() { sinkCtx, sinkErr = v.admit(bearerCtx) }

	tests := []struct {
		name string
		ic   kit.Interceptor
		ctx  context.Context
		work func()
	}{
		{"basic", Basic("r", validate), basicCtx, basicWork},
		{"bearer", Bearer(v), bearerCtx, bearerWork},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := kit.Intercept(nop, call, tt.ic)
			_, err := ep(tt.ctx, struct{}{})
			require.NoError(t, err)
			through := testing.AllocsPerRun(200, func() { _, _ = ep(tt.ctx, struct{}{}) })
			work := testing.AllocsPerRun(200, tt.work)
			assert.Equal(t, work, through)
		})
	}
	t.Run("missing basic credentials", func(t *testing.T) {
		ep := kit.Intercept(nop, call, Basic("r", validate))
		ctx := context.Background()
		assert.Zero(t, testing.AllocsPerRun(200, func() { _, _ = ep(ctx, struct{}{}) }))
	})
}
