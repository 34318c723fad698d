package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/typedkit/kit"
)

// ErrAttemptTimeout is wrapped in the error of an attempt that [Retry] cut
// short with its per-attempt timeout while the caller's context was still
// live. [Retryable] retries it.
var ErrAttemptTimeout = errors.New("discovery: attempt timed out")

// ErrBudgetExhausted is wrapped in the final error of a call that [Retry]
// did not retry because its [Budget] was spent.
var ErrBudgetExhausted = errors.New("discovery: retry budget exhausted")

// A RetryOption configures [Retry].
type RetryOption func(*retryConfig)

type retryConfig struct {
	idempotent bool
	attempts   int
	timeout    time.Duration
	retryable  func(error) bool
	budget     *Budget
	hedge      hedgeConfig
}

// RetryMaxAttempts sets how many times a call is tried in all, the first
// attempt included. The default is 3; values below 1 count as 1.
func RetryMaxAttempts(n int) RetryOption {
	return func(c *retryConfig) { c.attempts = max(n, 1) }
}

// RetryAttemptTimeout gives each attempt its own deadline d, within the
// caller's. An attempt cut short by it fails with an error that wraps
// [ErrAttemptTimeout]; the attempt's context ends with that cause, which
// [OutlierFailure] counts against the instance. By default attempts have
// only the caller's deadline.
func RetryAttemptTimeout(d time.Duration) RetryOption {
	return func(c *retryConfig) { c.timeout = d }
}

// RetryIf sets the function that decides whether an attempt's error is
// worth another attempt. The default is [Retryable].
func RetryIf(retryable func(error) bool) RetryOption {
	return func(c *retryConfig) {
		if retryable != nil {
			c.retryable = retryable
		}
	}
}

// RetryIdempotentCalls says that every call through the Retry endpoint is
// idempotent, whatever its client marked: a transient error is retried even
// when the call may have reached the service. Use it for endpoints whose
// clients do not mark their errors ([kit.WithRetrySafety]). It is also what
// lets [RetryHedgeAfter] and [RetryHedgeAtPercentile] hedge calls.
func RetryIdempotentCalls() RetryOption {
	return func(c *retryConfig) { c.idempotent = true }
}

// RetryBudget sets the budget the retries draw on. Share one budget
// between the Retry endpoints of a client to bound the retries of all of
// them together. A nil budget allows every retry. The default is a budget
// of its own for each Retry endpoint, NewBudget(0.2, 10).
func RetryBudget(b *Budget) RetryOption {
	return func(c *retryConfig) { c.budget = b }
}

// Retry returns an endpoint that calls an endpoint picked by b and, when
// the call fails with an error the classifier deems worth it, picks again
// and retries, until a call succeeds, the attempts run out, the caller's
// context ends, or the budget refuses a retry. Attempts follow each other
// at once: the balancer spreads them over other instances.
//
// Retrying resends the request. The default policy, [Retryable], resends
// only a call that provably did not reach the service or is idempotent, as
// the clients mark their errors ([kit.RetrySafetyOf]).
//
// When the first attempt fails with an error not worth another attempt
// (InvalidArgument, NotFound, …), Retry returns it unchanged. Otherwise it
// returns a *[RetryError] with every attempt's error, whose kit code and
// public message are those of the final error: also after one attempt
// whose transient error was not safe to resend, so that the error says
// why it was not retried.
//
// With [RetryHedgeAfter] or [RetryHedgeAtPercentile], and
// [RetryIdempotentCalls], an attempt that has not answered after a delay is
// hedged: another attempt starts on another instance while the first goes
// on, and the first answer wins (see [RetryHedgeAfter]).
//
// With the defaults, a call that succeeds at once costs no allocation
// beyond the endpoint's own; so does one with hedging options but without
// RetryIdempotentCalls, which does not hedge.
func Retry[Req, Resp any](b Balancer[Req, Resp], opts ...RetryOption) kit.Endpoint[Req, Resp] {
	if b == nil {
		panic("discovery: Retry with a nil Balancer")
	}
	cfg := retryConfig{attempts: 3, retryable: Retryable, budget: NewBudget(0.2, 10)}
	for _, o := range opts {
		o(&cfg)
	}
	ab, _ := b.(attemptBalancer[Req, Resp])
	if cfg.idempotent && cfg.attempts > 1 && cfg.hedge.on() {
		return hedged(b, ab, cfg)
	}
	return func(ctx context.Context, req Req) (Resp, error) {
		var zero Resp
		cfg.budget.deposit()
		var turn uint64
		if ab != nil {
			turn = ab.startCall()
		}
		var errs []error
		for {
			pick := b.Endpoint
			if ab != nil {
				n := len(errs)
				pick = func() (kit.Endpoint[Req, Resp], error) { return ab.endpointFor(turn, n) }
			}
			resp, err := attempt(ctx, pick, req, cfg.timeout)
			if err == nil {
				return resp, nil
			}
			if cfg.idempotent && kit.RetrySafetyOf(err) == kit.RetryUnsafe {
				err = kit.WithRetrySafety(err, kit.RetryIdempotent)
			}
			errs = append(errs, err)
			if ctx.Err() != nil {
				return zero, &RetryError{Attempts: errs, Final: kit.WrapError(kit.CodeOf(ctx.Err()), context.Cause(ctx), "")}
			}
			if !cfg.retryable(err) || len(errs) >= cfg.attempts {
				if len(errs) == 1 && !(transient(err) && retrySafety(err) == kit.RetryUnsafe) {
					return zero, err
				}
				return zero, &RetryError{Attempts: errs, Final: finalError(err)}
			}
			if !cfg.budget.withdraw() {
				final := finalError(err)
				return zero, &RetryError{Attempts: errs, Final: kit.WrapError(final.Code(),
					fmt.Errorf("%w: %w", ErrBudgetExhausted, err), final.Message())}
			}
		}
	}
}

// attempt makes one call through the endpoint pick gives.
func attempt[Req, Resp any](ctx context.Context, pick func() (kit.Endpoint[Req, Resp], error), req Req, timeout time.Duration) (Resp, error) {
	ep, err := pick()
	if err != nil {
		var zero Resp
		return zero, err
	}
	if timeout <= 0 {
		return ep(ctx, req)
	}
	// The cause tells OutlierFailure this deadline is the attempt's own.
	actx, cancel := context.WithTimeoutCause(ctx, timeout, ErrAttemptTimeout)
	defer cancel()
	resp, err := ep(actx, req)
	if err != nil && actx.Err() != nil && ctx.Err() == nil {
		err = kit.WrapError(kit.DeadlineExceeded, fmt.Errorf("%w after %v: %w", ErrAttemptTimeout, timeout, err), "")
	}
	return resp, err
}

// finalError returns err as a *kit.Error, with a transport error that has
// no kit code of its own classified as Unavailable.
func finalError(err error) *kit.Error {
	if kit.CodeOf(err) == kit.Unknown && isTransport(err) {
		return kit.WrapError(kit.Unavailable, err, "")
	}
	return kit.AsError(err)
}

// Retryable reports whether err is worth another attempt on another
// instance and safe to send again. It is the default policy of [Retry].
//
// Worth another attempt: an Unavailable error (a balancer without
// endpoints, a client that could not connect, a server that is shutting
// down or overloaded behind a breaker), an attempt cut short by its own
// timeout ([ErrAttemptTimeout]), and a transport error without a kit code
// of its own (a *net.OpError, a network timeout, a refused or reset
// connection, an unexpected EOF). No other code is: not InvalidArgument or
// NotFound, which would fail again, nor Canceled or DeadlineExceeded of
// the caller's context.
//
// Safe to send again: a call that provably did not reach the service's
// handler (the balancer had no endpoint, the connection was refused, the
// server said it did not process it) or an idempotent one, as the
// transports' clients mark their errors ([kit.RetrySafetyOf]: httpx and
// grpcx clients mark GET, HEAD, PUT, DELETE and OPTIONS calls and those
// built with an idempotent ClientCall, and kitgen's clients the methods with a
// //kit:idempotent directive). A call that failed after it was sent and is
// not idempotent is not retried, since the service may have done its
// work: a POST whose connection dropped after the server handled it runs
// once. [RetryUnsafeErrors] restores retrying every transient error.
func Retryable(err error) bool {
	return transient(err) && retrySafety(err) != kit.RetryUnsafe
}

// RetryUnsafeErrors is the policy of [Retryable] without its safety test:
// every transient error is retried, also one of a call that may have been
// processed and is not idempotent. Use it with [RetryIf] only for calls
// whose service deduplicates them (by a request id, say).
func RetryUnsafeErrors(err error) bool { return transient(err) }

// transient reports whether err is worth another attempt.
func transient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrAttemptTimeout) {
		return true
	}
	switch kit.CodeOf(err) {
	case kit.Unavailable:
		return true
	case kit.Unknown:
		return isTransport(err)
	}
	return false
}

// retrySafety is the safety of err as its client marked it, or
// RetryNotProcessed for the errors that show themselves the call never
// went out: no endpoint, or a connection that could not be made.
func retrySafety(err error) kit.RetrySafety {
	if s := kit.RetrySafetyOf(err); s != kit.RetryUnsafe {
		return s
	}
	var op *net.OpError
	if errors.Is(err, ErrNoEndpoints) || errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &op) && op.Op == "dial") {
		return kit.RetryNotProcessed
	}
	return kit.RetryUnsafe
}

func isTransport(err error) bool {
	var (
		op *net.OpError
		ne net.Error
	)
	return errors.As(err, &op) ||
		(errors.As(err, &ne) && ne.Timeout()) ||
		errors.Is(err, net.ErrClosed) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}

// A RetryError is the error of a call that [Retry] attempted more than once,
// or stopped because the caller's context ended or the budget was spent.
//
// Its kit code and public message ([kit.CodeOf], [kit.MessageOf]) are those
// of Final, and errors.Is and errors.As look at Final and then at every
// attempt's error: errors.Is(err, discovery.ErrNoEndpoints) holds if any
// attempt found no endpoint.
type RetryError struct {
	// Attempts holds the error of every attempt, in the order they
	// started: with hedging ([RetryHedgeAfter]) the hedged attempts too,
	// an attempt cancelled because another answered first with an error
	// that wraps [ErrAttemptSuperseded].
	Attempts []error
	// Final is the error that ended the call, as a *kit.Error: the last
	// attempt's error when it was not worth retrying or the attempts ran
	// out; the caller's context error (DeadlineExceeded or Canceled) when
	// the context ended; or the last attempt's code wrapping
	// [ErrBudgetExhausted] and the last error when the budget refused a
	// retry. A transport error is classified as Unavailable.
	Final *kit.Error
}

// Error lists the attempts' errors and the final error, and says why the
// last attempt was or was not retried: "(not retried: may have been
// processed and is not idempotent)" for a transient error that was not
// safe to send again, the safety of the retries otherwise.
func (e *RetryError) Error() string {
	var b strings.Builder
	b.WriteString("discovery: ")
	b.WriteString(strconv.Itoa(len(e.Attempts)))
	if len(e.Attempts) == 1 {
		b.WriteString(" attempt failed: ")
	} else {
		b.WriteString(" attempts failed: ")
	}
	b.WriteString(e.Final.Error())
	if n := len(e.Attempts); n > 0 {
		last := e.Attempts[n-1]
		switch s := retrySafety(last); {
		case transient(last) && s == kit.RetryUnsafe:
			b.WriteString(" (not retried: may have been processed and is not idempotent)")
		case n > 1:
			b.WriteString(" (retried: ")
			b.WriteString(retrySafety(e.Attempts[0]).String())
			b.WriteString(")")
		}
	}
	for i, err := range e.Attempts {
		b.WriteString("; attempt ")
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString(": ")
		b.WriteString(err.Error())
	}
	return b.String()
}

// Unwrap returns Final followed by every attempt's error.
func (e *RetryError) Unwrap() []error {
	errs := make([]error, 0, 1+len(e.Attempts))
	errs = append(errs, e.Final)
	return append(errs, e.Attempts...)
}

// KitCode returns the code of Final.
func (e *RetryError) KitCode() kit.Code { return e.Final.Code() }
