package httpx_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/typedkit/kit/httpx"
)

type benchUser struct {
	XMLName xml.Name `json:"-" xml:"user"`
	ID      int64    `json:"id" xml:"id"`
	Name    string   `json:"name" xml:"name"`
	Email   string   `json:"email" xml:"email"`
	Roles   []string `json:"roles" xml:"roles>role"`
	Active  bool     `json:"active" xml:"active"`
}

var benchUserValue = benchUser{ID: 42, Name: "Ada Lovelace", Email: "ada@example.com", Roles: []string{"admin", "author"}, Active: true}

func getBenchUser(context.Context, struct{}) (benchUser, error) { return benchUserValue, nil }

func decodeNothing(context.Context, *http.Request) (struct{}, error) { return struct{}{}, nil }

// BenchmarkEncodeResponse serves the same response through an httpx.Server
// in process (httptest recorder), encoded as JSON and as XML, directly and
// through Accept negotiation.
func BenchmarkEncodeResponse(b *testing.B) {
	negotiating := httpx.NewServer(getBenchUser, decodeNothing, httpx.NegotiateResponse(httpx.JSONEncoder[benchUser](), httpx.XMLEncoder[benchUser]()))
	cases := []struct {
		name   string
		h      http.Handler
		accept string
		want   string
	}{
		{"json", httpx.NewServer(getBenchUser, decodeNothing, httpx.EncodeJSONResponse), "", httpx.JSONContentType},
		{"xml", httpx.NewServer(getBenchUser, decodeNothing, httpx.EncodeXMLResponse), "", httpx.XMLContentType},
		{"negotiated/json", negotiating, "application/json", httpx.JSONContentType},
		{"negotiated/xml", negotiating, "application/xml;q=0.9, */*;q=0.1", httpx.XMLContentType},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if c.accept != "" {
				r.Header.Set("Accept", c.accept)
			}
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				c.h.ServeHTTP(w, r)
				if w.Code != http.StatusOK || w.Header().Get("Content-Type") != c.want {
					b.Fatal(w.Code, w.Header(), w.Body.String())
				}
			}
		})
	}
}
