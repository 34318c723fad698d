package kit_test

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/typedkit/kit"
)

type benchReq struct {
	A int
	B string
}

type benchResp struct{ C string }

func benchEndpoint(_ context.Context, r benchReq) (benchResp, error) { return benchResp{C: r.B}, nil }

func passThrough(next kit.Endpoint[benchReq, benchResp]) kit.Endpoint[benchReq, benchResp] {
	return func(ctx context.Context, r benchReq) (benchResp, error) { return next(ctx, r) }
}

// BenchmarkChain measures a call through 0, 1, 5 and 10 pass-through
// middlewares.
func BenchmarkChain(b *testing.B) {
	for _, depth := range []int{0, 1, 5, 10} {
		b.Run(strconv.Itoa(depth), func(b *testing.B) {
			ep := kit.Endpoint[benchReq, benchResp](benchEndpoint)
			if depth > 0 {
				mws := make([]kit.Middleware[benchReq, benchResp], depth-1)
				for i := range mws {
					mws[i] = passThrough
				}
				ep = kit.Chain(passThrough, mws...)(ep)
			}
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

func passInterceptor(_ kit.Call, next kit.Invoker) kit.Invoker {
	return func(ctx context.Context, c kit.Call) error { return next(ctx, c) }
}

// BenchmarkInterceptors measures a call through 0, 1, 5 and 10
// pass-through interceptors.
func BenchmarkInterceptors(b *testing.B) {
	for _, depth := range []int{0, 1, 5, 10} {
		b.Run(strconv.Itoa(depth), func(b *testing.B) {
			ics := make([]kit.Interceptor, depth)
			for i := range ics {
				ics[i] = passInterceptor
			}
			ep := kit.Intercept(kit.Endpoint[benchReq, benchResp](benchEndpoint), kit.Call{Service: "bench", Method: "M"}, ics...)
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

// BenchmarkStandardInterceptors measures each dependency-free interceptor
// on a call that succeeds.
func BenchmarkStandardInterceptors(b *testing.B) {
	quiet := slog.New(slog.DiscardHandler)
	cases := []struct {
		name string
		ic   kit.Interceptor
	}{
		{"Recover", kit.Recover(quiet)},
		{"LoggingDisabled", kit.Logging(quiet)},
		{"Timeout", kit.Timeout(time.Second)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ep := kit.Intercept(kit.Endpoint[benchReq, benchResp](benchEndpoint), kit.Call{Service: "bench", Method: "M"}, c.ic)
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

// BenchmarkCodeOf measures classifying a kit error and a plain one.
func BenchmarkCodeOf(b *testing.B) {
	kerr := kit.NewError(kit.NotFound, "x")
	b.ReportAllocs()
	for b.Loop() {
		if kit.CodeOf(kerr) != kit.NotFound {
			b.Fatal("wrong code")
		}
	}
}
