package codegen

import (
	"fmt"
	"go/types"
	"strconv"
	"strings"
	"text/template"
)

const httpTemplate = `
{{- $kit := imp "github.com/typedkit/kit" }}
{{- $httpx := imp "github.com/typedkit/kit/httpx" }}
{{- $http := imp "net/http" }}
{{- $ctx := imp "context" }}
{{- $url := imp "net/url" }}
// NewHTTPHandler returns an http.Handler that serves the endpoints of
// {{ .Name }} at their routes:
//
{{- range .Methods }}
//	{{ .Route.Pattern }}
{{- end }}
func NewHTTPHandler(e Endpoints, opts ...{{ $httpx }}.ServerOption) {{ $http }}.Handler {
	mux := {{ $http }}.NewServeMux()
	RegisterHTTP(mux, e, opts...)
	return mux
}

// RegisterHTTP registers the routes of {{ .Name }}'s endpoints on mux, and
// GET /openapi.json, which serves their OpenAPI 3.1 description.
func RegisterHTTP(mux *{{ $http }}.ServeMux, e Endpoints, opts ...{{ $httpx }}.ServerOption) {
	mux.HandleFunc("GET /openapi.json", func(w {{ $http }}.ResponseWriter, _ *{{ $http }}.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(OpenAPIDocument))
	})
{{- range .Methods }}
	mux.Handle({{ quote .Route.Pattern }}, {{ $httpx }}.NewServer(e.{{ .Name }}Endpoint, decode{{ .Name }}HTTPRequest, {{ $httpx }}.EncodeJSONResponse[{{ respType . }}], opts...))
{{- end }}
}

// OpenAPIDocument is the OpenAPI 3.1 description of the HTTP routes of
// {{ .Name }}, as GET /openapi.json serves it.
const OpenAPIDocument = {{ openAPIDoc }}

// NewHTTPClient returns a {{ .Name }} that calls the server at base, such
// as "http://localhost:8080", through the routes of [NewHTTPHandler].
func NewHTTPClient(base string, opts ...{{ $httpx }}.ClientOption) ({{ .Name }}, error) {
	return NewHTTPClientEndpoints(base, opts...)
}

// NewHTTPClientEndpoints is [NewHTTPClient] returning the client's
// endpoints, so that client-side middleware (retries, breakers) can wrap
// them.
func NewHTTPClientEndpoints(base string, opts ...{{ $httpx }}.ClientOption) (Endpoints, error) {
	u, err := {{ $url }}.Parse(base)
	if err != nil {
		return Endpoints{}, err
	}
	if u.Scheme == "" || u.Host == "" {
		return Endpoints{}, {{ $kit }}.NewError({{ $kit }}.InvalidArgument, "base URL "+{{ imp "strconv" }}.Quote(base)+" needs a scheme and a host")
	}
	return Endpoints{
{{- range .Methods }}
		{{ .Name }}Endpoint: {{ $httpx }}.NewClient({{ $http }}.Method{{ methodName .Route.Method }}, u, encode{{ .Name }}HTTPRequest, {{ $httpx }}.DecodeJSONResponse[{{ respType . }}], opts...).Endpoint(),
{{- end }}
	}, nil
}
{{ range .Methods }}
// decode{{ .Name }}HTTPRequest reads the request of {{ .Route.Pattern }}.
func decode{{ .Name }}HTTPRequest(ctx {{ $ctx }}.Context, r *{{ $http }}.Request) ({{ reqType . }}, error) {
{{- if .Body }}
	req, err := {{ $httpx }}.DecodeJSONRequest[{{ reqType . }}](ctx, r)
	if err != nil {
		return req, err
	}
{{- if .Request.Pointer }}
	if req == nil {
		req = new({{ elemType . }})
	}
{{- end }}
{{- else if .Request.Pointer }}
	req := new({{ elemType . }})
{{- else }}
	var req {{ reqType . }}
{{- end }}
{{- range .PathBindings }}
	{{ decodeParam . "path" }}
{{- end }}
{{- if .QueryBindings }}
	q := r.URL.Query()
{{- range .QueryBindings }}
	{{ decodeParam . "query" }}
{{- end }}
{{- end }}
	return req, nil
}

// encode{{ .Name }}HTTPRequest writes the request of {{ .Route.Pattern }}.
func encode{{ .Name }}HTTPRequest(ctx {{ $ctx }}.Context, r *{{ $http }}.Request, req {{ reqType . }}) error {
{{- if .Request.Pointer }}
	if req == nil {
		req = new({{ elemType . }})
	}
{{- end }}
	{{ encodePath . }}
{{- if .QueryBindings }}
	q := r.URL.Query()
{{- range .QueryBindings }}
	{{ encodeQuery . }}
{{- end }}
	r.URL.RawQuery = q.Encode()
{{- end }}
{{- if .Body }}
	return {{ $httpx }}.EncodeJSONRequest(ctx, r, req)
{{- else }}
	return nil
{{- end }}
}
{{ end }}
`

// renderHTTP renders the HTTP handler, client and their codecs.
func renderHTTP(svc *Service, openAPI []byte) ([]byte, error) {
	return render(svc, "http", httpTemplate, svc, func(fi *fileImports) template.FuncMap {
		return template.FuncMap{
			"openAPIDoc": func() string { return strconv.Quote(string(openAPI)) },
			"methodName": func(m string) string { return m[:1] + strings.ToLower(m[1:]) },
			"elemType": func(m *Method) string {
				return fi.typ(types.Unalias(m.Request.Type).Underlying().(*types.Pointer).Elem())
			},
			"decodeParam": func(b *Binding, from string) string { return decodeParam(fi, b, from) },
			"encodePath":  func(m *Method) string { return encodePath(fi, m) },
			"encodeQuery": func(b *Binding) string { return encodeQuery(fi, b) },
		}
	})
}

// parseExpr returns statements that parse the string v into x of the
// binding's scalar type, returning the error.
func parseExpr(fi *fileImports, b *Binding) (string, string) {
	httpx := fi.name(httpxPath, "httpx")
	elem := fi.typ(b.Elem)
	key := fmt.Sprintf("%q", b.Key)
	switch b.Scalar.Kind {
	case "string":
		if types.Identical(b.Elem, types.Typ[types.String]) {
			return "", "v"
		}
		return "", elem + "(v)"
	case "bool":
		return "x, err := " + httpx + ".ParseBool(" + key + ", v)\nif err != nil {\nreturn req, err\n}\n", elem + "(x)"
	case "int":
		return fmt.Sprintf("x, err := %s.ParseInt(%s, v, %d)\nif err != nil {\nreturn req, err\n}\n", httpx, key, b.Scalar.Bits), elem + "(x)"
	case "uint":
		return fmt.Sprintf("x, err := %s.ParseUint(%s, v, %d)\nif err != nil {\nreturn req, err\n}\n", httpx, key, b.Scalar.Bits), elem + "(x)"
	default:
		return fmt.Sprintf("x, err := %s.ParseFloat(%s, v, %d)\nif err != nil {\nreturn req, err\n}\n", httpx, key, b.Scalar.Bits), elem + "(x)"
	}
}

// decodeParam returns the statements that fill a request field from a path
// wildcard or the query values q.
func decodeParam(fi *fileImports, b *Binding, from string) string {
	parse, value := parseExpr(fi, b)
	field := "req." + b.Field.Name
	get := fmt.Sprintf("r.PathValue(%q)", b.Key)
	if from == "query" {
		get = fmt.Sprintf("q.Get(%q)", b.Key)
	}
	switch {
	case b.Slice:
		return fmt.Sprintf("for _, v := range q[%q] {\n%s%s = append(%s, %s)\n}", b.Key, parse, field, field, value)
	case b.Pointer:
		return fmt.Sprintf("if v := %s; v != \"\" {\n%sp := %s\n%s = &p\n}", get, parse, value, field)
	}
	return fmt.Sprintf("if v := %s; v != \"\" {\n%s%s = %s\n}", get, parse, field, value)
}

// formatExpr formats the value x of the binding's scalar type as a string.
func formatExpr(fi *fileImports, b *Binding, x string) string {
	strconv := fi.name("strconv", "strconv")
	switch b.Scalar.Kind {
	case "string":
		if types.Identical(b.Elem, types.Typ[types.String]) {
			return x
		}
		return "string(" + x + ")"
	case "bool":
		return strconv + ".FormatBool(bool(" + x + "))"
	case "int":
		return strconv + ".FormatInt(int64(" + x + "), 10)"
	case "uint":
		return strconv + ".FormatUint(uint64(" + x + "), 10)"
	default:
		return fmt.Sprintf("%s.FormatFloat(float64(%s), 'g', -1, %d)", strconv, x, b.Scalar.Bits)
	}
}

// encodePath returns the statements that set the request URL's path from
// the route and the request's wildcard fields, below the base URL's path.
func encodePath(fi *fileImports, m *Method) string {
	url := fi.name("net/url", "url")
	strs := fi.name("strings", "strings")
	var plain, raw []string
	segs := strings.Split(m.Route.Path, "/")
	var pending string
	lit := func(s string) { pending += s }
	flush := func() {
		if pending != "" {
			plain = append(plain, fmt.Sprintf("%q", pending))
			raw = append(raw, fmt.Sprintf("%q", pending))
			pending = ""
		}
	}
	for i, seg := range segs {
		if i > 0 {
			lit("/")
		}
		if !strings.HasPrefix(seg, "{") {
			if seg != "" {
				lit(seg)
			}
			continue
		}
		flush()
		name := strings.TrimSuffix(seg[1:len(seg)-1], "...")
		var b *Binding
		for _, pb := range m.PathBindings {
			if pb.Key == name {
				b = pb
			}
		}
		v := "req." + b.Field.Name
		if b.Pointer {
			v = "*" + v
			plain = append(plain, "func() string { if req."+b.Field.Name+" == nil { return \"\" }; return "+formatExpr(fi, b, v)+" }()")
			raw = append(raw, url+".PathEscape(func() string { if req."+b.Field.Name+" == nil { return \"\" }; return "+formatExpr(fi, b, v)+" }())")
			continue
		}
		plain = append(plain, formatExpr(fi, b, v))
		raw = append(raw, url+".PathEscape("+formatExpr(fi, b, v)+")")
	}
	flush()
	prefix := strs + ".TrimSuffix(r.URL.Path, \"/\")"
	rawPrefix := strs + ".TrimSuffix(r.URL.EscapedPath(), \"/\")"
	return "r.URL.Path, r.URL.RawPath = " + prefix + " + " + strings.Join(plain, " + ") + ", " + rawPrefix + " + " + strings.Join(raw, " + ")
}

// encodeQuery returns the statements that add a request field to the query
// values q, leaving zero values out.
func encodeQuery(fi *fileImports, b *Binding) string {
	field := "req." + b.Field.Name
	switch {
	case b.Slice:
		return fmt.Sprintf("for _, x := range %s {\nq.Add(%q, %s)\n}", field, b.Key, formatExpr(fi, b, "x"))
	case b.Pointer:
		return fmt.Sprintf("if %s != nil {\nq.Set(%q, %s)\n}", field, b.Key, formatExpr(fi, b, "*"+field))
	}
	zero := map[string]string{"string": `""`, "bool": "false", "int": "0", "uint": "0", "float": "0"}[b.Scalar.Kind]
	return fmt.Sprintf("if %s != %s {\nq.Set(%q, %s)\n}", field, zero, b.Key, formatExpr(fi, b, field))
}
