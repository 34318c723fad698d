package discovery_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
)

// benchLatency draws a service time: log-normal around median, with a
// tail (p99 ≈ 3.2 × median), like a real service's.
func benchLatency(median time.Duration) time.Duration {
	return time.Duration(float64(median) * math.Exp(0.5*rand.NormFloat64()))
}

// sleepFor returns a handler that answers after a service time drawn
// around median, or when its context ends.
func sleepFor(median time.Duration) func(context.Context, *kitServer, echoReq) (echoResp, error) {
	return func(ctx context.Context, s *kitServer, req echoReq) (echoResp, error) {
		timer := time.NewTimer(benchLatency(median))
		defer timer.Stop()
		select {
		case <-timer.C:
			return echoResp{Instance: s.addr, N: req.N}, nil
		case <-ctx.Done():
			return echoResp{}, ctx.Err()
		}
	}
}

// BenchmarkHedging calls three real httpx servers on loopback whose
// service times are log-normal around 1 ms (p99 ≈ 3.2 ms), one of them ten
// times slower, through Retry over a round robin, with and without
// hedging, one call at a time. Each iteration also calls, through a
// second endpointer, a set of only the two healthy servers, so that both
// are measured under the same load. It reports the caller's latency
// percentiles (p50-ms, p99-ms), those of the healthy set (healthy-p50-ms,
// healthy-p99-ms), the ratio of the p99s (p99/healthy-p99) and the hedges
// sent per call; ns/op covers both calls. Run it with enough calls for a
// p99, e.g. -benchtime=3000x.
func BenchmarkHedging(b *testing.B) {
	const median = time.Millisecond
	fast1, fast2 := startKitServer(b, sleepFor(median)), startKitServer(b, sleepFor(median))
	slowest := startKitServer(b, sleepFor(10*median))
	all, healthy := []string{fast1.addr, fast2.addr, slowest.addr}, []string{fast1.addr, fast2.addr}

	// Enough for the hedges of a third of the calls and more.
	budget := func() discovery.RetryOption { return discovery.RetryBudget(discovery.NewBudget(1, 10)) }
	tests := []struct {
		name string
		opts []discovery.RetryOption
	}{
		{name: "no-hedging"},
		{name: "hedge-after-2ms", opts: []discovery.RetryOption{budget(), discovery.RetryHedgeAfter(2 * time.Millisecond)}},
		{name: "hedge-p90", opts: []discovery.RetryOption{budget(), discovery.RetryHedgeAtPercentile(0.9, 0, 50*time.Millisecond)}},
		{name: "hedge-p75", opts: []discovery.RetryOption{budget(), discovery.RetryHedgeAtPercentile(0.75, 0, 50*time.Millisecond)}},
		{name: "hedge-p50", opts: []discovery.RetryOption{budget(), discovery.RetryHedgeAtPercentile(0.5, 0, 50*time.Millisecond)}},
		{name: "hedge-p75-default-budget", opts: []discovery.RetryOption{discovery.RetryHedgeAtPercentile(0.75, 0, 50*time.Millisecond)}},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			var attempts, healthyAttempts attemptCounter
			e := discovery.NewEndpointer(discovery.FixedInstancer(all), httpxFactory(&attempts))
			b.Cleanup(func() { _ = e.Close() })
			he := discovery.NewEndpointer(discovery.FixedInstancer(healthy), httpxFactory(&healthyAttempts))
			b.Cleanup(func() { _ = he.Close() })
			call := discovery.Retry(discovery.RoundRobin(e), append([]discovery.RetryOption{discovery.RetryIdempotentCalls()}, tt.opts...)...)
			reference := discovery.Retry(discovery.RoundRobin(he), discovery.RetryIdempotentCalls())
			ctx := context.Background()
			var lat, ref []time.Duration
			calls := 0
			for b.Loop() {
				for _, c := range []struct {
					ep  kit.Endpoint[echoReq, echoResp]
					lat *[]time.Duration
				}{{call, &lat}, {reference, &ref}} {
					start := time.Now()
					if _, err := c.ep(ctx, echoReq{N: calls}); err != nil {
						b.Fatal(err)
					}
					*c.lat = append(*c.lat, time.Since(start))
				}
				calls++
			}
			slices.Sort(lat)
			slices.Sort(ref)
			b.ReportMetric(ms(quantile(lat, 0.5)), "p50-ms")
			b.ReportMetric(ms(quantile(lat, 0.99)), "p99-ms")
			b.ReportMetric(ms(quantile(ref, 0.5)), "healthy-p50-ms")
			b.ReportMetric(ms(quantile(ref, 0.99)), "healthy-p99-ms")
			b.ReportMetric(float64(quantile(lat, 0.99))/float64(quantile(ref, 0.99)), "p99/healthy-p99")
			b.ReportMetric(float64(attempts.total()-calls)/float64(calls), "hedges/call")
		})
	}
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(max(int(math.Ceil(q*float64(len(sorted))))-1, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkEjection measures the call path with outlier ejection off and
// on: an endpointer's endpoint called directly, and a call through Retry
// over a round robin, to in-process endpoints that succeed, serially and
// from every P at once; and the failure path of an instance whose
// failures the ejection limit keeps from ejecting it.
func BenchmarkEjection(b *testing.B) {
	ctx := context.Background()
	for _, on := range []bool{false, true} {
		name := "off"
		var opts []discovery.EndpointerOption
		if on {
			name = "on"
			opts = append(opts, discovery.EndpointerOutlierEjection(discovery.OutlierEjection{}))
		}
		var log closeLog
		e := discovery.NewEndpointer(discovery.FixedInstancer(instanceNames(3)), nameFactory(&log), opts...)
		b.Cleanup(func() { _ = e.Close() })
		eps, _ := e.Endpoints()
		for _, c := range []struct {
			name string
			ep   kit.Endpoint[echoReq, echoResp]
		}{
			{"endpoint", eps[0]},
			{"Retry(RoundRobin)", discovery.Retry(discovery.RoundRobin(e))},
		} {
			b.Run(name+"/"+c.name+"/serial", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.ep(ctx, echoReq{N: 1}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(name+"/"+c.name+"/parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := c.ep(ctx, echoReq{N: 1}); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		}
		// A single instance is never ejected: every failure counts, and
		// every fifth takes the lock to find it may not eject.
		single := discovery.NewEndpointer(discovery.FixedInstancer{"down:1"}, failingFactory("down:1"), append(opts, quiet)...)
		b.Cleanup(func() { _ = single.Close() })
		down, _ := single.Endpoints()
		b.Run(name+"/failing-endpoint/serial", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := down[0](ctx, echoReq{N: 1}); err == nil {
					b.Fatal("no error")
				}
			}
		})
	}
}
