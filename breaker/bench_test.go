package breaker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/afex/hystrix-go/hystrix"
	"github.com/sony/gobreaker/v2"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/breaker"
)

type benchReq struct {
	A int
	B string
}

type benchResp struct{ C string }

func benchEndpoint(_ context.Context, r benchReq) (benchResp, error) { return benchResp{C: r.B}, nil }

// alwaysAllow is a Breaker that lets every call through and records
// nothing, to measure what Handy adds.
type alwaysAllow struct{}

func (alwaysAllow) Allow() bool           { return true }
func (alwaysAllow) Success(time.Duration) {}
func (alwaysAllow) Failure(time.Duration) {}

var benchCall = kit.Call{Service: "bench.Svc", Method: "Get", Transport: kit.GRPC, Side: kit.ClientSide}

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
		{"Adaptive", interceptor(breaker.Adaptive())},
		{"Gobreaker", interceptor(breaker.Gobreaker(gobreaker.Settings{}))},
		{"Handy", interceptor(breaker.Handy(func(kit.Call) breaker.Breaker { return alwaysAllow{} }))},
		{"Fallback", breaker.Fallback(func(context.Context, benchReq, error) (benchResp, error) { return benchResp{}, nil })},
	}
}

// BenchmarkClosed measures a call that a breaker lets through and that
// succeeds, one goroutine at a time.
func BenchmarkClosed(b *testing.B) {
	for _, c := range benchMiddlewares() {
		b.Run(c.name, func(b *testing.B) {
			ep := c.mw(benchEndpoint)
			ctx := context.Background()
			r := benchReq{A: 1, B: "x"}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ep(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkClosedParallel measures the same calls from GOMAXPROCS
// goroutines at once.
func BenchmarkClosedParallel(b *testing.B) {
	for _, c := range benchMiddlewares() {
		b.Run(c.name, func(b *testing.B) {
			ep := c.mw(benchEndpoint)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				r := benchReq{A: 1, B: "x"}
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

// BenchmarkGobreakerExecute measures gobreaker's Execute on its own, the
// baseline of Gobreaker.
func BenchmarkGobreakerExecute(b *testing.B) {
	cb := gobreaker.NewCircuitBreaker[benchResp](gobreaker.Settings{Name: "bench"})
	ctx := context.Background()
	r := benchReq{A: 1, B: "x"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cb.Execute(func() (benchResp, error) { return benchEndpoint(ctx, r) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRejected measures a call that a breaker rejects: an open
// gobreaker, and Adaptive throttling a service that fails every call (with
// probes off, so that every call is rejected).
func BenchmarkRejected(b *testing.B) {
	failing := func(context.Context, benchReq) (benchResp, error) { return benchResp{}, errors.New("down") }
	opens := gobreaker.Settings{
		ReadyToTrip: func(gobreaker.Counts) bool { return true },
		Timeout:     time.Hour,
	}
	cases := []struct {
		name string
		mw   kit.Middleware[benchReq, benchResp]
	}{
		{"Adaptive", interceptor(breaker.Adaptive(breaker.AdaptiveRand(func() float64 { return 0 }), breaker.AdaptiveProbeInterval(0)))},
		{"Gobreaker", interceptor(breaker.Gobreaker(opens))},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ep := c.mw(failing)
			ctx := context.Background()
			for range 100 { // trip it
				_, _ = ep(ctx, benchReq{})
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ep(ctx, benchReq{}); !errors.Is(err, breaker.ErrOpen) {
					b.Fatal("not rejected:", err)
				}
			}
		})
	}
}

// BenchmarkHystrix measures Hystrix against hystrix.DoC on its own. hystrix
// takes the call as a closure that it runs on a goroutine of its own, so
// the closure and what it captures are allocated; the interceptor also
// gives the rest of the chain a context that it cancels when the call
// ends.
func BenchmarkHystrix(b *testing.B) {
	// hystrix frees a call's place in the concurrency limit on its own
	// goroutine, after the call returns, so a tight loop needs a high limit.
	cfg := hystrix.CommandConfig{MaxConcurrentRequests: 1 << 16, RequestVolumeThreshold: 1 << 30}
	hystrix.ConfigureCommand("bench", cfg)
	ctx := context.Background()
	r := benchReq{A: 1, B: "x"}
	b.Run("DoC", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var resp benchResp
			err := hystrix.DoC(ctx, "bench", func(ctx context.Context) error {
				var err error
				resp, err = benchEndpoint(ctx, r)
				return err
			}, nil)
			if err != nil || resp.C != "x" {
				b.Fatal(err)
			}
		}
	})
	b.Run("Interceptor", func(b *testing.B) {
		ep := interceptor(breaker.Hystrix(func(kit.Call) hystrix.CommandConfig { return cfg }))(benchEndpoint)
		b.ReportAllocs()
		for b.Loop() {
			if resp, err := ep(ctx, r); err != nil || resp.C != "x" {
				b.Fatal(err)
			}
		}
	})
}
