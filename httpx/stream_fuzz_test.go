package httpx_test

import (
	"context"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/httpx"
)

type fuzzLine struct {
	N    int      `json:"n"`
	S    string   `json:"s"`
	List []string `json:"list"`
}

// FuzzClientStreamBody checks the reader of NDJSON request streams: any
// body gets a 200 or a 4xx with a problem body, never a panic or a 5xx,
// and the endpoint sees each line that is a request.
func FuzzClientStreamBody(f *testing.F) {
	for _, seed := range []string{"{\"n\":1}\n{\"n\":2}\n", "", "\n\n", "{\"n\":1}", "{\"n\":", "nope\n", "{\"n\":1}\r\n{\"s\":\"\\ud800\"}\n",
		"[]\n", "null\n", "{\"list\":[\"a\",\"b\"]}\n" + strings.Repeat("{}\n", 50), strings.Repeat("{\"s\":\""+strings.Repeat("x", 200)+"\"}\n", 3)} {
		f.Add(seed, httpx.NDJSONContentType)
	}
	h := httpx.ClientStreamHandler(kit.ClientStreamEndpoint[fuzzLine, int](func(_ context.Context, reqs iter.Seq2[fuzzLine, error]) (int, error) {
		n := 0
		for _, err := range reqs {
			if err != nil {
				return n, err
			}
			n++
		}
		return n, nil
	}), httpx.EncodeJSONResponse[int], httpx.ServerMaxBodyBytes(256), httpx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) {})))
	f.Fuzz(func(t *testing.T, body, contentType string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK && (w.Code < 400 || w.Code > 499) {
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		}
		if w.Code != http.StatusOK && !strings.Contains(w.Body.String(), `"code":"`) {
			t.Fatalf("no problem body for %q: %s", body, w.Body)
		}
	})
}

// bodyTransport answers every request with a fixed stream body.
type bodyTransport struct{ body, contentType string }

func (b bodyTransport) Do(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {b.contentType}},
		Body: io.NopCloser(strings.NewReader(b.body)), Request: r}, nil
}

// FuzzServerStreamResults checks the client's reader of streamed
// responses: any body ends the sequence with its elements and at most one
// error, never a panic.
func FuzzServerStreamResults(f *testing.F) {
	for _, seed := range []string{
		"{\"result\":{\"n\":1}}\n{\"result\":{\"n\":2}}\n",
		"{\"result\":{\"n\":1}}\n{\"error\":{\"code\":\"aborted\",\"detail\":\"x\",\"status\":409,\"title\":\"Conflict\"}}\n",
		"{\"error\":{\"code\":\"nonsense\"}}\n", "{\"error\":{}}\n", "{\"result\":null}\n", "{}\n", "nope\n", "{\"result\":", "",
		"{\"result\":{\"n\":\"x\"}}\n", strings.Repeat("{\"result\":{}}\n", 100),
	} {
		f.Add(seed)
	}
	u, _ := url.Parse("http://stream.invalid/x")
	f.Fuzz(func(t *testing.T, body string) {
		ep := httpx.ServerStreamClient[int, fuzzLine](http.MethodGet, u, func(context.Context, *http.Request, int) error { return nil },
			httpx.ClientHTTPClient(bodyTransport{body: body, contentType: httpx.NDJSONContentType}), httpx.ClientMaxResponseBytes(512))
		seq, err := ep(context.Background(), 0)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		errs := 0
		for _, err := range seq {
			if err != nil {
				errs++
				if kit.CodeOf(err) == kit.OK {
					t.Fatalf("an error without a code: %v", err)
				}
			}
		}
		if errs > 1 {
			t.Fatalf("%d errors in one stream", errs)
		}
	})
}
