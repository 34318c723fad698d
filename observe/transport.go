package observe

import (
	"context"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/semconv/v1.43.0/httpconv"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/httpx"
)

// The names of the instruments the transport finalizers record to. Unlike
// [Metrics], which sees the calls that reach an endpoint, they see every
// request a server finished, also those refused before the endpoint: a
// malformed body (400), one too large (413), a wrong content type (415), a
// guard's 401.
const (
	// HTTPServerDuration is the histogram of the duration of HTTP requests
	// served, in seconds, as the OpenTelemetry semantic conventions
	// (v1.43.0) define it, with the attributes http.request.method,
	// http.route (the ServeMux pattern), http.response.status_code and,
	// for 5xx answers and aborted responses, error.type.
	HTTPServerDuration = "http.server.request.duration"
	// GRPCServerDuration is the histogram of the duration of gRPC calls
	// served, in seconds, with the attributes rpc.system.name "grpc",
	// rpc.method (the full method name) and rpc.response.status_code.
	GRPCServerDuration = "typedkit.grpc.server.call.duration"
)

// HTTPServerMetrics returns an httpx finalizer (for httpx.ServerFinalizer)
// that records every request to [HTTPServerDuration]. The attribute sets
// are built once for each route, method and status, so a request
// allocates nothing once its set exists.
func HTTPServerMetrics(opts ...Option) httpx.ServerFinalizerFunc {
	cfg := newConfig(opts)
	meter := cfg.meterProvider.Meter(ScopeName)
	d, err := httpconv.NewServerRequestDuration(meter)
	handle(err)
	hist := d.Inst()
	var sets optionSets[httpKey]
	return func(ctx context.Context, info httpx.FinalizerInfo) {
		if !hist.Enabled(ctx) {
			return
		}
		k := httpKey{method: knownMethod(info.Request.Method), route: info.Request.Pattern, status: info.Status, failed: info.Status >= 500}
		if k.route == "" {
			k.route = "unmatched"
		}
		hist.Record(ctx, info.Duration.Seconds(), sets.get(k, func() []attribute.KeyValue {
			attrs := []attribute.KeyValue{
				attribute.String("http.request.method", k.method),
				attribute.String("http.route", k.route),
				attribute.Int("http.response.status_code", k.status),
			}
			if k.failed {
				attrs = append(attrs, attribute.String("error.type", strconv.Itoa(k.status)))
			}
			return attrs
		})...)
	}
}

// knownMethod returns m if it is a method of RFC 9110 or PATCH, and
// "_OTHER" otherwise, as the semantic conventions ask: a client must not
// grow the set of attribute values without bound.
func knownMethod(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH":
		return m
	}
	return "_OTHER"
}

type httpKey struct {
	method, route string
	status        int
	failed        bool
}

// GRPCServerMetrics returns a grpcx finalizer (for grpcx.ServerFinalizer)
// that records every call to [GRPCServerDuration].
func GRPCServerMetrics(opts ...Option) grpcx.ServerFinalizerFunc {
	cfg := newConfig(opts)
	meter := cfg.meterProvider.Meter(ScopeName)
	hist, err := meter.Float64Histogram(GRPCServerDuration, metric.WithUnit("s"),
		metric.WithDescription("Duration of gRPC calls served, also those refused before the endpoint."))
	handle(err)
	var sets optionSets[grpcKey]
	return func(ctx context.Context, info grpcx.FinalizerInfo) {
		if !hist.Enabled(ctx) {
			return
		}
		k := grpcKey{method: info.Method, code: kit.Code(info.Code)}
		hist.Record(ctx, info.Duration.Seconds(), sets.get(k, func() []attribute.KeyValue {
			return []attribute.KeyValue{
				attribute.String("rpc.system.name", kit.GRPC.String()),
				attribute.String("rpc.method", k.method),
				attribute.String("rpc.response.status_code", StatusName(k.code)),
			}
		})...)
	}
}

type grpcKey struct {
	method string
	code   kit.Code
}

// optionSets holds the record options of each attribute set a finalizer
// has seen, built once: reads take no lock and no type assertion; a new
// key copies the map under a lock. The keys are bounded (routes, known
// methods, statuses), so the copies end once they have all been seen.
type optionSets[K comparable] struct {
	mu   sync.Mutex
	sets atomic.Pointer[map[K][]metric.RecordOption]
}

// get returns the options of k, building its attribute set with attrs the
// first time.
func (o *optionSets[K]) get(k K, attrs func() []attribute.KeyValue) []metric.RecordOption {
	if m := o.sets.Load(); m != nil {
		if opts, ok := (*m)[k]; ok {
			return opts
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	old := o.sets.Load()
	if old != nil {
		if opts, ok := (*old)[k]; ok {
			return opts
		}
	}
	next := make(map[K][]metric.RecordOption, 1)
	if old != nil {
		maps.Copy(next, *old)
	}
	opts := []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attrs()...))}
	next[k] = opts
	o.sets.Store(&next)
	return opts
}
