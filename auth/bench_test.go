package auth_test

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/auth"
)

func runBench(b *testing.B, ctx context.Context, ep kit.Endpoint[sumReq, sumResp]) {
	req := sumReq{B: "x"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ep(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBasic measures a call through Basic with BasicUsers.
func BenchmarkBasic(b *testing.B) {
	ep := intercept(echo, auth.Basic("test", auth.BasicUsers(map[string]string{"ada": "correct horse"})))
	runBench(b, auth.ContextWithAuthorization(context.Background(), auth.BasicAuthorization("ada", "correct horse")), ep)
}

// BenchmarkBearer measures a call through Bearer, verifying an HS256 and an
// EdDSA token.
func BenchmarkBearer(b *testing.B) {
	claims := validClaims()
	secret := []byte("0123456789abcdef0123456789abcdef")
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	tests := []struct {
		alg    jwt.SigningMethod
		key    jwt.Keyfunc
		signer any
	}{
		{jwt.SigningMethodHS256, auth.StaticKey(secret), secret},
		{jwt.SigningMethodEdDSA, auth.StaticKey(priv.Public().(ed25519.PublicKey)), priv},
	}
	for _, tt := range tests {
		b.Run(tt.alg.Alg(), func(b *testing.B) {
			v, err := auth.NewVerifier[jwt.RegisteredClaims]([]string{tt.alg.Alg()}, tt.key,
				auth.VerifierIssuer(testIssuer), auth.VerifierAudience(testAudience), auth.VerifierClock(func() time.Time { return now }))
			if err != nil {
				b.Fatal(err)
			}
			token, err := jwt.NewWithClaims(tt.alg, claims).SignedString(tt.signer)
			if err != nil {
				b.Fatal(err)
			}
			ctx := auth.ContextWithAuthorization(context.Background(), auth.BearerAuthorization(token))
			runBench(b, ctx, intercept(echo, auth.Bearer(v)))
		})
	}
}
