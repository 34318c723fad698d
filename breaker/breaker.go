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

// DefaultMinCountedDeadline is the shortest deadline of a caller whose
// expiry a breaker counts against the service, unless
// [MinCountedDeadline] sets another: one second. A call whose caller's
// deadline passes after the caller gave it less is the caller's tight
// budget, not the service's fault; a call that was given a second or more
// and did not finish says the service is slow or hung.
const DefaultMinCountedDeadline = time.Second

// budget returns the time the caller's context gives a call that starts
// now, or -1 when it has no deadline. It reads the clock only for a
// context with a deadline.
func budget(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), 0)
	}
	return -1
}

// counts reports whether a call that returned err, made with ctx and
// given budget, counts as a failure of the service: classify says so, and
// the caller's context had not ended by the caller's own doing — it was
// not cancelled, and if its deadline passed, the caller had given the call
// at least floor. A failure a caller's cancellation or tight deadline
// caused is the caller's, and must not open a breaker other callers share.
func counts(ctx context.Context, err error, classify Classifier, budget, floor time.Duration) bool {
	if err == nil {
		return false
	}
	switch cerr := ctx.Err(); {
	case cerr == nil:
	case errors.Is(cerr, context.DeadlineExceeded):
		if budget >= 0 && budget < floor {
			return false
		}
	default:
		return false
	}
	return classify(err)
}

// settings are the options shared by the breakers and Fallback.
type settings struct {
	classify Classifier
	floor    time.Duration
}

func newSettings(def Classifier, opts []Option) settings {
	s := settings{classify: def, floor: DefaultMinCountedDeadline}
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

type floorOption struct{ d time.Duration }

func (o floorOption) apply(s *settings)                 { s.floor = o.d }
func (o floorOption) applyAdaptive(s *adaptiveSettings) { s.floor = o.d }

// MinCountedDeadline sets the shortest caller's deadline whose expiry
// counts as a failure of the service ([DefaultMinCountedDeadline] by
// default): set it to about the latency a healthy service never exceeds.
// Zero counts every deadline that passes; a cancelled caller never counts.
func MinCountedDeadline(d time.Duration) Option { return floorOption{d} }

// Classify sets the [Classifier] that picks the errors a breaker or
// [Fallback] acts on. For the breakers it picks the errors that count as failures (the
// default is [IsFailure]); for [Fallback] it picks the errors the fallback
// answers (the default is [IsTransient]). A nil Classifier keeps the
// default.
//
// To hand every error to a wrapped library's own classification, such as
// the IsSuccessful and IsExcluded fields of gobreaker.Settings, use a
// Classifier that reports true for every error.
func Classify(c Classifier) Option { return classifierOption{c} }
