package breaker_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/breaker"
)

func TestFallback(t *testing.T) {
	t.Parallel()
	rejection := kit.WrapError(kit.Unavailable, breaker.ErrOpen, "")
	tests := []struct {
		name     string
		err      error
		opts     []breaker.Option
		wantResp string
		wantErr  error // nil when the fallback answers
	}{
		{name: "success", err: nil, wantResp: "fresh"},
		{name: "breaker open", err: rejection, wantResp: "cached"},
		{name: "unavailable", err: errUnavailable, wantResp: "cached"},
		{name: "deadline", err: kit.NewError(kit.DeadlineExceeded, ""), wantResp: "cached"},
		{name: "context deadline", err: context.DeadlineExceeded, wantResp: "cached"},
		{name: "internal is not answered", err: errInternal, wantErr: errInternal},
		{name: "caller error is not answered", err: errNotFound, wantErr: errNotFound},
		{name: "canceled is not answered", err: context.Canceled, wantErr: context.Canceled},
		{
			name:     "custom class",
			err:      errInternal,
			opts:     []breaker.Option{breaker.Classify(breaker.IsFailure)},
			wantResp: "cached",
		},
		{
			name:    "custom class leaves others",
			err:     errUnavailable,
			opts:    []breaker.Option{breaker.Classify(func(err error) bool { return errors.Is(err, breaker.ErrOpen) })},
			wantErr: errUnavailable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var gotErr error
			fb := func(_ context.Context, id string, err error) (string, error) {
				gotErr = err
				return "cached", nil
			}
			ep := breaker.Fallback(fb, tt.opts...)(func(context.Context, string) (string, error) {
				if tt.err != nil {
					return "", tt.err
				}
				return "fresh", nil
			})
			resp, err := ep(context.Background(), "42")
			if tt.wantErr != nil {
				assert.Same(t, tt.wantErr, err)
				assert.Nil(t, gotErr, "the fallback is not called")
				return
			}
			assert.NoError(t, err)
			assert.Equal(t, tt.wantResp, resp)
			if tt.err != nil {
				assert.Equal(t, tt.err, gotErr, "the fallback sees the error")
			}
		})
	}
}

func TestFallbackError(t *testing.T) {
	t.Parallel()
	degraded := kit.NewError(kit.Unavailable, "no cached copy")
	ep := breaker.Fallback(func(context.Context, string, error) (string, error) { return "", degraded })(
		func(context.Context, string) (string, error) { return "", errUnavailable })
	_, err := ep(context.Background(), "")
	assert.Same(t, degraded, err, "the fallback's error is what the caller receives")
}
