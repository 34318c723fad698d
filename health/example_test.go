package health_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/typedkit/kit/health"
)

// Readiness follows the checks and turns 503 at once when the service
// drains; liveness stays 200.
func ExampleHealth() {
	var h health.Health
	h.AddCheck("db", func(ctx context.Context) error { return nil })
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	get := func(path string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(path, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	get("/readyz")
	h.SetDraining(true)
	get("/readyz")
	get("/livez")
	// Output:
	// /readyz 200 {"status":"ready","checks":[{"name":"db","status":"ok"}]}
	// /readyz 503 {"status":"draining"}
	// /livez 200 {"status":"live"}
}

// A transport's health service learns at once that the service drains.
func ExampleHealth_WatchDraining() {
	var h health.Health
	draining, changed := h.WatchDraining()
	fmt.Println("draining:", draining)

	go h.SetDraining(true)
	<-changed
	draining, _ = h.WatchDraining()
	fmt.Println("draining:", draining)
	// Output:
	// draining: false
	// draining: true
}
