package discoverytest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/internal/grpctest/testpb"
)

// wait bounds every wait of a fault run: generous, so that a loaded
// machine makes a run slow, never failed.
const wait = 20 * time.Second

// EchoFactory makes an httpx client of an instance's POST /echo, marked
// idempotent, with a transport of its own whose idle connections the
// closer closes.
func EchoFactory(instance string) (kit.Endpoint[EchoRequest, EchoResponse], io.Closer, error) {
	u, err := url.Parse("http://" + instance + "/echo")
	if err != nil {
		return nil, nil, err
	}
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}
	client := httpx.NewClient(http.MethodPost, u,
		httpx.EncodeJSONRequest[EchoRequest], httpx.DecodeJSONResponse[EchoResponse],
		httpx.ClientHTTPClient(&http.Client{Transport: tr}), httpx.ClientCall(kit.Call{Method: "Echo", Idempotent: true}))
	return client.Endpoint(), closerFunc(func() error { tr.CloseIdleConnections(); return nil }), nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// GRPCServiceConfig is the service config of the plain grpc-go client of a
// fault run: round_robin, and retries of UNAVAILABLE.
const GRPCServiceConfig = `{
	"loadBalancingConfig": [{"round_robin":{}}],
	"methodConfig": [{"name": [{}], "retryPolicy": {"maxAttempts": 3, "initialBackoff": "0.01s", "maxBackoff": "0.1s",
		"backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}]}`

// A Fault is one row of a backend's fault table, run by [RunFault].
type Fault struct {
	// Name names the row.
	Name string
	// Instancer follows the instances' HTTP addresses (Instance.HTTP.Addr)
	// for the typed client.
	Instancer discovery.Instancer
	// Conn, if not nil, is a plain grpc-go client of the instances' Test
	// service through the backend's resolver, with [GRPCServiceConfig].
	Conn *grpc.ClientConn
	// Instances are the instances the set starts with.
	Instances []*Instance
	// Inject breaks something and returns when, the HTTP addresses the
	// instancer's set must come to (Set), those the balancer must come to
	// offer (Balancer: Set, less what outlier ejection takes out), and a
	// note for the table.
	Inject func(t *testing.T) (at time.Time, set, balancer []string, note string)
	// ResolverMayFail says that the grpc-go client may fail calls in this
	// fault: it has no per-attempt timeout, so a call to an instance that
	// never answers fails at its deadline.
	ResolverMayFail bool
}

// RunFault runs one fault row: a typed client (an Endpointer with outlier
// ejection, RoundRobin, Retry of idempotent calls with a 250 ms attempt
// timeout and a budget of 0.5) and, if the row has one, the plain grpc-go
// client call the instances under load while the fault happens. It
// measures how long until the balancer offers the right instances and
// until the instancer's set is right, and asserts only that both get right
// and that the typed client's calls do not fail (and the grpc-go client's,
// unless ResolverMayFail).
func RunFault(t *testing.T, f Fault) FaultRow {
	t.Helper()
	var all []string
	for _, in := range f.Instances {
		all = append(all, in.HTTP.Addr)
	}
	w := Watch(t, f.Instancer)
	endpointer := discovery.NewEndpointer(f.Instancer, EchoFactory,
		discovery.EndpointerLogger(slog.New(slog.DiscardHandler)),
		discovery.EndpointerOutlierEjection(discovery.OutlierEjection{ConsecutiveFailures: 3}))
	t.Cleanup(func() { assert.NoError(t, endpointer.Close()) })
	call := discovery.Retry(discovery.RoundRobin(endpointer),
		discovery.RetryIdempotentCalls(),
		discovery.RetryMaxAttempts(3),
		discovery.RetryAttemptTimeout(250*time.Millisecond),
		discovery.RetryBudget(discovery.NewBudget(0.5, 10)))
	w.WaitFor(t, 0, wait, "every instance", HasInstances(all...))
	active := func() []string {
		return slices.DeleteFunc(endpointer.Instances(), func(s string) bool { return slices.Contains(endpointer.Ejected(), s) })
	}
	require.Eventually(t, func() bool { return len(active()) == len(all) }, wait, time.Millisecond)

	var tc testpb.TestClient
	if f.Conn != nil {
		tc = testpb.NewTestClient(f.Conn)
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			seen := map[string]bool{}
			for range 4 * len(all) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				reply, err := tc.Sum(ctx, &testpb.SumRequest{}, grpc.WaitForReady(true))
				cancel()
				if assert.NoError(c, err) {
					seen[reply.C] = true
				}
			}
			assert.Len(c, seen, len(all))
		}, wait, 10*time.Millisecond, "the grpc-go client reaches every instance")
	}

	typed := StartLoad(4, time.Millisecond, func(n int) error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := call(ctx, EchoRequest{N: n})
		return err
	})
	var resolved *Load
	if tc != nil {
		resolved = StartLoad(2, time.Millisecond, func(int) error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_, err := tc.Sum(ctx, &testpb.SumRequest{}, grpc.WaitForReady(true))
			return err
		})
	}
	time.Sleep(300 * time.Millisecond)

	mark := w.Mark()
	at, set, balancer, note := f.Inject(t)
	slices.Sort(set)
	slices.Sort(balancer)
	row := FaultRow{Fault: f.Name, Note: note}
	row.Balancer = Until(t, at, wait, "the balancer offers the right instances", func() bool {
		return slices.Equal(active(), balancer)
	})
	if slices.Equal(set, all) {
		row.Set = 0 // the registry does not change
	} else {
		ev := w.WaitFor(t, mark, wait, "the right set", HasInstances(set...))
		row.Set = ev.At.Sub(at)
	}
	for _, e := range w.Events()[mark:] {
		t.Logf("event %+8.0f ms: %d instances, err %v", float64(e.At.Sub(at))/1e6, len(e.Instances), e.Err)
	}
	require.Eventually(t, func() bool { return slices.Equal(endpointer.Instances(), set) }, wait, time.Millisecond,
		"the endpointer follows the instancer")
	time.Sleep(300 * time.Millisecond) // calls go on over the right set

	row.Typed = typed.Stop()
	t.Logf("typed client: %d calls, %d failed (first: %v)", row.Typed.Calls, row.Typed.Failures, row.Typed.First)
	if resolved != nil {
		r := resolved.Stop()
		row.Resolver = &r
		t.Logf("grpc-go client: %d calls, %d failed (first: %v)", r.Calls, r.Failures, r.First)
		if !f.ResolverMayFail {
			assert.Zero(t, r.Failures, "grpc-go's retries cover the fault")
		}
	}
	t.Logf("the balancer was right after %v, the set after %v (%s)", row.Balancer, row.Set, note)
	assert.Zero(t, row.Typed.Failures, "the typed client's retries cover the fault")
	return row
}
