package httpx_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/httpx"
)

type benchReq struct {
	A int    `json:"a"`
	B string `json:"b"`
}

type benchResp struct {
	C string `json:"c"`
}

func benchEndpoint(_ context.Context, r benchReq) (benchResp, error) { return benchResp{C: r.B}, nil }

const benchBody = `{"a":1,"b":"x"}`

// plainHandler does the same work with net/http and encoding/json alone.
func plainHandler(w http.ResponseWriter, r *http.Request) {
	var req benchReq
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp, _ := benchEndpoint(r.Context(), req)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func benchHandlers() []struct {
	name string
	h    http.Handler
} {
	return []struct {
		name string
		h    http.Handler
	}{
		{"plain", http.HandlerFunc(plainHandler)},
		{"httpx", httpx.NewServer(kit.Endpoint[benchReq, benchResp](benchEndpoint), httpx.DecodeJSONRequest, httpx.EncodeJSONResponse)},
	}
}

// BenchmarkServerInProcess serves the small JSON endpoint through an
// httptest recorder: httpx against a plain handler doing the same decode and
// encode.
func BenchmarkServerInProcess(b *testing.B) {
	for _, c := range benchHandlers() {
		b.Run(c.name, func(b *testing.B) {
			body := strings.NewReader(benchBody)
			r := httptest.NewRequest(http.MethodPost, "/", body)
			r.Header.Set("Content-Type", "application/json")
			b.ReportAllocs()
			for b.Loop() {
				body.Reset(benchBody)
				r.Body = io.NopCloser(body)
				w := httptest.NewRecorder()
				c.h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}

// BenchmarkServerLoopback serves the same endpoint over loopback TCP with a
// keep-alive client, sequentially and in parallel.
func BenchmarkServerLoopback(b *testing.B) {
	for _, c := range benchHandlers() {
		srv := httptest.NewServer(c.h)
		transport := &http.Transport{MaxIdleConnsPerHost: 64}
		client := &http.Client{Transport: transport}
		do := func(b *testing.B) {
			resp, err := client.Post(srv.URL, "application/json", strings.NewReader(benchBody))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		b.Run(c.name+"/sequential", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				do(b)
			}
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					do(b)
				}
			})
		})
		transport.CloseIdleConnections()
		srv.Close()
	}
}

// BenchmarkClient calls the endpoint through an httpx client and through a
// plain http.Client doing the same encode and decode.
func BenchmarkClient(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(plainHandler))
	defer srv.Close()
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	hc := &http.Client{Transport: transport}
	u := mustURL(b, srv.URL)

	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			body, _ := json.Marshal(benchReq{A: 1, B: "x"})
			resp, err := hc.Post(srv.URL, "application/json", strings.NewReader(string(body)))
			if err != nil {
				b.Fatal(err)
			}
			var out benchResp
			_ = json.NewDecoder(resp.Body).Decode(&out)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.Run("httpx", func(b *testing.B) {
		ep := httpx.NewClient[benchReq, benchResp](http.MethodPost, u, httpx.EncodeJSONRequest, httpx.DecodeJSONResponse, httpx.ClientHTTPClient(hc)).Endpoint()
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ep(ctx, benchReq{A: 1, B: "x"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
