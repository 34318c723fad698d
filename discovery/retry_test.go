package discovery_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
)

// scripted returns a balancer whose picks answer in turn with the given
// errors (nil: success), and a pointer to the number of attempts made.
func scripted(errs ...error) (discovery.Balancer[echoReq, echoResp], *int) {
	n := 0
	return discovery.BalancerFunc[echoReq, echoResp](func() (kit.Endpoint[echoReq, echoResp], error) {
		i := n
		n++
		if i >= len(errs) {
			i = len(errs) - 1
		}
		err := errs[i]
		return func(_ context.Context, req echoReq) (echoResp, error) {
			if err != nil {
				return echoResp{}, err
			}
			return echoResp{Instance: fmt.Sprint("attempt ", i+1), N: req.N}, nil
		}, nil
	}), &n
}

func TestRetry(t *testing.T) {
	t.Parallel()
	unavailable := kit.WithRetrySafety(kit.NewError(kit.Unavailable, "overloaded"), kit.RetryNotProcessed)
	invalid := kit.InvalidArgumentError("bad name", kit.FieldViolation{Field: "name", Description: "empty"})
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}

	tests := []struct {
		name         string
		errs         []error
		opts         []discovery.RetryOption
		wantAttempts int
		wantResp     string
		wantCode     kit.Code
		wantSame     error // the error is returned unchanged
		wantRetryErr bool
	}{
		{name: "first succeeds", errs: []error{nil}, wantAttempts: 1, wantResp: "attempt 1"},
		{name: "unavailable then success", errs: []error{unavailable, nil}, wantAttempts: 2, wantResp: "attempt 2"},
		{name: "transport error then success", errs: []error{refused, refused, nil}, wantAttempts: 3, wantResp: "attempt 3"},
		{name: "invalid argument not retried", errs: []error{invalid}, wantAttempts: 1, wantCode: kit.InvalidArgument, wantSame: invalid},
		{name: "not found not retried", errs: []error{kit.NewError(kit.NotFound, "")}, wantAttempts: 1, wantCode: kit.NotFound},
		{name: "attempts run out", errs: []error{unavailable}, wantAttempts: 3, wantCode: kit.Unavailable, wantRetryErr: true},
		{name: "more attempts", errs: []error{unavailable, unavailable, unavailable, unavailable, nil}, opts: []discovery.RetryOption{discovery.RetryMaxAttempts(5)}, wantAttempts: 5, wantResp: "attempt 5"},
		{name: "one attempt", errs: []error{unavailable}, opts: []discovery.RetryOption{discovery.RetryMaxAttempts(0)}, wantAttempts: 1, wantCode: kit.Unavailable, wantSame: unavailable},
		{name: "stops at a non-retryable error", errs: []error{unavailable, invalid}, wantAttempts: 2, wantCode: kit.InvalidArgument, wantRetryErr: true},
		{name: "transport error classified unavailable", errs: []error{refused}, wantAttempts: 3, wantCode: kit.Unavailable, wantRetryErr: true},
		{name: "custom classifier", errs: []error{kit.NewError(kit.Aborted, ""), nil}, opts: []discovery.RetryOption{discovery.RetryIf(func(err error) bool { return kit.CodeOf(err) == kit.Aborted })}, wantAttempts: 2, wantResp: "attempt 2"},
		{name: "custom classifier refuses", errs: []error{unavailable}, opts: []discovery.RetryOption{discovery.RetryIf(func(error) bool { return false })}, wantAttempts: 1, wantCode: kit.Unavailable, wantSame: unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, attempts := scripted(tt.errs...)
			ep := discovery.Retry(b, tt.opts...)
			resp, err := ep(context.Background(), echoReq{N: 1})
			assert.Equal(t, tt.wantAttempts, *attempts)
			if tt.wantCode == kit.OK {
				require.NoError(t, err)
				assert.Equal(t, echoResp{Instance: tt.wantResp, N: 1}, resp)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.wantCode, kit.CodeOf(err))
			if tt.wantSame != nil {
				assert.Same(t, tt.wantSame, err)
				assert.Equal(t, kit.ViolationsOf(tt.wantSame), kit.ViolationsOf(err))
			}
			var re *discovery.RetryError
			assert.Equal(t, tt.wantRetryErr, errors.As(err, &re))
			if re != nil {
				assert.Len(t, re.Attempts, tt.wantAttempts, "every attempt's error is listed")
				assert.Equal(t, tt.wantCode, re.Final.Code())
				for i, aerr := range re.Attempts {
					assert.Contains(t, err.Error(), fmt.Sprintf("attempt %d: %s", i+1, aerr))
				}
			}
		})
	}
}

func TestRetryOverLoopback(t *testing.T) {
	t.Parallel()
	live, liveCalls := echoServer{}.start(t)
	busy, busyCalls := echoServer{Fail: kit.Unavailable}.start(t)
	dead := deadAddr(t)
	invalid, invalidCalls := echoServer{Fail: kit.InvalidArgument}.start(t)

	tests := []struct {
		name      string
		instances []string
		wantErr   kit.Code
		wantCalls map[string]int // calls each loopback server saw; dead sees none
		wantIs    []error
	}{
		{name: "refused and unavailable instances are retried", instances: []string{dead, busy, live}, wantCalls: map[string]int{busy: 1, live: 1}},
		{name: "invalid argument is not retried", instances: []string{invalid, live}, wantErr: kit.InvalidArgument, wantCalls: map[string]int{invalid: 1}},
		{name: "all down", instances: []string{dead, busy}, wantErr: kit.Unavailable, wantCalls: map[string]int{busy: 1}, wantIs: []error{syscall.ECONNREFUSED}},
		{name: "no instances", instances: nil, wantErr: kit.Unavailable, wantIs: []error{discovery.ErrNoEndpoints}},
	}
	// Not parallel: the subtests share the servers and their counts of calls.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := map[string]int{live: liveCalls(), busy: busyCalls(), invalid: invalidCalls()}
			var log closeLog
			e := discovery.NewEndpointer(discovery.FixedInstancer(tt.instances), httpFactory(&log))
			t.Cleanup(func() { require.NoError(t, e.Close()) })
			// Echo is idempotent; its hand-made client marks nothing.
			ep := discovery.Retry(inOrder(t, e, tt.instances), discovery.RetryMaxAttempts(3), discovery.RetryIdempotentCalls())

			resp, err := ep(context.Background(), echoReq{N: 3})
			if tt.wantErr == kit.OK {
				require.NoError(t, err)
				assert.Equal(t, echoResp{Instance: live, N: 3}, resp)
			} else {
				require.Error(t, err)
				assert.Equal(t, tt.wantErr, kit.CodeOf(err), "%v", err)
				for _, target := range tt.wantIs {
					assert.ErrorIs(t, err, target)
				}
			}
			got := map[string]int{live: liveCalls() - before[live], busy: busyCalls() - before[busy], invalid: invalidCalls() - before[invalid]}
			for addr, n := range got {
				assert.Equal(t, tt.wantCalls[addr], n, "calls to %s", addr)
			}
		})
	}
}

// inOrder returns a balancer that picks e's endpoints in the order of
// instances, rather than the sorted order of random loopback ports.
func inOrder(t *testing.T, e *discovery.Endpointer[echoReq, echoResp], instances []string) discovery.Balancer[echoReq, echoResp] {
	t.Helper()
	eps, err := e.Endpoints()
	byName := map[string]kit.Endpoint[echoReq, echoResp]{}
	for i, inst := range e.Instances() {
		byName[inst] = eps[i]
	}
	next := 0
	return discovery.BalancerFunc[echoReq, echoResp](func() (kit.Endpoint[echoReq, echoResp], error) {
		if len(instances) == 0 {
			return nil, err
		}
		ep := byName[instances[next%len(instances)]]
		next++
		require.NotNil(t, ep)
		return ep, nil
	})
}

// Not parallel: attempts of 20 and 50 ms must reach the servers in time,
// which other tests' CPU can prevent; the subtests share the slow server's
// count of calls.
func TestRetryAttemptTimeout(t *testing.T) {
	slow, slowCalls := echoServer{Block: true}.start(t)
	live, _ := echoServer{}.start(t)
	var log closeLog
	e := discovery.NewEndpointer(discovery.FixedInstancer{slow, live}, httpFactory(&log))
	t.Cleanup(func() { require.NoError(t, e.Close()) })

	tests := []struct {
		name      string
		order     []string
		timeout   time.Duration
		wantErr   bool
		wantCalls int // attempts that reached the slow server
	}{
		{name: "slow instance cut short, next answers", order: []string{slow, live}, timeout: 50 * time.Millisecond, wantCalls: 1},
		{name: "every attempt times out", order: []string{slow}, timeout: 20 * time.Millisecond, wantErr: true, wantCalls: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slowCalls()
			ep := discovery.Retry(inOrder(t, e, tt.order), discovery.RetryAttemptTimeout(tt.timeout), discovery.RetryIdempotentCalls())
			resp, err := ep(context.Background(), echoReq{N: 2})
			assert.Equal(t, tt.wantCalls, slowCalls()-before)
			if !tt.wantErr {
				require.NoError(t, err)
				assert.Equal(t, live, resp.Instance)
				return
			}
			var re *discovery.RetryError
			require.ErrorAs(t, err, &re)
			require.Len(t, re.Attempts, 3)
			for _, aerr := range re.Attempts {
				assert.ErrorIs(t, aerr, discovery.ErrAttemptTimeout)
				assert.Equal(t, kit.DeadlineExceeded, kit.CodeOf(aerr))
			}
			assert.Equal(t, kit.DeadlineExceeded, kit.CodeOf(err))
		})
	}
}

func TestRetryHonoursCallerContext(t *testing.T) {
	t.Parallel()
	slow, _ := echoServer{Block: true}.start(t)
	var log closeLog
	e := discovery.NewEndpointer(discovery.FixedInstancer{slow}, httpFactory(&log))
	t.Cleanup(func() { require.NoError(t, e.Close()) })

	tests := []struct {
		name     string
		ctx      func() (context.Context, context.CancelFunc)
		opts     []discovery.RetryOption
		wantCode kit.Code
	}{
		{
			name: "deadline",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 50*time.Millisecond)
			},
			wantCode: kit.DeadlineExceeded,
		},
		{
			name: "deadline before the attempt timeout",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 50*time.Millisecond)
			},
			opts: []discovery.RetryOption{discovery.RetryAttemptTimeout(time.Hour)}, wantCode: kit.DeadlineExceeded,
		},
		{
			name: "cancelled",
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(30*time.Millisecond, cancel)
				return ctx, cancel
			},
			wantCode: kit.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := tt.ctx()
			defer cancel()
			_, err := discovery.Retry(discovery.RoundRobin(e), tt.opts...)(ctx, echoReq{})
			var re *discovery.RetryError
			require.ErrorAs(t, err, &re)
			assert.Len(t, re.Attempts, 1, "no retry once the caller's context has ended")
			assert.Equal(t, tt.wantCode, kit.CodeOf(err))
			assert.NotErrorIs(t, err, discovery.ErrAttemptTimeout)
		})
	}
}

func TestRetryBudget(t *testing.T) {
	t.Parallel()
	unavailable := kit.WithRetrySafety(kit.NewError(kit.Unavailable, ""), kit.RetryNotProcessed)
	const calls = 20 // each failing, so each wants two retries
	tests := []struct {
		name        string
		budget      *discovery.Budget
		wantRetries int
	}{
		{name: "reserve only", budget: discovery.NewBudget(0, 0), wantRetries: 10},
		// The reserve of 10, plus half a token for each call but the first,
		// which finds the bucket full.
		{name: "calls earn retries", budget: discovery.NewBudget(0.5, 0), wantRetries: 19},
		{name: "no budget", budget: nil, wantRetries: 2 * calls},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, attempts := scripted(unavailable)
			ep := discovery.Retry(b, discovery.RetryBudget(tt.budget), discovery.RetryMaxAttempts(3))
			exhausted := 0
			for range calls {
				_, err := ep(context.Background(), echoReq{})
				require.Error(t, err)
				assert.Equal(t, kit.Unavailable, kit.CodeOf(err))
				var re *discovery.RetryError
				if errors.Is(err, discovery.ErrBudgetExhausted) {
					exhausted++
					require.ErrorAs(t, err, &re)
					assert.Equal(t, kit.Unavailable, re.Final.Code())
					assert.ErrorIs(t, re.Final, unavailable, "the final error keeps the last attempt's error")
				}
			}
			assert.Equal(t, tt.wantRetries, *attempts-calls)
			if tt.budget == nil {
				assert.Zero(t, exhausted)
			} else {
				assert.Positive(t, exhausted)
			}
		})
	}
}

func TestRetryBudgetShared(t *testing.T) {
	t.Parallel()
	budget := discovery.NewBudget(0, 0)
	a, attemptsA := scripted(kit.WithRetrySafety(kit.NewError(kit.Unavailable, ""), kit.RetryNotProcessed))
	b, attemptsB := scripted(kit.WithRetrySafety(kit.NewError(kit.Unavailable, ""), kit.RetryNotProcessed))
	epA := discovery.Retry(a, discovery.RetryBudget(budget))
	epB := discovery.Retry(b, discovery.RetryBudget(budget))
	for range 5 {
		_, _ = epA(context.Background(), echoReq{})
		_, _ = epB(context.Background(), echoReq{})
	}
	assert.Equal(t, 10, *attemptsA+*attemptsB-10, "two endpoints share one reserve of 10 retries")
}

func TestBudgetEarnsAndRefills(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ratio   float64
		perSec  int
		calls   int
		sleep   time.Duration
		wantMin int
		wantMax int
	}{
		{name: "spent reserve stays spent", ratio: 0, perSec: 0, calls: 100, wantMin: 0, wantMax: 0},
		{name: "calls earn a ratio", ratio: 0.25, perSec: 0, calls: 8, wantMin: 2, wantMax: 2},
		{name: "time refills", ratio: 0, perSec: 100, sleep: 60 * time.Millisecond, wantMin: 5, wantMax: 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := discovery.NewBudget(tt.ratio, tt.perSec)
			require.Equal(t, max(10*tt.perSec, 10), b.Available(), "a budget starts full")
			// Spend the reserve with failing calls.
			fail, _ := scripted(kit.WithRetrySafety(kit.NewError(kit.Unavailable, ""), kit.RetryNotProcessed))
			failing := discovery.Retry(fail, discovery.RetryBudget(b), discovery.RetryMaxAttempts(1<<20))
			_, err := failing(context.Background(), echoReq{})
			require.ErrorIs(t, err, discovery.ErrBudgetExhausted)
			// Time may refill a token between the last refused retry and
			// this read on a loaded machine, so the refill case compares
			// with what was there after the reserve was spent.
			spent := b.Available()
			if tt.perSec == 0 {
				require.Zero(t, spent)
			}

			ok, _ := scripted(nil)
			succeeding := discovery.Retry(ok, discovery.RetryBudget(b))
			for range tt.calls {
				_, err := succeeding(context.Background(), echoReq{})
				require.NoError(t, err)
			}
			time.Sleep(tt.sleep)
			got := b.Available() - spent
			assert.GreaterOrEqual(t, got, tt.wantMin)
			assert.LessOrEqual(t, got, tt.wantMax)
		})
	}
}

func TestNewBudgetRejectsBadInput(t *testing.T) {
	t.Parallel()
	for _, ratio := range []float64{-0.1, math.NaN(), math.Inf(1)} {
		assert.Panics(t, func() { discovery.NewBudget(ratio, 1) }, "ratio %v", ratio)
	}
	assert.Panics(t, func() { discovery.NewBudget(0.1, -1) })
	assert.Equal(t, math.MaxInt, (*discovery.Budget)(nil).Available())
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name      string
		err       error
		transient bool // worth another attempt (RetryUnsafeErrors)
		unmarked  bool // Retryable without a mark: provably not sent
	}{
		{"nil", nil, false, false},
		{"unavailable", kit.NewError(kit.Unavailable, ""), true, false},
		{"wrapped unavailable", fmt.Errorf("call: %w", kit.NewError(kit.Unavailable, "")), true, false},
		{"no endpoints", kit.WrapError(kit.Unavailable, discovery.ErrNoEndpoints, ""), true, true},
		{"attempt timeout", kit.WrapError(kit.DeadlineExceeded, fmt.Errorf("%w: %w", discovery.ErrAttemptTimeout, context.DeadlineExceeded), ""), true, false},
		{"dial refused", refused, true, true},
		{"bare errno", fmt.Errorf("write: %w", syscall.ECONNRESET), true, false},
		{"unexpected EOF", io.ErrUnexpectedEOF, true, false},
		{"closed connection", net.ErrClosed, true, false},
		{"invalid argument", kit.InvalidArgumentError("bad"), false, false},
		{"invalid argument over a transport error", kit.WrapError(kit.InvalidArgument, refused, ""), false, false},
		{"not found", kit.NewError(kit.NotFound, ""), false, false},
		{"resource exhausted", kit.NewError(kit.ResourceExhausted, ""), false, false},
		{"internal", kit.NewError(kit.Internal, ""), false, false},
		{"caller deadline", context.DeadlineExceeded, false, false},
		{"caller cancel", fmt.Errorf("x: %w", context.Canceled), false, false},
		{"plain", errors.New("something"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.transient, discovery.RetryUnsafeErrors(tt.err), "RetryUnsafeErrors")
			assert.Equal(t, tt.unmarked, discovery.Retryable(tt.err), "unmarked")
			for _, s := range []kit.RetrySafety{kit.RetryNotProcessed, kit.RetryIdempotent} {
				assert.Equal(t, tt.transient, discovery.Retryable(kit.WithRetrySafety(tt.err, s)), "marked %v", s)
			}
			assert.Equal(t, tt.unmarked, discovery.Retryable(kit.WithRetrySafety(tt.err, kit.RetryUnsafe)), "marked unsafe")
		})
	}
}

func TestRetryErrorUnwrap(t *testing.T) {
	t.Parallel()
	first := fmt.Errorf("dial: %w", syscall.ECONNREFUSED)
	second := kit.WrapError(kit.Unavailable, discovery.ErrNoEndpoints, "")
	b, _ := scripted(first, second)
	_, err := discovery.Retry(b, discovery.RetryMaxAttempts(2))(context.Background(), echoReq{})
	var re *discovery.RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, []error{first, second}, re.Attempts)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.ErrorIs(t, err, discovery.ErrNoEndpoints)
	assert.Equal(t, kit.Unavailable, kit.CodeOf(err))
	assert.Equal(t, "service unavailable", kit.MessageOf(err))
	assert.Equal(t, kit.Unavailable, re.KitCode())
	assert.Equal(t, "discovery: 2 attempts failed: "+second.Error()+" (retried: not processed); attempt 1: "+first.Error()+"; attempt 2: "+second.Error(), err.Error())
}

// Not parallel: AllocsPerRun counts the allocations of the whole process.
func TestRetryDoesNotAllocate(t *testing.T) {
	var log closeLog
	e := discovery.NewEndpointer(discovery.FixedInstancer(instanceNames(3)), nameFactory(&log))
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	ep := discovery.Retry(discovery.RoundRobin(e))
	ctx := context.Background()
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = ep(ctx, echoReq{N: 1}) }))
}

func TestRetryRejectsNil(t *testing.T) {
	t.Parallel()
	assert.PanicsWithValue(t, "discovery: Retry with a nil Balancer", func() {
		discovery.Retry[echoReq, echoResp](nil)
	})
}

// With a round robin, the attempts of one call go to distinct endpoints
// however many calls run at once, so one dead instance out of three never
// fails a call of three attempts.
func TestRetrySpreadsAttemptsOverEndpoints(t *testing.T) {
	t.Parallel()
	e := discovery.NewEndpointer(discovery.FixedInstancer{"dead:1", "a:1", "b:1"}, func(instance string) (kit.Endpoint[int, string], io.Closer, error) {
		return func(context.Context, int) (string, error) {
			if instance == "dead:1" {
				return "", kit.WithRetrySafety(kit.NewError(kit.Unavailable, "down"), kit.RetryNotProcessed)
			}
			return instance, nil
		}, io.NopCloser(nil), nil
	})
	defer e.Close()
	ep := discovery.Retry(discovery.RoundRobin(e), discovery.RetryMaxAttempts(3), discovery.RetryBudget(discovery.NewBudget(1, 1000)))
	var wg sync.WaitGroup
	var failures atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 500 {
				if _, err := ep(context.Background(), 1); err != nil {
					failures.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	assert.Zero(t, failures.Load())
}
