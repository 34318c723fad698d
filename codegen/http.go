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
// GET /openapi.json, which serves their OpenAPI 3.1 description. The
// interceptors of httpx.ServerInterceptors in opts wrap every method.
func RegisterHTTP(mux *{{ $http }}.ServeMux, e Endpoints, opts ...{{ $httpx }}.ServerOption) {
	mux.HandleFunc("GET /openapi.json", func(w {{ $http }}.ResponseWriter, _ *{{ $http }}.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(OpenAPIDocument))
	})
	// serve returns opts with the Call of one method.
	serve := func(method string, idempotent bool) []{{ $httpx }}.ServerOption {
		return append(opts[:len(opts):len(opts)], {{ $httpx }}.ServerCall({{ $kit }}.Call{Service: ServiceName, Method: method, Idempotent: idempotent}))
	}
{{- range .Methods }}
{{- if eq .KitStream "ServerStream" }}
	mux.Handle({{ quote .Route.Pattern }}, {{ $httpx }}.ServerStreamHandler(e.{{ .Name }}Endpoint, decode{{ .Name }}HTTPRequest,
		serve({{ quote .Name }}, {{ .Retryable }})...))
{{- else if eq .KitStream "ClientStream" }}
	mux.Handle({{ quote .Route.Pattern }}, {{ $httpx }}.ClientStreamHandler(e.{{ .Name }}Endpoint, {{ jsonResponseEncoder . }},
		serve({{ quote .Name }}, {{ .Retryable }})...))
{{- else if eq .KitStream "BidiStream" }}
	mux.Handle({{ quote .Route.Pattern }}, {{ $httpx }}.BidiStreamHandler(e.{{ .Name }}Endpoint,
		serve({{ quote .Name }}, {{ .Retryable }})...))
{{- else }}
	mux.Handle({{ quote .Route.Pattern }}, {{ $httpx }}.NewServer(e.{{ .Name }}Endpoint, decode{{ .Name }}HTTPRequest, {{ jsonResponseEncoder . }},
		serve({{ quote .Name }}, {{ .Retryable }})...))
{{- end }}
{{- end }}
}

{{- blankImport "embed" }}
// OpenAPIDocument is the OpenAPI 3.1 description of the HTTP routes of
// {{ .Name }}, as GET /openapi.json serves it: the file kitgen wrote beside
// this one.
//
//go:embed {{ openAPIFile }}
var OpenAPIDocument string

// NewHTTPClient returns {{ article .Name }} {{ .Name }} that calls the server at base, such
// as "http://localhost:8080", through the routes of [NewHTTPHandler].
func NewHTTPClient(base string, opts ...{{ $httpx }}.ClientOption) ({{ .Name }}, error) {
	return NewHTTPClientEndpoints(base, opts...)
}

// NewHTTPClientEndpoints is [NewHTTPClient] returning the client's
// endpoints, so that typed client-side middleware can wrap them. The
// interceptors of httpx.ClientInterceptors in opts wrap every method.
func NewHTTPClientEndpoints(base string, opts ...{{ $httpx }}.ClientOption) (Endpoints, error) {
	u, err := {{ $url }}.Parse(base)
	if err != nil {
		return Endpoints{}, err
	}
	if u.Scheme == "" || u.Host == "" {
		return Endpoints{}, {{ $kit }}.NewError({{ $kit }}.InvalidArgument, "base URL "+{{ imp "strconv" }}.Quote(base)+" needs a scheme and a host")
	}
	// call returns opts with the Call of one method.
	call := func(method string, idempotent bool) []{{ $httpx }}.ClientOption {
		return append(opts[:len(opts):len(opts)], {{ $httpx }}.ClientCall({{ $kit }}.Call{Service: ServiceName, Method: method, Idempotent: idempotent}))
	}
	return Endpoints{
{{- range .Methods }}
{{- if eq .KitStream "ServerStream" }}
		{{ .Name }}Endpoint: {{ $httpx }}.ServerStreamClient[{{ reqType . }}, {{ respType . }}]({{ $http }}.Method{{ methodName .Route.Method }}, u, encode{{ .Name }}HTTPRequest,
			call({{ quote .Name }}, {{ .Idempotent }})...),
{{- else if eq .KitStream "ClientStream" }}
		{{ .Name }}Endpoint: {{ $httpx }}.ClientStreamClient[{{ reqType . }}]({{ $http }}.Method{{ methodName .Route.Method }}, u.JoinPath({{ quote .Route.Path }}), {{ jsonResponseDecoder . }},
			call({{ quote .Name }}, {{ .Idempotent }})...),
{{- else if eq .KitStream "BidiStream" }}
		{{ .Name }}Endpoint: {{ $httpx }}.BidiStreamClient[{{ reqType . }}, {{ respType . }}]({{ $http }}.Method{{ methodName .Route.Method }}, u.JoinPath({{ quote .Route.Path }}),
			call({{ quote .Name }}, {{ .Idempotent }})...),
{{- else }}
		{{ .Name }}Endpoint: {{ $httpx }}.NewClient({{ $http }}.Method{{ methodName .Route.Method }}, u, encode{{ .Name }}HTTPRequest, {{ jsonResponseDecoder . }},
			call({{ quote .Name }}, {{ .Idempotent }})...).Endpoint(),
{{- end }}
{{- end }}
	}, nil
}
{{ range .Methods }}{{ if not .ClientStreams }}
// decode{{ .Name }}HTTPRequest reads the request of {{ .Route.Pattern }}.
func decode{{ .Name }}HTTPRequest(ctx {{ $ctx }}.Context, r *{{ $http }}.Request) ({{ reqType . }}, error) {
{{- if .Body }}
	req, err := {{ jsonDecodeRequest . }}
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
	return {{ jsonEncodeRequest . }}
{{- else }}
	return nil
{{- end }}
}
{{ end }}{{ end }}
{{- jsonCodecs }}
`

// renderHTTP renders the HTTP handler, client and their codecs.
func renderHTTP(svc *Service, openAPIFile string) ([]byte, error) {
	return render(svc, "http", httpTemplate, svc, func(fi *fileImports) template.FuncMap {
		js := newJSONEmitter(svc, fi)
		return template.FuncMap{
			// The JSON bodies go through the codecs of json.go.
			"jsonDecodeRequest": func(m *Method) string {
				return fi.name(genrtPath, "genrt") + ".DecodeJSONRequest(ctx, r, " + js.messageReader(m.Request) + ")"
			},
			"jsonEncodeRequest": func(m *Method) string {
				return fi.name(genrtPath, "genrt") + ".EncodeJSONRequest(ctx, r, req, " + js.messageWriter(m.Request) + ")"
			},
			"jsonResponseEncoder": func(m *Method) string {
				return fi.name(genrtPath, "genrt") + ".JSONResponseEncoder(" + js.messageWriter(m.Response) + ")"
			},
			"jsonResponseDecoder": func(m *Method) string {
				return fi.name(genrtPath, "genrt") + ".JSONResponseDecoder(" + js.messageReader(m.Response) + ")"
			},
			"jsonCodecs":  func() string { return js.out.String() },
			"openAPIFile": func() string { return strconv.Quote(openAPIFile) },
			"methodName":  func(m string) string { return m[:1] + strings.ToLower(m[1:]) },
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
// binding's scalar type, returning the error, and the expression of the
// value.
func parseExpr(fi *fileImports, b *Binding) (string, string) {
	elem := fi.typ(b.Elem)
	pk := paramKinds[b.Scalar.Kind]
	parse := paramCode(fi, b, pk.parse, elem, "", "")
	value := paramCode(fi, b, pk.value, elem, "", "")
	if pk.as != nil {
		value = conv(func() string { return elem }, value, b.Elem, pk.as)
	}
	return parse, value
}

// paramCode fills a template of a paramKinds row for the binding b, whose
// element type is elem, formatting x into the variable tmp.
func paramCode(fi *fileImports, b *Binding, tmpl, elem, x, tmp string) string {
	return expand(tmpl, func(name string) string {
		switch name {
		case "T":
			return elem
		case "x":
			return x
		case "recv":
			return receiver(x)
		case "tmp":
			return tmp
		case "key":
			return strconv.Quote(b.Key)
		case "bits":
			return strconv.Itoa(b.Scalar.Bits)
		case "prefix":
			return strconv.Quote("invalid parameter " + b.Key + ": ")
		case "desc":
			return fmt.Sprintf("%s.Quote(v) + %q", fi.name("strconv", "strconv"), " is not a valid "+types.TypeString(b.Elem, func(p *types.Package) string { return p.Name() }))
		case "rt":
			return fi.name(genrtPath, "genrt")
		case "kit":
			return fi.name(kitPath, "kit")
		case "strconv":
			return fi.name("strconv", "strconv")
		}
		panic("codegen: unknown placeholder $" + name + " in a template of the parameter kind " + b.Scalar.Kind)
	})
}

// decodeParam returns the statements that fill a request field from a path
// wildcard or the query values q.
func decodeParam(fi *fileImports, b *Binding, from string) string {
	parse, value := parseExpr(fi, b)
	parse = allocVia(fi, "req", b.Field) + parse
	field := "req." + b.Field.Selector
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

// allocVia returns the statements that allocate the nil embedded pointers
// on the way to a promoted field of v, as encoding/json does before it
// sets the field.
func allocVia(fi *fileImports, v string, f *Field) string {
	var b strings.Builder
	for _, p := range f.Via {
		fmt.Fprintf(&b, "if %s.%s == nil {\n%s.%s = new(%s)\n}\n", v, p.Selector, v, p.Selector, fi.typ(p.Elem))
	}
	return b.String()
}

// viaPresent is the condition under which a promoted field of v can be
// read: every embedded pointer on its way is set; "" when there are none.
func viaPresent(v string, f *Field) string {
	var conds []string
	for _, p := range f.Via {
		conds = append(conds, v+"."+p.Selector+" != nil")
	}
	return strings.Join(conds, " && ")
}

// formatStmts returns statements that format the value x of the
// binding's scalar type, returning the error of a MarshalText method, and
// the string expression they leave; tmp names their variable.
func formatStmts(fi *fileImports, b *Binding, x, tmp string) (string, string) {
	pk := paramKinds[b.Scalar.Kind]
	pre := paramCode(fi, b, pk.formatPre, "", x, tmp)
	if pk.as != nil {
		x = conv(func() string { return types.TypeString(pk.as, nil) }, x, pk.as, b.Elem)
	}
	return pre, paramCode(fi, b, pk.format, "", x, tmp)
}

// encodePath returns the statements that set the request URL's path from
// the route and the request's wildcard fields, below the base URL's path.
func encodePath(fi *fileImports, m *Method) string {
	url := fi.name("net/url", "url")
	strs := fi.name("strings", "strings")
	var pre strings.Builder
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
		// Each wildcard's value is worked out once, into a variable.
		val := fmt.Sprintf("path%d", len(plain))
		v := "req." + b.Field.Selector
		cond := viaPresent("req", b.Field)
		if b.Pointer {
			cond = strings.TrimPrefix(cond+" && "+v+" != nil", " && ")
			v = "*" + v
		}
		stmts, expr := formatStmts(fi, b, v, "text")
		if stmts == "" && cond == "" {
			plain = append(plain, expr)
			raw = append(raw, url+".PathEscape("+expr+")")
			continue
		}
		if cond == "" {
			fmt.Fprintf(&pre, "var %s string\n{\n%s%s = %s\n}\n", val, stmts, val, expr)
		} else {
			fmt.Fprintf(&pre, "var %s string\nif %s {\n%s%s = %s\n}\n", val, cond, stmts, val, expr)
		}
		plain = append(plain, val)
		raw = append(raw, url+".PathEscape("+val+")")
	}
	flush()
	prefix := strs + ".TrimSuffix(r.URL.Path, \"/\")"
	rawPrefix := strs + ".TrimSuffix(r.URL.EscapedPath(), \"/\")"
	return pre.String() + "r.URL.Path, r.URL.RawPath = " + prefix + " + " + strings.Join(plain, " + ") + ", " + rawPrefix + " + " + strings.Join(raw, " + ")
}

// encodeQuery returns the statements that add a request field to the query
// values q, leaving zero values out.
func encodeQuery(fi *fileImports, b *Binding) string {
	field := "req." + b.Field.Selector
	var stmt string
	switch {
	case b.Slice:
		stmts, expr := formatStmts(fi, b, "x", "text")
		stmt = fmt.Sprintf("for _, x := range %s {\n%sq.Add(%q, %s)\n}", field, stmts, b.Key, expr)
	case b.Pointer:
		stmts, expr := formatStmts(fi, b, "*"+field, "text")
		stmt = fmt.Sprintf("if %s != nil {\n%sq.Set(%q, %s)\n}", field, stmts, b.Key, expr)
	case paramKinds[b.Scalar.Kind].zero == "":
		stmts, expr := formatStmts(fi, b, field, "text")
		stmt = fmt.Sprintf("{\n%sif s := %s; s != \"\" {\nq.Set(%q, s)\n}\n}", stmts, expr, b.Key)
	default:
		_, expr := formatStmts(fi, b, field, "text")
		stmt = fmt.Sprintf("if %s != %s {\nq.Set(%q, %s)\n}", field, paramKinds[b.Scalar.Kind].zero, b.Key, expr)
	}
	if cond := viaPresent("req", b.Field); cond != "" {
		return "if " + cond + " {\n" + stmt + "\n}"
	}
	return stmt
}
