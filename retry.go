package kit

import (
	"errors"
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
	// HTTP 503 with Retry-After, a gRPC UNAVAILABLE).
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
// chain, and RetryUnsafe when there is none.
func RetrySafetyOf(err error) RetrySafety {
	var m *retryMark
	if errors.As(err, &m) {
		return m.safety
	}
	return RetryUnsafe
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
// chain.
func RetryAfterOf(err error) (time.Duration, bool) {
	var ra RetryAfterer
	if errors.As(err, &ra) {
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
