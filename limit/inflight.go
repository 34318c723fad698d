package limit

import (
	"context"
	"sync/atomic"

	"github.com/typedkit/kit"
)

// InFlight returns an interceptor that lets at most n calls run at once and
// rejects a call that arrives while n are running, at once, with a kit
// ResourceExhausted error that wraps [ErrConcurrencyLimited]; the rest of
// the chain is not called. It does not queue calls: pair it with
// [Delaying] to smooth bursts.
//
// The count is created when InFlight is called, and every method the
// returned interceptor wraps shares it: n bounds the calls of the whole
// service. To bound each method alone, call InFlight each time the
// interceptor is called for a method, as [Erroring] shows. The limit is
// exact: a call is never rejected while fewer than n run. InFlight panics
// if n is less than 1.
func InFlight(n int) kit.Interceptor {
	if n < 1 {
		panic("limit: InFlight needs a limit of at least 1")
	}
	limit := int64(n)
	running := new(atomic.Int64)
	return func(_ kit.Call, next kit.Invoker) kit.Invoker {
		return func(ctx context.Context, c kit.Call) error {
			for {
				r := running.Load()
				if r >= limit {
					return errConcurrency
				}
				if running.CompareAndSwap(r, r+1) {
					break
				}
			}
			defer running.Add(-1)
			return next(ctx, c)
		}
	}
}

// Streams returns an interceptor that lets at most n stream calls of the
// methods it wraps run at once, as [InFlight] does, and passes unary calls
// through: the bound of long-lived calls (watches, uploads, conversations)
// that a service can hold, beside the limits of its unary calls. A stream
// holds its place from its open to its end. Streams panics if n is less
// than 1.
func Streams(n int) kit.Interceptor {
	if n < 1 {
		panic("limit: Streams needs a limit of at least 1")
	}
	inflight := InFlight(n)
	return func(call kit.Call, next kit.Invoker) kit.Invoker {
		if call.Stream == kit.Unary {
			return next
		}
		return inflight(call, next)
	}
}
