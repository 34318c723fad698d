package observe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/observe"
)

// TestHTTPServerMetricsSeeEveryRequest sends requests that fail before the
// endpoint — malformed, wrong content type, too large, a method the route
// does not take — and checks that the transport finalizer counted each.
func TestHTTPServerMetricsSeeEveryRequest(t *testing.T) {
	t.Parallel()
	mp, reader := newMeter(t)
	mux := http.NewServeMux()
	mux.Handle("POST /sum", httpx.NewServer(kit.Endpoint[sumReq, sumResp](echo), httpx.DecodeJSONRequest[sumReq], httpx.EncodeJSONResponse[sumResp],
		httpx.ServerMaxBodyBytes(1024),
		httpx.ServerFinalizer(observe.HTTPServerMetrics(observe.MeterProvider(mp))),
		httpx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) {}))))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for _, tt := range []struct{ body, ct string }{
		{`{"b":"x"}`, "application/json"},
		{`{"b":`, "application/json"},
		{`{"b":"x"}`, "text/plain"},
		{`{"b":"` + strings.Repeat("x", 2048) + `"}`, "application/json"},
		{`{"b":"code:13"}`, "application/json"},
	} {
		resp, err := http.Post(srv.URL+"/sum", tt.ct, strings.NewReader(tt.body))
		require.NoError(t, err)
		resp.Body.Close()
	}
	got := points(collect(t, reader), observe.HTTPServerDuration)
	key := func(status string) string {
		return "http.request.method=POST http.response.status_code=" + status + " http.route=POST /sum"
	}
	assert.Equal(t, map[string]int64{
		key("200"):                     1,
		key("400"):                     1,
		key("415"):                     1,
		key("413"):                     1,
		"error.type=500 " + key("500"): 1,
	}, got)
}
