// Command report runs the side-by-side benchmarks of this module and writes
// BENCHMARKS.md: for each benchmark, every implementation's ns/op, B/op and
// allocs/op (medians over -count runs) and typedkit's ratio to each peer,
// all measured in the same run, with the Go version, the CPU and the date.
// Each of the -count rounds runs every benchmark once, so that the
// implementations alternate in time.
// The raw output goes to bench/results.txt, ready for benchstat.
//
//	go run ./cmd/report            # from bench/
//	go run ./cmd/report -count 10 -benchtime 200ms
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	count := flag.Int("count", 8, "rounds: runs of each benchmark")
	benchtime := flag.String("benchtime", "300ms", "time of each run (-benchtime of go test)")
	out := flag.String("out", "../BENCHMARKS.md", "report file")
	raw := flag.String("raw", "results.txt", "raw go test output, for benchstat")
	bench := flag.String("bench", ".", "benchmarks to run (-bench of go test)")
	flag.Parse()

	// Build the test binary once and run it -count times, each run going
	// through every benchmark once: the implementations of a benchmark
	// alternate in time, so a drift of the machine's speed during the run
	// weighs on all of them alike.
	dir, err := os.MkdirTemp("", "typedkit-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bench.test")
	build := exec.Command("go", "test", "-c", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "report: go test -c:", err)
		os.Exit(1)
	}
	var output []byte
	for round := 1; round <= *count; round++ {
		fmt.Fprintf(os.Stderr, "round %d of %d\n", round, *count)
		cmd := exec.Command(bin, "-test.run", "^$", "-test.bench", *bench, "-test.benchmem", "-test.benchtime", *benchtime)
		cmd.Env = append(os.Environ(), "TYPEDKIT_BENCH_ROUND="+strconv.Itoa(round))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			fmt.Fprintf(os.Stderr, "report: benchmarks: %v\n%s", err, out)
			os.Exit(1)
		}
		output = append(output, out...)
	}
	if err := os.WriteFile(*raw, output, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	goVersion, _ := exec.Command("go", "env", "GOVERSION").Output()
	r := parse(output)
	r.goVersion = strings.TrimSpace(string(goVersion))
	r.count, r.benchtime = *count, *benchtime
	if err := os.WriteFile(*out, []byte(r.markdown()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "wrote", *out)
}

type sample struct {
	ns, bytes, allocs []float64
	extra             map[string][]float64 // metrics of b.ReportMetric, by unit
}

type result struct {
	cpu, goos, goarch, goVersion string
	count                        int
	benchtime                    string
	groups                       []string
	impls                        map[string][]string
	samples                      map[string]*sample // group/impl → samples
}

// line matches a benchmark's result line: its name, its GOMAXPROCS suffix
// and its metrics, each a value and a unit ("12.5 ns/op", "3.1 cpu-ms/s").
var (
	line   = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+((?:\s+[\d.e+-]+ \S+)+)\s*$`)
	metric = regexp.MustCompile(`([\d.e+-]+) (\S+)`)
)

func parse(out []byte) *result {
	r := &result{impls: map[string][]string{}, samples: map[string]*sample{}}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		text := sc.Text()
		switch {
		case strings.HasPrefix(text, "cpu: "):
			r.cpu = strings.TrimPrefix(text, "cpu: ")
		case strings.HasPrefix(text, "goos: "):
			r.goos = strings.TrimPrefix(text, "goos: ")
		case strings.HasPrefix(text, "goarch: "):
			r.goarch = strings.TrimPrefix(text, "goarch: ")
		}
		m := line.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		name := m[1]
		i := strings.LastIndex(name, "/")
		if i < 0 {
			continue
		}
		group, impl := name[:i], name[i+1:]
		if _, ok := r.impls[group]; !ok {
			r.groups = append(r.groups, group)
		}
		if !slices.Contains(r.impls[group], impl) {
			r.impls[group] = append(r.impls[group], impl)
		}
		s := r.samples[name]
		if s == nil {
			s = &sample{extra: map[string][]float64{}}
			r.samples[name] = s
		}
		for _, mv := range metric.FindAllStringSubmatch(m[3], -1) {
			v, _ := strconv.ParseFloat(mv[1], 64)
			switch mv[2] {
			case "ns/op":
				s.ns = append(s.ns, v)
			case "B/op":
				s.bytes = append(s.bytes, v)
			case "allocs/op":
				s.allocs = append(s.allocs, v)
			default:
				s.extra[mv[2]] = append(s.extra[mv[2]], v)
			}
		}
	}
	return r
}

// memory returns the machine's memory from /proc/meminfo, or "memory
// unknown".
func memory() string {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "memory unknown"
	}
	for l := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(l, "MemTotal:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err == nil {
				return fmt.Sprintf("%.1f GiB of memory", kb/(1<<20))
			}
		}
	}
	return "memory unknown"
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (r *result) get(group, impl string) (ns, bytes, allocs float64, ok bool) {
	s := r.samples[group+"/"+impl]
	if s == nil {
		return 0, 0, 0, false
	}
	return median(s.ns), median(s.bytes), median(s.allocs), true
}

// extra returns the median of a metric that a benchmark reported with
// b.ReportMetric.
func (r *result) extra(group, impl, unit string) (float64, bool) {
	s := r.samples[group+"/"+impl]
	if s == nil || len(s.extra[unit]) == 0 {
		return 0, false
	}
	return median(s.extra[unit]), true
}

// following reports whether group measures the cost of following a
// registry, whose op is a window of time: it has a table of its own.
func (r *result) following(group string) bool {
	for _, impl := range r.impls[group] {
		if _, ok := r.extra(group, impl, "cpu-ms/s"); ok {
			return true
		}
	}
	return false
}

func fmtNS(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.1f ns", ns)
}

func (r *result) markdown() string {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("typedkit side by side with go-kit/kit v0.13.0, plain net/http, plain grpc-go, connect-go and vtprotobuf, doing the same work\n")
	b.WriteString("(`{\"a\":1,\"b\":\"x\"}` in, `{\"c\":\"x\"}` out, or its protobuf equivalent; lists of users of 100 B, 10 KB and 1 MB\n")
	b.WriteString("for the size rows; 100 users for the message rows), all measured in one run of\n")
	b.WriteString("`go run ./cmd/report` in `bench/`. Figures are medians over the runs; a ratio is typedkit's time\n")
	b.WriteString("divided by the peer's (below 1.00: typedkit is faster). The raw output is in `bench/results.txt`\n(not committed; run benchstat on it).\n\n")
	fmt.Fprintf(&b, "- Date: %s\n- Go: %s (%s/%s)\n- Machine: %s, %d logical CPUs, %s (a shared VM: single runs vary by up to 2×, hence the medians)\n- Runs: %d rounds of every benchmark, -benchtime %s each\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), r.goVersion, r.goos, r.goarch, r.cpu, runtime.NumCPU(), memory(), r.count, r.benchtime)

	b.WriteString("## Goals\n\n")
	for _, g := range r.goals() {
		b.WriteString("- " + g + "\n")
	}
	b.WriteString("\n## Results\n\n")
	b.WriteString("| benchmark | implementation | time/op | B/op | allocs/op | typedkit ÷ this |\n|---|---|---:|---:|---:|---:|\n")
	for _, g := range r.groups {
		if r.following(g) {
			continue
		}
		tns, _, _, hasTyped := r.get(g, "typedkit")
		for _, impl := range r.impls[g] {
			ns, bs, al, _ := r.get(g, impl)
			ratio := ""
			if hasTyped && impl != "typedkit" && ns > 0 {
				ratio = fmt.Sprintf("%.2f", tns/ns)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %.0f | %.0f | %s |\n", strings.TrimPrefix(g, "Benchmark"), impl, fmtNS(ns), bs, al, ratio)
		}
	}
	for _, g := range r.groups {
		if !r.following(g) {
			continue
		}
		fmt.Fprintf(&b, "\n## %s\n\n", strings.TrimPrefix(g, "Benchmark"))
		b.WriteString("The CPU time of this process while it follows the service, less that of the same changes made with nothing following them, per second of following and per query the follower ran (medians over the runs; see BenchmarkFollow). A query's answer covers every change made while the previous one was answered and decoded.\n\n")
		b.WriteString("| implementation | changes/s made | queries/s | CPU ms/s | CPU ms per query | allocated MB/s |\n|---|---:|---:|---:|---:|---:|\n")
		for _, impl := range r.impls[g] {
			ch, _ := r.extra(g, impl, "changes/s")
			qs, _ := r.extra(g, impl, "queries/s")
			cpu, _ := r.extra(g, impl, "cpu-ms/s")
			mb, _ := r.extra(g, impl, "alloc-MB/s")
			per := 0.0
			if qs > 0 {
				per = cpu / qs
			}
			fmt.Fprintf(&b, "| %s | %.0f | %.1f | %.1f | %.1f | %.1f |\n", impl, ch, qs, cpu, per, mb)
		}
	}
	return b.String()
}

// goals states each goal of the report with the figure that meets or
// misses it.
func (r *result) goals() []string {
	var out []string
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**missed**"
	}
	// Chain: 0 allocs at every depth; at least 5× faster than go-kit at 5.
	allZero := true
	for _, d := range []string{"0", "1", "5", "10", "50"} {
		if _, _, al, ok := r.get("BenchmarkChain/depth="+d, "typedkit"); ok && al != 0 {
			allZero = false
		}
	}
	out = append(out, fmt.Sprintf("Chain allocates nothing at any depth: %s.", verdict(allZero)))
	if t, _, _, ok := r.get("BenchmarkChain/depth=5", "typedkit"); ok {
		if g, _, _, ok := r.get("BenchmarkChain/depth=5", "gokit"); ok && t > 0 {
			out = append(out, fmt.Sprintf("Chain of 5 at least 5× faster than go-kit: %.1f× (%s vs %s): %s.", g/t, fmtNS(t), fmtNS(g), verdict(g/t >= 5)))
		}
	}
	if t, _, al, ok := r.get("BenchmarkChain/depth=5", "typedkit-interceptors"); ok {
		if g, _, _, ok := r.get("BenchmarkChain/depth=5", "gokit"); ok && t > 0 {
			out = append(out, fmt.Sprintf("Five interceptors allocate nothing: %.0f allocs, %s (go-kit's chain of 5: %s, %.2f×): %s.", al, fmtNS(t), fmtNS(g), t/g, verdict(al == 0)))
		}
	}
	ratioGoal := func(label, group, peer string, max float64) {
		t, tb, ta, ok1 := r.get(group, "typedkit")
		p, pb, pa, ok2 := r.get(group, peer)
		if !ok1 || !ok2 || p == 0 {
			return
		}
		out = append(out, fmt.Sprintf("%s: ratio %.3f (goal ≤ %.2f), %.0f vs %.0f allocs, %.0f vs %.0f B: %s.",
			label, t/p, max, ta, pa, tb, pb, verdict(t/p <= max && ta <= pa)))
	}
	// Large messages: time and bytes against the best peer.
	sizeGoal := func(label, group, peer string, maxTime, maxBytes, maxAllocs float64) {
		t, tb, ta, ok1 := r.get(group, "typedkit")
		p, pb, pa, ok2 := r.get(group, peer)
		if !ok1 || !ok2 || p == 0 || pb == 0 {
			return
		}
		ok := t/p <= maxTime
		goal := fmt.Sprintf("time ≤ %.2f×", maxTime)
		if maxBytes > 0 {
			ok = ok && tb/pb <= maxBytes
			goal += fmt.Sprintf(", bytes ≤ %.2f×", maxBytes)
		}
		if maxAllocs > 0 {
			ok = ok && ta <= maxAllocs
			goal += fmt.Sprintf(", ≤ %.0f allocs", maxAllocs)
		}
		out = append(out, fmt.Sprintf("%s (%s): time %.3f× (%s vs %s), bytes %.2f× (%.0f vs %.0f B), %.0f vs %.0f allocs: %s.",
			label, goal, t/p, fmtNS(t), fmtNS(p), tb/pb, tb, pb, ta, pa, verdict(ok)))
	}
	sizeGoal("1 MB JSON response over loopback vs net/http", "BenchmarkHTTPSize/size=1MB", "nethttp", 1.00, 1.20, 0)
	sizeGoal("1 MB gRPC echo over loopback vs grpc-go with protobuf-go", "BenchmarkGRPCSize/size=1MB", "grpcgo", 0.70, 0, 0)
	sizeGoal("Unmarshal of 100 users vs vtprotobuf", "BenchmarkMessage/list100/unmarshal", "vtprotobuf", 0.70, 0, 110)
	ratioGoal("HTTP in process vs net/http", "BenchmarkHTTPInProcess/recorder", "nethttp", 1.00)
	// The generated JSON codecs: examples/usersvc's CreateUser types.
	speedGoal := func(label, group string, min float64) {
		t, tb, ta, ok1 := r.get(group, "typedkit")
		p, pb, pa, ok2 := r.get(group, "encodingjson")
		if !ok1 || !ok2 || t == 0 {
			return
		}
		out = append(out, fmt.Sprintf("%s: %.1f× as fast as encoding/json (goal ≥ %.0f× with fewer allocations), %.0f vs %.0f allocs, %.0f vs %.0f B: %s.",
			label, p/t, min, ta, pa, tb, pb, verdict(p/t >= min && ta < pa)))
	}
	speedGoal("Generated JSON decode of usersvc's CreateUserRequest", "BenchmarkJSONDecode/CreateUserRequest", 3)
	speedGoal("Generated JSON encode of usersvc's User", "BenchmarkJSONEncode/User", 3)
	ratioGoal("Generated HTTP route (usersvc's CreateUser) in process vs net/http + encoding/json", "BenchmarkHTTPGenerated/recorder", "nethttp", 0.70)
	ratioGoal("HTTP loopback, sequential, vs net/http", "BenchmarkHTTPLoopback/sequential", "nethttp", 1.00)
	ratioGoal("HTTP loopback, parallel, vs net/http", "BenchmarkHTTPLoopback/parallel", "nethttp", 1.00)
	for _, tr := range []string{"bufconn", "loopback"} {
		ratioGoal("gRPC server over "+tr+" vs grpc-go", "BenchmarkGRPCServer/"+tr, "grpcgo", 1.02)
		ratioGoal("gRPC client over "+tr+" vs grpc-go", "BenchmarkGRPCClient/"+tr, "grpcgo", 1.02)
	}
	// Streams: throughput per message against the peers, and what a
	// stalled consumer makes a server hold.
	for _, sz := range []string{"small", "10KB"} {
		ratioGoal("gRPC server stream of "+sz+" messages vs grpc-go", "BenchmarkGRPCServerStream/size="+sz, "grpcgo", 1.00)
		ratioGoal("gRPC server stream of "+sz+" messages vs connect-go", "BenchmarkGRPCServerStream/size="+sz, "connect", 1.00)
		ratioGoal("SSE stream of "+sz+" events vs a hand-written net/http SSE handler", "BenchmarkHTTPServerStream/format=sse/size="+sz, "nethttp", 1.00)
	}
	if t, ok := r.extra("BenchmarkStalledConsumer/grpc", "typedkit", "held-B"); ok {
		line := fmt.Sprintf("Heap a stalled gRPC stream consumer makes the server hold: typedkit %.0f KB", t/1024)
		if g, ok := r.extra("BenchmarkStalledConsumer/grpc", "grpcgo", "held-B"); ok {
			line += fmt.Sprintf(", grpc-go %.0f KB", g/1024)
		}
		if h, ok := r.extra("BenchmarkStalledConsumer/sse", "typedkit", "held-B"); ok {
			line += fmt.Sprintf("; over SSE, typedkit %.0f KB", h/1024)
		}
		out = append(out, line+" (goal: bounded, under 1 MB): "+verdict(t < 1<<20)+".")
	}
	for _, g := range []string{"BenchmarkBreaker/gobreaker", "BenchmarkBreaker/adaptive", "BenchmarkLimiter/erroring", "BenchmarkLimiter/inflight"} {
		if t, _, al, ok := r.get(g, "typedkit"); ok {
			out = append(out, fmt.Sprintf("%s adds no allocation: %.0f allocs/op, %s: %s.", strings.TrimPrefix(g, "Benchmark"), al, fmtNS(t), verdict(al == 0)))
		}
	}
	out = append(out, r.discoveryGoals(verdict)...)
	if t, _, _, ok := r.get("BenchmarkBreaker/adaptive", "typedkit"); ok {
		out = append(out, fmt.Sprintf("Adaptive breaker at most 30 ns per call: %s: %s.", fmtNS(t), verdict(t <= 30)))
	}
	return out
}

// discoveryGoals states the goals of the discovery benchmarks.
func (r *result) discoveryGoals(verdict func(bool) string) []string {
	var out []string
	const g = "BenchmarkEndpointerUpdate/instances="
	if t, _, _, ok := r.get(g+"1000", "typedkit"); ok {
		if p, _, _, ok := r.get(g+"1000", "gokit"); ok && p > 0 {
			out = append(out, fmt.Sprintf("Endpointer update of 1,000 instances (one replaced) at most go-kit's time: ratio %.2f (%s vs %s): %s.", t/p, fmtNS(t), fmtNS(p), verdict(t <= p)))
		}
	}
	for _, fg := range r.groups {
		if !r.following(fg) {
			continue
		}
		tc, ok1 := r.extra(fg, "typedkit", "cpu-ms/s")
		gc, ok2 := r.extra(fg, "gokit", "cpu-ms/s")
		tn, _ := r.extra(fg, "typedkit", "changes/s")
		gn, _ := r.extra(fg, "gokit", "changes/s")
		if ok1 && ok2 && gc > 0 {
			out = append(out, fmt.Sprintf("Following 1,000 instances in Consul at 100 changes/s costs at most go-kit's CPU: %.1f vs %.1f CPU ms per second (%.0f and %.0f changes/s made), ratio %.2f: %s.",
				tc, gc, tn, gn, tc/gc, verdict(tc <= gc)))
		}
	}
	_, _, a3, ok3 := r.get(g+"3", "typedkit")
	_, _, a1000, ok1000 := r.get(g+"1000", "typedkit")
	if ok3 && ok1000 {
		out = append(out, fmt.Sprintf("Endpointer update allocates nothing per instance that stays: %.0f allocs at 3 instances, %.0f at 1,000: %s.", a3, a1000, verdict(a1000 <= a3)))
	}
	return out
}
