package breaker

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
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

// Hystrix returns an interceptor that runs every call as a hystrix command
// of github.com/afex/hystrix-go, one command per method, named after the
// method's kit.Call.Procedure ("/Service/Method").
//
// hystrix keeps its configuration and circuits globally, by command name.
// When configure is not nil, the interceptor configures each method's
// command with configure(call) (hystrix.ConfigureCommand) as it is called
// for the method, when the endpoints are built; when it is nil, a command
// keeps what the program configured for that name, or hystrix's defaults,
// which are package variables of hystrix: a timeout of one second, at most
// ten concurrent calls, and a circuit that opens when at least half of at
// least twenty calls in the last ten seconds failed and tries again after
// five seconds. Every interceptor in the process that wraps a method of
// the same name, such as the servers of one service over HTTP and gRPC,
// shares that method's circuit.
//
// Each call runs the rest of the chain in a goroutine of its own, and
// hystrix starts a second one to watch the timeout; the first call of a
// command also starts two goroutines that collect its metrics and live as
// long as the process. When hystrix gives up on a call (a timeout, or ctx
// ending) the interceptor cancels the context it gave the rest of the
// chain and waits for it to return, as every interceptor must, since the
// call's request and response are in use until then: an endpoint that
// honours its context returns at once, one that does not holds the caller
// until it is done. A panic in the rest of the chain counts as a failure
// and goes on up on the caller's goroutine. hystrix keeps a call's place
// in the command's concurrency limit until its goroutines are done, a
// moment after the call has returned, so calls made one after another in a
// tight loop can meet the limit. Prefer [Adaptive] or [Gobreaker], which
// run the call on the caller's goroutine and allocate nothing.
//
// Errors that the interceptor's [Classifier] does not count as failures
// ([IsFailure] unless [Classify] says otherwise) are reported to
// hystrix as successes; the caller still receives them. The errors of
// hystrix itself become kit errors:
//   - a call rejected because the circuit is open or the command's
//     concurrency limit is reached returns a kit Unavailable error that
//     wraps [ErrOpen] and hystrix.ErrCircuitOpen or hystrix.ErrMaxConcurrency;
//   - a call that exceeds the command's timeout returns a kit
//     DeadlineExceeded error that wraps hystrix.ErrTimeout;
//   - a call whose ctx ends first returns a kit Canceled or
//     DeadlineExceeded error that wraps ctx's error.
func Hystrix(configure func(kit.Call) hystrix.CommandConfig, opts ...Option) kit.Interceptor {
	s := newSettings(IsFailure, opts)
	classify, floor := s.classify, s.floor
	return func(call kit.Call, next kit.Invoker) kit.Invoker {
		command := call.Procedure()
		if configure != nil {
			hystrix.ConfigureCommand(command, configure(call))
		}
		return func(ctx context.Context, c kit.Call) error {
			// The rest of the chain gets a context of its own, cancelled
			// when hystrix gives up, so that a call hystrix gave up on
			// stops. hystrix watches the caller's: were it to watch this
			// one, it could see the cancellation of a call that succeeded
			// before it had recorded the success, and record a
			// cancellation instead.
			runCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			hc := &hystrixCall{ctx: runCtx, next: next, call: c, classify: classify, floor: floor, budget: budget(ctx)}
			hc.done.Add(1)
			err := hystrix.DoC(ctx, command, hc.run, nil)
			if hc.state.CompareAndSwap(callWaiting, callAbandoned) {
				hc.done.Done() // run will not call the chain
			} else {
				cancel()
				hc.done.Wait()
			}
			if hc.panicked != nil {
				panic(hc.panicked)
			}
			if err != nil {
				return hystrixError(err)
			}
			// DoC returns nil only after run has returned nil, so reading
			// what run wrote is safe.
			return hc.ignored
		}
	}
}

// The states of a hystrixCall.
const (
	callWaiting   int32 = iota // run has not started
	callRunning                // run calls, or called, the chain
	callAbandoned              // DoC returned before run started: run must not call it
)

// A hystrixCall holds what one call's run function needs and what it
// leaves. run writes ignored only when it returns nil, and panicked
// before it marks done.
type hystrixCall struct {
	ctx      context.Context
	next     kit.Invoker
	call     kit.Call
	classify Classifier
	floor    time.Duration
	budget   time.Duration
	ignored  error
	panicked any
	state    atomic.Int32
	done     sync.WaitGroup
}

// errPanicked is what run reports to hystrix for a call that panicked.
var errPanicked = errors.New("breaker: panic in a hystrix command")

func (c *hystrixCall) run(context.Context) (err error) {
	if !c.state.CompareAndSwap(callWaiting, callRunning) {
		return nil // abandoned: hystrix no longer waits for the result
	}
	defer c.done.Done()
	defer func() {
		if v := recover(); v != nil {
			c.panicked = v
			err = errPanicked
		}
	}()
	err = c.next(c.ctx, c.call)
	if counts(c.ctx, err, c.classify, c.budget, c.floor) {
		return err
	}
	c.ignored = err
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
