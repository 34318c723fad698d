package httpx_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/httpx"
)

// requireClientError fails unless err is what a client may be shown: a
// kit error with the code InvalidArgument (or ResourceExhausted for a 413),
// a message, and a 4xx status if it chooses one.
func requireClientError(t *testing.T, err error, input any) {
	t.Helper()
	code := kit.CodeOf(err)
	if code != kit.InvalidArgument && code != kit.ResourceExhausted {
		t.Fatalf("code %s for %q: %v", code, input, err)
	}
	if kit.MessageOf(err) == "" {
		t.Fatalf("no message for %q", input)
	}
	var sc httpx.StatusCoder
	if errors.As(err, &sc) && (sc.StatusCode() < 400 || sc.StatusCode() > 499) {
		t.Fatalf("status %d for %q", sc.StatusCode(), input)
	}
}

func postRequest(body, contentType string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

type fuzzXML struct {
	A     int                `xml:"a"`
	B     string             `xml:"b,attr"`
	Tags  []string           `xml:"tags>tag"`
	F     float64            `xml:"f"`
	Ok    bool               `xml:"ok"`
	Inner *struct{ X uint8 } `xml:"inner"`
}

// FuzzDecodeXMLRequest checks that the XML request decoder never panics
// and that every error it returns is a kit error a client may see.
func FuzzDecodeXMLRequest(f *testing.F) {
	for _, seed := range []string{
		`<r b="x"><a>1</a><tags><tag>t</tag></tags></r>`, `<r>`, `<r></s>`, `<r/><r/>`, `<r/>x`,
		`<a>one</a>`, `<?xml version="1.0" encoding="latin1"?><r/>`, `<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>`,
		`<r><inner><X>300</X></inner></r>`, `<r><f>1e400</f></r>`, `<!-- -->`, "<r>\xff</r>",
	} {
		f.Add(seed, "application/xml")
	}
	f.Add(`<r/>`, "text/plain")
	f.Fuzz(func(t *testing.T, body, contentType string) {
		_, err := httpx.DecodeXMLRequest[fuzzXML](context.Background(), postRequest(body, contentType))
		if err != nil {
			requireClientError(t, err, body)
		}
	})
}

// FuzzDecodeJSONOrXMLRequest checks the decoder that picks JSON or XML by
// Content-Type (DecodeByContentType with JSONDecoder and XMLDecoder).
func FuzzDecodeJSONOrXMLRequest(f *testing.F) {
	dec := httpx.DecodeByContentType(httpx.JSONDecoder[fuzzXML](), httpx.XMLDecoder[fuzzXML]())
	f.Add(`{"a":1}`, "application/json")
	f.Add(`<r><a>1</a></r>`, "application/xml")
	f.Add(`<r><a>1</a></r>`, "application/json")
	f.Add(`{"a":1}`, "text/xml")
	f.Add(" \n", "")
	f.Add(`x`, "application/vnd.x+json; charset=utf-8")
	f.Fuzz(func(t *testing.T, body, contentType string) {
		_, err := dec(context.Background(), postRequest(body, contentType))
		if err != nil {
			requireClientError(t, err, body)
		}
	})
}

// FuzzRawCodecDecodeRequest checks a raw codec's decoder, with an
// Unmarshal that fails on bodies that are not eight bytes.
func FuzzRawCodecDecodeRequest(f *testing.F) {
	f.Add([]byte("12345678"), pointContentType)
	f.Add([]byte("123"), pointContentType)
	f.Add([]byte{}, "")
	f.Add([]byte("12345678"), pointContentType+"; v=2")
	f.Add([]byte("12345678"), "application/json")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		_, err := pointCodec.DecodeRequest(context.Background(), postRequest(string(body), contentType))
		if err != nil {
			requireClientError(t, err, body)
		}
	})
}

// FuzzDecodeFormRequest checks the URL-encoded form decoder.
func FuzzDecodeFormRequest(f *testing.F) {
	for _, seed := range []string{"name=Ada&age=36", "name=%zz", "a;b", "age=x", "=&=&", "tag=a&tag=b&tag", "%"} {
		f.Add(seed, httpx.FormContentType)
	}
	f.Add("name=Ada", "application/json")
	dec := httpx.DecodeFormRequest(parseSignup)
	f.Fuzz(func(t *testing.T, body, contentType string) {
		_, err := dec(context.Background(), postRequest(body, contentType))
		if err != nil {
			requireClientError(t, err, body)
		}
	})
}

// FuzzDecodeMultipartRequest checks the multipart form decoder with
// arbitrary bodies and boundaries.
func FuzzDecodeMultipartRequest(f *testing.F) {
	const ok = "--b\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhi\r\n" +
		"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\ndata\r\n--b--\r\n"
	f.Add(ok, "multipart/form-data; boundary=b")
	f.Add(ok[:40], "multipart/form-data; boundary=b")
	f.Add(ok, "multipart/form-data; boundary=c")
	f.Add(ok, "multipart/form-data")
	f.Add(ok, "multipart/form-data; boundary=\"b")
	f.Add("--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", "multipart/form-data; boundary=b")
	f.Add("a=b", httpx.FormContentType)
	dec := httpx.DecodeMultipartRequest(1<<20, parseUpload)
	f.Fuzz(func(t *testing.T, body, contentType string) {
		r := postRequest(body, contentType)
		_, err := dec(context.Background(), r)
		if r.MultipartForm != nil {
			_ = r.MultipartForm.RemoveAll()
		}
		if err != nil {
			requireClientError(t, err, body)
		}
	})
}

var fuzzOffers = []string{httpx.JSONContentType, httpx.XMLContentType, "text/csv"}

// FuzzNegotiateContentType checks that negotiation never panics and picks
// one of the offers or answers 406, and that a header naming an offer
// alone picks it.
func FuzzNegotiateContentType(f *testing.F) {
	for _, seed := range []string{
		"", "*/*", "application/*", "application/xml;q=0.9, */*;q=0.8", "text/html", "application/json;q=0",
		"a/b;q=1.0000", "*/json", ";;;", ",,,", "application/xml;q=.5", "TEXT/CSV;Q=1", "application/json; q = 0.5",
	} {
		f.Add(seed)
	}
	h := negotiatingServer(fuzzOffers)
	negotiate := func(accept string) (int, string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept", accept)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	f.Fuzz(func(t *testing.T, accept string) {
		status, got := negotiate(accept)
		if status != http.StatusOK {
			if status != http.StatusNotAcceptable {
				t.Fatalf("status %d for %q: %s", status, accept, got)
			}
			return
		}
		if !slices.Contains(fuzzOffers, got) {
			t.Fatalf("%q for %q is not an offer", got, accept)
		}
		for _, offer := range fuzzOffers {
			if status, got := negotiate(offer); status != http.StatusOK || got != offer {
				t.Fatalf("Accept %q: got %d %q", offer, status, got)
			}
		}
	})
}
