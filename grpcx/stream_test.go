package grpcx_test

import (
	"context"
	"errors"
	"iter"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/internal/streamtest"
)

// streamServer serves streamtest.Service over loopback with opts and
// returns a client of it, with copts.
func streamServer(t *testing.T, svc streamtest.Streamer, opts []grpcx.ServerOption, copts ...grpcx.ClientOption) streamtest.Streamer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := grpcx.NewGRPCServer()
	streamtest.RegisterGRPC(s, streamtest.NewEndpoints(svc, streamtest.Middlewares{}), opts...)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = cc.Close() })
	return streamtest.NewGRPCClient(cc, copts...)
}

func TestGRPCServerStream(t *testing.T) {
	t.Parallel()
	c := streamServer(t, streamtest.Service{}, nil)
	ctx := context.Background()
	tests := []struct {
		name    string
		req     streamtest.WatchRequest
		n       int
		openErr kit.Code
		endErr  kit.Code
	}{
		{name: "events", req: streamtest.WatchRequest{Prefix: "a", Count: 5}, n: 5},
		{name: "large events", req: streamtest.WatchRequest{Count: 3, Size: 1 << 20}, n: 3},
		{name: "open error", req: streamtest.WatchRequest{Fail: "not_found", OpenFail: true}, openErr: kit.NotFound},
		{name: "error after events", req: streamtest.WatchRequest{Count: 2, Fail: "aborted"}, n: 2, endErr: kit.Aborted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, pointers := range []bool{false, true} {
				var got int
				var err error
				if pointers {
					seq, oerr := c.Pointers(ctx, tt.req)
					if tt.openErr != kit.OK {
						assert.Equal(t, tt.openErr, kit.CodeOf(oerr), "%v", oerr)
						continue
					}
					require.NoError(t, oerr)
					evs, e := streamtest.Collect(seq)
					got, err = len(evs), e
					for i, ev := range evs {
						assert.Equal(t, tt.req.Prefix+strconv.Itoa(i), ev.ID)
					}
				} else {
					seq, oerr := c.Watch(ctx, tt.req)
					if tt.openErr != kit.OK {
						assert.Equal(t, tt.openErr, kit.CodeOf(oerr), "%v", oerr)
						assert.Equal(t, "asked to fail with not_found", kit.MessageOf(oerr))
						continue
					}
					require.NoError(t, oerr)
					evs, e := streamtest.Collect(seq)
					got, err = len(evs), e
					for i, ev := range evs {
						assert.Equal(t, int64(i), ev.Seq)
						assert.Len(t, ev.Kind, 4+tt.req.Size)
					}
				}
				assert.Equal(t, tt.n, got)
				assert.Equal(t, tt.endErr, kit.CodeOf(err), "%v", err)
			}
		})
	}
	t.Run("words", func(t *testing.T) {
		t.Parallel()
		seq, err := c.Words(ctx, "a stream of words")
		require.NoError(t, err)
		got, err := streamtest.Collect(seq)
		require.NoError(t, err)
		assert.Equal(t, []string{"a", "stream", "of", "words"}, got)
		_, err = c.Words(ctx, "")
		assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err))
	})
}

// Breaking out of the loop ends the call on the server; a cancelled
// context ends it on both sides.
func TestGRPCServerStreamCancel(t *testing.T) {
	t.Parallel()
	ended := make(chan error, 4)
	c := streamServer(t, streamtest.Service{}, []grpcx.ServerOption{grpcx.ServerFinalizer(func(_ context.Context, info grpcx.FinalizerInfo) {
		ended <- info.Err
	})})
	seq, err := c.Watch(context.Background(), streamtest.WatchRequest{EveryMillis: 1})
	require.NoError(t, err)
	n := 0
	for _, err := range seq {
		require.NoError(t, err)
		if n++; n == 3 {
			break
		}
	}
	select {
	case err := <-ended:
		assert.Equal(t, kit.Canceled, kit.CodeOf(err), "%v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the server's stream did not end")
	}

	ctx, cancel := context.WithCancel(context.Background())
	seq, err = c.Watch(ctx, streamtest.WatchRequest{EveryMillis: 1})
	require.NoError(t, err)
	var last error
	n = 0
	for _, err := range seq {
		if err != nil {
			last = err
			break
		}
		if n++; n == 2 {
			cancel()
		}
	}
	assert.Equal(t, kit.Canceled, kit.CodeOf(last), "%v", last)
	<-ended

	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	seq, err = c.Watch(ctx, streamtest.WatchRequest{EveryMillis: 5})
	require.NoError(t, err)
	_, err = streamtest.Collect(seq)
	assert.Equal(t, kit.DeadlineExceeded, kit.CodeOf(err), "%v", err)
}

func TestGRPCClientStream(t *testing.T) {
	t.Parallel()
	c := streamServer(t, streamtest.Service{}, nil)
	ctx := context.Background()
	sum, err := c.Upload(ctx, streamtest.Chunks(1, 2, 3))
	require.NoError(t, err)
	assert.Equal(t, streamtest.Summary{Bytes: 9, Count: 3}, sum)

	sum, err = c.Upload(ctx, streamtest.Chunks())
	require.NoError(t, err)
	assert.Zero(t, sum)

	// Each request is validated on the server.
	_, err = c.Upload(ctx, streamtest.Chunks(1, -1, 2))
	assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err))
	assert.Equal(t, []kit.FieldViolation{{Field: "n", Description: "must not be negative"}}, kit.ViolationsOf(err))

	// An error of the caller's sequence ends the call with it.
	mine := errors.New("the caller gave up")
	_, err = c.Upload(ctx, func(yield func(streamtest.Chunk, error) bool) {
		if yield(streamtest.Chunk{}, nil) {
			yield(streamtest.Chunk{}, mine)
		}
	})
	assert.ErrorIs(t, err, mine)
}

func TestGRPCBidiStream(t *testing.T) {
	t.Parallel()
	c := streamServer(t, streamtest.Service{}, nil)
	in := make(chan streamtest.Event)
	out, err := c.Chat(context.Background(), func(yield func(streamtest.Event, error) bool) {
		for e := range in {
			if !yield(e, nil) {
				return
			}
		}
	})
	require.NoError(t, err)
	// Each answer arrives before the next request is sent: the stream is
	// full duplex.
	next, stop := iter.Pull2(out)
	defer stop()
	for i := range 3 {
		in <- streamtest.Event{ID: strconv.Itoa(i), Seq: int64(i)}
		e, err, ok := next()
		require.True(t, ok)
		require.NoError(t, err)
		assert.Equal(t, streamtest.Event{ID: strconv.Itoa(i), Kind: "echo", Seq: int64(i)}, e)
	}
	close(in)
	_, err, ok := next()
	assert.False(t, ok, "the stream ends when the requests do: %v", err)

	// A plain error of the service reaches the caller as a code and a
	// public message only.
	out, err = c.Chat(context.Background(), func(yield func(streamtest.Event, error) bool) {
		yield(streamtest.Event{Kind: "fail"}, nil)
	})
	require.NoError(t, err)
	_, err = streamtest.Collect(out)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "not for the caller")
	assert.Equal(t, kit.Unknown, kit.CodeOf(err))
}

// The interceptors of both sides see each stream once, from its open to
// its end, with the messages it carried; hooks carry metadata both ways.
func TestGRPCStreamInterceptorsAndHooks(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string][]string{}
	record := func(side string) kit.Interceptor {
		return func(call kit.Call, next kit.Invoker) kit.Invoker {
			return func(ctx context.Context, c kit.Call) error {
				var msgs int
				c.OnMessage(func(kit.MessageKind) {
					mu.Lock()
					msgs++
					mu.Unlock()
				})
				err := next(ctx, c)
				mu.Lock()
				seen[side] = append(seen[side], c.Method+" "+c.Stream.String()+" "+kit.CodeOf(err).String()+" "+strconv.Itoa(msgs))
				mu.Unlock()
				return err
			}
		}
	}
	var header metadata.MD
	c := streamServer(t, streamtest.Service{},
		[]grpcx.ServerOption{
			grpcx.ServerInterceptors(record("server")),
			grpcx.ServerAfter(func(ctx context.Context, h, _ *metadata.MD) context.Context {
				h.Set("x-stream", "open")
				return ctx
			}),
		},
		grpcx.ClientInterceptors(record("client")),
		grpcx.ClientAfter(func(ctx context.Context, h, _ metadata.MD) context.Context {
			mu.Lock()
			header = h
			mu.Unlock()
			return ctx
		}),
	)
	seq, err := c.Watch(context.Background(), streamtest.WatchRequest{Count: 2})
	require.NoError(t, err)
	_, err = streamtest.Collect(seq)
	require.NoError(t, err)
	_, err = c.Upload(context.Background(), streamtest.Chunks(1, 2, 3))
	require.NoError(t, err)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"open"}, header.Get("x-stream"))
	assert.Equal(t, []string{"Watch server_stream ok 2", "Upload client_stream ok 3"}, seen["server"])
	assert.Equal(t, []string{"Watch server_stream ok 2", "Upload client_stream ok 3"}, seen["client"])
}

// A panic in the service's sequence is an Internal status; the server
// stays up.
func TestGRPCStreamPanic(t *testing.T) {
	t.Parallel()
	c := streamServer(t, panicky{}, []grpcx.ServerOption{grpcx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) {}))})
	seq, err := c.Watch(context.Background(), streamtest.WatchRequest{})
	require.NoError(t, err)
	got, err := streamtest.Collect(seq)
	assert.Len(t, got, 1)
	assert.Equal(t, kit.Internal, kit.CodeOf(err))
	assert.Equal(t, "internal error", kit.MessageOf(err))
	pong, err := c.Ping(context.Background(), "still up")
	require.NoError(t, err)
	assert.Equal(t, "still up", pong)
}

type panicky struct{ streamtest.Service }

func (panicky) Watch(context.Context, streamtest.WatchRequest) (iter.Seq2[streamtest.Event, error], error) {
	return func(yield func(streamtest.Event, error) bool) {
		yield(streamtest.Event{ID: "first"}, nil)
		panic("the sequence broke")
	}, nil
}
