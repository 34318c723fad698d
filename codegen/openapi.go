package codegen

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"go/constant"
	"go/token"
	"go/types"
	"maps"
	"net/http"
	neturl "net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// OpenAPIPath is where the generated HTTP handler serves the OpenAPI
// document.
const OpenAPIPath = "/openapi.json"

// problemCodes lists, per HTTP status, the kit codes answered with it (the
// mapping of httpx.StatusCode) and the statuses httpx itself answers.
var problemCodes = []struct {
	status string
	desc   string
}{
	{"400", "invalid_argument, failed_precondition or out_of_range: the request is wrong; violations say which fields"},
	{"401", "unauthenticated: credentials are missing or invalid"},
	{"403", "permission_denied: the caller may not do this"},
	{"404", "not_found"},
	{"409", "already_exists or aborted"},
	{"413", "resource_exhausted: the request body is larger than the server's limit"},
	{"415", "invalid_argument: the request body's Content-Type is not application/json"},
	{"429", "resource_exhausted: a rate or concurrency limit was reached"},
	{"499", "canceled: the caller went away"},
	{"500", "internal, data_loss or unknown"},
	{"501", "unimplemented"},
	{"503", "unavailable: the service cannot answer now; retry later"},
	{"504", "deadline_exceeded"},
}

var codeNamesForSchema = []string{
	"canceled", "unknown", "invalid_argument", "deadline_exceeded", "not_found", "already_exists",
	"permission_denied", "resource_exhausted", "failed_precondition", "aborted", "out_of_range",
	"unimplemented", "internal", "unavailable", "data_loss", "unauthenticated",
}

// OpenAPIOptions are what the OpenAPI document declares beyond the
// service's routes: what linters such as Redocly's recommended rules ask
// of a document that strangers read.
type OpenAPIOptions struct {
	// Title is info.title; by default the interface's name.
	Title string
	// Version is info.version; by default "1.0.0".
	Version string
	// Servers are the document's servers. By default there is one, "/":
	// the host that serves the document (what OpenAPI assumes when
	// servers is absent, said explicitly).
	Servers []OpenAPIServer
	// License is info.license: an SPDX license identifier such as "MIT"
	// or "Apache-2.0" (it becomes the license's identifier and name), or
	// a license's name when LicenseURL says where its text is.
	License string
	// LicenseURL is the URL of the license's text.
	LicenseURL string
	// Contact is info.contact: "Name <email>", an email address, a URL,
	// or a name.
	Contact string
	// Security is the scheme that guards every operation whose method has
	// no //kit:security annotation: "bearer", "basic", or "" (or "none")
	// for none.
	Security string
}

// OpenAPIServer is a server of the OpenAPI document.
type OpenAPIServer struct {
	// URL is the server's base URL: absolute (https://api.example.com)
	// or relative to the document's own URL (/, /v1).
	URL string
	// Description says which server it is, such as "production".
	Description string
}

// ParseOpenAPIServer parses kitgen's -openapi-server flag: a URL, then
// optionally a space and a description.
func ParseOpenAPIServer(s string) (OpenAPIServer, error) {
	s = strings.TrimSpace(s)
	url, desc, _ := strings.Cut(s, " ")
	srv := OpenAPIServer{URL: url, Description: strings.TrimSpace(desc)}
	return srv, srv.check()
}

func (s OpenAPIServer) check() error {
	u, err := neturl.Parse(s.URL)
	switch {
	case !utf8.ValidString(s.URL) || !utf8.ValidString(s.Description):
		return fmt.Errorf("server %q: not UTF-8", s.URL)
	case s.URL == "":
		return errors.New("server: empty URL")
	case strings.ContainsAny(s.URL, "{}"):
		return fmt.Errorf("server %q: URL templates are not supported; give each server its URL", s.URL)
	case err != nil:
		return fmt.Errorf("server %q: %v", s.URL, err)
	case u.IsAbs() && (u.Scheme != "http" && u.Scheme != "https" || u.Host == ""):
		return fmt.Errorf("server %q: want an http or https URL with a host, or a path such as /v1", s.URL)
	case !u.IsAbs() && !strings.HasPrefix(s.URL, "/"):
		return fmt.Errorf("server %q: want an absolute URL such as https://api.example.com, or a path such as /v1", s.URL)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("server %q: a server URL has no query or fragment", s.URL)
	}
	return nil
}

// spdxID matches what an SPDX license identifier (or expression without
// spaces) looks like.
var spdxID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+-]*$`)

// emailAddr is a loose check of an email address.
var emailAddr = regexp.MustCompile(`^[^\s<>@]+@[^\s<>@]+$`)

// webURL reports an absolute http or https URL.
func webURL(s string) bool {
	u, err := neturl.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// info returns the document's info object.
func (o OpenAPIOptions) info(svc *Service) (map[string]any, error) {
	for _, s := range []string{o.Title, o.Version, o.License, o.LicenseURL, o.Contact} {
		if !utf8.ValidString(s) {
			return nil, fmt.Errorf("%q is not UTF-8", s)
		}
	}
	info := map[string]any{"title": cmp.Or(o.Title, svc.Name), "version": cmp.Or(o.Version, "1.0.0")}
	if desc := strings.TrimSpace(cleanDoc(svc.Doc)); desc != "" {
		info["description"] = desc
	}
	if o.License != "" || o.LicenseURL != "" {
		lic := map[string]any{"name": o.License}
		switch {
		case o.License == "":
			return nil, errors.New("a license URL needs a license name")
		case o.LicenseURL != "":
			if !webURL(o.LicenseURL) {
				return nil, fmt.Errorf("license URL %q is not an http or https URL", o.LicenseURL)
			}
			lic["url"] = o.LicenseURL
		case spdxID.MatchString(o.License):
			lic["identifier"] = o.License
		default:
			return nil, fmt.Errorf("license %q is not an SPDX identifier such as MIT or Apache-2.0; give its URL too", o.License)
		}
		info["license"] = lic
	}
	if c := strings.TrimSpace(o.Contact); c != "" {
		contact := map[string]any{}
		switch {
		case strings.HasSuffix(c, ">") && strings.Contains(c, "<"):
			i := strings.LastIndex(c, "<")
			name, email := strings.TrimSpace(c[:i]), c[i+1:len(c)-1]
			if !emailAddr.MatchString(email) {
				return nil, fmt.Errorf("contact %q: %q is not an email address", c, email)
			}
			contact["email"] = email
			if name != "" {
				contact["name"] = name
			}
		case strings.Contains(c, "://"):
			if !webURL(c) {
				return nil, fmt.Errorf("contact %q is not an http or https URL", c)
			}
			contact["url"] = c
		case emailAddr.MatchString(c):
			contact["email"] = c
		default:
			contact["name"] = c
		}
		info["contact"] = contact
	}
	return info, nil
}

// openAPIGen builds an OpenAPI 3.1 document whose schemas are JSON Schema
// 2020-12.
type openAPIGen struct {
	svc     *Service
	schemas map[string]any
	names   map[string]string // component name → type key
	keys    map[string]string // type key → component name
	schemes map[string]bool   // security schemes the operations use
	// responses are the shared error responses the operations refer to,
	// by component name.
	responses map[string]any
}

// newOpenAPIGen returns the schema builder of svc's documents. The
// components every document declares, Problem and FieldViolation, are
// reserved: a type of the service with one of those names is declared
// under a name prefixed with its package's, as other clashes are.
func newOpenAPIGen(svc *Service) *openAPIGen {
	g := &openAPIGen{svc: svc, schemas: map[string]any{}, names: map[string]string{}, keys: map[string]string{}, schemes: map[string]bool{},
		responses: map[string]any{}}
	for _, n := range []string{"Problem", "FieldViolation"} {
		g.names[n] = "\x00" + n // no type's key
	}
	return g
}

// renderOpenAPI returns the OpenAPI 3.1 document of the service's HTTP
// routes, indented JSON with sorted keys: deterministic.
//
// The schemas describe what the server reads and writes, as encoding/json
// does: fields by their JSON names with encoding/json's rules for embedded
// structs and tags, integers with the bounds of their Go types (a number
// out of range is refused), json.RawMessage and types with their own
// MarshalJSON as any JSON value, encoding.TextMarshaler types as strings.
// Request bodies leave out the fields the route's path sets, and may be
// empty (the server reads an empty body as the zero request). Enums (named
// integer types with constants) are open, as in proto3: the server accepts
// and keeps values it has no constant for, so the schema allows every
// value of the underlying type and lists the named ones as examples.
func renderOpenAPI(svc *Service, o OpenAPIOptions) ([]byte, error) {
	g := newOpenAPIGen(svc)
	switch o.Security {
	case "", "none":
	default:
		if _, ok := securitySchemes[o.Security]; !ok {
			return nil, fmt.Errorf("unknown security scheme %q: want %s or none", o.Security, strings.Join(schemeNames(), ", "))
		}
		g.schemes[o.Security] = true
	}
	info, err := o.info(svc)
	if err != nil {
		return nil, fmt.Errorf("OpenAPI document: %w", err)
	}
	servers := []any{}
	for _, s := range o.Servers {
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("OpenAPI document: %w", err)
		}
		srv := map[string]any{"url": s.URL}
		if s.Description != "" {
			srv["description"] = s.Description
		}
		servers = append(servers, srv)
	}
	if len(servers) == 0 {
		servers = append(servers, map[string]any{"url": "/", "description": "The server that serves this document."})
	}

	paths := map[string]any{}
	for _, m := range svc.Methods {
		path := strings.ReplaceAll(m.Route.Path, "...}", "}")
		if m.Route.Method == "GET" && path == OpenAPIPath {
			return nil, &Error{Pos: m.Pos, Method: svc.Name + "." + m.Name, Message: "GET " + OpenAPIPath + " is the route of the OpenAPI document"}
		}
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		item[strings.ToLower(m.Route.Method)] = g.operation(m, o.Security)
	}
	g.schemas["Problem"] = problemSchema()
	g.schemas["FieldViolation"] = map[string]any{
		"type":     "object",
		"required": []string{"field", "description"},
		"properties": map[string]any{
			"field":       map[string]any{"type": "string", "description": "The path of the field, such as address.zip."},
			"description": map[string]any{"type": "string"},
		},
	}
	components := map[string]any{"schemas": g.schemas, "responses": g.responses}
	tag := map[string]any{"name": svc.Name}
	if desc := strings.TrimSpace(cleanDoc(svc.Doc)); desc != "" {
		tag["description"] = desc
	} else {
		tag["description"] = "The operations of " + svc.Name + "."
	}
	doc := map[string]any{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
		"info":              info,
		"servers":           servers,
		"tags":              []any{tag},
		"paths":             paths,
		"components":        components,
	}
	if len(g.schemes) > 0 {
		defs := map[string]any{}
		for name := range g.schemes {
			defs[name] = securitySchemes[name]
		}
		components["securitySchemes"] = defs
	}
	if o.Security != "" && o.Security != "none" {
		doc["security"] = []any{map[string]any{o.Security: []string{}}}
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// cleanDoc drops directives from a doc comment.
func cleanDoc(doc string) string {
	var lines []string
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(l, "kit:") || strings.HasPrefix(l, "go:generate") {
			continue
		}
		lines = append(lines, l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// summaryOf is an operation's summary: the first paragraph of the method's
// doc comment, or its name in words.
func summaryOf(m *Method) string {
	if doc := cleanDoc(m.Doc); doc != "" {
		summary, _, _ := strings.Cut(doc, "\n\n")
		return strings.ReplaceAll(summary, "\n", " ")
	}
	words := strings.ReplaceAll(snake(m.Name), "_", " ")
	return strings.ToUpper(words[:1]) + words[1:]
}

func (g *openAPIGen) operation(m *Method, defaultSecurity string) map[string]any {
	op := map[string]any{
		"operationId": m.Name,
		"tags":        []string{g.svc.Name},
		"summary":     summaryOf(m),
	}
	if doc := cleanDoc(m.Doc); doc != "" {
		op["description"] = doc
	}
	switch {
	case m.Security != nil:
		reqs := []any{}
		for _, s := range m.Security {
			reqs = append(reqs, map[string]any{s: []string{}})
			g.schemes[s] = true
		}
		op["security"] = reqs
	case defaultSecurity == "" || defaultSecurity == "none":
		op["security"] = []any{} // public, said explicitly
	}
	var params []any
	bound := map[string]bool{}
	for _, b := range m.PathBindings {
		bound[b.Field.JSON] = true
		params = append(params, map[string]any{"name": b.Key, "in": "path", "required": true, "schema": g.schema(b.Field.Type)})
	}
	for _, b := range m.QueryBindings {
		p := map[string]any{"name": b.Key, "in": "query", "schema": g.schema(b.Field.Type)}
		if b.Slice {
			p["schema"] = map[string]any{"type": "array", "items": g.schema(b.Elem)}
			p["explode"] = true
		}
		if b.Pointer {
			p["schema"] = g.schema(b.Elem)
		}
		params = append(params, p)
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if m.Body {
		desc := "The request as JSON. An empty body is the zero request: absent fields are zero values."
		if len(m.PathBindings) > 0 {
			var keys []string
			for _, b := range m.PathBindings {
				keys = append(keys, b.Key)
			}
			desc += " The path sets " + strings.Join(keys, ", ") + "; the body does not."
		}
		op["requestBody"] = map[string]any{
			"description": desc,
			"required":    false,
			"content":     map[string]any{"application/json": map[string]any{"schema": g.bodySchema(m, bound)}},
		}
		if m.ClientStreams() {
			op["requestBody"] = g.streamRequestBody(m)
		}
	}
	responses := map[string]any{
		"200": map[string]any{
			"description": "OK",
			"content":     map[string]any{"application/json": map[string]any{"schema": g.messageSchema(m.Response, nil, "")}},
		},
	}
	if m.ServerStreams() {
		responses["200"] = g.streamResponse(m)
	}
	for _, pc := range problemCodes {
		if pc.status == "415" && !m.Body {
			continue
		}
		name := problemResponseName(pc.status)
		g.responses[name] = map[string]any{
			"description": pc.desc,
			"content":     map[string]any{"application/problem+json": map[string]any{"schema": ref("Problem"), "example": problemExample(pc.status, pc.desc)}},
		}
		responses[pc.status] = map[string]any{"$ref": "#/components/responses/" + name}
	}
	op["responses"] = responses
	return op
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

// The document is OpenAPI 3.1, which has no way to describe the items of a
// streamed body: a stream's media types carry the schema of one item in
// "x-itemSchema", the member OpenAPI 3.2 names itemSchema, beside a schema
// of the whole body as a string, which 3.1 tools read.

// streamRequestBody describes a body that is a stream of requests.
func (g *openAPIGen) streamRequestBody(m *Method) map[string]any {
	item := g.messageSchema(m.Request, nil, "")
	media := func(what string) map[string]any {
		return map[string]any{
			"schema":       map[string]any{"type": "string", "description": what},
			"x-itemSchema": item,
		}
	}
	return map[string]any{
		"description": "A stream of requests, one JSON object a line, read as it arrives.",
		"required":    true,
		"content": map[string]any{
			"application/x-ndjson": media("Newline-delimited JSON: one request a line."),
			"application/jsonl":    media("JSON Lines: one request a line."),
		},
	}
}

// streamResponse describes a response that is a stream of responses.
func (g *openAPIGen) streamResponse(m *Method) map[string]any {
	item := g.messageSchema(m.Response, nil, "")
	line := map[string]any{
		"type":          "object",
		"description":   "One line of the stream: a result, or the error that ended the stream.",
		"minProperties": 1,
		"maxProperties": 1,
		"properties": map[string]any{
			"result": item,
			"error":  ref("Problem"),
		},
	}
	lines := func(what string) map[string]any {
		return map[string]any{
			"schema":       map[string]any{"type": "string", "description": what},
			"x-itemSchema": line,
		}
	}
	return map[string]any{
		"description": "A stream of responses, in the format the Accept header asks for. Server-Sent Events (text/event-stream): an event for each response, with an id and the response's JSON as data; an \"error\" event whose data is a Problem when an error ends the stream; an \"end\" event when it ends without one; a comment now and then while there is nothing to send. Otherwise one JSON object a line, {\"result\": response} or, last, {\"error\": problem}.",
		"content": map[string]any{
			"text/event-stream": map[string]any{
				"schema":       map[string]any{"type": "string", "description": "Server-Sent Events; each event's data is one response as JSON."},
				"x-itemSchema": item,
			},
			"application/x-ndjson": lines("Newline-delimited JSON."),
			"application/jsonl":    lines("JSON Lines."),
		},
	}
}

// bodySchema is the schema of a method's request body: the request's
// schema without the fields the path sets.
func (g *openAPIGen) bodySchema(m *Method, bound map[string]bool) map[string]any {
	if len(bound) == 0 {
		return g.messageSchema(m.Request, nil, "")
	}
	name := m.Name + "RequestBody"
	if m.Request.Generated() {
		name = m.Request.Name + "Body"
	}
	return g.messageSchema(m.Request, bound, name)
}

// messageSchema is the schema of a request or response: a reference to a
// component for generated structs and named types. Fields whose JSON
// names skip holds are left out, in a component of their own, name.
func (g *openAPIGen) messageSchema(msg *Message, skip map[string]bool, name string) map[string]any {
	if len(skip) > 0 {
		name = g.freeName(name)
		g.names[name] = name
		var s map[string]any
		if msg.Generated() {
			s = g.generatedSchema(msg, skip)
		} else {
			st := structOf(msg.Type)
			s = g.structSchema(st, skip)
		}
		s["description"] = "The body of the request: " + g.typeName(msg) + " without the fields the path sets."
		g.schemas[name] = s
		if !msg.Generated() && msg.Pointer {
			return nullable(ref(name))
		}
		return ref(name)
	}
	if !msg.Generated() {
		return g.schema(msg.Type)
	}
	if _, ok := g.schemas[msg.Name]; !ok {
		g.names[msg.Name] = msg.Name
		g.schemas[msg.Name] = g.generatedSchema(msg, nil)
	}
	return ref(msg.Name)
}

// typeName names a message's type for a description.
func (g *openAPIGen) typeName(msg *Message) string {
	if msg.Generated() {
		return msg.Name
	}
	t := msg.Type
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	return types.TypeString(t, func(p *types.Package) string {
		if p == g.svc.Pkg {
			return ""
		}
		return p.Name()
	})
}

// freeName returns name, or name with a number, unused by the components.
func (g *openAPIGen) freeName(name string) string {
	n := name
	for i := 2; ; i++ {
		if _, taken := g.names[n]; !taken {
			if _, taken := g.schemas[n]; !taken {
				return n
			}
		}
		n = name + strconv.Itoa(i)
	}
}

// generatedSchema is the schema of a message the generator declares: one
// field per parameter or result, none omitted.
func (g *openAPIGen) generatedSchema(msg *Message, skip map[string]bool) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range msg.Fields {
		if skip[f.JSON] {
			continue
		}
		props[f.JSON] = g.schema(f.Type)
		if _, isPtr := types.Unalias(f.Type).(*types.Pointer); !isPtr {
			required = append(required, f.JSON)
		}
	}
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// The interfaces encoding/json consults.
var (
	jsonMarshaler = bytesMethod("MarshalJSON", false)
	textMarshaler = bytesMethod("MarshalText", false)
)

// bytesMethod is the interface of one method of encoding's marshalers:
// name([]byte) error when it takes the bytes (UnmarshalJSON,
// UnmarshalText), name() ([]byte, error) when it returns them.
func bytesMethod(name string, takes bool) *types.Interface {
	bytesType := types.NewVar(0, nil, "", types.NewSlice(types.Typ[types.Byte]))
	errType := types.NewVar(0, nil, "", types.Universe.Lookup("error").Type())
	params, results := types.NewTuple(), types.NewTuple(bytesType, errType)
	if takes {
		params, results = types.NewTuple(bytesType), types.NewTuple(errType)
	}
	sig := types.NewSignatureType(nil, nil, nil, params, results, false)
	return types.NewInterfaceType([]*types.Func{types.NewFunc(0, nil, name, sig)}, nil).Complete()
}

// implements reports whether t or *t has the interface's methods, as
// encoding/json finds them (the pointer's when the value is addressable).
func implements(t types.Type, iface *types.Interface) bool {
	if types.Implements(t, iface) {
		return true
	}
	if _, isPtr := t.Underlying().(*types.Pointer); isPtr || types.IsInterface(t) {
		return false
	}
	return types.Implements(types.NewPointer(t), iface)
}

// schema returns the JSON Schema of the JSON encoding/json writes for t.
func (g *openAPIGen) schema(t types.Type) map[string]any {
	switch u := types.Unalias(t).(type) {
	case *types.Pointer:
		return nullable(g.schema(u.Elem()))
	case *types.Named:
		obj := u.Obj()
		if wk := wellKnownOf(u); wk != nil && wk.schema != nil {
			return wk.schema()
		}
		if implements(u, jsonMarshaler) {
			return map[string]any{"description": "Any JSON value: " + obj.Name() + " has its own JSON encoding."}
		}
		if implements(u, textMarshaler) {
			return map[string]any{"type": "string"}
		}
		if e := g.enum(u); e != nil {
			return e
		}
		if _, isStruct := u.Underlying().(*types.Struct); isStruct {
			return ref(g.component(u))
		}
		return g.schema(u.Underlying())
	case *types.Basic:
		if b := basicKinds[u.Kind()]; b != nil {
			return basicSchema(b)
		}
		return map[string]any{}
	case *types.Slice:
		if isByte(u.Elem()) {
			return map[string]any{"type": []string{"string", "null"}, "contentEncoding": "base64"}
		}
		return map[string]any{"type": []string{"array", "null"}, "items": g.schema(u.Elem())}
	case *types.Array:
		return map[string]any{"type": "array", "items": g.schema(u.Elem()), "minItems": u.Len(), "maxItems": u.Len()}
	case *types.Map:
		s := map[string]any{"type": []string{"object", "null"}, "additionalProperties": g.schema(u.Elem())}
		if b, ok := u.Key().Underlying().(*types.Basic); ok && b.Info()&types.IsInteger != 0 && !implements(u.Key(), textMarshaler) {
			s["propertyNames"] = map[string]any{"pattern": intPattern(b)}
		}
		return s
	case *types.Struct:
		return g.structSchema(u, nil)
	}
	return map[string]any{}
}

// intPattern matches the decimal form of an integer type's values, as
// encoding/json writes map keys.
func intPattern(b *types.Basic) string {
	if b.Info()&types.IsUnsigned != 0 {
		return "^(0|[1-9][0-9]*)$"
	}
	return "^(0|-?[1-9][0-9]*)$"
}

// nullable lets a schema also accept null, as a nil pointer encodes.
func nullable(s map[string]any) map[string]any {
	if _, isRef := s["$ref"]; isRef {
		return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
	}
	switch t := s["type"].(type) {
	case string:
		c := maps.Clone(s)
		c["type"] = []string{t, "null"}
		return c
	case []string:
		if slices.Contains(t, "null") {
			return s
		}
		c := maps.Clone(s)
		c["type"] = append(append([]string{}, t...), "null")
		return c
	}
	return s
}

// component declares a named struct's schema once and returns its name.
func (g *openAPIGen) component(n *types.Named) string {
	key := types.TypeString(n, nil)
	if name, ok := g.keys[key]; ok {
		return name
	}
	name := n.Obj().Name()
	for i := 0; i < n.TypeArgs().Len(); i++ {
		if a, ok := types.Unalias(n.TypeArgs().At(i)).(*types.Named); ok {
			name += a.Obj().Name()
		} else {
			name += exportName(strings.Map(func(r rune) rune {
				if unicode.IsLetter(r) || unicode.IsDigit(r) {
					return r
				}
				return -1
			}, types.TypeString(n.TypeArgs().At(i), func(p *types.Package) string { return p.Name() })))
		}
	}
	if other, taken := g.names[name]; taken && other != key && n.Obj().Pkg() != nil {
		name = exportName(n.Obj().Pkg().Name()) + name
	}
	name = g.freeNameFor(name, key)
	g.names[name], g.keys[key] = key, name
	g.schemas[name] = map[string]any{} // placeholder for recursive types
	s := g.structSchema(n.Underlying().(*types.Struct), nil)
	if n.Obj().Pkg() == g.svc.Pkg {
		if doc := strings.TrimSpace(g.svc.typeDocs[n.Obj().Name()]); doc != "" {
			s["description"] = doc
		}
	}
	g.schemas[name] = s
	return name
}

// freeNameFor returns name, or name with a number, unless another type
// (or a component of the generator's own) holds it.
func (g *openAPIGen) freeNameFor(name, key string) string {
	n := name
	for i := 2; ; i++ {
		other, taken := g.names[n]
		if !taken || other == key {
			return n
		}
		n = name + strconv.Itoa(i)
	}
}

// jsonField is a field of a struct's JSON object, as encoding/json finds
// it.
type jsonField struct {
	name   string
	tagged bool
	index  []int
	typ    types.Type
	omit   bool // omitempty or omitzero
	quoted bool // the ",string" option on a scalar
	// viaPointer reports a field promoted through an embedded pointer,
	// which encoding/json leaves out when the pointer is nil.
	viaPointer bool
}

// jsonFields returns the fields of a struct's JSON object with
// encoding/json's rules (its typeFields): exported fields and the fields
// of embedded structs, breadth first, a shallower field hiding deeper ones
// of the same name, a tagged one winning at equal depth, and two at equal
// depth with neither tagged hiding each other.
func jsonFields(st *types.Struct) []jsonField {
	type level struct {
		st         *types.Struct
		key        string
		index      []int
		viaPointer bool
	}
	var fields []jsonField
	next := []level{{st: st, key: types.TypeString(st, nil)}}
	var count map[string]int
	nextCount := map[string]int{}
	visited := map[string]bool{}
	for len(next) > 0 {
		current := next
		next = nil
		count, nextCount = nextCount, map[string]int{}
		for _, l := range current {
			if visited[l.key] {
				continue
			}
			visited[l.key] = true
			for i := 0; i < l.st.NumFields(); i++ {
				sf := l.st.Field(i)
				ft := sf.Type()
				if p, ok := types.Unalias(ft).(*types.Pointer); ok {
					ft = p.Elem()
				}
				_, isStruct := ft.Underlying().(*types.Struct)
				if sf.Embedded() {
					if !sf.Exported() && !isStruct {
						continue
					}
				} else if !sf.Exported() {
					continue
				}
				tag := reflect.StructTag(l.st.Tag(i)).Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validJSONTag(name) {
					name = ""
				}
				index := append(slices.Clip(l.index), i)
				if name != "" || !sf.Embedded() || !isStruct {
					f := jsonField{name: name, tagged: name != "", index: index, typ: sf.Type(), viaPointer: l.viaPointer}
					if f.name == "" {
						f.name = sf.Name()
					}
					for _, o := range strings.Split(opts, ",") {
						switch o {
						case "omitempty", "omitzero":
							f.omit = true
						case "string":
							if b, ok := types.Unalias(f.typ).Underlying().(*types.Basic); ok && b.Info()&(types.IsBoolean|types.IsNumeric|types.IsString) != 0 {
								f.quoted = true
							}
						}
					}
					fields = append(fields, f)
					if count[l.key] > 1 {
						// Two embeddings of one type at this depth:
						// its fields annihilate each other.
						fields = append(fields, f)
					}
					continue
				}
				key := types.TypeString(ft, nil)
				nextCount[key]++
				if nextCount[key] == 1 {
					_, embeddedPtr := types.Unalias(sf.Type()).(*types.Pointer)
					next = append(next, level{st: ft.Underlying().(*types.Struct), key: key, index: index, viaPointer: l.viaPointer || embeddedPtr})
				}
			}
		}
	}
	slices.SortStableFunc(fields, func(a, b jsonField) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := len(a.index) - len(b.index); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(a.index, b.index)
	})
	var out []jsonField
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].name == fields[i].name {
			j++
		}
		group := fields[i:j]
		if len(group) == 1 || len(group[0].index) != len(group[1].index) || group[0].tagged != group[1].tagged {
			out = append(out, group[0])
		}
		i = j
	}
	slices.SortFunc(out, func(a, b jsonField) int { return slices.Compare(a.index, b.index) })
	return out
}

// validJSONTag reports a JSON name encoding/json accepts in a tag.
func validJSONTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// structSchema is the schema of a struct's JSON object: its fields as
// [jsonFields] finds them, required unless omitempty, omitzero, a pointer
// or promoted through an embedded pointer; fields whose JSON names skip
// holds are left out.
func (g *openAPIGen) structSchema(st *types.Struct, skip map[string]bool) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range jsonFields(st) {
		if skip[f.name] {
			continue
		}
		if f.quoted {
			props[f.name] = quotedSchema(f.typ)
		} else {
			props[f.name] = g.schema(f.typ)
		}
		_, isPtr := types.Unalias(f.typ).(*types.Pointer)
		if !isPtr && !f.omit && !f.viaPointer {
			required = append(required, f.name)
		}
	}
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// quotedSchema is the schema of a scalar with the ",string" option: its
// JSON inside a string.
func quotedSchema(t types.Type) map[string]any {
	b := types.Unalias(t).Underlying().(*types.Basic)
	switch {
	case b.Info()&types.IsBoolean != 0:
		return map[string]any{"type": "string", "enum": []string{"true", "false"}}
	case b.Info()&types.IsInteger != 0:
		return map[string]any{"type": "string", "pattern": intPattern(b)}
	case b.Info()&types.IsFloat != 0:
		return map[string]any{"type": "string", "description": "A number, as a string."}
	}
	return map[string]any{"type": "string", "description": "A JSON string, as a string."}
}

// enumConstant is a constant of an enum type: its name and value.
type enumConstant struct {
	name string
	v    constant.Value
}

// enumConstants returns the exported constants of the named type n
// declared in its package, in value order (names break ties).
func enumConstants(n *types.Named) []enumConstant {
	scope := n.Obj().Pkg().Scope()
	var values []enumConstant
	for _, name := range scope.Names() {
		c, ok := scope.Lookup(name).(*types.Const)
		if ok && types.Identical(c.Type(), n) && c.Exported() {
			values = append(values, enumConstant{name, c.Val()})
		}
	}
	slices.SortStableFunc(values, func(a, b enumConstant) int {
		switch {
		case constant.Compare(a.v, token.LSS, b.v):
			return -1
		case constant.Compare(a.v, token.GTR, b.v):
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	return values
}

// enum returns the schema of a named integer type with constants. Enums
// are open: the server accepts every value of the underlying type (JSON
// and protobuf alike keep values without a constant), so the schema is
// the underlying integer's, with the named values, in value order, as
// examples and in the description.
func (g *openAPIGen) enum(n *types.Named) map[string]any {
	b, ok := n.Underlying().(*types.Basic)
	if !ok || b.Info()&types.IsInteger == 0 || n.Obj().Pkg() == nil {
		return nil
	}
	values := enumConstants(n)
	if len(values) == 0 {
		return nil
	}
	var examples []any
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = v.name + " = " + v.v.ExactString()
		if i == 0 || constant.Compare(values[i-1].v, token.NEQ, v.v) {
			if x, exact := constant.Int64Val(v.v); exact {
				examples = append(examples, x)
			} else if x, exact := constant.Uint64Val(v.v); exact {
				examples = append(examples, x)
			}
		}
	}
	s := basicSchema(basicKinds[b.Kind()])
	s["examples"] = examples
	s["description"] = n.Obj().Name() + ": " + strings.Join(names, ", ") + ". Other values are accepted and kept."
	return s
}

// problemExample is the problem body the server writes with the status,
// for the first code of the status's description.
func problemExample(status, desc string) map[string]any {
	n, _ := strconv.Atoi(status)
	code := strings.FieldsFunc(desc, func(r rune) bool { return r == ',' || r == ':' || r == ' ' })[0]
	title := http.StatusText(n)
	if title == "" {
		title = code
	}
	ex := map[string]any{"title": title, "status": n, "code": code}
	if n == http.StatusBadRequest {
		ex["detail"] = "the request is not valid"
		ex["violations"] = []any{map[string]any{"field": "name", "description": "must not be empty"}}
	}
	return ex
}

func problemSchema() map[string]any {
	return map[string]any{
		"type":        "object",
		"description": "An RFC 9457 problem document: the error of a call, with its kit code.",
		"required":    []string{"title", "status", "code"},
		"properties": map[string]any{
			"type":       map[string]any{"type": "string"},
			"title":      map[string]any{"type": "string", "description": "The HTTP status text."},
			"status":     map[string]any{"type": "integer", "description": "The HTTP status."},
			"detail":     map[string]any{"type": "string", "description": "The public message of the error."},
			"code":       map[string]any{"type": "string", "enum": codeNamesForSchema, "description": "The kit code of the error."},
			"violations": map[string]any{"type": "array", "items": ref("FieldViolation"), "description": "The fields of the request that are wrong."},
		},
	}
}

// openAPI returns the OpenAPI options with Options' own fields in place.
func (o *Options) openAPI() OpenAPIOptions {
	oa := o.OpenAPI
	oa.Version = cmp.Or(oa.Version, o.OpenAPIVersion)
	oa.Security = cmp.Or(oa.Security, o.Security)
	return oa
}

// problemResponseName is the component name of the shared error response of
// an HTTP status: its status text without spaces, such as "BadRequest", or
// "Canceled" for 499.
func problemResponseName(status string) string {
	code, _ := strconv.Atoi(status)
	text := http.StatusText(code)
	if text == "" {
		return "Canceled"
	}
	return strings.NewReplacer(" ", "", "-", "").Replace(text)
}
