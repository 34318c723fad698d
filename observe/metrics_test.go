package observe_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/rpcconv"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/observe"
)

func TestMetricsByOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		req    sumReq
		status string
		panics bool
	}{
		{"ok", sumReq{B: "x"}, "OK", false},
		{"kit error", codeReq(kit.NotFound), "NOT_FOUND", false},
		{"unauthenticated", codeReq(kit.Unauthenticated), "UNAUTHENTICATED", false},
		{"plain error is unknown", sumReq{B: "plain"}, "UNKNOWN", false},
		{"context canceled", sumReq{B: "canceled"}, "CANCELLED", false},
		{"undefined code is unknown", sumReq{B: "code:99"}, "UNKNOWN", false},
		{"panic is internal", sumReq{B: "panic"}, "INTERNAL", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mp, reader := newMeter(t)
			ep := intercept(echo, observe.Metrics(observe.MeterProvider(mp)))
			if tt.panics {
				assert.PanicsWithValue(t, "secret panic", func() { _, _ = ep(context.Background(), tt.req) })
			} else {
				_, _ = ep(context.Background(), tt.req)
			}
			rm := collect(t, reader)

			method, status := "rpc.method=Test/Sum", "rpc.response.status_code="+tt.status
			assert.Equal(t, map[string]int64{method: 1}, points(rm, observe.ServerRequests))
			errorType := ""
			if tt.status != "OK" {
				errorType = "error.type=" + tt.status
				assert.Equal(t, map[string]int64{key(method, status): 1}, points(rm, observe.ServerErrors))
			} else {
				assert.Empty(t, points(rm, observe.ServerErrors))
			}
			assert.Equal(t, map[string]int64{key(method, status, errorType): 1}, points(rm, observe.ServerDuration))
		})
	}
}

func TestMetricsInstruments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                       string
		call                       kit.Call
		duration, requests, errors string
		system                     string
	}{
		{"server in process", testCall, observe.ServerDuration, observe.ServerRequests, observe.ServerErrors, ""},
		{"server over HTTP", kit.Call{Service: "Test", Method: "Sum", Transport: kit.HTTP},
			observe.ServerDuration, observe.ServerRequests, observe.ServerErrors, "rpc.system.name=http"},
		{"client over gRPC", kit.Call{Service: "Test", Method: "Sum", Transport: kit.GRPC, Side: kit.ClientSide},
			observe.ClientDuration, observe.ClientRequests, observe.ClientErrors, "rpc.system.name=grpc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mp, reader := newMeter(t)
			ep := kit.Intercept(echo, tt.call, observe.Metrics(observe.MeterProvider(mp)))
			for range 3 {
				_, _ = ep(context.Background(), sumReq{B: "x"})
			}
			_, _ = ep(context.Background(), codeReq(kit.Unavailable))
			rm := collect(t, reader)

			require.Len(t, rm.ScopeMetrics, 1)
			assert.Equal(t, observe.ScopeName, rm.ScopeMetrics[0].Scope.Name)
			assert.Equal(t, semconv.SchemaURL, rm.ScopeMetrics[0].Scope.SchemaURL)
			assert.Len(t, rm.ScopeMetrics[0].Metrics, 3, "the instruments of the call's side only")

			d, ok := instrument(rm, tt.duration)
			require.True(t, ok)
			assert.Equal(t, "s", d.Unit)
			method := "rpc.method=Test/Sum"
			unavailable := "rpc.response.status_code=UNAVAILABLE"
			assert.Equal(t, map[string]int64{
				key(method, tt.system, "rpc.response.status_code=OK"):         3,
				key(method, tt.system, unavailable, "error.type=UNAVAILABLE"): 1,
			}, points(rm, tt.duration))
			assert.Equal(t, map[string]int64{key(method, tt.system): 4}, points(rm, tt.requests))
			assert.Equal(t, map[string]int64{key(method, tt.system, unavailable): 1}, points(rm, tt.errors))
		})
	}
}

// One Metrics interceptor serves every method, on both sides and over
// every transport: each call is recorded with the attributes of its own
// Call, to the instruments of its own side.
func TestMetricsAttributesFromTheCall(t *testing.T) {
	t.Parallel()
	mp, reader := newMeter(t)
	ic := observe.Metrics(observe.MeterProvider(mp))
	calls := []kit.Call{
		{Service: "users.Service", Method: "GetUser", Transport: kit.HTTP, Side: kit.ServerSide},
		{Service: "users.Service", Method: "GetUser", Transport: kit.GRPC, Side: kit.ServerSide},
		{Service: "users.Service", Method: "ListUsers", Transport: kit.GRPC, Side: kit.ServerSide},
		{Service: "users.Service", Method: "GetUser", Transport: kit.GRPC, Side: kit.ClientSide},
		{Service: "tools", Method: "search", Transport: kit.MCP, Side: kit.ServerSide},
		{Method: "Ping", Transport: kit.InProcess, Side: kit.ServerSide},
		{Transport: kit.HTTP, Side: kit.ServerSide},
	}
	for i, call := range calls {
		ep := kit.Intercept(echo, call, ic)
		for range i + 1 {
			_, _ = ep(context.Background(), sumReq{B: "x"})
		}
	}
	rm := collect(t, reader)
	assert.Equal(t, map[string]int64{
		key("rpc.method=users.Service/GetUser", "rpc.system.name=http"):   1,
		key("rpc.method=users.Service/GetUser", "rpc.system.name=grpc"):   2,
		key("rpc.method=users.Service/ListUsers", "rpc.system.name=grpc"): 3,
		key("rpc.method=tools/search", "rpc.system.name=mcp"):             5,
		key("rpc.method=Ping"):                           6,
		key("rpc.method=_OTHER", "rpc.system.name=http"): 7,
	}, points(rm, observe.ServerRequests))
	assert.Equal(t, map[string]int64{
		key("rpc.method=users.Service/GetUser", "rpc.system.name=grpc"): 4,
	}, points(rm, observe.ClientRequests))
	assert.Equal(t, map[string]int64{
		key("rpc.method=users.Service/GetUser", "rpc.system.name=grpc", "rpc.response.status_code=OK"): 4,
	}, points(rm, observe.ClientDuration))
}

// The error Metrics records is the call's, also when the response carries
// it (kit.Failer).
func TestMetricsSeeFailedResponses(t *testing.T) {
	t.Parallel()
	mp, reader := newMeter(t)
	ep := kit.Intercept(func(context.Context, sumReq) (failedResp, error) {
		return failedResp{err: kit.NewError(kit.NotFound, "no")}, nil
	}, testCall, observe.Metrics(observe.MeterProvider(mp)))
	_, err := ep(context.Background(), sumReq{})
	require.Error(t, err)
	assert.Equal(t, map[string]int64{
		key("rpc.method=Test/Sum", "rpc.response.status_code=NOT_FOUND"): 1,
	}, points(collect(t, reader), observe.ServerErrors))
}

// failedResp is a response that carries its failure (kit.Failer).
type failedResp struct{ err error }

func (r failedResp) Failed() error { return r.err }

// The names of the duration histograms are the semantic conventions'.
func TestDurationNamesAreSemconv(t *testing.T) {
	t.Parallel()
	assert.Equal(t, rpcconv.ServerCallDuration{}.Name(), observe.ServerDuration)
	assert.Equal(t, rpcconv.ClientCallDuration{}.Name(), observe.ClientDuration)
}

func TestStatusName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code kit.Code
		want string
	}{
		{kit.OK, "OK"},
		{kit.Canceled, "CANCELLED"},
		{kit.InvalidArgument, "INVALID_ARGUMENT"},
		{kit.DeadlineExceeded, "DEADLINE_EXCEEDED"},
		{kit.PermissionDenied, "PERMISSION_DENIED"},
		{kit.Unauthenticated, "UNAUTHENTICATED"},
		{kit.Code(99), "UNKNOWN"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, observe.StatusName(tt.code), tt.code.String())
	}
	for _, c := range kit.Codes() {
		assert.NotEmpty(t, observe.StatusName(c), "every kit code has a name")
	}
}

// A call measured with a no-op meter provider, or with the SDK, allocates
// nothing of the interceptor's own: the attribute sets were built with the
// chain. Not parallel: AllocsPerRun counts the allocations of the whole
// process.
func TestMetricsAllocations(t *testing.T) {
	mp, _ := newMeter(t)
	tests := []struct {
		name string
		opts []observe.Option
	}{
		{"noop", []observe.Option{observe.MeterProvider(metricnoop.NewMeterProvider())}},
		{"sdk", []observe.Option{observe.MeterProvider(mp)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := kit.Intercept(echo, kit.Call{Service: "Test", Method: "Sum", Transport: kit.GRPC}, observe.Metrics(tt.opts...))
			ctx := context.Background()
			req := sumReq{B: "x"}
			_, _ = ep(ctx, req)
			assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = ep(ctx, req) }))
		})
	}
}

// Metrics measures calls whose instruments a view drops without reading
// them, and with a no-op provider adds nothing to the chain.
func TestMetricsDisabled(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader),
		sdkmetric.WithView(sdkmetric.NewView(sdkmetric.Instrument{Name: "*"}, sdkmetric.Stream{Aggregation: sdkmetric.AggregationDrop{}})))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	for _, p := range []metric.MeterProvider{mp, metricnoop.NewMeterProvider()} {
		ep := intercept(echo, observe.Metrics(observe.MeterProvider(p)))
		resp, err := ep(context.Background(), sumReq{B: "x"})
		require.NoError(t, err)
		assert.Equal(t, "x", resp.C)
	}
	rm := collect(t, reader)
	assert.Empty(t, rm.ScopeMetrics)
}
