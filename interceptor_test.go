package kit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
)

var testCall = kit.Call{Service: "pkg.Svc", Method: "Login", Transport: kit.HTTP, Side: kit.ServerSide}

// intercept wraps ep for testCall.
func intercept[Req, Resp any](ep kit.Endpoint[Req, Resp], ics ...kit.Interceptor) kit.Endpoint[Req, Resp] {
	return kit.Intercept(ep, testCall, ics...)
}

func TestInterceptOrder(t *testing.T) {
	t.Parallel()
	var trace []string
	var built []string
	ic := func(name string) kit.Interceptor {
		return func(call kit.Call, next kit.Invoker) kit.Invoker {
			built = append(built, name+":"+call.Method)
			return func(ctx context.Context, c kit.Call) error {
				trace = append(trace, name+">")
				defer func() { trace = append(trace, "<"+name) }()
				return next(ctx, c)
			}
		}
	}
	tests := []struct {
		name  string
		ics   []kit.Interceptor
		want  []string
		built []string
	}{
		{"none", nil, nil, nil},
		{"one", []kit.Interceptor{ic("a")}, []string{"a>", "<a"}, []string{"a:Login"}},
		{"three", []kit.Interceptor{ic("a"), ic("b"), ic("c")}, []string{"a>", "b>", "c>", "<c", "<b", "<a"}, []string{"c:Login", "b:Login", "a:Login"}},
		{"composed", []kit.Interceptor{kit.Interceptors(ic("a"), nil, ic("b")), ic("c")}, []string{"a>", "b>", "c>", "<c", "<b", "<a"}, []string{"c:Login", "b:Login", "a:Login"}},
		{"nil skipped", []kit.Interceptor{nil, ic("a")}, []string{"a>", "<a"}, []string{"a:Login"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trace, built = nil, nil
			ep := intercept(kit.Endpoint[req, resp](echo), tt.ics...)
			assert.Equal(t, tt.built, built, "each interceptor is called once, when the chain is built")
			r, err := ep(context.Background(), req{A: 7})
			require.NoError(t, err)
			assert.Equal(t, "7", r.C)
			assert.Equal(t, tt.want, trace)
		})
	}
}

func TestInterceptSeesTheCall(t *testing.T) {
	t.Parallel()
	var seen kit.Call
	var gotReq, gotResp any
	ep := intercept(kit.Endpoint[req, resp](echo), func(_ kit.Call, next kit.Invoker) kit.Invoker {
		return func(ctx context.Context, c kit.Call) error {
			seen = c
			gotReq = c.Request()
			err := next(ctx, c)
			gotResp = c.Response()
			return err
		}
	})
	_, err := ep(context.Background(), req{A: 3})
	require.NoError(t, err)
	assert.Equal(t, "pkg.Svc", seen.Service)
	assert.Equal(t, "Login", seen.Method)
	assert.Equal(t, "/pkg.Svc/Login", seen.Procedure())
	assert.Equal(t, kit.HTTP, seen.Transport)
	assert.Equal(t, kit.ServerSide, seen.Side)
	assert.Equal(t, kit.Unary, seen.Stream)
	assert.Equal(t, req{A: 3}, gotReq)
	assert.Equal(t, resp{C: "3"}, gotResp)
	assert.Nil(t, kit.Call{}.Request())
	assert.Nil(t, kit.Call{}.Response())
}

func TestInterceptorCanShortCircuitAndRetry(t *testing.T) {
	t.Parallel()
	denied := kit.NewError(kit.PermissionDenied, "no")
	deny := func(_ kit.Call, _ kit.Invoker) kit.Invoker {
		return func(context.Context, kit.Call) error { return denied }
	}
	calls := 0
	flaky := kit.Endpoint[req, resp](func(_ context.Context, r req) (resp, error) {
		calls++
		if calls < 3 {
			return resp{C: "partial"}, kit.NewError(kit.Unavailable, "")
		}
		return resp{C: fmt.Sprint(r.A)}, nil
	})
	retry := func(_ kit.Call, next kit.Invoker) kit.Invoker {
		return func(ctx context.Context, c kit.Call) error {
			var err error
			for range 3 {
				if err = next(ctx, c); err == nil {
					return nil
				}
			}
			return err
		}
	}
	_, err := intercept(flaky, deny)(context.Background(), req{})
	assert.Same(t, denied, err)
	assert.Equal(t, 0, calls)
	r, err := intercept(flaky, retry)(context.Background(), req{A: 5})
	require.NoError(t, err)
	assert.Equal(t, "5", r.C)
	assert.Equal(t, 3, calls)
}

// A response that failed is the call's error for the interceptors and for
// the caller.
func TestInterceptFailer(t *testing.T) {
	t.Parallel()
	boom := kit.NewError(kit.FailedPrecondition, "no")
	var seen error
	observe := func(_ kit.Call, next kit.Invoker) kit.Invoker {
		return func(ctx context.Context, c kit.Call) error {
			seen = next(ctx, c)
			return seen
		}
	}
	ep := intercept(kit.Endpoint[req, failing](func(context.Context, req) (failing, error) { return failing{boom}, nil }), observe)
	r, err := ep(context.Background(), req{})
	assert.Same(t, boom, err)
	assert.Same(t, boom, seen)
	assert.Equal(t, failing{boom}, r, "the response comes back with its error")

	ptr := intercept(kit.Endpoint[req, *failingPtr](func(context.Context, req) (*failingPtr, error) { return &failingPtr{}, nil }), observe)
	_, err = ptr(context.Background(), req{})
	assert.NoError(t, err)
}

// Calls running at once through one chain each keep their own request and
// response.
func TestInterceptConcurrent(t *testing.T) {
	t.Parallel()
	slowEcho := kit.Endpoint[req, resp](func(_ context.Context, r req) (resp, error) {
		time.Sleep(time.Millisecond)
		return resp{C: fmt.Sprint(r.A)}, nil
	})
	pass := func(_ kit.Call, next kit.Invoker) kit.Invoker { return next }
	ep := intercept(slowEcho, pass, kit.Recover(nil))
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			for j := range 20 {
				a := i*100 + j
				r, err := ep(context.Background(), req{A: a})
				assert.NoError(t, err)
				assert.Equal(t, fmt.Sprint(a), r.C)
			}
		})
	}
	wg.Wait()
}

// An invoker given a Call that carries no call of its types fails cleanly.
func TestInvokerWithForeignCall(t *testing.T) {
	t.Parallel()
	var inner kit.Invoker
	capture := func(_ kit.Call, next kit.Invoker) kit.Invoker { inner = next; return next }
	_ = intercept(kit.Endpoint[req, resp](echo), capture)
	err := inner(context.Background(), kit.Call{Method: "x"})
	assert.Equal(t, kit.Internal, kit.CodeOf(err))
}

// Not parallel: AllocsPerRun counts the allocations of the whole process.
func TestInterceptAllocatesNothing(t *testing.T) {
	pass := func(_ kit.Call, next kit.Invoker) kit.Invoker {
		return func(ctx context.Context, c kit.Call) error { return next(ctx, c) }
	}
	type big struct {
		S    string
		List []int
	}
	ep := kit.Intercept(kit.Endpoint[big, big](func(_ context.Context, b big) (big, error) { return b, nil }), testCall,
		pass, pass, kit.Recover(nil), pass, kit.Logging(slog.New(slog.DiscardHandler)))
	in := big{S: "x", List: []int{1}}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() { _, _ = ep(ctx, in) })
	assert.Zero(t, allocs)
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	slow := func(ctx context.Context, _ req) (resp, error) {
		select {
		case <-ctx.Done():
			return resp{}, ctx.Err()
		case <-time.After(5 * time.Second):
			return resp{C: "late"}, nil
		}
	}
	wrapped := func(ctx context.Context, _ req) (resp, error) {
		<-ctx.Done()
		return resp{}, fmt.Errorf("db: %w", ctx.Err())
	}
	notFound := func(ctx context.Context, _ req) (resp, error) {
		<-ctx.Done()
		return resp{}, kit.NewError(kit.NotFound, "x")
	}
	wrappedKit := func(ctx context.Context, _ req) (resp, error) {
		<-ctx.Done()
		return resp{}, fmt.Errorf("call: %w", kit.WrapError(kit.DeadlineExceeded, ctx.Err(), "too slow"))
	}
	tests := []struct {
		name string
		ep   kit.Endpoint[req, resp]
		want kit.Code
		msg  string
	}{
		{"fast", echo, kit.OK, ""},
		{"ctx error", slow, kit.DeadlineExceeded, "deadline exceeded"},
		{"wrapped ctx error", wrapped, kit.DeadlineExceeded, "deadline exceeded"},
		{"own code kept", notFound, kit.NotFound, "x"},
		{"wrapped kit error kept", wrappedKit, kit.DeadlineExceeded, "too slow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ep := intercept(tt.ep, kit.Timeout(10*time.Millisecond))
			_, err := ep(context.Background(), req{})
			assert.Equal(t, tt.want, kit.CodeOf(err))
			if err != nil {
				var ke *kit.Error
				assert.ErrorAs(t, err, &ke)
				assert.Equal(t, tt.msg, kit.MessageOf(err))
			}
		})
	}
}

func TestTimeoutKeepsEarlierDeadline(t *testing.T) {
	t.Parallel()
	var got time.Time
	ep := intercept(kit.Endpoint[req, resp](func(ctx context.Context, _ req) (resp, error) {
		got, _ = ctx.Deadline()
		return resp{}, nil
	}), kit.Timeout(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	want, _ := ctx.Deadline()
	_, _ = ep(ctx, req{})
	assert.Equal(t, want, got)
}

func TestRecover(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	ep := intercept(kit.Endpoint[req, resp](func(context.Context, req) (resp, error) {
		panic("secret internals")
	}), kit.Recover(logger))
	r, err := ep(context.Background(), req{})
	require.Error(t, err)
	assert.Equal(t, resp{}, r)
	assert.Equal(t, kit.Internal, kit.CodeOf(err))
	assert.Equal(t, "internal error", kit.MessageOf(err))
	var p *kit.PanicError
	require.ErrorAs(t, err, &p)
	assert.Equal(t, "secret internals", p.Value)
	assert.Contains(t, string(p.Stack), "TestRecover")
	out := buf.String()
	assert.Contains(t, out, `"msg":"panic"`)
	assert.Contains(t, out, "secret internals")
	assert.Contains(t, out, `"method":"/pkg.Svc/Login"`)
	assert.Contains(t, out, "kit_test.TestRecover")

	// The endpoint keeps working after a panic.
	ok := intercept(kit.Endpoint[req, resp](echo), kit.Recover(logger))
	r, err = ok(context.Background(), req{A: 1})
	assert.NoError(t, err)
	assert.Equal(t, "1", r.C)
}

func TestRecoverLetsAbortHandlerThrough(t *testing.T) {
	t.Parallel()
	ep := intercept(kit.Endpoint[req, resp](func(context.Context, req) (resp, error) {
		panic(http.ErrAbortHandler)
	}), kit.Recover(slog.New(slog.DiscardHandler)))
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() { _, _ = ep(context.Background(), req{}) })
}

type secretReq struct{ Password string }

func TestLogging(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     []kit.LogOption
		err      error
		level    string
		contains []string
		absent   []string
	}{
		{"ok", nil, nil, "INFO", []string{`"service":"pkg.Svc"`, `"method":"Login"`, `"transport":"http"`, `"side":"server"`, `"code":"ok"`, `"duration"`}, []string{"hunter2", "error"}},
		{"client error at info", nil, kit.NewError(kit.NotFound, "nope"), "INFO", []string{`"code":"not_found"`, `"error":"not_found: nope"`}, []string{"hunter2"}},
		{"server error at error", nil, kit.WrapError(kit.Internal, errors.New("disk full"), ""), "ERROR", []string{`"code":"internal"`, "disk full"}, nil},
		{"request when asked", []kit.LogOption{kit.LogRequest(), kit.LogResponse()}, nil, "INFO", []string{"hunter2", `"response"`}, nil},
		{"custom level", []kit.LogOption{kit.LogLevel(func(kit.Code) slog.Level { return slog.LevelWarn })}, nil, "WARN", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&buf, nil))
			ep := intercept(kit.Endpoint[secretReq, resp](func(context.Context, secretReq) (resp, error) {
				return resp{C: "x"}, tt.err
			}), kit.Logging(logger, tt.opts...))
			_, err := ep(context.Background(), secretReq{Password: "hunter2"})
			assert.Equal(t, tt.err, err)
			out := buf.String()
			assert.Contains(t, out, `"level":"`+tt.level+`"`)
			for _, s := range tt.contains {
				assert.Contains(t, out, s)
			}
			for _, s := range tt.absent {
				assert.NotContains(t, out, s)
			}
		})
	}
}

func TestLoggingDisabledLevelWritesNothing(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError}))
	_, _ = intercept(kit.Endpoint[req, resp](echo), kit.Logging(logger))(context.Background(), req{})
	assert.Empty(t, buf.String())
}

func TestLoggingNilLoggerUsesDefault(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)
	_, _ = intercept(kit.Endpoint[req, resp](echo), kit.Logging(nil))(context.Background(), req{})
	assert.Contains(t, buf.String(), "method=Login")
}

// The common stack composes once for any endpoint.
func TestStandardStack(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.DiscardHandler)
	stack := []kit.Interceptor{kit.Logging(logger), kit.Recover(logger), kit.Timeout(20 * time.Millisecond)}
	ep := intercept(kit.Endpoint[req, resp](func(ctx context.Context, r req) (resp, error) {
		if r.A < 0 {
			panic("negative")
		}
		select {
		case <-time.After(time.Duration(r.A) * time.Millisecond):
		case <-ctx.Done():
		}
		return resp{C: "done"}, ctx.Err()
	}), stack...)

	tests := []struct {
		a    int
		want kit.Code
	}{{0, kit.OK}, {-1, kit.Internal}, {5000, kit.DeadlineExceeded}}
	for _, tt := range tests {
		_, err := ep(context.Background(), req{A: tt.a})
		assert.Equal(t, tt.want, kit.CodeOf(err), "a=%d", tt.a)
	}
}

func TestCallStrings(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{kit.InProcess.String(), "inprocess"}, {kit.HTTP.String(), "http"}, {kit.GRPC.String(), "grpc"}, {kit.MCP.String(), "mcp"},
		{kit.Transport(9).String(), "transport(9)"},
		{kit.ServerSide.String(), "server"}, {kit.ClientSide.String(), "client"},
		{kit.Unary.String(), "unary"}, {kit.ServerStream.String(), "server_stream"}, {kit.ClientStream.String(), "client_stream"},
		{kit.BidiStream.String(), "bidi_stream"}, {kit.StreamKind(7).String(), "stream(7)"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.got)
	}
}
