package breaker

import (
	"context"
	"errors"
	"time"

	"github.com/afex/hystrix-go/hystrix"

	"github.com/typedkit/kit"
)

// Prebuilt errors for hystrix's rejections and timeouts, and for a context
// that ends while hystrix waits.
var (
	errHystrixOpen           = rejected(hystrix.ErrCircuitOpen)
	errHystrixMaxConcurrency = rejected(hystrix.ErrMaxConcurrency)
	errHystrixTimeout        = kit.WrapError(kit.DeadlineExceeded, hystrix.ErrTimeout, "")
	errHystrixCanceled       = kit.WrapError(kit.Canceled, context.Canceled, "")
	errHystrixDeadline       = kit.WrapError(kit.DeadlineExceeded, context.DeadlineExceeded, "")
)

// Hystrix returns a middleware that runs every call as the hystrix command
// named command, with github.com/afex/hystrix-go.
//
// Hystrix is configured globally, per command name, with
// hystrix.ConfigureCommand (or hystrix.Configure); a command that was not
// configured gets hystrix's defaults, which are package variables of
// hystrix: a timeout of one second, at most ten concurrent calls, and a
// circuit that opens when at least half of at least twenty calls in the
// last ten seconds failed and tries again after five seconds. Every
// middleware, in any package of the process, that uses the same command
// name shares one circuit.
//
// Each call runs the endpoint in a goroutine of its own, and hystrix starts
// a second one to watch the timeout; the first call of a command also
// starts two goroutines that collect its metrics and live as long as the
// process. When hystrix gives up on a call (a timeout, or ctx ending) the
// middleware returns at once and cancels the context it gave the endpoint,
// so an endpoint that honours its context stops soon after. hystrix keeps
// a call's place in the command's concurrency limit until its goroutines
// are done, a moment after the call has returned, so calls made one after
// another in a tight loop can meet the limit. Prefer [Adaptive] or
// [Gobreaker], which run the endpoint on the caller's goroutine.
//
// Errors that the middleware's [Classifier] does not count as failures
// ([IsFailure] unless [WithClassifier] says otherwise) are reported to
// hystrix as successes; the caller still receives them. The errors of
// hystrix itself become kit errors:
//   - a call rejected because the circuit is open or the command's
//     concurrency limit is reached returns a kit Unavailable error that
//     wraps [ErrOpen] and hystrix.ErrCircuitOpen or hystrix.ErrMaxConcurrency;
//   - a call that exceeds the command's timeout returns a kit
//     DeadlineExceeded error that wraps hystrix.ErrTimeout;
//   - a call whose ctx ends first returns a kit Canceled or
//     DeadlineExceeded error that wraps ctx's error.
//
// A call that fails returns the zero Resp.
func Hystrix[Req, Resp any](command string, opts ...Option) kit.Middleware[Req, Resp] {
	s := newSettings(IsFailure, opts)
	classify, floor := s.classify, s.floor
	return func(next kit.Endpoint[Req, Resp]) kit.Endpoint[Req, Resp] {
		return func(ctx context.Context, req Req) (Resp, error) {
			// The endpoint gets a context of its own, cancelled when the
			// middleware returns, so that a call hystrix gave up on stops.
			// hystrix watches the caller's: were it to watch this one, it
			// could see the cancellation of a call that succeeded before it
			// had recorded the success, and record a cancellation instead.
			runCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			c := &hystrixCall[Req, Resp]{ctx: runCtx, next: next, req: req, classify: classify, floor: floor, budget: budget(ctx)}
			if err := hystrix.DoC(ctx, command, c.run, nil); err != nil {
				var zero Resp
				return zero, hystrixError(err)
			}
			// DoC returns nil only after run has returned nil, so reading
			// what run wrote is safe.
			return c.resp, c.ignored
		}
	}
}

// A hystrixCall holds what one call's run function needs and what it
// leaves. run writes resp and ignored only when it returns nil.
type hystrixCall[Req, Resp any] struct {
	ctx      context.Context
	next     kit.Endpoint[Req, Resp]
	req      Req
	classify Classifier
	floor    time.Duration
	budget   time.Duration
	resp     Resp
	ignored  error
}

func (c *hystrixCall[Req, Resp]) run(context.Context) error {
	resp, err := c.next(c.ctx, c.req)
	if counts(c.ctx, err, c.classify, c.budget, c.floor) {
		return err
	}
	c.resp, c.ignored = resp, err
	return nil
}

// hystrixError turns the errors of hystrix itself into kit errors and
// returns the endpoint's errors as they are.
func hystrixError(err error) error {
	switch {
	case errors.Is(err, hystrix.ErrCircuitOpen):
		return errHystrixOpen
	case errors.Is(err, hystrix.ErrMaxConcurrency):
		return errHystrixMaxConcurrency
	case errors.Is(err, hystrix.ErrTimeout):
		return errHystrixTimeout
	case err == context.Canceled: //nolint:errorlint // hystrix returns ctx.Err() itself
		return errHystrixCanceled
	case err == context.DeadlineExceeded: //nolint:errorlint // as above
		return errHystrixDeadline
	}
	var ce hystrix.CircuitError
	if errors.As(err, &ce) {
		return rejected(err)
	}
	return err
}
