package bench

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gokit "github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/sd"
	gokitconsul "github.com/go-kit/kit/sd/consul"
	"github.com/go-kit/log"
	"github.com/hashicorp/consul/api"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
	"github.com/typedkit/kit/discovery/consul"
	"github.com/typedkit/kit/internal/consultest"
)

const (
	followInstances = 1000
	followRate      = 100 // changes a second
	followWindow    = 3 * time.Second
)

// cpuTime returns the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// window measures the CPU time and the bytes allocated by this process
// while changes are made for followWindow, and how many changes were made.
func window(changes func(time.Duration) int) (cpu time.Duration, alloc uint64, made int) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c0 := cpuTime()
	made = changes(followWindow)
	cpu = cpuTime() - c0
	runtime.ReadMemStats(&after)
	return cpu, after.TotalAlloc - before.TotalAlloc, made
}

// BenchmarkFollow measures the cost of following a service of 1,000
// instances in a real Consul agent while its set changes 100 times a
// second (one instance deregistered or registered again every 10 ms):
// typedkit's consul.Instancer and Endpointer against go-kit's sd/consul
// Instancer and sd.Endpointer, on the same agent. Each run measures this
// process's CPU time (getrusage) over a window of changes with nothing
// following them, then over a window with the follower, and reports the
// difference per second of following in cpu-ms/s (and allocated MB/s),
// the changes made per second and the follower's queries per second. An op is
// one pair of windows; ns/op means nothing here.
func BenchmarkFollow(b *testing.B) {
	agent, err := consultest.New()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = agent.Close() })
	client, err := api.NewClient(&api.Config{Address: agent.Addr, Scheme: "http", Transport: agent.Transport(nil)})
	if err != nil {
		b.Fatal(err)
	}
	const service = "follow"
	reg := func(i int) *api.AgentServiceRegistration {
		return &api.AgentServiceRegistration{ID: fmt.Sprintf("follow-%d", i), Name: service,
			Address: fmt.Sprintf("10.%d.%d.%d", i/62500, i/250%250, i%250+1), Port: 8080}
	}
	for i := range followInstances {
		if err := client.Agent().ServiceRegister(reg(i)); err != nil {
			b.Fatal(err)
		}
	}
	// changes makes followRate changes a second for d and returns how many
	// it made: at each tick, alternately, it deregisters the next instance
	// or registers again the one it deregistered 25 ticks of that kind
	// before (half a second earlier). Each change is a call of its own, so
	// that a slow answer of the agent does not slow the rate.
	next := 0
	changes := func(d time.Duration) int {
		tick := time.NewTicker(time.Second / followRate)
		defer tick.Stop()
		end := time.Now().Add(d)
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			made int
			fail error
		)
		for time.Now().Before(end) {
			<-tick.C
			k := next
			next++
			wg.Go(func() {
				var err error
				if k%2 == 0 {
					err = client.Agent().ServiceDeregister(reg(k / 2 % followInstances).ID)
				} else {
					err = client.Agent().ServiceRegister(reg((k/2 - 25 + followInstances) % followInstances))
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil && fail == nil {
					fail = err
				}
				made++
			})
		}
		wg.Wait()
		if fail != nil {
			b.Fatal(fail)
		}
		return made
	}

	// Each follower has a client of its own, which counts the follower's
	// queries.
	var queries atomic.Int64
	followerClient := func(b *testing.B) *api.Client {
		tr := agent.Transport(nil)
		c, err := api.NewClient(&api.Config{Address: agent.Addr, Scheme: "http",
			HttpClient: &http.Client{Transport: countingTransport{tr, &queries}}})
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	// Each follower returns once its endpointer has the instances, and a
	// function that stops it.
	impls := map[string]func(b *testing.B) (stop func()){
		"typedkit": func(b *testing.B) func() {
			inst, err := consul.NewInstancer(followerClient(b), service)
			if err != nil {
				b.Fatal(err)
			}
			e := discovery.NewEndpointer(inst, func(string) (kit.Endpoint[Req, Resp], io.Closer, error) {
				return work, nopCloser{}, nil
			})
			waitFor(b, func() bool { eps, _ := e.Endpoints(); return len(eps) >= followInstances-50 })
			return func() { _ = e.Close(); inst.Stop() }
		},
		"gokit": func(b *testing.B) func() {
			inst := gokitconsul.NewInstancer(gokitconsul.NewClient(followerClient(b)), log.NewNopLogger(), service, nil, true)
			e := sd.NewEndpointer(inst, func(string) (gokit.Endpoint, io.Closer, error) {
				return workAny, nopCloser{}, nil
			}, log.NewNopLogger())
			waitFor(b, func() bool { eps, _ := e.Endpoints(); return len(eps) >= followInstances-50 })
			return func() { e.Close(); inst.Stop() }
		},
	}
	name := fmt.Sprintf("instances=%d,changes_per_s=%d", followInstances, followRate)
	for _, impl := range rotate([]string{"typedkit", "gokit"}) {
		b.Run(name+"/"+impl, func(b *testing.B) {
			b.ReportAllocs()
			var cpu, base time.Duration
			var alloc, baseAlloc uint64
			var made int
			var asked int64
			for range b.N {
				bc, ba, _ := window(changes)
				stop := impls[impl](b)
				q0 := queries.Load()
				c, a, n := window(changes)
				asked += queries.Load() - q0
				made += n
				stop()
				cpu, base = cpu+c, base+bc
				alloc, baseAlloc = alloc+a, baseAlloc+ba
			}
			secs := float64(b.N) * followWindow.Seconds()
			b.ReportMetric(float64(cpu-base)/float64(time.Millisecond)/secs, "cpu-ms/s")
			b.ReportMetric((float64(alloc)-float64(baseAlloc))/1e6/secs, "alloc-MB/s")
			b.ReportMetric(float64(made)/secs, "changes/s")
			b.ReportMetric(float64(asked)/secs, "queries/s")
		})
	}
}

// countingTransport counts the requests it sends.
type countingTransport struct {
	http.RoundTripper
	n *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.RoundTripper.RoundTrip(r)
}

// waitFor polls cond until it holds, for up to a minute.
func waitFor(b *testing.B, cond func() bool) {
	b.Helper()
	end := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(end) {
			b.Fatal("the follower did not get the instances within a minute")
		}
		time.Sleep(time.Millisecond)
	}
}
