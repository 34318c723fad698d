package usersvc_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/typedkit/kit/examples/usersvc"
	"github.com/typedkit/kit/httpx"
)

// BenchmarkGetUserRoute serves GET /users/{id} through the generated
// handler and through a hand-written httpx server on a ServeMux, for the
// same store: the generated glue should cost nothing extra.
func BenchmarkGetUserRoute(b *testing.B) {
	store := usersvc.NewStore()
	u, err := store.CreateUser(context.Background(), usersvc.CreateUserRequest{Name: "Ada", Email: "ada@example.com"})
	if err != nil {
		b.Fatal(err)
	}
	// The same patterns as the generated handler, so both muxes route alike.
	hand := http.NewServeMux()
	for _, p := range []string{"POST /users", "PUT /users/{id}", "DELETE /users/{id}", "GET /users", "GET /openapi.json"} {
		hand.Handle(p, http.NotFoundHandler())
	}
	hand.Handle("GET /users/{id}", httpx.NewServer(
		func(ctx context.Context, id string) (usersvc.User, error) { return store.GetUser(ctx, id) },
		func(_ context.Context, r *http.Request) (string, error) { return r.PathValue("id"), nil },
		httpx.EncodeJSONResponse[usersvc.User]))
	cases := []struct {
		name string
		h    http.Handler
	}{
		{"generated", usersvc.NewHTTPHandler(usersvc.NewEndpoints(store, usersvc.Middlewares{}))},
		{"handwritten", hand},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/users/"+u.ID, nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				c.h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
				_, _ = io.Copy(io.Discard, w.Body)
			}
		})
	}
}
