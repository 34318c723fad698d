package httpx_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/httpx"
)

type GetUserRequest struct{ ID string }

type User struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// A server for a ServeMux route and a typed client for it; the NotFound the
// service returns arrives at the caller as NotFound.
func Example() {
	getUser := func(_ context.Context, req GetUserRequest) (User, error) {
		if req.ID != "42" {
			return User{}, kit.NewError(kit.NotFound, "user "+req.ID+" not found")
		}
		return User{ID: "42", Name: "Ada"}, nil
	}
	decode := func(_ context.Context, r *http.Request) (GetUserRequest, error) {
		return GetUserRequest{ID: r.PathValue("id")}, nil
	}

	mux := http.NewServeMux()
	mux.Handle("GET /users/{id}", httpx.NewServer(getUser, decode, httpx.EncodeJSONResponse))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	base, _ := url.Parse(srv.URL)
	encode := func(_ context.Context, r *http.Request, req GetUserRequest) error {
		r.URL.Path = "/users/" + url.PathEscape(req.ID)
		return nil
	}
	client := httpx.NewClient(http.MethodGet, base, encode, httpx.DecodeJSONResponse[User]).Endpoint()

	u, err := client(context.Background(), GetUserRequest{ID: "42"})
	fmt.Println(u.Name, err)
	_, err = client(context.Background(), GetUserRequest{ID: "7"})
	fmt.Println(kit.CodeOf(err), kit.MessageOf(err))
	// Output:
	// Ada <nil>
	// not_found user 7 not found
}
