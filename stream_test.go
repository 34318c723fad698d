package kit_test

import (
	"context"
	"errors"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
)

// count yields 0..n-1, then fails with err if it is not nil.
func count(n int, err error) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
		if err != nil {
			yield(0, err)
		}
	}
}

// recorder is an interceptor that records what it saw of each call.
type recorder struct {
	mu     sync.Mutex
	calls  []kit.Call
	errs   []error
	msgs   map[kit.MessageKind]int
	active int
	max    int
}

func (r *recorder) intercept(call kit.Call, next kit.Invoker) kit.Invoker {
	return func(ctx context.Context, c kit.Call) error {
		r.mu.Lock()
		r.calls = append(r.calls, c)
		r.active++
		r.max = max(r.max, r.active)
		if r.msgs == nil {
			r.msgs = map[kit.MessageKind]int{}
		}
		r.mu.Unlock()
		c.OnMessage(func(k kit.MessageKind) {
			r.mu.Lock()
			r.msgs[k]++
			r.mu.Unlock()
		})
		err := next(ctx, c)
		r.mu.Lock()
		r.active--
		r.errs = append(r.errs, err)
		r.mu.Unlock()
		return err
	}
}

func collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

func TestInterceptServerStream(t *testing.T) {
	t.Parallel()
	boom := kit.NewError(kit.Aborted, "boom")
	ep := kit.ServerStreamEndpoint[int, int](func(_ context.Context, n int) (iter.Seq2[int, error], error) {
		switch {
		case n < 0:
			return nil, kit.NewError(kit.InvalidArgument, "negative")
		case n == 99:
			return count(2, boom), nil
		}
		return count(n, nil), nil
	})
	tests := []struct {
		name    string
		n       int
		take    int // break after this many; -1 for all
		want    []int
		openErr kit.Code
		endErr  error
		seenErr kit.Code
	}{
		{name: "all", n: 3, take: -1, want: []int{0, 1, 2}, seenErr: kit.OK},
		{name: "empty", n: 0, take: -1, seenErr: kit.OK},
		{name: "open error", n: -1, openErr: kit.InvalidArgument, seenErr: kit.InvalidArgument},
		{name: "error after elements", n: 99, take: -1, want: []int{0, 1}, endErr: boom, seenErr: kit.Aborted},
		{name: "consumer breaks", n: 10, take: 2, want: []int{0, 1}, seenErr: kit.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			s := kit.InterceptServerStream(ep, kit.Call{Service: "s", Method: "Watch"}, rec.intercept)
			seq, err := s(context.Background(), tt.n)
			if tt.openErr != kit.OK {
				require.Error(t, err)
				assert.Equal(t, tt.openErr, kit.CodeOf(err))
				assert.Nil(t, seq)
			} else {
				require.NoError(t, err)
				var got []int
				var last error
				for v, err := range seq {
					if err != nil {
						last = err
						break
					}
					got = append(got, v)
					if tt.take >= 0 && len(got) == tt.take {
						break
					}
				}
				assert.Equal(t, tt.want, got)
				assert.Equal(t, tt.endErr, last)
			}
			require.Len(t, rec.calls, 1)
			assert.Equal(t, kit.ServerStream, rec.calls[0].Stream)
			assert.Equal(t, tt.seenErr, kit.CodeOf(rec.errs[0]), "the interceptor sees the end of the stream: %v", rec.errs[0])
			assert.Equal(t, len(tt.want), rec.msgs[kit.ResponseMessage])
		})
	}
}

// The interceptor's invoker returns only when the stream ended, so a
// concurrency limit holds its slot for the whole stream.
func TestInterceptServerStreamHoldsTheChainOpen(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ep := kit.ServerStreamEndpoint[int, int](func(_ context.Context, n int) (iter.Seq2[int, error], error) { return count(n, nil), nil })
	s := kit.InterceptServerStream(ep, kit.Call{}, rec.intercept)
	a, err := s(context.Background(), 3)
	require.NoError(t, err)
	b, err := s(context.Background(), 3)
	require.NoError(t, err)
	rec.mu.Lock()
	assert.Equal(t, 2, rec.active, "both streams are open")
	rec.mu.Unlock()
	_, _ = collect(a)
	_, _ = collect(b)
	assert.Equal(t, 0, rec.active)
	assert.Equal(t, 2, rec.max)
}

// An interceptor that calls next again after the stream started (a retry)
// gets an error instead of a second stream; one that retries a failed open
// opens again.
func TestInterceptServerStreamRetry(t *testing.T) {
	t.Parallel()
	opens := 0
	ep := kit.ServerStreamEndpoint[int, int](func(_ context.Context, n int) (iter.Seq2[int, error], error) {
		opens++
		if opens == 1 {
			return nil, kit.NewError(kit.Unavailable, "first open fails")
		}
		return count(2, errors.New("mid-stream")), nil
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
	s := kit.InterceptServerStream(ep, kit.Call{}, retry)
	seq, err := s(context.Background(), 0)
	require.NoError(t, err)
	got, err := collect(seq)
	assert.Equal(t, []int{0, 1}, got, "the elements are not sent twice")
	assert.Equal(t, kit.Internal, kit.CodeOf(err))
	assert.Equal(t, 2, opens)
}

func TestInterceptServerStreamPanics(t *testing.T) {
	t.Parallel()
	ep := kit.ServerStreamEndpoint[int, int](func(_ context.Context, n int) (iter.Seq2[int, error], error) {
		return func(yield func(int, error) bool) {
			yield(1, nil)
			panic("in the sequence")
		}, nil
	})
	s := kit.InterceptServerStream(ep, kit.Call{}, kit.Recover(nil))
	seq, err := s(context.Background(), 0)
	require.NoError(t, err)
	got, err := collect(seq)
	assert.Equal(t, []int{1}, got)
	assert.Equal(t, kit.Internal, kit.CodeOf(err))
	assert.Equal(t, "internal error", kit.MessageOf(err))
}

// A sequence never ranged over releases its chain when ctx ends.
func TestInterceptServerStreamNeverRanged(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ep := kit.ServerStreamEndpoint[int, int](func(_ context.Context, n int) (iter.Seq2[int, error], error) { return count(n, nil), nil })
	s := kit.InterceptServerStream(ep, kit.Call{}, rec.intercept)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := s(ctx, 5)
	require.NoError(t, err)
	cancel()
	require.Eventually(t, func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.errs) == 1
	}, 5*time.Second, time.Millisecond)
	assert.Equal(t, kit.Canceled, kit.CodeOf(rec.errs[0]))
}

func TestInterceptClientStream(t *testing.T) {
	t.Parallel()
	sum := kit.ClientStreamEndpoint[int, int](func(_ context.Context, reqs iter.Seq2[int, error]) (int, error) {
		s := 0
		for v, err := range reqs {
			if err != nil {
				return s, err
			}
			s += v
		}
		return s, nil
	})
	rec := &recorder{}
	ep := kit.InterceptClientStream(sum, kit.Call{Method: "Sum"}, rec.intercept, kit.Logging(nil))
	got, err := ep(context.Background(), count(4, nil))
	require.NoError(t, err)
	assert.Equal(t, 6, got)
	assert.Equal(t, kit.ClientStream, rec.calls[0].Stream)
	assert.Equal(t, 4, rec.msgs[kit.RequestMessage])

	_, err = ep(context.Background(), count(2, kit.NewError(kit.DataLoss, "cut")))
	assert.Equal(t, kit.DataLoss, kit.CodeOf(err))
	assert.Equal(t, kit.DataLoss, kit.CodeOf(rec.errs[1]))

	got, err = ep(context.Background(), nil)
	require.NoError(t, err)
	assert.Zero(t, got)
}

func TestInterceptBidiStream(t *testing.T) {
	t.Parallel()
	double := kit.BidiStreamEndpoint[int, int](func(_ context.Context, reqs iter.Seq2[int, error]) (iter.Seq2[int, error], error) {
		return func(yield func(int, error) bool) {
			for v, err := range reqs {
				if !yield(v*2, err) || err != nil {
					return
				}
			}
		}, nil
	})
	rec := &recorder{}
	ep := kit.InterceptBidiStream(double, kit.Call{}, rec.intercept)
	seq, err := ep(context.Background(), count(3, nil))
	require.NoError(t, err)
	got, err := collect(seq)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 2, 4}, got)
	assert.Equal(t, kit.BidiStream, rec.calls[0].Stream)
	assert.Equal(t, 3, rec.msgs[kit.RequestMessage])
	assert.Equal(t, 3, rec.msgs[kit.ResponseMessage])
}

// Without interceptors, the endpoint is returned as it is.
func TestInterceptStreamWithoutInterceptors(t *testing.T) {
	t.Parallel()
	ep := kit.ServerStreamEndpoint[int, int](func(_ context.Context, n int) (iter.Seq2[int, error], error) { return count(n, nil), nil })
	seq, err := kit.InterceptServerStream(ep, kit.Call{})(context.Background(), 2)
	require.NoError(t, err)
	got, _ := collect(seq)
	assert.Equal(t, []int{0, 1}, got)
}

// Timeout leaves streams alone: a stream outlives it.
func TestTimeoutSkipsStreams(t *testing.T) {
	t.Parallel()
	ep := kit.ServerStreamEndpoint[int, int](func(ctx context.Context, n int) (iter.Seq2[int, error], error) {
		return func(yield func(int, error) bool) {
			time.Sleep(20 * time.Millisecond)
			yield(0, ctx.Err())
		}, nil
	})
	seq, err := kit.InterceptServerStream(ep, kit.Call{}, kit.Timeout(time.Millisecond))(context.Background(), 1)
	require.NoError(t, err)
	_, err = collect(seq)
	assert.NoError(t, err)
}

type checked struct{ N int }

func (c checked) Validate() error {
	if c.N < 0 {
		return kit.InvalidArgumentError("negative", kit.FieldViolation{Field: "n", Description: "must not be negative"})
	}
	return nil
}

type checkedPtr struct{ N int }

func (c *checkedPtr) Validate() error {
	if c.N < 0 {
		return errors.New("negative")
	}
	return nil
}

func TestValidateEach(t *testing.T) {
	t.Parallel()
	in := func(ns ...int) iter.Seq2[checked, error] {
		return func(yield func(checked, error) bool) {
			for _, n := range ns {
				if !yield(checked{n}, nil) {
					return
				}
			}
		}
	}
	got, err := collect(kit.ValidateEach(in(1, 2, -1, 3)))
	assert.Equal(t, []checked{{1}, {2}}, got)
	assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err))
	assert.Len(t, kit.ViolationsOf(err), 1)

	inP := func(ns ...int) iter.Seq2[checkedPtr, error] {
		return func(yield func(checkedPtr, error) bool) {
			for _, n := range ns {
				if !yield(checkedPtr{n}, nil) {
					return
				}
			}
		}
	}
	gotP, err := collect(kit.ValidateEachPointer(inP(1, -1)))
	assert.Equal(t, []checkedPtr{{1}}, gotP)
	assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err))
	assert.Equal(t, "invalid argument", kit.MessageOf(err), "a plain error's text is concealed")
}

func TestWrap(t *testing.T) {
	t.Parallel()
	var order []string
	mw := func(name string) func(kit.ServerStreamEndpoint[int, int]) kit.ServerStreamEndpoint[int, int] {
		return func(next kit.ServerStreamEndpoint[int, int]) kit.ServerStreamEndpoint[int, int] {
			return func(ctx context.Context, n int) (iter.Seq2[int, error], error) {
				order = append(order, name)
				return next(ctx, n)
			}
		}
	}
	ep := kit.Wrap(kit.ServerStreamEndpoint[int, int](func(_ context.Context, n int) (iter.Seq2[int, error], error) {
		return count(n, nil), nil
	}), mw("a"), nil, mw("b"))
	_, _ = ep(context.Background(), 1)
	assert.Equal(t, []string{"a", "b"}, order)
}

func TestMessageKindString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "request", kit.RequestMessage.String())
	assert.Equal(t, "response", kit.ResponseMessage.String())
}

// A stream through interceptors allocates nothing per message.
func BenchmarkInterceptServerStream(b *testing.B) {
	pass := func(_ kit.Call, next kit.Invoker) kit.Invoker { return next }
	ep := kit.ServerStreamEndpoint[int, int](func(_ context.Context, n int) (iter.Seq2[int, error], error) { return count(n, nil), nil })
	s := kit.InterceptServerStream(ep, kit.Call{}, pass, kit.Recover(nil))
	b.ReportAllocs()
	seq, _ := s(context.Background(), b.N)
	b.ResetTimer()
	for range seq {
	}
}
