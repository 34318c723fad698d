package httpx_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/internal/tlstest"
	"github.com/typedkit/kit/tlsx"
)

// peerHandler answers the protocol of the request and the URI SAN of its
// verified peer, or "-" without one.
var peerHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	uri := "-"
	if p, ok := tlsx.PeerFrom(r.Context()); ok && len(p.URIs) > 0 {
		uri = p.URIs[0].String()
	}
	fmt.Fprintf(w, "%s %s", r.Proto, uri)
})

// serveTLS serves h with srv on a loopback port until the test ends and
// returns the port's address.
func serveTLS(t *testing.T, files tlsx.ServerFiles, h http.Handler) (string, *tlsx.Server) {
	t.Helper()
	srv, err := tlsx.NewServer(files)
	require.NoError(t, err)
	lis := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- httpx.Serve(ctx, &http.Server{Handler: h}, lis, httpx.ServeTLS(srv), httpx.ServeDrainTimeout(time.Second))
	}()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	return lis.Addr().String(), srv
}

// tlsClient returns an HTTP client with the CA of set and the client
// certificate f (none when zero).
func tlsClient(t *testing.T, set *tlstest.Set, f tlstest.Files) *http.Client {
	t.Helper()
	cfg, err := tlsx.ClientFiles{CA: set.CA.File, Cert: f.Cert, Key: f.Key}.Config()
	require.NoError(t, err)
	tr := httpx.TLSTransport(cfg)
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

func get(c *http.Client, u string) (string, *http.Response, error) {
	resp, err := c.Get(u)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), resp, err
}

func TestServeTLSHandshakes(t *testing.T) {
	t.Parallel()
	set := tlstest.NewSet(t)
	addr, _ := serveTLS(t, tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key, ClientCA: set.CA.File}, peerHandler)
	for _, tc := range []struct {
		name   string
		client tlstest.Files
		want   string // body, or "" for a failed handshake
	}{
		{"client a", set.ClientA, "HTTP/2.0 " + tlstest.ClientAURI},
		{"client b", set.ClientB, "HTTP/2.0 " + tlstest.ClientBURI},
		{"expired", set.Expired, ""},
		{"other CA", set.Foreign, ""},
		{"no certificate", tlstest.Files{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body, _, err := get(tlsClient(t, set, tc.client), "https://"+addr+"/")
			if tc.want == "" {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, body)
		})
	}
	t.Run("HTTP/1.1 through ALPN", func(t *testing.T) {
		t.Parallel()
		cfg, err := tlsx.ClientFiles{CA: set.CA.File, Cert: set.ClientA.Cert, Key: set.ClientA.Key}.Config()
		require.NoError(t, err)
		tr := &http.Transport{TLSClientConfig: cfg} // no HTTP/2 with a custom TLS config
		defer tr.CloseIdleConnections()
		body, _, err := get(&http.Client{Transport: tr}, "https://"+addr+"/")
		require.NoError(t, err)
		assert.Equal(t, "HTTP/1.1 "+tlstest.ClientAURI, body)
	})
	t.Run("server-only TLS", func(t *testing.T) {
		t.Parallel()
		addr, _ := serveTLS(t, tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key}, peerHandler)
		body, _, err := get(tlsClient(t, set, tlstest.Files{}), "https://"+addr+"/")
		require.NoError(t, err)
		assert.Equal(t, "HTTP/2.0 -", body)
	})
}

func TestServeTLSRefusesPlaintext(t *testing.T) {
	t.Parallel()
	set := tlstest.NewSet(t)
	addr, _ := serveTLS(t, tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key, ClientCA: set.CA.File}, peerHandler)
	plain := freshClient(t)
	for range 3 {
		body, resp, err := get(plain, "http://"+addr+"/")
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Contains(t, body, "HTTP request to an HTTPS server")

		// Bytes that are not HTTP either: the connection is closed.
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		_, _ = c.Write([]byte("\x00\x01garbage\r\n\r\n"))
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = io.ReadAll(c)
		_ = c.Close()
		var ne net.Error
		assert.False(t, errors.As(err, &ne) && ne.Timeout(), "the server closes the connection")
	}
	body, _, err := get(tlsClient(t, set, set.ClientA), "https://"+addr+"/")
	require.NoError(t, err, "the server goes on serving")
	assert.Equal(t, "HTTP/2.0 "+tlstest.ClientAURI, body)
}

func TestServeTLSRejectsTwoConfigs(t *testing.T) {
	t.Parallel()
	set := tlstest.NewSet(t)
	srv, err := tlsx.NewServer(tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key})
	require.NoError(t, err)
	err = httpx.Serve(context.Background(), &http.Server{TLSConfig: &tls.Config{}}, listen(t), httpx.ServeTLS(srv))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "TLSConfig")
}

// TestServeTLSReloadUnderLoad replaces the certificate while calls run on
// new and kept-alive connections: no call fails, new connections get the
// new certificate, a connection opened before keeps the old one.
func TestServeTLSReloadUnderLoad(t *testing.T) {
	t.Parallel()
	set := tlstest.NewSet(t)
	served := set.CA.Server(t, "served")
	next := set.CA.Server(t, "next")
	addr, srv := serveTLS(t, tlsx.ServerFiles{Cert: served.Cert, Key: served.Key, ClientCA: set.CA.File}, peerHandler)

	kept := tlsClient(t, set, set.ClientA)
	_, resp, err := get(kept, "https://"+addr+"/")
	require.NoError(t, err)
	require.Equal(t, served.Leaf.SerialNumber, resp.TLS.PeerCertificates[0].SerialNumber)

	cfg, err := tlsx.ClientFiles{CA: set.CA.File, Cert: set.ClientA.Cert, Key: set.ClientA.Key}.Config()
	require.NoError(t, err)
	fresh := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}
	defer fresh.CloseIdleConnections()

	var (
		stop     atomic.Bool
		failures atomic.Int64
		mu       sync.Mutex
		seen     = map[string]int{}
		wg       sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				_, resp, err := get(&http.Client{Transport: fresh, Timeout: 10 * time.Second}, "https://"+addr+"/")
				if err != nil {
					failures.Add(1)
					t.Log(err)
					continue
				}
				mu.Lock()
				seen[resp.TLS.PeerCertificates[0].SerialNumber.String()]++
				mu.Unlock()
			}
		})
	}
	waitSeen := func(serial string) {
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return seen[serial] > 0
		}, 10*time.Second, 5*time.Millisecond)
	}
	waitSeen(served.Leaf.SerialNumber.String())
	tlstest.Replace(t, served, next)
	waitSeen(next.Leaf.SerialNumber.String())
	stop.Store(true)
	wg.Wait()
	assert.Zero(t, failures.Load())
	assert.Equal(t, next.Leaf.SerialNumber, srv.Leaf().SerialNumber)

	_, resp, err = get(kept, "https://"+addr+"/")
	require.NoError(t, err)
	assert.Equal(t, served.Leaf.SerialNumber, resp.TLS.PeerCertificates[0].SerialNumber, "a connection keeps its certificate")
}

func TestClientTLS(t *testing.T) {
	t.Parallel()
	set := tlstest.NewSet(t)
	addr, _ := serveTLS(t, tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key, ClientCA: set.CA.File}, peerHandler)
	cfg, err := tlsx.ClientFiles{CA: set.CA.File, Cert: set.ClientB.Cert, Key: set.ClientB.Key}.Config()
	require.NoError(t, err)
	u, err := url.Parse("https://" + addr + "/")
	require.NoError(t, err)
	opt := httpx.ClientTLS(cfg)
	ep := httpx.NewClient[struct{}, string](http.MethodGet, u,
		func(context.Context, *http.Request, struct{}) error { return nil },
		func(_ context.Context, r *http.Response) (string, error) {
			b, err := io.ReadAll(r.Body)
			return string(b), err
		}, opt).Endpoint()
	got, err := ep(context.Background(), struct{}{})
	require.NoError(t, err)
	assert.Equal(t, "HTTP/2.0 "+tlstest.ClientBURI, got)

	// A server name the certificate does not hold fails the call.
	bad := httpx.NewClient[struct{}, string](http.MethodGet, u,
		func(context.Context, *http.Request, struct{}) error { return nil },
		func(context.Context, *http.Response) (string, error) { return "", nil },
		httpx.ClientTLS(tlsx.WithServerName(cfg, "elsewhere.test"))).Endpoint()
	_, err = bad(context.Background(), struct{}{})
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "certificate") || strings.Contains(err.Error(), "unavailable"), err.Error())
}
