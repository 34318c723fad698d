package httpx_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/httpx"
)

type fuzzRequest struct {
	A     int               `json:"a"`
	B     string            `json:"b"`
	Tags  []string          `json:"tags"`
	Meta  map[string]int    `json:"meta"`
	Inner *struct{ X bool } `json:"inner"`
}

// FuzzDecodeJSONRequest checks that the JSON request decoder never panics
// and that every error it returns is a kit error a client may see: a 4xx
// with a message.
func FuzzDecodeJSONRequest(f *testing.F) {
	for _, seed := range []string{`{"a":1,"b":"x"}`, `{`, `[]`, `null`, `{"tags":["a"],"meta":{"k":1}}`, `{"inner":{"X":true}}`, `"\ud800"`, `{"a":1e400}`} {
		f.Add(seed, "application/json", false)
	}
	f.Fuzz(func(t *testing.T, body, contentType string, strict bool) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		dec := httpx.DecodeJSONRequest[fuzzRequest]
		if strict {
			dec = httpx.DecodeJSONRequestStrict[fuzzRequest]
		}
		_, err := dec(context.Background(), r)
		if err == nil {
			return
		}
		code := kit.CodeOf(err)
		if code != kit.InvalidArgument {
			t.Fatalf("code %s for %q: %v", code, body, err)
		}
		if kit.MessageOf(err) == "" {
			t.Fatalf("no message for %q", body)
		}
	})
}
