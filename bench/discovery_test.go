package bench

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"testing"
	"time"

	gokit "github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/sd"
	"github.com/go-kit/kit/sd/lb"
	"github.com/go-kit/log"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
)

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// BenchmarkDiscovery calls through endpointer → round robin → retry over
// three fixed instances.
func BenchmarkDiscovery(b *testing.B) {
	instances := []string{"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"}
	b.Run("roundrobin-retry/typedkit", func(b *testing.B) {
		e := discovery.NewEndpointer(discovery.FixedInstancer(instances), func(string) (kit.Endpoint[Req, Resp], io.Closer, error) {
			return work, nopCloser{}, nil
		})
		defer e.Close()
		runTyped(b, discovery.Retry(discovery.RoundRobin(e), discovery.RetryMaxAttempts(3)))
	})
	b.Run("roundrobin-retry/gokit", func(b *testing.B) {
		e := sd.NewEndpointer(sd.FixedInstancer(instances), func(string) (gokit.Endpoint, io.Closer, error) {
			return workAny, nopCloser{}, nil
		}, log.NewNopLogger())
		defer e.Close()
		runGokit(b, lb.Retry(3, time.Second, lb.NewRoundRobin(e)))
	})
}

// eventSink is an instancer of either library that sends the events the
// benchmark hands it, to the one endpointer registered, and nothing else.
type eventSink[E any] struct{ ch chan<- E }

func (s *eventSink[E]) Register(ch chan<- E) { s.ch = ch }
func (s *eventSink[E]) Deregister(chan<- E)  {}
func (s *eventSink[E]) Stop()                {}

// updateSets returns n sorted instances and the same set with its middle
// instance replaced by another: the change a registry reports when one
// instance is replaced.
func updateSets(n int) (a, b []string) {
	for i := range n {
		a = append(a, fmt.Sprintf("10.%d.%d.%d:8080", i/62500, i/250%250, i%250))
	}
	slices.Sort(a)
	b = slices.Clone(a)
	b[n/2] = "10.255.0.1:8080"
	slices.Sort(b)
	return a, b
}

// BenchmarkEndpointerUpdate measures one update of an endpointer's set of
// 3, 100 and 1,000 instances in which one instance leaves and another
// arrives: the event goes to the endpointer's goroutine, which makes the new
// instance's endpoint, closes the old one's and publishes the set. The
// events alternate between two prepared sets, so the sender does no work.
func BenchmarkEndpointerUpdate(b *testing.B) {
	for _, n := range []int{3, 100, 1000} {
		setA, setB := updateSets(n)
		name := "instances=" + strconv.Itoa(n)
		for _, impl := range rotate([]string{"typedkit", "gokit"}) {
			b.Run(name+"/"+impl, func(b *testing.B) {
				b.ReportAllocs()
				switch impl {
				case "typedkit":
					src := &eventSink[discovery.Event]{}
					e := discovery.NewEndpointer(src, func(string) (kit.Endpoint[Req, Resp], io.Closer, error) {
						return work, nopCloser{}, nil
					})
					defer e.Close()
					evA, evB := discovery.Event{Instances: setA}, discovery.Event{Instances: setB}
					src.ch <- evA
					i := 0
					for b.Loop() {
						if i++; i%2 == 1 {
							src.ch <- evB
						} else {
							src.ch <- evA
						}
					}
				case "gokit":
					src := &eventSink[sd.Event]{}
					e := sd.NewEndpointer(src, func(string) (gokit.Endpoint, io.Closer, error) {
						return workAny, nopCloser{}, nil
					}, log.NewNopLogger())
					defer e.Close()
					evA, evB := sd.Event{Instances: setA}, sd.Event{Instances: setB}
					src.ch <- evA
					i := 0
					for b.Loop() {
						if i++; i%2 == 1 {
							src.ch <- evB
						} else {
							src.ch <- evA
						}
					}
				}
			})
		}
	}
}
