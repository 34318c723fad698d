package codegen

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openAPIOf generates the OpenAPI document of the interface S declared by
// decls (after package and imports) and returns it decoded.
func openAPIOf(t *testing.T, decls string, o OpenAPIOptions) map[string]any {
	t.Helper()
	doc, err := openAPIDoc(t, decls, o)
	require.NoError(t, err)
	return doc
}

func openAPIDoc(t *testing.T, decls string, o OpenAPIOptions) (map[string]any, error) {
	t.Helper()
	dir, err := filepath.Abs("testdata/bad")
	require.NoError(t, err)
	src := `package bad

import (
	"context"
	"encoding/json"
	"math/big"
	"net/netip"
	"time"
)

var (
	_ context.Context
	_ json.RawMessage
	_ big.Int
	_ netip.Addr
	_ time.Time
)

` + decls + "\n"
	svc, err := load(dir, "S", map[string][]byte{filepath.Join(dir, "service.go"): []byte(src)})
	if err != nil {
		return nil, err
	}
	out, err := renderOpenAPI(svc, o)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	require.NoError(t, json.Unmarshal(out, &doc))
	return doc, nil
}

// at walks a decoded JSON document along a path of keys and indexes.
func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			require.True(t, ok, "at %q: not an object: %v", k, v)
			v, ok = m[k]
			require.True(t, ok, "no key %q in %v", k, m)
		case int:
			a, ok := v.([]any)
			require.True(t, ok, "at %d: not an array: %v", k, v)
			require.Less(t, k, len(a))
			v = a[k]
		}
	}
	return v
}

// js decodes a JSON literal, for comparing with parts of a document.
func js(t *testing.T, s string) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(s), &v), s)
	return v
}

func TestOpenAPIFieldSchemas(t *testing.T) {
	t.Parallel()
	doc := openAPIOf(t, `
// Color is an enum whose constants are declared out of value order.
type Color int8

const (
	ColorBlue  Color = 3
	ColorRed   Color = 1
	ColorCrimson Color = 1
	ColorGreen Color = 2
)

// Raw has its own JSON encoding, through a pointer receiver.
type Raw struct{ hidden int }

func (r *Raw) MarshalJSON() ([]byte, error) { return []byte("42"), nil }

// Text is a TextMarshaler.
type Text struct{ a, b int }

func (t Text) MarshalText() ([]byte, error) { return nil, nil }

type Base struct {
	ID    string `+"`json:\"id\"`"+`
	Shadowed int
	Tagged   int `+"`json:\"tagged\"`"+`
}

type Other struct {
	Conflict int
	Tagged   string
}

type Again struct{ Conflict int }

type T struct {
	Base
	*Other
	Again
	Shadowed string
	I8  int8
	I16 int16
	I32 int32
	I64 int64
	U   uint
	U8  uint8
	U16 uint16
	U32 uint32
	F32 float32
	Dur time.Duration
	Raw json.RawMessage
	Own Raw
	Text Text
	Addr netip.Addr
	Prefix *netip.Prefix
	Big *big.Int
	Color Color
	Quoted int64 `+"`json:\"quoted,string\"`"+`
	Flag   bool  `+"`json:\",string\"`"+`
	ByInt map[int16]string
	ByText map[netip.Addr]int
	Opt  *int `+"`json:\"opt\"`"+`
	Omit int `+"`json:\"omit,omitempty\"`"+`
	Skip int `+"`json:\"-\"`"+`
	Dash int `+"`json:\"-,\"`"+`
}

type S interface {
	M(ctx context.Context, t T) (T, error)
}`, OpenAPIOptions{})
	props := at(t, doc, "components", "schemas", "T", "properties").(map[string]any)
	tests := []struct {
		field, want string
	}{
		{"I8", `{"type":"integer","minimum":-128,"maximum":127}`},
		{"I16", `{"type":"integer","minimum":-32768,"maximum":32767}`},
		{"I32", `{"type":"integer","format":"int32","minimum":-2147483648,"maximum":2147483647}`},
		{"I64", `{"type":"integer","format":"int64","minimum":-9223372036854775808,"maximum":9223372036854775807}`},
		{"U", `{"type":"integer","minimum":0,"maximum":18446744073709551615}`},
		{"U8", `{"type":"integer","minimum":0,"maximum":255}`},
		{"U16", `{"type":"integer","minimum":0,"maximum":65535}`},
		{"U32", `{"type":"integer","minimum":0,"maximum":4294967295}`},
		{"F32", `{"type":"number","format":"float","minimum":-3.4028234663852886e+38,"maximum":3.4028234663852886e+38}`},
		{"Dur", `{"type":"integer","format":"int64","minimum":-9223372036854775808,"maximum":9223372036854775807,"description":"A duration in nanoseconds."}`},
		{"Raw", `{"description":"Any JSON value: RawMessage has its own JSON encoding."}`},
		{"Own", `{"description":"Any JSON value: Raw has its own JSON encoding."}`},
		{"Text", `{"type":"string"}`},
		{"Addr", `{"type":"string"}`},
		{"Prefix", `{"type":["string","null"]}`},
		{"Big", `{"description":"Any JSON value: Int has its own JSON encoding."}`},
		{"Color", `{"type":"integer","minimum":-128,"maximum":127,"examples":[1,2,3],
			"description":"Color: ColorCrimson = 1, ColorRed = 1, ColorGreen = 2, ColorBlue = 3. Other values are accepted and kept."}`},
		{"quoted", `{"type":"string","pattern":"^(0|-?[1-9][0-9]*)$"}`},
		{"Flag", `{"type":"string","enum":["true","false"]}`},
		{"ByInt", `{"type":["object","null"],"additionalProperties":{"type":"string"},"propertyNames":{"pattern":"^(0|-?[1-9][0-9]*)$"}}`},
		{"ByText", `{"type":["object","null"],"additionalProperties":{"type":"integer","format":"int64","minimum":-9223372036854775808,"maximum":9223372036854775807}}`},
		{"opt", `{"type":["integer","null"],"format":"int64","minimum":-9223372036854775808,"maximum":9223372036854775807}`},
		{"-", `{"type":"integer","format":"int64","minimum":-9223372036854775808,"maximum":9223372036854775807}`},
		// encoding/json's rules for embedded structs: promoted fields,
		// the shallower Shadowed wins, the tagged "tagged" wins over
		// Other's untagged Tagged (a different name: both are kept), and
		// the two Conflict fields at the same depth hide each other.
		{"id", `{"type":"string"}`},
		{"Shadowed", `{"type":"string"}`},
		{"tagged", `{"type":"integer","format":"int64","minimum":-9223372036854775808,"maximum":9223372036854775807}`},
		{"Tagged", `{"type":"string"}`},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			assert.Equal(t, js(t, tt.want), props[tt.field])
		})
	}
	for _, absent := range []string{"Conflict", "Skip", "Base", "Other", "Again", "hidden"} {
		assert.NotContains(t, props, absent)
	}
	assert.Len(t, props, len(tests)+1, "omit is the one more")
	assert.Equal(t, js(t, `["id","tagged","Shadowed","I8","I16","I32","I64","U","U8","U16","U32","F32","Dur","Raw","Own","Text","Addr","Color","quoted","Flag","ByInt","ByText","-"]`),
		at(t, doc, "components", "schemas", "T", "required"),
		"required: not pointers, not omitempty, not promoted through an embedded pointer (Other.Tagged); in field order")
}

func TestOpenAPIBodies(t *testing.T) {
	t.Parallel()
	doc := openAPIOf(t, `
type UpdateRequest struct {
	ID    string `+"`json:\"id\"`"+`
	Name  string `+"`json:\"name\"`"+`
}

type Item struct{ Name string }

type S interface {
	//kit:http PUT /items/{id}
	Update(ctx context.Context, req UpdateRequest) (Item, error)
	//kit:http POST /items/{group}/{n}
	Add(ctx context.Context, group string, n int32, item Item) (Item, error)
	//kit:http POST /items
	Create(ctx context.Context, req UpdateRequest) (Item, error)
	//kit:http GET /items/{id}
	Get(ctx context.Context, id string) (Item, error)
}`, OpenAPIOptions{})
	paths := at(t, doc, "paths")

	put := at(t, paths, "/items/{id}", "put", "requestBody").(map[string]any)
	assert.Equal(t, false, put["required"], "an empty body is the zero request")
	assert.Equal(t, js(t, `{"$ref":"#/components/schemas/UpdateRequestBody"}`), at(t, put, "content", "application/json", "schema"))
	body := at(t, doc, "components", "schemas", "UpdateRequestBody")
	assert.Equal(t, js(t, `{"name":{"type":"string"}}`), at(t, body, "properties"), "the path's id is not in the body")
	assert.Equal(t, js(t, `["name"]`), at(t, body, "required"))
	assert.Equal(t, js(t, `["id","name"]`), at(t, doc, "components", "schemas", "UpdateRequest", "required"),
		"POST /items, without a path wildcard, reads the whole request from the body")

	add := at(t, doc, "components", "schemas", "AddRequestBody")
	assert.Equal(t, js(t, `{"item":{"$ref":"#/components/schemas/Item"}}`), at(t, add, "properties"))
	assert.Len(t, at(t, paths, "/items/{group}/{n}", "post", "parameters"), 2)

	get := at(t, paths, "/items/{id}", "get").(map[string]any)
	assert.NotContains(t, get, "requestBody")
	assert.NotContains(t, at(t, get, "responses"), "415", "no body, no 415")
	assert.Contains(t, at(t, paths, "/items/{id}", "put", "responses"), "415")
}

func TestOpenAPISecurityAndInfo(t *testing.T) {
	t.Parallel()
	const decls = `
type S interface {
	// Read is public.
	Read(ctx context.Context) error
	//kit:security bearer
	Write(ctx context.Context) error
	//kit:security bearer basic
	//kit:idempotent
	Either(ctx context.Context) error
	//kit:security none
	Open(ctx context.Context) error
}`
	op := func(doc map[string]any, name string) map[string]any {
		return at(t, doc, "paths", "/s/"+strings.ToLower(name), "post").(map[string]any)
	}

	t.Run("no default scheme", func(t *testing.T) {
		doc := openAPIOf(t, decls, OpenAPIOptions{})
		assert.NotContains(t, doc, "security")
		assert.Equal(t, js(t, `[]`), op(doc, "Read")["security"], "public, said explicitly")
		assert.Equal(t, js(t, `[{"bearer":[]}]`), op(doc, "Write")["security"])
		assert.Equal(t, js(t, `[{"bearer":[]},{"basic":[]}]`), op(doc, "Either")["security"])
		assert.Equal(t, js(t, `[]`), op(doc, "Open")["security"])
		assert.Equal(t, js(t, `{"bearer":{"type":"http","scheme":"bearer","bearerFormat":"JWT"},"basic":{"type":"http","scheme":"basic"}}`),
			at(t, doc, "components", "securitySchemes"))
		assert.Equal(t, "Read is public.", op(doc, "Read")["summary"])
		assert.Equal(t, "Write", op(doc, "Write")["summary"], "a summary without a doc comment")
		assert.Equal(t, js(t, `[{"url":"/","description":"The server that serves this document."}]`), doc["servers"])
		assert.Equal(t, js(t, `{"title":"S","version":"1.0.0"}`), doc["info"])
	})

	t.Run("default scheme", func(t *testing.T) {
		doc := openAPIOf(t, decls, OpenAPIOptions{Security: "basic", Title: "The S API", Version: "2.0.0",
			Servers: []OpenAPIServer{{URL: "https://api.example.org", Description: "production"}, {URL: "/v1"}},
			License: "Apache-2.0", Contact: "Ada <ada@example.org>"})
		assert.Equal(t, js(t, `[{"basic":[]}]`), doc["security"])
		assert.NotContains(t, op(doc, "Read"), "security", "the document's default applies")
		assert.Equal(t, js(t, `[]`), op(doc, "Open")["security"], "none overrides the default")
		assert.Equal(t, js(t, `[{"url":"https://api.example.org","description":"production"},{"url":"/v1"}]`), doc["servers"])
		assert.Equal(t, js(t, `{"title":"The S API","version":"2.0.0","license":{"name":"Apache-2.0","identifier":"Apache-2.0"},
			"contact":{"name":"Ada","email":"ada@example.org"}}`), doc["info"])
	})

	t.Run("info", func(t *testing.T) {
		for _, c := range []struct {
			o    OpenAPIOptions
			want string
		}{
			{OpenAPIOptions{License: "Company licence", LicenseURL: "https://example.org/licence"}, `{"name":"Company licence","url":"https://example.org/licence"}`},
			{OpenAPIOptions{Contact: "https://example.org/support"}, `{"url":"https://example.org/support"}`},
			{OpenAPIOptions{Contact: "api@example.org"}, `{"email":"api@example.org"}`},
			{OpenAPIOptions{Contact: "The API team"}, `{"name":"The API team"}`},
		} {
			doc := openAPIOf(t, decls, c.o)
			info := doc["info"].(map[string]any)
			got := info["license"]
			if got == nil {
				got = info["contact"]
			}
			assert.Equal(t, js(t, c.want), got)
		}
	})
}

func TestOpenAPIOptionErrors(t *testing.T) {
	t.Parallel()
	const decls = `type S interface{ M(ctx context.Context) error }`
	for _, c := range []struct {
		o    OpenAPIOptions
		want string
	}{
		{OpenAPIOptions{Security: "oauth"}, `unknown security scheme "oauth": want basic, bearer or none`},
		{OpenAPIOptions{License: "My License"}, `license "My License" is not an SPDX identifier such as MIT or Apache-2.0; give its URL too`},
		{OpenAPIOptions{LicenseURL: "https://example.org"}, `a license URL needs a license name`},
		{OpenAPIOptions{License: "X", LicenseURL: "/relative"}, `license URL "/relative" is not an http or https URL`},
		{OpenAPIOptions{Contact: "Ada <not an email>"}, `"not an email" is not an email address`},
		{OpenAPIOptions{Servers: []OpenAPIServer{{URL: "api.example.org"}}}, `server "api.example.org": want an absolute URL`},
		{OpenAPIOptions{Servers: []OpenAPIServer{{URL: "https://{region}.example.org"}}}, `URL templates are not supported`},
		{OpenAPIOptions{Servers: []OpenAPIServer{{URL: "ftp://example.org"}}}, `want an http or https URL with a host`},
		{OpenAPIOptions{License: "MIT", Contact: "\xd5"}, `"\xd5" is not UTF-8`},
		{OpenAPIOptions{Servers: []OpenAPIServer{{URL: "/", Description: "\xff"}}}, `server "/": not UTF-8`},
	} {
		t.Run(c.want, func(t *testing.T) {
			_, err := openAPIDoc(t, decls, c.o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestParseOpenAPIServer(t *testing.T) {
	t.Parallel()
	s, err := ParseOpenAPIServer("  https://api.example.org  the production server ")
	require.NoError(t, err)
	assert.Equal(t, OpenAPIServer{URL: "https://api.example.org", Description: "the production server"}, s)
	s, err = ParseOpenAPIServer("/v1")
	require.NoError(t, err)
	assert.Equal(t, OpenAPIServer{URL: "/v1"}, s)
	_, err = ParseOpenAPIServer("")
	assert.ErrorContains(t, err, "empty URL")
}

func TestAnnotations(t *testing.T) {
	t.Parallel()
	dir, err := filepath.Abs("testdata/bad")
	require.NoError(t, err)
	loadS := func(t *testing.T, methods string) (*Service, error) {
		src := "package bad\n\nimport \"context\"\n\ntype S interface {\n" + methods + "\n}\n"
		return load(dir, "S", map[string][]byte{filepath.Join(dir, "service.go"): []byte(src)})
	}
	svc, err := loadS(t, `	// A is safe to retry.
	//
	//kit:idempotent
	//kit:security bearer
	A(ctx context.Context) error
	//kit:security none
	B(ctx context.Context) error
	C(ctx context.Context) error`)
	require.NoError(t, err)
	a, b, c := svc.Methods[0], svc.Methods[1], svc.Methods[2]
	assert.True(t, a.Idempotent)
	assert.Equal(t, []string{"bearer"}, a.Security)
	assert.Equal(t, "A is safe to retry.\n", a.Doc, "annotations are not documentation")
	assert.False(t, b.Idempotent)
	assert.Equal(t, []string{}, b.Security)
	assert.Nil(t, c.Security)

	for _, tt := range []struct{ name, src, want string }{
		{"unknown", "\t//kit:idempotant\n\tA(ctx context.Context) error",
			"service.go:6:2: S.A: unknown annotation //kit:idempotant (hint: the annotations are //kit:http, //kit:security, //kit:idempotent, //kit:mcp)"},
		{"twice", "\t//kit:idempotent\n\t//kit:idempotent\n\tA(ctx context.Context) error",
			"service.go:7:2: S.A: //kit:idempotent appears twice (hint: keep one)"},
		{"arguments", "\t//kit:idempotent yes\n\tA(ctx context.Context) error",
			`service.go:6:2: S.A: //kit:idempotent takes no arguments, got "yes"`},
		{"no scheme", "\t//kit:security\n\tA(ctx context.Context) error",
			"service.go:6:2: S.A: malformed //kit:security: want a scheme: basic, bearer, or none"},
		{"unknown scheme", "\t//kit:security oauth2\n\tA(ctx context.Context) error",
			`service.go:6:2: S.A: malformed //kit:security: unknown scheme "oauth2": want basic, bearer, or none`},
		{"none and a scheme", "\t//kit:security none bearer\n\tA(ctx context.Context) error",
			"service.go:6:2: S.A: malformed //kit:security: none cannot be combined with a scheme"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadS(t, tt.src)
			require.Error(t, err)
			assert.Contains(t, strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""), tt.want)
		})
	}
}

// FuzzOpenAPIOptions feeds kitgen's OpenAPI flags arbitrary text: every
// value is accepted into valid JSON or refused with an error, never a
// panic, and what is accepted is in the document as given.
func FuzzOpenAPIOptions(f *testing.F) {
	f.Add("https://api.example.org production", "MIT", "", "Ada <ada@example.org>")
	f.Add("/v1", "Company licence", "https://example.org/licence", "https://example.org/support")
	f.Add("ftp://x", "", "relative", "not <an email")
	f.Add("http://[::1]:8080/base", "Apache-2.0 OR MIT", "", "api@example.org")
	f.Fuzz(func(t *testing.T, server, license, licenseURL, contact string) {
		srv, err := ParseOpenAPIServer(server)
		if err != nil {
			srv = OpenAPIServer{URL: "/"}
		}
		o := OpenAPIOptions{Servers: []OpenAPIServer{srv}, License: license, LicenseURL: licenseURL, Contact: contact}
		info, err := o.info(&Service{Name: "S"})
		if err != nil {
			return
		}
		out, err := json.Marshal(info)
		require.NoError(t, err)
		var back map[string]any
		require.NoError(t, json.Unmarshal(out, &back))
		if license != "" {
			assert.Equal(t, license, at(t, back, "license", "name"))
		}
		require.NoError(t, srv.check(), "a parsed server passes the document's check")
	})
}

// A service type named like a component every document declares keeps its
// own schema under another name, and the error responses keep theirs.
func TestOpenAPIReservedComponentNames(t *testing.T) {
	t.Parallel()
	doc := openAPIOf(t, `
type Problem struct{ Severity int }
type FieldViolation struct{ Line int }
type S interface {
	Report(ctx context.Context, p Problem) (FieldViolation, error)
}`, OpenAPIOptions{})
	schemas := at(t, doc, "components", "schemas").(map[string]any)
	assert.Contains(t, at(t, schemas, "Problem", "properties"), "code", "the error body keeps its schema")
	assert.Contains(t, at(t, schemas, "BadProblem", "properties"), "Severity", "the type is named for its package")
	assert.Contains(t, at(t, schemas, "FieldViolation", "properties"), "field")
	assert.Contains(t, at(t, schemas, "BadFieldViolation", "properties"), "Line")
}
