package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
)

// rotate returns s rotated by the round number cmd/report gives in
// TYPEDKIT_BENCH_ROUND, so that from round to round each implementation of
// a benchmark runs first, second and last alike.
func rotate[T any](s []T) []T {
	n, _ := strconv.Atoi(os.Getenv("TYPEDKIT_BENCH_ROUND"))
	if len(s) == 0 || n <= 0 {
		return s
	}
	k := n % len(s)
	return append(append([]T{}, s[k:]...), s[:k]...)
}

// Req is the request of the benchmark service: {"a":1,"b":"x"}.
type Req struct {
	A int    `json:"a"`
	B string `json:"b"`
}

// Resp is its response: {"c":"x"}.
type Resp struct {
	C string `json:"c"`
}

const body = `{"a":1,"b":"x"}`

func work(_ context.Context, r Req) (Resp, error) { return Resp{C: r.B}, nil }

// workAny is the same work with go-kit's signature.
func workAny(_ context.Context, r any) (any, error) { return Resp{C: r.(Req).B}, nil }

// plainHandler does the work with net/http and encoding/json alone.
func plainHandler(w http.ResponseWriter, r *http.Request) {
	var req Req
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp, _ := work(r.Context(), req)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}
