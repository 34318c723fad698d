package discovery

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/typedkit/kit"
)

// The defaults of [OutlierEjection], for its fields left zero.
const (
	// DefaultOutlierConsecutiveFailures is how many failures in a row
	// eject an instance: 5.
	DefaultOutlierConsecutiveFailures = 5
	// DefaultOutlierBaseEjectionTime is how long a first ejection lasts:
	// 30 seconds.
	DefaultOutlierBaseEjectionTime = 30 * time.Second
	// DefaultOutlierMaxEjectionTime caps how long an ejection lasts, however
	// often the instance was ejected: 300 seconds.
	DefaultOutlierMaxEjectionTime = 300 * time.Second
	// DefaultOutlierMaxEjectedPercent is the share of the instances that may
	// be ejected at once: 50%.
	DefaultOutlierMaxEjectedPercent = 50
)

// OutlierEjection configures the passive outlier ejection of an
// [Endpointer] ([EndpointerOutlierEjection]), after Envoy's outlier
// detection. A zero field takes its default.
type OutlierEjection struct {
	// ConsecutiveFailures is how many calls in a row must fail, as Failure
	// classifies them, for the instance to be ejected. The default is
	// DefaultOutlierConsecutiveFailures.
	ConsecutiveFailures int

	// BaseEjectionTime is how long a first ejection lasts. An instance
	// ejected again soon after it was re-admitted stays out longer: its
	// n-th ejection lasts n × BaseEjectionTime, up to MaxEjectionTime. The
	// count n goes down by one for every BaseEjectionTime the instance
	// spends admitted. The default is DefaultOutlierBaseEjectionTime.
	BaseEjectionTime time.Duration

	// MaxEjectionTime caps the length of an ejection; one below
	// BaseEjectionTime counts as BaseEjectionTime. The default is
	// DefaultOutlierMaxEjectionTime, or BaseEjectionTime if that is longer.
	MaxEjectionTime time.Duration

	// MaxEjectedPercent bounds the share of the instances ejected at once,
	// rounded down. One instance of two or more may always be ejected,
	// whatever the share, and the last instance never is: with three
	// instances and the default of 50%, at most one is out. Values above
	// 100 count as 100. The default is DefaultOutlierMaxEjectedPercent.
	MaxEjectedPercent int

	// Failure reports whether a call to an instance failed in a way that
	// speaks against the instance; ctx is the context the call was made
	// with. The default is [OutlierFailure].
	Failure func(ctx context.Context, err error) bool
}

// EndpointerOutlierEjection makes an [Endpointer] eject, for a while, an
// instance whose calls fail ConsecutiveFailures times in a row, so that a
// hung or crashed instance stops getting calls after a few failed attempts
// instead of until its health check or the instancer removes it.
//
// Every call through one of the endpointer's endpoints counts: a failure
// (as o.Failure classifies it; by default [OutlierFailure]: transport
// errors, Unavailable, and attempts cut short by their own timeout) adds
// one to the instance's count, which ejects it when it reaches
// ConsecutiveFailures. Any other outcome while the call's context is live
// resets the count: a success, or an answer such as InvalidArgument that
// shows the instance is there. A call whose context the caller cancelled,
// or whose deadline passed, neither counts nor resets. Counting is an
// atomic operation or two and allocates nothing, and OutlierFailure
// allocates nothing for an error with a kit code; only the ejection
// itself takes the endpointer's lock.
//
// An ejected instance stays known: [Endpointer.Instances] lists it,
// [Endpointer.Ejected] too, and its endpoint and connections are kept, but
// [Endpointer.Endpoints] and the balancers leave it out until a timer
// re-admits it, after BaseEjectionTime, longer if it was ejected recently
// (see [OutlierEjection]). An instance that still fails is ejected again
// after ConsecutiveFailures more failures. At most MaxEjectedPercent of
// the instances are out at once and never all of them: when the set
// shrinks so that too many are out, those whose ejection ends first are
// re-admitted at once. Ejections and re-admissions are logged, at Warn and
// Info, with the endpointer's logger ([EndpointerLogger]).
//
// Pair it with [RetryAttemptTimeout], so that an attempt to an instance
// that accepts connections but never answers ends and counts.
func EndpointerOutlierEjection(o OutlierEjection) EndpointerOption {
	cfg := &outlierConfig{
		threshold: int32(min(o.ConsecutiveFailures, 1<<30)),
		base:      o.BaseEjectionTime,
		max:       o.MaxEjectionTime,
		percent:   min(o.MaxEjectedPercent, 100),
		failure:   o.Failure,
	}
	if cfg.threshold <= 0 {
		cfg.threshold = DefaultOutlierConsecutiveFailures
	}
	if cfg.base <= 0 {
		cfg.base = DefaultOutlierBaseEjectionTime
	}
	if cfg.max <= 0 {
		cfg.max = max(DefaultOutlierMaxEjectionTime, cfg.base)
	}
	cfg.max = max(cfg.max, cfg.base)
	cfg.maxEjections = int(min(cfg.max/cfg.base, 1<<20)) + 1
	if cfg.percent <= 0 {
		cfg.percent = DefaultOutlierMaxEjectedPercent
	}
	if cfg.failure == nil {
		cfg.failure = OutlierFailure
	}
	return func(c *endpointerConfig) { c.outlier = cfg }
}

// OutlierFailure is the default classification of [OutlierEjection]: it
// reports whether a call made with ctx that failed with err speaks against
// the instance it went to.
//
// It does for errors of the transport or of an instance that cannot serve:
// an Unavailable error (a refused or dropped connection as the httpx and
// grpcx clients report it, a server shutting down or shedding load), a
// transport error without a kit code of its own (a *net.OpError, a reset
// connection, an unexpected EOF, a network timeout such as an HTTP client's
// own timeout), and an attempt cut short by its own deadline: a ctx that
// ended because a deadline set with the cause [ErrAttemptTimeout] passed,
// as [RetryAttemptTimeout] sets it (callers that bound attempts
// themselves can do the same with context.WithTimeoutCause).
//
// It does not for a ctx the caller cancelled or whose deadline passed (the
// caller gave up, which says nothing of the instance), nor for an answer
// the instance gave: InvalidArgument, NotFound, Internal, a
// DeadlineExceeded sent by the service, and every other code.
func OutlierFailure(ctx context.Context, err error) bool {
	if err == nil {
		return false
	}
	if ctx.Err() != nil {
		return errors.Is(context.Cause(ctx), ErrAttemptTimeout)
	}
	if errors.Is(err, ErrAttemptTimeout) {
		return true
	}
	switch codeOf(err) {
	case kit.Unavailable:
		return true
	case kit.Unknown, kit.DeadlineExceeded:
		return isTransport(err)
	}
	return false
}

// codeOf is kit.CodeOf without its allocation for the usual errors of a
// call: it follows single-error wrappers to the first *kit.Error, and asks
// kit.CodeOf when it meets anything else first (a kit.Coder, an As
// method, a joined error, or the end of the chain).
func codeOf(err error) kit.Code {
	for e := err; e != nil; {
		switch x := e.(type) {
		case *kit.Error:
			return x.Code()
		case kit.Coder, interface{ As(any) bool }:
			return kit.CodeOf(err)
		case interface{ Unwrap() error }:
			e = x.Unwrap()
		default:
			return kit.CodeOf(err)
		}
	}
	return kit.CodeOf(err)
}

// Ejected returns the instances that [EndpointerOutlierEjection] has
// ejected and not yet re-admitted, sorted: a subset of
// [Endpointer.Instances] whose endpoints [Endpointer.Endpoints] leaves out.
// It is empty without outlier ejection.
func (e *Endpointer[Req, Resp]) Ejected() []string {
	return slices.Clone(e.snap.Load().ejected)
}

type outlierConfig struct {
	threshold    int32
	base, max    time.Duration
	maxEjections int // beyond which the multiplier adds nothing
	percent      int
	failure      func(context.Context, error) bool
}

// allowed returns how many of n instances may be ejected at once.
func (o *outlierConfig) allowed(n int) int {
	return max(min(max(n*o.percent/100, 1), n-1), 0)
}

// newTarget returns the target of one instance: its endpoint counts the
// calls in flight and, with outlier ejection, their outcomes.
func (e *Endpointer[Req, Resp]) newTarget(instance string, raw kit.Endpoint[Req, Resp], closer io.Closer) *target[Req, Resp] {
	t := &target[Req, Resp]{instance: instance, raw: raw, closer: closer}
	o := e.cfg.outlier
	if o == nil {
		t.ep = func(ctx context.Context, req Req) (Resp, error) {
			t.inflight.Add(1)
			defer t.inflight.Add(-1)
			return t.raw(ctx, req)
		}
		return t
	}
	t.ep = func(ctx context.Context, req Req) (Resp, error) {
		t.inflight.Add(1)
		defer t.inflight.Add(-1)
		resp, err := t.raw(ctx, req)
		switch {
		case err == nil:
			if t.fails.Load() != 0 {
				t.fails.Store(0)
			}
		case o.failure(ctx, err):
			if t.fails.Add(1) >= o.threshold {
				e.eject(t)
			}
		case ctx.Err() == nil: // the instance answered
			if t.fails.Load() != 0 {
				t.fails.Store(0)
			}
		}
		return resp, err
	}
	return t
}

// eject takes t out of the snapshot, if it is still in the set, admitted,
// has failed often enough and the limit allows it.
func (e *Endpointer[Req, Resp]) eject(t *target[Req, Resp]) {
	o := e.cfg.outlier
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || t.ejected || e.targets[t.instance] != t {
		t.fails.Store(0) // so that the next failures do not take the lock at once
		return
	}
	if t.fails.Load() < o.threshold { // another failed call got here first
		return
	}
	failures := t.fails.Swap(0)
	n, out := len(e.targets), e.ejectedLocked()
	if out >= o.allowed(n) {
		e.cfg.logger.LogAttrs(context.Background(), slog.LevelDebug, "discovery: instance not ejected: ejection limit reached",
			slog.String("instance", t.instance), slog.Int("failures", int(failures)),
			slog.Int("ejected", out), slog.Int("instances", n))
		return
	}
	now := time.Now()
	if !t.admitted.IsZero() {
		t.ejections -= int(min(now.Sub(t.admitted)/o.base, 1<<20))
	}
	t.ejections = min(max(t.ejections, 0)+1, o.maxEjections)
	d := min(o.base*time.Duration(t.ejections), o.max)
	t.ejected, t.until = true, now.Add(d)
	t.gen++
	gen := t.gen
	e.timers.Add(1)
	t.timer = time.AfterFunc(d, func() { e.readmitAfter(t, gen) })
	e.publishLocked()
	e.cfg.logger.LogAttrs(context.Background(), slog.LevelWarn, "discovery: instance ejected",
		slog.String("instance", t.instance), slog.Int("failures", int(failures)),
		slog.Duration("for", d), slog.Int("ejections", t.ejections))
}

// readmitAfter is the timer of t's ejection number gen.
func (e *Endpointer[Req, Resp]) readmitAfter(t *target[Req, Resp], gen uint64) {
	defer e.timers.Done()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || t.gen != gen || !t.ejected || e.targets[t.instance] != t {
		return
	}
	e.readmitLocked(t)
	e.publishLocked()
	e.cfg.logger.LogAttrs(context.Background(), slog.LevelInfo, "discovery: instance re-admitted",
		slog.String("instance", t.instance))
}

// readmitLocked puts t back among the instances that balancers pick; the
// caller publishes.
func (e *Endpointer[Req, Resp]) readmitLocked(t *target[Req, Resp]) {
	e.stopEjectionLocked(t)
	t.ejected, t.until, t.admitted = false, time.Time{}, time.Now()
	t.gen++
	t.fails.Store(0)
}

// stopEjectionLocked stops the timer of t's ejection, if it has one.
func (e *Endpointer[Req, Resp]) stopEjectionLocked(t *target[Req, Resp]) {
	if t.timer != nil && t.timer.Stop() {
		e.timers.Done()
	}
	t.timer = nil
}

func (e *Endpointer[Req, Resp]) ejectedLocked() int {
	n := 0
	for _, t := range e.targets {
		if t.ejected {
			n++
		}
	}
	return n
}

// limitEjectedLocked re-admits, soonest ejection end first, the instances
// ejected beyond the limit for the current set, which may have shrunk.
func (e *Endpointer[Req, Resp]) limitEjectedLocked() {
	o := e.cfg.outlier
	if o == nil {
		return
	}
	for out, allowed := e.ejectedLocked(), o.allowed(len(e.targets)); out > allowed; out-- {
		var first *target[Req, Resp]
		for _, t := range e.targets {
			if t.ejected && (first == nil || t.until.Before(first.until)) {
				first = t
			}
		}
		e.readmitLocked(first)
		e.cfg.logger.LogAttrs(context.Background(), slog.LevelInfo, "discovery: instance re-admitted early: too many ejected",
			slog.String("instance", first.instance), slog.Int("ejected", out), slog.Int("instances", len(e.targets)))
	}
}
