package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

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
			assert.Equal(t, tt.want, breaker.IsFailure(tt.err))
		})
	}
}

func TestIsTransient(t *testing.T) {
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
			assert.Equal(t, tt.want, breaker.IsTransient(tt.err))
		})
	}
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
