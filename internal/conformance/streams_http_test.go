package conformance_test

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/internal/streamtest"
)

// httpEnds notes how each stream ended on the server, by the client's
// x-case header.
type httpEnds struct {
	mu   sync.Mutex
	ends map[string]httpx.FinalizerInfo
}

func (e *httpEnds) finalizer(_ context.Context, info httpx.FinalizerInfo) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ends[info.Request.Header.Get("x-case")] = info
}

// end waits for the end of the stream of a case.
func (e *httpEnds) end(t *testing.T, kase string) httpx.FinalizerInfo {
	t.Helper()
	var info httpx.FinalizerInfo
	require.Eventually(t, func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		var ok bool
		info, ok = e.ends[kase]
		return ok
	}, 20*time.Second, 10*time.Millisecond, "the Go server's stream of case %q did not end", kase)
	return info
}

// TestNodeHTTPStreams holds conversations with the generated HTTP handler,
// served by httpx.Serve, with Node's http2 over h2c and its HTTP/1.1
// client, and reads its SSE and NDJSON streams with fetch, checking the
// framing byte for byte (js/http_streams.mjs). The Go side checks how
// each stream ended, the client's resets and aborts included.
func TestNodeHTTPStreams(t *testing.T) {
	t.Parallel()
	node := requireNode(t)
	ends := &httpEnds{ends: map[string]httpx.FinalizerInfo{}}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	h := streamtest.NewHTTPHandler(streamtest.NewEndpoints(streamtest.Service{}, streamtest.Middlewares{}),
		httpx.ServerFinalizer(ends.finalizer),
		httpx.ServerErrorHandler(kit.ErrorHandlerFunc(func(_ context.Context, err error) {
			if c := kit.CodeOf(err); c == kit.Internal {
				t.Logf("server fault: %v", err)
			}
		})))
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- httpx.Serve(ctx, &http.Server{Handler: h}, lis, httpx.ServeDrainTimeout(5*time.Second))
	}()
	defer func() {
		cancel()
		assert.NoError(t, <-served)
	}()

	out, err := run(t, 2*time.Minute, node, "js/http_streams.mjs", "http://"+lis.Addr().String())
	reportNode(t, out, err)

	for kase, want := range map[string]kit.Code{
		"h2 chat":        kit.OK,
		"h2 chat fail":   kit.Unknown,
		"h2 chat gone":   kit.Canceled,
		"h2 upload gone": kit.Canceled,
		"h1 upload gone": kit.Canceled,
		"h1 chat":        kit.OK,
		"sse error":      kit.Aborted,
		"sse end":        kit.OK,
		"sse open error": kit.PermissionDenied,
		"sse abort":      kit.Canceled,
		"ndjson":         kit.OK,
		"jsonl error":    kit.Unavailable,
		"upload":         kit.OK,
		"upload invalid": kit.InvalidArgument,
	} {
		info := ends.end(t, kase)
		assert.Equal(t, want, kit.CodeOf(info.Err), "case %q: %v", kase, info.Err)
	}
	ends.mu.Lock()
	defer ends.mu.Unlock()
	assert.Equal(t, 2, ends.ends["h2 chat"].Request.ProtoMajor, "the h2c conversation was HTTP/2")
	assert.Equal(t, 1, ends.ends["h1 chat"].Request.ProtoMajor, "the HTTP/1.1 conversation was HTTP/1.1")
}
