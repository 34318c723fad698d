package kit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

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
	t.Parallel()
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
	t.Parallel()
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
			t.Parallel()
			assert.Equal(t, tt.want, kit.CodeOf(tt.err))
			assert.Equal(t, tt.want, kit.CodeOf(tt.err))
			assert.Equal(t, tt.msg, kit.MessageOf(tt.err))
		})
	}
}

type coderErr struct{}

func (coderErr) Error() string     { return "coder" }
func (coderErr) KitCode() kit.Code { return kit.Aborted }

func TestErrorCauseStaysInternal(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
	err := fmt.Errorf("x: %w", kit.NewError(kit.NotFound, "user 1"))
	assert.ErrorIs(t, err, kit.NewError(kit.NotFound, ""))
	assert.NotErrorIs(t, err, kit.NewError(kit.AlreadyExists, ""))
	assert.NotErrorIs(t, err, kit.NewError(kit.NotFound, "user 2"), "a target with a message is not a sentinel")
}

func TestAsError(t *testing.T) {
	t.Parallel()
	assert.Nil(t, kit.AsError(nil))
	nf := kit.NewError(kit.NotFound, "x")
	assert.Same(t, nf, kit.AsError(nf))
	assert.Same(t, nf, kit.AsError(fmt.Errorf("w: %w", nf)))
	e := kit.AsError(context.Canceled)
	assert.Equal(t, kit.Canceled, e.Code())
	assert.ErrorIs(t, e, context.Canceled)
}

func TestViolations(t *testing.T) {
	t.Parallel()
	err := kit.InvalidArgumentError("bad", kit.FieldViolation{Field: "a.b", Description: "required"})
	assert.Equal(t, "invalid_argument: bad; a.b: required", err.Error())
	assert.Equal(t, []kit.FieldViolation{{Field: "a.b", Description: "required"}}, kit.ViolationsOf(fmt.Errorf("w: %w", err)))
	assert.Nil(t, kit.ViolationsOf(errors.New("x")))
}

func TestChainOrder(t *testing.T) {
	t.Parallel()
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
		{"nop middleware", kit.Chain(func(next kit.Endpoint[req, resp]) kit.Endpoint[req, resp] { return next }, mw("a"))(echo), []string{"a>", "<a"}},
	}
	// The subtests share trace, so they run one after another.
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

func TestNop(t *testing.T) {
	t.Parallel()
	r, err := kit.Nop[req, *resp](context.Background(), req{})
	assert.NoError(t, err)
	assert.Nil(t, r)
}

type failing struct{ err error }

func (f failing) Failed() error { return f.err }

type failingPtr struct{ err error }

func (f *failingPtr) Failed() error { return f.err }

func TestFailed(t *testing.T) {
	t.Parallel()
	boom := kit.NewError(kit.FailedPrecondition, "no")
	assert.Equal(t, boom, kit.Failed(failing{boom}))
	assert.NoError(t, kit.Failed(failing{}))
	assert.Equal(t, boom, kit.Failed(&failingPtr{boom}))
	assert.NoError(t, kit.Failed(resp{}))
}

func TestWithViolations(t *testing.T) {
	t.Parallel()
	base := kit.NewError(kit.FailedPrecondition, "cannot ship")
	v := base.WithViolations(kit.FieldViolation{Field: "address", Description: "missing"})
	assert.Nil(t, base.Violations(), "the receiver is unchanged")
	assert.Equal(t, kit.FailedPrecondition, v.Code())
	assert.Equal(t, []kit.FieldViolation{{Field: "address", Description: "missing"}}, v.Violations())
	assert.Nil(t, base.WithViolations().Violations())
}

func TestLogServerFaults(t *testing.T) {
	t.Parallel()
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
