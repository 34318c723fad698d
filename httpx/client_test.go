package httpx_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/httpx"
)

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

// Every code a service returns reaches the client as that code, with the
// same public message, and never with the cause.
func TestErrorRoundTripEveryCode(t *testing.T) {
	t.Parallel()
	type codeReq struct {
		Code kit.Code `json:"code"`
	}
	ep := func(_ context.Context, req codeReq) (sumResponse, error) {
		if req.Code == kit.OK {
			return sumResponse{C: "fine"}, nil
		}
		return sumResponse{}, kit.WrapError(req.Code, errors.New("secret cause"), "message for "+req.Code.String())
	}
	srv := newTestServer(t, quietServer(ep, httpx.DecodeJSONRequest[codeReq]))
	client := httpx.NewClient[codeReq, sumResponse](http.MethodPost, mustURL(t, srv.URL), httpx.EncodeJSONRequest, httpx.DecodeJSONResponse).Endpoint()

	for _, code := range kit.Codes() {
		t.Run(code.String(), func(t *testing.T) {
			t.Parallel()
			resp, err := client(context.Background(), codeReq{Code: code})
			assert.Equal(t, code, kit.CodeOf(err))
			if code == kit.OK {
				require.NoError(t, err)
				assert.Equal(t, "fine", resp.C)
				return
			}
			assert.Equal(t, "message for "+code.String(), kit.MessageOf(err))
			assert.NotContains(t, err.Error(), "secret")
		})
	}
}

func TestClientViolationsRoundTrip(t *testing.T) {
	t.Parallel()
	ep := func(context.Context, sumRequest) (sumResponse, error) {
		return sumResponse{}, kit.InvalidArgumentError("invalid sum",
			kit.FieldViolation{Field: "a", Description: "must be positive"},
			kit.FieldViolation{Field: "b", Description: "required"})
	}
	srv := newTestServer(t, quietServer(ep, httpx.DecodeJSONRequest[sumRequest]))
	client := httpx.NewClient[sumRequest, sumResponse](http.MethodPost, mustURL(t, srv.URL), httpx.EncodeJSONRequest, httpx.DecodeJSONResponse).Endpoint()
	_, err := client(context.Background(), sumRequest{})
	assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err))
	assert.Equal(t, []kit.FieldViolation{{Field: "a", Description: "must be positive"}, {Field: "b", Description: "required"}}, kit.ViolationsOf(err))
}

func TestClientNonKitErrorBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		ctype   string
		body    string
		code    kit.Code
		message string
	}{
		{"plain 404", 404, "text/plain", "404 page not found", kit.NotFound, "Not Found"},
		{"proxy 502", 502, "text/html", "<html>bad gateway</html>", kit.Unavailable, "Bad Gateway"},
		{"503", 503, "", "", kit.Unavailable, "Service Unavailable"},
		{"json without code", 500, "application/json", `{"error":"x"}`, kit.Internal, "Internal Server Error"},
		{"teapot", 418, "", "", kit.FailedPrecondition, "I'm a teapot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tt.ctype != "" {
					w.Header().Set("Content-Type", tt.ctype)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			client := httpx.NewClient[sumRequest, sumResponse](http.MethodGet, mustURL(t, srv.URL), func(context.Context, *http.Request, sumRequest) error { return nil }, httpx.DecodeJSONResponse).Endpoint()
			_, err := client(context.Background(), sumRequest{})
			assert.Equal(t, tt.code, kit.CodeOf(err))
			assert.Equal(t, tt.message, kit.MessageOf(err))
			if tt.body != "" {
				assert.Contains(t, err.Error(), tt.body, "the body is kept in the cause for logs")
			}
		})
	}
}

func TestClientTransportErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := ln.Addr().String()
	require.NoError(t, ln.Close())

	slow := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	tests := []struct {
		name   string
		target string
		ctx    func() (context.Context, context.CancelFunc)
		code   kit.Code
	}{
		{"connection refused", "http://" + closedAddr, func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, kit.Unavailable},
		{"deadline", slow.URL, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, kit.DeadlineExceeded},
		{"canceled", slow.URL, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			return ctx, cancel
		}, kit.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client := httpx.NewClient[sumRequest, sumResponse](http.MethodPost, mustURL(t, tt.target), httpx.EncodeJSONRequest, httpx.DecodeJSONResponse).Endpoint()
			ctx, cancel := tt.ctx()
			defer cancel()
			_, err := client(ctx, sumRequest{})
			assert.Equal(t, tt.code, kit.CodeOf(err), "%v", err)
		})
	}
}

func TestClientResponseLimitAndMalformed(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/big" {
			_, _ = io.WriteString(w, `{"c":"`+strings.Repeat("x", 1000)+`"}`)
			return
		}
		_, _ = io.WriteString(w, `{"c":`)
	}))
	big := httpx.NewClient[sumRequest, sumResponse](http.MethodPost, mustURL(t, srv.URL+"/big"), httpx.EncodeJSONRequest, httpx.DecodeJSONResponse, httpx.ClientMaxResponseBytes(100)).Endpoint()
	_, err := big(context.Background(), sumRequest{})
	assert.Equal(t, kit.Internal, kit.CodeOf(err))
	assert.Contains(t, err.Error(), "response body exceeds 100 bytes")

	bad := httpx.NewClient[sumRequest, sumResponse](http.MethodPost, mustURL(t, srv.URL+"/bad"), httpx.EncodeJSONRequest, httpx.DecodeJSONResponse).Endpoint()
	_, err = bad(context.Background(), sumRequest{})
	assert.Equal(t, kit.Internal, kit.CodeOf(err))
	assert.Contains(t, err.Error(), "decode response")
}

func TestClientHooksAndConnectionReuse(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(quietServer(kit.Endpoint[sumRequest, sumResponse](func(ctx context.Context, req sumRequest) (sumResponse, error) {
		if req.A < 0 {
			return sumResponse{}, kit.NewError(kit.NotFound, "nope")
		}
		return sumResponse{C: req.B}, nil
	}), httpx.DecodeJSONRequest[sumRequest],
		httpx.ServerBefore(func(ctx context.Context, r *http.Request) context.Context {
			if r.Header.Get("X-Request-Id") == "" {
				panic("missing header")
			}
			return ctx
		}),
		httpx.ServerAfter(httpx.SetResponseHeader("X-Served-By", "test")),
	))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	type key struct{}
	var servedBy atomic.Value
	var finals atomic.Int32
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	client := httpx.NewClient[sumRequest, sumResponse](http.MethodPost, mustURL(t, srv.URL), httpx.EncodeJSONRequest, httpx.DecodeJSONResponse,
		httpx.ClientHTTPClient(&http.Client{Transport: transport}),
		httpx.ClientBefore(httpx.SetRequestHeader("X-Request-Id", "r1")),
		httpx.ClientAfter(func(ctx context.Context, r *http.Response) context.Context {
			if v := r.Header.Get("X-Served-By"); v != "" {
				servedBy.Store(v)
			}
			return context.WithValue(ctx, key{}, 1)
		}),
		httpx.ClientFinalizer(func(context.Context, error) { finals.Add(1) }),
	).Endpoint()

	for i := range 20 {
		a := 1
		if i%2 == 1 {
			a = -1 // error responses must not cost the connection either
		}
		_, err := client(context.Background(), sumRequest{A: a, B: "x"})
		if a > 0 {
			require.NoError(t, err)
		} else {
			require.Equal(t, kit.NotFound, kit.CodeOf(err))
		}
	}
	assert.Equal(t, "test", servedBy.Load())
	assert.Equal(t, int32(20), finals.Load())
	assert.Equal(t, int32(1), conns.Load(), "bodies are drained so one connection serves every call")
}
