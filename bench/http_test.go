package bench

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	gokithttp "github.com/go-kit/kit/transport/http"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/httpx"
)

func gokitDecode(_ context.Context, r *http.Request) (any, error) {
	var req Req
	err := json.NewDecoder(r.Body).Decode(&req)
	return req, err
}

func handlers() []struct {
	impl string
	h    http.Handler
} {
	return rotate([]struct {
		impl string
		h    http.Handler
	}{
		{"typedkit", httpx.NewServer(kit.Endpoint[Req, Resp](work), httpx.DecodeJSONRequest, httpx.EncodeJSONResponse)},
		{"gokit", gokithttp.NewServer(workAny, gokitDecode, gokithttp.EncodeJSONResponse)},
		{"nethttp", http.HandlerFunc(plainHandler)},
	})
}

// BenchmarkHTTPInProcess serves one request through an httptest recorder.
func BenchmarkHTTPInProcess(b *testing.B) {
	for _, c := range handlers() {
		b.Run("recorder/"+c.impl, func(b *testing.B) {
			rd := strings.NewReader(body)
			r := httptest.NewRequest(http.MethodPost, "/", rd)
			r.Header.Set("Content-Type", "application/json")
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(body)
				r.Body = io.NopCloser(rd)
				w := httptest.NewRecorder()
				c.h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

// BenchmarkHTTPLoopback serves requests over loopback TCP with a keep-alive
// client, one at a time and in parallel.
func BenchmarkHTTPLoopback(b *testing.B) {
	for _, mode := range []string{"sequential", "parallel"} {
		for _, c := range handlers() {
			b.Run(mode+"/"+c.impl, func(b *testing.B) {
				srv := httptest.NewServer(c.h)
				defer srv.Close()
				tr := &http.Transport{MaxIdleConnsPerHost: 64}
				defer tr.CloseIdleConnections()
				client := &http.Client{Transport: tr}
				call := func() {
					resp, err := client.Post(srv.URL, "application/json", strings.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				b.ReportAllocs()
				if mode == "sequential" {
					for b.Loop() {
						call()
					}
					return
				}
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						call()
					}
				})
			})
		}
	}
}
