// Command load sends a bounded load over loopback to the example user
// service served two ways — the generated typedkit handler and a plain
// net/http handler doing the same work — and reports throughput and
// latency percentiles for each. It sends at most -n requests per server, for
// at most -duration, at -c concurrency, to 127.0.0.1 only.
//
//	go run ./cmd/load -n 20000 -c 16
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/typedkit/kit/examples/usersvc"
)

func main() {
	n := flag.Int("n", 20000, "requests per server")
	c := flag.Int("c", 16, "concurrent clients")
	duration := flag.Duration("duration", 30*time.Second, "longest run per server")
	flag.Parse()

	store := usersvc.NewStore()
	u, err := store.CreateUser(context.Background(), usersvc.CreateUserRequest{Name: "Ada", Email: "ada@example.com"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	plain := http.NewServeMux()
	plain.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		user, err := store.GetUser(r.Context(), r.PathValue("id"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(user)
	})
	servers := []struct {
		name string
		h    http.Handler
	}{
		{"typedkit", usersvc.NewHTTPHandler(usersvc.NewEndpoints(store, usersvc.Middlewares{}))},
		{"net/http", plain},
	}
	fmt.Printf("GET /users/%s, %d requests, %d concurrent, loopback\n\n", u.ID, *n, *c)
	fmt.Printf("%-10s %12s %10s %10s %10s %8s\n", "server", "req/s", "p50", "p99", "max", "errors")
	for _, s := range servers {
		res, err := load(s.h, "/users/"+u.ID, *n, *c, *duration)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("%-10s %12.0f %10s %10s %10s %8d\n", s.name, res.rps, res.p50, res.p99, res.max, res.errors)
	}
}

type result struct {
	rps           float64
	p50, p99, max time.Duration
	errors        int64
}

func load(h http.Handler, path string, n, c int, limit time.Duration) (result, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return result{}, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Close()
	url := "http://" + lis.Addr().String() + path
	tr := &http.Transport{MaxIdleConnsPerHost: c}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}

	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var next, errs atomic.Int64
	lat := make([][]time.Duration, c)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				t := time.Now()
				resp, err := client.Get(url)
				if err != nil {
					errs.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs.Add(1)
				}
				lat[w] = append(lat[w], time.Since(t))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return result{errors: errs.Load()}, nil
	}
	pct := func(p float64) time.Duration {
		return all[min(len(all)-1, int(p*float64(len(all))))].Round(time.Microsecond)
	}
	return result{rps: float64(len(all)) / elapsed.Seconds(), p50: pct(0.50), p99: pct(0.99), max: all[len(all)-1].Round(time.Microsecond), errors: errs.Load()}, nil
}
