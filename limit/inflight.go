package limit

import (
	"context"
	"sync/atomic"

	"github.com/typedkit/kit"
)

// InFlight returns a middleware that lets at most n calls run at once and
// rejects a call that arrives while n are running, at once, with a kit
// ResourceExhausted error that wraps [ErrConcurrencyLimited]; the endpoint
// is not called. It does not queue calls: pair it with [Delaying] to smooth
// bursts.
//
// The count is created when InFlight is called, and every endpoint the
// returned middleware wraps shares it: wrap several endpoints with one
// middleware to limit them together, or call InFlight once per endpoint to
// limit each alone. The limit is exact: a call is never rejected while
// fewer than n run. InFlight panics if n is less than 1.
func InFlight[Req, Resp any](n int) kit.Middleware[Req, Resp] {
	if n < 1 {
		panic("limit: InFlight needs a limit of at least 1")
	}
	limit := int64(n)
	var running atomic.Int64
	return func(next kit.Endpoint[Req, Resp]) kit.Endpoint[Req, Resp] {
		return func(ctx context.Context, req Req) (Resp, error) {
			for {
				c := running.Load()
				if c >= limit {
					var zero Resp
					return zero, errConcurrency
				}
				if running.CompareAndSwap(c, c+1) {
					break
				}
			}
			defer running.Add(-1)
			return next(ctx, req)
		}
	}
}
