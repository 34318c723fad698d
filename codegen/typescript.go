package codegen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/constant"
	"go/types"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// The TypeScript client (kitgen -transports typescript) is one .ts file:
// the types of every request and response, and a class that calls the
// service's HTTP routes with fetch, one async method per operation. Its
// types come from the JSON Schemas of the OpenAPI document (openAPIGen),
// so that the client reads and writes what the server's encoding/json
// does:
//
//	Go type                         JSON Schema                      TypeScript
//	bool                            boolean                          boolean
//	int8 … int32, uint8 … uint32    integer with its bounds          number
//	int, int64, uint, uint64,       integer (int64 bounds or         Int64 (number | bigint)
//	uintptr, time.Duration          uint64 bounds)
//	float32, float64                number                           number
//	string                          string                           string
//	[]byte                          string, base64                   string (base64)
//	time.Time                       string, date-time                string (RFC 3339)
//	T with MarshalText              string                           string
//	json.RawMessage, MarshalJSON    any JSON value                   unknown
//	,string on a scalar             string (pattern, enum)           string, or "true" | "false"
//	named integer with constants    integer with examples            a union of its values, and a const of their names
//	struct                          object, component                interface (required fields plain, others ?)
//	*T                              T or null                        T | null
//	[]T                             array or null                    T[] | null
//	[N]T                            array of N items                 T[]
//	map[K]V                         object or null (additional-      Record<string, V> | null
//	                                Properties)
//
// JavaScript numbers are exact only up to 2^53 − 1. A 64-bit integer is
// an Int64: a number when it is a safe integer, else a bigint. The client
// reads response bodies with a small JSON reader that knows, from the
// schemas, where the 64-bit integers are (the shapes of kitShapes): there
// an integer beyond the safe range becomes a bigint, exactly; everywhere
// else a number is a number, as JSON.parse reads it, so a float64 field
// never holds a bigint. In a value of any JSON (unknown) every unsafe
// integer is a bigint. Request bodies are written by a writer that writes
// a bigint as its digits; path and query parameters format it with
// toString.

// typeScriptTransport emits the TypeScript client of the HTTP routes.
type typeScriptTransport struct{}

func (typeScriptTransport) name() string              { return "typescript" }
func (typeScriptTransport) wanted(opts *Options) bool { return opts.TypeScript }

func (typeScriptTransport) emit(svc *Service, opts *Options, files map[string][]byte) error {
	src, err := renderTypeScript(svc, opts)
	if err != nil {
		return err
	}
	files[opts.TypeScriptFile] = src
	return nil
}

// tsGen renders the TypeScript client of a service.
type tsGen struct {
	svc  *Service
	opts *Options
	g    *openAPIGen
	// names are the TypeScript names of the components the file
	// declares, by component name; used holds every name the file's
	// top level takes.
	names map[string]string
	used  map[string]bool
	// enums are the enums of the service's messages, by the JSON of
	// their schemas; enumList has them in the order they were found.
	enums    map[string]*tsEnum
	enumList []*tsEnum
	// shaped reports the components whose values hold a 64-bit integer
	// or any JSON value: the JSON reader needs their shapes, of those a
	// response holds (read).
	shaped, read map[string]bool
	// docs are the doc comments of generated messages, by component
	// name.
	docs map[string]string
}

// tsEnum is an enum (a named integer type with constants) in TypeScript:
// a union of its values and a const object of their names.
type tsEnum struct {
	named  *types.Named
	schema map[string]any
	name   string
	consts []tsEnumConst
	used   bool
}

// tsEnumConst is a constant of an enum: its name and its value as a
// TypeScript literal.
type tsEnumConst struct {
	name, lit string
}

// tsMethod is one method of the client class.
type tsMethod struct {
	m *Method
	// name is the method's name in TypeScript.
	name string
	// req and resp are the TypeScript types of the request and the
	// response; reqOptional reports a request without required fields,
	// which the method takes as {} when it is left out.
	req, resp   string
	reqOptional bool
	// path is the TypeScript expression of the URL's path.
	path string
	// query are the query parameters: the key and the expression of the
	// value.
	query [][2]string
	// omit are the request's properties that the path holds, which the
	// body leaves out.
	omit []string
	// shape is the TypeScript literal of the response's shape, or "".
	shape string
}

// tsMaxSafe is Number.MAX_SAFE_INTEGER, 2^53 − 1.
const tsMaxSafe = 1<<53 - 1

// renderTypeScript returns the TypeScript client of the service.
func renderTypeScript(svc *Service, opts *Options) ([]byte, error) {
	// The client has the unary methods; streams are read with EventSource
	// or fetch, as the OpenAPI document describes them.
	var streams []*Method
	if slices.ContainsFunc(svc.Methods, (*Method).Streams) {
		unary := *svc
		unary.Methods = nil
		for _, m := range svc.Methods {
			if m.Streams() {
				streams = append(streams, m)
			} else {
				unary.Methods = append(unary.Methods, m)
			}
		}
		svc = &unary
	}
	t := &tsGen{svc: svc, opts: opts, names: map[string]string{}, used: map[string]bool{}, enums: map[string]*tsEnum{},
		shaped: map[string]bool{}, read: map[string]bool{}, docs: map[string]string{},
		g: newOpenAPIGen(svc)}
	for n := range tsReserved {
		t.used[n] = true
	}
	t.used[svc.Name+"Client"] = true
	for _, n := range tsRuntimeNames {
		t.used[n] = true
	}

	// The operations first, in the order of the OpenAPI document, so that
	// the components have the document's names; then the request
	// messages, which the document has only as parameters and bodies.
	ops := make([]map[string]any, len(svc.Methods))
	for i, m := range svc.Methods {
		ops[i] = t.g.operation(m, "")
	}
	reqs := make([]map[string]any, len(svc.Methods))
	resps := make([]map[string]any, len(svc.Methods))
	for i, m := range svc.Methods {
		reqs[i] = t.requestSchema(m)
		resps[i] = ops[i]["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
		for _, msg := range []*Message{m.Request, m.Response} {
			t.walkMessage(msg)
		}
		if m.Request.Generated() {
			t.docs[m.Request.Name] = "The request of " + svc.Name + "." + m.Name + "."
		}
		if m.Response.Generated() {
			t.docs[m.Response.Name] = "The response of " + svc.Name + "." + m.Name + "."
		}
	}

	// The components the methods' types reach, by name, sorted.
	reach := map[string]bool{}
	for i := range svc.Methods {
		t.reach(reqs[i], reach)
		t.reach(resps[i], reach)
		t.reach(resps[i], t.read)
	}
	components := slices.Sorted(maps.Keys(reach))
	for _, c := range components {
		t.names[c] = t.freeName(c, "")
	}
	for _, e := range t.enumList {
		pkg := ""
		if p := e.named.Obj().Pkg(); p != nil {
			pkg = exportName(p.Name())
		}
		e.name = t.freeName(e.named.Obj().Name(), pkg)
	}
	// A component is shaped when its schema is, with the components it
	// refers to; the loop ends when no more become so.
	for changed := true; changed; {
		changed = false
		for _, c := range components {
			if !t.shaped[c] && t.shapeOf(t.component(c)) != "" {
				t.shaped[c], changed = true, true
			}
		}
	}

	methods := make([]*tsMethod, len(svc.Methods))
	taken := map[string]bool{"constructor": true}
	for i, m := range svc.Methods {
		tm := &tsMethod{m: m, name: lowerCamel(m.Name)}
		for taken[tm.name] {
			tm.name += "_"
		}
		taken[tm.name] = true
		tm.req = t.typeOf(reqs[i]).text
		tm.reqOptional = len(requiredOf(t.resolve(reqs[i]))) == 0
		tm.resp = t.typeOf(resps[i]).text
		tm.shape = t.shapeOf(resps[i])
		tm.path = t.pathExpr(m)
		for _, b := range m.PathBindings {
			tm.omit = append(tm.omit, b.Field.JSON)
		}
		for _, b := range m.QueryBindings {
			tm.query = append(tm.query, [2]string{b.Key, "req" + tsAccess(b.Field.JSON)})
		}
		methods[i] = tm
	}

	var b strings.Builder
	t.header(&b)
	if len(streams) > 0 {
		b.WriteString("\n// Not in this client, as they stream: ")
		for i, m := range streams {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(m.Name + " (" + m.Route.Pattern() + ")")
		}
		b.WriteString(". Read a stream of responses with EventSource (text/event-stream)\n// or fetch (application/x-ndjson), as the OpenAPI document describes them.\n")
	}
	t.client(&b, methods)
	// The service's types, sorted by name.
	type decl struct{ name, text string }
	var decls []decl
	for _, c := range components {
		decls = append(decls, decl{t.names[c], t.declaration(c)})
	}
	for _, e := range t.enumList {
		if e.used {
			decls = append(decls, decl{e.name, t.enumDeclaration(e)})
		}
	}
	slices.SortFunc(decls, func(a, b decl) int { return strings.Compare(a.name, b.name) })
	for _, d := range decls {
		b.WriteString("\n")
		b.WriteString(d.text)
	}
	b.WriteString(t.runtime(components))
	var path, query, omit bool
	for _, tm := range methods {
		path = path || len(tm.m.PathBindings) > 0
		query = query || len(tm.query) > 0
		omit = omit || len(tm.omit) > 0 && tm.m.Body
	}
	for _, h := range []struct {
		used bool
		text string
	}{{path, tsPathHelper}, {query, tsQueryHelper}, {omit, tsOmitHelper}} {
		if h.used {
			b.WriteString(h.text)
		}
	}
	return []byte(b.String()), nil
}

// requestSchema is the schema of a method's request as the client takes
// it: every field, those of the path and the query too. A nil request
// pointer is the zero request, so a pointer's schema is its struct's.
func (t *tsGen) requestSchema(m *Method) map[string]any {
	msg := m.Request
	if msg.Generated() {
		if other, taken := t.g.names[msg.Name]; taken && other != msg.Name {
			// A type of another package holds the name.
			name := t.g.freeName(msg.Name)
			t.g.names[name] = name
			t.g.schemas[name] = t.g.generatedSchema(msg, nil)
			return ref(name)
		}
	}
	s := t.g.messageSchema(msg, nil, "")
	if alts, ok := s["anyOf"].([]any); ok && len(alts) == 2 {
		s = alts[0].(map[string]any)
	}
	return s
}

// component returns the schema of a component.
func (t *tsGen) component(name string) map[string]any {
	s, _ := t.g.schemas[name].(map[string]any)
	return s
}

// resolve returns the schema a reference names, or s.
func (t *tsGen) resolve(s map[string]any) map[string]any {
	if r, ok := s["$ref"].(string); ok {
		return t.component(strings.TrimPrefix(r, componentRef))
	}
	return s
}

// reach adds the components s refers to, directly or through others.
func (t *tsGen) reach(v any, seen map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if r, ok := e.(string); ok && k == "$ref" {
				name := strings.TrimPrefix(r, componentRef)
				if !seen[name] {
					seen[name] = true
					t.reach(t.component(name), seen)
				}
				continue
			}
			t.reach(e, seen)
		}
	case []any:
		for _, e := range v {
			t.reach(e, seen)
		}
	}
}

// freeName returns name, or name with pkg before it, or either with
// underscores after it, whichever the file's top level does not hold yet,
// and takes it.
func (t *tsGen) freeName(name, pkg string) string {
	if !tsIdentifier(name + "_") {
		name = "T_" + name // not an identifier however it ends
	}
	n := name
	if t.used[n] && pkg != "" && !t.used[pkg+name] {
		n = pkg + name
	}
	for t.used[n] || !tsIdentifier(n) {
		n += "_"
	}
	t.used[n] = true
	return n
}

// walkMessage finds the enums of a message's types.
func (t *tsGen) walkMessage(msg *Message) {
	seen := map[string]bool{}
	if !msg.Generated() {
		t.walk(msg.Type, seen)
		return
	}
	for _, f := range msg.Fields {
		t.walk(f.Type, seen)
	}
}

// walk finds the enums of a type as [openAPIGen.schema] does: the types
// that encoding/json writes by their shapes, the fields of structs, the
// elements of slices, arrays and maps.
func (t *tsGen) walk(typ types.Type, seen map[string]bool) {
	switch u := types.Unalias(typ).(type) {
	case *types.Pointer:
		t.walk(u.Elem(), seen)
	case *types.Named:
		key := types.TypeString(u, nil)
		if seen[key] || wellKnownOf(u) != nil || implements(u, jsonMarshaler) || implements(u, textMarshaler) {
			return
		}
		seen[key] = true
		if s := t.g.enum(u); s != nil {
			t.addEnum(u, s)
			return
		}
		t.walk(u.Underlying(), seen)
	case *types.Slice:
		t.walk(u.Elem(), seen)
	case *types.Array:
		t.walk(u.Elem(), seen)
	case *types.Map:
		t.walk(u.Elem(), seen)
	case *types.Struct:
		for _, f := range jsonFields(u) {
			if !f.quoted {
				t.walk(f.typ, seen)
			}
		}
	}
}

// addEnum records an enum with its schema and its constants.
func (t *tsGen) addEnum(n *types.Named, s map[string]any) {
	key := schemaKey(s)
	if _, ok := t.enums[key]; ok {
		return
	}
	e := &tsEnum{named: n, schema: s}
	for _, v := range enumConstants(n) {
		e.consts = append(e.consts, tsEnumConst{name: v.name, lit: tsIntLiteral(v.v)})
	}
	t.enums[key] = e
	t.enumList = append(t.enumList, e)
}

// tsIntLiteral is the TypeScript literal of an integer constant: a number
// when it is safe, else a bigint.
func tsIntLiteral(v constant.Value) string {
	s := v.ExactString()
	if x, exact := constant.Int64Val(v); exact && x >= -tsMaxSafe && x <= tsMaxSafe {
		return s
	}
	return s + "n"
}

// schemaKey is the JSON of a schema, which identifies it.
func schemaKey(s map[string]any) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// schemaTypes returns the JSON Schema types of s without "null", and
// whether "null" is one of them.
func schemaTypes(s map[string]any) ([]string, bool) {
	var ts []string
	switch v := s["type"].(type) {
	case string:
		ts = []string{v}
	case []string:
		ts = v
	case []any:
		for _, e := range v {
			if str, ok := e.(string); ok {
				ts = append(ts, str)
			}
		}
	}
	null := slices.Contains(ts, "null")
	return slices.DeleteFunc(slices.Clone(ts), func(s string) bool { return s == "null" }), null
}

// requiredOf returns the required properties of an object schema.
func requiredOf(s map[string]any) []string {
	switch v := s["required"].(type) {
	case []string:
		return v
	case []any:
		var out []string
		for _, e := range v {
			if str, ok := e.(string); ok {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}

// is64 reports an integer schema whose values JavaScript numbers may not
// hold exactly: format int64 or uint64, or bounds beyond 2^53 − 1.
func is64(s map[string]any) bool {
	if f, _ := s["format"].(string); f == "int64" || f == "uint64" {
		return true
	}
	return beyondSafe(s["minimum"]) || beyondSafe(s["maximum"])
}

// beyondSafe reports a number whose magnitude is more than 2^53 − 1.
func beyondSafe(v any) bool {
	switch v := v.(type) {
	case int:
		return v < -tsMaxSafe || v > tsMaxSafe
	case int64:
		return v < -tsMaxSafe || v > tsMaxSafe
	case uint64:
		return v > tsMaxSafe
	case float64:
		return math.Abs(v) > tsMaxSafe
	case json.Number:
		f, err := v.Float64()
		return err == nil && math.Abs(f) > tsMaxSafe
	}
	return false
}

// tsType is a TypeScript type: its text, and whether it is a union at its
// top level (which an array type needs in parentheses).
type tsType struct {
	text  string
	union bool
}

// typeOf returns the TypeScript type of the values of a schema.
func (t *tsGen) typeOf(s map[string]any) tsType {
	if r, ok := s["$ref"].(string); ok {
		return tsType{text: t.names[strings.TrimPrefix(r, componentRef)]}
	}
	if alts, ok := s["anyOf"].([]any); ok {
		var parts []string
		for _, a := range alts {
			if m, ok := a.(map[string]any); ok {
				for _, p := range splitUnion(t.typeOf(m)) {
					if !slices.Contains(parts, p) {
						parts = append(parts, p)
					}
				}
			}
		}
		return union(parts)
	}
	kinds, null := schemaTypes(s)
	if len(kinds) == 0 {
		if null {
			return tsType{text: "null"}
		}
		if lits, ok := s["enum"].([]string); ok && len(lits) > 0 {
			return union(quoteAll(lits))
		}
		return tsType{text: "unknown"} // any JSON value, null too
	}
	var parts []string
	for _, k := range kinds {
		one := maps.Clone(s)
		one["type"] = k
		parts = append(parts, splitUnion(t.typeOfKind(k, one))...)
	}
	if null {
		parts = append(parts, "null")
	}
	return union(parts)
}

// typeOfKind returns the TypeScript type of a schema of one JSON type.
func (t *tsGen) typeOfKind(kind string, s map[string]any) tsType {
	switch kind {
	case "string":
		if lits, ok := s["enum"].([]string); ok && len(lits) > 0 {
			return union(quoteAll(lits))
		}
		return tsType{text: "string"}
	case "boolean":
		return tsType{text: "boolean"}
	case "number":
		return tsType{text: "number"}
	case "integer":
		if e, ok := t.enums[schemaKey(s)]; ok {
			e.used = true
			return tsType{text: e.name}
		}
		if is64(s) {
			return tsType{text: "Int64"}
		}
		return tsType{text: "number"}
	case "array":
		items, _ := s["items"].(map[string]any)
		elem := tsType{text: "unknown"}
		if items != nil {
			elem = t.typeOf(items)
		}
		if elem.union {
			return tsType{text: "(" + elem.text + ")[]"}
		}
		return tsType{text: elem.text + "[]"}
	case "object":
		if props, ok := s["properties"].(map[string]any); ok {
			if len(props) == 0 {
				return tsType{text: "Record<string, never>"}
			}
			var fields []string
			for _, p := range t.properties(s) {
				fields = append(fields, p.key+p.opt+": "+p.typ)
			}
			return tsType{text: "{ " + strings.Join(fields, "; ") + " }"}
		}
		if ap, ok := s["additionalProperties"].(map[string]any); ok {
			return tsType{text: "Record<string, " + t.typeOf(ap).text + ">"}
		}
		return tsType{text: "Record<string, unknown>"}
	}
	return tsType{text: "unknown"}
}

// union returns the union of types, one type alone as itself.
func union(parts []string) tsType {
	if len(parts) == 1 {
		return tsType{text: parts[0]}
	}
	return tsType{text: strings.Join(parts, " | "), union: true}
}

// splitUnion returns the members of a union, a type that is not one
// alone.
func splitUnion(t tsType) []string {
	if !t.union {
		return []string{t.text}
	}
	return strings.Split(t.text, " | ")
}

// quoteAll returns the TypeScript string literals of strs.
func quoteAll(strs []string) []string {
	out := make([]string, len(strs))
	for i, s := range strs {
		out[i] = tsString(s)
	}
	return out
}

// tsProperty is a property of an interface.
type tsProperty struct {
	name, key, opt, typ, doc string
}

// properties returns the properties of an object schema, sorted by name:
// optional (?) unless required.
func (t *tsGen) properties(s map[string]any) []tsProperty {
	props, _ := s["properties"].(map[string]any)
	required := requiredOf(s)
	var out []tsProperty
	for _, name := range slices.Sorted(maps.Keys(props)) {
		ps, _ := props[name].(map[string]any)
		p := tsProperty{name: name, key: tsKey(name), typ: t.typeOf(ps).text}
		if !slices.Contains(required, name) {
			p.opt = "?"
		}
		desc, _ := ps["description"].(string)
		if _, isEnum := t.enums[schemaKey(nonNull(ps))]; isEnum {
			desc = "" // the enum's type says it
		}
		p.doc = joinSentences(desc, tsNote(ps))
		out = append(out, p)
	}
	return out
}

// nonNull returns a schema without "null" among its types.
func nonNull(s map[string]any) map[string]any {
	kinds, null := schemaTypes(s)
	if !null || len(kinds) != 1 {
		return s
	}
	c := maps.Clone(s)
	c["type"] = kinds[0]
	return c
}

// tsNote says what a value's type does not: the form of the string of a
// time, of bytes and of a quoted integer.
func tsNote(s map[string]any) string {
	if alts, ok := s["anyOf"].([]any); ok && len(alts) > 0 {
		if m, ok := alts[0].(map[string]any); ok {
			return tsNote(m)
		}
	}
	kinds, _ := schemaTypes(s)
	if len(kinds) != 1 {
		return ""
	}
	switch kinds[0] {
	case "string":
		switch {
		case s["format"] == "date-time":
			return "An RFC 3339 date-time, such as 2024-05-01T12:30:00Z or 2024-05-01T14:30:00.5+02:00."
		case s["contentEncoding"] == "base64":
			return "Bytes in standard base64, with padding."
		case s["pattern"] != nil:
			return "An integer, as a decimal string."
		}
	case "array":
		var notes []string
		if n, ok := s["minItems"].(int64); ok && s["maxItems"] == s["minItems"] {
			notes = append(notes, "Exactly "+strconv.FormatInt(n, 10)+" items.")
		}
		if items, ok := s["items"].(map[string]any); ok {
			if n := tsNote(items); n != "" {
				notes = append(notes, "Each item: "+lowerFirst(n))
			}
		}
		return strings.Join(notes, " ")
	case "object":
		var notes []string
		if _, ok := s["propertyNames"].(map[string]any); ok {
			notes = append(notes, "The keys are integers, as decimal strings.")
		}
		if ap, ok := s["additionalProperties"].(map[string]any); ok {
			if n := tsNote(ap); n != "" {
				notes = append(notes, "Each value: "+lowerFirst(n))
			}
		}
		return strings.Join(notes, " ")
	}
	return ""
}

// lowerFirst lowers the first letter of a sentence.
func lowerFirst(s string) string {
	if s == "" || strings.HasPrefix(s, "RFC") {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// joinSentences joins the non-empty texts with a space.
func joinSentences(texts ...string) string {
	var out []string
	for _, s := range texts {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// shapeOf returns the TypeScript literal of the shape of a schema's
// values for the JSON reader (a KitShape): where they hold 64-bit
// integers ("i") or any JSON value ("a"); "" where they hold neither.
func (t *tsGen) shapeOf(s map[string]any) string {
	if r, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(r, componentRef)
		if t.shaped[name] {
			return "{ r: " + tsString(t.names[name]) + " }"
		}
		return ""
	}
	if alts, ok := s["anyOf"].([]any); ok {
		for _, a := range alts {
			if m, ok := a.(map[string]any); ok {
				if sh := t.shapeOf(m); sh != "" {
					return sh
				}
			}
		}
		return ""
	}
	kinds, null := schemaTypes(s)
	if len(kinds) == 0 {
		if _, ok := s["enum"]; ok || null {
			return ""
		}
		return `"a"`
	}
	if len(kinds) != 1 {
		return ""
	}
	switch kinds[0] {
	case "integer":
		if is64(s) {
			return `"i"`
		}
	case "array":
		if items, ok := s["items"].(map[string]any); ok {
			if sh := t.shapeOf(items); sh != "" {
				return "{ e: " + sh + " }"
			}
		}
	case "object":
		if props, ok := s["properties"].(map[string]any); ok {
			var fields []string
			for _, name := range slices.Sorted(maps.Keys(props)) {
				ps, _ := props[name].(map[string]any)
				if sh := t.shapeOf(ps); sh != "" {
					fields = append(fields, tsLiteralKey(name)+": "+sh)
				}
			}
			if len(fields) > 0 {
				return "{ o: { " + strings.Join(fields, ", ") + " } }"
			}
			return ""
		}
		if ap, ok := s["additionalProperties"].(map[string]any); ok {
			if sh := t.shapeOf(ap); sh != "" {
				return "{ e: " + sh + " }"
			}
		}
	}
	return ""
}

// pathExpr returns the TypeScript expression of a method's URL path: the
// route with each wildcard's value escaped whole (a {name...} wildcard
// too: its slashes travel as %2F, which the server's mux reads back, as
// the Go client's url.PathEscape writes them).
func (t *tsGen) pathExpr(m *Method) string {
	var parts []string
	lit := ""
	for i, seg := range strings.Split(m.Route.Path, "/") {
		if i > 0 {
			lit += "/"
		}
		if !strings.HasPrefix(seg, "{") {
			lit += seg
			continue
		}
		name := strings.TrimSuffix(seg[1:len(seg)-1], "...")
		for _, b := range m.PathBindings {
			if b.Key == name {
				if lit != "" {
					parts = append(parts, tsString(lit))
					lit = ""
				}
				parts = append(parts, "kitPath(req"+tsAccess(b.Field.JSON)+")")
			}
		}
	}
	if lit != "" || len(parts) == 0 {
		parts = append(parts, tsString(lit))
	}
	return strings.Join(parts, " + ")
}

// header writes the file's header.
func (t *tsGen) header(b *strings.Builder) {
	name := t.svc.Name
	b.WriteString(generatedHeader + "\n")
	for _, p := range []string{
		"The TypeScript client of " + name + ": the types of its requests and responses, and " + name +
			"Client, which calls its HTTP routes with fetch. It needs nothing beyond the platform " +
			"(ES2022 and fetch: Node 18 and later, browsers, Deno, Bun) and typechecks with tsc --strict.",
		"kitgen writes it from the Go interface " + name + ", with the JSON Schemas of the OpenAPI document. " +
			"Regenerate it with go generate ./... in the package of " + name + ": its go:generate line runs " +
			"kitgen -type " + name + " with typescript among its -transports.",
	} {
		b.WriteString("//\n")
		for _, l := range wrap(p, 76) {
			b.WriteString("// " + l + "\n")
		}
	}
}

// client writes the client class.
func (t *tsGen) client(b *strings.Builder, methods []*tsMethod) {
	name := t.svc.Name + "Client"
	doc := "A client of " + t.svc.Name + ": one method per operation, which sends the request to its HTTP route and returns the response."
	if d := cleanDoc(t.svc.Doc); d != "" {
		doc = d + "\n\n" + doc
	}
	doc += "\n\nEvery failure is thrown as a KitError: the server's error with its kit code, public message and violations; a network failure as unavailable; an aborted call as canceled (deadline_exceeded for AbortSignal.timeout)."
	b.WriteString("\n")
	b.WriteString(tsDoc("", doc))
	fmt.Fprintf(b, `export class %s {
  readonly #base: string;
  readonly #fetch: typeof fetch;
  readonly #headers: ClientOptions["headers"];

  /**
   * Returns a client of the server at baseUrl, such as
   * "https://api.example.com" or "/api" in a browser; the routes are below
   * its path.
   */
  constructor(baseUrl: string, options: ClientOptions = {}) {
    this.#base = baseUrl.replace(/\/+$/, "");
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#headers = options.headers;
  }
`, name)
	for _, tm := range methods {
		b.WriteString("\n")
		t.method(b, tm)
	}
	b.WriteString(`
  /** Sends one call and returns its response's value. */
  async #call(method: string, path: string, query: URLSearchParams | null, body: { value: unknown } | null, shape: KitShape | undefined, options: CallOptions | undefined): Promise<unknown> {
    const headers = new Headers();
    kitMergeHeaders(headers, typeof this.#headers === "function" ? await this.#headers() : this.#headers);
    kitMergeHeaders(headers, options?.headers);
    headers.set("Accept", "application/json");
    const init: RequestInit = { method, headers };
    if (body !== null) {
      headers.set("Content-Type", "application/json");
      try {
        init.body = kitStringify(body.value) ?? "null";
      } catch (e) {
        throw new KitError("invalid_argument", "the request cannot be written as JSON: " + kitErrorMessage(e), { cause: e });
      }
    }
    const signal = options?.signal;
    if (signal !== undefined) init.signal = signal;
    const search = query === null ? "" : query.toString();
    const url = this.#base + path + (search === "" ? "" : "?" + search);
    const fetchFn = this.#fetch;
    let res: Response;
    let text: string;
    try {
      res = await fetchFn(url, init);
      text = await res.text();
    } catch (e) {
      throw kitTransportError(e, signal);
    }
    if (!res.ok) throw kitResponseError(res, text);
    if (text.trim() === "") throw new KitError("internal", "the response has no body", { status: res.status });
    try {
      return shape === undefined ? (JSON.parse(text) as unknown) : kitParse(text, shape);
    } catch (e) {
      throw new KitError("internal", "the response is not JSON: " + kitErrorMessage(e), { status: res.status, cause: e });
    }
  }
}
`)
}

// method writes one method of the client class.
func (t *tsGen) method(b *strings.Builder, tm *tsMethod) {
	m := tm.m
	doc := cleanDoc(m.Doc)
	if doc == "" {
		doc = summaryOf(m) + "."
	}
	doc += "\n\n" + m.Route.Pattern() + "."
	schemes := m.Security
	if schemes == nil {
		if s := t.opts.openAPI().Security; s != "" && s != "none" {
			schemes = []string{s}
		}
	}
	if len(schemes) > 0 {
		doc += " It needs " + strings.Join(schemes, " or ") + " authentication: an Authorization header in the client's or the call's headers."
	}
	b.WriteString(tsDoc("  ", doc))
	param := "req: " + tm.req
	if tm.reqOptional {
		param += " = {}"
	}
	fmt.Fprintf(b, "  async %s(%s, options?: CallOptions): Promise<%s> {\n", tm.name, param, tm.resp)
	query := "null"
	if len(tm.query) > 0 {
		b.WriteString("    const query = new URLSearchParams();\n")
		for _, q := range tm.query {
			fmt.Fprintf(b, "    kitQuery(query, %s, %s);\n", tsString(q[0]), q[1])
		}
		query = "query"
	}
	body := "null"
	if m.Body {
		body = "{ value: req }"
		if len(tm.omit) > 0 {
			body = "{ value: kitOmit(req, [" + strings.Join(quoteAll(tm.omit), ", ") + "]) }"
		}
	}
	shape := "undefined"
	if tm.shape != "" {
		shape = tm.shape
	}
	fmt.Fprintf(b, "    return (await this.#call(%s, %s, %s, %s, %s, options)) as %s;\n  }\n",
		tsString(m.Route.Method), tm.path, query, body, shape, tm.resp)
}

// declaration returns the declaration of a component: an interface, or a
// type for an object without properties.
func (t *tsGen) declaration(c string) string {
	s := t.component(c)
	name := t.names[c]
	doc, _ := s["description"].(string)
	if doc == "" {
		doc = t.docs[c]
	}
	if name != c {
		doc = joinSentences(doc, c+" in the OpenAPI document: the name is taken in TypeScript.")
	}
	var b strings.Builder
	b.WriteString(tsDoc("", doc))
	kinds, _ := schemaTypes(s)
	props, isObject := s["properties"].(map[string]any)
	switch {
	case len(kinds) == 1 && kinds[0] == "object" && isObject && len(props) > 0:
		fmt.Fprintf(&b, "export interface %s {\n", name)
		for _, p := range t.properties(s) {
			if p.doc != "" {
				b.WriteString(tsDoc("  ", p.doc))
			}
			fmt.Fprintf(&b, "  %s%s: %s;\n", p.key, p.opt, p.typ)
		}
		b.WriteString("}\n")
	default:
		fmt.Fprintf(&b, "export type %s = %s;\n", name, t.typeOf(s).text)
	}
	return b.String()
}

// enumDeclaration returns the declarations of an enum: the union of its
// values and the const object of their names.
func (t *tsGen) enumDeclaration(e *tsEnum) string {
	var lits, fields []string
	for _, c := range e.consts {
		if !slices.Contains(lits, c.lit) {
			lits = append(lits, c.lit)
		}
		fields = append(fields, "  "+tsKey(c.name)+": "+c.lit+",")
	}
	desc, _ := e.schema["description"].(string)
	doc := joinSentences(desc, "Enums are open: a newer server may send a value this union does not list, so code that reads one should handle the others.")
	if is64(e.schema) {
		doc += " A value beyond 2^53 − 1 arrives as a bigint."
	}
	var b strings.Builder
	b.WriteString(tsDoc("", doc))
	fmt.Fprintf(&b, "export type %s = %s;\n\n", e.name, strings.Join(lits, " | "))
	b.WriteString(tsDoc("", "The named values of "+e.name+"."))
	fmt.Fprintf(&b, "export const %s = {\n%s\n} as const;\n", e.name, strings.Join(fields, "\n"))
	return b.String()
}

// runtime returns the file's common types and the functions its client
// calls, with the shapes of the components that need them.
func (t *tsGen) runtime(components []string) string {
	var codes, messages, statuses []string
	for _, c := range codeNamesForSchema {
		codes = append(codes, tsString(c))
		messages = append(messages, "  "+c+": "+tsString(tsDefaultMessages[c])+",")
	}
	for _, s := range slices.Sorted(maps.Keys(tsStatusCodes)) {
		statuses = append(statuses, "  "+strconv.Itoa(s)+": "+tsString(tsStatusCodes[s])+",")
	}
	var shapes []string
	for _, c := range components {
		if t.shaped[c] && t.read[c] {
			shapes = append(shapes, "  "+tsKey(t.names[c])+": "+t.shapeOf(t.component(c))+",")
		}
	}
	r := strings.NewReplacer(
		"$CODES", "  | "+strings.Join(codes, "\n  | "),
		"$MESSAGES", strings.Join(messages, "\n"),
		"$STATUSES", strings.Join(statuses, "\n"),
		"$SHAPES", strings.Join(shapes, "\n"),
		"$MAXRETRY", strconv.Itoa(tsMaxRetryAfter),
		"$MAXDEPTH", strconv.Itoa(tsMaxDepth),
	)
	text := tsRuntime
	if len(shapes) == 0 {
		text = strings.Replace(text, "{\n$SHAPES\n}", "{}", 1)
	}
	return r.Replace(text)
}

// tsDoc returns a /** */ doc comment of text, indented.
func tsDoc(indent, text string) string {
	text = strings.TrimSpace(strings.ReplaceAll(text, "*/", "*\\/"))
	if text == "" {
		return ""
	}
	lines := strings.Split(text, "\n")
	if len(lines) == 1 && len(indent)+len(text) <= 72 {
		return indent + "/** " + text + " */\n"
	}
	var b strings.Builder
	b.WriteString(indent + "/**\n")
	for _, l := range lines {
		for _, w := range wrap(l, 76-len(indent)) {
			if w == "" {
				b.WriteString(indent + " *\n")
			} else {
				b.WriteString(indent + " * " + w + "\n")
			}
		}
	}
	b.WriteString(indent + " */\n")
	return b.String()
}

// wrap breaks a line into lines of at most width bytes at spaces; a line
// that starts with a space or a tab (preformatted) stays whole.
func wrap(line string, width int) []string {
	if len(line) <= width || strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
		return []string{line}
	}
	var out []string
	cur := ""
	for _, w := range strings.Fields(line) {
		switch {
		case cur == "":
			cur = w
		case len(cur)+1+len(w) > width:
			out = append(out, cur)
			cur = w
		default:
			cur += " " + w
		}
	}
	return append(out, cur)
}

// tsIdentRe matches the identifiers the file uses as they are.
var tsIdentRe = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// tsIdentifier reports a name that is an identifier in TypeScript and not
// one of its reserved words.
func tsIdentifier(s string) bool {
	if tsReserved[s] {
		return false
	}
	if tsIdentRe.MatchString(s) {
		return true
	}
	for i, r := range s {
		if !(unicode.IsLetter(r) || r == '_' || r == '$' || i > 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return s != ""
}

// tsKey is a property's name as an interface or an object literal writes
// it: as it is when it is an identifier, else quoted.
func tsKey(name string) string {
	if tsIdentRe.MatchString(name) {
		return name
	}
	return tsString(name)
}

// tsLiteralKey is a property's name as an object literal defines it: as
// tsKey writes it, but __proto__, which a literal would take for the
// object's prototype, computed.
func tsLiteralKey(name string) string {
	if name == "__proto__" {
		return `["__proto__"]`
	}
	return tsKey(name)
}

// tsAccess is the property access of a name: .name, or ["name"].
func tsAccess(name string) string {
	if tsIdentRe.MatchString(name) {
		return "." + name
	}
	return "[" + tsString(name) + "]"
}

// tsString returns a TypeScript string literal of s: its JSON, which
// JavaScript reads as the same string.
func tsString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// lowerCamel turns a Go method name into a TypeScript one: CreateUser →
// createUser, HTTPStatus → httpStatus, ID → id, URLs → urls.
func lowerCamel(s string) string {
	r := []rune(s)
	n := 0
	for n < len(r) && unicode.IsUpper(r[n]) {
		n++
	}
	switch {
	case n == 0:
		return s
	case n == 1 || n == len(r):
	case r[n] == 's' && (n+1 == len(r) || !unicode.IsLower(r[n+1])):
		// An initialism's plural: URLs, IDsByName.
	case unicode.IsLower(r[n]):
		n-- // the last capital starts the next word: HTTPServer
	}
	for i := 0; i < n; i++ {
		r[i] = unicode.ToLower(r[i])
	}
	return string(r)
}

// tsReserved are the names the file's types may not take: TypeScript's
// reserved words and type names, and the platform's names the file uses.
var tsReserved = map[string]bool{}

func init() {
	for _, n := range strings.Fields(`
		break case catch class const continue debugger default delete do else enum export extends
		false finally for function if import in instanceof new null return super switch this throw
		true try typeof var void while with implements interface let package private protected
		public static yield await async as asserts abstract accessor constructor declare from get
		global infer is keyof module namespace of out override readonly require satisfies set type
		unique any unknown never object string number boolean bigint symbol undefined
		AbortSignal Array BigInt Boolean Error Headers HeadersInit JSON Math Number Object Promise
		Record RequestInit Response String Symbol SyntaxError TypeError URL URLSearchParams
		encodeURIComponent fetch globalThis`) {
		tsReserved[n] = true
	}
}

// tsRuntimeNames are the names tsRuntime declares.
var tsRuntimeNames = []string{
	"Int64", "KitCode", "KitError", "FieldViolation", "ClientOptions", "CallOptions", "KitShape",
	"kitShapes", "kitMessages", "kitStatusCodes", "kitCodeFromStatus", "kitResponseError", "kitTransportError",
	"kitErrorMessage", "kitIsObject", "kitRetryAfter", "kitMergeHeaders", "kitPath", "kitQuery", "kitOmit",
	"kitStringify", "kitParse", "kitChild",
}

// tsDefaultMessages are the public messages of errors that carry none of
// their own, by code: kit's.
var tsDefaultMessages = map[string]string{
	"canceled": "request canceled", "unknown": "unknown error", "invalid_argument": "invalid argument",
	"deadline_exceeded": "deadline exceeded", "not_found": "not found", "already_exists": "already exists",
	"permission_denied": "permission denied", "resource_exhausted": "resource exhausted",
	"failed_precondition": "failed precondition", "aborted": "aborted", "out_of_range": "out of range",
	"unimplemented": "unimplemented", "internal": "internal error", "unavailable": "service unavailable",
	"data_loss": "data loss", "unauthenticated": "unauthenticated",
}

// tsStatusCodes are the codes of the HTTP statuses that httpx's
// CodeFromStatus maps to a code of their own. Other statuses below 400
// are unknown errors, other 4xx failed_precondition, other 5xx internal.
var tsStatusCodes = map[int]string{
	400: "invalid_argument", 401: "unauthenticated", 403: "permission_denied", 404: "not_found",
	408: "deadline_exceeded", 409: "aborted", 413: "resource_exhausted", 429: "resource_exhausted",
	499: "canceled", 501: "unimplemented", 502: "unavailable", 503: "unavailable", 504: "deadline_exceeded",
}

// tsCodeFromStatus is the code the client gives an error response that
// carries none: what kitCodeFromStatus returns.
func tsCodeFromStatus(status int) string {
	if c, ok := tsStatusCodes[status]; ok {
		return c
	}
	switch {
	case status < 400:
		return "unknown"
	case status < 500:
		return "failed_precondition"
	}
	return "internal"
}

// tsMaxRetryAfter bounds, in seconds, the Retry-After the client reports,
// as httpx's client does: a day.
const tsMaxRetryAfter = 24 * 60 * 60

// tsMaxDepth is how deeply the JSON reader lets values nest: the limit of
// encoding/json.
const tsMaxDepth = 10000

// The functions of the methods that have path parameters, query
// parameters, and path parameters with a body.
const (
	tsPathHelper = `
/** A path segment of a value, escaped: a bigint as its digits. */
function kitPath(v: string | number | bigint | boolean | null | undefined): string {
  return v === null || v === undefined ? "" : encodeURIComponent(String(v));
}
`
	tsQueryHelper = `
/** Adds a query parameter of a value, or of each item of a list; null and undefined are left out. */
function kitQuery(query: URLSearchParams, key: string, v: unknown): void {
  for (const x of Array.isArray(v) ? (v as unknown[]) : [v]) {
    if (x !== null && x !== undefined) query.append(key, String(x));
  }
}
`
	tsOmitHelper = `
/** The request without the properties the path holds. */
function kitOmit(req: object, keys: string[]): { [key: string]: unknown } {
  const body: { [key: string]: unknown } = { ...req };
  for (const k of keys) delete body[k];
  return body;
}
`
)

// tsRuntime is the rest of the file: its common types and the functions
// its client calls. $NAMES are filled by [tsGen.runtime].
const tsRuntime = `
/**
 * A 64-bit integer (Go's int, int64, uint, uint64 and time.Duration): a
 * number when it is a safe integer (Number.isSafeInteger), else a bigint.
 * The client reads an integer beyond 2^53 − 1 as a bigint, exactly, and
 * writes a bigint as its digits, so no value is rounded on the way; a
 * request may give either.
 */
export type Int64 = number | bigint;

/** The code of an error: kit's codes, as the server names them. */
export type KitCode =
$CODES;

/** A field of a request that is wrong, and why. */
export interface FieldViolation {
  /** The path of the field, such as address.zip. */
  field: string;
  description: string;
}

/**
 * The error of a call: the server's, with its kit code, public message
 * and field violations, or the client's own (unavailable when the server
 * could not be reached, canceled when the call was aborted,
 * deadline_exceeded when its AbortSignal.timeout fired), with the cause.
 */
export class KitError extends Error {
  /** The kit code. */
  readonly code: KitCode;
  /** The HTTP status of the answer; 0 when there was none. */
  readonly status: number;
  /** The fields of the request that are wrong; empty for other errors. */
  readonly violations: FieldViolation[];
  /**
   * How long to wait, in seconds, before calling again: the answer's
   * Retry-After, when it has one.
   */
  readonly retryAfter?: number;

  constructor(code: KitCode, message: string, options: { status?: number | undefined; violations?: FieldViolation[] | undefined; retryAfter?: number | undefined; cause?: unknown } = {}) {
    super(message, "cause" in options ? { cause: options.cause } : undefined);
    this.name = "KitError";
    this.code = code;
    this.status = options.status ?? 0;
    this.violations = options.violations ?? [];
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
  }
}

/** How a client calls the server. */
export interface ClientOptions {
  /** The fetch to call, such as one with a proxy; by default globalThis.fetch. */
  fetch?: typeof fetch | undefined;
  /**
   * Headers of every call, such as { Authorization: "Bearer " + token },
   * or a function that returns them, which runs before each call (to
   * refresh a token).
   */
  headers?: HeadersInit | (() => HeadersInit | Promise<HeadersInit>) | undefined;
}

/** How one call is made. */
export interface CallOptions {
  /** Aborts the call: it throws KitError canceled, or deadline_exceeded for AbortSignal.timeout. */
  signal?: AbortSignal | undefined;
  /** Headers of this call, over the client's. */
  headers?: HeadersInit | undefined;
}

/**
 * Where a value holds 64-bit integers, for kitParse: "i" is an Int64, "a"
 * any JSON value (every unsafe integer in it a bigint); o holds the shapes
 * of an object's properties, e those of an array's items or a record's
 * values, r names a shape of kitShapes. A number anywhere else is a
 * number.
 */
type KitShape = "i" | "a" | { o?: { [name: string]: KitShape }; e?: KitShape; r?: string };

/** The shapes of the types whose values hold 64-bit integers. */
const kitShapes: { [name: string]: KitShape } = {
$SHAPES
};

/** The public messages of errors without one of their own, as kit's. */
const kitMessages: { [code in KitCode]: string } = {
$MESSAGES
};

/** The codes of HTTP statuses, for error answers without a code. */
const kitStatusCodes: { [status: number]: KitCode } = {
$STATUSES
};

/** The code of an error answer without one, as httpx.CodeFromStatus gives it. */
function kitCodeFromStatus(status: number): KitCode {
  const code = kitStatusCodes[status];
  if (code !== undefined) return code;
  return status < 400 ? "unknown" : status < 500 ? "failed_precondition" : "internal";
}

/** The KitError of an answer that is not 2xx: its problem document, or its status. */
function kitResponseError(res: Response, text: string): KitError {
  const status = res.status;
  const retryAfter = kitRetryAfter(res.headers.get("Retry-After"));
  const type = ((res.headers.get("Content-Type") ?? "").split(";")[0] ?? "").trim().toLowerCase();
  if (type === "application/problem+json" || type === "application/json" || text.trimStart().startsWith("{")) {
    let p: unknown;
    try {
      p = JSON.parse(text);
    } catch {
      p = undefined;
    }
    if (kitIsObject(p) && typeof p["code"] === "string" && Object.hasOwn(kitMessages, p["code"])) {
      const code = p["code"] as KitCode;
      const violations: FieldViolation[] = [];
      const vs = p["violations"];
      if (Array.isArray(vs)) {
        for (const v of vs as unknown[]) {
          if (kitIsObject(v) && typeof v["field"] === "string" && typeof v["description"] === "string") {
            violations.push({ field: v["field"], description: v["description"] });
          }
        }
      }
      const d = p["detail"];
      const detail = typeof d === "string" && d !== "" ? d : kitMessages[code];
      return new KitError(code, detail, { status, violations, retryAfter });
    }
  }
  const code = kitCodeFromStatus(status);
  const snippet = text.trim().slice(0, 512);
  return new KitError(code, res.statusText || kitMessages[code], { status, retryAfter, cause: new Error("http status " + status + ": " + snippet) });
}

/** The KitError of a call that got no answer. */
function kitTransportError(e: unknown, signal: AbortSignal | undefined): KitError {
  const name = (v: unknown): string => (kitIsObject(v) && typeof v["name"] === "string" ? v["name"] : "");
  if (name(e) === "TimeoutError" || (signal?.aborted === true && name(signal.reason) === "TimeoutError")) {
    return new KitError("deadline_exceeded", kitMessages.deadline_exceeded, { cause: e });
  }
  if (signal?.aborted === true || name(e) === "AbortError") {
    return new KitError("canceled", kitMessages.canceled, { cause: e });
  }
  return new KitError("unavailable", kitMessages.unavailable, { cause: e });
}

/** The message of a thrown value. */
function kitErrorMessage(e: unknown): string {
  return kitIsObject(e) && typeof e["message"] === "string" ? e["message"] : String(e);
}

/** Reports an object (not an array, not null). */
function kitIsObject(v: unknown): v is { [key: string]: unknown } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The seconds of a Retry-After header, as httpx's client reads them: at most a day. */
function kitRetryAfter(h: string | null): number | undefined {
  if (h === null || !/^\+?[0-9]+$/.test(h)) return undefined;
  return Math.min(Number(h), $MAXRETRY);
}

/** Sets the headers of init on headers. */
function kitMergeHeaders(headers: Headers, init: HeadersInit | undefined): void {
  if (init !== undefined) new Headers(init).forEach((value, key) => headers.set(key, value));
}

/**
 * Writes a value as JSON, as JSON.stringify does, with a bigint as its
 * digits; NaN and the infinities, which JSON cannot hold, are an error.
 */
function kitStringify(v: unknown): string | undefined {
  if (typeof v === "object" && v !== null && typeof (v as { toJSON?: unknown }).toJSON === "function") {
    v = (v as { toJSON(): unknown }).toJSON();
  }
  switch (typeof v) {
    case "bigint":
      return v.toString();
    case "number":
      if (!Number.isFinite(v)) throw new TypeError(String(v) + " is not a JSON number");
      return JSON.stringify(v);
    case "string":
      return JSON.stringify(v);
    case "boolean":
      return v ? "true" : "false";
    case "object": {
      if (v === null) return "null";
      if (Array.isArray(v)) return "[" + (v as unknown[]).map((x) => kitStringify(x) ?? "null").join(",") + "]";
      const fields: string[] = [];
      for (const [k, x] of Object.entries(v)) {
        const s = kitStringify(x);
        if (s !== undefined) fields.push(JSON.stringify(k) + ":" + s);
      }
      return "{" + fields.join(",") + "}";
    }
  }
  return undefined;
}

/**
 * Reads JSON text as JSON.parse does, except where the shape says the
 * value holds a 64-bit integer: there an integer beyond 2^53 − 1 is a
 * bigint, exactly.
 */
function kitParse(text: string, shape: KitShape): unknown {
  let i = 0;
  const numberRe = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
  const fail = (): never => {
    throw new SyntaxError(i < text.length ? "unexpected " + JSON.stringify(text[i]) + " at position " + i : "unexpected end of JSON");
  };
  const space = (): void => {
    for (let c = text.charCodeAt(i); c === 32 || c === 10 || c === 13 || c === 9; c = text.charCodeAt(++i));
  };
  const str = (): string => {
    const start = i++;
    for (let c = text.charCodeAt(i); c !== 34; c = text.charCodeAt(i)) {
      if (Number.isNaN(c) || c < 32) return fail();
      i += c === 92 ? 2 : 1;
    }
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (s: KitShape | undefined, depth: number): unknown => {
    if (depth > $MAXDEPTH) throw new SyntaxError("JSON nested too deeply");
    if (typeof s === "object" && s.r !== undefined) s = kitShapes[s.r];
    space();
    switch (text[i]) {
      case "{": {
        i++;
        const o: { [key: string]: unknown } = {};
        space();
        if (text[i] === "}") {
          i++;
          return o;
        }
        for (;;) {
          space();
          if (text[i] !== '"') return fail();
          const k = str();
          space();
          if (text[i] !== ":") return fail();
          i++;
          const v = value(kitChild(s, k), depth + 1);
          if (k === "__proto__") Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
          else o[k] = v;
          space();
          if (text[i] === ",") {
            i++;
            continue;
          }
          if (text[i] !== "}") return fail();
          i++;
          return o;
        }
      }
      case "[": {
        i++;
        const a: unknown[] = [];
        space();
        if (text[i] === "]") {
          i++;
          return a;
        }
        const items = kitChild(s, undefined);
        for (;;) {
          a.push(value(items, depth + 1));
          space();
          if (text[i] === ",") {
            i++;
            continue;
          }
          if (text[i] !== "]") return fail();
          i++;
          return a;
        }
      }
      case '"':
        return str();
      case "t":
        if (!text.startsWith("true", i)) return fail();
        i += 4;
        return true;
      case "f":
        if (!text.startsWith("false", i)) return fail();
        i += 5;
        return false;
      case "n":
        if (!text.startsWith("null", i)) return fail();
        i += 4;
        return null;
    }
    numberRe.lastIndex = i;
    const m = numberRe.exec(text);
    if (m === null) return fail();
    i = numberRe.lastIndex;
    const n = Number(m[0]);
    if ((s === "i" || s === "a") && m[1] === undefined && m[2] === undefined && !Number.isSafeInteger(n)) return BigInt(m[0]);
    return n;
  };
  const v = value(shape, 0);
  space();
  if (i !== text.length) fail();
  return v;
}

/** The shape of a property (key) or of an item or a value (no key) of a value of shape s. */
function kitChild(s: KitShape | undefined, key: string | undefined): KitShape | undefined {
  if (s === "a") return "a";
  if (s === undefined || s === "i") return undefined;
  if (key !== undefined && s.o !== undefined) return Object.hasOwn(s.o, key) ? s.o[key] : undefined;
  return s.e;
}
`
