package breaker_test

import (
	"context"
	"fmt"
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

// commands counts the commands the tests configure.
var commands atomic.Int64

// command configures a new hystrix command, named after the test. hystrix
// keeps its circuits for the life of the process, so each run of a test
// needs a name of its own.
func command(t *testing.T, cfg hystrix.CommandConfig) string {
	registerCollector()
	name := fmt.Sprintf("%s#%d", t.Name(), commands.Add(1))
	hystrix.ConfigureCommand(name, cfg)
	return name
}

func TestHystrixClassifier(t *testing.T) {
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
		{"custom classifier", errNotFound, []breaker.Option{breaker.WithClassifier(func(error) bool { return true })}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := command(t, hystrix.CommandConfig{Timeout: 10_000, RequestVolumeThreshold: 1000})
			ep := breaker.Hystrix[string, string](name, tt.opts...)(
				func(_ context.Context, id string) (string, error) { return "user " + id, tt.err })
			for range 5 {
				resp, err := ep(context.Background(), "42")
				switch {
				case tt.err == nil:
					require.NoError(t, err)
					assert.Equal(t, "user 42", resp)
				case tt.wantFailures == 0:
					assert.Same(t, tt.err, err, "the endpoint's error, unchanged")
					assert.Equal(t, "user 42", resp)
				default:
					assert.Same(t, tt.err, err, "the endpoint's error, unchanged")
					assert.Empty(t, resp)
				}
			}
			require.Eventually(t, func() bool { return recorded(name).Attempts == 5 }, 5*time.Second, time.Millisecond)
			got := recorded(name)
			assert.Equal(t, tt.wantFailures, got.Failures)
			assert.Equal(t, 5-tt.wantFailures, got.Successes)
		})
	}
}

func TestHystrixOpens(t *testing.T) {
	name := command(t, hystrix.CommandConfig{
		Timeout:                10_000,
		RequestVolumeThreshold: 5,
		ErrorPercentThreshold:  50,
		SleepWindow:            60_000,
	})
	var mu sync.Mutex
	calls := 0
	ep := breaker.Hystrix[string, string](name)(func(context.Context, string) (string, error) {
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
	name := command(t, hystrix.CommandConfig{Timeout: 10_000, MaxConcurrentRequests: 1})
	entered, release := make(chan struct{}), make(chan struct{})
	ep := breaker.Hystrix[string, string](name)(func(_ context.Context, id string) (string, error) {
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
	name := command(t, hystrix.CommandConfig{Timeout: 1})
	entered, sawDone := make(chan struct{}), make(chan struct{})
	ep := breaker.Hystrix[string, string](name)(blockUntilDone(entered, sawDone))

	resp, err := ep(context.Background(), "")
	assert.Empty(t, resp)
	assert.Equal(t, kit.DeadlineExceeded, kit.CodeOf(err))
	assert.ErrorIs(t, err, hystrix.ErrTimeout)
	assert.IsType(t, (*kit.Error)(nil), err, "a kit error, not hystrix's")
	<-entered
	<-sawDone // the endpoint hystrix gave up on is told to stop
}

func TestHystrixContextEnds(t *testing.T) {
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
			name := command(t, hystrix.CommandConfig{Timeout: 60_000})
			entered, sawDone := make(chan struct{}), make(chan struct{})
			ep := breaker.Hystrix[string, string](name)(blockUntilDone(entered, sawDone))
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
			<-sawDone
		})
	}
}
