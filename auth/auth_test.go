package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/auth"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/internal/grpctest/testpb"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// now is the clock of the verifiers under test.
var now = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

const (
	testIssuer   = "https://issuer.test"
	testAudience = "users-api"
)

// testKeys are two RSA keys: the service's, and another issuer's.
var testKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var keys [2]*rsa.PrivateKey
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

func serviceKey() *rsa.PrivateKey { return testKeys()[0] }
func otherKey() *rsa.PrivateKey   { return testKeys()[1] }

// publicKeyPEM is the service's public key in PEM, the secret of an
// algorithm confusion attack.
func publicKeyPEM(t *testing.T) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&serviceKey().PublicKey)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// validClaims are claims the verifiers under test accept.
func validClaims() jwt.RegisteredClaims {
	return jwt.RegisteredClaims{
		Issuer:    testIssuer,
		Subject:   "user-1",
		Audience:  jwt.ClaimStrings{testAudience},
		ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
		IssuedAt:  jwt.NewNumericDate(now.Add(-time.Minute)),
	}
}

func sign(t *testing.T, method jwt.SigningMethod, claims jwt.Claims, key any) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	require.NoError(t, err)
	return s
}

type sumReq struct {
	A int64  `json:"a"`
	B string `json:"b"`
}

type sumResp struct {
	C string `json:"c"`
}

func echo(_ context.Context, r sumReq) (sumResp, error) { return sumResp{C: r.B}, nil }

// serverErrors collects the errors a server answered, to check their full
// text as it would be logged.
type serverErrors struct {
	mu   sync.Mutex
	errs []error
}

func (s *serverErrors) Handle(_ context.Context, err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

func (s *serverErrors) last() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) == 0 {
		return nil
	}
	return s.errs[len(s.errs)-1]
}

// sumCall is the method the test servers serve.
var sumCall = kit.Call{Service: "typedkit.test.Test", Method: "Sum"}

// intercept wraps ep, the endpoint of sumCall, in interceptors.
func intercept[Req, Resp any](ep kit.Endpoint[Req, Resp], ics ...kit.Interceptor) kit.Endpoint[Req, Resp] {
	return kit.Intercept(ep, sumCall, ics...)
}

// serveHTTP serves ep with httpx, the auth hook and interceptors on a
// loopback server.
func serveHTTP(t *testing.T, ep kit.Endpoint[sumReq, sumResp], errs *serverErrors, ics ...kit.Interceptor) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(httpx.NewServer(ep, httpx.DecodeJSONRequest[sumReq], httpx.EncodeJSONResponse,
		httpx.ServerBefore(auth.HTTPToContext()), httpx.ServerErrorHandler(errs),
		httpx.ServerCall(sumCall), httpx.ServerInterceptors(ics...)))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv
}

type httpAnswer struct {
	status    int
	challenge string
	body      string
}

// post sends {"b":"x"} with the Authorization header, if any.
func post(t *testing.T, srv *httptest.Server, authorization string) httpAnswer {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"b":"x"}`))
	require.NoError(t, err)
	r.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	resp, err := srv.Client().Do(r)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return httpAnswer{status: resp.StatusCode, challenge: resp.Header.Get("WWW-Authenticate"), body: string(body)}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

type testService struct {
	testpb.UnimplementedTestServer
	sum *grpcx.Server[*testpb.SumRequest, sumReq, sumResp, *testpb.SumReply]
}

func (s *testService) Sum(ctx context.Context, r *testpb.SumRequest) (*testpb.SumReply, error) {
	return s.sum.Serve(ctx, r)
}

// serveGRPC serves ep with grpcx, the auth hook and interceptors on a real
// grpc.Server over bufconn, and returns a client endpoint that sends the
// context's Authorization.
func serveGRPC(t *testing.T, ep kit.Endpoint[sumReq, sumResp], ics ...kit.Interceptor) kit.Endpoint[sumReq, sumResp] {
	t.Helper()
	decode := func(_ context.Context, r *testpb.SumRequest) (sumReq, error) {
		return sumReq{A: r.GetA(), B: r.GetB()}, nil
	}
	encode := func(_ context.Context, r sumResp) (*testpb.SumReply, error) { return &testpb.SumReply{C: r.C}, nil }
	srv := grpc.NewServer()
	testpb.RegisterTestServer(srv, &testService{sum: grpcx.NewServer(ep, decode, encode,
		grpcx.ServerBefore(auth.GRPCToContext()),
		grpcx.ServerCall(sumCall), grpcx.ServerInterceptors(ics...),
		grpcx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) {})))})
	lis := bufconn.Listen(1 << 20)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(lis)
	}()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
		<-served
	})
	encodeReq := func(_ context.Context, r sumReq) (*testpb.SumRequest, error) {
		return &testpb.SumRequest{A: r.A, B: r.B}, nil
	}
	decodeReply := func(_ context.Context, r *testpb.SumReply) (sumResp, error) { return sumResp{C: r.GetC()}, nil }
	return grpcx.NewClient(conn, testpb.Test_Sum_FullMethodName, encodeReq, decodeReply,
		grpcx.ClientBefore(auth.ContextToGRPC())).Endpoint()
}
