package discoverytest

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A Load calls a function from several goroutines until it is stopped,
// counting the calls and the failures.
type Load struct {
	stop  chan struct{}
	wg    sync.WaitGroup
	calls atomic.Int64
	fails atomic.Int64

	mu    sync.Mutex
	first error
}

// A LoadResult is what a Load counted.
type LoadResult struct {
	Calls, Failures int64
	// First is the first failure, or nil.
	First error
}

// StartLoad starts workers goroutines that each call call, with the
// worker's number, then pause, until Stop.
func StartLoad(workers int, pause time.Duration, call func(worker int) error) *Load {
	l := &Load{stop: make(chan struct{})}
	for w := range workers {
		l.wg.Go(func() {
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				err := call(w)
				l.calls.Add(1)
				if err != nil {
					l.fails.Add(1)
					l.mu.Lock()
					if l.first == nil {
						l.first = err
					}
					l.mu.Unlock()
				}
				if pause > 0 {
					time.Sleep(pause)
				}
			}
		})
	}
	return l
}

// Stop stops the workers, waits for their calls to end and returns the
// counts.
func (l *Load) Stop() LoadResult {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return LoadResult{Calls: l.calls.Load(), Failures: l.fails.Load(), First: l.first}
}

// Until polls cond every millisecond until it holds and returns the time
// since start. It fails the test after timeout.
func Until(tb testing.TB, start time.Time, timeout time.Duration, what string, cond func() bool) time.Duration {
	tb.Helper()
	end := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(end) {
			tb.Fatalf("not within %v: %s", timeout, what)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

// A FaultRow is one row of a fault table: a fault, what the callers saw
// and how long until the client's set was right.
type FaultRow struct {
	Fault string
	// Typed counts the calls of the typed client (Endpointer, Retry).
	Typed LoadResult
	// Resolver counts the calls of a plain grpc-go client through the
	// backend's resolver, if the row had one.
	Resolver *LoadResult
	// Balancer is how long after the fault the typed client's balancer
	// stopped offering the faulty instance (ejected or removed), or zero.
	Balancer time.Duration
	// Set is how long until the instancer's set was right: after the fault
	// for an instance's fault, after the registry answered again for the
	// registry's own.
	Set time.Duration
	// Note says what Set measures when it is not obvious.
	Note string
}

// LogTable logs rows as a Markdown table.
func LogTable(tb testing.TB, title string, rows []FaultRow) {
	tb.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n| fault | typed calls failed / made | resolver calls failed / made | out of the balancer | set right | note |\n|---|---:|---:|---:|---:|---|\n", title)
	ms := func(d time.Duration) string {
		if d == 0 {
			return "–"
		}
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	for _, r := range rows {
		res := "–"
		if r.Resolver != nil {
			res = fmt.Sprintf("%d / %d", r.Resolver.Failures, r.Resolver.Calls)
		}
		fmt.Fprintf(&b, "| %s | %d / %d | %s | %s | %s | %s |\n", r.Fault, r.Typed.Failures, r.Typed.Calls, res, ms(r.Balancer), ms(r.Set), r.Note)
	}
	tb.Log(b.String())
}
