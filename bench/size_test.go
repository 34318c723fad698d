package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	gokithttp "github.com/go-kit/kit/transport/http"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/bench/wire"
	"github.com/typedkit/kit/httpx"
)

// jsonList returns a list of users whose JSON is about size bytes.
func jsonList(size int) wire.UserList {
	one, _ := json.Marshal(wire.NewUser(1))
	return wire.NewList(max(1, size/len(one)))
}

// BenchmarkHTTPSize answers a GET with a list of users of about 100 B,
// 10 KB and 1 MB of JSON over loopback, with typedkit's httpx, go-kit and
// plain net/http with encoding/json.
func BenchmarkHTTPSize(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int
	}{{"100B", 100}, {"10KB", 10 << 10}, {"1MB", 1 << 20}} {
		list := jsonList(size.bytes)
		noRequest := func(context.Context, *http.Request) (struct{}, error) { return struct{}{}, nil }
		impls := rotate([]struct {
			impl string
			h    http.Handler
		}{
			{"typedkit", httpx.NewServer(kit.Endpoint[struct{}, wire.UserList](func(context.Context, struct{}) (wire.UserList, error) {
				return list, nil
			}), noRequest, httpx.EncodeJSONResponse)},
			{"gokit", gokithttp.NewServer(func(context.Context, any) (any, error) { return list, nil },
				func(context.Context, *http.Request) (any, error) { return nil, nil }, gokithttp.EncodeJSONResponse)},
			{"nethttp", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(list)
			})},
		})
		for _, c := range impls {
			b.Run(fmt.Sprintf("size=%s/%s", size.name, c.impl), func(b *testing.B) {
				srv := httptest.NewServer(c.h)
				defer srv.Close()
				tr := &http.Transport{MaxIdleConnsPerHost: 64}
				defer tr.CloseIdleConnections()
				client := &http.Client{Transport: tr}
				b.ReportAllocs()
				for b.Loop() {
					resp, err := client.Get(srv.URL)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.Copy(io.Discard, resp.Body); err != nil {
						b.Fatal(err)
					}
					resp.Body.Close()
				}
			})
		}
	}
}
