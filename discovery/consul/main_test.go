package consul_test

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/typedkit/kit/discovery"
	"github.com/typedkit/kit/internal/consultest"
)

// agent is the Consul agent the tests of this package share. Tests that
// stop it start one of their own.
var agent *consultest.Agent

func TestMain(m *testing.M) {
	a, err := consultest.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	agent = a
	code := m.Run()
	if err := a.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// newClient returns an API client for the agent a on a transport of its
// own, whose idle connections are closed when tb ends and when a is closed.
func newClient(tb testing.TB, a *consultest.Agent) *api.Client {
	tb.Helper()
	c, err := api.NewClient(&api.Config{Address: a.Addr, Scheme: "http", Transport: a.Transport(tb)})
	require.NoError(tb, err)
	return c
}

// A watcher records every event an instancer sends, with the time it
// arrived.
type watcher struct {
	src     discovery.Instancer
	ch      chan discovery.Event
	done    chan struct{}
	changed chan struct{}

	mu     sync.Mutex
	events []timedEvent
}

type timedEvent struct {
	discovery.Event
	at time.Time
}

func watch(t *testing.T, src discovery.Instancer) *watcher {
	t.Helper()
	w := &watcher{
		src:     src,
		ch:      make(chan discovery.Event),
		done:    make(chan struct{}),
		changed: make(chan struct{}, 1),
	}
	go func() {
		defer close(w.done)
		for ev := range w.ch {
			w.mu.Lock()
			w.events = append(w.events, timedEvent{ev, time.Now()})
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

func (w *watcher) stop() {
	select {
	case <-w.done:
		return
	default:
	}
	w.src.Deregister(w.ch)
	close(w.ch)
	<-w.done
}

// mark returns the number of events so far, for waitFor to look after.
func (w *watcher) mark() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.events)
}

// waitFor returns the first event after mark that satisfies ok, and when it
// arrived. It fails the test after timeout.
func (w *watcher) waitFor(t *testing.T, mark int, timeout time.Duration, what string, ok func(discovery.Event) bool) timedEvent {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		for _, ev := range w.events[mark:] {
			if ok(ev.Event) {
				w.mu.Unlock()
				return ev
			}
		}
		mark = len(w.events)
		last := timedEvent{}
		if mark > 0 {
			last = w.events[mark-1]
		}
		w.mu.Unlock()
		select {
		case <-w.changed:
		case <-deadline.C:
			t.Fatalf("no event with %s within %v; last event: %+v", what, timeout, last.Event)
		}
	}
}

// hasInstances returns a predicate for a good event with exactly want.
func hasInstances(want ...string) func(discovery.Event) bool {
	slices.Sort(want)
	return func(ev discovery.Event) bool {
		return ev.Err == nil && slices.Equal(ev.Instances, want) || (len(want) == 0 && ev.Err == nil && len(ev.Instances) == 0)
	}
}
