package observe

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the meters and tracers this
// package creates.
const ScopeName = "github.com/typedkit/kit/observe"

// The transport names the hooks of this package record and [WithTransport]
// accepts, as values of the rpc.system.name attribute.
const (
	// TransportHTTP names httpx, for which the semantic conventions
	// register no value of their own.
	TransportHTTP = "http"
	// TransportGRPC names grpcx: "grpc", the value the semantic
	// conventions register for gRPC.
	TransportGRPC = "grpc"
)

// An Option configures the middlewares and hooks of this package. Options are
// not generic: the same values serve middlewares of every request and
// response type. An option that does not concern a constructor is ignored by
// it.
type Option func(*config)

type config struct {
	meterProvider  metric.MeterProvider
	tracerProvider trace.TracerProvider
	propagator     propagation.TextMapPropagator
	client         bool
	transport      string
}

func newConfig(opts []Option) config {
	c := config{}
	for _, o := range opts {
		o(&c)
	}
	if c.meterProvider == nil {
		c.meterProvider = otel.GetMeterProvider()
	}
	if c.tracerProvider == nil {
		c.tracerProvider = otel.GetTracerProvider()
	}
	if c.propagator == nil {
		c.propagator = propagation.TraceContext{}
	}
	return c
}

// WithMeterProvider sets the provider of the meter that [Metrics] records
// with. The default is the global provider, otel.GetMeterProvider().
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.meterProvider = mp }
}

// WithTracerProvider sets the provider of the tracer that [Tracing] starts
// spans with. The default is the global provider, otel.GetTracerProvider().
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tracerProvider = tp }
}

// WithPropagator sets the propagator the transport hooks extract and inject
// trace context with. The default is W3C Trace Context,
// propagation.TraceContext{}; pass otel.GetTextMapPropagator() to follow the
// global one.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(c *config) { c.propagator = p }
}

// AsClient makes [Metrics] and [Tracing] describe calls this process makes
// rather than calls it serves: they wrap the endpoint of an httpx or grpcx
// client. Spans are of kind client, failed calls of every code set the span
// status to Error, and durations go to rpc.client.call.duration.
func AsClient() Option {
	return func(c *config) { c.client = true }
}

// WithTransport sets the rpc.system.name attribute of the calls, such as
// [TransportHTTP] or [TransportGRPC]. On a server, a call that passed
// through [HTTPToContext] or [GRPCToContext] is labelled with that hook's
// transport instead, so one middleware serves an endpoint exposed over both
// transports. On a client, whose hooks run after the middleware, the
// transport is known only through this option.
func WithTransport(name string) Option {
	return func(c *config) { c.transport = name }
}
