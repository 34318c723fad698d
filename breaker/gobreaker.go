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

// Gobreaker returns an interceptor that runs every call through a circuit
// breaker of github.com/sony/gobreaker/v2, the closed, open and half-open
// state machine, one breaker per method:
//
//	ic := breaker.Gobreaker(gobreaker.Settings{
//		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 5 },
//	})
//
// Each method the interceptor wraps gets a gobreaker.CircuitBreaker of its
// own, made from st when the interceptor is called for the method as the
// endpoints are built: a method that fails opens its breaker while the
// others go on. The breaker's name, which st.OnStateChange receives, is
// st.Name, or the method's kit.Call.Procedure ("/Service/Method") when
// st.Name is empty. To give methods different settings, call Gobreaker in
// an interceptor of one's own, once per method:
//
//	func(call kit.Call, next kit.Invoker) kit.Invoker {
//		return breaker.Gobreaker(settingsFor(call))(call, next)
//	}
//
// The settings decide when a breaker opens and for how long. Which errors
// it sees as failures is decided by the interceptor's [Classifier]
// ([IsFailure] unless [Classify] says otherwise): a call that fails
// with an error that is not a failure is reported to the breaker as a
// success, and the caller still receives the error. A panic in the rest of
// the chain counts as a failure, as gobreaker does, and goes on up.
//
// A call that the breaker rejects (gobreaker.ErrOpenState, or
// gobreaker.ErrTooManyRequests while half-open) does not reach the rest of
// the chain and returns a kit Unavailable error that wraps [ErrOpen] and
// gobreaker's error.
//
// The interceptor adds no allocation to the breaker's Execute.
func Gobreaker(st gobreaker.Settings, opts ...Option) kit.Interceptor {
	s := newSettings(IsFailure, opts)
	classify, floor := s.classify, s.floor
	return func(call kit.Call, next kit.Invoker) kit.Invoker {
		ms := st
		if ms.Name == "" {
			ms.Name = call.Procedure()
		}
		cb := gobreaker.NewCircuitBreaker[struct{}](ms)
		return func(ctx context.Context, c kit.Call) error {
			b := budget(ctx)
			var (
				ran     bool
				ignored error // an error that does not count as a failure
			)
			_, err := cb.Execute(func() (struct{}, error) {
				ran = true
				err := next(ctx, c)
				if err != nil && !counts(ctx, err, classify, b, floor) {
					ignored = err
					return struct{}{}, nil
				}
				return struct{}{}, err
			})
			switch {
			case !ran && err != nil:
				return rejectedByGobreaker(err)
			case ignored != nil:
				return ignored
			}
			return err
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
