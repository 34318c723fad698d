package bench

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/internal/grpctest/testpb"
)

// connectJSON is a connect codec of the benchmark's plain Go types through
// encoding/json, under connect's name for JSON.
type connectJSON struct{}

func (connectJSON) Name() string                  { return "json" }
func (connectJSON) Marshal(v any) ([]byte, error) { return json.Marshal(v) }
func (connectJSON) Unmarshal(b []byte, v any) error {
	return json.Unmarshal(b, v)
}

// connectProcedure is the path of the benchmark's method under connect.
const connectProcedure = "/typedkit.test.Test/Sum"

// connectHandler is the benchmark's work as a connect-go handler of the
// plain Go types over the Connect protocol's JSON, with connect's default
// gzip support unless gzip is false.
func connectHandler(gzip bool) http.Handler {
	opts := []connect.HandlerOption{connect.WithCodec(connectJSON{})}
	if !gzip {
		opts = append(opts, connect.WithCompression("gzip", nil, nil))
	}
	mux := http.NewServeMux()
	mux.Handle(connectProcedure, connect.NewUnaryHandlerSimple(connectProcedure,
		func(ctx context.Context, r *Req) (*Resp, error) { resp, err := work(ctx, *r); return &resp, err }, opts...))
	return mux
}

// connectGRPCHandler is the benchmark's work as a connect-go handler of the
// protobuf messages over the gRPC protocol.
func connectGRPCHandler(gzip bool) http.Handler {
	var opts []connect.HandlerOption
	if !gzip {
		opts = append(opts, connect.WithCompression("gzip", nil, nil))
	}
	mux := http.NewServeMux()
	mux.Handle(connectProcedure, connect.NewUnaryHandlerSimple(connectProcedure,
		func(_ context.Context, r *testpb.SumRequest) (*testpb.SumReply, error) {
			return &testpb.SumReply{C: r.GetB()}, nil
		}, opts...))
	return mux
}

// serveH2C serves h over loopback with HTTP/1.1 and unencrypted HTTP/2, as
// a gRPC server needs, until the benchmark ends.
func serveH2C(b *testing.B, h http.Handler) string {
	b.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h, Protocols: new(http.Protocols)}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	go func() { _ = srv.Serve(lis) }()
	b.Cleanup(func() { _ = srv.Close() })
	return lis.Addr().String()
}

// BenchmarkConnectJSON serves {"a":1,"b":"x"} over loopback HTTP/1.1 with
// typedkit's httpx, connect-go's Connect protocol with JSON and plain
// net/http, called by a net/http client: "gzip" is the client's default,
// which asks for gzip responses (connect-go compresses them; the others do
// not compress), "identity" a client that does not ask.
func BenchmarkConnectJSON(b *testing.B) {
	for _, enc := range []string{"identity", "gzip"} {
		impls := rotate([]struct {
			impl string
			h    http.Handler
			path string
		}{
			{"typedkit", httpx.NewServer(kit.Endpoint[Req, Resp](work), httpx.DecodeJSONRequest, httpx.EncodeJSONResponse), "/"},
			{"connect", connectHandler(enc == "gzip"), connectProcedure},
			{"nethttp", http.HandlerFunc(plainHandler), "/"},
		})
		for _, c := range impls {
			b.Run(enc+"/"+c.impl, func(b *testing.B) {
				url := "http://" + serveH2C(b, c.h) + c.path
				tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: enc == "identity"}
				defer tr.CloseIdleConnections()
				client := &http.Client{Transport: tr}
				b.ReportAllocs()
				for b.Loop() {
					resp, err := client.Post(url, "application/json", strings.NewReader(body))
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.Copy(io.Discard, resp.Body); err != nil {
						b.Fatal(err)
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Fatal(resp.Status)
					}
				}
			})
		}
	}
}

// BenchmarkConnectGRPC serves the Sum method over loopback gRPC with
// typedkit's grpcx, plain grpc-go and connect-go's gRPC protocol (on
// net/http's unencrypted HTTP/2), called by grpc-go's generated client:
// "gzip" compresses the request (and so every server the reply),
// "identity" compresses nothing.
func BenchmarkConnectGRPC(b *testing.B) {
	ctx := context.Background()
	typed := typedServer{sum: grpcx.NewServer(kit.Endpoint[Req, Resp](work), decodeSum, encodeSum)}
	for _, enc := range []string{"identity", "gzip"} {
		var callOpts []grpc.CallOption
		if enc == "gzip" {
			callOpts = append(callOpts, grpc.UseCompressor(gzip.Name))
		}
		impls := rotate([]struct {
			impl string
			dial func(b *testing.B) *grpc.ClientConn
		}{
			{"typedkit", func(b *testing.B) *grpc.ClientConn { return serve(b, typed, "loopback") }},
			{"grpcgo", func(b *testing.B) *grpc.ClientConn { return serve(b, plainServer{}, "loopback") }},
			{"connect", func(b *testing.B) *grpc.ClientConn {
				conn, err := grpc.NewClient(serveH2C(b, connectGRPCHandler(enc == "gzip")),
					grpc.WithTransportCredentials(insecure.NewCredentials()))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = conn.Close() })
				return conn
			}},
		})
		for _, c := range impls {
			b.Run(enc+"/"+c.impl, func(b *testing.B) {
				client := testpb.NewTestClient(c.dial(b))
				b.ReportAllocs()
				for b.Loop() {
					r, err := client.Sum(ctx, &testpb.SumRequest{A: 1, B: "x"}, callOpts...)
					if err != nil {
						b.Fatal(err)
					}
					if r.GetC() != "x" {
						b.Fatal(r)
					}
				}
			})
		}
	}
}
