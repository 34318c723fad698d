package kit

import (
	"context"
	"time"
)

// A RetrySafety says whether a call that failed may be sent again without
// the risk of doing its work twice. Transports' clients mark the errors
// they return with it, and retry middleware (discovery.Retry) retries only
// errors that are safe.
type RetrySafety uint8

const (
	// RetryUnsafe marks an error of a call that may have been processed and
	// is not idempotent: sending it again might do its work twice. It is
	// the safety of an error that carries no mark.
	RetryUnsafe RetrySafety = iota
	// RetryNotProcessed marks an error of a call that provably did not
	// reach the service's handler: the connection was refused, no endpoint
	// was found, or the server answered that it did not process it (an
	// HTTP 429 or 503 with Retry-After, a gRPC status with RetryInfo).
	RetryNotProcessed
	// RetryIdempotent marks an error of an idempotent call (an HTTP GET,
	// HEAD, PUT, DELETE or OPTIONS, or a method marked idempotent), which
	// may be sent again whether or not it was processed.
	RetryIdempotent
)

// String returns "unsafe", "not processed" or "idempotent".
func (s RetrySafety) String() string {
	switch s {
	case RetryNotProcessed:
		return "not processed"
	case RetryIdempotent:
		return "idempotent"
	}
	return "unsafe"
}

// WithRetrySafety returns err marked with s; errors.Is, errors.As,
// [CodeOf] and [MessageOf] see through the mark. It returns nil for nil.
func WithRetrySafety(err error, s RetrySafety) error {
	if err == nil {
		return nil
	}
	return &retryMark{err: err, safety: s}
}

// RetrySafetyOf returns the mark of the first [WithRetrySafety] in err's
// chain, and RetryUnsafe when there is none or when a [Processed] mark
// comes first.
func RetrySafetyOf(err error) RetrySafety {
	if m, ok := firstRetryInfo(err, isRetryMark).(*retryMark); ok {
		return m.safety
	}
	return RetryUnsafe
}

// Processed returns err marked as the error of a call whose work was done,
// or may have been: the retry safety ([RetrySafetyOf]) and the wait
// ([RetryAfterOf]) of errors inside it are hidden, since they speak of
// calls the work made, not of the work. An endpoint that calls a
// downstream service and returns its error must not pass on that call's
// "not processed" or Retry-After to its own caller, who would send the
// work again. [Served] applies it to an endpoint's errors; generated
// Make<M>Endpoint functions use it. errors.Is, errors.As, [CodeOf] and
// [MessageOf] see through the mark. It returns nil for nil.
func Processed(err error) error {
	if err == nil {
		return nil
	}
	return &processed{err: err}
}

// Served returns ep with each error it returns that carries a retry safety
// or a wait marked [Processed]; other errors are returned as they are, so
// the call costs nothing more on success or on a plain failure.
func Served[Req, Resp any](ep Endpoint[Req, Resp]) Endpoint[Req, Resp] {
	return func(ctx context.Context, req Req) (Resp, error) {
		resp, err := ep(ctx, req)
		if err != nil {
			if f := firstRetryInfo(err, isRetryInfo); f != nil {
				if _, done := f.(*processed); !done {
					err = Processed(err)
				}
			}
		}
		return resp, err
	}
}

type processed struct{ err error }

func (p *processed) Error() string { return p.err.Error() }
func (p *processed) Unwrap() error { return p.err }

func isRetryMark(err error) bool {
	switch err.(type) {
	case *retryMark, *processed:
		return true
	}
	return false
}

func isRetryAfter(err error) bool {
	if _, ok := err.(*processed); ok {
		return true
	}
	_, ok := err.(RetryAfterer)
	return ok
}

func isRetryInfo(err error) bool { return isRetryMark(err) || isRetryAfter(err) }

// firstRetryInfo returns the first error in err's tree, depth first, that
// match accepts, or nil.
func firstRetryInfo(err error, match func(error) bool) error {
	for err != nil {
		if match(err) {
			return err
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if f := firstRetryInfo(e, match); f != nil {
					return f
				}
			}
			return nil
		default:
			return nil
		}
	}
	return nil
}

type retryMark struct {
	err    error
	safety RetrySafety
}

func (m *retryMark) Error() string { return m.err.Error() }
func (m *retryMark) Unwrap() error { return m.err }

// A RetryAfterer is an error that knows how long a caller should wait
// before it tries again, such as the rejection of a rate limit or an open
// circuit breaker. httpx sends it as a Retry-After header.
type RetryAfterer interface {
	error
	RetryAfter() time.Duration
}

// WithRetryAfter returns err with the wait d that [RetryAfterOf] reports.
// It returns nil for nil.
func WithRetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfter{err: err, after: d}
}

// RetryAfterOf returns the wait of the first [RetryAfterer] in err's
// chain, unless a [Processed] mark comes first.
func RetryAfterOf(err error) (time.Duration, bool) {
	if ra, ok := firstRetryInfo(err, isRetryAfter).(RetryAfterer); ok {
		return ra.RetryAfter(), true
	}
	return 0, false
}

type retryAfter struct {
	err   error
	after time.Duration
}

func (r *retryAfter) Error() string             { return r.err.Error() }
func (r *retryAfter) Unwrap() error             { return r.err }
func (r *retryAfter) RetryAfter() time.Duration { return r.after }
