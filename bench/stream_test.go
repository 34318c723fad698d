package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/typedkit/kit/bench/streampb"
	"github.com/typedkit/kit/genrt"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/internal/grpctest"
	"github.com/typedkit/kit/internal/streamtest"
)

// plainStreamer is the Watch of internal/streamtest written for plain
// grpc-go with protoc-generated messages: the same events on the wire.
type plainStreamer struct {
	streampb.UnimplementedStreamerServer
}

func (plainStreamer) Watch(req *streampb.WatchRequest, s grpc.ServerStreamingServer[streampb.Event]) error {
	pad := strings.Repeat("x", int(req.GetSize()))
	for i := int64(0); i < req.GetCount(); i++ {
		if err := s.Send(&streampb.Event{Id: req.GetPrefix() + fmt.Sprint(i), Kind: "tick" + pad, Seq: i}); err != nil {
			return err
		}
	}
	return nil
}

// streamSizes are the padding of the benchmarks' events: a small message
// and one of 10 KB.
var streamSizes = []struct {
	name string
	size int
}{{"small", 0}, {"10KB", 10 << 10}}

// connectWatch is the Watch of plainStreamer as a connect-go handler
// (protobuf-go messages), served over the gRPC protocol.
func connectWatch() http.Handler {
	const procedure = "/streamtest.Streamer/Watch"
	mux := http.NewServeMux()
	mux.Handle(procedure, connect.NewServerStreamHandler(procedure,
		func(_ context.Context, r *connect.Request[streampb.WatchRequest], s *connect.ServerStream[streampb.Event]) error {
			req := r.Msg
			pad := strings.Repeat("x", int(req.GetSize()))
			for i := int64(0); i < req.GetCount(); i++ {
				if err := s.Send(&streampb.Event{Id: req.GetPrefix() + fmt.Sprint(i), Kind: "tick" + pad, Seq: i}); err != nil {
					return err
				}
			}
			return nil
		}, connect.WithCompression("gzip", nil, nil)))
	return mux
}

// BenchmarkGRPCServerStream measures a server stream over loopback TCP:
// b.N events in one stream, so ns/op and allocs/op are per message (both
// ends, in one process). typedkit is the kitgen-generated server and client
// of internal/streamtest; grpcgo is plain grpc-go with protoc-generated
// code for the same .proto; connect is connect-go's gRPC protocol on
// net/http's unencrypted HTTP/2, called by the same grpc-go client.
func BenchmarkGRPCServerStream(b *testing.B) {
	for _, sz := range streamSizes {
		for _, impl := range rotate([]string{"typedkit", "grpcgo", "connect"}) {
			b.Run("size="+sz.name+"/"+impl, func(b *testing.B) {
				switch impl {
				case "typedkit":
					conn := grpctest.Serve(b, "tcp", func(s *grpc.Server) {
						streamtest.RegisterGRPC(s, streamtest.NewEndpoints(streamtest.Service{}, streamtest.Middlewares{}))
					}, grpc.ForceServerCodecV2(genrt.Codec()))
					c := streamtest.NewGRPCClient(conn)
					b.ReportAllocs()
					b.ResetTimer()
					seq, err := c.Watch(context.Background(), streamtest.WatchRequest{Count: b.N, Size: sz.size})
					if err != nil {
						b.Fatal(err)
					}
					for _, err := range seq {
						if err != nil {
							b.Fatal(err)
						}
					}
				case "grpcgo", "connect":
					var conn *grpc.ClientConn
					if impl == "grpc/grpcgo" {
						conn = grpctest.Serve(b, "tcp", func(s *grpc.Server) { streampb.RegisterStreamerServer(s, plainStreamer{}) })
					} else {
						var err error
						conn, err = grpc.NewClient(serveH2C(b, connectWatch()), grpc.WithTransportCredentials(insecure.NewCredentials()))
						if err != nil {
							b.Fatal(err)
						}
						b.Cleanup(func() { _ = conn.Close() })
					}
					c := streampb.NewStreamerClient(conn)
					b.ReportAllocs()
					b.ResetTimer()
					s, err := c.Watch(context.Background(), &streampb.WatchRequest{Count: int64(b.N), Size: int64(sz.size)})
					if err != nil {
						b.Fatal(err)
					}
					for {
						if _, err := s.Recv(); err == io.EOF {
							break
						} else if err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}

// sseHandler is a hand-written net/http SSE handler that streams the same
// events as streamtest's Watch: a json.Marshal, a write and a flush each.
func sseHandler(w http.ResponseWriter, r *http.Request) {
	var req streamtest.WatchRequest
	_, _ = fmt.Sscan(r.URL.Query().Get("count"), &req.Count)
	_, _ = fmt.Sscan(r.URL.Query().Get("size"), &req.Size)
	pad := strings.Repeat("x", req.Size)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	f := w.(http.Flusher)
	f.Flush()
	for i := range req.Count {
		b, err := json.Marshal(streamtest.Event{ID: fmt.Sprint(i), Kind: "tick" + pad, Seq: int64(i)})
		if err != nil {
			return
		}
		if _, err := fmt.Fprintf(w, "id: %d\ndata: %s\n\n", i+1, b); err != nil {
			return
		}
		f.Flush()
	}
}

// BenchmarkHTTPServerStream measures a server stream over loopback HTTP/1.1:
// b.N events in one response, read by the same line counter for every
// implementation, so ns/op and allocs/op are per event. typedkit is the
// generated handler of internal/streamtest in its two formats; nethttp is
// the hand-written SSE handler.
func BenchmarkHTTPServerStream(b *testing.B) {
	mux := http.NewServeMux()
	streamtest.RegisterHTTP(mux, streamtest.NewEndpoints(streamtest.Service{}, streamtest.Middlewares{}))
	mux.HandleFunc("GET /plain/events", sseHandler)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(lis) }()
	b.Cleanup(func() { _ = srv.Close() })
	base := "http://" + lis.Addr().String()
	for _, sz := range streamSizes {
		for _, c := range rotate([]struct{ format, impl string }{{"sse", "typedkit"}, {"ndjson", "typedkit"}, {"sse", "nethttp"}}) {
			b.Run("format="+c.format+"/size="+sz.name+"/"+c.impl, func(b *testing.B) {
				path, accept, prefix := "/events", "text/event-stream", []byte("id: ")
				switch {
				case c.format == "ndjson":
					accept, prefix = "application/x-ndjson", []byte(`{"result"`)
				case c.impl == "nethttp":
					path = "/plain/events"
				}
				req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s%s?count=%d&size=%d", base, path, b.N, sz.size), nil)
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("Accept", accept)
				b.ReportAllocs()
				b.ResetTimer()
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				defer resp.Body.Close()
				sc := bufio.NewScanner(resp.Body)
				sc.Buffer(make([]byte, 64<<10), 1<<20)
				n := 0
				for sc.Scan() {
					if bytes.HasPrefix(sc.Bytes(), prefix) {
						n++
					}
				}
				if n != b.N {
					b.Fatalf("%d events of %d: %v", n, b.N, sc.Err())
				}
			})
		}
	}
}

// BenchmarkStalledConsumer measures what a server holds for a client that
// opens a stream of 10 KB events and never reads: the growth of the heap
// once the server's sends block (flow control for gRPC, the socket buffers
// for HTTP), as "held-B", with the stream still open. Each op is one such
// stream.
func BenchmarkStalledConsumer(b *testing.B) {
	for _, c := range rotate([]struct{ transport, impl string }{{"grpc", "typedkit"}, {"grpc", "grpcgo"}, {"sse", "typedkit"}}) {
		b.Run(c.transport+"/"+c.impl, func(b *testing.B) {
			var held float64
			for range b.N {
				held += stalled(b, c.transport+"/"+c.impl)
			}
			b.ReportMetric(held/float64(b.N), "held-B")
		})
	}
}

// stalled opens one stream that is never read and returns the growth of
// the heap after the server stopped sending.
func stalled(b *testing.B, impl string) float64 {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	before := heapInUse()
	switch impl {
	case "grpc/typedkit", "grpc/grpcgo":
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		s := grpcx.NewGRPCServer()
		if impl == "grpc/grpcgo" {
			s = grpc.NewServer()
			streampb.RegisterStreamerServer(s, plainStreamer{})
		} else {
			streamtest.RegisterGRPC(s, streamtest.NewEndpoints(streamtest.Service{}, streamtest.Middlewares{}))
		}
		go func() { _ = s.Serve(lis) }()
		defer s.Stop()
		conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		st, err := streampb.NewStreamerClient(conn).Watch(ctx, &streampb.WatchRequest{Count: 1 << 30, Size: 10 << 10})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.Recv(); err != nil { // the stream is flowing
			b.Fatal(err)
		}
	case "sse/typedkit":
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: streamtest.NewHTTPHandler(streamtest.NewEndpoints(streamtest.Service{}, streamtest.Middlewares{}))}
		go func() { _ = srv.Serve(lis) }()
		defer srv.Close()
		conn, err := net.Dial("tcp", lis.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, "GET /events?size=10240 HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"); err != nil {
			b.Fatal(err)
		}
	}
	// Let the server fill what it can, then measure.
	time.Sleep(300 * time.Millisecond)
	return float64(heapInUse()) - float64(before)
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
