package kit_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/typedkit/kit"
)

// TestServedHidesTheRetryMarksOfDownstreamCalls: an endpoint's error that
// came from a call it made keeps its code and message but loses that
// call's retry safety and wait, which would tell this endpoint's caller
// that its own work was not done.
func TestServedHidesTheRetryMarksOfDownstreamCalls(t *testing.T) {
	t.Parallel()
	downstream := kit.WrapError(kit.Unavailable,
		kit.WithRetrySafety(kit.WithRetryAfter(errors.New("breaker open"), time.Second), kit.RetryNotProcessed), "billing is down")
	tests := []struct {
		name string
		err  error
	}{
		{"as it is", downstream},
		{"wrapped", fmt.Errorf("charging: %w", downstream)},
		{"joined", errors.Join(errors.New("audit failed"), downstream)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, kit.RetryNotProcessed, kit.RetrySafetyOf(tt.err))
			_, ok := kit.RetryAfterOf(tt.err)
			assert.True(t, ok)

			ep := kit.Served(kit.Endpoint[int, int](func(context.Context, int) (int, error) { return 0, tt.err }))
			_, err := ep(context.Background(), 1)
			assert.Equal(t, kit.RetryUnsafe, kit.RetrySafetyOf(err))
			_, ok = kit.RetryAfterOf(err)
			assert.False(t, ok, "no Retry-After for the caller")
			assert.Equal(t, kit.Unavailable, kit.CodeOf(err))
			assert.Equal(t, "billing is down", kit.MessageOf(err))
			assert.ErrorIs(t, err, downstream)
		})
	}

	plain := errors.New("plain")
	ep := kit.Served(kit.Endpoint[int, int](func(context.Context, int) (int, error) { return 0, plain }))
	_, err := ep(context.Background(), 1)
	assert.Same(t, plain, err, "an error without marks is returned as it is")
}
