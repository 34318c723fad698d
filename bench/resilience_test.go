package bench

import (
	"context"
	"math"
	"testing"

	gokitcb "github.com/go-kit/kit/circuitbreaker"
	gokit "github.com/go-kit/kit/endpoint"
	gokitrl "github.com/go-kit/kit/ratelimit"
	gobreakerv1 "github.com/sony/gobreaker"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/time/rate"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/breaker"
	"github.com/typedkit/kit/limit"
)

func runTyped(b *testing.B, ep kit.Endpoint[Req, Resp]) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ep(ctx, Req{A: 1, B: "x"}); err != nil {
			b.Fatal(err)
		}
	}
}

func runGokit(b *testing.B, ep gokit.Endpoint) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ep(ctx, Req{A: 1, B: "x"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBreaker calls through a closed breaker.
func BenchmarkBreaker(b *testing.B) {
	b.Run("gobreaker/typedkit", func(b *testing.B) {
		runTyped(b, intercept(breaker.Gobreaker(gobreaker.Settings{})))
	})
	b.Run("gobreaker/gokit", func(b *testing.B) {
		runGokit(b, gokitcb.Gobreaker(gobreakerv1.NewCircuitBreaker(gobreakerv1.Settings{}))(workAny))
	})
	b.Run("adaptive/typedkit", func(b *testing.B) {
		runTyped(b, intercept(breaker.Adaptive()))
	})
}

// BenchmarkLimiter calls through a limiter that always allows.
func BenchmarkLimiter(b *testing.B) {
	b.Run("erroring/typedkit", func(b *testing.B) {
		runTyped(b, intercept(limit.Erroring(rate.NewLimiter(rate.Inf, 1))))
	})
	b.Run("erroring/gokit", func(b *testing.B) {
		runGokit(b, gokitrl.NewErroringLimiter(rate.NewLimiter(rate.Inf, 1))(workAny))
	})
	b.Run("inflight/typedkit", func(b *testing.B) {
		runTyped(b, intercept(limit.InFlight(math.MaxInt32)))
	})
}

// intercept returns work wrapped in one interceptor.
func intercept(ic kit.Interceptor) kit.Endpoint[Req, Resp] {
	return kit.Intercept(kit.Endpoint[Req, Resp](work), kit.Call{Service: "bench.Svc", Method: "Work"}, ic)
}
