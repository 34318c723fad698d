package codegen

import (
	"encoding/json"
	"fmt"
	"go/constant"
	"go/types"
	"reflect"
	"slices"
	"strings"
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

// openAPIGen builds an OpenAPI 3.1 document whose schemas are JSON Schema
// 2020-12.
type openAPIGen struct {
	svc     *Service
	schemas map[string]any
	names   map[string]string // component name → type key
	keys    map[string]string // type key → component name
}

// renderOpenAPI returns the OpenAPI 3.1 document of the service's HTTP
// routes, indented JSON with sorted keys: deterministic.
func renderOpenAPI(svc *Service, version, security string) ([]byte, error) {
	g := &openAPIGen{svc: svc, schemas: map[string]any{}, names: map[string]string{}, keys: map[string]string{}}
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
		item[strings.ToLower(m.Route.Method)] = g.operation(m)
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
	components := map[string]any{"schemas": g.schemas}
	doc := map[string]any{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
		"info": map[string]any{
			"title":       svc.Name,
			"version":     version,
			"description": strings.TrimSpace(cleanDoc(svc.Doc)),
		},
		"paths":      paths,
		"components": components,
	}
	switch security {
	case "", "none":
	case "bearer":
		components["securitySchemes"] = map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
		doc["security"] = []any{map[string]any{"bearer": []string{}}}
	case "basic":
		components["securitySchemes"] = map[string]any{"basic": map[string]any{"type": "http", "scheme": "basic"}}
		doc["security"] = []any{map[string]any{"basic": []string{}}}
	default:
		return nil, fmt.Errorf("unknown security scheme %q: want bearer, basic or none", security)
	}
	if doc["info"].(map[string]any)["description"] == "" {
		delete(doc["info"].(map[string]any), "description")
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
		if strings.HasPrefix(l, HTTPAnnotation) || strings.HasPrefix(l, "go:generate") {
			continue
		}
		lines = append(lines, l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

func (g *openAPIGen) operation(m *Method) map[string]any {
	op := map[string]any{
		"operationId": m.Name,
		"tags":        []string{g.svc.Name},
	}
	if doc := cleanDoc(m.Doc); doc != "" {
		summary, _, _ := strings.Cut(doc, "\n\n")
		op["summary"] = strings.ReplaceAll(summary, "\n", " ")
		op["description"] = doc
	}
	var params []any
	for _, b := range m.PathBindings {
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
		op["requestBody"] = map[string]any{
			"required": true,
			"content":  map[string]any{"application/json": map[string]any{"schema": g.messageSchema(m.Request)}},
		}
	}
	responses := map[string]any{
		"200": map[string]any{
			"description": "OK",
			"content":     map[string]any{"application/json": map[string]any{"schema": g.messageSchema(m.Response)}},
		},
	}
	for _, pc := range problemCodes {
		if pc.status == "415" && !m.Body {
			continue
		}
		responses[pc.status] = map[string]any{
			"description": pc.desc,
			"content":     map[string]any{"application/problem+json": map[string]any{"schema": ref("Problem")}},
		}
	}
	op["responses"] = responses
	return op
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

// messageSchema is the schema of a request or response: a reference to a
// component for generated structs and named types.
func (g *openAPIGen) messageSchema(msg *Message) map[string]any {
	if !msg.Generated() {
		return g.schema(msg.Type)
	}
	if _, ok := g.schemas[msg.Name]; !ok {
		g.names[msg.Name] = msg.Name
		props := map[string]any{}
		var required []string
		for _, f := range msg.Fields {
			props[f.JSON] = g.schema(f.Type)
			if _, isPtr := types.Unalias(f.Type).(*types.Pointer); !isPtr {
				required = append(required, f.JSON)
			}
		}
		s := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			s["required"] = required
		}
		g.schemas[msg.Name] = s
	}
	return ref(msg.Name)
}

// schema returns the JSON Schema of the JSON encoding/json writes for t.
func (g *openAPIGen) schema(t types.Type) map[string]any {
	switch u := types.Unalias(t).(type) {
	case *types.Pointer:
		return nullable(g.schema(u.Elem()))
	case *types.Named:
		obj := u.Obj()
		if obj.Pkg() != nil && obj.Pkg().Path() == "time" {
			switch obj.Name() {
			case "Time":
				return map[string]any{"type": "string", "format": "date-time"}
			case "Duration":
				return map[string]any{"type": "integer", "format": "int64", "description": "A duration in nanoseconds."}
			}
		}
		if e := g.enum(u); e != nil {
			return e
		}
		if _, isStruct := u.Underlying().(*types.Struct); isStruct {
			return ref(g.component(u))
		}
		return g.schema(u.Underlying())
	case *types.Basic:
		switch {
		case u.Kind() == types.Bool:
			return map[string]any{"type": "boolean"}
		case u.Info()&types.IsString != 0:
			return map[string]any{"type": "string"}
		case u.Info()&types.IsInteger != 0:
			s := map[string]any{"type": "integer"}
			switch u.Kind() {
			case types.Int8, types.Int16, types.Int32:
				s["format"] = "int32"
			case types.Int, types.Int64:
				s["format"] = "int64"
			default:
				s["minimum"] = 0
			}
			return s
		case u.Info()&types.IsFloat != 0:
			s := map[string]any{"type": "number", "format": "double"}
			if u.Kind() == types.Float32 {
				s["format"] = "float"
			}
			return s
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
		return map[string]any{"type": []string{"object", "null"}, "additionalProperties": g.schema(u.Elem())}
	case *types.Struct:
		return g.structSchema(u)
	}
	return map[string]any{}
}

// nullable lets a schema also accept null, as a nil pointer encodes.
func nullable(s map[string]any) map[string]any {
	if _, isRef := s["$ref"]; isRef {
		return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
	}
	switch t := s["type"].(type) {
	case string:
		c := maps(s)
		c["type"] = []string{t, "null"}
		return c
	case []string:
		if slices.Contains(t, "null") {
			return s
		}
		c := maps(s)
		c["type"] = append(append([]string{}, t...), "null")
		return c
	}
	return s
}

func maps(s map[string]any) map[string]any {
	c := make(map[string]any, len(s))
	for k, v := range s {
		c[k] = v
	}
	return c
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
		}
	}
	if other, taken := g.names[name]; taken && other != key && n.Obj().Pkg() != nil {
		name = exportName(n.Obj().Pkg().Name()) + name
	}
	g.names[name], g.keys[key] = key, name
	g.schemas[name] = map[string]any{} // placeholder for recursive types
	s := g.structSchema(n.Underlying().(*types.Struct))
	if n.Obj().Pkg() == g.svc.Pkg {
		if doc := strings.TrimSpace(g.svc.typeDocs[n.Obj().Name()]); doc != "" {
			s["description"] = doc
		}
	}
	g.schemas[name] = s
	return name
}

// structSchema is the schema of a struct's JSON object: exported fields by
// their JSON names, required unless omitempty or a pointer, embedded
// structs' fields in line as encoding/json writes them.
func (g *openAPIGen) structSchema(st *types.Struct) map[string]any {
	props := map[string]any{}
	var required []string
	var walk func(st *types.Struct)
	walk = func(st *types.Struct) {
		for i := 0; i < st.NumFields(); i++ {
			f := st.Field(i)
			tag := reflect.StructTag(st.Tag(i)).Get("json")
			name, opts, _ := strings.Cut(tag, ",")
			if name == "-" && opts == "" {
				continue
			}
			if f.Embedded() && name == "" {
				if inner := structOf(f.Type()); inner != nil {
					walk(inner)
					continue
				}
			}
			if !f.Exported() {
				continue
			}
			if name == "" {
				name = f.Name()
			}
			props[name] = g.schema(f.Type())
			_, isPtr := types.Unalias(f.Type()).(*types.Pointer)
			if !isPtr && !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
				required = append(required, name)
			}
		}
	}
	walk(st)
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// enum returns the schema of a named integer type with constants: the
// values, with their names in the description.
func (g *openAPIGen) enum(n *types.Named) map[string]any {
	b, ok := n.Underlying().(*types.Basic)
	if !ok || b.Info()&types.IsInteger == 0 || n.Obj().Pkg() == nil {
		return nil
	}
	scope := n.Obj().Pkg().Scope()
	var values []int64
	var names []string
	for _, name := range scope.Names() {
		c, ok := scope.Lookup(name).(*types.Const)
		if !ok || !types.Identical(c.Type(), n) || !c.Exported() {
			continue
		}
		v, exact := constant.Int64Val(c.Val())
		if !exact {
			return nil
		}
		values = append(values, v)
		names = append(names, fmt.Sprintf("%s = %d", name, v))
	}
	if len(values) == 0 {
		return nil
	}
	slices.Sort(values)
	values = slices.Compact(values)
	return map[string]any{"type": "integer", "enum": values, "description": n.Obj().Name() + ": " + strings.Join(names, ", ") + "."}
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
