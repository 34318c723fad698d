package httpx_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"golang.org/x/time/rate"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/breaker"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/limit"
)

// secret is internal text that must never reach a response.
const secret = "dial tcp 10.1.2.3:5432: connection refused"

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.Bytes()
}

func quiet() httpx.ServerOption {
	return httpx.ServerErrorHandler(kit.LogServerFaults(slog.New(slog.DiscardHandler)))
}

// TestServerHostileInput sends requests that must be refused cleanly, each
// with the status and public message a client expects, and checks that no
// internal text reaches the body.
func TestServerHostileInput(t *testing.T) {
	t.Parallel()
	sumEP := kit.Endpoint[sumRequest, sumResponse](sum)
	plainDecoder := func(context.Context, *http.Request) (sumRequest, error) {
		return sumRequest{}, errors.New(secret)
	}
	guardCalls := atomic.Int32{}
	guard := func(ctx context.Context, r *http.Request) (context.Context, error) {
		guardCalls.Add(1)
		if r.Header.Get("Authorization") == "" {
			return ctx, kit.NewError(kit.Unauthenticated, "credentials required")
		}
		return ctx, nil
	}
	big := []byte(`{"a":1,"b":"` + strings.Repeat("x", 2<<20) + `"}`)

	tests := []struct {
		name    string
		handler http.Handler
		body    []byte
		header  http.Header
		status  int
		detail  string
	}{
		{"gzip body decoded", httpx.NewServer(sumEP, httpx.DecodeJSONRequest[sumRequest], httpx.EncodeJSONResponse[sumResponse], quiet()),
			gzipped(t, []byte(`{"a":2,"b":"3"}`)), http.Header{"Content-Encoding": {"gzip"}}, 200, ""},
		{"gzip bomb cut at the limit of decompressed bytes", httpx.NewServer(sumEP, httpx.DecodeJSONRequest[sumRequest], httpx.EncodeJSONResponse[sumResponse], quiet(), httpx.ServerMaxBodyBytes(1<<20)),
			gzipped(t, big), http.Header{"Content-Encoding": {"gzip"}}, 413, "request body exceeds 1048576 bytes"},
		{"not gzip at all", httpx.NewServer(sumEP, httpx.DecodeJSONRequest[sumRequest], httpx.EncodeJSONResponse[sumResponse], quiet()),
			[]byte(`{"a":1}`), http.Header{"Content-Encoding": {"gzip"}}, 400, "malformed gzip request body"},
		{"empty gzip members past the limit of compressed bytes", httpx.NewServer(sumEP, httpx.DecodeJSONRequest[sumRequest], httpx.EncodeJSONResponse[sumResponse], quiet(), httpx.ServerMaxBodyBytes(1024)),
			bytes.Repeat(gzipped(t, nil), 10_000), http.Header{"Content-Encoding": {"gzip"}}, 413, "request body exceeds 1024 bytes"},
		{"decoder's own deadline is not a body timeout", httpx.NewServer(sumEP, func(ctx context.Context, _ *http.Request) (sumRequest, error) {
			return sumRequest{}, context.DeadlineExceeded
		}, httpx.EncodeJSONResponse[sumResponse], quiet()),
			[]byte(`{}`), nil, 504, "deadline exceeded"},
		{"truncated gzip", httpx.NewServer(sumEP, httpx.DecodeJSONRequest[sumRequest], httpx.EncodeJSONResponse[sumResponse], quiet()),
			gzipped(t, []byte(`{"a":2,"b":"3"}`))[:12], http.Header{"Content-Encoding": {"gzip"}}, 400, "malformed gzip request body"},
		{"unsupported encoding", httpx.NewServer(sumEP, httpx.DecodeJSONRequest[sumRequest], httpx.EncodeJSONResponse[sumResponse], quiet()),
			[]byte(`{"a":1}`), http.Header{"Content-Encoding": {"br"}}, 415, `unsupported Content-Encoding "br": send gzip or identity`},
		{"plain decoder error is concealed", httpx.NewServer(sumEP, plainDecoder, httpx.EncodeJSONResponse[sumResponse], quiet()),
			[]byte(`{}`), nil, 400, "invalid argument"},
		{"plain endpoint error is concealed", httpx.NewServer(kit.Endpoint[sumRequest, sumResponse](func(context.Context, sumRequest) (sumResponse, error) {
			return sumResponse{}, errors.New(secret)
		}), httpx.DecodeJSONRequest[sumRequest], httpx.EncodeJSONResponse[sumResponse], quiet()),
			[]byte(`{}`), nil, 500, "unknown error"},
		{"guard refuses before the body is read", httpx.NewServer(sumEP, httpx.DecodeJSONRequest[sumRequest], httpx.EncodeJSONResponse[sumResponse], quiet(), httpx.ServerGuard(guard)),
			big, nil, 401, "credentials required"},
		{"plain guard error is concealed", httpx.NewServer(sumEP, httpx.DecodeJSONRequest[sumRequest], httpx.EncodeJSONResponse[sumResponse], quiet(),
			httpx.ServerGuard(func(ctx context.Context, _ *http.Request) (context.Context, error) { return ctx, errors.New(secret) })),
			[]byte(`{}`), nil, 403, "permission denied"},
	}
	for _, tt := range tests {
		// Serial: guardCalls is checked after the loop.
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, tt.handler)
			req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(tt.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			for k, vs := range tt.header {
				req.Header[k] = vs
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.status, resp.StatusCode, string(body))
			assert.NotContains(t, string(body), "10.1.2.3")
			if tt.status != 200 {
				assert.Equal(t, tt.detail, decodeProblem(t, body).Detail)
			}
		})
	}
	assert.EqualValues(t, 1, guardCalls.Load())
}

// TestServerHookPanics panics in every hook that runs after the answer is
// chosen; each request is answered or aborted, and the server serves the
// next request.
func TestServerHookPanics(t *testing.T) {
	t.Parallel()
	sumEP := kit.Endpoint[sumRequest, sumResponse](sum)
	boom := func() { panic("hook broke") }
	tests := []struct {
		name   string
		opts   []httpx.ServerOption
		status int // 0: aborted
	}{
		{"finalizer", []httpx.ServerOption{quiet(), httpx.ServerFinalizer(func(context.Context, httpx.FinalizerInfo) { boom() })}, 200},
		{"error handler", []httpx.ServerOption{httpx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) { boom() })),
			httpx.ServerBefore(func(context.Context, *http.Request) context.Context { panic("before broke") })}, 500},
		{"error encoder before writing", []httpx.ServerOption{quiet(), httpx.ServerErrorEncoder(func(context.Context, error, http.ResponseWriter) { boom() }),
			httpx.ServerBefore(func(context.Context, *http.Request) context.Context { panic("before broke") })}, 500},
		{"error encoder after writing", []httpx.ServerOption{quiet(), httpx.ServerErrorEncoder(func(_ context.Context, _ error, w http.ResponseWriter) {
			w.WriteHeader(400)
			_, _ = w.Write([]byte("{"))
			boom()
		}), httpx.ServerBefore(func(context.Context, *http.Request) context.Context { panic("before broke") })}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, httpx.NewServer(sumEP, httpx.DecodeJSONRequest[sumRequest], httpx.EncodeJSONResponse[sumResponse], tt.opts...))
			for range 3 {
				resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"a":1,"b":"2"}`))
				if tt.status == 0 {
					if err == nil {
						_, err = io.ReadAll(resp.Body)
						resp.Body.Close()
					}
					assert.Error(t, err)
					continue
				}
				require.NoError(t, err)
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				assert.Equal(t, tt.status, resp.StatusCode)
			}
		})
	}
}

// TestServerPartialWriteIsAnError has an encoder fail after it wrote part of
// the body: the client must see an error, never a 200.
func TestServerPartialWriteIsAnError(t *testing.T) {
	t.Parallel()
	enc := func(_ context.Context, w http.ResponseWriter, _ sumResponse) error {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"sum":`))
		http.NewResponseController(w).Flush() //nolint:errcheck // the test server flushes
		return errors.New(secret)
	}
	srv := newTestServer(t, httpx.NewServer(kit.Endpoint[sumRequest, sumResponse](sum), httpx.DecodeJSONRequest[sumRequest], enc, quiet()))
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"a":1,"b":"2"}`))
	require.NoError(t, err, "the status was flushed before the encoder failed")
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	assert.Error(t, err, "the body is cut off, so the client sees an error")
	assert.NotContains(t, string(body), "10.1.2.3")
	assert.NotContains(t, string(body), "problem")
}

// TestRouteProblems checks that the router's own refusals are problem
// bodies, that a 405 keeps its Allow header, and that routes still serve.
func TestRouteProblems(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.Handle("POST /sum", httpx.NewServer(kit.Endpoint[sumRequest, sumResponse](sum), httpx.DecodeJSONRequest[sumRequest], httpx.EncodeJSONResponse[sumResponse]))
	mux.HandleFunc("GET /dir/", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "dir") })
	srv := newTestServer(t, httpx.RouteProblems(mux))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/nowhere", 404, "not_found", ""},
		{"GET", "/sum", 405, "unimplemented", "POST"},
		{"POST", "/sum", 400, "invalid_argument", ""},
		{"GET", "/dir", 307, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader("{"))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			assert.Equal(t, tt.status, resp.StatusCode)
			if tt.code != "" {
				assert.Equal(t, httpx.ProblemContentType, resp.Header.Get("Content-Type"))
				assert.Equal(t, tt.code, decodeProblem(t, body).Code)
			}
			assert.Equal(t, tt.allow, resp.Header.Get("Allow"))
		})
	}
}

// TestRetryAfterOnRejections serves endpoints behind a real rate limit
// and a real breaker that reject every call: the answers carry Retry-After,
// and an endpoint's own Unavailable does not.
type closedBreaker struct{}

func (closedBreaker) Allow() bool           { return false }
func (closedBreaker) Success(time.Duration) {}
func (closedBreaker) Failure(time.Duration) {}

func TestRetryAfterOnRejections(t *testing.T) {
	t.Parallel()
	sumEP := kit.Endpoint[sumRequest, sumResponse](sum)
	down := kit.Endpoint[sumRequest, sumResponse](func(context.Context, sumRequest) (sumResponse, error) {
		return sumResponse{}, kit.NewError(kit.Unavailable, "down")
	})
	for _, tt := range []struct {
		name       string
		ep         kit.Endpoint[sumRequest, sumResponse]
		status     int
		retryAfter string
	}{
		{"rate limit", kit.Intercept(sumEP, kit.Call{Method: "Sum"}, limit.Erroring(rate.NewLimiter(0, 0))), 429, "1"},
		{"open breaker", kit.Intercept(sumEP, kit.Call{Method: "Sum"}, breaker.Handy(func(kit.Call) breaker.Breaker { return closedBreaker{} })), 503, "1"},
		{"the endpoint's own Unavailable", down, 503, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, httpx.NewServer(tt.ep, httpx.DecodeJSONRequest[sumRequest], httpx.EncodeJSONResponse[sumResponse], quiet()))
			resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"a":1,"b":"x"}`))
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.retryAfter, resp.Header.Get("Retry-After"))
		})
	}
}

type nested struct {
	Child *nested `json:"child,omitempty" xml:"child,omitempty"`
	Name  string  `json:"name,omitempty" xml:"name,omitempty"`
}

// TestDeeplyNestedBodies sends bodies nested far past the decoders'
// limits (encoding/json and encoding/xml stop at 10,000 levels): each is a
// 400, the server stays up, and a body within the limit decodes.
func TestDeeplyNestedBodies(t *testing.T) {
	t.Parallel()
	ep := kit.Endpoint[nested, sumResponse](func(context.Context, nested) (sumResponse, error) { return sumResponse{C: "ok"}, nil })
	mux := http.NewServeMux()
	mux.Handle("POST /json", httpx.NewServer(ep, httpx.DecodeJSONRequest[nested], httpx.EncodeJSONResponse[sumResponse], quiet()))
	mux.Handle("POST /xml", httpx.NewServer(ep, httpx.DecodeXMLRequest[nested], httpx.EncodeJSONResponse[sumResponse], quiet()))
	srv := newTestServer(t, mux)
	deepJSON := func(n int) string { return strings.Repeat(`{"child":`, n) + `{}` + strings.Repeat(`}`, n) }
	deepXML := func(n int) string {
		return "<nested>" + strings.Repeat("<child>", n) + strings.Repeat("</child>", n) + "</nested>"
	}
	tests := []struct {
		name, path, ct, body string
		status               int
	}{
		{"JSON within the limit", "/json", "application/json", deepJSON(100), 200},
		{"JSON past the limit", "/json", "application/json", deepJSON(100_000), 400},
		{"JSON arrays past the limit", "/json", "application/json", strings.Repeat("[", 100_000), 400},
		{"XML within the limit", "/xml", "application/xml", deepXML(100), 200},
		{"XML past the limit", "/xml", "application/xml", deepXML(100_000), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, err := http.Post(srv.URL+tt.path, tt.ct, strings.NewReader(tt.body))
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, tt.status, resp.StatusCode, string(body))
		})
	}
}

// TestClientKeepsWrappedKitErrors: an encoder or decoder error that wraps
// a *kit.Error keeps its code and message, where a type assertion would
// have made it Internal.
func TestClientKeepsWrappedKitErrors(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, httpx.NewServer(kit.Endpoint[sumRequest, sumResponse](sum), httpx.DecodeJSONRequest[sumRequest], httpx.EncodeJSONResponse[sumResponse]))
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	wrapped := fmt.Errorf("encoding: %w", kit.InvalidArgumentError("b must not be empty"))
	enc := func(context.Context, *http.Request, sumRequest) error { return wrapped }
	_, err = httpx.NewClient(http.MethodPost, u, enc, httpx.DecodeJSONResponse[sumResponse]).Endpoint()(context.Background(), sumRequest{})
	assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err))
	assert.Equal(t, "b must not be empty", kit.MessageOf(err))

	dec := func(context.Context, *http.Response) (sumResponse, error) {
		return sumResponse{}, fmt.Errorf("decoding: %w", kit.NewError(kit.DataLoss, "reply cut short"))
	}
	_, err = httpx.NewClient(http.MethodPost, u, httpx.EncodeJSONRequest[sumRequest], dec).Endpoint()(context.Background(), sumRequest{A: 1, B: "x"})
	assert.Equal(t, kit.DataLoss, kit.CodeOf(err))
	assert.Equal(t, "reply cut short", kit.MessageOf(err))

	// On the server, an encoder's wrapped *kit.Error keeps its code too.
	failing := httpx.NewServer(kit.Endpoint[sumRequest, sumResponse](sum), httpx.DecodeJSONRequest[sumRequest],
		func(context.Context, http.ResponseWriter, sumResponse) error {
			return fmt.Errorf("encode: %w", kit.NewError(kit.FailedPrecondition, "not now"))
		}, quiet())
	fsrv := newTestServer(t, failing)
	resp, err := http.Post(fsrv.URL, "application/json", strings.NewReader(`{"a":1,"b":"x"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, 400, resp.StatusCode)
	assert.Equal(t, "not now", decodeProblem(t, body).Detail)
}
