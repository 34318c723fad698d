package breaker_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afex/hystrix-go/hystrix"
	metricCollector "github.com/afex/hystrix-go/hystrix/metric_collector"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/breaker"
)

// hystrixResults holds what hystrix records of each command's calls,
// through a metric collector registered once for the tests.
var hystrixResults = struct {
	sync.Mutex
	byCommand map[string]*metricCollector.MetricResult
}{byCommand: map[string]*metricCollector.MetricResult{}}

var registerCollector = sync.OnceFunc(func() {
	metricCollector.Registry.Register(func(name string) metricCollector.MetricCollector {
		return collector(name)
	})
})

type collector string

func (c collector) Update(r metricCollector.MetricResult) {
	hystrixResults.Lock()
	defer hystrixResults.Unlock()
	sum := hystrixResults.byCommand[string(c)]
	if sum == nil {
		sum = new(metricCollector.MetricResult)
		hystrixResults.byCommand[string(c)] = sum
	}
	sum.Attempts += r.Attempts
	sum.Successes += r.Successes
	sum.Failures += r.Failures
}

func (collector) Reset() {}

func recorded(command string) metricCollector.MetricResult {
	hystrixResults.Lock()
	defer hystrixResults.Unlock()
	if r := hystrixResults.byCommand[command]; r != nil {
		return *r
	}
	return metricCollector.MetricResult{}
}

// services counts the services the tests make calls of.
var services atomic.Int64

// newCall returns the Call of a method of a new service, named after the
// test. hystrix keeps its circuits for the life of the process, by command
// name, which Hystrix takes from the method's Procedure; so each run of a
// test needs a service of its own.
func newCall(t *testing.T) kit.Call {
	registerCollector()
	return kit.Call{Service: fmt.Sprintf("%s#%d", t.Name(), services.Add(1)), Method: "Get"}
}

// hystrixEndpoint wraps ep in Hystrix for a method of a new service, whose
// command it configures with cfg, and returns the command's name.
func hystrixEndpoint(t *testing.T, cfg hystrix.CommandConfig, ep kit.Endpoint[string, string], opts ...breaker.Option) (kit.Endpoint[string, string], string) {
	call := newCall(t)
	configured := 0
	wrapped := kit.Intercept(ep, call, breaker.Hystrix(func(c kit.Call) hystrix.CommandConfig {
		configured++
		assert.Equal(t, call.Procedure(), c.Procedure())
		return cfg
	}, opts...))
	require.Equal(t, 1, configured, "the command is configured when the chain is built")
	return wrapped, call.Procedure()
}

func TestHystrixClassifier(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		err          error
		opts         []breaker.Option
		wantFailures float64
	}{
		{"success", nil, nil, 0},
		{"caller error is a success", errNotFound, nil, 0},
		{"canceled is a success", context.Canceled, nil, 0},
		{"failure", errInternal, nil, 5},
		{"custom classifier", errNotFound, []breaker.Option{breaker.Classify(func(error) bool { return true })}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ep, name := hystrixEndpoint(t, hystrix.CommandConfig{Timeout: 10_000, RequestVolumeThreshold: 1000},
				func(_ context.Context, id string) (string, error) { return "user " + id, tt.err }, tt.opts...)
			for range 5 {
				resp, err := ep(context.Background(), "42")
				if tt.err == nil {
					require.NoError(t, err)
				} else {
					assert.Same(t, tt.err, err, "the endpoint's error, unchanged")
				}
				assert.Equal(t, "user 42", resp, "the endpoint's response comes back with its error")
			}
			require.Eventually(t, func() bool { return recorded(name).Attempts == 5 }, 5*time.Second, time.Millisecond)
			got := recorded(name)
			assert.Equal(t, tt.wantFailures, got.Failures)
			assert.Equal(t, 5-tt.wantFailures, got.Successes)
		})
	}
}

func TestHystrixOpens(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := 0
	ep, _ := hystrixEndpoint(t, hystrix.CommandConfig{
		Timeout:                10_000,
		RequestVolumeThreshold: 5,
		ErrorPercentThreshold:  50,
		SleepWindow:            60_000,
	}, func(context.Context, string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return "", errInternal
	})
	// hystrix opens the circuit once its metrics, which it gathers on
	// another goroutine, show enough failures; call until it does.
	var err error
	require.Eventually(t, func() bool {
		_, err = ep(context.Background(), "")
		return kit.CodeOf(err) == kit.Unavailable
	}, 5*time.Second, time.Millisecond)
	assertRejected(t, err, hystrix.ErrCircuitOpen)

	mu.Lock()
	before := calls
	mu.Unlock()
	_, err = ep(context.Background(), "")
	assertRejected(t, err, hystrix.ErrCircuitOpen)
	mu.Lock()
	assert.Equal(t, before, calls, "a rejected call does not reach the endpoint")
	mu.Unlock()
}

func TestHystrixMaxConcurrency(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	ep, _ := hystrixEndpoint(t, hystrix.CommandConfig{Timeout: 10_000, MaxConcurrentRequests: 1}, func(_ context.Context, id string) (string, error) {
		if id == "first" {
			close(entered)
			<-release
		}
		return id, nil
	})
	first := make(chan error)
	go func() {
		_, err := ep(context.Background(), "first")
		first <- err
	}()
	<-entered

	resp, err := ep(context.Background(), "second")
	assertRejected(t, err, hystrix.ErrMaxConcurrency)
	assert.Empty(t, resp)

	close(release)
	assert.NoError(t, <-first)
}

// blockUntilDone is an endpoint that waits for its context to end and
// reports that it saw it end.
func blockUntilDone(entered, sawDone chan<- struct{}) kit.Endpoint[string, string] {
	return func(ctx context.Context, _ string) (string, error) {
		close(entered)
		<-ctx.Done()
		close(sawDone)
		return "", ctx.Err()
	}
}

func TestHystrixTimeout(t *testing.T) {
	t.Parallel()
	entered, sawDone := make(chan struct{}), make(chan struct{})
	ep, _ := hystrixEndpoint(t, hystrix.CommandConfig{Timeout: 1}, blockUntilDone(entered, sawDone))

	resp, err := ep(context.Background(), "")
	assert.Empty(t, resp)
	assert.Equal(t, kit.DeadlineExceeded, kit.CodeOf(err))
	assert.ErrorIs(t, err, hystrix.ErrTimeout)
	assert.IsType(t, (*kit.Error)(nil), err, "a kit error, not hystrix's")
	assertStopped(t, entered, sawDone)
}

// assertStopped asserts that an endpoint made by blockUntilDone that
// hystrix gave up on had been told to stop, and had returned, when the
// call returned; unless hystrix gave up before it started, in which case
// it never starts.
func assertStopped(t *testing.T, entered, sawDone <-chan struct{}) {
	t.Helper()
	select {
	case <-entered:
	default:
		return
	}
	select {
	case <-sawDone:
	default:
		t.Fatal("the call returned before the endpoint hystrix gave up on")
	}
}

func TestHystrixContextEnds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		ctx      func() (context.Context, context.CancelFunc)
		cancel   bool // cancel once the endpoint runs
		wantCode kit.Code
		wantErr  error
	}{
		{
			name:     "canceled",
			ctx:      func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) },
			cancel:   true,
			wantCode: kit.Canceled,
			wantErr:  context.Canceled,
		},
		{
			name: "deadline",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), time.Millisecond)
			},
			wantCode: kit.DeadlineExceeded,
			wantErr:  context.DeadlineExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			entered, sawDone := make(chan struct{}), make(chan struct{})
			ep, _ := hystrixEndpoint(t, hystrix.CommandConfig{Timeout: 60_000}, blockUntilDone(entered, sawDone))
			ctx, cancel := tt.ctx()
			defer cancel()
			if tt.cancel {
				go func() {
					<-entered
					cancel()
				}()
			}
			// Either hystrix sees ctx end first, or the endpoint returns
			// ctx's error; the code is the same.
			_, err := ep(ctx, "")
			assert.Equal(t, tt.wantCode, kit.CodeOf(err))
			assert.ErrorIs(t, err, tt.wantErr)
			assertStopped(t, entered, sawDone)
		})
	}
}

// Each method has a command, and so a circuit, of its own: one method's
// failures open its circuit and leave the other's closed.
func TestHystrixPerMethod(t *testing.T) {
	t.Parallel()
	registerCollector()
	service := fmt.Sprintf("%s#%d", t.Name(), services.Add(1))
	failingCall := kit.Call{Service: service, Method: "Failing"}
	healthyCall := kit.Call{Service: service, Method: "Healthy"}
	ic := breaker.Hystrix(func(kit.Call) hystrix.CommandConfig {
		return hystrix.CommandConfig{Timeout: 10_000, RequestVolumeThreshold: 5, ErrorPercentThreshold: 50, SleepWindow: 60_000}
	})
	failing := kit.Intercept(func(context.Context, string) (string, error) { return "", errInternal }, failingCall, ic)
	healthy := kit.Intercept(func(_ context.Context, id string) (string, error) { return id, nil }, healthyCall, ic)
	require.Eventually(t, func() bool {
		_, err := failing(context.Background(), "")
		return kit.CodeOf(err) == kit.Unavailable
	}, 5*time.Second, time.Millisecond)
	for range 10 {
		resp, err := healthy(context.Background(), "7")
		require.NoError(t, err, "the other method's circuit is closed")
		assert.Equal(t, "7", resp)
	}
}

// Without a configuration function, a command keeps what the program
// configured under the method's name.
func TestHystrixGlobalConfiguration(t *testing.T) {
	t.Parallel()
	call := newCall(t)
	hystrix.ConfigureCommand(call.Procedure(), hystrix.CommandConfig{Timeout: 1})
	entered, sawDone := make(chan struct{}), make(chan struct{})
	ep := kit.Intercept(blockUntilDone(entered, sawDone), call, breaker.Hystrix(nil))
	_, err := ep(context.Background(), "")
	assert.ErrorIs(t, err, hystrix.ErrTimeout)
}

// A panic in the command goes on up on the caller's goroutine, where an
// outer kit.Recover turns it into an Internal error, and counts as a
// failure.
func TestHystrixPanic(t *testing.T) {
	t.Parallel()
	ep, name := hystrixEndpoint(t, hystrix.CommandConfig{Timeout: 10_000, RequestVolumeThreshold: 1000},
		func(context.Context, string) (string, error) { panic("bug") })
	assert.PanicsWithValue(t, "bug", func() { _, _ = ep(context.Background(), "") })
	require.Eventually(t, func() bool { return recorded(name).Attempts == 1 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, float64(1), recorded(name).Failures)

	recovered := kit.Intercept(func(context.Context, string) (string, error) { panic("bug") }, newCall(t),
		kit.Recover(slog.New(slog.DiscardHandler)), breaker.Hystrix(nil))
	_, err := recovered(context.Background(), "")
	assert.Equal(t, kit.Internal, kit.CodeOf(err))
}
