package discovery

import (
	"context"
	"slices"
	"sync"
)

// An Event is an instancer's state: the instances of a service as
// "host:port" strings, sorted and without duplicates, and the error of the
// instancer's latest attempt to refresh them.
//
// When Err is nil, Instances is the current set. When Err is non-nil, the
// instancer could not refresh its set and Instances is the last set it knew,
// which may be stale or empty. Receivers must not modify Instances.
type Event struct {
	Instances []string
	Err       error
}

// An Instancer knows the instances of a service and tells its subscribers
// about every change.
//
// Register subscribes ch: if the instancer already knows its state, it sends
// it to ch before Register returns, and it sends every later state until
// Deregister(ch) returns. Sends block, so the subscriber must keep receiving
// (or give ch a buffer) until it has deregistered. Stop ends the instancer's
// work, such as a watch on a registry; it sends nothing after that.
type Instancer interface {
	Register(ch chan<- Event)
	Deregister(ch chan<- Event)
	Stop()
}

// A Registrar announces an instance of this process's service to a registry,
// and withdraws it. Deregister is the graceful part of a shutdown: call it
// before the server stops answering, so clients stop picking the instance.
type Registrar interface {
	Register(ctx context.Context) error
	Deregister(ctx context.Context) error
}

// A FixedInstancer is an [Instancer] whose set of instances never changes:
// the default when there is no registry, and a test double.
type FixedInstancer []string

var _ Instancer = FixedInstancer(nil)

// Register sends the fixed set to ch.
func (f FixedInstancer) Register(ch chan<- Event) {
	ch <- Event{Instances: normalize(f)}
}

// Deregister does nothing: a FixedInstancer sends one event only, from
// Register.
func (FixedInstancer) Deregister(chan<- Event) {}

// Stop does nothing.
func (FixedInstancer) Stop() {}

// A Broadcaster holds an instancer's state and sends it to subscribers. It
// implements the Register and Deregister methods of [Instancer], so a
// backend keeps a Broadcaster, calls Update with what it learns, and
// forwards Register and Deregister to it. The zero value is ready to use
// and has no state until the first Update.
type Broadcaster struct {
	mu    sync.Mutex
	known bool
	state Event
	subs  map[chan<- Event]struct{}
}

// Update sets the state to ev, with its instances sorted and deduplicated,
// and sends it to every subscriber. An event equal to the current state (the
// same instances, and errors with the same text) is not sent again. Update
// blocks until every subscriber has received the event.
func (b *Broadcaster) Update(ev Event) {
	ev.Instances = normalize(ev.Instances)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.known && sameEvent(b.state, ev) {
		return
	}
	b.known, b.state = true, ev
	for ch := range b.subs {
		ch <- ev
	}
}

// State returns the current state, and false before the first Update.
func (b *Broadcaster) State() (Event, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state, b.known
}

// Register subscribes ch and sends it the current state, if there is one.
func (b *Broadcaster) Register(ch chan<- Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = make(map[chan<- Event]struct{})
	}
	b.subs[ch] = struct{}{}
	if b.known {
		ch <- b.state
	}
}

// Deregister unsubscribes ch. Nothing is sent to ch after Deregister
// returns.
func (b *Broadcaster) Deregister(ch chan<- Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.subs, ch)
}

// normalize returns a sorted copy of instances without duplicates or empty
// strings, or nil when none are left.
func normalize(instances []string) []string {
	out := make([]string, 0, len(instances))
	for _, s := range instances {
		if s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil
	}
	return slices.Clip(out)
}

func sameEvent(a, b Event) bool {
	if !slices.Equal(a.Instances, b.Instances) {
		return false
	}
	switch {
	case a.Err == nil && b.Err == nil:
		return true
	case a.Err == nil || b.Err == nil:
		return false
	}
	return a.Err.Error() == b.Err.Error()
}
