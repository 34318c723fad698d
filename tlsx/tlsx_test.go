package tlsx_test

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/typedkit/kit/internal/tlstest"
	"github.com/typedkit/kit/tlsx"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNewServerErrors(t *testing.T) {
	t.Parallel()
	set := tlstest.NewSet(t)
	bad := t.TempDir() + "/nothing.pem"
	require.NoError(t, os.WriteFile(bad, []byte("not pem"), 0o600))
	for _, tc := range []struct {
		name  string
		files tlsx.ServerFiles
		want  string
	}{
		{"no key", tlsx.ServerFiles{Cert: set.Server.Cert}, "both a certificate and a key"},
		{"missing file", tlsx.ServerFiles{Cert: set.Server.Cert, Key: t.TempDir() + "/absent"}, "no such file"},
		{"key of another cert", tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.ClientA.Key}, "private key does not match"},
		{"empty bundle", tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key, ClientCA: bad}, "holds no PEM certificate"},
		{"verify without CA", tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key, ClientAuth: tls.RequireAndVerifyClientCert}, "needs a ClientCA"},
		{"unverified client certs", tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key, ClientCA: set.CA.File, ClientAuth: tls.RequireAnyClientCert}, "unverified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tlsx.NewServer(tc.files)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestClientFilesErrors(t *testing.T) {
	t.Parallel()
	set := tlstest.NewSet(t)
	for _, tc := range []struct {
		name  string
		files tlsx.ClientFiles
		want  string
	}{
		{"cert without key", tlsx.ClientFiles{Cert: set.ClientA.Cert}, "both a certificate and a key"},
		{"missing CA", tlsx.ClientFiles{CA: t.TempDir() + "/absent"}, "no such file"},
		{"mismatched pair", tlsx.ClientFiles{Cert: set.ClientA.Cert, Key: set.ClientB.Key}, "private key does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.files.Config()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// handshake runs a TLS handshake of cfg against srv over a pipe and
// returns the client's error and the server's view of the peer.
func handshake(t *testing.T, srv *tls.Config, cli *tls.Config) (tls.ConnectionState, *tlsx.Peer, error) {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	type result struct {
		peer *tlsx.Peer
		err  error
	}
	done := make(chan result, 1)
	go func() {
		s := tls.Server(b, srv)
		err := s.HandshakeContext(context.Background())
		var p *tlsx.Peer
		if err == nil {
			cs := s.ConnectionState()
			p, _ = tlsx.PeerFromState(&cs)
		}
		_ = b.Close()
		done <- result{p, err}
	}()
	c := tls.Client(a, cli)
	err := c.HandshakeContext(context.Background())
	var cs tls.ConnectionState
	if err == nil {
		cs = c.ConnectionState()
		// TLS 1.3 reports a refused client certificate only on the first
		// read.
		_, err = c.Read(make([]byte, 1))
		if err != nil && err.Error() == "EOF" {
			err = nil
		}
	}
	_ = a.Close()
	r := <-done
	if err == nil {
		err = r.err
	}
	return cs, r.peer, err
}

func TestHandshakes(t *testing.T) {
	t.Parallel()
	set := tlstest.NewSet(t)
	srv, err := tlsx.NewServer(tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key, ClientCA: set.CA.File})
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		client  tlstest.Files
		ok      bool
		wantURI string
	}{
		{"client a", set.ClientA, true, tlstest.ClientAURI},
		{"client b", set.ClientB, true, tlstest.ClientBURI},
		{"expired", set.Expired, false, ""},
		{"other CA", set.Foreign, false, ""},
		{"no certificate", tlstest.Files{}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cli, err := tlsx.ClientFiles{CA: set.CA.File, Cert: tc.client.Cert, Key: tc.client.Key, ServerName: "localhost"}.Config()
			require.NoError(t, err)
			cli.NextProtos = []string{"h2"}
			cs, peer, err := handshake(t, srv.Config("h2"), cli)
			if !tc.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "h2", cs.NegotiatedProtocol)
			require.NotNil(t, peer)
			require.Len(t, peer.URIs, 1)
			assert.Equal(t, tc.wantURI, peer.URIs[0].String())
			assert.Equal(t, tc.client.Leaf.Subject.CommonName, peer.Subject.CommonName)
		})
	}
}

func TestTLSVersionFloor(t *testing.T) {
	t.Parallel()
	set := tlstest.NewSet(t)
	srv, err := tlsx.NewServer(tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key})
	require.NoError(t, err)
	_, _, err = handshake(t, srv.Config(), &tls.Config{RootCAs: set.CA.Pool(), ServerName: "localhost", MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS11})
	require.Error(t, err)
	cs, peer, err := handshake(t, srv.Config(), &tls.Config{RootCAs: set.CA.Pool(), ServerName: "localhost", MaxVersion: tls.VersionTLS12})
	require.NoError(t, err)
	assert.Equal(t, uint16(tls.VersionTLS12), cs.Version)
	assert.Nil(t, peer, "no client certificate, no peer")
}

func TestReload(t *testing.T) {
	t.Parallel()
	set := tlstest.NewSet(t)
	served := set.CA.Server(t, "served")
	srv, err := tlsx.NewServer(tlsx.ServerFiles{Cert: served.Cert, Key: served.Key})
	require.NoError(t, err)
	cfg := srv.Config()
	cli := &tls.Config{RootCAs: set.CA.Pool(), ServerName: "localhost"}
	serial := func() string {
		cs, _, err := handshake(t, cfg, cli)
		require.NoError(t, err)
		return cs.PeerCertificates[0].SerialNumber.String()
	}
	assert.Equal(t, served.Leaf.SerialNumber.String(), serial())

	// A new key without its certificate does not load: the old pair stays.
	next := set.CA.Server(t, "next")
	b, err := os.ReadFile(next.Key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(served.Key, b, 0o600))
	assert.Equal(t, served.Leaf.SerialNumber.String(), serial())
	assert.Error(t, srv.Err(), "the failed load is reported")

	tlstest.Replace(t, served, next)
	assert.Equal(t, next.Leaf.SerialNumber.String(), serial())
	assert.NoError(t, srv.Err())
	assert.Equal(t, next.Leaf.SerialNumber, srv.Leaf().SerialNumber)

	// A file that goes away leaves the last pair serving.
	require.NoError(t, os.Remove(served.Cert))
	assert.Equal(t, next.Leaf.SerialNumber.String(), serial())
	assert.Error(t, srv.Reload())
}

func TestClientCertificateReload(t *testing.T) {
	t.Parallel()
	set := tlstest.NewSet(t)
	srv, err := tlsx.NewServer(tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key, ClientCA: set.CA.File})
	require.NoError(t, err)
	mine := set.CA.Client(t, "mine", tlstest.ClientADNS, tlstest.ClientAURI)
	cli, err := tlsx.ClientFiles{CA: set.CA.File, Cert: mine.Cert, Key: mine.Key, ServerName: "localhost"}.Config()
	require.NoError(t, err)
	_, peer, err := handshake(t, srv.Config(), cli)
	require.NoError(t, err)
	assert.Equal(t, tlstest.ClientAURI, peer.URIs[0].String())
	tlstest.Replace(t, mine, set.ClientB)
	_, peer, err = handshake(t, srv.Config(), cli)
	require.NoError(t, err)
	assert.Equal(t, tlstest.ClientBURI, peer.URIs[0].String())
}

func TestPeerContext(t *testing.T) {
	t.Parallel()
	_, ok := tlsx.PeerFrom(context.Background())
	assert.False(t, ok)
	p := &tlsx.Peer{DNSNames: []string{"a"}}
	got, ok := tlsx.PeerFrom(tlsx.ContextWithPeer(context.Background(), p))
	assert.True(t, ok)
	assert.Same(t, p, got)
	_, ok = tlsx.PeerFromState(nil)
	assert.False(t, ok)
	_, ok = tlsx.PeerFromState(&tls.ConnectionState{HandshakeComplete: true})
	assert.False(t, ok)
}

func TestServerNameHelpers(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "10.0.0.7", tlsx.HostOf("10.0.0.7:8080"))
	assert.Equal(t, "::1", tlsx.HostOf("[::1]:8080"))
	assert.Equal(t, "svc.internal", tlsx.HostOf("svc.internal"))
	base := &tls.Config{}
	assert.Equal(t, "a", tlsx.WithServerName(base, "a").ServerName)
	assert.Empty(t, base.ServerName, "the original is not changed")
	assert.Equal(t, "fixed", tlsx.WithServerName(&tls.Config{ServerName: "fixed"}, "a").ServerName)
}

func TestContextWithConn(t *testing.T) {
	t.Parallel()
	set := tlstest.NewSet(t)
	srv, err := tlsx.NewServer(tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key, ClientCA: set.CA.File})
	require.NoError(t, err)
	cli, err := tlsx.ClientFiles{CA: set.CA.File, Cert: set.ClientA.Cert, Key: set.ClientA.Key, ServerName: "localhost"}.Config()
	require.NoError(t, err)
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	server := tls.Server(b, srv.Config())
	ctx := tlsx.ContextWithConn(context.Background(), server)
	_, ok := tlsx.PeerFrom(ctx)
	assert.False(t, ok, "no peer before the handshake")
	done := make(chan error, 1)
	go func() { done <- tls.Client(a, cli).HandshakeContext(context.Background()) }()
	require.NoError(t, server.HandshakeContext(context.Background()))
	require.NoError(t, <-done)
	p, ok := tlsx.PeerFrom(ctx)
	require.True(t, ok, "the peer once the handshake is complete")
	assert.Equal(t, tlstest.ClientADNS, p.DNSNames[0])
}
