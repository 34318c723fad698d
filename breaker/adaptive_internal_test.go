package breaker

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// hammer records outcomes on a from several goroutines at once: every third
// call a failure, the others successes.
func hammer(a *adaptive, goroutines, calls int, during func()) (requests, accepts uint64) {
	var r, acc atomic.Uint64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for i := range calls {
				if !a.allow() {
					r.Add(1)
					continue
				}
				r.Add(1)
				if i%3 == 0 {
					a.failure()
				} else {
					acc.Add(1)
					a.success()
				}
			}
		})
	}
	if during != nil {
		during()
	}
	wg.Wait()
	return r.Load(), acc.Load()
}

func slotSum(a *adaptive) uint64 {
	var sum uint64
	for i := range a.slots {
		sum += a.slots[i].Load()
	}
	return sum
}

func TestAdaptiveCountsAreExactWithoutClockMoves(t *testing.T) {
	t.Parallel()
	now := time.Unix(0, 0)
	a := newAdaptive([]AdaptiveOption{AdaptiveClock(func() time.Time { return now })})
	requests, accepts := hammer(a, 8, 3000, nil)
	gotRequests, gotAccepts := a.counts()
	assert.Equal(t, requests, gotRequests)
	assert.Equal(t, accepts, gotAccepts)
	a.tick()
	assert.Equal(t, slotSum(a), a.total.Load(), "total is the sum of the slots")
	assert.Equal(t, requests|accepts<<32, a.total.Load(), "a tick moves every pending success into a slot")
}

func TestAdaptiveTotalFollowsSlotsAcrossRotations(t *testing.T) {
	t.Parallel()
	var ns atomic.Int64
	a := newAdaptive([]AdaptiveOption{
		AdaptiveClock(func() time.Time { return time.Unix(0, ns.Load()) }),
		AdaptiveWindow(100*time.Millisecond, 4),
	})
	stop := make(chan struct{})
	hammer(a, 8, 3000, func() {
		go func() {
			defer close(stop)
			for range 2000 {
				ns.Add(int64(time.Millisecond))
			}
		}()
	})
	<-stop
	a.tick()
	assert.Equal(t, slotSum(a), a.total.Load(), "total is the sum of the slots")
	ns.Add(int64(time.Second))
	a.tick()
	assert.Zero(t, a.total.Load(), "a window with no calls is empty")
	assert.Zero(t, slotSum(a))
}

func TestAdaptiveShardInRange(t *testing.T) {
	t.Parallel()
	a := newAdaptive(nil)
	assert.GreaterOrEqual(t, len(a.pending), 4)
	assert.Equal(t, 1<<a.shardBits, len(a.pending))
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 100 {
				assert.Less(t, a.shard(), uint64(len(a.pending)))
			}
		})
	}
	wg.Wait()
}
