package httpx_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/httpx"
)

type signup struct {
	Name string
	Age  int
	Tags []string
}

func parseSignup(vs url.Values) (signup, error) {
	s := signup{Name: vs.Get("name"), Tags: vs["tag"]}
	if a := vs.Get("age"); a != "" {
		n, err := strconv.ParseInt(a, 10, 32)
		if err != nil {
			desc := strconv.Quote(a) + " is not an integer of 32 bits"
			return s, kit.InvalidArgumentError("invalid parameter age: "+desc, kit.FieldViolation{Field: "age", Description: desc})
		}
		s.Age = int(n)
	}
	if s.Name == "error" {
		return s, errors.New("name must not be error")
	}
	return s, nil
}

func TestFormRequest(t *testing.T) {
	t.Parallel()
	ep := func(_ context.Context, s signup) (signup, error) { return s, nil }
	srv := newTestServer(t, quietServer(ep, httpx.DecodeFormRequest(parseSignup), httpx.ServerMaxBodyBytes(64)))

	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		want        string
	}{
		{"ok", httpx.FormContentType, "name=Ada&age=36&tag=a&tag=b", 200, `{"Name":"Ada","Age":36,"Tags":["a","b"]}`},
		{"ok with charset", httpx.FormContentType + "; charset=utf-8", "name=Ada+L%C3%B6", 200, `{"Name":"Ada Lö","Age":0,"Tags":null}`},
		{"empty body is empty form", "", "", 200, `{"Name":"","Age":0,"Tags":null}`},
		{"too large", httpx.FormContentType, "name=" + strings.Repeat("x", 64), 413, "request body exceeds 64 bytes"},
		{"wrong content type", "application/json", `{"name":"Ada"}`, 415, `unsupported Content-Type "application/json": want application/x-www-form-urlencoded`},
		{"missing content type", "", "name=Ada", 415, "missing Content-Type: want application/x-www-form-urlencoded"},
		{"bad escape", httpx.FormContentType, "name=%zz", 400, `malformed form body: invalid URL escape "%zz"`},
		{"semicolon", httpx.FormContentType, "name=a;age=1", 400, "malformed form body: invalid semicolon separator in query"},
		{"parse kit error", httpx.FormContentType, "age=old", 400, `invalid parameter age: "old" is not an integer of 32 bits`},
		{"parse plain error", httpx.FormContentType, "name=error", 400, "invalid argument"},
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
			if tt.status == 200 {
				assert.JSONEq(t, tt.want, got.body)
				return
			}
			p := decodeProblem(t, []byte(got.body))
			assert.Equal(t, tt.want, p.Detail)
			if tt.name == "parse kit error" {
				assert.Equal(t, []kit.FieldViolation{{Field: "age", Description: `"old" is not an integer of 32 bits`}}, p.Violations)
			}
		})
	}
}

func TestEncodeFormRequest(t *testing.T) {
	t.Parallel()
	ep := func(_ context.Context, s signup) (signup, error) { s.Age++; return s, nil }
	srv := newTestServer(t, quietServer(ep, httpx.DecodeFormRequest(parseSignup)))
	client := httpx.NewClient(http.MethodPost, mustURL(t, srv.URL),
		httpx.EncodeFormRequest(func(s signup) url.Values {
			return url.Values{"name": {s.Name}, "age": {strconv.Itoa(s.Age)}, "tag": s.Tags}
		}),
		httpx.DecodeJSONResponse[signup]).Endpoint()
	got, err := client(context.Background(), signup{Name: "Ada & Co", Age: 1, Tags: []string{"x=y"}})
	require.NoError(t, err)
	assert.Equal(t, signup{Name: "Ada & Co", Age: 2, Tags: []string{"x=y"}}, got)
}

type upload struct {
	Title string
	File  string
	Size  int64
	Body  string
}

func parseUpload(f *multipart.Form) (upload, error) {
	u := upload{}
	if v := f.Value["title"]; len(v) > 0 {
		u.Title = v[0]
	}
	fhs := f.File["file"]
	if len(fhs) == 0 {
		return u, kit.InvalidArgumentError("file is required", kit.FieldViolation{Field: "file", Description: "is required"})
	}
	u.File, u.Size = fhs[0].Filename, fhs[0].Size
	return u, nil
}

// multipartBody returns a multipart body with a title and a file, and its
// Content-Type.
func multipartBody(t *testing.T, title, file string) (string, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	require.NoError(t, mw.WriteField("title", title))
	if file != "" {
		fw, err := mw.CreateFormFile("file", "notes.txt")
		require.NoError(t, err)
		_, err = fw.Write([]byte(file))
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return b.String(), mw.FormDataContentType()
}

func TestMultipartRequest(t *testing.T) {
	t.Parallel()
	// The endpoint reads the file, which stays available until it returns,
	// even when it went to a temporary file (maxMemory 1).
	ep := func(_ context.Context, u upload) (upload, error) { return u, nil }
	dec := func(max int64) httpx.DecodeRequestFunc[upload] {
		return httpx.DecodeMultipartRequest(max, func(f *multipart.Form) (upload, error) {
			u, err := parseUpload(f)
			if err != nil {
				return u, err
			}
			rc, err := f.File["file"][0].Open()
			if err != nil {
				return u, err
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			u.Body = string(b)
			return u, err
		})
	}
	srv := newTestServer(t, quietServer(ep, dec(0), httpx.ServerMaxBodyBytes(1024)))
	onDisk := newTestServer(t, quietServer(ep, dec(1)))

	okBody, okType := multipartBody(t, "hello", "file contents")
	noFile, noFileType := multipartBody(t, "hello", "")
	bigBody, bigType := multipartBody(t, "big", strings.Repeat("x", 2000))
	var many bytes.Buffer
	mw := multipart.NewWriter(&many)
	for i := range 1001 {
		require.NoError(t, mw.WriteField("f"+strconv.Itoa(i), "v"))
	}
	require.NoError(t, mw.Close())
	tests := []struct {
		name        string
		url         string
		contentType string
		body        string
		status      int
		want        string
	}{
		{"ok", srv.URL, okType, okBody, 200, `{"Title":"hello","File":"notes.txt","Size":13,"Body":"file contents"}`},
		{"file on disk", onDisk.URL, bigType, bigBody, 200, `{"Title":"big","File":"notes.txt","Size":2000,"Body":"` + strings.Repeat("x", 2000) + `"}`},
		{"too large", srv.URL, bigType, bigBody, 413, "request body exceeds 1024 bytes"},
		{"too many parts", onDisk.URL, mw.FormDataContentType(), many.String(), 413, "multipart form too large: too many parts, headers or bytes of values"},
		{"wrong content type", srv.URL, httpx.FormContentType, "a=b", 415, `unsupported Content-Type "application/x-www-form-urlencoded": want multipart/form-data`},
		{"no boundary", srv.URL, "multipart/form-data", okBody, 400, "malformed multipart body: no boundary in the Content-Type"},
		{"bad content type", srv.URL, "multipart/form-data; boundary", okBody, 400, "malformed Content-Type: mime: invalid media parameter"},
		{"wrong boundary", srv.URL, "multipart/form-data; boundary=nope", okBody, 400, "malformed multipart body: no part delimited by the boundary"},
		{"truncated", srv.URL, okType, okBody[:len(okBody)-20], 400, "malformed multipart body: unexpected end of input"},
		{"parse error", srv.URL, noFileType, noFile, 400, "file is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := do(t, http.MethodPost, tt.url, hdr("Content-Type", tt.contentType), tt.body)
			assert.Equal(t, tt.status, got.status, "body: %s", got.body)
			if tt.status == 200 {
				assert.JSONEq(t, tt.want, got.body)
				return
			}
			assert.Equal(t, tt.want, decodeProblem(t, []byte(got.body)).Detail)
		})
	}
}
