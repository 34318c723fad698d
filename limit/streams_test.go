package limit_test

import (
	"context"
	"iter"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/limit"
)

// Streams bounds open streams, from their open to their end, and leaves
// unary calls alone.
func TestStreams(t *testing.T) {
	t.Parallel()
	lim := limit.Streams(2)
	forever := kit.ServerStreamEndpoint[int, int](func(ctx context.Context, _ int) (iter.Seq2[int, error], error) {
		return func(yield func(int, error) bool) {
			for i := 0; yield(i, nil); i++ {
			}
		}, nil
	})
	watch := kit.InterceptServerStream(forever, kit.Call{Method: "Watch"}, lim)
	ping := kit.Intercept(kit.Endpoint[int, int](func(_ context.Context, n int) (int, error) { return n, nil }), kit.Call{Method: "Ping"}, lim)

	var stops []func()
	for range 2 {
		seq, err := watch(context.Background(), 0)
		require.NoError(t, err)
		next, stop := iter.Pull2(seq)
		_, err, _ = next()
		require.NoError(t, err)
		stops = append(stops, stop)
	}
	_, err := watch(context.Background(), 0)
	assert.Equal(t, kit.ResourceExhausted, kit.CodeOf(err), "a third stream is refused")
	for range 5 {
		_, err := ping(context.Background(), 1)
		assert.NoError(t, err, "unary calls are not counted")
	}
	stops[0]()
	seq, err := watch(context.Background(), 0)
	require.NoError(t, err, "an ended stream gives its place back")
	for range seq {
		break
	}
	stops[1]()
	assert.Panics(t, func() { limit.Streams(0) })
}
