package discovery_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
)

// TestEjectionOfAHungInstance runs three real httpx servers on loopback,
// one of them hung, behind Retry with an attempt timeout: a few attempts
// time out on the hung instance, which is then ejected and gets no call
// until it is re-admitted; still hung, it is ejected again, for longer.
// Every call at the caller succeeds.
func TestEjectionOfAHungInstance(t *testing.T) {
	t.Parallel()
	a, b := startKitServer(t, nil), startKitServer(t, nil)
	hung := startKitServer(t, hang)
	const (
		threshold = 3
		base      = 800 * time.Millisecond // > the calls between a re-admission and the next ejection
	)
	logs := &logRecorder{}
	var attempts attemptCounter
	all := []string{a.addr, b.addr, hung.addr}
	e := discovery.NewEndpointer(discovery.FixedInstancer(all), httpxFactory(&attempts),
		discovery.EndpointerLogger(slog.New(logs)),
		discovery.EndpointerOutlierEjection(discovery.OutlierEjection{ConsecutiveFailures: threshold, BaseEjectionTime: base}))
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	call := discovery.Retry(discovery.RoundRobin(e), discovery.RetryAttemptTimeout(100*time.Millisecond), discovery.RetryIdempotentCalls())
	ctx := context.Background()

	// untilEjected calls until the hung instance is ejected: with a round
	// robin over three instances, one call in three starts there.
	untilEjected := func() {
		t.Helper()
		before := attempts.of(hung.addr)
		for calls := 0; len(e.Ejected()) == 0; calls++ {
			require.Less(t, calls, 3*threshold, "ejected after %d failed attempts", threshold)
			resp, err := call(ctx, echoReq{N: calls})
			require.NoError(t, err, "every call succeeds")
			assert.NotEqual(t, hung.addr, resp.Instance)
		}
		assert.Equal(t, []string{hung.addr}, e.Ejected())
		assert.Equal(t, threshold, attempts.of(hung.addr)-before, "attempts to the hung instance")
		assert.ElementsMatch(t, all, e.Instances(), "an ejected instance stays known")
		eps, err := e.Endpoints()
		require.NoError(t, err)
		assert.Len(t, eps, 2)
	}

	untilEjected()
	// While it is ejected, no call goes to it.
	whileEjected := 0
	for i := range 20 {
		out, n := slices.Contains(e.Ejected(), hung.addr), attempts.of(hung.addr)
		resp, err := call(ctx, echoReq{N: i})
		require.NoError(t, err)
		assert.NotEqual(t, hung.addr, resp.Instance)
		if out && slices.Contains(e.Ejected(), hung.addr) { // the same ejection: re-ejecting needs failed attempts
			whileEjected++
			assert.Equal(t, n, attempts.of(hung.addr), "no attempt to an ejected instance")
		}
	}
	assert.Positive(t, whileEjected)

	// The timer re-admits it; still hung, it is ejected again, for twice
	// as long.
	require.Eventually(t, func() bool { return len(e.Ejected()) == 0 }, 10*time.Second, time.Millisecond)
	assert.NotEmpty(t, logs.withMessage("discovery: instance re-admitted"))
	untilEjected()

	ejections := logs.withMessage("discovery: instance ejected")
	require.Len(t, ejections, 2)
	for i, rec := range ejections {
		assert.Equal(t, hung.addr, rec["instance"].String())
		assert.Equal(t, int64(threshold), rec["failures"].Int64())
		assert.Equal(t, int64(i+1), rec["ejections"].Int64())
		assert.Equal(t, time.Duration(i+1)*base, rec["for"].Duration())
	}
}

// With every instance hung, at most the allowed share is ejected; the
// calls fail with the attempts' timeouts, never with an empty set.
func TestEjectionOfAHungSet(t *testing.T) {
	t.Parallel()
	var all []string
	for range 3 {
		all = append(all, startKitServer(t, hang).addr)
	}
	var attempts attemptCounter
	e := discovery.NewEndpointer(discovery.FixedInstancer(all), httpxFactory(&attempts), quiet,
		discovery.EndpointerOutlierEjection(discovery.OutlierEjection{ConsecutiveFailures: 1, BaseEjectionTime: time.Hour}))
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	call := discovery.Retry(discovery.RoundRobin(e), discovery.RetryAttemptTimeout(20*time.Millisecond),
		discovery.RetryIdempotentCalls(), discovery.RetryBudget(nil))

	for range 4 {
		_, err := call(context.Background(), echoReq{})
		require.Error(t, err)
		assert.Equal(t, kit.DeadlineExceeded, kit.CodeOf(err), "%v", err)
		assert.ErrorIs(t, err, discovery.ErrAttemptTimeout)
		assert.NotErrorIs(t, err, discovery.ErrNoEndpoints)
		var re *discovery.RetryError
		require.ErrorAs(t, err, &re)
		assert.Len(t, re.Attempts, 3)
		assert.Len(t, e.Ejected(), 1, "at most half of three")
	}
	eps, err := e.Endpoints()
	require.NoError(t, err)
	assert.Len(t, eps, 2)
}

func TestEjectionLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		instances   int
		failing     int
		percent     int
		wantEjected int
	}{
		{name: "never the only instance", instances: 1, failing: 1, wantEjected: 0},
		{name: "one of two", instances: 2, failing: 2, wantEjected: 1},
		{name: "one of three", instances: 3, failing: 3, wantEjected: 1},
		{name: "half of four", instances: 4, failing: 3, wantEjected: 2},
		{name: "never the last", instances: 4, failing: 4, percent: 100, wantEjected: 3},
		{name: "percent above 100", instances: 3, failing: 3, percent: 1000, wantEjected: 2},
		{name: "ten percent of ten", instances: 10, failing: 10, percent: 10, wantEjected: 1},
		{name: "at least one whatever the share", instances: 2, failing: 1, percent: 10, wantEjected: 1},
		{name: "only the failing", instances: 10, failing: 2, wantEjected: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			names := instanceNames(tt.instances)
			failing := names[:tt.failing]
			e := discovery.NewEndpointer(discovery.FixedInstancer(names), failingFactory(failing...), quiet,
				discovery.EndpointerOutlierEjection(discovery.OutlierEjection{ConsecutiveFailures: 2, BaseEjectionTime: time.Hour, MaxEjectedPercent: tt.percent}))
			t.Cleanup(func() { require.NoError(t, e.Close()) })
			eps := endpointsByInstance(t, e)
			for range 3 { // more than enough to eject each
				for _, inst := range failing {
					_, err := eps[inst](context.Background(), echoReq{})
					require.Error(t, err)
				}
			}
			ejected := e.Ejected()
			assert.Len(t, ejected, tt.wantEjected)
			assert.Subset(t, failing, ejected, "only failing instances are ejected")
			got, err := e.Endpoints()
			require.NoError(t, err)
			assert.Len(t, got, tt.instances-tt.wantEjected)
			assert.Len(t, e.Instances(), tt.instances)
		})
	}
}

// TestEjectionCounts calls an instance's endpoint, behind a real httpx
// server or a refused port, with contexts that end in different ways, and
// checks which outcomes eject it.
func TestEjectionCounts(t *testing.T) {
	t.Parallel()
	type ctxKind int
	const (
		live ctxKind = iota
		callerDeadline
		callerCancel
		attemptDeadline // a deadline with the cause ErrAttemptTimeout
		viaRetry        // through Retry with RetryAttemptTimeout
	)
	tests := []struct {
		name        string
		handle      func(context.Context, *kitServer, echoReq) (echoResp, error)
		refused     bool
		ctx         ctxKind
		wantEjected bool
	}{
		{name: "refused connection", refused: true, wantEjected: true},
		{name: "unavailable", handle: failWith(kit.NewError(kit.Unavailable, "shutting down")), wantEjected: true},
		{name: "own attempt deadline", handle: hang, ctx: attemptDeadline, wantEjected: true},
		{name: "Retry's attempt timeout", handle: hang, ctx: viaRetry, wantEjected: true},
		{name: "caller's deadline", handle: hang, ctx: callerDeadline},
		{name: "caller's cancellation", handle: hang, ctx: callerCancel},
		{name: "invalid argument", handle: failWith(kit.InvalidArgumentError("bad", kit.FieldViolation{Field: "n", Description: "odd"}))},
		{name: "not found", handle: failWith(kit.NewError(kit.NotFound, ""))},
		{name: "internal", handle: failWith(kit.NewError(kit.Internal, ""))},
		{name: "deadline exceeded answered", handle: failWith(kit.NewError(kit.DeadlineExceeded, "downstream"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var target string
			if tt.refused {
				target = deadAddr(t)
			} else {
				target = startKitServer(t, tt.handle).addr
			}
			healthy := startKitServer(t, nil).addr
			var attempts attemptCounter
			const threshold = 3
			e := discovery.NewEndpointer(discovery.FixedInstancer{target, healthy}, httpxFactory(&attempts), quiet,
				discovery.EndpointerOutlierEjection(discovery.OutlierEjection{ConsecutiveFailures: threshold, BaseEjectionTime: time.Hour}))
			t.Cleanup(func() { require.NoError(t, e.Close()) })
			ep := endpointsByInstance(t, e)[target]
			if tt.ctx == viaRetry {
				// Attempts on the target only: its endpoint is the balancer.
				direct := ep
				ep = discovery.Retry(discovery.BalancerFunc[echoReq, echoResp](func() (kit.Endpoint[echoReq, echoResp], error) { return direct, nil }),
					discovery.RetryAttemptTimeout(20*time.Millisecond), discovery.RetryIdempotentCalls(),
					discovery.RetryMaxAttempts(1))
			}
			for i := range threshold {
				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				switch tt.ctx {
				case callerDeadline:
					ctx, cancel = context.WithTimeout(ctx, 20*time.Millisecond)
				case callerCancel:
					ctx, cancel = context.WithCancel(ctx)
					time.AfterFunc(20*time.Millisecond, cancel)
				case attemptDeadline:
					ctx, cancel = context.WithTimeoutCause(ctx, 20*time.Millisecond, discovery.ErrAttemptTimeout)
				}
				_, err := ep(ctx, echoReq{N: i})
				cancel()
				require.Error(t, err)
				if i < threshold-1 {
					assert.Empty(t, e.Ejected(), "not before %d failures", threshold)
				}
			}
			if tt.wantEjected {
				assert.Equal(t, []string{target}, e.Ejected())
			} else {
				assert.Empty(t, e.Ejected())
			}
			assert.Equal(t, threshold, attempts.of(target))
		})
	}
}

func TestOutlierFailure(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	ended := func(cause error) context.Context {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(cause)
		return ctx
	}
	past := func(cause error) context.Context {
		ctx, cancel := context.WithDeadlineCause(context.Background(), time.Now().Add(-time.Second), cause)
		t.Cleanup(cancel)
		return ctx
	}
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"nil", context.Background(), nil, false},
		{"unavailable", context.Background(), kit.NewError(kit.Unavailable, ""), true},
		{"wrapped unavailable", context.Background(), fmt.Errorf("call: %w", kit.NewError(kit.Unavailable, "")), true},
		{"dial refused", context.Background(), refused, true},
		{"reset", context.Background(), fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"unexpected EOF", context.Background(), io.ErrUnexpectedEOF, true},
		{"client timeout", context.Background(), &net.DNSError{Err: "i/o timeout", IsTimeout: true}, true},
		{"attempt timeout error", context.Background(), kit.WrapError(kit.DeadlineExceeded, fmt.Errorf("%w: %w", discovery.ErrAttemptTimeout, context.DeadlineExceeded), ""), true},
		{"attempt deadline passed", past(discovery.ErrAttemptTimeout), kit.WrapError(kit.DeadlineExceeded, context.DeadlineExceeded, ""), true},
		{"caller deadline passed", past(nil), kit.WrapError(kit.DeadlineExceeded, context.DeadlineExceeded, ""), false},
		{"caller deadline passed, transport error", past(nil), refused, false},
		{"caller cancelled", ended(nil), kit.WrapError(kit.Canceled, context.Canceled, ""), false},
		{"superseded hedge", ended(discovery.ErrAttemptSuperseded), kit.WrapError(kit.Canceled, context.Canceled, ""), false},
		{"invalid argument", context.Background(), kit.InvalidArgumentError("bad"), false},
		{"not found", context.Background(), kit.NewError(kit.NotFound, ""), false},
		{"internal", context.Background(), kit.NewError(kit.Internal, ""), false},
		{"resource exhausted", context.Background(), kit.NewError(kit.ResourceExhausted, ""), false},
		{"deadline exceeded answer", context.Background(), kit.NewError(kit.DeadlineExceeded, ""), false},
		{"plain", context.Background(), errors.New("decode: bad json"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, discovery.OutlierFailure(tt.ctx, tt.err))
		})
	}
}

// A success or an answer resets the count; a call the caller cancelled
// neither counts nor resets.
func TestEjectionCountsConsecutiveFailures(t *testing.T) {
	t.Parallel()
	type outcome int
	const (
		fail outcome = iota
		succeed
		answer    // InvalidArgument
		cancelled // by the caller
	)
	tests := []struct {
		name        string
		outcomes    []outcome
		wantEjected bool
	}{
		{name: "three in a row", outcomes: []outcome{fail, fail, fail}, wantEjected: true},
		{name: "a success resets", outcomes: []outcome{fail, fail, succeed, fail, fail}},
		{name: "an answer resets", outcomes: []outcome{fail, fail, answer, fail, fail}},
		{name: "a cancelled call does not reset", outcomes: []outcome{fail, fail, cancelled, fail}, wantEjected: true},
		{name: "a cancelled call does not count", outcomes: []outcome{fail, cancelled, cancelled, fail}},
		{name: "after a reset", outcomes: []outcome{fail, succeed, fail, fail, fail}, wantEjected: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var next atomic.Int32
			factory := func(instance string) (kit.Endpoint[echoReq, echoResp], io.Closer, error) {
				return func(ctx context.Context, req echoReq) (echoResp, error) {
					if instance != "a:1" {
						return echoResp{Instance: instance}, nil
					}
					switch tt.outcomes[next.Add(1)-1] {
					case fail:
						return echoResp{}, kit.NewError(kit.Unavailable, "")
					case answer:
						return echoResp{}, kit.InvalidArgumentError("bad")
					case cancelled:
						return echoResp{}, kit.WrapError(kit.Canceled, ctx.Err(), "")
					}
					return echoResp{Instance: instance}, nil
				}, nil, nil
			}
			e := discovery.NewEndpointer(discovery.FixedInstancer{"a:1", "b:1"}, factory, quiet,
				discovery.EndpointerOutlierEjection(discovery.OutlierEjection{ConsecutiveFailures: 3, BaseEjectionTime: time.Hour}))
			t.Cleanup(func() { require.NoError(t, e.Close()) })
			ep := endpointsByInstance(t, e)["a:1"]
			for _, o := range tt.outcomes {
				ctx, cancel := context.WithCancel(context.Background())
				if o == cancelled {
					cancel()
				}
				_, _ = ep(ctx, echoReq{})
				cancel()
			}
			assert.Equal(t, tt.wantEjected, slices.Contains(e.Ejected(), "a:1"))
		})
	}
}

// An ejection follows the instancer's set: an instance that leaves is
// forgotten with its ejection, and when the set shrinks so that too many
// are out, the ejected are re-admitted at once.
func TestEjectionFollowsTheSet(t *testing.T) {
	t.Parallel()
	var log closeLog
	src := &testInstancer{}
	inner := nameFactory(&log)
	factory := func(instance string) (kit.Endpoint[echoReq, echoResp], io.Closer, error) {
		ep, c, err := inner(instance)
		return func(ctx context.Context, req echoReq) (echoResp, error) {
			if req.N < 0 {
				return echoResp{}, kit.NewError(kit.Unavailable, "")
			}
			return ep(ctx, req)
		}, c, err
	}
	logs := &logRecorder{}
	e := discovery.NewEndpointer(src, factory, discovery.EndpointerLogger(slog.New(logs)),
		discovery.EndpointerOutlierEjection(discovery.OutlierEjection{ConsecutiveFailures: 1, BaseEjectionTime: time.Hour}))
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	eject := func(instance string) {
		t.Helper()
		_, _ = endpointsByInstance(t, e)[instance](context.Background(), echoReq{N: -1})
		require.Contains(t, e.Ejected(), instance)
	}
	update := func(set ...string) {
		t.Helper()
		src.Update(discovery.Event{Instances: set})
		waitInstances(t, e, set)
	}

	update("a:1", "b:1", "c:1")
	eject("a:1")
	update("a:1", "b:1") // one of two may stay out
	assert.Equal(t, []string{"a:1"}, e.Ejected())
	update("a:1") // never the last one
	assert.Empty(t, e.Ejected())
	eps, err := e.Endpoints()
	require.NoError(t, err)
	assert.Len(t, eps, 1)
	assert.Len(t, logs.withMessage("discovery: instance re-admitted early: too many ejected"), 1)

	update("a:1", "b:1", "c:1")
	eject("b:1")
	made := log.madeCount("b:1")
	update("a:1", "c:1") // b leaves while ejected, and is closed
	assert.Empty(t, e.Ejected())
	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.Contains(c, log.closedInstances(), "b:1") }, 2*time.Second, time.Millisecond)
	update("a:1", "b:1", "c:1") // and comes back anew, admitted
	assert.Empty(t, e.Ejected())
	assert.Equal(t, made+1, log.madeCount("b:1"))
	eps, err = e.Endpoints()
	require.NoError(t, err)
	assert.Len(t, eps, 3)
}

// Close stops the re-admission timers, and an endpoint of a closed
// endpointer still counts without effect.
func TestEjectionAfterClose(t *testing.T) {
	t.Parallel()
	e := discovery.NewEndpointer(discovery.FixedInstancer{"a:1", "b:1"}, failingFactory("a:1"), quiet,
		discovery.EndpointerOutlierEjection(discovery.OutlierEjection{ConsecutiveFailures: 1, BaseEjectionTime: time.Hour}))
	eps := endpointsByInstance(t, e)
	_, _ = eps["a:1"](context.Background(), echoReq{})
	require.Equal(t, []string{"a:1"}, e.Ejected())
	require.NoError(t, e.Close())
	assert.Empty(t, e.Ejected())
	assert.Empty(t, e.Instances())
	_, _ = eps["b:1"](context.Background(), echoReq{})
	_, err := eps["a:1"](context.Background(), echoReq{})
	require.Error(t, err)
	_, err = e.Endpoints()
	assert.ErrorIs(t, err, discovery.ErrClosed)
}

func TestEjectionDefaults(t *testing.T) {
	t.Parallel()
	names := instanceNames(3)
	logs := &logRecorder{}
	e := discovery.NewEndpointer(discovery.FixedInstancer(names), failingFactory(names[0]), discovery.EndpointerLogger(slog.New(logs)),
		discovery.EndpointerOutlierEjection(discovery.OutlierEjection{}))
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	ep := endpointsByInstance(t, e)[names[0]]
	for range discovery.DefaultOutlierConsecutiveFailures - 1 {
		_, _ = ep(context.Background(), echoReq{})
	}
	assert.Empty(t, e.Ejected())
	_, _ = ep(context.Background(), echoReq{})
	assert.Equal(t, names[:1], e.Ejected())
	rec := logs.withMessage("discovery: instance ejected")
	require.Len(t, rec, 1)
	assert.Equal(t, discovery.DefaultOutlierBaseEjectionTime, rec[0]["for"].Duration())
}

func TestEjectionDoesNotAllocate(t *testing.T) {
	var log closeLog
	e := discovery.NewEndpointer(discovery.FixedInstancer(instanceNames(3)), nameFactory(&log),
		discovery.EndpointerOutlierEjection(discovery.OutlierEjection{}))
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	ep := discovery.Retry(discovery.RoundRobin(e))
	ctx := context.Background()
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = ep(ctx, echoReq{N: 1}) }))
}

// failingFactory makes in-process endpoints that answer with their
// instance's name, except those of failing, which fail with Unavailable.
func failingFactory(failing ...string) discovery.Factory[echoReq, echoResp] {
	return func(instance string) (kit.Endpoint[echoReq, echoResp], io.Closer, error) {
		down := slices.Contains(failing, instance)
		return func(_ context.Context, req echoReq) (echoResp, error) {
			if down {
				return echoResp{}, kit.WithRetrySafety(kit.NewError(kit.Unavailable, "down"), kit.RetryNotProcessed)
			}
			return echoResp{Instance: instance, N: req.N}, nil
		}, nil, nil
	}
}

// endpointsByInstance returns e's current endpoints by instance.
func endpointsByInstance(t *testing.T, e *discovery.Endpointer[echoReq, echoResp]) map[string]kit.Endpoint[echoReq, echoResp] {
	t.Helper()
	eps, err := e.Endpoints()
	require.NoError(t, err)
	ejected := e.Ejected()
	admitted := slices.DeleteFunc(e.Instances(), func(s string) bool { return slices.Contains(ejected, s) })
	require.Len(t, eps, len(admitted))
	out := make(map[string]kit.Endpoint[echoReq, echoResp], len(eps))
	for i, inst := range admitted {
		out[inst] = eps[i]
	}
	return out
}
