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

// Erroring returns an interceptor that asks a before each call and rejects
// the call at once if a does not allow it, with a kit ResourceExhausted
// error that wraps [ErrRateLimited]; the rest of the chain is not called.
// With a *rate.Limiter:
//
//	ic := limit.Erroring(rate.NewLimiter(100, 10)) // 100 calls a second, bursts of 10
//
// Every method the interceptor wraps shares a: the rate is a budget for
// them all. To give each method a limiter of its own, make one each time
// the interceptor is called for a method, which happens once per method
// when the endpoints are built:
//
//	perMethod := func(call kit.Call, next kit.Invoker) kit.Invoker {
//		return limit.Erroring(rate.NewLimiter(100, 10))(call, next)
//	}
//
// The interceptor adds no allocation to a.Allow.
func Erroring(a Allower) kit.Interceptor {
	if a == nil {
		panic("limit: Erroring needs an Allower")
	}
	return func(_ kit.Call, next kit.Invoker) kit.Invoker {
		return func(ctx context.Context, c kit.Call) error {
			if !a.Allow() {
				return errRateLimited
			}
			return next(ctx, c)
		}
	}
}

// Delaying returns an interceptor that waits on w before each call, so
// that calls beyond the rate are delayed rather than rejected. A call whose
// wait fails does not reach the rest of the chain:
//   - if ctx ended, before or during the wait, it returns a kit Canceled or
//     DeadlineExceeded error (as ctx's error says) that wraps w's error;
//   - otherwise, such as when the wait could not end before ctx's deadline
//     (a *rate.Limiter sees that at once and does not wait), it returns a
//     kit ResourceExhausted error that wraps [ErrRateLimited] and w's error.
//
// Every method the interceptor wraps shares w, as with [Erroring], which
// shows how to give each method its own. The interceptor adds no
// allocation to a wait that succeeds.
func Delaying(w Waiter) kit.Interceptor {
	if w == nil {
		panic("limit: Delaying needs a Waiter")
	}
	return func(_ kit.Call, next kit.Invoker) kit.Invoker {
		return func(ctx context.Context, c kit.Call) error {
			if err := w.Wait(ctx); err != nil {
				return waitError(ctx, err)
			}
			return next(ctx, c)
		}
	}
}

func waitError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return kit.WrapError(kit.CodeOf(ctxErr), err, "")
	}
	return kit.WrapError(kit.ResourceExhausted, fmt.Errorf("%w: %w", ErrRateLimited, err), "rate limit exceeded")
}
