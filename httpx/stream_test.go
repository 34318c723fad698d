package httpx_test

import (
	"context"
	"errors"
	"io"
	"iter"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/internal/streamtest"
)

// serveStreams serves streamtest.Service through httpx.Serve on loopback
// and returns its base URL and a stop function that drains it.
func serveStreams(t *testing.T, svc streamtest.Streamer, opts ...httpx.ServerOption) (string, func()) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: streamtest.NewHTTPHandler(streamtest.NewEndpoints(svc, streamtest.Middlewares{}), opts...)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- httpx.Serve(ctx, srv, lis, httpx.ServeDrainTimeout(5*time.Second)) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			assert.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	return "http://" + lis.Addr().String(), stop
}

// unavailable skips the test for a missing tool, or fails it in CI
// (CI=true), where make deps installs every tool.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true, and "+format, args...)
	}
	t.Skipf(format+" (in CI this fails)", args...)
}

func streamClient(t *testing.T, base string, opts ...httpx.ClientOption) streamtest.Streamer {
	t.Helper()
	c, err := streamtest.NewHTTPClient(base, opts...)
	require.NoError(t, err)
	return c
}

func TestHTTPServerStream(t *testing.T) {
	t.Parallel()
	base, _ := serveStreams(t, streamtest.Service{})
	c := streamClient(t, base)
	ctx := context.Background()
	tests := []struct {
		name    string
		req     streamtest.WatchRequest
		n       int
		openErr kit.Code
		endErr  kit.Code
	}{
		{name: "events", req: streamtest.WatchRequest{Prefix: "a", Count: 5}, n: 5},
		{name: "no events", req: streamtest.WatchRequest{Count: -1}, n: 0},
		{name: "large events", req: streamtest.WatchRequest{Count: 2, Size: 1 << 20}, n: 2},
		{name: "open error", req: streamtest.WatchRequest{Fail: "not_found", OpenFail: true}, openErr: kit.NotFound},
		{name: "error after events", req: streamtest.WatchRequest{Count: 2, Fail: "aborted"}, n: 2, endErr: kit.Aborted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			seq, err := c.Watch(ctx, tt.req)
			if tt.openErr != kit.OK {
				assert.Equal(t, tt.openErr, kit.CodeOf(err), "%v", err)
				return
			}
			require.NoError(t, err)
			evs, err := streamtest.Collect(seq)
			assert.Len(t, evs, tt.n)
			for i, e := range evs {
				assert.Equal(t, tt.req.Prefix+strconv.Itoa(i), e.ID)
			}
			assert.Equal(t, tt.endErr, kit.CodeOf(err), "%v", err)

			pseq, err := c.Pointers(ctx, tt.req)
			require.NoError(t, err)
			pevs, err := streamtest.Collect(pseq)
			assert.Len(t, pevs, tt.n)
			assert.Equal(t, tt.endErr, kit.CodeOf(err), "%v", err)
		})
	}
	words, err := c.Words(ctx, "one two")
	require.NoError(t, err)
	got, err := streamtest.Collect(words)
	require.NoError(t, err)
	assert.Equal(t, []string{"one", "two"}, got)
}

// The wire formats, as a client that is not ours reads them.
func TestHTTPServerStreamFormats(t *testing.T) {
	t.Parallel()
	base, _ := serveStreams(t, streamtest.Service{})
	get := func(accept, query string) (*http.Response, string) {
		req, err := http.NewRequest(http.MethodGet, base+"/events?"+query, nil)
		require.NoError(t, err)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}
	resp, body := get("text/event-stream", "prefix=e&count=2&fail=aborted")
	assert.Equal(t, httpx.EventStreamContentType, resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
	assert.Equal(t, `id: 1
data: {"id":"e0","kind":"tick","seq":0}

id: 2
data: {"id":"e1","kind":"tick","seq":1}

event: error
data: {"title":"Conflict","status":409,"detail":"asked to fail with aborted","code":"aborted"}

`, body)

	_, body = get("text/event-stream", "count=1")
	assert.Equal(t, "id: 1\ndata: {\"id\":\"0\",\"kind\":\"tick\",\"seq\":0}\n\nevent: end\ndata: {}\n\n", body)

	resp, body = get("", "count=2")
	assert.Equal(t, httpx.NDJSONContentType, resp.Header.Get("Content-Type"))
	assert.Equal(t, "{\"result\":{\"id\":\"0\",\"kind\":\"tick\",\"seq\":0}}\n{\"result\":{\"id\":\"1\",\"kind\":\"tick\",\"seq\":1}}\n", body)

	resp, body = get("application/jsonl", "count=1&fail=unavailable")
	assert.Equal(t, httpx.JSONLContentType, resp.Header.Get("Content-Type"))
	assert.Equal(t, "{\"result\":{\"id\":\"0\",\"kind\":\"tick\",\"seq\":0}}\n{\"error\":{\"title\":\"Service Unavailable\",\"status\":503,\"detail\":\"asked to fail with unavailable\",\"code\":\"unavailable\"}}\n", body)

	// An error before the stream opened is a plain error response.
	resp, body = get("text/event-stream", "fail=permission_denied&openFail=true")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, httpx.ProblemContentType, resp.Header.Get("Content-Type"))
	assert.Contains(t, body, `"code":"permission_denied"`)

	resp, body = get("", "count=notanumber")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, body, `"code":"invalid_argument"`)
}

// curl reads the streams as they come, over HTTP/1.1 and over cleartext
// HTTP/2 with prior knowledge, and streams a body in both directions.
func TestHTTPStreamsWithCurl(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		unavailable(t, "curl is not installed (make deps installs it)")
	}
	base, _ := serveStreams(t, streamtest.Service{})
	for _, proto := range []string{"--http1.1", "--http2-prior-knowledge"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command("curl", "-sS", "-N", proto, "-H", "Accept: text/event-stream",
				"-w", "\n%{http_version}", base+"/events?count=2").CombinedOutput()
			require.NoError(t, err, "%s", out)
			want := "id: 1\ndata: {\"id\":\"0\",\"kind\":\"tick\",\"seq\":0}\n\nid: 2\ndata: {\"id\":\"1\",\"kind\":\"tick\",\"seq\":1}\n\nevent: end\ndata: {}\n\n\n"
			if proto == "--http1.1" {
				assert.Equal(t, want+"1.1", string(out))
			} else {
				assert.Equal(t, want+"2", string(out))
			}

			out, err = exec.Command("curl", "-sS", proto, "-H", "Content-Type: application/x-ndjson",
				"--data-binary", "{\"n\":1,\"data\":\"YWJj\"}\n{\"n\":2,\"data\":\"YWJjZA==\"}\n", base+"/uploads").CombinedOutput()
			require.NoError(t, err, "%s", out)
			assert.JSONEq(t, `{"bytes":7,"count":2}`, string(out))
		})
	}

	// A bidirectional stream over h2c: curl sends its standard input and
	// prints the answers. (curl reads a piped standard input in blocks, so
	// it is no client for a conversation; the conformance suite holds one
	// with Node's http2.)
	cmd := exec.Command("curl", "-sS", "-N", "--http2-prior-knowledge", "-T", "-", "-X", "POST",
		"-H", "Content-Type: application/x-ndjson", base+"/chat")
	cmd.Stdin = strings.NewReader("{\"id\":\"a\",\"seq\":1}\n{\"id\":\"b\",\"seq\":2}\n")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "{\"result\":{\"id\":\"a\",\"kind\":\"echo\",\"seq\":1}}\n{\"result\":{\"id\":\"b\",\"kind\":\"echo\",\"seq\":2}}\n", string(out))
}

func TestHTTPClientStream(t *testing.T) {
	t.Parallel()
	base, _ := serveStreams(t, streamtest.Service{})
	c := streamClient(t, base)
	ctx := context.Background()
	sum, err := c.Upload(ctx, streamtest.Chunks(1, 2, 3))
	require.NoError(t, err)
	assert.Equal(t, streamtest.Summary{Bytes: 9, Count: 3}, sum)

	sum, err = c.Upload(ctx, streamtest.Chunks())
	require.NoError(t, err)
	assert.Zero(t, sum)

	_, err = c.Upload(ctx, streamtest.Chunks(1, -1))
	assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err))
	assert.Equal(t, []kit.FieldViolation{{Field: "n", Description: "must not be negative"}}, kit.ViolationsOf(err))

	mine := errors.New("the caller gave up")
	_, err = c.Upload(ctx, func(yield func(streamtest.Chunk, error) bool) {
		if yield(streamtest.Chunk{}, nil) {
			yield(streamtest.Chunk{}, mine)
		}
	})
	assert.ErrorIs(t, err, mine)
}

// Bad stream bodies get clear errors.
func TestHTTPClientStreamBadInput(t *testing.T) {
	t.Parallel()
	base, _ := serveStreams(t, streamtest.Service{}, httpx.ServerMaxBodyBytes(64))
	post := func(ct, body string) (int, string) {
		resp, err := http.Post(base+"/uploads", ct, strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name, ct, body string
		status         int
		detail         string
	}{
		{"wrong content type", "text/plain", "{}\n", http.StatusUnsupportedMediaType, "unsupported Content-Type"},
		{"not JSON", httpx.NDJSONContentType, "{\"n\":1}\nnope\n", http.StatusBadRequest, "invalid"},
		{"a line over the limit", httpx.NDJSONContentType, "{\"n\":1}\n{\"data\":\"" + strings.Repeat("A", 100) + "\"}\n", http.StatusRequestEntityTooLarge, "exceeds 64 bytes"},
		{"blank lines and no final newline", httpx.JSONLContentType, "\n{\"n\":1}\n\n  \n{\"n\":2}", http.StatusOK, ""},
		{"many small lines beyond the limit in total", httpx.NDJSONContentType, strings.Repeat("{\"n\":1}\n", 100), http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body := post(tt.ct, tt.body)
			assert.Equal(t, tt.status, status, body)
			assert.Contains(t, body, tt.detail)
		})
	}
}

func TestHTTPBidiStream(t *testing.T) {
	t.Parallel()
	base, _ := serveStreams(t, streamtest.Service{})
	c := streamClient(t, base)
	in := make(chan streamtest.Event)
	out, err := c.Chat(context.Background(), func(yield func(streamtest.Event, error) bool) {
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
		in <- streamtest.Event{ID: strconv.Itoa(i)}
		e, err, ok := next()
		require.True(t, ok)
		require.NoError(t, err)
		assert.Equal(t, "echo", e.Kind)
	}
	close(in)
	_, err, ok := next()
	assert.False(t, ok, "%v", err)

	out, err = c.Chat(context.Background(), func(yield func(streamtest.Event, error) bool) {
		yield(streamtest.Event{Kind: "fail"}, nil)
	})
	require.NoError(t, err)
	_, err = streamtest.Collect(out)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "not for the caller")
}

// Breaking out of the loop ends the server's stream; a client that stops
// reading is cut by the idle timeout, holding bounded memory until then.
func TestHTTPServerStreamConsumerGoes(t *testing.T) {
	t.Parallel()
	ended := make(chan error, 4)
	base, _ := serveStreams(t, streamtest.Service{},
		httpx.ServerStreamIdleTimeout(200*time.Millisecond),
		httpx.ServerFinalizer(func(_ context.Context, info httpx.FinalizerInfo) { ended <- info.Err }))
	c := streamClient(t, base)
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

	// A client that sends its request and never reads: the server's
	// writes block once the socket buffers fill, and the idle timeout ends
	// the stream.
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /events?size=65536 HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
	require.NoError(t, err)
	select {
	case err := <-ended:
		assert.Equal(t, kit.Canceled, kit.CodeOf(err), "%v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("a stalled stream was not ended")
	}
}

// When Serve drains, open streams end with Unavailable and the drain's
// message, which only the drain writes (a stream cut at the drain timeout
// would end with a broken connection instead).
func TestHTTPServerStreamDrain(t *testing.T) {
	t.Parallel()
	base, stop := serveStreams(t, streamtest.Service{})
	c := streamClient(t, base)
	seq, err := c.Watch(context.Background(), streamtest.WatchRequest{EveryMillis: 5})
	require.NoError(t, err)
	next, stopPull := iter.Pull2(seq)
	defer stopPull()
	_, err, _ = next()
	require.NoError(t, err)
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	var last error
	for {
		_, err, ok := next()
		if !ok || err != nil {
			last = err
			break
		}
	}
	assert.Equal(t, kit.Unavailable, kit.CodeOf(last), "%v", last)
	assert.Equal(t, "the server is shutting down; reconnect", kit.MessageOf(last))
	<-stopped
}

// A quiet SSE stream writes heartbeats.
func TestHTTPServerStreamHeartbeat(t *testing.T) {
	t.Parallel()
	base, _ := serveStreams(t, streamtest.Service{}, httpx.ServerStreamHeartbeat(10*time.Millisecond))
	req, err := http.NewRequest(http.MethodGet, base+"/events?count=1&everyMillis=100", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Contains(t, string(b), ": keep-alive\n\n")
	assert.True(t, strings.HasSuffix(string(b), "event: end\ndata: {}\n\n"))
}
