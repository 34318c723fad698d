// Package discoverytest holds what the tests of every discovery backend
// share: a [Watcher] that records an instancer's events with the time they
// arrived and waits for one that satisfies a condition; service instances
// in processes of their own ([StartInstance], the test binary run again)
// behind TCP proxies ([Proxy]) that a test can kill, hang or cut off; a
// caller [Load] that counts failures; and the fault runner ([RunFault]) of
// the backends' fault tables, with a typed client and a plain grpc-go
// client under load.
package discoverytest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/typedkit/kit/discovery"
)

// A Watcher records every event an instancer sends, with the time it
// arrived.
type Watcher struct {
	src     discovery.Instancer
	ch      chan discovery.Event
	done    chan struct{}
	changed chan struct{}

	mu     sync.Mutex
	events []TimedEvent
}

// A TimedEvent is an event and when it arrived.
type TimedEvent struct {
	discovery.Event
	At time.Time
}

// Watch subscribes a Watcher to src until the test ends.
func Watch(t testing.TB, src discovery.Instancer) *Watcher {
	t.Helper()
	w := &Watcher{
		src:     src,
		ch:      make(chan discovery.Event),
		done:    make(chan struct{}),
		changed: make(chan struct{}, 1),
	}
	go func() {
		defer close(w.done)
		for ev := range w.ch {
			w.mu.Lock()
			w.events = append(w.events, TimedEvent{ev, time.Now()})
			w.mu.Unlock()
			select {
			case w.changed <- struct{}{}:
			default:
			}
		}
	}()
	src.Register(w.ch)
	t.Cleanup(w.stop)
	return w
}

func (w *Watcher) stop() {
	select {
	case <-w.done:
		return
	default:
	}
	w.src.Deregister(w.ch)
	close(w.ch)
	<-w.done
}

// Mark returns the number of events so far, for WaitFor to look after.
func (w *Watcher) Mark() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.events)
}

// Events returns the events so far.
func (w *Watcher) Events() []TimedEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.events)
}

// WaitFor returns the first event after mark that satisfies ok, and when
// it arrived. It fails the test after timeout.
func (w *Watcher) WaitFor(t testing.TB, mark int, timeout time.Duration, what string, ok func(discovery.Event) bool) TimedEvent {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		w.mu.Lock()
		for _, ev := range w.events[mark:] {
			if ok(ev.Event) {
				w.mu.Unlock()
				return ev
			}
		}
		mark = len(w.events)
		last := TimedEvent{}
		if mark > 0 {
			last = w.events[mark-1]
		}
		w.mu.Unlock()
		select {
		case <-w.changed:
		case <-timer.C:
			t.Fatalf("no event with %s within %v; last event: %+v", what, timeout, last.Event)
		}
	}
}

// HasInstances returns a predicate for a good event with exactly want.
func HasInstances(want ...string) func(discovery.Event) bool {
	slices.Sort(want)
	return func(ev discovery.Event) bool {
		return ev.Err == nil && (slices.Equal(ev.Instances, want) || len(want) == 0 && len(ev.Instances) == 0)
	}
}
