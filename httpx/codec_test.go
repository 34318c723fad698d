package httpx_test

import (
	"context"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/httpx"
)

// item is a request and response type with both JSON and XML tags.
type item struct {
	XMLName xml.Name `json:"-" xml:"item"`
	ID      int      `json:"id" xml:"id"`
	Name    string   `json:"name" xml:"name"`
}

func echoItem(_ context.Context, it item) (item, error) {
	if it.Name == "" {
		it.Name = "none"
	}
	return it, nil
}

// jsonOrXMLDecoder and jsonOrXMLEncoder read and answer an item as JSON or
// XML, by the request's Content-Type and Accept header.
var (
	jsonOrXMLDecoder = httpx.DecodeByContentType(httpx.JSONDecoder[item](), httpx.XMLDecoder[item]())
	jsonOrXMLEncoder = httpx.NegotiateResponse(httpx.JSONEncoder[item](), httpx.XMLEncoder[item]())
)

// point is encoded by pointCodec as eight bytes: X and Y, big-endian.
type point struct{ X, Y int32 }

const pointContentType = "application/x-point"

var pointCodec = httpx.RawCodec[point]{
	ContentType: pointContentType,
	Marshal: func(p point) ([]byte, error) {
		b := binary.BigEndian.AppendUint32(nil, uint32(p.X))
		return binary.BigEndian.AppendUint32(b, uint32(p.Y)), nil
	},
	Unmarshal: func(b []byte, p *point) error {
		if len(b) != 8 {
			return fmt.Errorf("want 8 bytes, got %d", len(b))
		}
		p.X, p.Y = int32(binary.BigEndian.Uint32(b)), int32(binary.BigEndian.Uint32(b[4:]))
		return nil
	},
}

// response is what a test request got back.
type response struct {
	status      int
	contentType string
	vary        string
	body        string
}

func do(t *testing.T, method, url string, header http.Header, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Vary"), string(b)}
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestNegotiateJSONOrXML(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, httpx.NewServer(kit.Endpoint[item, item](echoItem),
		jsonOrXMLDecoder, jsonOrXMLEncoder, quietErrors()))

	const (
		jsonBody = `{"id":7,"name":"seven"}`
		xmlBody  = `<item><id>7</id><name>seven</name></item>`
		jsonOut  = `{"id":7,"name":"seven"}` + "\n"
		xmlOut   = `<item><id>7</id><name>seven</name></item>`
	)
	tests := []struct {
		name        string
		contentType string
		body        string
		accept      []string
		status      int
		wantType    string
		wantBody    string
	}{
		{"json in, no accept", "application/json", jsonBody, nil, 200, httpx.JSONContentType, jsonOut},
		{"xml in, no accept: JSON is the default", "application/xml", xmlBody, nil, 200, httpx.JSONContentType, jsonOut},
		{"text/xml in", "text/xml; charset=utf-8", xmlBody, nil, 200, httpx.JSONContentType, jsonOut},
		{"accept xml", "application/json", jsonBody, []string{"application/xml"}, 200, httpx.XMLContentType, xmlOut},
		{"accept json", "application/xml", xmlBody, []string{"application/json"}, 200, httpx.JSONContentType, jsonOut},
		{"accept any", "application/json", jsonBody, []string{"*/*"}, 200, httpx.JSONContentType, jsonOut},
		{"accept application/*", "application/json", jsonBody, []string{"application/*"}, 200, httpx.JSONContentType, jsonOut},
		{"named type beats */* at equal q", "application/json", jsonBody, []string{"application/xml, */*"}, 200, httpx.XMLContentType, xmlOut},
		{"higher q wins", "application/json", jsonBody, []string{"application/json;q=0.5, application/xml;q=0.9"}, 200, httpx.XMLContentType, xmlOut},
		{"q with spaces and case", "application/json", jsonBody, []string{"application/json ; Q=0.1 , application/xml ; q=0.2"}, 200, httpx.XMLContentType, xmlOut},
		{"q=0 excludes json", "application/json", jsonBody, []string{"application/json;q=0, */*;q=0.1"}, 200, httpx.XMLContentType, xmlOut},
		{"browser header", "application/json", jsonBody, []string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, 200, httpx.XMLContentType, xmlOut},
		{"two header lines", "application/json", jsonBody, []string{"text/html", "application/xml;q=0.5"}, 200, httpx.XMLContentType, xmlOut},
		{"params other than q ignored", "application/json", jsonBody, []string{"application/json; charset=utf-8"}, 200, httpx.JSONContentType, jsonOut},
		{"unparseable header is no preference", "application/json", jsonBody, []string{"nonsense"}, 200, httpx.JSONContentType, jsonOut},
		{"bad q ignores the range", "application/json", jsonBody, []string{"application/xml;q=2, application/json;q=0.3"}, 200, httpx.JSONContentType, jsonOut},
		{"not acceptable", "application/json", jsonBody, []string{"text/html"}, 406, httpx.ProblemContentType,
			`not acceptable: Accept "text/html" matches none of application/json, application/xml`},
		{"all excluded", "application/json", jsonBody, []string{"application/json;q=0, application/xml;q=0.000"}, 406, httpx.ProblemContentType,
			`not acceptable: Accept "application/json;q=0, application/xml;q=0.000" matches none of application/json, application/xml`},
		{"wrong content type", "text/plain", "7", nil, 415, httpx.ProblemContentType,
			`unsupported Content-Type "text/plain": want application/json or application/xml`},
		{"empty body needs no content type", "", "", []string{"application/xml"}, 200, httpx.XMLContentType, `<item><id>0</id><name>none</name></item>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := hdr("Content-Type", tt.contentType)
			if tt.contentType == "" {
				h = http.Header{}
			}
			for _, a := range tt.accept {
				h.Add("Accept", a)
			}
			got := do(t, http.MethodPost, srv.URL, h, tt.body)
			assert.Equal(t, tt.status, got.status, "body: %s", got.body)
			assert.Equal(t, tt.wantType, got.contentType)
			if tt.status == 200 {
				assert.Equal(t, tt.wantBody, got.body)
				assert.Equal(t, "Accept", got.vary)
				return
			}
			p := decodeProblem(t, []byte(got.body))
			assert.Equal(t, "invalid_argument", p.Code)
			assert.Equal(t, tt.wantBody, p.Detail)
		})
	}
}

func quietErrors() httpx.ServerOption {
	return httpx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) {}))
}

func TestNegotiateResponseWithRawCodec(t *testing.T) {
	t.Parallel()
	ep := func(_ context.Context, p point) (point, error) { return point{X: p.Y, Y: p.X}, nil }
	enc := httpx.NegotiateResponse(httpx.JSONEncoder[point](), httpx.XMLEncoder[point](), pointCodec.Encoder())
	dec := httpx.DecodeByContentType(httpx.JSONDecoder[point](), pointCodec.Decoder())
	srv := newTestServer(t, httpx.NewServer(ep, dec, enc, quietErrors()))

	raw := string([]byte{0, 0, 0, 1, 0, 0, 0, 2})
	tests := []struct {
		name        string
		contentType string
		body        string
		accept      string
		status      int
		wantType    string
		wantBody    string
	}{
		{"json to json", "application/json", `{"X":1,"Y":2}`, "", 200, httpx.JSONContentType, `{"X":2,"Y":1}` + "\n"},
		{"raw to raw", pointContentType, raw, pointContentType, 200, pointContentType, string([]byte{0, 0, 0, 2, 0, 0, 0, 1})},
		{"raw to xml", pointContentType, raw, "application/xml", 200, httpx.XMLContentType, `<point><X>2</X><Y>1</Y></point>`},
		{"raw with parameters", pointContentType + "; v=1", raw, "application/json", 200, httpx.JSONContentType, `{"X":2,"Y":1}` + "\n"},
		{"xml is not read", "application/xml", `<point/>`, "", 415, httpx.ProblemContentType,
			`unsupported Content-Type "application/xml": want application/json or application/x-point`},
		{"short raw body", pointContentType, "abc", "", 400, httpx.ProblemContentType,
			"malformed application/x-point body"},
		{"406 names every offer", "application/json", `{}`, "text/csv", 406, httpx.ProblemContentType,
			`not acceptable: Accept "text/csv" matches none of application/json, application/xml, application/x-point`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := hdr("Content-Type", tt.contentType)
			if tt.accept != "" {
				h.Set("Accept", tt.accept)
			}
			got := do(t, http.MethodPost, srv.URL, h, tt.body)
			require.Equal(t, tt.status, got.status, "body: %s", got.body)
			assert.Equal(t, tt.wantType, got.contentType)
			if tt.status == 200 {
				assert.Equal(t, tt.wantBody, got.body)
				return
			}
			assert.Equal(t, tt.wantBody, decodeProblem(t, []byte(got.body)).Detail)
		})
	}
}

func TestRequireAcceptableAnswersBeforeTheEndpoint(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	ep := func(ctx context.Context, it item) (item, error) {
		calls.Add(1)
		return echoItem(ctx, it)
	}
	dec := httpx.RequireAcceptable(jsonOrXMLDecoder, httpx.JSONContentType, httpx.XMLContentType)
	srv := newTestServer(t, httpx.NewServer(ep, dec, jsonOrXMLEncoder, quietErrors()))

	got := do(t, http.MethodPost, srv.URL, hdr("Content-Type", "application/json", "Accept", "image/png"), `{"id":1}`)
	assert.Equal(t, 406, got.status)
	assert.Zero(t, calls.Load())

	got = do(t, http.MethodPost, srv.URL, hdr("Content-Type", "application/json", "Accept", "text/xml;q=0.1, application/*;q=0.2"), `{"id":1}`)
	assert.Equal(t, 200, got.status)
	assert.Equal(t, httpx.JSONContentType, got.contentType)
	assert.Equal(t, int32(1), calls.Load())
}

type xmlRequest struct {
	XMLName xml.Name `xml:"req"`
	A       int      `xml:"a"`
	B       string   `xml:"b,attr"`
	Ok      bool     `xml:"ok"`
}

func TestXMLBadInput(t *testing.T) {
	t.Parallel()
	ep := func(_ context.Context, r xmlRequest) (xmlRequest, error) { return r, nil }
	srv := newTestServer(t, httpx.NewServer(ep, httpx.DecodeXMLRequest, httpx.EncodeXMLResponse,
		httpx.ServerMaxBodyBytes(64), quietErrors()))

	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		code        kit.Code
		detail      string
	}{
		{"ok", "application/xml", `<req b="x"><a>2</a></req>`, 200, kit.OK, ""},
		{"ok +xml with charset", "application/vnd.sum+xml; charset=utf-8", `<?xml version="1.0"?><req><a>1</a></req>`, 200, kit.OK, ""},
		{"ok with trailing comment", "text/xml", `<req/><!-- end -->` + "\n", 200, kit.OK, ""},
		{"empty body is zero request", "", ``, 200, kit.OK, ""},
		{"too large", "application/xml", `<req><a>1</a>` + strings.Repeat(" ", 64) + `</req>`, 413, kit.ResourceExhausted, "request body exceeds 64 bytes"},
		{"wrong content type", "application/json", `<req/>`, 415, kit.InvalidArgument, `unsupported Content-Type "application/json": want application/xml`},
		{"missing content type", "", `<req/>`, 415, kit.InvalidArgument, "missing Content-Type: want application/xml"},
		{"unclosed element", "application/xml", `<req><a>1</a>`, 400, kit.InvalidArgument, "malformed XML on line 1: unexpected EOF"},
		{"mismatched tags", "application/xml", "<req>\n<a>1</b></req>", 400, kit.InvalidArgument, "malformed XML on line 2: element <a> closed by </b>"},
		{"wrong type", "application/xml", `<req><a>one</a></req>`, 400, kit.InvalidArgument, `invalid XML value "one": not an integer`},
		{"out of range", "application/xml", `<req><a>99999999999999999999</a></req>`, 400, kit.InvalidArgument, `invalid XML value "99999999999999999999": out of range`},
		{"wrong bool", "application/xml", `<req><ok>maybe</ok></req>`, 400, kit.InvalidArgument, `invalid XML value "maybe": not a boolean`},
		{"wrong root", "application/xml", `<other/>`, 400, kit.InvalidArgument, "invalid XML: expected element type <req> but have <other>"},
		{"second root", "application/xml", `<req/><req/>`, 400, kit.InvalidArgument, "malformed XML: unexpected data after the root element"},
		{"text after root", "application/xml", `<req/> x`, 400, kit.InvalidArgument, "malformed XML: unexpected data after the root element"},
		{"no root element", "application/xml", `<!-- nothing -->`, 400, kit.InvalidArgument, "malformed XML: no root element"},
		{"foreign charset", "application/xml", `<?xml version="1.0" encoding="latin1"?><req/>`, 400, kit.InvalidArgument,
			`invalid XML: encoding "latin1" declared but Decoder.CharsetReader is nil`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tt.contentType != "" {
				h.Set("Content-Type", tt.contentType)
			}
			got := do(t, http.MethodPost, srv.URL, h, tt.body)
			assert.Equal(t, tt.status, got.status, "body: %s", got.body)
			if tt.code == kit.OK {
				assert.Equal(t, httpx.XMLContentType, got.contentType)
				assert.True(t, strings.HasPrefix(got.body, "<req"), got.body)
				return
			}
			p := decodeProblem(t, []byte(got.body))
			assert.Equal(t, tt.code.String(), p.Code)
			assert.Equal(t, tt.detail, p.Detail)
		})
	}
}

func TestRawCodecBadInput(t *testing.T) {
	t.Parallel()
	ep := func(_ context.Context, p point) (point, error) { return p, nil }
	srv := newTestServer(t, httpx.NewServer(ep, pointCodec.DecodeRequest, pointCodec.EncodeResponse,
		httpx.ServerMaxBodyBytes(16), quietErrors()))
	kitErr := pointCodec
	kitErr.Unmarshal = func([]byte, *point) error {
		return kit.InvalidArgumentError("bad point", kit.FieldViolation{Field: "x", Description: "must be even"})
	}
	srvKit := newTestServer(t, httpx.NewServer(ep, kitErr.DecodeRequest, pointCodec.EncodeResponse, quietErrors()))

	tests := []struct {
		name        string
		url         string
		contentType string
		body        string
		status      int
		detail      string
	}{
		{"ok", srv.URL, pointContentType, "12345678", 200, ""},
		{"empty body is zero", srv.URL, "", "", 200, ""},
		{"too large", srv.URL, pointContentType, strings.Repeat("x", 17), 413, "request body exceeds 16 bytes"},
		{"at the limit is read", srv.URL, pointContentType, strings.Repeat("x", 16), 400, "malformed application/x-point body"},
		{"wrong content type", srv.URL, "application/json", "12345678", 415, `unsupported Content-Type "application/json": want application/x-point`},
		{"missing content type", srv.URL, "", "12345678", 415, "missing Content-Type: want application/x-point"},
		{"unmarshal error", srv.URL, pointContentType, "123", 400, "malformed application/x-point body"},
		{"kit error kept", srvKit.URL, pointContentType, "123", 400, "bad point"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tt.contentType != "" {
				h.Set("Content-Type", tt.contentType)
			}
			got := do(t, http.MethodPost, tt.url, h, tt.body)
			assert.Equal(t, tt.status, got.status, "body: %s", got.body)
			if tt.status == 200 {
				assert.Equal(t, pointContentType, got.contentType)
				return
			}
			assert.Equal(t, tt.detail, decodeProblem(t, []byte(got.body)).Detail)
		})
	}
}

func TestClientCodecs(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.Handle("POST /item", httpx.NewServer(kit.Endpoint[item, item](echoItem),
		jsonOrXMLDecoder, jsonOrXMLEncoder))
	mux.Handle("POST /point", httpx.NewServer(func(_ context.Context, p point) (point, error) { return point{X: p.X + 1, Y: p.Y + 1}, nil },
		pointCodec.DecodeRequest, pointCodec.EncodeResponse))
	srv := newTestServer(t, mux)
	ctx := context.Background()

	t.Run("xml both ways", func(t *testing.T) {
		t.Parallel()
		ep := httpx.NewClient(http.MethodPost, mustURL(t, srv.URL+"/item"), httpx.EncodeXMLRequest[item], httpx.DecodeXMLResponse[item],
			httpx.ClientBefore(httpx.SetRequestHeader("Accept", httpx.XMLContentType)),
			httpx.ClientAfter(func(ctx context.Context, r *http.Response) context.Context {
				assert.Equal(t, httpx.XMLContentType, r.Header.Get("Content-Type"))
				return ctx
			})).Endpoint()
		got, err := ep(ctx, item{ID: 3, Name: "three"})
		require.NoError(t, err)
		assert.Equal(t, item{XMLName: xml.Name{Local: "item"}, ID: 3, Name: "three"}, got)
	})
	t.Run("xml request, json response", func(t *testing.T) {
		t.Parallel()
		ep := httpx.NewClient(http.MethodPost, mustURL(t, srv.URL+"/item"), httpx.EncodeXMLRequest[item], httpx.DecodeJSONResponse[item]).Endpoint()
		got, err := ep(ctx, item{ID: 4})
		require.NoError(t, err)
		assert.Equal(t, item{ID: 4, Name: "none"}, got)
	})
	t.Run("xml response decoder", func(t *testing.T) {
		t.Parallel()
		ep := httpx.NewClient(http.MethodPost, mustURL(t, srv.URL+"/item"), httpx.EncodeJSONRequest[item], httpx.DecodeXMLResponse[item],
			httpx.ClientBefore(httpx.SetRequestHeader("Accept", "application/xml"))).Endpoint()
		got, err := ep(ctx, item{ID: 5, Name: "five"})
		require.NoError(t, err)
		assert.Equal(t, 5, got.ID)
	})
	t.Run("raw codec", func(t *testing.T) {
		t.Parallel()
		ep := httpx.NewClient(http.MethodPost, mustURL(t, srv.URL+"/point"), pointCodec.EncodeRequest, pointCodec.DecodeResponse).Endpoint()
		got, err := ep(ctx, point{X: 1, Y: -5})
		require.NoError(t, err)
		assert.Equal(t, point{X: 2, Y: -4}, got)
	})
	t.Run("406 arrives as a kit error", func(t *testing.T) {
		t.Parallel()
		ep := httpx.NewClient(http.MethodPost, mustURL(t, srv.URL+"/item"), httpx.EncodeJSONRequest[item], httpx.DecodeJSONResponse[item],
			httpx.ClientBefore(httpx.SetRequestHeader("Accept", "text/html"))).Endpoint()
		_, err := ep(ctx, item{ID: 6})
		assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err))
		assert.Contains(t, kit.MessageOf(err), "not acceptable")
	})
}

// TestNegotiateContentType negotiates in an encoder of its own, on a real
// server, through the ResponseWriter the server gives it.
func TestNegotiateContentType(t *testing.T) {
	t.Parallel()
	offers := []string{"application/json", "application/xml", "text/csv"}
	srv := newTestServer(t, negotiatingServer(offers))
	tests := []struct {
		accept []string
		want   string
	}{
		{nil, "application/json"},
		{[]string{""}, "application/json"},
		{[]string{"text/*"}, "text/csv"},
		{[]string{"TEXT/CSV"}, "text/csv"},
		{[]string{"text/csv;q=0.999, application/xml;q=1.000"}, "application/xml"},
		{[]string{"*/*;q=0.1, text/*;q=0.5, application/json;q=0.4"}, "text/csv"},
		{[]string{"*/json"}, "application/json"}, // not a media range: no preference
		{[]string{"application/xml;q=0.5;level=1"}, "application/xml"},
		{[]string{"application/xml;q=1.5"}, "application/json"}, // bad q: no preference
		{[]string{"text/csv;q=0.5", "application/xml;q=0.7"}, "application/xml"},
		{[]string{"image/png"}, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.accept, "|"), func(t *testing.T) {
			t.Parallel()
			got := do(t, http.MethodGet, srv.URL, http.Header{"Accept": tt.accept}, "")
			if tt.want == "" {
				assert.Equal(t, http.StatusNotAcceptable, got.status)
				assert.Equal(t, httpx.ProblemContentType, got.contentType)
				return
			}
			require.Equal(t, http.StatusOK, got.status, got.body)
			assert.Equal(t, tt.want, got.body)
		})
	}
}

// negotiatingServer answers each request with the offer its Accept header
// prefers, chosen by an encoder with NegotiateContentType.
func negotiatingServer(offers []string) http.Handler {
	return httpx.NewServer(kit.Endpoint[struct{}, struct{}](func(context.Context, struct{}) (struct{}, error) { return struct{}{}, nil }),
		func(context.Context, *http.Request) (struct{}, error) { return struct{}{}, nil },
		func(_ context.Context, w http.ResponseWriter, _ struct{}) error {
			ct, err := httpx.NegotiateContentType(w, offers...)
			if err != nil {
				return err
			}
			w.Header().Set("Content-Type", "text/plain")
			_, err = io.WriteString(w, ct)
			return err
		}, quietErrors())
}
