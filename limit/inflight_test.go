package limit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/limit"
)

// gate is an endpoint whose calls for "hold" block until released, and
// whose other calls return at once. It tracks how many run at once.
type gate struct {
	entered chan struct{}
	release chan struct{}
	running atomic.Int64
	peak    atomic.Int64
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (g *gate) endpoint(_ context.Context, req string) (string, error) {
	n := g.running.Add(1)
	defer g.running.Add(-1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			break
		}
	}
	if req == "hold" {
		g.entered <- struct{}{}
		<-g.release
	}
	return req, nil
}

// hold starts n calls of ep that block in g, and waits until they all run.
// It returns a WaitGroup that is done when they have returned. A call
// that is refused instead fails the test at once, never leaving hold
// waiting for a call that will not come.
func hold(t *testing.T, ep kit.Endpoint[string, string], g *gate, n int) *sync.WaitGroup {
	t.Helper()
	var wg sync.WaitGroup
	refused := make(chan error, n)
	for range n {
		wg.Go(func() {
			if _, err := ep(context.Background(), "hold"); err != nil {
				refused <- err
			}
		})
	}
	for range n {
		select {
		case <-g.entered:
		case err := <-refused:
			t.Fatalf("a call to hold was refused: %v", err)
		}
	}
	return &wg
}

func TestInFlight(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 3, 8} {
		g := newGate()
		ep := intercept(g.endpoint, limit.InFlight(n))
		held := hold(t, ep, g, n)

		resp, err := ep(context.Background(), "quick")
		assertLimited(t, err, limit.ErrConcurrencyLimited)
		assert.Empty(t, resp)
		assert.Equal(t, "too many requests in flight", kit.MessageOf(err))

		g.release <- struct{}{} // one held call returns
		// Its slot is free once the limiter has seen it return, which is
		// after the gate counts it out: wait for a call to be let through,
		// not for the gate, however slow the machine.
		require.Eventually(t, func() bool {
			_, err := ep(context.Background(), "quick")
			return err == nil
		}, testTimeout, tick)
		assert.Equal(t, int64(n-1), g.running.Load())
		held2 := hold(t, ep, g, 1) // and its slot is free again
		_, err = ep(context.Background(), "quick")
		assertLimited(t, err, limit.ErrConcurrencyLimited)

		close(g.release)
		held.Wait()
		held2.Wait()
		for range n + 1 {
			_, err := ep(context.Background(), "quick")
			assert.NoError(t, err, "limit %d: every slot is free", n)
		}
		assert.Equal(t, int64(n), g.peak.Load())
	}
}

func TestInFlightUnderLoad(t *testing.T) {
	t.Parallel()
	const n, goroutines, calls = 4, 16, 300
	g := newGate()
	ep := intercept(g.endpoint, limit.InFlight(n))
	var ok, rejected atomic.Int64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range calls {
				_, err := ep(context.Background(), "quick")
				if err != nil {
					assertLimited(t, err, limit.ErrConcurrencyLimited)
					rejected.Add(1)
					continue
				}
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, g.peak.Load(), int64(n))
	assert.Equal(t, int64(goroutines*calls), ok.Load()+rejected.Load())
	assert.Positive(t, ok.Load())
	assert.Zero(t, g.running.Load())
}

// One InFlight value bounds the calls of every method it wraps together.
func TestInFlightSharedByMethods(t *testing.T) {
	t.Parallel()
	ic := limit.InFlight(1)
	g := newGate()
	a, b := kit.Intercept(g.endpoint, getCall, ic), kit.Intercept(g.endpoint, listCall, ic)
	held := hold(t, a, g, 1)
	_, err := b(context.Background(), "quick")
	assertLimited(t, err, limit.ErrConcurrencyLimited)
	close(g.release)
	held.Wait()
	_, err = b(context.Background(), "quick")
	assert.NoError(t, err)
}

// InFlight called once per method bounds each method alone.
func TestInFlightPerMethod(t *testing.T) {
	t.Parallel()
	perMethod := func(call kit.Call, next kit.Invoker) kit.Invoker { return limit.InFlight(1)(call, next) }
	g := newGate()
	a, b := kit.Intercept(g.endpoint, getCall, perMethod), kit.Intercept(g.endpoint, listCall, perMethod)
	held := hold(t, a, g, 1)
	_, err := a(context.Background(), "quick")
	assertLimited(t, err, limit.ErrConcurrencyLimited)
	_, err = b(context.Background(), "quick")
	assert.NoError(t, err, "the other method has its own slot")
	close(g.release)
	held.Wait()
}

func TestInFlightReleasesOnPanic(t *testing.T) {
	t.Parallel()
	ep := intercept(func(_ context.Context, req string) (string, error) {
		if req == "panic" {
			panic("bug")
		}
		return req, nil
	}, limit.InFlight(1))
	assert.Panics(t, func() { _, _ = ep(context.Background(), "panic") })
	_, err := ep(context.Background(), "ok")
	assert.NoError(t, err)
}

func TestInFlightInvalid(t *testing.T) {
	t.Parallel()
	assert.Panics(t, func() { limit.InFlight(0) })
	assert.Panics(t, func() { limit.InFlight(-1) })
}
