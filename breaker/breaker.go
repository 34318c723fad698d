package breaker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/typedkit/kit"
)

// ErrOpen is the cause of every call a breaker of this package rejects:
// the circuit is open, a half-open circuit already has its probes in
// flight, a hystrix command has as many calls running as it allows, or
// [Adaptive] is throttling. The caller receives a kit Unavailable error
// that wraps ErrOpen: httpx answers it with 503 Service Unavailable, grpcx
// with codes.Unavailable, and errors.Is(err, ErrOpen) tells a rejection
// from a failure of the service.
var ErrOpen = errors.New("breaker: circuit open")

// errRejected is what a breaker returns for a call it rejects on its own
// account. It is built once, so a rejection allocates nothing.
var errRejected = rejected(nil)

// rejected returns the error of a call that a breaker (a wrapped library,
// when cause is not nil) rejected: a kit Unavailable error that wraps
// ErrOpen and cause. It carries a one-second Retry-After
// (kit.RetryAfterOf), which httpx sends as a header and grpcx as a
// RetryInfo detail: a rejected call was not processed, so a client may send
// it again, and a second is the interval at which the adaptive breaker
// lets probes through.
func rejected(cause error) *kit.Error {
	err := ErrOpen
	if cause != nil {
		err = fmt.Errorf("%w: %w", ErrOpen, cause)
	}
	return kit.WrapError(kit.Unavailable, kit.WithRetryAfter(err, time.Second), "")
}

// A Classifier reports whether err, the non-nil error of a call, belongs to
// a class of errors. For the breakers the class is the errors that count as
// failures of the service: a call whose error does not count is recorded
// as a success, for the service answered, if only to say that the caller
// was wrong. For [Fallback] the class is the errors the fallback answers.
type Classifier func(err error) bool

// IsFailure is the default [Classifier]. It counts the errors that say the
// service could not answer properly: those whose kit code is Unknown (which
// covers plain errors, such as those of a transport that could not reach the
// service), Internal, Unavailable, DeadlineExceeded or DataLoss. Errors that
// are the caller's fault (InvalidArgument, NotFound, AlreadyExists,
// PermissionDenied, Unauthenticated, FailedPrecondition, …), Unimplemented,
// ResourceExhausted and Canceled do not count.
func IsFailure(err error) bool {
	switch kit.CodeOf(err) {
	case kit.Unknown, kit.Internal, kit.Unavailable, kit.DeadlineExceeded, kit.DataLoss:
		return true
	}
	return false
}

// IsTransient reports whether err says the service could not answer this
// time but may answer later: a breaker rejected the call ([ErrOpen]), or
// its kit code is Unavailable or DeadlineExceeded. It is the default
// [Classifier] of [Fallback].
func IsTransient(err error) bool {
	if errors.Is(err, ErrOpen) {
		return true
	}
	switch kit.CodeOf(err) {
	case kit.Unavailable, kit.DeadlineExceeded:
		return true
	}
	return false
}

// An Option configures [Gobreaker], [Hystrix], [Handy], [Fallback] and
// [Adaptive]. Every Option is also an [AdaptiveOption].
type Option interface {
	AdaptiveOption
	apply(*settings)
}

// An AdaptiveOption configures [Adaptive].
type AdaptiveOption interface {
	applyAdaptive(*adaptiveSettings)
}

// settings are the options shared by every middleware of this package.
// counts reports whether a call that returned err, made with ctx, counts
// as a failure of the service: classify says so and the caller's context
// had not ended, since a failure the caller's own deadline or
// cancellation caused is the caller's, not the service's.
func counts(ctx context.Context, err error, classify Classifier) bool {
	return err != nil && ctx.Err() == nil && classify(err)
}

type settings struct {
	classify Classifier
}

func newSettings(def Classifier, opts []Option) settings {
	s := settings{classify: def}
	for _, o := range opts {
		o.apply(&s)
	}
	return s
}

type classifierOption struct{ c Classifier }

func (o classifierOption) apply(s *settings) {
	if o.c != nil {
		s.classify = o.c
	}
}

func (o classifierOption) applyAdaptive(s *adaptiveSettings) {
	if o.c != nil {
		s.classify = o.c
	}
}

// WithClassifier sets the [Classifier] that picks the errors a middleware
// acts on. For the breakers it picks the errors that count as failures (the
// default is [IsFailure]); for [Fallback] it picks the errors the fallback
// answers (the default is [IsTransient]). A nil Classifier keeps the
// default.
//
// To hand every error to a wrapped library's own classification, such as
// the IsSuccessful and IsExcluded fields of gobreaker.Settings, use a
// Classifier that reports true for every error.
func WithClassifier(c Classifier) Option { return classifierOption{c} }
