package limit

import (
	"context"
	"hash/maphash"
	"sync"

	"github.com/typedkit/kit"
)

// bulkheadShards is the number of independently locked parts of a
// Bulkhead's table of keys, so that calls for different keys seldom wait
// on one another.
const bulkheadShards = 32

// Bulkhead returns a middleware that lets at most n calls with the same key
// run at once, where key(req) gives a call's key (a tenant, a user, a
// downstream), and rejects a call whose key already has n calls running,
// at once, with a kit ResourceExhausted error that wraps
// [ErrConcurrencyLimited]; the endpoint is not called. Calls with other
// keys are not affected. The limit is exact for every key.
//
//	perTenant := limit.Bulkhead[Req, Resp](10, func(r Req) string { return r.TenantID })
//
// A key is forgotten as soon as it has no call running, so memory follows
// the number of keys in use at the same time, not the number of keys ever
// seen. As with [InFlight], the table is created when Bulkhead is called
// and shared by every endpoint the returned middleware wraps. Bulkhead
// panics if n is less than 1 or key is nil.
func Bulkhead[Req, Resp any](n int, key func(Req) string) kit.Middleware[Req, Resp] {
	if n < 1 {
		panic("limit: Bulkhead needs a limit of at least 1")
	}
	if key == nil {
		panic("limit: Bulkhead needs a key function")
	}
	b := newBulkhead(n)
	return func(next kit.Endpoint[Req, Resp]) kit.Endpoint[Req, Resp] {
		return func(ctx context.Context, req Req) (Resp, error) {
			k := key(req)
			s, e := b.acquire(k)
			if e == nil {
				var zero Resp
				return zero, errConcurrency
			}
			defer s.release(k, e)
			return next(ctx, req)
		}
	}
}

// bulkhead counts the calls running per key, in shards picked by a hash of
// the key.
type bulkhead struct {
	n      int
	seed   maphash.Seed
	shards []bulkheadShard
}

// A bulkheadShard holds the keys with calls running whose hash picks it.
// An entry that falls idle leaves the map for the free list, to be reused
// by the next new key, so that keys come and go without allocating once
// the shard has seen as many at once as it will.
type bulkheadShard struct {
	mu      sync.Mutex
	running map[string]*bulkheadEntry
	free    []*bulkheadEntry
	_       [24]byte // 64 bytes a shard, so that neighbours seldom share a cache line
}

// A bulkheadEntry counts the calls running for one key.
type bulkheadEntry struct{ n int }

func newBulkhead(n int) *bulkhead {
	b := &bulkhead{n: n, seed: maphash.MakeSeed(), shards: make([]bulkheadShard, bulkheadShards)}
	for i := range b.shards {
		b.shards[i].running = make(map[string]*bulkheadEntry)
	}
	return b
}

// acquire counts a call for k and returns its shard and entry, or a nil
// entry if k has n calls running.
func (b *bulkhead) acquire(k string) (*bulkheadShard, *bulkheadEntry) {
	s := &b.shards[maphash.String(b.seed, k)%bulkheadShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.running[k]
	if e == nil {
		if last := len(s.free) - 1; last >= 0 {
			e = s.free[last]
			s.free[last] = nil
			s.free = s.free[:last]
		} else {
			e = new(bulkheadEntry)
		}
		s.running[k] = e
	} else if e.n >= b.n {
		return s, nil
	}
	e.n++
	return s, e
}

// release ends a call for k, and forgets k when it was the last.
func (s *bulkheadShard) release(k string, e *bulkheadEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.n--; e.n == 0 {
		delete(s.running, k)
		s.free = append(s.free, e)
	}
}
