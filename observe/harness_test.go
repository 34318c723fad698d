package observe_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/internal/grpctest/testpb"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type sumReq struct {
	A int64  `json:"a"`
	B string `json:"b"`
}

type sumResp struct {
	C string `json:"c"`
}

// echo returns B, and gives some values of B special behaviour: "code:N"
// fails with code N, "plain" with an error that is not a kit error,
// "canceled" with context.Canceled, and "panic" panics. Every failure has
// "secret" in its cause.
func echo(_ context.Context, r sumReq) (sumResp, error) {
	switch {
	case strings.HasPrefix(r.B, "code:"):
		n, _ := strconv.Atoi(strings.TrimPrefix(r.B, "code:"))
		return sumResp{}, kit.WrapError(kit.Code(n), errors.New("secret cause"), "message "+kit.Code(n).String())
	case r.B == "plain":
		return sumResp{}, errors.New("secret plain error")
	case r.B == "canceled":
		return sumResp{}, context.Canceled
	case r.B == "panic":
		panic("secret panic")
	}
	return sumResp{C: r.B}, nil
}

// testCall is a method called in process, on the server's side.
var testCall = kit.Call{Service: "Test", Method: "Sum"}

// intercept wraps ep, the endpoint of testCall, in interceptors.
func intercept(ep kit.Endpoint[sumReq, sumResp], ics ...kit.Interceptor) kit.Endpoint[sumReq, sumResp] {
	return kit.Intercept(ep, testCall, ics...)
}

func codeReq(code kit.Code) sumReq {
	if code == kit.OK {
		return sumReq{B: "x"}
	}
	return sumReq{B: "code:" + strconv.Itoa(int(code))}
}

// serveHTTP serves ep with httpx on a loopback httptest server and returns
// a client endpoint for it with the client options.
func serveHTTP(t *testing.T, ep kit.Endpoint[sumReq, sumResp], srvOpts []httpx.ServerOption, clientOpts ...httpx.ClientOption) kit.Endpoint[sumReq, sumResp] {
	t.Helper()
	srvOpts = append([]httpx.ServerOption{httpx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) {}))}, srvOpts...)
	srv := httptest.NewServer(httpx.NewServer(ep, httpx.DecodeJSONRequest[sumReq], httpx.EncodeJSONResponse, srvOpts...))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	clientOpts = append([]httpx.ClientOption{httpx.ClientHTTPClient(srv.Client())}, clientOpts...)
	return httpx.NewClient[sumReq, sumResp](http.MethodPost, u, httpx.EncodeJSONRequest, httpx.DecodeJSONResponse, clientOpts...).Endpoint()
}

type testService struct {
	testpb.UnimplementedTestServer
	sum *grpcx.Server[*testpb.SumRequest, sumReq, sumResp, *testpb.SumReply]
}

func (s *testService) Sum(ctx context.Context, r *testpb.SumRequest) (*testpb.SumReply, error) {
	return s.sum.Serve(ctx, r)
}

// serveGRPC serves ep with grpcx on a real grpc.Server over bufconn and
// returns a client endpoint for it with the client options.
func serveGRPC(t *testing.T, ep kit.Endpoint[sumReq, sumResp], srvOpts []grpcx.ServerOption, clientOpts ...grpcx.ClientOption) kit.Endpoint[sumReq, sumResp] {
	t.Helper()
	srvOpts = append([]grpcx.ServerOption{grpcx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) {}))}, srvOpts...)
	decode := func(_ context.Context, r *testpb.SumRequest) (sumReq, error) {
		return sumReq{A: r.GetA(), B: r.GetB()}, nil
	}
	encode := func(_ context.Context, r sumResp) (*testpb.SumReply, error) {
		return &testpb.SumReply{C: r.C}, nil
	}
	srv := grpc.NewServer()
	testpb.RegisterTestServer(srv, &testService{sum: grpcx.NewServer(ep, decode, encode, srvOpts...)})
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
	decodeReply := func(_ context.Context, r *testpb.SumReply) (sumResp, error) {
		return sumResp{C: r.GetC()}, nil
	}
	return grpcx.NewClient(conn, testpb.Test_Sum_FullMethodName, encodeReq, decodeReply, clientOpts...).Endpoint()
}

// newMeter returns a meter provider whose measurements a manual reader
// collects.
func newMeter(t *testing.T) (*sdkmetric.MeterProvider, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp, reader
}

func collect(t *testing.T, reader *sdkmetric.ManualReader) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	return rm
}

// instrument returns the metric named name, if it was collected.
func instrument(rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, bool) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// points returns the values of a counter, or the counts of a histogram, by
// their attributes written as attrString does.
func points(rm metricdata.ResourceMetrics, name string) map[string]int64 {
	m, ok := instrument(rm, name)
	if !ok {
		return nil
	}
	out := map[string]int64{}
	switch data := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range data.DataPoints {
			out[attrString(p.Attributes)] = p.Value
		}
	case metricdata.Histogram[float64]:
		for _, p := range data.DataPoints {
			out[attrString(p.Attributes)] = int64(p.Count)
		}
	}
	return out
}

// attrString writes an attribute set as "k=v k=v", sorted by key.
func attrString(s attribute.Set) string {
	kvs := s.ToSlice()
	parts := make([]string, len(kvs))
	for i, kv := range kvs {
		parts[i] = string(kv.Key) + "=" + kv.Value.String()
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// key writes attributes given as "k=v" the way attrString does, leaving
// out empty ones.
func key(kvs ...string) string {
	parts := make([]string, 0, len(kvs))
	for _, kv := range kvs {
		if kv != "" {
			parts = append(parts, kv)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func attrsOf(kvs []attribute.KeyValue) map[string]string {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		out[string(kv.Key)] = kv.Value.String()
	}
	return out
}
