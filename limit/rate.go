package limit

import (
	"context"
	"fmt"

	"github.com/typedkit/kit"
)

// An Allower decides at once whether a call may go ahead. A
// *rate.Limiter of golang.org/x/time/rate is one.
type Allower interface {
	Allow() bool
}

// AllowerFunc adapts a function to an [Allower].
type AllowerFunc func() bool

// Allow returns f().
func (f AllowerFunc) Allow() bool { return f() }

// A Waiter waits until a call may go ahead, or returns an error if it may
// not: because ctx ended, or because it could not go ahead before ctx's
// deadline, in which case it should return at once rather than wait for
// the deadline. A *rate.Limiter of golang.org/x/time/rate is one.
type Waiter interface {
	Wait(ctx context.Context) error
}

// WaiterFunc adapts a function to a [Waiter].
type WaiterFunc func(ctx context.Context) error

// Wait returns f(ctx).
func (f WaiterFunc) Wait(ctx context.Context) error { return f(ctx) }

// Erroring returns a middleware that asks a before each call and rejects
// the call at once if a does not allow it, with a kit ResourceExhausted
// error that wraps [ErrRateLimited]; the endpoint is not called. With a
// *rate.Limiter:
//
//	mw := limit.Erroring[Req, Resp](rate.NewLimiter(100, 10)) // 100 calls a second, bursts of 10
//
// Every endpoint the middleware wraps shares a. The middleware adds no
// allocation to a.Allow.
func Erroring[Req, Resp any](a Allower) kit.Middleware[Req, Resp] {
	return func(next kit.Endpoint[Req, Resp]) kit.Endpoint[Req, Resp] {
		return func(ctx context.Context, req Req) (Resp, error) {
			if !a.Allow() {
				var zero Resp
				return zero, errRateLimited
			}
			return next(ctx, req)
		}
	}
}

// Delaying returns a middleware that waits on w before each call, so that
// calls beyond the rate are delayed rather than rejected. A call whose
// wait fails does not reach the endpoint:
//   - if ctx ended, before or during the wait, it returns a kit Canceled or
//     DeadlineExceeded error (as ctx's error says) that wraps w's error;
//   - otherwise, such as when the wait could not end before ctx's deadline
//     (a *rate.Limiter sees that at once and does not wait), it returns a
//     kit ResourceExhausted error that wraps [ErrRateLimited] and w's error.
//
// Every endpoint the middleware wraps shares w. The middleware adds no
// allocation to a wait that succeeds.
func Delaying[Req, Resp any](w Waiter) kit.Middleware[Req, Resp] {
	return func(next kit.Endpoint[Req, Resp]) kit.Endpoint[Req, Resp] {
		return func(ctx context.Context, req Req) (Resp, error) {
			if err := w.Wait(ctx); err != nil {
				var zero Resp
				return zero, waitError(ctx, err)
			}
			return next(ctx, req)
		}
	}
}

func waitError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return kit.WrapError(kit.CodeOf(ctxErr), err, "")
	}
	return kit.WrapError(kit.ResourceExhausted, fmt.Errorf("%w: %w", ErrRateLimited, err), "rate limit exceeded")
}
