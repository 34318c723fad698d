package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/breaker"
)

// Errors of every class, shared by the tests.
var (
	errInternal    = kit.NewError(kit.Internal, "boom")
	errUnavailable = kit.NewError(kit.Unavailable, "down")
	errNotFound    = kit.NewError(kit.NotFound, "no such user")
	errInvalid     = kit.NewError(kit.InvalidArgument, "bad id")
)

func TestIsFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"plain error (transport)", errors.New("connection refused"), true},
		{"Unknown", kit.NewError(kit.Unknown, ""), true},
		{"Internal", errInternal, true},
		{"Unavailable", errUnavailable, true},
		{"DeadlineExceeded", kit.NewError(kit.DeadlineExceeded, ""), true},
		{"context deadline", context.DeadlineExceeded, true},
		{"DataLoss", kit.NewError(kit.DataLoss, ""), true},
		{"wrapped Internal", fmt.Errorf("get user: %w", errInternal), true},
		{"breaker open", breaker.ErrOpen, true},
		{"Canceled", kit.NewError(kit.Canceled, ""), false},
		{"context canceled", context.Canceled, false},
		{"InvalidArgument", errInvalid, false},
		{"NotFound", errNotFound, false},
		{"AlreadyExists", kit.NewError(kit.AlreadyExists, ""), false},
		{"PermissionDenied", kit.NewError(kit.PermissionDenied, ""), false},
		{"Unauthenticated", kit.NewError(kit.Unauthenticated, ""), false},
		{"FailedPrecondition", kit.NewError(kit.FailedPrecondition, ""), false},
		{"ResourceExhausted", kit.NewError(kit.ResourceExhausted, ""), false},
		{"Unimplemented", kit.NewError(kit.Unimplemented, ""), false},
		{"wrapped NotFound", fmt.Errorf("get user: %w", errNotFound), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, breaker.IsFailure(tt.err))
		})
	}
}

func TestIsTransient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"ErrOpen", breaker.ErrOpen, true},
		{"rejection", kit.WrapError(kit.Unavailable, breaker.ErrOpen, ""), true},
		{"Unavailable", errUnavailable, true},
		{"DeadlineExceeded", kit.NewError(kit.DeadlineExceeded, ""), true},
		{"context deadline", context.DeadlineExceeded, true},
		{"Internal", errInternal, false},
		{"plain error", errors.New("boom"), false},
		{"NotFound", errNotFound, false},
		{"Canceled", context.Canceled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, breaker.IsTransient(tt.err))
		})
	}
}

// The calls of two methods of one service, as a client describes them to
// its interceptors.
var (
	getCall  = kit.Call{Service: "users.Service", Method: "Get", Transport: kit.HTTP, Side: kit.ClientSide}
	listCall = kit.Call{Service: "users.Service", Method: "List", Transport: kit.HTTP, Side: kit.ClientSide}
)

// intercept wraps ep, the endpoint of getCall, in interceptors.
func intercept[Req, Resp any](ep kit.Endpoint[Req, Resp], ics ...kit.Interceptor) kit.Endpoint[Req, Resp] {
	return kit.Intercept(ep, getCall, ics...)
}

// using returns a middleware that wraps an endpoint in ic for getCall, for
// tests that build several endpoints with one interceptor.
func using[Req, Resp any](ic kit.Interceptor) kit.Middleware[Req, Resp] {
	return func(ep kit.Endpoint[Req, Resp]) kit.Endpoint[Req, Resp] { return intercept(ep, ic) }
}

// assertRejected asserts that err is a breaker's rejection: a kit
// Unavailable error that wraps ErrOpen and every one of causes.
func assertRejected(t *testing.T, err error, causes ...error) {
	t.Helper()
	assert.Equal(t, kit.Unavailable, kit.CodeOf(err), "code of %v", err)
	assert.ErrorIs(t, err, breaker.ErrOpen)
	for _, c := range causes {
		assert.ErrorIs(t, err, c)
	}
}

// onceOpen is a Breaker that opens at the first failure it is told of.
type onceOpen struct{ failed atomic.Bool }

func (b *onceOpen) Allow() bool           { return !b.failed.Load() }
func (b *onceOpen) Success(time.Duration) {}
func (b *onceOpen) Failure(time.Duration) { b.failed.Store(true) }

// Every breaker gives each method it wraps a breaker of its own: one
// interceptor value wraps a failing method and a healthy one, the failing
// one's breaker opens, and the healthy one goes on being called.
func TestBreakersOnePerMethod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ic   kit.Interceptor
	}{
		{"adaptive", breaker.Adaptive(breaker.AdaptiveMinRequests(5), breaker.AdaptiveRand(func() float64 { return 0 }), breaker.AdaptiveProbeInterval(0))},
		{"gobreaker", breaker.Gobreaker(gobreaker.Settings{ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 5 }})},
		{"handy", breaker.Handy(func(kit.Call) breaker.Breaker { return new(onceOpen) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var healthyCalls, failingCalls atomic.Int64
			failing := kit.Intercept(func(context.Context, int) (int, error) {
				failingCalls.Add(1)
				return 0, errUnavailable
			}, getCall, tt.ic)
			healthy := kit.Intercept(func(_ context.Context, i int) (int, error) {
				healthyCalls.Add(1)
				return i, nil
			}, listCall, tt.ic)

			opened := false
			for range 100 {
				_, err := failing(context.Background(), 0)
				if errors.Is(err, breaker.ErrOpen) {
					opened = true
					assertRejected(t, err)
					break
				}
				require.ErrorIs(t, err, errUnavailable)
			}
			require.True(t, opened, "the failing method's breaker opens")
			before := failingCalls.Load()
			for i := range 50 {
				resp, err := healthy(context.Background(), i)
				require.NoError(t, err, "the healthy method's breaker stays closed")
				assert.Equal(t, i, resp)
				_, err = failing(context.Background(), 0)
				assertRejected(t, err)
			}
			assert.Equal(t, int64(50), healthyCalls.Load())
			assert.Equal(t, before, failingCalls.Load(), "rejected calls do not reach the endpoint")
		})
	}
}

// A call that a breaker lets through and that succeeds allocates nothing,
// and nor does a rejection. Not parallel: AllocsPerRun counts the
// allocations of the whole process.
func TestBreakersAllocateNothing(t *testing.T) {
	tests := []struct {
		name    string
		ic      kit.Interceptor
		fail    bool
		reject  bool
		warmups int
	}{
		{name: "adaptive", ic: breaker.Adaptive()},
		{name: "gobreaker", ic: breaker.Gobreaker(gobreaker.Settings{})},
		{name: "handy", ic: breaker.Handy(func(kit.Call) breaker.Breaker { return new(onceOpen) })},
		{name: "adaptive rejecting", ic: breaker.Adaptive(breaker.AdaptiveRand(func() float64 { return 0 }), breaker.AdaptiveProbeInterval(0)), fail: true, reject: true, warmups: 100},
		{name: "gobreaker open", ic: breaker.Gobreaker(gobreaker.Settings{ReadyToTrip: func(gobreaker.Counts) bool { return true }, Timeout: time.Hour}), fail: true, reject: true, warmups: 1},
		{name: "handy open", ic: breaker.Handy(func(kit.Call) breaker.Breaker { return new(onceOpen) }), fail: true, reject: true, warmups: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := intercept(func(_ context.Context, i int) (int, error) {
				if tt.fail {
					return 0, errUnavailable
				}
				return i, nil
			}, tt.ic)
			ctx := context.Background()
			for range tt.warmups {
				_, _ = ep(ctx, 0)
			}
			allocs := testing.AllocsPerRun(1000, func() {
				_, err := ep(ctx, 1)
				if tt.reject != errors.Is(err, breaker.ErrOpen) || !tt.fail && err != nil {
					t.Fatalf("error %v", err)
				}
			})
			assert.Zero(t, allocs)
		})
	}
}
