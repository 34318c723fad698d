package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/typedkit/kit"
)

func TestLatenciesQuantile(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		name     string
		q        float64
		min, max time.Duration
		samples  []time.Duration // recorded in order
		want     time.Duration
	}{
		{name: "no samples: the minimum", q: 0.9, min: ms, max: time.Second, want: ms},
		{name: "too few samples: the minimum", q: 0.9, min: ms, max: time.Second, samples: ramp(15, 10*ms), want: ms},
		{name: "p90 of 1..96 ms", q: 0.9, max: time.Second, samples: ramp(96, ms), want: 87 * ms},
		{name: "p50 of 1..16 ms", q: 0.5, max: time.Second, samples: ramp(16, ms), want: 8 * ms},
		{name: "p100 is the largest", q: 1, max: time.Second, samples: ramp(32, ms), want: 32 * ms},
		{name: "bounded below", q: 0.5, min: 20 * ms, max: time.Second, samples: ramp(32, ms), want: 20 * ms},
		{name: "bounded above", q: 0.9, max: 10 * ms, samples: ramp(32, ms), want: 10 * ms},
		{name: "only recent samples", q: 0.5, max: time.Second, samples: append(repeat(latencySamples, 100*ms), repeat(latencySamples, 3*ms)...), want: 3 * ms},
		{name: "mixed ring", q: 0.5, max: time.Second, samples: append(repeat(latencySamples, 100*ms), repeat(latencySamples/2+latencyRecompute, 3*ms)...), want: 3 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLatencies(tt.q, tt.min, tt.max)
			for _, d := range tt.samples {
				l.record(d)
			}
			assert.Equal(t, tt.want, l.delay())
		})
	}
}

func TestLatenciesRecordDoesNotAllocate(t *testing.T) {
	l := newLatencies(0.9, 0, time.Second)
	assert.Zero(t, testing.AllocsPerRun(1000, func() { l.record(time.Millisecond) }))
}

func TestOutlierAllowed(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ percent, n, want int }{
		{50, 0, 0}, {50, 1, 0}, {50, 2, 1}, {50, 3, 1}, {50, 4, 2}, {50, 5, 2}, {50, 10, 5},
		{10, 2, 1}, {10, 10, 1}, {10, 30, 3}, {100, 3, 2}, {100, 1, 0},
	} {
		o := &outlierConfig{percent: c.percent}
		assert.Equal(t, c.want, o.allowed(c.n), "%d%% of %d", c.percent, c.n)
	}
}

func ramp(n int, unit time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * unit
	}
	return out
}

func repeat(n int, d time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestCodeOfMatchesKit(t *testing.T) {
	t.Parallel()
	unavailable := kit.NewError(kit.Unavailable, "")
	for _, err := range []error{
		nil,
		unavailable,
		fmt.Errorf("call: %w", unavailable),
		kit.WithRetrySafety(unavailable, kit.RetryIdempotent),
		kit.Processed(kit.WithRetryAfter(unavailable, time.Second)),
		kit.WrapError(kit.InvalidArgument, unavailable, ""),
		fmt.Errorf("deadline: %w", context.DeadlineExceeded),
		context.Canceled,
		io.ErrUnexpectedEOF,
		errors.Join(io.EOF, unavailable),
		&RetryError{Attempts: []error{unavailable}, Final: kit.NewError(kit.Internal, "")},
		fmt.Errorf("retry: %w", &RetryError{Attempts: []error{unavailable}, Final: kit.NewError(kit.Internal, "")}),
	} {
		assert.Equal(t, kit.CodeOf(err), codeOf(err), "%v", err)
	}
}
