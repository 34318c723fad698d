package discovery

import (
	"math"
	"math/rand/v2"
	"sync/atomic"

	"github.com/typedkit/kit"
)

// A Balancer picks the endpoint for one call. When there is none to pick it
// returns an Unavailable *kit.Error that wraps [ErrNoEndpoints].
type Balancer[Req, Resp any] interface {
	Endpoint() (kit.Endpoint[Req, Resp], error)
}

// A BalancerFunc is a function that is a [Balancer].
type BalancerFunc[Req, Resp any] func() (kit.Endpoint[Req, Resp], error)

// Endpoint returns f().
func (f BalancerFunc[Req, Resp]) Endpoint() (kit.Endpoint[Req, Resp], error) { return f() }

// RoundRobin returns a balancer that picks the endpoints of e in turn. A
// pick is one atomic increment: no lock and no allocation.
func RoundRobin[Req, Resp any](e *Endpointer[Req, Resp]) Balancer[Req, Resp] {
	return &roundRobin[Req, Resp]{e: e}
}

type roundRobin[Req, Resp any] struct {
	e    *Endpointer[Req, Resp]
	next atomic.Uint64
}

// Endpoint returns the endpoint after the one it returned last.
func (b *roundRobin[Req, Resp]) Endpoint() (kit.Endpoint[Req, Resp], error) {
	return b.endpointFor(b.startCall(), 0)
}

// startCall takes the turn of one call.
func (b *roundRobin[Req, Resp]) startCall() uint64 { return b.next.Add(1) - 1 }

// endpointFor returns the endpoint of a call's attempt: the call's turn,
// then the endpoints after it, so that the attempts of one call go to
// distinct endpoints however many calls run at once.
func (b *roundRobin[Req, Resp]) endpointFor(turn uint64, attempt int) (kit.Endpoint[Req, Resp], error) {
	s := b.e.snap.Load()
	n := uint64(len(s.endpoints))
	if n == 0 {
		return nil, s.err
	}
	return s.endpoints[(turn+uint64(attempt))%n], nil
}

// attemptBalancer is a Balancer that spreads the attempts of one call over
// distinct endpoints; Retry uses it when the balancer is one.
type attemptBalancer[Req, Resp any] interface {
	startCall() uint64
	endpointFor(turn uint64, attempt int) (kit.Endpoint[Req, Resp], error)
}

// Random returns a balancer that picks an endpoint of e uniformly at
// random, from the runtime's per-thread generator: no lock and no
// allocation. Under [Retry], the attempts of one call go to distinct
// endpoints as long as there are some: the first is drawn at random, the
// next ones follow it in turn from a random one among the others.
func Random[Req, Resp any](e *Endpointer[Req, Resp]) Balancer[Req, Resp] {
	return &random[Req, Resp]{e: e}
}

type random[Req, Resp any] struct{ e *Endpointer[Req, Resp] }

// Endpoint returns an endpoint drawn at random.
func (b *random[Req, Resp]) Endpoint() (kit.Endpoint[Req, Resp], error) {
	s := b.e.snap.Load()
	n := len(s.endpoints)
	if n == 0 {
		return nil, s.err
	}
	return s.endpoints[rand.IntN(n)], nil
}

// startCall draws the order of one call's attempts.
func (b *random[Req, Resp]) startCall() uint64 { return rand.Uint64() }

// endpointFor returns the endpoint of a call's attempt: the low half of
// turn picks the first endpoint, the high half where among the others the
// next attempts begin, each after the previous one.
func (b *random[Req, Resp]) endpointFor(turn uint64, attempt int) (kit.Endpoint[Req, Resp], error) {
	s := b.e.snap.Load()
	n := uint64(len(s.endpoints))
	if n == 0 {
		return nil, s.err
	}
	first := (turn & math.MaxUint32) % n
	if attempt == 0 || n == 1 {
		return s.endpoints[first], nil
	}
	next := ((turn >> 32) + uint64(attempt-1)) % (n - 1)
	return s.endpoints[(first+1+next)%n], nil
}

// PowerOfTwoChoices returns a balancer that draws two different endpoints
// of e at random and picks the one with fewer calls in flight, counted by
// the endpointer across every balancer over it. It steers load away from
// slow instances at the cost of two random draws, without the herding of
// always picking the least loaded.
//
// An instance that fails fast has few calls in flight and so attracts
// calls; pair this balancer with health checks that remove such an
// instance, and with [Retry].
func PowerOfTwoChoices[Req, Resp any](e *Endpointer[Req, Resp]) Balancer[Req, Resp] {
	return &p2c[Req, Resp]{e: e}
}

type p2c[Req, Resp any] struct{ e *Endpointer[Req, Resp] }

// Endpoint returns the less loaded of two endpoints drawn at random.
func (b *p2c[Req, Resp]) Endpoint() (kit.Endpoint[Req, Resp], error) {
	s := b.e.snap.Load()
	n := len(s.targets)
	switch n {
	case 0:
		return nil, s.err
	case 1:
		return s.targets[0].ep, nil
	}
	i := rand.IntN(n)
	j := rand.IntN(n - 1)
	if j >= i {
		j++
	}
	a, c := s.targets[i], s.targets[j]
	if c.inflight.Load() < a.inflight.Load() {
		a = c
	}
	return a.ep, nil
}
