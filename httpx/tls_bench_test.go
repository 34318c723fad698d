package httpx_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/internal/tlstest"
	"github.com/typedkit/kit/tlsx"
)

// benchTLSServer serves h on loopback for the benchmark: in plaintext, or
// over TLS through httpx.Serve and tlsx (mutual when mtls), or, for
// "net/http", over TLS with a plain http.Server and a static tls.Config of
// the same certificates.
func benchTLSServer(b *testing.B, set *tlstest.Set, mode string, h http.Handler) string {
	b.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	srv := &http.Server{Handler: h}
	go func() {
		defer close(done)
		switch mode {
		case "plaintext":
			_ = httpx.Serve(ctx, srv, lis)
		case "net/http-mtls":
			srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{set.Server.KeyPair(b)}, ClientCAs: set.CA.Pool(), ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
			go func() { <-ctx.Done(); _ = srv.Close() }()
			_ = srv.ServeTLS(lis, "", "")
		default:
			files := tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key}
			if mode == "httpx-mtls" {
				files.ClientCA = set.CA.File
			}
			certs, err := tlsx.NewServer(files)
			if err != nil {
				panic(err)
			}
			_ = httpx.Serve(ctx, srv, lis, httpx.ServeTLS(certs))
		}
	}()
	b.Cleanup(func() { cancel(); <-done })
	return lis.Addr().String()
}

var benchTLSModes = []string{"plaintext", "httpx-tls", "httpx-mtls", "net/http-mtls"}

func benchTLSTransport(b *testing.B, set *tlstest.Set, mode string, keepAlive bool) (*http.Transport, string) {
	b.Helper()
	tr := &http.Transport{DisableKeepAlives: !keepAlive, MaxIdleConnsPerHost: 4}
	scheme := "http"
	if mode != "plaintext" {
		cfg, err := tlsx.ClientFiles{CA: set.CA.File, Cert: set.ClientA.Cert, Key: set.ClientA.Key}.Config()
		if err != nil {
			b.Fatal(err)
		}
		tr = httpx.TLSTransport(cfg)
		tr.DisableKeepAlives = !keepAlive
		tr.MaxIdleConnsPerHost = 4
		scheme = "https"
	}
	b.Cleanup(tr.CloseIdleConnections)
	return tr, scheme
}

func benchGet(b *testing.B, c *http.Client, u string) {
	resp, err := c.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

// BenchmarkTLSHandshake measures a request on a new connection each time
// (TCP connect, the TLS handshake with ECDSA P-256 certificates, one GET)
// in plaintext, over TLS and mutual TLS through httpx.Serve, and over
// mutual TLS with a plain net/http server.
func BenchmarkTLSHandshake(b *testing.B) {
	set := tlstest.NewSet(b)
	for _, mode := range benchTLSModes {
		b.Run(mode, func(b *testing.B) {
			addr := benchTLSServer(b, set, mode, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			tr, scheme := benchTLSTransport(b, set, mode, false)
			c := &http.Client{Transport: tr}
			b.ReportAllocs()
			for b.Loop() {
				benchGet(b, c, scheme+"://"+addr+"/")
			}
		})
	}
}

// BenchmarkTLSRequest measures the steady state: requests on a kept-alive
// connection (HTTP/1.1 in plaintext, HTTP/2 over TLS), the handler reading
// the caller's identity when there is one.
func BenchmarkTLSRequest(b *testing.B) {
	set := tlstest.NewSet(b)
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, mode := range benchTLSModes {
		b.Run(mode, func(b *testing.B) {
			handler := http.Handler(h)
			if mode == "httpx-mtls" {
				handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if _, ok := tlsx.PeerFrom(r.Context()); !ok {
						http.Error(w, "no peer", http.StatusUnauthorized)
					}
				})
			}
			addr := benchTLSServer(b, set, mode, handler)
			tr, scheme := benchTLSTransport(b, set, mode, true)
			c := &http.Client{Transport: tr}
			u := scheme + "://" + addr + "/"
			benchGet(b, c, u)
			b.ReportAllocs()
			for b.Loop() {
				benchGet(b, c, u)
			}
		})
	}
}
