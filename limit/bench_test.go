package limit_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"golang.org/x/time/rate"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/limit"
)

type benchReq struct {
	Tenant string
	B      string
}

type benchResp struct{ C string }

func benchEndpoint(_ context.Context, r benchReq) (benchResp, error) { return benchResp{C: r.B}, nil }

func tenant(r benchReq) string { return r.Tenant }

// plenty returns a limiter that never runs out in a benchmark, so that
// every call takes the path of a call that is allowed.
func plenty() *rate.Limiter { return rate.NewLimiter(rate.Limit(1e12), 1e9) }

var benchCall = kit.Call{Service: "bench.Svc", Method: "Search", Transport: kit.HTTP}

// interceptor returns a middleware that wraps an endpoint in ic, as a
// transport does for one method.
func interceptor(ic kit.Interceptor) kit.Middleware[benchReq, benchResp] {
	return func(ep kit.Endpoint[benchReq, benchResp]) kit.Endpoint[benchReq, benchResp] {
		return kit.Intercept(ep, benchCall, ic)
	}
}

func benchMiddlewares() []struct {
	name string
	mw   kit.Middleware[benchReq, benchResp]
} {
	return []struct {
		name string
		mw   kit.Middleware[benchReq, benchResp]
	}{
		{"None", func(next kit.Endpoint[benchReq, benchResp]) kit.Endpoint[benchReq, benchResp] { return next }},
		{"Erroring", interceptor(limit.Erroring(plenty()))},
		{"Delaying", interceptor(limit.Delaying(plenty()))},
		{"InFlight", interceptor(limit.InFlight(1 << 20))},
		{"Bulkhead", limit.Bulkhead[benchReq, benchResp](1<<20, tenant)},
	}
}

// BenchmarkAllowed measures a call that a limit lets through, one
// goroutine at a time.
func BenchmarkAllowed(b *testing.B) {
	for _, c := range benchMiddlewares() {
		b.Run(c.name, func(b *testing.B) {
			ep := c.mw(benchEndpoint)
			ctx := context.Background()
			r := benchReq{Tenant: "acme", B: "x"}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ep(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAllowedParallel measures the same calls from GOMAXPROCS
// goroutines at once. For Bulkhead, every goroutine uses the same key;
// BenchmarkBulkheadParallelKeys gives each its own.
func BenchmarkAllowedParallel(b *testing.B) {
	for _, c := range benchMiddlewares() {
		b.Run(c.name, func(b *testing.B) {
			ep := c.mw(benchEndpoint)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				r := benchReq{Tenant: "acme", B: "x"}
				for pb.Next() {
					if _, err := ep(ctx, r); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkBulkheadParallelKeys measures Bulkhead with a key per goroutine.
func BenchmarkBulkheadParallelKeys(b *testing.B) {
	ep := limit.Bulkhead[benchReq, benchResp](1, tenant)(benchEndpoint)
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		r := benchReq{Tenant: "tenant-" + strconv.FormatInt(next.Add(1), 10), B: "x"}
		for pb.Next() {
			if _, err := ep(ctx, r); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRejected measures a call that a limit rejects: for Erroring a
// limiter with no tokens, for InFlight and Bulkhead a limit of one with a
// call held in flight.
func BenchmarkRejected(b *testing.B) {
	cases := []struct {
		name string
		mw   kit.Middleware[benchReq, benchResp]
	}{
		{"Erroring", interceptor(limit.Erroring(rate.NewLimiter(0, 0)))},
		{"InFlight", interceptor(limit.InFlight(1))},
		{"Bulkhead", limit.Bulkhead[benchReq, benchResp](1, tenant)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			entered, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
			ep := c.mw(func(_ context.Context, r benchReq) (benchResp, error) {
				if r.B == "hold" {
					close(entered)
					<-release
				}
				return benchResp{}, nil
			})
			go func() {
				defer close(done)
				_, _ = ep(context.Background(), benchReq{Tenant: "acme", B: "hold"})
			}()
			if c.name == "Erroring" {
				<-done // rejected at once: nothing is held
			} else {
				<-entered
			}
			ctx := context.Background()
			r := benchReq{Tenant: "acme", B: "x"}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ep(ctx, r); err == nil {
					b.Fatal("not rejected")
				}
			}
			close(release)
			<-done
		})
	}
}

// BenchmarkRateLimiter measures the limiter on its own, the baseline of
// Erroring and Delaying.
func BenchmarkRateLimiter(b *testing.B) {
	b.Run("Allow", func(b *testing.B) {
		lim := plenty()
		b.ReportAllocs()
		for b.Loop() {
			if !lim.Allow() {
				b.Fatal("not allowed")
			}
		}
	})
	b.Run("Wait", func(b *testing.B) {
		lim := plenty()
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if err := lim.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
