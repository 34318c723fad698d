package observe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
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

// BenchmarkMetrics measures a call through Metrics: with no middleware, with
// a no-op meter provider, with the global provider before one is set, and
// with the SDK and a manual reader.
func BenchmarkMetrics(b *testing.B) {
	b.Run("bare", func(b *testing.B) { runBench(b, benchEndpoint) })
	b.Run("noop", func(b *testing.B) {
		runBench(b, observe.Metrics[sumReq, sumResp]("Test/Sum", observe.WithMeterProvider(metricnoop.NewMeterProvider()))(benchEndpoint))
	})
	b.Run("global-unset", func(b *testing.B) {
		runBench(b, observe.Metrics[sumReq, sumResp]("Test/Sum")(benchEndpoint))
	})
	b.Run("sdk", func(b *testing.B) {
		runBench(b, observe.Metrics[sumReq, sumResp]("Test/Sum", observe.WithMeterProvider(sdkMeterProvider(b)))(benchEndpoint))
	})
	b.Run("sdk-after-http-hook", func(b *testing.B) {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		ctx := observe.HTTPToContext()(context.Background(), r)
		runBenchCtx(b, ctx, observe.Metrics[sumReq, sumResp]("Test/Sum", observe.WithMeterProvider(sdkMeterProvider(b)))(benchEndpoint))
	})
}

// BenchmarkTracing measures a call through Tracing: with a no-op tracer
// provider, with the global provider before one is set, and with the SDK
// sampling every span (exported to a no-op exporter) or none.
func BenchmarkTracing(b *testing.B) {
	b.Run("noop", func(b *testing.B) {
		runBench(b, observe.Tracing[sumReq, sumResp]("Test/Sum", observe.WithTracerProvider(tracenoop.NewTracerProvider()))(benchEndpoint))
	})
	b.Run("global-unset", func(b *testing.B) {
		runBench(b, observe.Tracing[sumReq, sumResp]("Test/Sum")(benchEndpoint))
	})
	b.Run("sdk", func(b *testing.B) {
		tp := sdkTracerProvider(b, sdktrace.AlwaysSample())
		runBench(b, observe.Tracing[sumReq, sumResp]("Test/Sum", observe.WithTracerProvider(tp))(benchEndpoint))
	})
	b.Run("sdk-never-sample", func(b *testing.B) {
		tp := sdkTracerProvider(b, sdktrace.NeverSample())
		runBench(b, observe.Tracing[sumReq, sumResp]("Test/Sum", observe.WithTracerProvider(tp))(benchEndpoint))
	})
}

// BenchmarkMiddleware measures Middleware, tracing and metrics together.
func BenchmarkMiddleware(b *testing.B) {
	b.Run("noop", func(b *testing.B) {
		runBench(b, observe.Middleware[sumReq, sumResp]("Test/Sum",
			observe.WithMeterProvider(metricnoop.NewMeterProvider()),
			observe.WithTracerProvider(tracenoop.NewTracerProvider()))(benchEndpoint))
	})
	b.Run("sdk", func(b *testing.B) {
		runBench(b, observe.Middleware[sumReq, sumResp]("Test/Sum",
			observe.WithMeterProvider(sdkMeterProvider(b)),
			observe.WithTracerProvider(sdkTracerProvider(b, sdktrace.AlwaysSample())))(benchEndpoint))
	})
}
