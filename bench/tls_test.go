package bench

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/internal/grpctest/testpb"
	"github.com/typedkit/kit/internal/tlstest"
	"github.com/typedkit/kit/tlsx"
)

// The TLS benchmarks serve the benchmark service over loopback in
// plaintext and over mutual TLS (ECDSA P-256 certificates made at start):
// typedkit with httpx.Serve and httpx.ServeTLS, or grpcx.NewGRPCServer with
// grpcx.ServerTLS, its certificates reloadable from files; the peers with
// a plain http.Server or grpc.Server and a static tls.Config of the same
// certificates. "handshake" opens a connection for every call, "request"
// calls on a kept-alive connection.

// tlsModes are the security modes of the TLS benchmarks.
var tlsModes = []string{"plaintext", "mtls"}

// serveHTTPTLS serves h on loopback in mode, through httpx.Serve for
// typedkit and a plain http.Server for nethttp, and returns its base URL.
func serveHTTPTLS(b *testing.B, set *tlstest.Set, impl, mode string, h http.Handler) string {
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
		switch {
		case impl == "typedkit" && mode == "mtls":
			certs, err := tlsx.NewServer(tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key, ClientCA: set.CA.File})
			if err != nil {
				panic(err)
			}
			_ = httpx.Serve(ctx, srv, lis, httpx.ServeTLS(certs))
		case impl == "typedkit":
			_ = httpx.Serve(ctx, srv, lis)
		case mode == "mtls":
			srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{set.Server.KeyPair(b)}, ClientCAs: set.CA.Pool(),
				ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
			go func() { <-ctx.Done(); _ = srv.Close() }()
			_ = srv.ServeTLS(lis, "", "")
		default:
			go func() { <-ctx.Done(); _ = srv.Close() }()
			_ = srv.Serve(lis)
		}
	}()
	b.Cleanup(func() { cancel(); <-done })
	if mode == "mtls" {
		return "https://" + lis.Addr().String()
	}
	return "http://" + lis.Addr().String()
}

// httpTLSClient is a client for mode; keepAlive false opens a connection
// for every request.
func httpTLSClient(b *testing.B, set *tlstest.Set, mode string, keepAlive bool) *http.Client {
	b.Helper()
	tr := &http.Transport{}
	if mode == "mtls" {
		cfg, err := tlsx.ClientFiles{CA: set.CA.File, Cert: set.ClientA.Cert, Key: set.ClientA.Key}.Config()
		if err != nil {
			b.Fatal(err)
		}
		tr = httpx.TLSTransport(cfg)
	}
	tr.DisableKeepAlives = !keepAlive
	tr.MaxIdleConnsPerHost = 4
	b.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// BenchmarkTLSHTTP calls the benchmark service over HTTP in plaintext and
// over mutual TLS, on a new connection each time and on a kept-alive one.
func BenchmarkTLSHTTP(b *testing.B) {
	set := tlstest.NewSet(b)
	for _, kind := range []string{"handshake", "request"} {
		for _, mode := range tlsModes {
			for _, c := range handlers() {
				if c.impl == "gokit" {
					continue // its HTTP server is an http.Handler too: TLS is net/http's
				}
				b.Run(kind+"/"+mode+"/"+c.impl, func(b *testing.B) {
					base := serveHTTPTLS(b, set, c.impl, mode, c.h)
					client := httpTLSClient(b, set, mode, kind == "request")
					call := func() {
						resp, err := client.Post(base, "application/json", strings.NewReader(body))
						if err != nil {
							b.Fatal(err)
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							b.Fatal(resp.Status)
						}
					}
					call()
					b.ReportAllocs()
					for b.Loop() {
						call()
					}
				})
			}
		}
	}
}

// serveGRPCTLS serves Sum on loopback in mode and returns the address and
// the client's dial option.
func serveGRPCTLS(b *testing.B, set *tlstest.Set, impl, mode string) (string, grpc.DialOption) {
	b.Helper()
	var s *grpc.Server
	switch {
	case impl == "typedkit":
		var opts []grpc.ServerOption
		if mode == "mtls" {
			certs, err := tlsx.NewServer(tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key, ClientCA: set.CA.File})
			if err != nil {
				b.Fatal(err)
			}
			opts = append(opts, grpcx.ServerTLS(certs))
		}
		s = grpcx.NewGRPCServer(opts...)
		testpb.RegisterTestServer(s, typedServer{sum: grpcx.NewServer(kit.Endpoint[Req, Resp](work), decodeSum, encodeSum)})
	default:
		var opts []grpc.ServerOption
		if mode == "mtls" {
			opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{
				Certificates: []tls.Certificate{set.Server.KeyPair(b)}, ClientCAs: set.CA.Pool(),
				ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
			})))
		}
		s = grpc.NewServer(opts...)
		testpb.RegisterTestServer(s, plainServer{})
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(lis)
	}()
	b.Cleanup(func() { s.Stop(); <-done })
	if mode != "mtls" {
		return lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials())
	}
	cfg, err := tlsx.ClientFiles{CA: set.CA.File, Cert: set.ClientA.Cert, Key: set.ClientA.Key}.Config()
	if err != nil {
		b.Fatal(err)
	}
	return lis.Addr().String(), grpcx.DialTLS(cfg)
}

// BenchmarkTLSGRPC calls Sum over gRPC in plaintext and over mutual TLS,
// on a new connection each time and on an open one, with the plain
// generated client.
func BenchmarkTLSGRPC(b *testing.B) {
	set := tlstest.NewSet(b)
	for _, kind := range []string{"handshake", "request"} {
		for _, mode := range tlsModes {
			for _, impl := range rotate([]string{"typedkit", "grpcgo"}) {
				b.Run(kind+"/"+mode+"/"+impl, func(b *testing.B) {
					addr, creds := serveGRPCTLS(b, set, impl, mode)
					req := &testpb.SumRequest{A: 1, B: "x"}
					dial := func() *grpc.ClientConn {
						cc, err := grpc.NewClient(addr, creds)
						if err != nil {
							b.Fatal(err)
						}
						return cc
					}
					call := func(cc *grpc.ClientConn) {
						if _, err := testpb.NewTestClient(cc).Sum(context.Background(), req); err != nil {
							b.Fatal(err)
						}
					}
					if kind == "handshake" {
						b.ReportAllocs()
						for b.Loop() {
							cc := dial()
							call(cc)
							_ = cc.Close()
						}
						return
					}
					cc := dial()
					defer cc.Close()
					call(cc)
					b.ReportAllocs()
					for b.Loop() {
						call(cc)
					}
				})
			}
		}
	}
}
