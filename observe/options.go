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

// An Option configures the interceptors, hooks and finalizers of this
// package. An option that does not concern a constructor is ignored by it.
type Option func(*config)

type config struct {
	meterProvider  metric.MeterProvider
	tracerProvider trace.TracerProvider
	propagator     propagation.TextMapPropagator
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

// MeterProvider sets the provider of the meter that [Metrics] and the
// finalizers ([HTTPServerMetrics], [GRPCServerMetrics]) record with. The default is the global provider, otel.GetMeterProvider().
func MeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.meterProvider = mp }
}

// TracerProvider sets the provider of the tracer that [Tracing] starts
// spans with. The default is the global provider, otel.GetTracerProvider().
func TracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tracerProvider = tp }
}

// Propagator sets the propagator the transport hooks extract and inject
// trace context with. The default is W3C Trace Context,
// propagation.TraceContext{}; pass otel.GetTextMapPropagator() to follow the
// global one.
func Propagator(p propagation.TextMapPropagator) Option {
	return func(c *config) { c.propagator = p }
}
