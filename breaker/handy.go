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

// Handy returns a middleware that asks b before every call and tells it the
// outcome. A call that b does not allow does not reach the endpoint and
// returns a kit Unavailable error that wraps [ErrOpen]. A call that fails
// with an error the middleware's [Classifier] counts as a failure
// ([IsFailure] unless [WithClassifier] says otherwise) is reported with
// b.Failure, and every other call, including one that fails with a caller
// error, with b.Success; a panic in the endpoint is reported as a failure
// and goes on up. The duration reported is the endpoint's.
//
// Every endpoint the middleware wraps shares b.
func Handy[Req, Resp any](b Breaker, opts ...Option) kit.Middleware[Req, Resp] {
	s := newSettings(IsFailure, opts)
	classify, floor := s.classify, s.floor
	return func(next kit.Endpoint[Req, Resp]) kit.Endpoint[Req, Resp] {
		return func(ctx context.Context, req Req) (resp Resp, err error) {
			if !b.Allow() {
				return resp, errRejected
			}
			start := time.Since(clockBase)
			given := budget(ctx)
			done := false
			defer func() {
				if !done { // the endpoint panicked
					b.Failure(time.Since(clockBase) - start)
				}
			}()
			resp, err = next(ctx, req)
			done = true
			if d := time.Since(clockBase) - start; counts(ctx, err, classify, given, floor) {
				b.Failure(d)
			} else {
				b.Success(d)
			}
			return resp, err
		}
	}
}
