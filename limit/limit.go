package limit

import (
	"errors"
	"time"

	"github.com/typedkit/kit"
)

// ErrRateLimited is the cause of every call that a rate limit of this
// package rejects ([Erroring], [Delaying]). The caller receives a kit
// ResourceExhausted error that wraps it, which httpx answers with 429 Too
// Many Requests and grpcx with codes.ResourceExhausted.
var ErrRateLimited = errors.New("limit: rate limit exceeded")

// ErrConcurrencyLimited is the cause of every call that a concurrency limit
// of this package rejects ([InFlight], [Bulkhead]). The caller receives a
// kit ResourceExhausted error that wraps it.
var ErrConcurrencyLimited = errors.New("limit: concurrency limit reached")

// The errors the limits return, built once so that a rejection
// allocates nothing.
var (
	// Both carry a one-second Retry-After (kit.RetryAfterOf): the wait of
	// a token bucket at one call a second or more, and the resolution of
	// the header; a rejected call was not processed, so a client may retry
	// it.
	errRateLimited = kit.WrapError(kit.ResourceExhausted, kit.WithRetryAfter(ErrRateLimited, time.Second), "rate limit exceeded")
	errConcurrency = kit.WrapError(kit.ResourceExhausted, kit.WithRetryAfter(ErrConcurrencyLimited, time.Second), "too many requests in flight")
)
