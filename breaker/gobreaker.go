package breaker

import (
	"context"
	"errors"

	"github.com/sony/gobreaker/v2"

	"github.com/typedkit/kit"
)

// Prebuilt rejections for gobreaker's two errors, so that a rejected call
// allocates nothing.
var (
	errGobreakerOpen    = rejected(gobreaker.ErrOpenState)
	errGobreakerTooMany = rejected(gobreaker.ErrTooManyRequests)
)

// Gobreaker returns a middleware that runs every call through cb, a
// circuit breaker of github.com/sony/gobreaker/v2. Resp is inferred from
// cb, so only the request type is written:
//
//	cb := gobreaker.NewCircuitBreaker[User](gobreaker.Settings{Name: "users"})
//	mw := breaker.Gobreaker[GetUserRequest](cb)
//
// The breaker's Settings decide when it opens and for how long. Which
// errors it sees as failures is decided by the middleware's [Classifier]
// ([IsFailure] unless [WithClassifier] says otherwise): a call that fails
// with an error that is not a failure is reported to cb as a success, and
// the caller still receives the error. A panic in the endpoint counts as a
// failure, as gobreaker does, and goes on up.
//
// A call that cb rejects (gobreaker.ErrOpenState, or
// gobreaker.ErrTooManyRequests while half-open) does not reach the endpoint
// and returns a kit Unavailable error that wraps [ErrOpen] and gobreaker's
// error.
//
// The middleware adds no allocation to cb.Execute. Every endpoint it wraps
// shares cb.
func Gobreaker[Req, Resp any](cb *gobreaker.CircuitBreaker[Resp], opts ...Option) kit.Middleware[Req, Resp] {
	s := newSettings(IsFailure, opts)
	classify, floor := s.classify, s.floor
	return func(next kit.Endpoint[Req, Resp]) kit.Endpoint[Req, Resp] {
		return func(ctx context.Context, req Req) (Resp, error) {
			b := budget(ctx)
			var (
				ran     bool
				ignored error // an error that does not count as a failure
			)
			resp, err := cb.Execute(func() (Resp, error) {
				ran = true
				resp, err := next(ctx, req)
				if err != nil && !counts(ctx, err, classify, b, floor) {
					ignored = err
					return resp, nil
				}
				return resp, err
			})
			switch {
			case !ran && err != nil:
				var zero Resp
				return zero, rejectedByGobreaker(err)
			case ignored != nil:
				return resp, ignored
			}
			return resp, err
		}
	}
}

func rejectedByGobreaker(err error) error {
	switch {
	case errors.Is(err, gobreaker.ErrOpenState):
		return errGobreakerOpen
	case errors.Is(err, gobreaker.ErrTooManyRequests):
		return errGobreakerTooMany
	}
	return rejected(err)
}
