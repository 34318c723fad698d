package limit

import (
	"strconv"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

func TestBulkheadTableEmptiesAfterUse(t *testing.T) {
	t.Parallel()
	b := newBulkhead(2)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 5000 {
				k := strconv.Itoa(g*5000 + i%50)
				if s, e := b.acquire(k); e != nil {
					s.release(k, e)
				}
			}
		})
	}
	wg.Wait()
	for i := range b.shards {
		s := &b.shards[i]
		assert.Empty(t, s.running, "shard %d", i)
		assert.LessOrEqual(t, len(s.free), 8*2, "shard %d: no more idle entries than keys ever in use at once", i)
	}
}

func TestBulkheadShardFillsACacheLine(t *testing.T) {
	t.Parallel()
	assert.Equal(t, uintptr(64), unsafe.Sizeof(bulkheadShard{}))
}
