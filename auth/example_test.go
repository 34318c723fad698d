package auth_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/auth"
	"github.com/typedkit/kit/httpx"
)

// A bearer JWT interceptor on an endpoint: a valid token reaches the
// endpoint with its claims, an expired one is a 401 with the Bearer
// challenge.
func ExampleBearer() {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)) // the issuer's key
	pub := priv.Public().(ed25519.PublicKey)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	v, err := auth.NewVerifier[jwt.RegisteredClaims]([]string{"EdDSA"}, auth.StaticKey(pub),
		auth.VerifierIssuer("https://issuer.example"), auth.VerifierAudience("users-api"), auth.VerifierRealm("users"),
		auth.VerifierClock(func() time.Time { return now }))
	if err != nil {
		panic(err)
	}
	getUser := func(ctx context.Context, id string) (string, error) {
		claims, _ := auth.ClaimsFrom[*jwt.RegisteredClaims](ctx)
		return "user " + id + " for " + claims.Subject, nil
	}
	ep := kit.Intercept(getUser, kit.Call{Service: "users.Service", Method: "GetUser"}, auth.Bearer(v))

	token := func(exp time.Time) string {
		s, _ := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.RegisteredClaims{
			Issuer: "https://issuer.example", Audience: jwt.ClaimStrings{"users-api"},
			Subject: "ada", ExpiresAt: jwt.NewNumericDate(exp),
		}).SignedString(priv)
		return auth.BearerAuthorization(s)
	}

	ctx := auth.ContextWithAuthorization(context.Background(), token(now.Add(time.Hour)))
	fmt.Println(ep(ctx, "42"))

	ctx = auth.ContextWithAuthorization(context.Background(), token(now.Add(-time.Hour)))
	_, err = ep(ctx, "42")
	fmt.Println(kit.CodeOf(err), kit.MessageOf(err))
	w := httptest.NewRecorder()
	httpx.DefaultErrorEncoder(ctx, err, w)
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output:
	// user 42 for ada <nil>
	// unauthenticated token expired
	// 401 Bearer realm="users", error="invalid_token", error_description="token expired"
}

type Greeting struct {
	Message string `json:"message"`
}

// HTTP Basic authentication between an httpx client and server: the client
// sends the credentials of its context, the server's hook hands them to the
// server's interceptor.
func ExampleBasic() {
	hello := func(ctx context.Context, _ struct{}) (Greeting, error) {
		user, _ := auth.BasicUserFrom(ctx)
		return Greeting{Message: "Hello, " + user}, nil
	}
	basic := auth.Basic("admin", auth.BasicUsers(map[string]string{"ada": "correct horse"}))
	srv := httptest.NewServer(httpx.NewServer(hello, httpx.DecodeJSONRequest, httpx.EncodeJSONResponse,
		httpx.ServerBefore(auth.HTTPToContext()),
		httpx.ServerCall(kit.Call{Service: "admin.Service", Method: "Hello"}),
		httpx.ServerInterceptors(basic)))
	defer srv.Close()

	u, _ := url.Parse(srv.URL)
	client := httpx.NewClient[struct{}, Greeting](http.MethodPost, u, httpx.EncodeJSONRequest, httpx.DecodeJSONResponse,
		httpx.ClientHTTPClient(srv.Client()), httpx.ClientBefore(auth.ContextToHTTP())).Endpoint()

	ctx := auth.ContextWithAuthorization(context.Background(), auth.BasicAuthorization("ada", "correct horse"))
	g, err := client(ctx, struct{}{})
	fmt.Println(g.Message, err)

	ctx = auth.ContextWithAuthorization(context.Background(), auth.BasicAuthorization("ada", "wrong horse"))
	_, err = client(ctx, struct{}{})
	fmt.Println(kit.CodeOf(err), kit.MessageOf(err))
	// Output:
	// Hello, ada <nil>
	// unauthenticated invalid user name or password
}
