package etcd_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/typedkit/kit/discovery"
	"github.com/typedkit/kit/discovery/etcd"
	"github.com/typedkit/kit/internal/etcdtest"
)

// server is the etcd server the tests of this package share. Tests that
// stop it, or need a revision history of their own, start one of their
// own.
var server *etcdtest.Server

func TestMain(m *testing.M) {
	s, err := etcdtest.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	server = s
	code := m.Run()
	if err := s.Close(); err != nil {
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

// deadline bounds every wait for a condition: generous, so that a loaded
// machine makes a test slow, never failed. The tests log the times they
// measure instead of asserting them.
const deadline = 15 * time.Second

var quietRegistrar = etcd.RegistrarLogger(slog.New(slog.DiscardHandler))

// newClient returns an etcd client of the server s (or of a proxy's
// address), closed when tb ends.
func newClient(tb testing.TB, endpoints ...string) *clientv3.Client {
	tb.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// register registers an instance of service at 127.0.0.1:port through
// client and returns its registrar, deregistered when the test ends.
func register(t *testing.T, client *clientv3.Client, service string, port int, opts ...etcd.RegistrarOption) *etcd.Registrar {
	t.Helper()
	r, err := etcd.NewRegistrar(client, etcd.Service{Name: service, Address: "127.0.0.1", Port: port}, append([]etcd.RegistrarOption{quietRegistrar}, opts...)...)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, r.Register(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = r.Deregister(ctx)
	})
	return r
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
		last := timedEvent{}
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

// hasInstances returns a predicate for a good event with exactly want.
func hasInstances(want ...string) func(discovery.Event) bool {
	want = slices.Sorted(slices.Values(want))
	return func(ev discovery.Event) bool {
		return ev.Err == nil && (slices.Equal(ev.Instances, want) || len(want) == 0 && len(ev.Instances) == 0)
	}
}

// failingWith returns a predicate for an error event that still holds
// exactly want, the last good set.
func failingWith(want ...string) func(discovery.Event) bool {
	want = slices.Sorted(slices.Values(want))
	return func(ev discovery.Event) bool {
		return ev.Err != nil && slices.Equal(ev.Instances, want)
	}
}

func addrs(ports ...int) []string {
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = fmt.Sprintf("127.0.0.1:%d", p)
	}
	slices.Sort(out)
	return out
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
