package breaker

import (
	"context"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/typedkit/kit"
)

// The defaults of [Adaptive].
const (
	defaultK           = 2
	defaultWindow      = time.Second
	defaultBuckets     = 10
	defaultMinRequests = 20
	defaultProbe       = time.Second
)

// adaptiveSettings are the options of Adaptive.
type adaptiveSettings struct {
	k           float64
	window      time.Duration
	buckets     int
	minRequests int
	probe       time.Duration
	now         func() time.Time
	rand        func() float64
	classify    Classifier
	floor       time.Duration
}

type adaptiveOptionFunc func(*adaptiveSettings)

func (f adaptiveOptionFunc) applyAdaptive(s *adaptiveSettings) { f(s) }

// AdaptiveK sets K, the number of requests [Adaptive] lets through for each
// one the service accepts before it starts to reject calls itself. The
// default is 2. A smaller K throttles sooner and harder; a larger K lets
// more calls through to a service that fails. Adaptive panics if k is less
// than 1 or not a number: with K below 1 it would reject calls to a service
// that accepts every one.
func AdaptiveK(k float64) AdaptiveOption {
	return adaptiveOptionFunc(func(s *adaptiveSettings) { s.k = k })
}

// AdaptiveWindow sets the span of history [Adaptive] counts, and the number of
// buckets it is kept in: the history slides forward one bucket,
// window/buckets, at a time. The default is one second in ten buckets.
// A shorter window reacts and recovers sooner and is noisier: after a
// service comes back, the calls that go through roughly double each
// window, so a client that was rejecting almost every call is back to none
// in about four windows (with the default, under four seconds at 100 or
// 1,000 calls a second; TestAdaptiveRecoveryTime measures it). A longer
// window suits services with little traffic, since the window must hold
// the minimum of requests before any call is rejected. Adaptive panics if window/buckets is not
// positive.
func AdaptiveWindow(window time.Duration, buckets int) AdaptiveOption {
	return adaptiveOptionFunc(func(s *adaptiveSettings) { s.window, s.buckets = window, buckets })
}

// AdaptiveMinRequests sets how many requests the window must hold before
// [Adaptive] rejects any call, so that a few failures at low traffic do not
// throttle. The default is 20; n ≤ 0 means no minimum.
func AdaptiveMinRequests(n int) AdaptiveOption {
	return adaptiveOptionFunc(func(s *adaptiveSettings) { s.minRequests = n })
}

// AdaptiveProbeInterval sets how often [Adaptive], while it rejects calls,
// lets one through whatever the odds, so that it learns soon when the
// service is back even when it rejects almost everything: while
// throttling, a call goes through if none has in the last d. The default
// is one second; d ≤ 0 turns probes off.
func AdaptiveProbeInterval(d time.Duration) AdaptiveOption {
	return adaptiveOptionFunc(func(s *adaptiveSettings) { s.probe = d })
}

// AdaptiveClock sets the clock [Adaptive] reads, for tests that move time by
// hand; the breakers of every method share it. The default is time.Now.
func AdaptiveClock(now func() time.Time) AdaptiveOption {
	return adaptiveOptionFunc(func(s *adaptiveSettings) { s.now = now })
}

// AdaptiveRand sets the source of the random numbers in [0, 1) that [Adaptive]
// draws to reject calls, for tests that need the same draws on every run.
// The breakers of every method share it, so it must be safe for
// concurrent use unless calls are made one at a time. The default is
// math/rand/v2's Float64.
func AdaptiveRand(random func() float64) AdaptiveOption {
	return adaptiveOptionFunc(func(s *adaptiveSettings) { s.rand = random })
}

// Adaptive returns an interceptor that throttles calls on the client's
// side as the Google SRE book describes ("Handling Overload", client-side
// throttling): it counts, over a sliding window, the requests the
// application made (including those it rejected itself) and the requests
// the service accepted, and rejects each new call with probability
//
//	max(0, (requests − K·accepts) / (requests + 1))
//
// It is the breaker this package recommends. It has no threshold to tune
// and no hard open state: while the service accepts calls the probability
// is zero; as the service fails, the probability rises smoothly and the
// client sends the service about K times what it accepts; when the service
// recovers, the probability falls as accepts come back. See the package
// documentation for the parameters, all of which have defaults.
//
// A call counts as accepted when it succeeds or fails with an error that
// the [Classifier] ([IsFailure] unless [Classify] says otherwise)
// does not count as a failure. A panic in the rest of the chain counts as
// a failure and goes on up. A rejected call does not reach the rest of the
// chain and returns a kit Unavailable error that wraps [ErrOpen].
//
// Each method the interceptor wraps gets a breaker of its own, made when
// the interceptor is called for the method as the endpoints are built:
// a method that fails is throttled while the others go on. The options are
// checked when Adaptive is called, which panics on invalid ones. A call
// that is let through while the service is healthy costs a few atomic
// operations and no allocation, lock or clock read on most calls.
func Adaptive(opts ...AdaptiveOption) kit.Interceptor {
	s := adaptiveSettingsOf(opts)
	return func(_ kit.Call, next kit.Invoker) kit.Invoker {
		a := newAdaptiveFrom(s)
		return func(ctx context.Context, c kit.Call) (err error) {
			if !a.allow() {
				return errRejected
			}
			done := false
			defer func() {
				if !done { // the rest of the chain panicked
					a.failure()
				}
			}()
			b := budget(ctx)
			err = next(ctx, c)
			done = true
			switch {
			case err == nil:
				a.success()
			case counts(ctx, err, a.classify, b, a.floor):
				a.failure()
			case ctx.Err() != nil:
				// The caller's cancellation or tight deadline ended the
				// call: it says nothing of the service, so it is not
				// counted at all.
			default:
				a.success()
			}
			return err
		}
	}
}

// adaptive is the state of the breaker of one method of an Adaptive
// interceptor.
//
// Time, in nanoseconds since the breaker was made, is cut into buckets
// of bucket nanoseconds; bucket number epoch is the newest. slots holds the
// counts of the newest len(slots) buckets, bucket e in slots[e%len(slots)],
// each packed into one word: accepts in the high 32 bits, requests in the
// low 32. When the epoch moves on, the slots it passes are zeroed, so a sum
// over all slots is a sum over the window. total holds that sum, kept up
// to date with every change to a slot. A bucket counts at most 2³²−1
// calls, far more than any service makes in one.
//
// Successes, the common case, are not put in a slot at once: they are
// added to pending, which needs no clock, and moved into the newest bucket
// by the next tick. A tick reads the clock, moves the epoch on and empties
// pending; it runs on every failure and rejection, whenever the counts say
// a call may be rejected, and when a shard of pending reaches flushAt, a
// number that keeps pending below about an eighth of a bucket's calls (and
// each shard at most 64). So the counts a healthy call is judged by may lag
// the clock, and only in the direction that lets calls through: since the
// last tick every call succeeded. Any call the counts might reject is
// judged after a tick.
type adaptive struct {
	// Set when made, then only read.
	k         float64
	min       uint64
	bucket    int64 // nanoseconds
	probe     int64 // nanoseconds; 0 turns probes off
	slots     []atomic.Uint64
	pending   []shard          // successes not yet in a slot; see shard
	shardBits uint             // len(pending) is 1<<shardBits
	clock     func() time.Time // nil: the monotonic clock through time.Since
	start     time.Time
	random    func() float64
	classify  Classifier
	floor     time.Duration

	_         [64]byte      // keep what ticks write off the lines of the above
	total     atomic.Uint64 // the sum of slots, packed the same way
	flushAt   atomic.Uint64 // the count of a shard of pending that triggers a tick
	epoch     atomic.Int64  // the newest bucket
	lastPass  atomic.Int64  // when a call last went through while throttling
	advancing sync.Mutex    // held by advance
}

// A shard is one part of adaptive.pending. Shards are 128 bytes apart, so
// that successes on different goroutines seldom write the same cache line,
// nor lines that the processor fetches as a pair (as Intel's adjacent-line
// prefetcher does).
type shard struct {
	n atomic.Uint64
	_ [120]byte
}

const requestsMask = 1<<32 - 1

// adaptiveSettingsOf returns the settings opts give, and panics if they
// are invalid.
func adaptiveSettingsOf(opts []AdaptiveOption) adaptiveSettings {
	s := adaptiveSettings{
		k:           defaultK,
		window:      defaultWindow,
		buckets:     defaultBuckets,
		minRequests: defaultMinRequests,
		probe:       defaultProbe,
		rand:        rand.Float64,
		classify:    IsFailure,
		floor:       DefaultMinCountedDeadline,
	}
	for _, o := range opts {
		o.applyAdaptive(&s)
	}
	if !(s.k >= 1) || math.IsInf(s.k, 0) {
		panic("breaker: Adaptive needs a finite K of at least 1")
	}
	if s.buckets < 1 || s.window <= 0 || s.window/time.Duration(s.buckets) <= 0 {
		panic("breaker: Adaptive needs a positive window and at least one bucket, each of a positive duration")
	}
	return s
}

func newAdaptive(opts []AdaptiveOption) *adaptive { return newAdaptiveFrom(adaptiveSettingsOf(opts)) }

// newAdaptiveFrom returns a breaker of settings that adaptiveSettingsOf
// checked.
func newAdaptiveFrom(s adaptiveSettings) *adaptive {
	shardBits := uint(bits.Len(uint(min(4*runtime.GOMAXPROCS(0), maxShards) - 1)))
	a := &adaptive{
		pending:   make([]shard, 1<<shardBits),
		shardBits: shardBits,
		k:         s.k,
		min:       uint64(max(s.minRequests, 0)),
		bucket:    int64(s.window / time.Duration(s.buckets)),
		probe:     int64(max(s.probe, 0)),
		slots:     make([]atomic.Uint64, s.buckets),
		clock:     s.now,
		random:    s.rand,
		classify:  s.classify,
		floor:     s.floor,
	}
	if a.random == nil {
		a.random = rand.Float64
	}
	if a.clock != nil {
		a.start = a.clock()
	} else {
		a.start = time.Now()
	}
	a.flushAt.Store(1)
	return a
}

// now returns the time in nanoseconds since a was made.
func (a *adaptive) now() int64 {
	var d time.Duration
	if a.clock == nil {
		d = time.Since(a.start)
	} else {
		d = a.clock().Sub(a.start)
	}
	return max(int64(d), 0)
}

// counts returns the requests and accepts in the window.
func (a *adaptive) counts() (requests, accepts uint64) {
	var p uint64
	for i := range a.pending {
		p += a.pending[i].n.Load()
	}
	requests, accepts = a.bucketed()
	return requests + p, accepts + p
}

// bucketed returns the requests and accepts in the window's buckets,
// leaving out pending.
func (a *adaptive) bucketed() (requests, accepts uint64) {
	for i := range a.slots {
		w := a.slots[i].Load()
		requests += w & requestsMask
		accepts += w >> 32
	}
	return requests, accepts
}

// throttling reports whether counts give a call a chance of rejection.
func (a *adaptive) throttling(requests, accepts uint64) bool {
	return requests >= a.min && float64(requests) > a.k*float64(accepts)
}

// allow decides whether a call goes through.
//
// The first test reads only total and asks only whether requests exceed K
// times accepts. Leaving pending out spares every call a read of the words
// that other calls write, and is safe: pending holds only successes, each
// of which adds one to requests and one to accepts, so with K ≥ 1 a window
// in which requests do not exceed K times accepts without pending does not
// with it either. Calls that this test cannot let through are judged again
// after a tick, on exact counts, which is also where the minimum is
// applied. While another goroutine updates the slots, total may for an
// instant be out of step with them; a call that races with an update is
// judged as if it came just before or just after it.
func (a *adaptive) allow() bool {
	t := a.total.Load()
	if float64(t&requestsMask) <= a.k*float64(t>>32) {
		return true
	}
	return a.allowSlow()
}

func (a *adaptive) allowSlow() bool {
	now := a.tick()
	requests, accepts := a.counts()
	if !a.throttling(requests, accepts) {
		return true
	}
	last := a.lastPass.Load()
	if a.probe > 0 && now-last >= a.probe && a.lastPass.CompareAndSwap(last, now) {
		return true
	}
	p := (float64(requests) - a.k*float64(accepts)) / float64(requests+1)
	if a.random() < p {
		a.add(1, 0) // a rejected call is a request the service did not accept
		return false
	}
	a.lastPass.Store(now)
	return true
}

// success records a call the service accepted.
func (a *adaptive) success() {
	if a.pending[a.shard()].n.Add(1) >= a.flushAt.Load() {
		a.tick()
	}
}

// maxShards bounds the number of shards of pending.
const maxShards = 64

// shard returns the index of the shard of pending that the calling
// goroutine uses: a hash of the address of a variable on its stack.
// Goroutines have stacks of their own, so calls running at the same time on
// different goroutines tend to use different shards, for the cost of a few
// multiplications. Stacks lie at regular distances from one another, so
// the address goes through a full 64-bit mixer (the finalizer of
// MurmurHash3), which spreads such regular inputs evenly. The address is
// only hashed, never used as a pointer; should the stack move, the
// goroutine merely changes shard.
func (a *adaptive) shard() uint64 {
	var onStack byte
	x := uint64(uintptr(unsafe.Pointer(&onStack))) >> 10
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x >> (64 - a.shardBits)
}

// failure records a call the service did not accept.
func (a *adaptive) failure() {
	a.tick()
	a.add(1, 0)
}

// add adds to the counts of the newest bucket.
func (a *adaptive) add(requests, accepts uint64) {
	e := uint64(a.epoch.Load())
	a.addTo(&a.slots[e%uint64(len(a.slots))], accepts<<32|requests)
}

// addTo adds packed counts to slot and to total.
func (a *adaptive) addTo(slot *atomic.Uint64, packed uint64) {
	slot.Add(packed)
	a.total.Add(packed)
}

// tick reads the clock, moves the epoch on if a bucket has passed, moves
// pending successes into the newest bucket, sets flushAt, and returns the
// time.
func (a *adaptive) tick() int64 {
	now := a.now()
	e := now / a.bucket
	if cur := a.epoch.Load(); e > cur {
		a.advance(e)
	} else {
		e = cur
	}
	slot := &a.slots[uint64(e)%uint64(len(a.slots))]
	var p uint64
	for i := range a.pending {
		if sh := &a.pending[i].n; sh.Load() != 0 {
			p += sh.Swap(0)
		}
	}
	if p != 0 {
		a.addTo(slot, p<<32|p)
	}
	// Let pending grow, over all shards, to an eighth of the calls this
	// bucket is on course to hold at the rate seen so far in it (judged
	// over at least an eighth of the bucket, so that the first calls of a
	// bucket do not predict a flood), and no shard beyond 64.
	calls := float64(slot.Load() & requestsMask)
	elapsed := float64(max(now-e*a.bucket, a.bucket/8, 1))
	perShard := calls * float64(a.bucket) / (8 * elapsed * float64(len(a.pending)))
	if f := uint64(min(max(perShard, 1), 64)); f != a.flushAt.Load() {
		a.flushAt.Store(f)
	}
	return now
}

// advance makes e the newest bucket, zeroing the slots of the buckets it
// passes.
func (a *adaptive) advance(e int64) {
	a.advancing.Lock()
	defer a.advancing.Unlock()
	cur := a.epoch.Load()
	if e <= cur {
		return
	}
	n := int64(len(a.slots))
	for i := cur + 1; i <= e && i <= cur+n; i++ {
		// Subtracting in two's complement keeps total equal to the sum of
		// the slots however the adds of other goroutines interleave.
		a.total.Add(-a.slots[i%n].Swap(0))
	}
	a.epoch.Store(e)
}
