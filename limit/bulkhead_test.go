package limit_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/limit"
)

// tenantOf is a key function: the tenant is what comes before the slash.
func tenantOf(req string) string {
	tenant, _, _ := strings.Cut(req, "/")
	return tenant
}

// keyedGate is an endpoint whose calls ending in "/hold" block until
// released, and that tracks, per tenant, how many calls run at once.
type keyedGate struct {
	entered chan struct{}
	release chan struct{}
	mu      sync.Mutex
	running map[string]int
	peak    map[string]int
}

func newKeyedGate() *keyedGate {
	return &keyedGate{
		entered: make(chan struct{}, 100),
		release: make(chan struct{}),
		running: map[string]int{},
		peak:    map[string]int{},
	}
}

func (g *keyedGate) endpoint(_ context.Context, req string) (string, error) {
	tenant := tenantOf(req)
	g.mu.Lock()
	g.running[tenant]++
	g.peak[tenant] = max(g.peak[tenant], g.running[tenant])
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.running[tenant]--
		g.mu.Unlock()
	}()
	if strings.HasSuffix(req, "/hold") {
		g.entered <- struct{}{}
		<-g.release
	}
	return req, nil
}

func (g *keyedGate) peakOf(tenant string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.peak[tenant]
}

func TestBulkheadPerKey(t *testing.T) {
	t.Parallel()
	const n = 2
	g := newKeyedGate()
	ep := limit.Bulkhead[string, string](n, tenantOf)(g.endpoint)

	var held sync.WaitGroup
	for range n {
		held.Go(func() {
			_, err := ep(context.Background(), "acme/hold")
			assert.NoError(t, err)
		})
	}
	for range n {
		<-g.entered
	}

	resp, err := ep(context.Background(), "acme/quick")
	assertLimited(t, err, limit.ErrConcurrencyLimited)
	assert.Empty(t, resp)

	for _, tenant := range []string{"globex", "initech", ""} {
		resp, err := ep(context.Background(), tenant+"/quick")
		require.NoError(t, err, "tenant %q is not limited by acme's calls", tenant)
		assert.Equal(t, tenant+"/quick", resp)
	}

	close(g.release)
	held.Wait()
	for range n + 1 {
		_, err := ep(context.Background(), "acme/quick")
		assert.NoError(t, err)
	}
}

func TestBulkheadUnderLoad(t *testing.T) {
	t.Parallel()
	// acme has all its slots held; the other tenants each run n callers at
	// once, as many as their limit, so none of their calls is rejected,
	// while a surplus of callers for busy is.
	const n, calls = 3, 200
	g := newKeyedGate()
	ep := limit.Bulkhead[string, string](n, tenantOf)(g.endpoint)

	var held sync.WaitGroup
	for range n {
		held.Go(func() {
			_, err := ep(context.Background(), "acme/hold")
			assert.NoError(t, err)
		})
	}
	for range n {
		<-g.entered
	}

	var wg sync.WaitGroup
	var acmeRejected, busyOK, busyRejected atomic.Int64
	for _, tenant := range []string{"globex", "initech", "umbrella"} {
		for range n {
			wg.Go(func() {
				for i := range calls {
					_, err := ep(context.Background(), tenant+"/"+strconv.Itoa(i))
					assert.NoError(t, err, tenant)
				}
			})
		}
	}
	for range 3 * n {
		wg.Go(func() {
			for range calls {
				if _, err := ep(context.Background(), "busy/x"); err != nil {
					assertLimited(t, err, limit.ErrConcurrencyLimited)
					busyRejected.Add(1)
				} else {
					busyOK.Add(1)
				}
			}
		})
	}
	wg.Go(func() {
		for range calls {
			if _, err := ep(context.Background(), "acme/quick"); err != nil {
				acmeRejected.Add(1)
			}
		}
	})
	wg.Wait()
	close(g.release)
	held.Wait()

	assert.Equal(t, int64(calls), acmeRejected.Load(), "acme's slots were all held")
	assert.Equal(t, int64(3*n*calls), busyOK.Load()+busyRejected.Load())
	assert.Positive(t, busyOK.Load())
	for _, tenant := range []string{"acme", "globex", "initech", "umbrella", "busy"} {
		assert.LessOrEqual(t, g.peakOf(tenant), n, tenant)
	}
}

func TestBulkheadForgetsKeys(t *testing.T) {
	// A key is forgotten once its calls end: after many distinct keys,
	// calls for yet more new keys allocate nothing, as they would if the
	// table grew with every key ever seen. Not parallel: AllocsPerRun
	// counts the allocations of the whole process.
	keys := make([]string, 200_000)
	for i := range keys {
		keys[i] = "tenant-" + strconv.Itoa(i)
	}
	ep := limit.Bulkhead[string, string](1, func(k string) string { return k })(kit.Nop[string, string])
	ctx := context.Background()
	for _, k := range keys[:100_000] {
		_, err := ep(ctx, k)
		require.NoError(t, err)
	}
	i := 100_000
	allocs := testing.AllocsPerRun(100_000-1, func() {
		_, _ = ep(ctx, keys[i])
		i++
	})
	assert.Zero(t, allocs)
}

func TestBulkheadReleasesOnPanic(t *testing.T) {
	t.Parallel()
	ep := limit.Bulkhead[string, string](1, tenantOf)(func(_ context.Context, req string) (string, error) {
		if strings.HasSuffix(req, "/panic") {
			panic("bug")
		}
		return req, nil
	})
	assert.Panics(t, func() { _, _ = ep(context.Background(), "acme/panic") })
	_, err := ep(context.Background(), "acme/ok")
	assert.NoError(t, err)
}

func TestBulkheadInvalid(t *testing.T) {
	t.Parallel()
	assert.Panics(t, func() { limit.Bulkhead[string, string](0, tenantOf) })
	assert.Panics(t, func() { limit.Bulkhead[string, string](1, nil) })
}
