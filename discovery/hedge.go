package discovery

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/typedkit/kit"
)

// ErrAttemptSuperseded is the cause of the context of a hedged attempt that
// [Retry] cancelled because another attempt of the call answered first,
// and it is wrapped in that attempt's error when a [RetryError] lists it.
// [OutlierFailure] does not count such an attempt against its instance.
var ErrAttemptSuperseded = errors.New("discovery: attempt cancelled: another attempt answered first")

// RetryHedgeAfter makes [Retry] hedge idempotent calls: when an attempt
// has not answered d after it started, another attempt starts on another
// instance while the first goes on, and so on every d until the attempts
// run out. The first answer that is a success or an error not worth a
// retry (InvalidArgument, …) is the call's; the other attempts' contexts
// are then cancelled, with the cause [ErrAttemptSuperseded], and Retry
// returns without waiting for them (their goroutines end when their
// endpoints return, which the transports' clients do at once), unless the
// call fails: then it waits for them, to list them all in its
// [RetryError]. An attempt that fails with an error worth a retry is
// retried at once, as without hedging. A panic in an attempt's endpoint
// goes on in the caller's goroutine.
//
// Hedging cuts the latency that a slow instance adds, for the cost of the
// extra attempts. It works only together with [RetryIdempotentCalls]:
// without it Retry does not hedge, since a hedged call that is not
// idempotent could do its work twice. A hedge is an attempt like a retry:
// it counts against [RetryMaxAttempts] (so the default of 3 allows two
// hedges, and 1 none) and takes a token from the [Budget]; when the budget
// is empty, no hedge is sent and the call waits for the attempts under
// way. Each attempt has its own [RetryAttemptTimeout], if one is set.
//
// With [RoundRobin] and [Random] the attempts of a call go to distinct
// instances; with [PowerOfTwoChoices] a hedge is another pick, which the
// first attempt's call in flight steers away from its instance.
//
// A d of zero or less turns hedging off. Of RetryHedgeAfter and
// [RetryHedgeAtPercentile], the last one given applies. A hedged call costs
// a cancellable context, a timer, a channel, and a goroutine and a few
// allocations for each attempt; a call of a Retry endpoint without hedging
// costs none of them.
func RetryHedgeAfter(d time.Duration) RetryOption {
	return func(c *retryConfig) { c.hedge = hedgeConfig{after: max(d, 0)} }
}

// RetryHedgeAtPercentile is [RetryHedgeAfter] with a delay that follows
// the latency of the calls: the p-quantile of the latencies of the last
// 256 attempts that succeeded through this Retry endpoint (p is a fraction:
// 0.95 for the 95th percentile), bounded to [minDelay, maxDelay]. Until
// 16 attempts have succeeded the delay is minDelay. Recording a latency
// takes two atomic operations; the quantile is computed again every 16
// successes, from a copy of the samples on the stack. Like RetryHedgeAfter
// it works only together with [RetryIdempotentCalls].
//
// The latency recorded is that of the attempt that answered, not of the
// call, so the attempts of a slow instance that hedges beat are not
// counted; its answers that win are. The delay starts low and, as long as
// hedges beat the slow instance, stays among the healthy instances'
// latencies. But should the slow answers come to win more than 1 - p of
// the calls (after a time when every instance was slow, say), they hold
// the delay among their own latencies, up to maxDelay. To rule that out,
// choose p below the share of the calls that the healthy instances serve
// (below 2/3 with one instance in three slow), or bound the delay with a
// maxDelay you can afford. A lower p sends more hedges: about 1 - p of the
// calls to healthy instances are hedged too. BenchmarkHedging measures the
// trade.
//
// It panics unless 0 < p ≤ 1 and 0 ≤ minDelay ≤ maxDelay, and maxDelay > 0.
func RetryHedgeAtPercentile(p float64, minDelay, maxDelay time.Duration) RetryOption {
	if !(p > 0 && p <= 1) {
		panic("discovery: RetryHedgeAtPercentile: p must be a fraction in (0, 1]")
	}
	if minDelay < 0 || maxDelay < minDelay || maxDelay <= 0 {
		panic("discovery: RetryHedgeAtPercentile: need 0 <= minDelay <= maxDelay and maxDelay > 0")
	}
	return func(c *retryConfig) {
		c.hedge = hedgeConfig{quantile: p, minDelay: minDelay, maxDelay: maxDelay}
	}
}

type hedgeConfig struct {
	after              time.Duration // fixed delay, or zero
	quantile           float64       // or the quantile of the latencies, when > 0
	minDelay, maxDelay time.Duration
}

func (h hedgeConfig) on() bool { return h.after > 0 || h.quantile > 0 }

// A hedgeResult is the outcome of attempt n.
type hedgeResult[Resp any] struct {
	resp     Resp
	err      error
	n        int
	took     time.Duration
	panicked any // what the endpoint panicked with, or nil
}

// hedged returns the Retry endpoint with hedging: see RetryHedgeAfter.
func hedged[Req, Resp any](b Balancer[Req, Resp], ab attemptBalancer[Req, Resp], cfg retryConfig) kit.Endpoint[Req, Resp] {
	delay := func() time.Duration { return cfg.hedge.after }
	var lat *latencies
	if cfg.hedge.quantile > 0 {
		lat = newLatencies(cfg.hedge.quantile, cfg.hedge.minDelay, cfg.hedge.maxDelay)
		delay = lat.delay
	}
	return func(ctx context.Context, req Req) (Resp, error) {
		var zero Resp
		cfg.budget.deposit()
		var turn uint64
		if ab != nil {
			turn = ab.startCall()
		}
		hctx, cancel := context.WithCancelCause(ctx)
		defer cancel(ErrAttemptSuperseded)

		// Every attempt sends one result, into a buffer that holds them
		// all: an attempt that ends after the call returned never blocks.
		results := make(chan hedgeResult[Resp], cfg.attempts)
		errs := make([]error, 0, cfg.attempts) // by attempt; nil while running
		running := 0
		launch := func() {
			n := len(errs)
			errs = append(errs, nil)
			running++
			pick := b.Endpoint
			if ab != nil {
				pick = func() (kit.Endpoint[Req, Resp], error) { return ab.endpointFor(turn, n) }
			}
			go func() {
				// A panic goes on in the caller's goroutine, as without
				// hedging, rather than ending the process here.
				defer func() {
					if p := recover(); p != nil {
						results <- hedgeResult[Resp]{n: n, panicked: p}
					}
				}()
				start := time.Now()
				resp, err := attempt(hctx, pick, req, cfg.timeout)
				results <- hedgeResult[Resp]{resp: resp, err: err, n: n, took: time.Since(start)}
			}()
		}
		mark := func(err error) error {
			if kit.RetrySafetyOf(err) == kit.RetryUnsafe {
				err = kit.WithRetrySafety(err, kit.RetryIdempotent)
			}
			return err
		}
		// settle cancels the attempts still running and waits for them, so
		// that a RetryError lists them all. One that succeeds meanwhile
		// is the call's answer after all.
		settle := func() (Resp, bool) {
			cancel(ErrAttemptSuperseded)
			for ; running > 0; running-- {
				r := <-results
				if r.panicked != nil {
					panic(r.panicked)
				}
				if r.err == nil {
					return r.resp, true
				}
				err := mark(r.err)
				if ctx.Err() == nil && errors.Is(err, context.Canceled) && !errors.Is(err, ErrAttemptSuperseded) {
					err = fmt.Errorf("%w: %w", ErrAttemptSuperseded, err)
				}
				errs[r.n] = err
			}
			return zero, false
		}

		launch()
		timer := time.NewTimer(delay())
		defer timer.Stop()
		failures := 0
		for {
			select {
			case <-timer.C:
				if len(errs) < cfg.attempts && cfg.budget.withdraw() {
					launch()
				}
				if len(errs) < cfg.attempts {
					timer.Reset(delay())
				}
				continue
			case r := <-results:
				running--
				if r.panicked != nil {
					panic(r.panicked)
				}
				if r.err == nil {
					if lat != nil {
						lat.record(r.took)
					}
					return r.resp, nil
				}
				err := mark(r.err)
				errs[r.n] = err
				failures++
				switch {
				case ctx.Err() != nil:
					if resp, ok := settle(); ok {
						return resp, nil
					}
					return zero, &RetryError{Attempts: errs, Final: kit.WrapError(kit.CodeOf(ctx.Err()), context.Cause(ctx), "")}
				case !cfg.retryable(err):
					if failures == 1 {
						return zero, err // the answer, as without hedging
					}
					if resp, ok := settle(); ok {
						return resp, nil
					}
					return zero, &RetryError{Attempts: errs, Final: finalError(err)}
				case len(errs) < cfg.attempts && cfg.budget.withdraw():
					launch()
					timer.Reset(delay())
				case running > 0:
					// Wait for the attempts under way.
				case len(errs) < cfg.attempts:
					final := finalError(err)
					return zero, &RetryError{Attempts: errs, Final: kit.WrapError(final.Code(),
						fmt.Errorf("%w: %w", ErrBudgetExhausted, err), final.Message())}
				default:
					return zero, &RetryError{Attempts: errs, Final: finalError(err)}
				}
			}
		}
	}
}

const (
	latencySamples    = 256 // a power of two
	latencyRecompute  = 16  // successes between two computations of the quantile
	latencyMinSamples = 16  // successes before the quantile replaces maxDelay
)

// latencies keeps the latest latencySamples latencies of successful
// attempts in a ring and, every latencyRecompute records, the bounded
// quantile of them as the hedging delay.
type latencies struct {
	q                  float64
	minDelay, maxDelay int64
	n                  atomic.Uint64 // records so far
	ring               [latencySamples]atomic.Int64
	current            atomic.Int64 // the delay, in nanoseconds
	mu                 sync.Mutex   // one computation at a time
}

// newLatencies starts at minDelay: eager hedging until there are samples
// keeps a slow instance's answers from setting the first delay.
func newLatencies(q float64, minDelay, maxDelay time.Duration) *latencies {
	l := &latencies{q: q, minDelay: int64(minDelay), maxDelay: int64(maxDelay)}
	l.current.Store(l.minDelay)
	return l
}

// delay returns the current hedging delay.
func (l *latencies) delay() time.Duration { return time.Duration(l.current.Load()) }

// record adds the latency of a successful attempt.
func (l *latencies) record(d time.Duration) {
	i := l.n.Add(1) - 1
	l.ring[i%latencySamples].Store(int64(d))
	if n := i + 1; n >= latencyMinSamples && n%latencyRecompute == 0 && l.mu.TryLock() {
		l.compute(int(min(n, latencySamples)))
		l.mu.Unlock()
	}
}

// compute stores the quantile of the first n samples of the ring.
func (l *latencies) compute(n int) {
	var buf [latencySamples]int64
	s := buf[:n]
	for i := range s {
		s[i] = l.ring[i].Load()
	}
	slices.Sort(s)
	k := int(math.Ceil(l.q*float64(n))) - 1
	l.current.Store(min(max(s[min(max(k, 0), n-1)], l.minDelay), l.maxDelay))
}
