package auth_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/auth"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/internal/grpctest/testpb"
	"github.com/typedkit/kit/internal/tlstest"
	"github.com/typedkit/kit/tlsx"
)

func peerOf(dns []string, uris ...string) *tlsx.Peer {
	p := &tlsx.Peer{DNSNames: dns}
	for _, u := range uris {
		pu, _ := url.Parse(u)
		p.URIs = append(p.URIs, pu)
	}
	return p
}

func TestPeerPolicy(t *testing.T) {
	t.Parallel()
	a, err := auth.NewPeerAuthorizer(auth.PeerPolicy{
		DNSNames: []string{"Billing.Internal", "*.jobs.internal"},
		URIs:     []string{"spiffe://td/ns/prod/sa/api", "spiffe://td/ns/batch/*"},
	})
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		peer *tlsx.Peer
		want bool
	}{
		{"exact DNS, other case", peerOf([]string{"billing.internal"}), true},
		{"DNS with a trailing dot", peerOf([]string{"billing.internal."}), true},
		{"wildcard, one label", peerOf([]string{"nightly.jobs.internal"}), true},
		{"wildcard, two labels", peerOf([]string{"a.b.jobs.internal"}), false},
		{"wildcard base itself", peerOf([]string{"jobs.internal"}), false},
		{"DNS not listed", peerOf([]string{"evil.internal"}), false},
		{"exact URI", peerOf(nil, "spiffe://td/ns/prod/sa/api"), true},
		{"URI with a suffix", peerOf(nil, "spiffe://td/ns/prod/sa/api2"), false},
		{"URI under a prefix", peerOf(nil, "spiffe://td/ns/batch/sa/etl"), true},
		{"the prefix itself", peerOf(nil, "spiffe://td/ns/batch/"), false},
		{"prefix of another trust domain", peerOf(nil, "spiffe://other/ns/batch/sa/etl"), false},
		{"a second SAN matches", peerOf([]string{"evil.internal"}, "spiffe://x/y", "spiffe://td/ns/prod/sa/api"), true},
		{"no names", peerOf(nil), false},
		{"nil peer", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, a.Allows(tc.peer))
		})
	}
}

func TestPeerPolicyErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		p    auth.PeerPolicy
	}{
		{"empty", auth.PeerPolicy{}},
		{"wildcard in the middle", auth.PeerPolicy{DNSNames: []string{"a.*.internal"}}},
		{"wildcard of a TLD", auth.PeerPolicy{DNSNames: []string{"*.internal"}}},
		{"partial wildcard", auth.PeerPolicy{DNSNames: []string{"a*.internal"}}},
		{"URI without scheme", auth.PeerPolicy{URIs: []string{"td/ns/prod"}}},
		{"wildcard inside a URI", auth.PeerPolicy{URIs: []string{"spiffe://td/*/sa"}}},
		{"DNS with a port", auth.PeerPolicy{DNSNames: []string{"a.internal:443"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := auth.NewPeerAuthorizer(tc.p)
			assert.Error(t, err)
		})
	}
}

func TestPeerPolicyAnyVerified(t *testing.T) {
	t.Parallel()
	a, err := auth.NewPeerAuthorizer(auth.PeerPolicy{AnyVerified: true})
	require.NoError(t, err)
	assert.True(t, a.Allows(peerOf(nil)))
	assert.False(t, a.Allows(nil))
}

func TestRequirePeer(t *testing.T) {
	t.Parallel()
	a, err := auth.NewPeerAuthorizer(auth.PeerPolicy{URIs: []string{tlstest.ClientAURI}})
	require.NoError(t, err)
	ep := intercept(func(context.Context, string) (string, error) { return "ok", nil }, auth.RequirePeer(a))
	_, err = ep(context.Background(), "")
	assert.Equal(t, kit.Unauthenticated, kit.CodeOf(err))
	_, err = ep(tlsx.ContextWithPeer(context.Background(), peerOf(nil, tlstest.ClientBURI)), "")
	assert.Equal(t, kit.PermissionDenied, kit.CodeOf(err))
	got, err := ep(tlsx.ContextWithPeer(context.Background(), peerOf(nil, tlstest.ClientAURI)), "")
	require.NoError(t, err)
	assert.Equal(t, "ok", got)
}

func peerName(ctx context.Context, _ struct{}) (string, error) {
	if p, ok := tlsx.PeerFrom(ctx); ok {
		return p.Subject.CommonName, nil
	}
	return "anonymous", nil
}

func TestPeerGuardOverHTTP(t *testing.T) {
	t.Parallel()
	set := tlstest.NewSet(t)
	a, err := auth.NewPeerAuthorizer(auth.PeerPolicy{URIs: []string{tlstest.ClientAURI}})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("GET /whoami", httpx.NewServer(kit.Endpoint[struct{}, string](peerName),
		func(context.Context, *http.Request) (struct{}, error) { return struct{}{}, nil },
		httpx.EncodeJSONResponse[string],
		httpx.ServerGuard(auth.HTTPPeerGuard(a, func(r *http.Request) bool { return r.URL.Query().Has("public") }))))
	srv, err := tlsx.NewServer(tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key, ClientCA: set.CA.File, ClientAuth: tls.VerifyClientCertIfGiven})
	require.NoError(t, err)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- httpx.Serve(ctx, &http.Server{Handler: mux}, lis, httpx.ServeTLS(srv)) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) }) // after the parallel subtests

	for _, tc := range []struct {
		name   string
		client tlstest.Files
		query  string
		status int
	}{
		{"admitted", set.ClientA, "", http.StatusOK},
		{"another identity", set.ClientB, "", http.StatusForbidden},
		{"no certificate", tlstest.Files{}, "", http.StatusUnauthorized},
		{"public without a certificate", tlstest.Files{}, "?public", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := tlsx.ClientFiles{CA: set.CA.File, Cert: tc.client.Cert, Key: tc.client.Key}.Config()
			require.NoError(t, err)
			tr := httpx.TLSTransport(cfg)
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + lis.Addr().String() + "/whoami" + tc.query)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			assert.Equal(t, tc.status, resp.StatusCode, string(body))
			if tc.status == http.StatusOK && tc.client.Cert != "" {
				assert.Contains(t, string(body), "client-a")
			}
		})
	}
}

type whoService struct {
	testpb.UnimplementedTestServer
	sum *grpcx.Server[*testpb.SumRequest, struct{}, string, *testpb.SumReply]
}

func (s *whoService) Sum(ctx context.Context, r *testpb.SumRequest) (*testpb.SumReply, error) {
	return s.sum.Serve(ctx, r)
}

func TestPeerGuardOverGRPC(t *testing.T) {
	t.Parallel()
	set := tlstest.NewSet(t)
	a, err := auth.NewPeerAuthorizer(auth.PeerPolicy{DNSNames: []string{tlstest.ClientADNS}})
	require.NoError(t, err)
	srv, err := tlsx.NewServer(tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key, ClientCA: set.CA.File, ClientAuth: tls.VerifyClientCertIfGiven})
	require.NoError(t, err)
	s := grpcx.NewGRPCServer(grpcx.ServerTLS(srv))
	s.RegisterService(&testpb.Test_ServiceDesc, &whoService{sum: grpcx.NewServer(kit.Endpoint[struct{}, string](peerName),
		func(context.Context, *testpb.SumRequest) (struct{}, error) { return struct{}{}, nil },
		func(_ context.Context, c string) (*testpb.SumReply, error) { return &testpb.SumReply{C: c}, nil },
		grpcx.ServerGuard(auth.GRPCPeerGuard(a, nil)))})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- grpcx.Serve(ctx, s, lis) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) }) // after the parallel subtests

	for _, tc := range []struct {
		name   string
		client tlstest.Files
		code   kit.Code
	}{
		{"admitted", set.ClientA, kit.OK},
		{"another identity", set.ClientB, kit.PermissionDenied},
		{"no certificate", tlstest.Files{}, kit.Unauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := tlsx.ClientFiles{CA: set.CA.File, Cert: tc.client.Cert, Key: tc.client.Key}.Config()
			require.NoError(t, err)
			conn, err := grpc.NewClient(lis.Addr().String(), grpcx.DialTLS(cfg))
			require.NoError(t, err)
			defer conn.Close()
			cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer ccancel()
			reply, err := testpb.NewTestClient(conn).Sum(cctx, &testpb.SumRequest{})
			assert.Equal(t, tc.code, kit.CodeOf(grpcx.FromStatus(err)), "%v", err)
			if tc.code == kit.OK {
				assert.Equal(t, "client-a", reply.GetC())
			}
		})
	}
}

// FuzzPeerPolicy checks that any policy NewPeerAuthorizer accepts admits
// the exact names it lists and that matching never panics.
func FuzzPeerPolicy(f *testing.F) {
	f.Add("billing.internal", "spiffe://td/ns/prod/sa/api", "billing.internal")
	f.Add("*.jobs.internal", "spiffe://td/ns/batch/*", "a.jobs.internal")
	f.Add("", "urn:x", "URN:X")
	f.Fuzz(func(t *testing.T, dns, uri, name string) {
		p := auth.PeerPolicy{}
		if dns != "" {
			p.DNSNames = []string{dns}
		}
		if uri != "" {
			p.URIs = []string{uri}
		}
		a, err := auth.NewPeerAuthorizer(p)
		if err != nil {
			return
		}
		u, _ := url.Parse(name)
		peer := &tlsx.Peer{DNSNames: []string{name}}
		if u != nil {
			peer.URIs = []*url.URL{u}
		}
		_ = a.Allows(peer)
		if dns != "" && !strings.HasPrefix(dns, "*.") && !a.Allows(&tlsx.Peer{DNSNames: []string{dns}}) {
			t.Fatalf("policy of %q does not admit it", dns)
		}
		if pu, err := url.Parse(uri); err == nil && uri != "" && !strings.HasSuffix(uri, "/*") && pu.String() == uri && !a.Allows(&tlsx.Peer{URIs: []*url.URL{pu}}) {
			t.Fatalf("policy of %q does not admit it", uri)
		}
	})
}

// RequirePeer on a real httpx server: a call over plain HTTP has no
// verified client certificate and is answered 401 before the endpoint.
func TestRequirePeerOverHTTP(t *testing.T) {
	t.Parallel()
	a, err := auth.NewPeerAuthorizer(auth.PeerPolicy{AnyVerified: true})
	require.NoError(t, err)
	called := false
	srv := serveHTTP(t, func(context.Context, sumReq) (sumResp, error) {
		called = true
		return sumResp{}, nil
	}, &serverErrors{}, auth.RequirePeer(a))
	got := post(t, srv, "")
	assert.Equal(t, http.StatusUnauthorized, got.status)
	assert.Contains(t, got.body, `"code":"unauthenticated"`)
	assert.False(t, called)
	assert.Panics(t, func() { auth.RequirePeer(nil) })
}
