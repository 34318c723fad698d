package breaker

import (
	"context"
	"time"

	"github.com/typedkit/kit"
)

// clockBase is the origin of the monotonic readings Handy takes: time.Since
// reads only the monotonic clock, which is cheaper than time.Now.
var clockBase = time.Now()

// A Breaker is a circuit breaker that is asked before each call and told
// how the call went. It is the method set of streadway/handy's
// breaker.Breaker, so such a breaker, or any other with these methods,
// plugs into [Handy] without this package depending on it.
type Breaker interface {
	// Allow reports whether a call may go ahead.
	Allow() bool
	// Success records a call that succeeded and how long it took.
	Success(time.Duration)
	// Failure records a call that failed and how long it took.
	Failure(time.Duration)
}

// Handy returns an interceptor that asks a [Breaker] before every call and
// tells it the outcome, with one breaker per method: newBreaker is called
// with the method's kit.Call each time the interceptor is called for a
// method, as the endpoints are built, never per call. A nil Breaker leaves
// that method without one. Handy panics if newBreaker is nil.
//
//	ic := breaker.Handy(func(kit.Call) breaker.Breaker {
//		return handybreaker.NewBreaker(0.05) // github.com/streadway/handy/breaker
//	})
//
// A call that the breaker does not allow does not reach the rest of the
// chain and returns a kit Unavailable error that wraps [ErrOpen]. A call
// that fails with an error the interceptor's [Classifier] counts as a
// failure ([IsFailure] unless [Classify] says otherwise) is reported
// with Failure, and every other call, including one that fails with a
// caller error, with Success; a panic in the rest of the chain is reported
// as a failure and goes on up. The duration reported is that of the rest
// of the chain.
func Handy(newBreaker func(kit.Call) Breaker, opts ...Option) kit.Interceptor {
	if newBreaker == nil {
		panic("breaker: Handy needs a function that makes a Breaker")
	}
	s := newSettings(IsFailure, opts)
	classify, floor := s.classify, s.floor
	return func(call kit.Call, next kit.Invoker) kit.Invoker {
		b := newBreaker(call)
		if b == nil {
			return next
		}
		return func(ctx context.Context, c kit.Call) (err error) {
			if !b.Allow() {
				return errRejected
			}
			start := time.Since(clockBase)
			given := budget(ctx)
			done := false
			defer func() {
				if !done { // the rest of the chain panicked
					b.Failure(time.Since(clockBase) - start)
				}
			}()
			err = next(ctx, c)
			done = true
			if d := time.Since(clockBase) - start; counts(ctx, err, classify, given, floor) {
				b.Failure(d)
			} else {
				b.Success(d)
			}
			return err
		}
	}
}
