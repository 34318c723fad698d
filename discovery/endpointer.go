package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/typedkit/kit"
)

// ErrNoEndpoints is the cause of the Unavailable error that balancers and
// [Endpointer.Endpoints] return when there is no instance to call. Test for
// it with errors.Is.
var ErrNoEndpoints = errors.New("discovery: no endpoints available")

// ErrClosed is wrapped, beside [ErrNoEndpoints], in the error an
// [Endpointer] returns after it was closed.
var ErrClosed = errors.New("discovery: endpointer closed")

// A Factory makes the endpoint for one instance ("host:port"), such as an
// httpx or grpcx client aimed at it, and an io.Closer that releases what the
// endpoint holds (idle connections, a gRPC ClientConn). The closer may be
// nil. An [Endpointer] calls the factory once when an instance appears and
// the closer once when it leaves.
type Factory[Req, Resp any] func(instance string) (kit.Endpoint[Req, Resp], io.Closer, error)

// An EndpointerOption configures an [Endpointer].
type EndpointerOption func(*endpointerConfig)

type endpointerConfig struct {
	invalidate bool
	grace      time.Duration
	logger     *slog.Logger
	outlier    *outlierConfig // nil without outlier ejection
}

// EndpointerInvalidateOnError makes an [Endpointer] drop its endpoints when its
// instancer has reported errors for longer than grace, so that calls fail
// fast with Unavailable instead of going to instances that may be long
// gone. By default the endpointer keeps the last good set for as long as
// the instancer fails. A grace of zero drops them at the first error. The
// endpoints are made again from the next good event.
func EndpointerInvalidateOnError(grace time.Duration) EndpointerOption {
	return func(c *endpointerConfig) { c.invalidate, c.grace = true, max(grace, 0) }
}

// EndpointerLogger sets the logger for factory and closer errors. The
// default is slog.Default().
func EndpointerLogger(logger *slog.Logger) EndpointerOption {
	return func(c *endpointerConfig) { c.logger = logger }
}

// An Endpointer keeps one endpoint per instance of an [Instancer], in step
// with it: when an instance appears it calls the [Factory], when one leaves
// it closes that instance's closer, and instances that stay keep their
// endpoint.
//
// Reads ([Endpointer.Endpoints] and the balancers) load an immutable
// snapshot through an atomic pointer: they take no lock and allocate
// nothing. Each endpoint it hands out counts the calls in flight on its
// instance, for [PowerOfTwoChoices].
//
// An instance for which the factory fails is left out, and the error
// logged, until the instancer sends a set without it and then one with it
// again.
type Endpointer[Req, Resp any] struct {
	src     Instancer
	factory Factory[Req, Resp]
	cfg     endpointerConfig

	snap atomic.Pointer[snapshot[Req, Resp]]

	ch   chan Event
	done chan struct{}

	mu      sync.Mutex                    // serialises writers; readers never take it
	targets map[string]*target[Req, Resp] // by instance
	order   []*target[Req, Resp]          // the same, sorted by instance; replaced, never changed in place
	lastErr error
	closed  bool
	streak  uint64      // bumped by every good event, so a stale invalidation does nothing
	timer   *time.Timer // pending invalidation, or nil
	timers  sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// A target is one instance's endpoint, its in-flight count and its
// outlier-ejection state.
type target[Req, Resp any] struct {
	instance string
	raw      kit.Endpoint[Req, Resp]
	ep       kit.Endpoint[Req, Resp] // raw, counting calls in flight (see newTarget)
	closer   io.Closer
	inflight atomic.Int64
	fails    atomic.Int32 // consecutive failures, with outlier ejection

	// Guarded by the endpointer's mu; used with outlier ejection only.
	ejected   bool
	ejections int         // multiplier of the latest ejection's length
	until     time.Time   // when the current ejection ends
	admitted  time.Time   // when it was last re-admitted, or zero
	gen       uint64      // bumped by every ejection and re-admission, so that a stale timer does nothing
	timer     *time.Timer // re-admits the instance, or nil
}

// A snapshot is an immutable view of the endpointer's set.
type snapshot[Req, Resp any] struct {
	targets   []*target[Req, Resp] // the admitted ones, sorted by instance
	endpoints []kit.Endpoint[Req, Resp]
	instances []string // every instance, ejected ones included, sorted
	ejected   []string // sorted
	err       error    // non-nil exactly when targets is empty
	instErr   error    // the instancer's latest error
}

// NewEndpointer returns an Endpointer over src that makes endpoints with f.
// It subscribes to src at once; when src already knows its instances (a
// [FixedInstancer] always does), their endpoints are ready when
// NewEndpointer returns. Call Close to unsubscribe and release the
// endpoints. NewEndpointer panics if src or f is nil.
func NewEndpointer[Req, Resp any](src Instancer, f Factory[Req, Resp], opts ...EndpointerOption) *Endpointer[Req, Resp] {
	if src == nil {
		panic("discovery: NewEndpointer with a nil Instancer")
	}
	if f == nil {
		panic("discovery: NewEndpointer with a nil Factory")
	}
	e := &Endpointer[Req, Resp]{
		src:     src,
		factory: f,
		ch:      make(chan Event, 1),
		done:    make(chan struct{}),
		targets: make(map[string]*target[Req, Resp]),
	}
	for _, o := range opts {
		o(&e.cfg)
	}
	if e.cfg.logger == nil {
		e.cfg.logger = slog.Default()
	}
	e.snap.Store(&snapshot[Req, Resp]{err: noEndpoints(nil)})
	src.Register(e.ch)
	select {
	case ev := <-e.ch:
		e.apply(ev)
	default:
	}
	go e.run()
	return e
}

func (e *Endpointer[Req, Resp]) run() {
	defer close(e.done)
	for ev := range e.ch {
		e.apply(ev)
	}
}

// Endpoints returns the current endpoints, one per instance in the order of
// [Endpointer.Instances], leaving out the instances that
// [EndpointerOutlierEjection] has ejected ([Endpointer.Ejected]). When
// there are none it returns an Unavailable *kit.Error that wraps
// [ErrNoEndpoints] and, if there is one, the instancer's error. The slice
// is shared: callers must not modify it.
func (e *Endpointer[Req, Resp]) Endpoints() ([]kit.Endpoint[Req, Resp], error) {
	s := e.snap.Load()
	return s.endpoints, s.err
}

// Instances returns the instances that have an endpoint, sorted, ejected
// ones ([Endpointer.Ejected]) included.
func (e *Endpointer[Req, Resp]) Instances() []string {
	return slices.Clone(e.snap.Load().instances)
}

// Err returns the error of the instancer's latest event: nil when it last
// reported a good set, non-nil while it cannot refresh it (the endpointer
// then serves the last good set, unless [EndpointerInvalidateOnError] dropped it).
func (e *Endpointer[Req, Resp]) Err() error {
	return e.snap.Load().instErr
}

// Close unsubscribes from the instancer, closes every endpoint's closer and
// returns their errors joined. Calls made afterwards through the endpointer
// fail with Unavailable. Close waits for the endpointer's goroutine and
// timers to end; it does not stop the instancer. Calling Close again
// returns the first result.
func (e *Endpointer[Req, Resp]) Close() error {
	e.closeOnce.Do(func() {
		e.src.Deregister(e.ch)
		close(e.ch)
		<-e.done

		e.mu.Lock()
		e.closed = true
		e.stopTimerLocked()
		gone := e.dropAllLocked()
		e.snap.Store(&snapshot[Req, Resp]{
			err:     kit.WrapError(kit.Unavailable, fmt.Errorf("%w: %w", ErrNoEndpoints, ErrClosed), ""),
			instErr: e.lastErr,
		})
		e.mu.Unlock()

		e.timers.Wait()
		e.closeErr = closeAll(gone)
	})
	return e.closeErr
}

// apply brings the cache in step with ev.
func (e *Endpointer[Req, Resp]) apply(ev Event) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	if ev.Err != nil {
		e.lastErr = ev.Err
		var gone []*target[Req, Resp]
		switch {
		case !e.cfg.invalidate || len(e.targets) == 0:
		case e.cfg.grace == 0:
			gone = e.dropAllLocked()
		case e.timer == nil:
			e.scheduleInvalidationLocked()
		}
		e.publishLocked()
		e.mu.Unlock()
		e.logClose(closeAll(gone))
		return
	}
	e.lastErr = nil
	e.streak++
	e.stopTimerLocked()

	gone := e.mergeLocked(sortedSet(ev.Instances))
	e.publishLocked()
	e.mu.Unlock()

	e.logClose(closeAll(gone))
}

// mergeLocked brings the targets in step with want, sorted and without
// duplicates, in one walk over it and the current order: an instance that
// stays keeps its target and costs a comparison, one that appears gets a
// target from the factory, one that leaves goes into the returned slice
// for closing. The map changes only where the set does.
func (e *Endpointer[Req, Resp]) mergeLocked(want []string) (gone []*target[Req, Resp]) {
	cur := e.order
	if slices.EqualFunc(cur, want, func(t *target[Req, Resp], inst string) bool { return t.instance == inst }) {
		return nil // the same set: nothing to make, close or rebuild
	}
	next := make([]*target[Req, Resp], 0, len(want))
	i := 0
	for _, inst := range want {
		for i < len(cur) && cur[i].instance < inst {
			gone = e.removeLocked(cur[i], gone)
			i++
		}
		if i < len(cur) && cur[i].instance == inst {
			next = append(next, cur[i])
			i++
			continue
		}
		ep, closer, err := e.factory(inst)
		if err == nil && ep == nil {
			err = errors.New("factory returned a nil endpoint")
		}
		if err != nil {
			e.cfg.logger.LogAttrs(context.Background(), slog.LevelWarn, "discovery: factory failed",
				slog.String("instance", inst), slog.String("error", err.Error()))
			if closer != nil {
				gone = append(gone, &target[Req, Resp]{instance: inst, closer: closer})
			}
			continue
		}
		t := e.newTarget(inst, ep, closer)
		e.targets[inst] = t
		next = append(next, t)
	}
	for ; i < len(cur); i++ {
		gone = e.removeLocked(cur[i], gone)
	}
	e.order = next
	return gone
}

// removeLocked takes t out of the set and appends it to gone.
func (e *Endpointer[Req, Resp]) removeLocked(t *target[Req, Resp], gone []*target[Req, Resp]) []*target[Req, Resp] {
	e.stopEjectionLocked(t)
	delete(e.targets, t.instance)
	return append(gone, t)
}

// sortedSet returns instances when they are sorted, without duplicates and
// without empty strings, as a backend's [Broadcaster] sends them, and a
// normalized copy otherwise. The endpointer keeps no reference to it.
func sortedSet(instances []string) []string {
	for i, s := range instances {
		if s == "" || (i > 0 && instances[i-1] >= s) {
			return normalize(instances)
		}
	}
	return instances
}

// scheduleInvalidationLocked drops the endpoints after the grace period,
// unless another event arrives first.
func (e *Endpointer[Req, Resp]) scheduleInvalidationLocked() {
	streak := e.streak
	e.timers.Add(1)
	e.timer = time.AfterFunc(e.cfg.grace, func() {
		defer e.timers.Done()
		e.mu.Lock()
		if e.closed || e.streak != streak {
			e.mu.Unlock()
			return
		}
		e.timer = nil
		gone := e.dropAllLocked()
		e.publishLocked()
		e.mu.Unlock()
		e.logClose(closeAll(gone))
	})
}

func (e *Endpointer[Req, Resp]) stopTimerLocked() {
	if e.timer != nil && e.timer.Stop() {
		e.timers.Done()
	}
	e.timer = nil
}

func (e *Endpointer[Req, Resp]) dropAllLocked() []*target[Req, Resp] {
	gone := e.order
	for _, t := range gone {
		e.stopEjectionLocked(t)
	}
	clear(e.targets)
	e.order = nil
	return gone
}

// publishLocked stores a snapshot of the current targets, leaving the
// ejected ones out of those to pick.
func (e *Endpointer[Req, Resp]) publishLocked() {
	e.limitEjectedLocked()
	s := &snapshot[Req, Resp]{instErr: e.lastErr}
	if n := len(e.order); n > 0 {
		// e.order is never changed in place (mergeLocked makes a new one),
		// so the snapshot may share it.
		s.targets = e.order
		s.instances = make([]string, n)
		for i, t := range e.order {
			s.instances[i] = t.instance
			if t.ejected {
				s.ejected = append(s.ejected, t.instance)
			}
		}
		if len(s.ejected) > 0 {
			s.targets = make([]*target[Req, Resp], 0, n-len(s.ejected))
			for _, t := range e.order {
				if !t.ejected {
					s.targets = append(s.targets, t)
				}
			}
		}
		s.endpoints = make([]kit.Endpoint[Req, Resp], len(s.targets))
		for i, t := range s.targets {
			s.endpoints[i] = t.ep
		}
	} else {
		s.err = noEndpoints(e.lastErr)
	}
	e.snap.Store(s)
}

func (e *Endpointer[Req, Resp]) logClose(err error) {
	if err != nil {
		e.cfg.logger.LogAttrs(context.Background(), slog.LevelWarn, "discovery: closing an endpoint failed",
			slog.String("error", err.Error()))
	}
}

func closeAll[Req, Resp any](targets []*target[Req, Resp]) error {
	var errs []error
	for _, t := range targets {
		if t.closer == nil {
			continue
		}
		if err := t.closer.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing %s: %w", t.instance, err))
		}
	}
	return errors.Join(errs...)
}

var errNoEndpoints = kit.WrapError(kit.Unavailable, ErrNoEndpoints, "")

// noEndpoints returns the error for an empty set, with the instancer's
// error if there is one.
func noEndpoints(instErr error) error {
	if instErr == nil {
		return errNoEndpoints
	}
	return kit.WrapError(kit.Unavailable, fmt.Errorf("%w: %w", ErrNoEndpoints, instErr), "")
}
