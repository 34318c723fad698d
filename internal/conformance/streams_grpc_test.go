package conformance_test

import (
	"bufio"
	"context"
	"iter"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/internal/streamtest"
)

// streamEnds notes how each stream the Node client opened ended on the Go
// server, by the client's x-case metadata, and whether its context had a
// deadline.
type streamEnds struct {
	mu       sync.Mutex
	codes    map[string]codes.Code
	deadline map[string]time.Duration
}

func newStreamEnds() *streamEnds {
	return &streamEnds{codes: map[string]codes.Code{}, deadline: map[string]time.Duration{}}
}

func caseOf(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	return first(md.Get("x-case"))
}

func (e *streamEnds) finalizer(ctx context.Context, info grpcx.FinalizerInfo) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.codes[caseOf(ctx)] = info.Code
}

// code waits for the end of the stream of a case: a Node client's
// cancellation reaches the server after the client saw it.
func (e *streamEnds) code(t *testing.T, kase string) codes.Code {
	t.Helper()
	var c codes.Code
	require.Eventually(t, func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		var ok bool
		c, ok = e.codes[kase]
		return ok
	}, 20*time.Second, 10*time.Millisecond, "the Go server's stream of case %q did not end", kase)
	return c
}

// deadlines is streamtest.Service, noting the deadline of each Watch.
type deadlines struct {
	streamtest.Service
	ends *streamEnds
}

func (d deadlines) Watch(ctx context.Context, req streamtest.WatchRequest) (iter.Seq2[streamtest.Event, error], error) {
	if dl, ok := ctx.Deadline(); ok {
		d.ends.mu.Lock()
		d.ends.deadline[caseOf(ctx)] = time.Until(dl)
		d.ends.mu.Unlock()
	}
	return d.Service.Watch(ctx, req)
}

// TestNodeGRPCStreamClient calls the generated gRPC server of
// streamtest.Streamer with @grpc/grpc-js for every kind of stream: events,
// errors after events and before the stream opens, the header on open,
// sums, refused chunks with their BadRequest, a conversation, cancels and
// deadlines. The Go side checks that each cancelled or expired stream
// ended on the server, with the code it should.
func TestNodeGRPCStreamClient(t *testing.T) {
	t.Parallel()
	node := requireNode(t)
	ends := newStreamEnds()
	addr := serveGRPC(t, func(s *grpc.Server) {
		streamtest.RegisterGRPC(s, streamtest.NewEndpoints(deadlines{ends: ends}, streamtest.Middlewares{}),
			serverFaults(t), grpcx.ServerFinalizer(ends.finalizer))
	})
	out, err := run(t, 2*time.Minute, node, "js/grpc_streams.js", "client", addr)
	reportNode(t, out, err)

	for kase, want := range map[string]codes.Code{
		"events":             codes.OK,
		"error after events": codes.Aborted,
		"open error":         codes.NotFound,
		"header":             codes.Canceled,
		"cancel":             codes.Canceled,
		"upload":             codes.OK,
		"upload invalid":     codes.InvalidArgument,
		"chat":               codes.OK,
		"chat fail":          codes.Unknown,
		"chat cancel":        codes.Canceled,
	} {
		assert.Equal(t, want, ends.code(t, kase), "case %q", kase)
	}
	// The deadline reached the server as the stream's own: it ended
	// there too, by the deadline or by the client's cancel at the deadline.
	assert.Contains(t, []codes.Code{codes.DeadlineExceeded, codes.Canceled}, ends.code(t, "deadline"))
	ends.mu.Lock()
	defer ends.mu.Unlock()
	if dl, ok := ends.deadline["deadline"]; assert.True(t, ok, "the server's context had no deadline") {
		assert.LessOrEqual(t, dl, 300*time.Millisecond)
	}
	_, ok := ends.deadline["events"]
	assert.True(t, ok, "the client's 20 s deadline reached the server")
}

// nodeServer runs the grpc-js server of js/grpc_streams.js until the test
// ends, and returns its address and the lines it prints afterwards.
func nodeServer(t *testing.T, node string) (string, <-chan string) {
	t.Helper()
	cmd := exec.Command(node, "js/grpc_streams.js", "server")
	cmd.Env = nodeEnv()
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	lines := make(chan string, 64)
	read := make(chan struct{})
	go func() {
		defer close(read)
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // nobody waits for it
			}
		}
	}()
	t.Cleanup(func() {
		_ = stdin.Close() // the server exits when its input ends
		<-read
		if err := cmd.Wait(); err != nil {
			t.Errorf("the Node server: %v\n%s", err, stderr.String())
		}
	})
	select {
	case l, ok := <-lines:
		require.True(t, ok, "the Node server ended before it listened:\n%s", stderr.String())
		addr, ok := strings.CutPrefix(l, "listening ")
		require.True(t, ok, "the Node server said %q", l)
		return addr, lines
	case <-time.After(time.Minute):
		t.Fatalf("the Node server did not listen:\n%s", stderr.String())
		return "", nil
	}
}

// waitLine waits for the Node server to print want.
func waitLine(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "the Node server ended before it printed %q", want)
			if l == want {
				return
			}
		case <-timeout:
			t.Fatalf("the Node server did not print %q", want)
		}
	}
}

// TestNodeGRPCStreamServer calls a grpc-js server of streamer.proto,
// written as grpc-js services are, with the generated Go client, for
// every kind of stream: events, an error after events with its code, an
// open error, a Go-side cancel the Node server sees, a status the Node
// server ends a stream with, a sum, a refused chunk with the BadRequest the
// Node server encoded, a conversation.
func TestNodeGRPCStreamServer(t *testing.T) {
	t.Parallel()
	node := requireNode(t)
	addr, lines := nodeServer(t, node)
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer cc.Close()
	c := streamtest.NewGRPCClient(cc)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("server stream", func(t *testing.T) {
		tests := []struct {
			name    string
			req     streamtest.WatchRequest
			ids     []string
			openErr kit.Code
			endErr  kit.Code
			msg     string
		}{
			{name: "events", req: streamtest.WatchRequest{Prefix: "e", Count: 3}, ids: []string{"e0", "e1", "e2"}},
			{name: "an error after events", req: streamtest.WatchRequest{Prefix: "f", Count: 2, Fail: "aborted"},
				ids: []string{"f0", "f1"}, endErr: kit.Aborted, msg: "asked to fail with aborted"},
			{name: "the Node server cancels", req: streamtest.WatchRequest{Prefix: "g", Count: 1, Fail: "cancelled"},
				ids: []string{"g0"}, endErr: kit.Canceled, msg: "asked to fail with cancelled"},
			{name: "an open error", req: streamtest.WatchRequest{Fail: "not_found", OpenFail: true},
				openErr: kit.NotFound, msg: "asked to fail with not_found"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				seq, err := c.Watch(ctx, tt.req)
				if tt.openErr != kit.OK {
					assert.Equal(t, tt.openErr, kit.CodeOf(err), "%v", err)
					assert.Equal(t, tt.msg, kit.MessageOf(err))
					return
				}
				require.NoError(t, err)
				evs, err := streamtest.Collect(seq)
				var ids []string
				for i, e := range evs {
					ids = append(ids, e.ID)
					assert.Equal(t, streamtest.Event{ID: e.ID, Kind: "tick", Seq: int64(i)}, e)
				}
				assert.Equal(t, tt.ids, ids)
				assert.Equal(t, tt.endErr, kit.CodeOf(err), "%v", err)
				if tt.msg != "" {
					assert.Equal(t, tt.msg, kit.MessageOf(err))
				}
			})
		}
		words, err := c.Words(ctx, "one two")
		require.NoError(t, err)
		got, err := streamtest.Collect(words)
		require.NoError(t, err)
		assert.Equal(t, []string{"one", "two"}, got)
	})

	t.Run("cancel", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		seq, err := c.Watch(cctx, streamtest.WatchRequest{Prefix: "cancel", EveryMillis: 2})
		require.NoError(t, err)
		n := 0
		var last error
		for _, err := range seq {
			if err != nil {
				last = err
				break
			}
			if n++; n == 3 {
				cancel()
			}
		}
		assert.Equal(t, kit.Canceled, kit.CodeOf(last), "%v", last)
		waitLine(t, lines, "cancelled Watch cancel")

		// Breaking out of the loop cancels the call too.
		seq, err = c.Watch(ctx, streamtest.WatchRequest{Prefix: "break", EveryMillis: 2})
		require.NoError(t, err)
		for range seq {
			break
		}
		waitLine(t, lines, "cancelled Watch break")
	})

	t.Run("client stream", func(t *testing.T) {
		sum, err := c.Upload(ctx, streamtest.Chunks(1, 2, 3))
		require.NoError(t, err)
		assert.Equal(t, streamtest.Summary{Bytes: 9, Count: 3}, sum)

		sum, err = c.Upload(ctx, streamtest.Chunks())
		require.NoError(t, err)
		assert.Zero(t, sum)

		// The Node server refuses a chunk with the status details it
		// encoded itself.
		_, err = c.Upload(ctx, streamtest.Chunks(1, -1))
		assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err), "%v", err)
		assert.Equal(t, "the Node server refuses a negative n", kit.MessageOf(err))
		assert.Equal(t, []kit.FieldViolation{{Field: "n", Description: "must not be negative"}}, kit.ViolationsOf(err))
	})

	t.Run("bidi", func(t *testing.T) {
		// All the requests there at once: grpc-js sends its header with
		// its first answer.
		out, err := c.Chat(ctx, func(yield func(streamtest.Event, error) bool) {
			for i := range 3 {
				if !yield(streamtest.Event{ID: strconv.Itoa(i), Kind: "question", Seq: int64(i)}, nil) {
					return
				}
			}
		})
		require.NoError(t, err)
		evs, err := streamtest.Collect(out)
		require.NoError(t, err)
		assert.Equal(t, []streamtest.Event{{ID: "0", Kind: "echo"}, {ID: "1", Kind: "echo", Seq: 1}, {ID: "2", Kind: "echo", Seq: 2}}, evs)

		// An error mid-conversation, with its status code.
		out, err = c.Chat(ctx, func(yield func(streamtest.Event, error) bool) {
			if yield(streamtest.Event{ID: "a"}, nil) {
				yield(streamtest.Event{ID: "b", Kind: "fail"}, nil)
			}
		})
		require.NoError(t, err)
		evs, err = streamtest.Collect(out)
		assert.Len(t, evs, 1)
		assert.Equal(t, kit.FailedPrecondition, kit.CodeOf(err), "%v", err)
		assert.Equal(t, "no failing today", kit.MessageOf(err))
	})

	t.Run("conversation", func(t *testing.T) {
		// The Node server sends its header when the stream opens (see
		// internal/interop's TestGeneratedClientConversesWithSilentServer
		// for why it must): each answer arrives before the next request.
		hctx := metadata.AppendToOutgoingContext(ctx, "x-header-first", "1")
		in := make(chan streamtest.Event)
		out, err := c.Chat(hctx, func(yield func(streamtest.Event, error) bool) {
			for e := range in {
				if !yield(e, nil) {
					return
				}
			}
		})
		require.NoError(t, err)
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
	})
}
