package observe_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/observe"
)

func benchEndpoint(_ context.Context, r sumReq) (sumResp, error) { return sumResp{C: r.B}, nil }

func runBench(b *testing.B, ep kit.Endpoint[sumReq, sumResp]) {
	runBenchCtx(b, context.Background(), ep)
}

func runBenchCtx(b *testing.B, ctx context.Context, ep kit.Endpoint[sumReq, sumResp]) {
	req := sumReq{A: 1, B: "x"}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = ep(ctx, req)
	}
}

func sdkMeterProvider(b *testing.B) metric.MeterProvider {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp
}

func sdkTracerProvider(b *testing.B, sampler sdktrace.Sampler) trace.TracerProvider {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSyncer(tracetest.NewNoopExporter()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp
}

// benchCall is the method the benchmarks call: served over gRPC.
var benchCall = kit.Call{Service: "Test", Method: "Sum", Transport: kit.GRPC}

// intercepted returns benchEndpoint wrapped in interceptors for call.
func intercepted(call kit.Call, ics ...kit.Interceptor) kit.Endpoint[sumReq, sumResp] {
	return kit.Intercept(benchEndpoint, call, ics...)
}

// BenchmarkMetrics measures a call through Metrics: with no interceptor,
// with a no-op meter provider, with the global provider before one is set,
// and with the SDK and a manual reader, on a server and on a client.
func BenchmarkMetrics(b *testing.B) {
	client := benchCall
	client.Side = kit.ClientSide
	b.Run("bare", func(b *testing.B) { runBench(b, benchEndpoint) })
	b.Run("noop", func(b *testing.B) {
		runBench(b, intercepted(benchCall, observe.Metrics(observe.MeterProvider(metricnoop.NewMeterProvider()))))
	})
	b.Run("global-unset", func(b *testing.B) {
		runBench(b, intercepted(benchCall, observe.Metrics()))
	})
	b.Run("sdk", func(b *testing.B) {
		runBench(b, intercepted(benchCall, observe.Metrics(observe.MeterProvider(sdkMeterProvider(b)))))
	})
	b.Run("sdk-client", func(b *testing.B) {
		runBench(b, intercepted(client, observe.Metrics(observe.MeterProvider(sdkMeterProvider(b)))))
	})
}

// BenchmarkTracing measures a call through Tracing: with a no-op tracer
// provider, with the global provider before one is set, and with the SDK
// sampling every span (exported to a no-op exporter) or none.
func BenchmarkTracing(b *testing.B) {
	b.Run("noop", func(b *testing.B) {
		runBench(b, intercepted(benchCall, observe.Tracing(observe.TracerProvider(tracenoop.NewTracerProvider()))))
	})
	b.Run("global-unset", func(b *testing.B) {
		runBench(b, intercepted(benchCall, observe.Tracing()))
	})
	b.Run("sdk", func(b *testing.B) {
		tp := sdkTracerProvider(b, sdktrace.AlwaysSample())
		runBench(b, intercepted(benchCall, observe.Tracing(observe.TracerProvider(tp))))
	})
	b.Run("sdk-never-sample", func(b *testing.B) {
		tp := sdkTracerProvider(b, sdktrace.NeverSample())
		runBench(b, intercepted(benchCall, observe.Tracing(observe.TracerProvider(tp))))
	})
}

// BenchmarkTelemetry measures Tracing and Metrics together, as a service
// lists them.
func BenchmarkTelemetry(b *testing.B) {
	b.Run("noop", func(b *testing.B) {
		runBench(b, intercepted(benchCall,
			observe.Tracing(observe.TracerProvider(tracenoop.NewTracerProvider())),
			observe.Metrics(observe.MeterProvider(metricnoop.NewMeterProvider()))))
	})
	b.Run("sdk", func(b *testing.B) {
		runBench(b, intercepted(benchCall,
			observe.Tracing(observe.TracerProvider(sdkTracerProvider(b, sdktrace.AlwaysSample()))),
			observe.Metrics(observe.MeterProvider(sdkMeterProvider(b)))))
	})
}
