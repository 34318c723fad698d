package kit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/typedkit/kit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type req struct{ A int }
type resp struct{ C string }

func echo(_ context.Context, r req) (resp, error) { return resp{C: fmt.Sprint(r.A)}, nil }

func TestCodeStringParse(t *testing.T) {
	for _, c := range kit.Codes() {
		name := c.String()
		got, ok := kit.ParseCode(name)
		require.True(t, ok, name)
		assert.Equal(t, c, got)
		assert.NotContains(t, name, " ")
	}
	_, ok := kit.ParseCode("nonsense")
	assert.False(t, ok)
	assert.Equal(t, "code(99)", kit.Code(99).String())
	assert.Len(t, kit.Codes(), 17)
}

func TestCodeOf(t *testing.T) {
	nf := kit.NewError(kit.NotFound, "no user")
	tests := []struct {
		name string
		err  error
		want kit.Code
		msg  string
	}{
		{"nil", nil, kit.OK, ""},
		{"kit error", nf, kit.NotFound, "no user"},
		{"wrapped kit error", fmt.Errorf("outer: %w", nf), kit.NotFound, "no user"},
		{"canceled", context.Canceled, kit.Canceled, "request canceled"},
		{"wrapped deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), kit.DeadlineExceeded, "deadline exceeded"},
		{"plain", errors.New("secret detail"), kit.Unknown, "unknown error"},
		{"coder", coderErr{}, kit.Aborted, "aborted"},
		{"no message", kit.NewError(kit.Unavailable, ""), kit.Unavailable, "service unavailable"},
		{"undefined code", kit.NewError(kit.Code(42), ""), kit.Code(42), "unknown error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, kit.CodeOf(tt.err))
			assert.True(t, kit.IsCode(tt.err, tt.want))
			assert.Equal(t, tt.msg, kit.MessageOf(tt.err))
		})
	}
}

type coderErr struct{}

func (coderErr) Error() string     { return "coder" }
func (coderErr) KitCode() kit.Code { return kit.Aborted }

func TestErrorCauseStaysInternal(t *testing.T) {
	cause := errors.New("password=hunter2")
	err := kit.WrapError(kit.Internal, cause, "")
	assert.Equal(t, "internal error", kit.MessageOf(err))
	assert.NotContains(t, kit.MessageOf(err), "hunter2")
	assert.Contains(t, err.Error(), "hunter2", "the full text is for logs")
	assert.ErrorIs(t, err, cause)

	var kerr *kit.Error
	require.ErrorAs(t, fmt.Errorf("wrapped: %w", err), &kerr)
	assert.Equal(t, kit.Internal, kerr.Code())
	assert.Equal(t, cause, kerr.Unwrap())
}

func TestErrorIsByCode(t *testing.T) {
	err := fmt.Errorf("x: %w", kit.NewError(kit.NotFound, "user 1"))
	assert.ErrorIs(t, err, kit.NewError(kit.NotFound, ""))
	assert.NotErrorIs(t, err, kit.NewError(kit.AlreadyExists, ""))
	assert.NotErrorIs(t, err, kit.NewError(kit.NotFound, "user 2"), "a target with a message is not a sentinel")
}

func TestAsError(t *testing.T) {
	assert.Nil(t, kit.AsError(nil))
	nf := kit.NewError(kit.NotFound, "x")
	assert.Same(t, nf, kit.AsError(nf))
	assert.Same(t, nf, kit.AsError(fmt.Errorf("w: %w", nf)))
	e := kit.AsError(context.Canceled)
	assert.Equal(t, kit.Canceled, e.Code())
	assert.ErrorIs(t, e, context.Canceled)
}

func TestViolations(t *testing.T) {
	err := kit.InvalidArgumentError("bad", kit.FieldViolation{Field: "a.b", Description: "required"})
	assert.Equal(t, "invalid_argument: bad; a.b: required", err.Error())
	assert.Equal(t, []kit.FieldViolation{{Field: "a.b", Description: "required"}}, kit.ViolationsOf(fmt.Errorf("w: %w", err)))
	assert.Nil(t, kit.ViolationsOf(errors.New("x")))
}

func TestChainOrder(t *testing.T) {
	var trace []string
	mw := func(name string) kit.Middleware[req, resp] {
		return func(next kit.Endpoint[req, resp]) kit.Endpoint[req, resp] {
			return func(ctx context.Context, r req) (resp, error) {
				trace = append(trace, name+">")
				defer func() { trace = append(trace, "<"+name) }()
				return next(ctx, r)
			}
		}
	}
	tests := []struct {
		name string
		ep   kit.Endpoint[req, resp]
		want []string
	}{
		{"chain of one", kit.Chain(mw("a"))(echo), []string{"a>", "<a"}},
		{"chain of three", kit.Chain(mw("a"), mw("b"), mw("c"))(echo), []string{"a>", "b>", "c>", "<c", "<b", "<a"}},
		{"stack", kit.Wrap(echo).Use(mw("a"), mw("b")).Use(mw("c")).Endpoint(), []string{"a>", "b>", "c>", "<c", "<b", "<a"}},
		{"nop middleware", kit.Chain(kit.NopMiddleware[req, resp], mw("a"))(echo), []string{"a>", "<a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trace = nil
			r, err := tt.ep(context.Background(), req{A: 7})
			require.NoError(t, err)
			assert.Equal(t, "7", r.C)
			assert.Equal(t, tt.want, trace)
		})
	}
}

func TestStackIsAValue(t *testing.T) {
	var n int
	count := func(next kit.Endpoint[req, resp]) kit.Endpoint[req, resp] {
		return func(ctx context.Context, r req) (resp, error) { n++; return next(ctx, r) }
	}
	base := kit.Wrap(echo).Use(count)
	one := base.Endpoint()
	two := base.Use(count).Endpoint()
	_, _ = one(context.Background(), req{})
	assert.Equal(t, 1, n)
	_, _ = two(context.Background(), req{})
	assert.Equal(t, 3, n)
}

func TestNop(t *testing.T) {
	r, err := kit.Nop[req, *resp](context.Background(), req{})
	assert.NoError(t, err)
	assert.Nil(t, r)
}

type failing struct{ err error }

func (f failing) Failed() error { return f.err }

type failingPtr struct{ err error }

func (f *failingPtr) Failed() error { return f.err }

func TestFailed(t *testing.T) {
	boom := kit.NewError(kit.FailedPrecondition, "no")
	assert.Equal(t, boom, kit.Failed(failing{boom}))
	assert.NoError(t, kit.Failed(failing{}))
	assert.Equal(t, boom, kit.Failed(&failingPtr{boom}))
	assert.NoError(t, kit.Failed(resp{}))

	assert.Equal(t, boom, kit.FailedFunc[failing]()(failing{boom}))
	assert.Equal(t, boom, kit.FailedFunc[*failingPtr]()(&failingPtr{boom}))
	assert.NoError(t, kit.FailedFunc[resp]()(resp{}))
	assert.Equal(t, boom, kit.FailedFunc[kit.Failer]()(failing{boom}), "interface types are checked per value")
	assert.NoError(t, kit.FailedFunc[any]()(nil))
}

func TestTimeout(t *testing.T) {
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
	tests := []struct {
		name string
		ep   kit.Endpoint[req, resp]
		want kit.Code
	}{
		{"fast", echo, kit.OK},
		{"ctx error", slow, kit.DeadlineExceeded},
		{"wrapped ctx error", wrapped, kit.DeadlineExceeded},
		{"own code kept", notFound, kit.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := kit.Timeout[req, resp](10 * time.Millisecond)(tt.ep)
			_, err := ep(context.Background(), req{})
			assert.Equal(t, tt.want, kit.CodeOf(err))
			if err != nil {
				_, isKit := err.(*kit.Error)
				assert.True(t, isKit, "a kit error, not %T", err)
			}
		})
	}
}

func TestTimeoutKeepsEarlierDeadline(t *testing.T) {
	var got time.Time
	ep := kit.Timeout[req, resp](time.Hour)(func(ctx context.Context, _ req) (resp, error) {
		got, _ = ctx.Deadline()
		return resp{}, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	want, _ := ctx.Deadline()
	_, _ = ep(ctx, req{})
	assert.Equal(t, want, got)
}

func TestRecover(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	ep := kit.Recover[req, resp](logger)(func(context.Context, req) (resp, error) {
		panic("secret internals")
	})
	r, err := ep(context.Background(), req{})
	require.Error(t, err)
	assert.Equal(t, resp{}, r)
	assert.Equal(t, kit.Internal, kit.CodeOf(err))
	assert.Equal(t, "internal error", kit.MessageOf(err))
	var p *kit.PanicError
	require.ErrorAs(t, err, &p)
	assert.Equal(t, "secret internals", p.Value)
	assert.Contains(t, string(p.Stack), "TestRecover")
	assert.Contains(t, buf.String(), `"msg":"panic"`)
	assert.Contains(t, buf.String(), "secret internals")
	assert.Contains(t, buf.String(), "kit_test.TestRecover")

	// The endpoint keeps working after a panic.
	ok := kit.Recover[req, resp](logger)(echo)
	r, err = ok(context.Background(), req{A: 1})
	assert.NoError(t, err)
	assert.Equal(t, "1", r.C)
}

func TestRecoverLetsAbortHandlerThrough(t *testing.T) {
	ep := kit.Recover[req, resp](slog.New(slog.DiscardHandler))(func(context.Context, req) (resp, error) {
		panic(http.ErrAbortHandler)
	})
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() { _, _ = ep(context.Background(), req{}) })
}

type secretReq struct{ Password string }

func TestLogging(t *testing.T) {
	tests := []struct {
		name     string
		opts     []kit.LogOption
		err      error
		level    string
		contains []string
		absent   []string
	}{
		{"ok", nil, nil, "INFO", []string{`"endpoint":"Login"`, `"code":"ok"`, `"duration"`}, []string{"hunter2", "error"}},
		{"client error at info", nil, kit.NewError(kit.NotFound, "nope"), "INFO", []string{`"code":"not_found"`, `"error":"not_found: nope"`}, []string{"hunter2"}},
		{"server error at error", nil, kit.WrapError(kit.Internal, errors.New("disk full"), ""), "ERROR", []string{`"code":"internal"`, "disk full"}, nil},
		{"request when asked", []kit.LogOption{kit.LogRequest(), kit.LogResponse()}, nil, "INFO", []string{"hunter2", `"response"`}, nil},
		{"custom level", []kit.LogOption{kit.LogLevel(func(kit.Code) slog.Level { return slog.LevelWarn })}, nil, "WARN", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&buf, nil))
			ep := kit.Logging[secretReq, resp](logger, "Login", tt.opts...)(func(context.Context, secretReq) (resp, error) {
				return resp{C: "x"}, tt.err
			})
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
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError}))
	ep := kit.Logging[req, resp](logger, "x")(echo)
	_, _ = ep(context.Background(), req{})
	assert.Empty(t, buf.String())
}

func TestLoggingNilLoggerUsesDefault(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)
	_, _ = kit.Logging[req, resp](nil, "x")(echo)(context.Background(), req{})
	assert.True(t, strings.Contains(buf.String(), "endpoint=x"))
	_ = io.Discard
}

// The common stack composes with its types written once.
func TestStandardStack(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	ep := kit.Wrap(kit.Endpoint[req, resp](func(ctx context.Context, r req) (resp, error) {
		if r.A < 0 {
			panic("negative")
		}
		<-time.After(time.Duration(r.A) * time.Millisecond)
		return resp{C: "done"}, ctx.Err()
	})).Logging(logger, "ep").Recover(logger).Timeout(20 * time.Millisecond).Endpoint()

	tests := []struct {
		a    int
		want kit.Code
	}{{0, kit.OK}, {-1, kit.Internal}, {60, kit.DeadlineExceeded}}
	for _, tt := range tests {
		_, err := ep(context.Background(), req{A: tt.a})
		assert.Equal(t, tt.want, kit.CodeOf(err), "a=%d", tt.a)
	}
}

func TestWithViolations(t *testing.T) {
	base := kit.NewError(kit.FailedPrecondition, "cannot ship")
	v := base.WithViolations(kit.FieldViolation{Field: "address", Description: "missing"})
	assert.Nil(t, base.Violations(), "the receiver is unchanged")
	assert.Equal(t, kit.FailedPrecondition, v.Code())
	assert.Equal(t, []kit.FieldViolation{{Field: "address", Description: "missing"}}, v.Violations())
	assert.Nil(t, base.WithViolations().Violations())
}

func TestLogServerFaults(t *testing.T) {
	var buf bytes.Buffer
	h := kit.LogServerFaults(slog.New(slog.NewTextHandler(&buf, nil)))
	h.Handle(context.Background(), kit.NewError(kit.NotFound, "x"))
	assert.Empty(t, buf.String(), "caller faults are not logged")
	h.Handle(context.Background(), kit.WrapError(kit.Internal, errors.New("disk full"), ""))
	assert.Contains(t, buf.String(), "disk full")
	buf.Reset()
	h.Handle(context.Background(), kit.WrapError(kit.Internal, &kit.PanicError{Value: "boom", Stack: []byte("goroutine 1")}, ""))
	assert.Contains(t, buf.String(), "goroutine 1")
}
