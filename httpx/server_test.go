package httpx_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/httpx"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type sumRequest struct {
	A int    `json:"a"`
	B string `json:"b"`
}

type sumResponse struct {
	C string `json:"c"`
}

func sum(_ context.Context, req sumRequest) (sumResponse, error) {
	return sumResponse{C: strings.Repeat(req.B, max(req.A, 1))}, nil
}

func quietServer[Req, Resp any](ep kit.Endpoint[Req, Resp], dec httpx.DecodeRequestFunc[Req], opts ...httpx.ServerOption) *httpx.Server[Req, Resp] {
	opts = append([]httpx.ServerOption{httpx.ServerErrorHandler(kit.LogServerFaults(slog.New(slog.DiscardHandler)))}, opts...)
	return httpx.NewServer(ep, dec, httpx.EncodeJSONResponse, opts...)
}

func newTestServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv
}

func decodeProblem(t *testing.T, body []byte) httpx.Problem {
	t.Helper()
	var p httpx.Problem
	require.NoError(t, json.Unmarshal(body, &p), "body: %s", body)
	return p
}

func TestServerBadInput(t *testing.T) {
	t.Parallel()
	panicky := func(_ context.Context, req sumRequest) (sumResponse, error) {
		if req.B == "panic" {
			panic("secret panic detail")
		}
		return sum(context.Background(), req)
	}
	srv := newTestServer(t, quietServer(kit.Endpoint[sumRequest, sumResponse](panicky), httpx.DecodeJSONRequest[sumRequest], httpx.ServerMaxBodyBytes(64)))
	strict := newTestServer(t, quietServer(kit.Endpoint[sumRequest, sumResponse](sum), httpx.DecodeJSONRequestStrict[sumRequest]))

	tests := []struct {
		name        string
		url         string
		contentType string
		body        string
		status      int
		code        kit.Code
		detail      string
	}{
		{"ok", srv.URL, "application/json", `{"a":2,"b":"x"}`, 200, kit.OK, ""},
		{"ok with charset", srv.URL, "application/json; charset=utf-8", `{"a":1,"b":"x"}`, 200, kit.OK, ""},
		{"ok with +json", srv.URL, "application/vnd.sum+json", `{"a":1,"b":"x"}`, 200, kit.OK, ""},
		{"empty body is zero request", srv.URL, "", ``, 200, kit.OK, ""},
		{"too large", srv.URL, "application/json", `{"a":1,"b":"` + strings.Repeat("x", 100) + `"}`, 413, kit.ResourceExhausted, "request body exceeds 64 bytes"},
		{"wrong content type", srv.URL, "text/plain", `{"a":1}`, 415, kit.InvalidArgument, `unsupported Content-Type "text/plain": want application/json`},
		{"missing content type", srv.URL, "", `{"a":1}`, 415, kit.InvalidArgument, "missing Content-Type: want application/json"},
		{"malformed", srv.URL, "application/json", `{"a":1,}`, 400, kit.InvalidArgument, "malformed JSON at byte 8: invalid character '}' looking for beginning of object key string"},
		{"truncated", srv.URL, "application/json", `{"a":1`, 400, kit.InvalidArgument, "malformed JSON at byte 6: unexpected end of JSON input"},
		{"wrong type", srv.URL, "application/json", `{"a":"one"}`, 400, kit.InvalidArgument, "invalid JSON value for a: cannot use JSON string as int"},
		{"trailing data", srv.URL, "application/json", `{"a":1} {"a":2}`, 400, kit.InvalidArgument, "malformed JSON at byte 9: invalid character '{' after top-level value"},
		{"unknown field ignored", srv.URL, "application/json", `{"a":1,"z":1}`, 200, kit.OK, ""},
		{"unknown field strict", strict.URL, "application/json", `{"a":1,"z":1}`, 400, kit.InvalidArgument, `invalid JSON: unknown field "z"`},
		{"panic", srv.URL, "application/json", `{"b":"panic"}`, 500, kit.Internal, "internal error"},
		{"after a panic the server still serves", srv.URL, "application/json", `{"a":1,"b":"y"}`, 200, kit.OK, ""},
	}
	for _, tt := range tests {
		// Serial: a case checks that the server still serves after the panic case.
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, tt.url, strings.NewReader(tt.body))
			require.NoError(t, err)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.status, resp.StatusCode, "body: %s", body)
			if tt.code == kit.OK {
				assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
				return
			}
			assert.Equal(t, httpx.ProblemContentType, resp.Header.Get("Content-Type"))
			p := decodeProblem(t, body)
			assert.Equal(t, tt.code.String(), p.Code)
			assert.Equal(t, tt.status, p.Status)
			assert.Equal(t, tt.detail, p.Detail)
			assert.NotContains(t, string(body), "secret")
		})
	}
}

func TestServerWrongTypeCarriesViolation(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, quietServer(kit.Endpoint[sumRequest, sumResponse](sum), httpx.DecodeJSONRequest[sumRequest]))
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"b":7}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := decodeProblem(t, body)
	assert.Equal(t, []kit.FieldViolation{{Field: "b", Description: "cannot use JSON number as string"}}, p.Violations)
}

func TestServerHookOrder(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var trace []string
	record := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		trace = append(trace, s)
	}
	type key struct{}
	ep := func(ctx context.Context, req sumRequest) (sumResponse, error) {
		record("endpoint:" + ctx.Value(key{}).(string))
		if req.A < 0 {
			return sumResponse{}, kit.NewError(kit.NotFound, "none")
		}
		return sumResponse{C: "ok"}, nil
	}
	var info httpx.FinalizerInfo
	h := httpx.NewServer(ep,
		func(ctx context.Context, r *http.Request) (sumRequest, error) {
			record("decode")
			return httpx.DecodeJSONRequest[sumRequest](ctx, r)
		},
		func(ctx context.Context, w http.ResponseWriter, resp sumResponse) error {
			record("encode")
			return httpx.EncodeJSONResponse(ctx, w, resp)
		},
		httpx.ServerBefore(
			func(ctx context.Context, r *http.Request) context.Context {
				record("before1")
				return context.WithValue(ctx, key{}, r.Header.Get("X-Tenant"))
			},
			func(ctx context.Context, _ *http.Request) context.Context { record("before2"); return ctx },
		),
		httpx.ServerAfter(func(ctx context.Context, w http.ResponseWriter) context.Context {
			record("after")
			w.Header().Set("X-After", "yes")
			return ctx
		}),
		httpx.ServerErrorHandler(kit.ErrorHandlerFunc(func(_ context.Context, err error) { record("error:" + kit.CodeOf(err).String()) })),
		httpx.ServerFinalizer(func(_ context.Context, i httpx.FinalizerInfo) { record("finalizer"); info = i }),
	)
	srv := newTestServer(t, h)

	tests := []struct {
		name    string
		body    string
		want    []string
		status  int
		after   string
		written bool
	}{
		{"success", `{"a":1}`, []string{"before1", "before2", "decode", "endpoint:acme", "after", "encode", "finalizer"}, 200, "yes", true},
		{"endpoint error", `{"a":-1}`, []string{"before1", "before2", "decode", "endpoint:acme", "error:not_found", "finalizer"}, 404, "", true},
		{"decode error", `{`, []string{"before1", "before2", "decode", "error:invalid_argument", "finalizer"}, 400, "", true},
	}
	for _, tt := range tests {
		// Serial: the cases share trace and info.
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			trace = nil
			mu.Unlock()
			req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Tenant", "acme")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.after, resp.Header.Get("X-After"))
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, tt.want, trace)
			assert.Equal(t, tt.status, info.Status)
			assert.Positive(t, info.Written)
			assert.Positive(t, info.Duration)
			assert.Equal(t, tt.status != 200, info.Err != nil)
		})
	}
}

func TestServeMuxPathValues(t *testing.T) {
	t.Parallel()
	type getUser struct {
		ID      string
		Verbose bool
	}
	type user struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	ep := func(_ context.Context, req getUser) (user, error) {
		if req.ID == "missing" {
			return user{}, kit.NewError(kit.NotFound, "user missing not found")
		}
		name := "Ada"
		if req.Verbose {
			name = "Ada Lovelace"
		}
		return user{ID: req.ID, Name: name}, nil
	}
	dec := func(_ context.Context, r *http.Request) (getUser, error) {
		return getUser{ID: r.PathValue("id"), Verbose: r.URL.Query().Get("verbose") == "1"}, nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /users/{id}", quietServer(ep, dec))
	srv := newTestServer(t, mux)

	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/users/42", 200, `{"id":"42","name":"Ada"}`},
		{"/users/7?verbose=1", 200, `{"id":"7","name":"Ada Lovelace"}`},
		{"/users/missing", 404, `"code":"not_found"`},
	}
	for _, tt := range tests {
		resp, err := http.Get(srv.URL + tt.path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, tt.status, resp.StatusCode, tt.path)
		assert.Contains(t, string(body), tt.body, tt.path)
	}
	resp, err := http.Post(srv.URL+"/users/1", "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "an unknown method is refused by the mux")
}

type transfer struct {
	ID  string `json:"id"`
	err error
}

func (t transfer) Failed() error { return t.err }

func TestServerHonoursFailer(t *testing.T) {
	t.Parallel()
	ep := func(_ context.Context, req sumRequest) (transfer, error) {
		if req.A > 100 {
			return transfer{err: kit.WrapError(kit.FailedPrecondition, errors.New("balance=3"), "insufficient funds")}, nil
		}
		return transfer{ID: "t1"}, nil
	}
	srv := newTestServer(t, quietServer(ep, httpx.DecodeJSONRequest[sumRequest]))
	u, _ := url.Parse(srv.URL)
	client := httpx.NewClient[sumRequest, transfer](http.MethodPost, u, httpx.EncodeJSONRequest, httpx.DecodeJSONResponse).Endpoint()

	got, err := client(context.Background(), sumRequest{A: 1})
	require.NoError(t, err)
	assert.Equal(t, "t1", got.ID)

	_, err = client(context.Background(), sumRequest{A: 1000})
	require.Error(t, err)
	assert.Equal(t, kit.FailedPrecondition, kit.CodeOf(err))
	assert.Equal(t, "insufficient funds", kit.MessageOf(err))
	assert.NotContains(t, err.Error(), "balance")
}

func TestServerCancellationReachesEndpoint(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	done := make(chan error, 1)
	ep := func(ctx context.Context, _ sumRequest) (sumResponse, error) {
		close(started)
		select {
		case <-ctx.Done():
			done <- ctx.Err()
			return sumResponse{}, ctx.Err()
		case <-time.After(10 * time.Second):
			done <- nil
			return sumResponse{}, nil
		}
	}
	srv := newTestServer(t, quietServer(ep, httpx.DecodeJSONRequest[sumRequest]))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	_, err := http.DefaultClient.Do(req)
	require.Error(t, err)
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("the endpoint did not see the client go away")
	}
}

func TestServerPanicAfterWriteKeepsServing(t *testing.T) {
	t.Parallel()
	h := httpx.NewServer(kit.Endpoint[sumRequest, sumResponse](sum), httpx.DecodeJSONRequest[sumRequest],
		func(_ context.Context, w http.ResponseWriter, _ sumResponse) error {
			_, _ = w.Write([]byte("{"))
			panic("encoder broke")
		},
		httpx.ServerErrorHandler(kit.LogServerFaults(slog.New(slog.DiscardHandler))),
		httpx.ServerFinalizer(func(context.Context, httpx.FinalizerInfo) {}),
	)
	mux := http.NewServeMux()
	mux.Handle("POST /broken", h)
	mux.Handle("POST /sum", httpx.NewServer(kit.Endpoint[sumRequest, sumResponse](sum), httpx.DecodeJSONRequest[sumRequest], httpx.EncodeJSONResponse[sumResponse]))
	srv := newTestServer(t, mux)
	for range 2 {
		resp, err := http.Post(srv.URL+"/broken", "application/json", strings.NewReader(`{}`))
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		assert.Error(t, err, "a response whose encoder panicked after writing is aborted, never a success")
	}
	resp, err := http.Post(srv.URL+"/sum", "application/json", strings.NewReader(`{"a":1,"b":"2"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode, "the server keeps serving")
}

func TestErrorEncoderHeaders(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	httpx.DefaultErrorEncoder(context.Background(), authError{}, rec)
	assert.Equal(t, 401, rec.Code)
	assert.Equal(t, `Bearer realm="api"`, rec.Header().Get("WWW-Authenticate"))
	p := decodeProblem(t, rec.Body.Bytes())
	assert.Equal(t, "unauthenticated", p.Code)
	assert.Equal(t, "Unauthorized", p.Title)
}

type authError struct{}

func (authError) Error() string     { return "no token" }
func (authError) KitCode() kit.Code { return kit.Unauthenticated }
func (authError) Headers() http.Header {
	return http.Header{"Www-Authenticate": {`Bearer realm="api"`}}
}
