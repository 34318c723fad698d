package grpcx_test

import (
	"context"
	"crypto/tls"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/internal/grpctest/testpb"
	"github.com/typedkit/kit/internal/tlstest"
	"github.com/typedkit/kit/tlsx"
)

var benchGRPCTLSModes = []string{"plaintext", "grpcx-tls", "grpcx-mtls", "grpc-go-mtls"}

// benchGRPCTLS serves Sum on loopback: in plaintext, over TLS through
// grpcx.ServerTLS (mutual with "grpcx-mtls", the endpoint reading the
// caller's identity), or, for "grpc-go-mtls", a plain grpc-go handler
// with credentials.NewTLS over a static tls.Config of the same
// certificates. It returns the address and the dial option of a client.
func benchGRPCTLS(b *testing.B, set *tlstest.Set, mode string) (string, grpc.DialOption) {
	b.Helper()
	var s *grpc.Server
	switch mode {
	case "plaintext":
		s = grpcx.NewGRPCServer()
		testpb.RegisterTestServer(s, &service{sum: grpcx.NewServer(kit.Endpoint[sumReq, sumResp](benchSum), decodeSum, encodeSum)})
	case "grpc-go-mtls":
		s = grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{
			Certificates: []tls.Certificate{set.Server.KeyPair(b)}, ClientCAs: set.CA.Pool(),
			ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
		})))
		testpb.RegisterTestServer(s, plainService{})
	default:
		files := tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key}
		ep := kit.Endpoint[sumReq, sumResp](benchSum)
		var opts []grpcx.ServerOption
		if mode == "grpcx-mtls" {
			files.ClientCA = set.CA.File
			ep = peerSum
			opts = append(opts, grpcx.ServerBefore(grpcx.TLSPeerToContext()))
		}
		certs, err := tlsx.NewServer(files)
		if err != nil {
			b.Fatal(err)
		}
		s = grpcx.NewGRPCServer(grpcx.ServerTLS(certs))
		testpb.RegisterTestServer(s, &service{sum: grpcx.NewServer(ep, decodeSum, encodeSum, opts...)})
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = grpcx.Serve(ctx, s, lis)
	}()
	b.Cleanup(func() { cancel(); <-done })
	if mode == "plaintext" {
		return lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials())
	}
	cfg, err := tlsx.ClientFiles{CA: set.CA.File, Cert: set.ClientA.Cert, Key: set.ClientA.Key}.Config()
	if err != nil {
		b.Fatal(err)
	}
	return lis.Addr().String(), grpcx.DialTLS(cfg)
}

// BenchmarkTLSHandshake measures a call on a new connection each time
// (TCP connect, TLS handshake, HTTP/2 preface, one unary call).
func BenchmarkTLSHandshake(b *testing.B) {
	set := tlstest.NewSet(b)
	for _, mode := range benchGRPCTLSModes {
		b.Run(mode, func(b *testing.B) {
			addr, dial := benchGRPCTLS(b, set, mode)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				conn, err := grpc.NewClient(addr, dial)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := testpb.NewTestClient(conn).Sum(ctx, &testpb.SumRequest{A: 1, B: "x"}); err != nil {
					b.Fatal(err)
				}
				_ = conn.Close()
			}
		})
	}
}

// BenchmarkTLSRequest measures the steady state: unary calls on one
// connection.
func BenchmarkTLSRequest(b *testing.B) {
	set := tlstest.NewSet(b)
	for _, mode := range benchGRPCTLSModes {
		b.Run(mode, func(b *testing.B) {
			addr, dial := benchGRPCTLS(b, set, mode)
			conn, err := grpc.NewClient(addr, dial)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = conn.Close() })
			client := testpb.NewTestClient(conn)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.Sum(ctx, &testpb.SumRequest{A: 1, B: "x"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
