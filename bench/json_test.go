package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/typedkit/kit/bench/jsonsvc"
	"github.com/typedkit/kit/genrt"
	"github.com/typedkit/kit/httpx"
)

// userBody is a CreateUser request of examples/usersvc's shape.
const userBody = `{"name":"Ada Lovelace","email":"ada@example.com"}`

// createdAt is the time of every user the benchmarks create.
var createdAt = time.Date(2026, 12, 2, 3, 4, 5, 678000000, time.UTC)

type userService struct{}

func (userService) CreateUser(_ context.Context, req jsonsvc.CreateUserRequest) (jsonsvc.User, error) {
	return jsonsvc.User{ID: "u-000001", Name: req.Name, Email: req.Email, CreatedAt: createdAt}, nil
}

// plainCreateUser is CreateUser with net/http and encoding/json alone.
func plainCreateUser(w http.ResponseWriter, r *http.Request) {
	var req jsonsvc.CreateUserRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp, _ := userService{}.CreateUser(r.Context(), req)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// BenchmarkJSONDecode reads examples/usersvc's CreateUserRequest with the
// generated JSON reader and with encoding/json.
func BenchmarkJSONDecode(b *testing.B) {
	data := []byte(userBody)
	for _, c := range rotate([]struct {
		impl string
		dec  func([]byte, *jsonsvc.CreateUserRequest) error
	}{
		{"typedkit", jsonsvc.DecodeCreateUserRequest},
		{"encodingjson", func(d []byte, v *jsonsvc.CreateUserRequest) error { return json.Unmarshal(d, v) }},
	}) {
		b.Run("CreateUserRequest/"+c.impl, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var req jsonsvc.CreateUserRequest
				if err := c.dec(data, &req); err != nil || req.Email == "" {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkJSONEncode writes examples/usersvc's User with the generated
// JSON writer and with encoding/json, each into a buffer it reuses (as
// httpx does).
func BenchmarkJSONEncode(b *testing.B) {
	u := jsonsvc.User{ID: "u-000001", Name: "Ada Lovelace", Email: "ada@example.com", CreatedAt: createdAt}
	var w genrt.JSONWriter
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, c := range rotate([]struct {
		impl string
		enc  func()
	}{
		{"typedkit", func() {
			if err := jsonsvc.EncodeUser(&w, &u); err != nil {
				b.Fatal(err)
			}
		}},
		{"encodingjson", func() {
			buf.Reset()
			if err := enc.Encode(u); err != nil {
				b.Fatal(err)
			}
		}},
	}) {
		b.Run("User/"+c.impl, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.enc()
			}
		})
	}
}

// BenchmarkHTTPGenerated serves examples/usersvc's CreateUser in process
// (an httptest recorder) through the generated HTTP glue with its
// generated JSON codecs, through the same glue with encoding/json
// (httpx.ServerStandardJSON), and with plain net/http and encoding/json,
// each behind a ServeMux with the same route.
func BenchmarkHTTPGenerated(b *testing.B) {
	e := jsonsvc.NewEndpoints(userService{}, jsonsvc.Middlewares{})
	plain := http.NewServeMux()
	plain.HandleFunc("POST /users", plainCreateUser)
	for _, c := range rotate([]struct {
		impl string
		h    http.Handler
	}{
		{"typedkit", jsonsvc.NewHTTPHandler(e)},
		{"typedkit-stdjson", jsonsvc.NewHTTPHandler(e, httpx.ServerStandardJSON())},
		{"nethttp", plain},
	}) {
		b.Run("recorder/"+c.impl, func(b *testing.B) {
			rd := strings.NewReader(userBody)
			r := httptest.NewRequest(http.MethodPost, "/users", rd)
			r.Header.Set("Content-Type", "application/json")
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(userBody)
				r.Body = io.NopCloser(rd)
				w := httptest.NewRecorder()
				c.h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}

// TestHTTPGeneratedSameBody checks that the three handlers of
// BenchmarkHTTPGenerated answer with the same bytes.
func TestHTTPGeneratedSameBody(t *testing.T) {
	e := jsonsvc.NewEndpoints(userService{}, jsonsvc.Middlewares{})
	plain := http.NewServeMux()
	plain.HandleFunc("POST /users", plainCreateUser)
	var bodies []string
	for _, h := range []http.Handler{jsonsvc.NewHTTPHandler(e), jsonsvc.NewHTTPHandler(e, httpx.ServerStandardJSON()), plain} {
		r := httptest.NewRequest(http.MethodPost, "/users", strings.NewReader(userBody))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatal(w.Code, w.Body.String())
		}
		bodies = append(bodies, w.Body.String())
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Fatalf("bodies differ: %q", bodies)
		}
	}
}
