package discovery

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// A Budget bounds the retries of one or more [Retry] endpoints, so that
// when a service fails as a whole, retries add at most a fixed share to the
// load instead of multiplying it by the number of attempts.
//
// It is a token bucket: every call adds ratio of a token, every retry takes
// a whole one, and the bucket also refills at minPerSecond tokens a second
// so that a client with little traffic can still retry. The bucket holds at
// most ten seconds of minPerSecond, and at least 10 tokens; it starts full.
// A Budget is safe for concurrent use. A nil *Budget allows every retry.
type Budget struct {
	ratio  int64 // milli-tokens a call adds
	perSec int64 // milli-tokens the bucket gains per second
	max    int64 // milli-tokens the bucket holds at most
	tokens atomic.Int64

	mu   sync.Mutex
	last time.Time // when the time-based refill last ran
}

const milli = 1000

// NewBudget returns a Budget that allows retries of up to ratio of the
// calls made (0.2: one retry for every five calls) plus minPerSecond
// retries a second. It panics if ratio is negative, infinite or NaN, or if
// minPerSecond is negative.
func NewBudget(ratio float64, minPerSecond int) *Budget {
	if !(ratio >= 0) || math.IsInf(ratio, 1) {
		panic("discovery: NewBudget: ratio must be a finite number >= 0")
	}
	if minPerSecond < 0 {
		panic("discovery: NewBudget: minPerSecond must be >= 0")
	}
	b := &Budget{
		ratio:  int64(math.Round(ratio * milli)),
		perSec: int64(minPerSecond) * milli,
		max:    max(10*int64(minPerSecond), 10) * milli,
		last:   time.Now(),
	}
	b.tokens.Store(b.max)
	return b
}

// Available returns the number of retries the budget allows now.
func (b *Budget) Available() int {
	if b == nil {
		return math.MaxInt
	}
	b.refill()
	return int(b.tokens.Load() / milli)
}

// deposit credits one call.
func (b *Budget) deposit() {
	if b == nil || b.ratio == 0 {
		return
	}
	b.add(b.ratio)
}

// withdraw takes the token for one retry, and reports whether there was one.
func (b *Budget) withdraw() bool {
	if b == nil {
		return true
	}
	b.refill()
	for {
		t := b.tokens.Load()
		if t < milli {
			return false
		}
		if b.tokens.CompareAndSwap(t, t-milli) {
			return true
		}
	}
}

// add puts d milli-tokens in the bucket, up to its size. It writes nothing
// when the bucket is full, so calls on a healthy service do not contend.
func (b *Budget) add(d int64) {
	for {
		t := b.tokens.Load()
		if t >= b.max {
			return
		}
		if b.tokens.CompareAndSwap(t, min(t+d, b.max)) {
			return
		}
	}
}

// refill adds the time-based tokens earned since the last refill.
func (b *Budget) refill() {
	if b.perSec == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	elapsed := min(now.Sub(b.last), 20*time.Second)
	if earned := b.perSec * int64(elapsed) / int64(time.Second); earned > 0 {
		b.last = now
		b.add(earned)
	}
}
