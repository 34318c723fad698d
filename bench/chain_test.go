package bench

import (
	"context"
	"fmt"
	"testing"

	gokit "github.com/go-kit/kit/endpoint"

	"github.com/typedkit/kit"
)

func typedPass(next kit.Endpoint[Req, Resp]) kit.Endpoint[Req, Resp] {
	return func(ctx context.Context, r Req) (Resp, error) { return next(ctx, r) }
}

func interceptPass(_ kit.Call, next kit.Invoker) kit.Invoker {
	return func(ctx context.Context, c kit.Call) error { return next(ctx, c) }
}

func gokitPass(next gokit.Endpoint) gokit.Endpoint {
	return func(ctx context.Context, r any) (any, error) { return next(ctx, r) }
}

// BenchmarkChain calls an endpoint through 0, 1, 5 and 10 pass-through
// middlewares: typed ones, interceptors (one list for every method of a
// service), and go-kit's.
func BenchmarkChain(b *testing.B) {
	ctx := context.Background()
	for _, depth := range []int{0, 1, 5, 10, 50} {
		b.Run(fmt.Sprintf("depth=%d/typedkit", depth), func(b *testing.B) {
			ep := kit.Endpoint[Req, Resp](work)
			if depth > 0 {
				mws := make([]kit.Middleware[Req, Resp], depth-1)
				for i := range mws {
					mws[i] = typedPass
				}
				ep = kit.Chain(typedPass, mws...)(ep)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ep(ctx, Req{A: 1, B: "x"}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("depth=%d/typedkit-interceptors", depth), func(b *testing.B) {
			ics := make([]kit.Interceptor, depth)
			for i := range ics {
				ics[i] = interceptPass
			}
			ep := kit.Intercept(kit.Endpoint[Req, Resp](work), kit.Call{Service: "bench.Svc", Method: "Work"}, ics...)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ep(ctx, Req{A: 1, B: "x"}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("depth=%d/gokit", depth), func(b *testing.B) {
			ep := gokit.Endpoint(workAny)
			if depth > 0 {
				mws := make([]gokit.Middleware, depth-1)
				for i := range mws {
					mws[i] = gokitPass
				}
				ep = gokit.Chain(gokitPass, mws...)(ep)
			}
			b.ReportAllocs()
			for b.Loop() {
				resp, err := ep(ctx, Req{A: 1, B: "x"})
				if err != nil {
					b.Fatal(err)
				}
				_ = resp.(Resp)
			}
		})
	}
}
