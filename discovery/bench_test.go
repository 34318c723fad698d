package discovery_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
)

func benchEndpointer(b *testing.B, n int) *discovery.Endpointer[echoReq, echoResp] {
	b.Helper()
	var log closeLog
	e := discovery.NewEndpointer(discovery.FixedInstancer(instanceNames(n)), nameFactory(&log))
	b.Cleanup(func() { _ = e.Close() })
	return e
}

// BenchmarkEndpoints measures the endpointer's read path, serially and from
// every P at once.
func BenchmarkEndpoints(b *testing.B) {
	e := benchEndpointer(b, 10)
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if eps, _ := e.Endpoints(); len(eps) != 10 {
				b.Fatal("wrong set")
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if eps, _ := e.Endpoints(); len(eps) != 10 {
					b.Fatal("wrong set")
				}
			}
		})
	})
}

// BenchmarkBalancer measures one pick of each balancer over 3 and 10
// instances, serially and from every P at once.
func BenchmarkBalancer(b *testing.B) {
	for _, n := range []int{3, 10} {
		e := benchEndpointer(b, n)
		for _, bt := range balancers {
			bal := bt.new(e)
			b.Run(bt.name+"/"+strconv.Itoa(n)+"/serial", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := bal.Endpoint(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(bt.name+"/"+strconv.Itoa(n)+"/parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := bal.Endpoint(); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		}
	}
}

// BenchmarkRetry measures a call through Retry, a round robin and the
// endpointer's in-flight counting to an in-process endpoint that succeeds,
// against calling that endpoint directly.
func BenchmarkRetry(b *testing.B) {
	e := benchEndpointer(b, 3)
	eps, _ := e.Endpoints()
	ctx := context.Background()
	for _, c := range []struct {
		name string
		ep   kit.Endpoint[echoReq, echoResp]
	}{
		{"direct", eps[0]},
		{"Retry(RoundRobin)", discovery.Retry(discovery.RoundRobin(e))},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.ep(ctx, echoReq{N: 1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
