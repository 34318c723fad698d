package codegen

import (
	"errors"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"reflect"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/tools/go/packages"
)

// Service is the model of a service interface that the generator renders.
type Service struct {
	// Name is the interface's name.
	Name string
	// Pkg is the package that declares it; generated files belong to it.
	Pkg *types.Package
	// Dir is the package's directory.
	Dir string
	// Methods are the interface's methods in the order of their
	// declaration.
	Methods []*Method
	// Doc is the interface's doc comment.
	Doc string
	// FullName is the service's name in the calls interceptors see and in
	// gRPC: the protobuf package, a dot and Name.
	FullName string

	scope    *types.Scope
	typeDocs map[string]string
	fset     *token.FileSet
}

// Method is one method of a service: its request and response messages
// and its HTTP route.
type Method struct {
	// Name is the method's name.
	Name string
	// Pos is where the method is declared.
	Pos token.Position
	// Doc is the method's doc comment, without directives.
	Doc string
	// Params are the parameters after the context.
	Params []*Var
	// Results are the results before the error.
	Results []*Var
	// Request is the endpoint's request type.
	Request *Message
	// Response is the endpoint's response type.
	Response *Message
	// Route is the method's HTTP route.
	Route Route
	// RouteSet reports whether Route came from a //kit:http annotation.
	RouteSet bool
	// PathBindings fill request fields from the route's wildcards.
	PathBindings []*Binding
	// QueryBindings fill request fields from the query string (GET and
	// DELETE).
	QueryBindings []*Binding
	// Body reports whether the request is read from a JSON body.
	Body bool
	// Fails reports a response type with a Failed() error method
	// (kit.Failer), whose failure the generated client methods return as
	// their error.
	Fails bool
	// Validates reports a request type with a Validate() error method:
	// the endpoint checks requests with kit.Validate.
	Validates bool
	// ValidatePointer reports that the request type's Validate method has
	// a pointer receiver: the endpoint checks requests with
	// kit.ValidatePointer.
	ValidatePointer bool
	// Security lists the schemes of a //kit:security annotation, any one
	// of which authorizes a call; nil without the annotation (the
	// document's default applies), empty for //kit:security none.
	Security []string
	// Idempotent reports a //kit:idempotent annotation: calling the
	// method again has no effect beyond the first call's.
	Idempotent bool
	// MCP holds the argument of a //kit:mcp annotation (one of skip,
	// readonly, destructive, nondestructive); nil without one.
	MCP []string
	// Stream is the method's kind of stream. For a stream of requests,
	// Request is the type of each request; for a stream of responses,
	// Response is the type of each response.
	Stream StreamKind
}

// A StreamKind says how many messages each way a method carries.
type StreamKind uint8

// The kinds of methods, as kit.StreamKind names them.
const (
	// Unary is M(ctx, args...) (results..., error).
	Unary StreamKind = iota
	// ServerStream is M(ctx, args...) (iter.Seq2[T, error], error).
	ServerStream
	// ClientStream is M(ctx, iter.Seq2[T, error]) (results..., error).
	ClientStream
	// BidiStream is M(ctx, iter.Seq2[T, error]) (iter.Seq2[U, error], error).
	BidiStream
)

// Streams reports whether the method is not unary.
func (m *Method) Streams() bool { return m.Stream != Unary }

// ClientStreams reports whether the method reads a stream of requests.
func (m *Method) ClientStreams() bool { return m.Stream == ClientStream || m.Stream == BidiStream }

// ServerStreams reports whether the method answers with a stream of
// responses.
func (m *Method) ServerStreams() bool { return m.Stream == ServerStream || m.Stream == BidiStream }

// EndpointType is the name of the method's endpoint type in package kit:
// Endpoint, ServerStreamEndpoint, ClientStreamEndpoint or
// BidiStreamEndpoint.
func (m *Method) EndpointType() string {
	return [...]string{"Endpoint", "ServerStreamEndpoint", "ClientStreamEndpoint", "BidiStreamEndpoint"}[m.Stream]
}

// KitStream is the name of the method's kit.StreamKind constant.
func (m *Method) KitStream() string {
	return [...]string{"Unary", "ServerStream", "ClientStream", "BidiStream"}[m.Stream]
}

// seqElem returns T for the type iter.Seq2[T, error].
func seqElem(t types.Type) (types.Type, bool) {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || n.Obj().Pkg() == nil || n.Obj().Pkg().Path() != "iter" || n.Obj().Name() != "Seq2" {
		return nil, false
	}
	args := n.TypeArgs()
	if args.Len() != 2 || !isError(args.At(1)) {
		return nil, false
	}
	return args.At(0), true
}

// isSeq reports a type of package iter: a sequence of any shape.
func isSeq(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "iter"
}

// Var is a parameter or a result of a method.
type Var struct {
	Name string
	Type types.Type
}

// Message is the type of an endpoint's request or response.
type Message struct {
	// Name is the generated type's name, or "" when the method's own
	// parameter or result type serves.
	Name string
	// Type is the type.
	Type types.Type
	// Fields are the exported fields of a struct type (or of the struct a
	// pointer points to) with their JSON names.
	Fields []*Field
	// Pointer reports whether Type is a pointer to a struct.
	Pointer bool
}

// Generated reports whether the generator declares the message's type.
func (m *Message) Generated() bool { return m.Name != "" }

// Field is an exported field of a message struct.
type Field struct {
	// Name is the Go name.
	Name string
	// JSON is the name in JSON, query strings and path wildcards.
	JSON string
	// Type is the field's type.
	Type types.Type
	// Var is the method parameter or result the field holds, for
	// generated messages.
	Var *Var
	// Selector selects the field in a value of its struct: its Name, or
	// a path through embedded structs such as Base.ID for a field that
	// encoding/json promotes from one.
	Selector string
	// Via are the embedded pointers on the path to a promoted field,
	// outermost first: reading the field needs them non-nil, setting it
	// allocates them, as encoding/json does.
	Via []*EmbeddedPointer
	// Obj is the struct field, for fields of the service's own types.
	Obj *types.Var
	// Tag is the struct field's tag.
	Tag string
}

// EmbeddedPointer is an embedded pointer to a struct on the way to a
// promoted field.
type EmbeddedPointer struct {
	// Selector selects the pointer in a value of the outermost struct.
	Selector string
	// Elem is the struct type it points to.
	Elem types.Type
}

// An Error is a problem with the input, at a place in a source file.
type Error struct {
	Pos     token.Position
	Method  string
	Message string
	Hint    string
}

// Error returns the position, the method, the message and the hint.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Pos.IsValid() {
		b.WriteString(e.Pos.String())
		b.WriteString(": ")
	}
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Hint != "" {
		b.WriteString(" (hint: ")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// An ErrorList is every problem the generator found in one run, sorted by
// position as the Go compiler reports them.
type ErrorList []*Error

// Error returns the problems one a line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, for errors.As and errors.Is.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// errorList collects problems. An error that is not an *Error or an
// ErrorList stands alone: it is returned as it is.
type errorList struct {
	list  ErrorList
	other error
}

func (c *errorList) add(err error) {
	switch e := err.(type) {
	case nil:
	case ErrorList:
		for _, e := range e {
			c.add(e)
		}
	case *Error:
		for _, old := range c.list {
			if *old == *e {
				return
			}
		}
		c.list = append(c.list, e)
	default:
		if c.other == nil {
			c.other = err
		}
	}
}

// err returns nil, the one problem, or the list sorted by position.
func (c *errorList) err() error {
	if c.other != nil {
		return c.other
	}
	switch len(c.list) {
	case 0:
		return nil
	case 1:
		return c.list[0]
	}
	l := slices.Clone(c.list)
	slices.SortStableFunc(l, func(a, b *Error) int {
		if c := strings.Compare(a.Pos.Filename, b.Pos.Filename); c != 0 {
			return c
		}
		if c := a.Pos.Line - b.Pos.Line; c != 0 {
			return c
		}
		return a.Pos.Column - b.Pos.Column
	})
	return l
}

// generatedHeader starts every file the generator writes.
const generatedHeader = "// Code generated by kitgen. DO NOT EDIT."

// methodDocs finds the doc comments of the interface's own methods, and
// the interface's doc comment.
func methodDocs(pkg *packages.Package, typeName string) (map[string]methodDoc, string) {
	docs := map[string]methodDoc{}
	var ifaceDoc string
	eachTypeSpec(pkg, func(gd *ast.GenDecl, ts *ast.TypeSpec) {
		if ts.Name.Name != typeName {
			return
		}
		if doc := typeDoc(gd, ts); doc != nil {
			ifaceDoc = doc.Text()
		}
		it, ok := ts.Type.(*ast.InterfaceType)
		if !ok {
			return
		}
		for _, field := range it.Methods.List {
			if len(field.Names) == 0 || field.Doc == nil {
				continue
			}
			md := methodDoc{doc: field.Doc}
			for _, c := range field.Doc.List {
				if strings.HasPrefix(c.Text, "//"+HTTPAnnotation) {
					md.directives = append(md.directives, c)
				}
			}
			docs[field.Names[0].Name] = md
		}
	})
	return docs, ifaceDoc
}

func (s *Service) method(pkg *packages.Package, f *types.Func, doc methodDoc) (*Method, error) {
	pos := pkg.Fset.Position(f.Pos())
	where := s.Name + "." + f.Name()
	var errs errorList
	fail := func(msg, hint string) { errs.add(&Error{Pos: pos, Method: where, Message: msg, Hint: hint}) }
	sig := f.Type().(*types.Signature)
	const shape = "methods have the shape M(ctx context.Context, args...) (results..., error)"

	if sig.Variadic() {
		fail("variadic parameters are not supported", "take a slice instead")
	}
	params, results := sig.Params(), sig.Results()
	if params.Len() == 0 || !isContext(params.At(0).Type()) {
		fail("the first parameter must be context.Context", shape)
	}
	if results.Len() == 0 || !isError(results.At(results.Len()-1).Type()) {
		fail("the last result must be error", shape)
	}
	if !f.Exported() {
		fail("the method is not exported", "export it so clients in other packages can call it")
	}
	if err := errs.err(); err != nil {
		return nil, err
	}

	m := &Method{Name: f.Name(), Pos: pos}
	if doc.doc != nil {
		m.Doc = doc.doc.Text()
	}
	vars := func(t *types.Tuple, from, to int, what string) []*Var {
		var out []*Var
		for i := from; i < to; i++ {
			v := t.At(i)
			if err := s.checkType(v.Type(), what+" "+describe(v.Name(), i)); err != nil {
				if _, ok := err.(*invalidTypeError); ok {
					errs.add(err)
				} else {
					fail(err.Error(), "use a type that encodes to JSON and is exported or declared in this package")
				}
			}
			out = append(out, &Var{Name: v.Name(), Type: v.Type()})
		}
		return out
	}
	// Streams: iter.Seq2[T, error] as the only parameter after the context
	// (a stream of requests), or as the only result before the error (a
	// stream of responses).
	const streamShape = "streams are M(ctx, args...) (iter.Seq2[T, error], error), M(ctx, in iter.Seq2[T, error]) (results..., error) or M(ctx, in iter.Seq2[T, error]) (iter.Seq2[U, error], error)"
	var inElem, outElem types.Type
	for i := 1; i < params.Len(); i++ {
		t := params.At(i).Type()
		if !isSeq(t) {
			continue
		}
		elem, ok := seqElem(t)
		switch {
		case !ok:
			fail(fmt.Sprintf("parameter %s is an iterator of another shape than iter.Seq2[T, error]", describe(params.At(i).Name(), i)), streamShape)
		case params.Len() != 2:
			fail("a stream of requests must be the only parameter after the context", "put what goes with the stream into its messages; "+streamShape)
		default:
			inElem = elem
		}
	}
	for i := 0; i < results.Len()-1; i++ {
		t := results.At(i).Type()
		if !isSeq(t) {
			continue
		}
		elem, ok := seqElem(t)
		switch {
		case !ok:
			fail(fmt.Sprintf("result %s is an iterator of another shape than iter.Seq2[T, error]", describe(results.At(i).Name(), i)), streamShape)
		case results.Len() != 2:
			fail("a stream of responses must be the only result before the error", streamShape)
		default:
			outElem = elem
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	switch {
	case inElem != nil && outElem != nil:
		m.Stream = BidiStream
	case inElem != nil:
		m.Stream = ClientStream
	case outElem != nil:
		m.Stream = ServerStream
	}
	checkElem := func(elem types.Type, what string) {
		if err := s.checkType(elem, what); err != nil {
			if _, ok := err.(*invalidTypeError); ok {
				errs.add(err)
			} else {
				fail(err.Error(), "use a type that encodes to JSON and is exported or declared in this package")
			}
		}
	}
	if inElem != nil {
		checkElem(inElem, "the stream of requests' element")
		if objectStruct(inElem) == nil || !isNamedStruct(inElem) {
			fail("the elements of a stream of requests must be a named struct type", "declare a struct for the messages the client sends")
		}
		m.Params = []*Var{{Name: params.At(1).Name(), Type: params.At(1).Type()}}
	} else {
		m.Params = vars(params, 1, params.Len(), "parameter")
	}
	if outElem != nil {
		checkElem(outElem, "the stream of responses' element")
		m.Results = []*Var{{Name: results.At(0).Name(), Type: results.At(0).Type()}}
	} else {
		m.Results = vars(results, 0, results.Len()-1, "result")
	}
	if err := errs.err(); err != nil {
		return nil, err
	}

	// The request: a named struct that encoding/json writes as an object
	// of its fields serves as it is; anything else is a field of a
	// generated request.
	var err error
	if inElem != nil {
		if m.Request, err = s.message("", inElem); err != nil {
			fail(err.Error(), "")
		}
	} else if len(m.Params) == 1 && objectStruct(m.Params[0].Type) != nil && isNamedStruct(m.Params[0].Type) {
		if m.Request, err = s.message("", m.Params[0].Type); err != nil {
			fail(err.Error(), "")
		}
	} else {
		fields := make([]*Field, 0, len(m.Params))
		seen := map[string]bool{}
		for i, p := range m.Params {
			if p.Name == "" || p.Name == "_" {
				fail(fmt.Sprintf("parameter %d has no name", i+2),
					"name the parameters: their names become the request's JSON field names")
				continue
			}
			fd := &Field{Name: exportName(p.Name), JSON: p.Name, Type: p.Type, Var: p}
			fd.Selector = fd.Name
			if seen[strings.ToLower(fd.Name)] {
				fail(fmt.Sprintf("parameters %q and another name the same request field %s", p.Name, fd.Name), "rename one")
				continue
			}
			seen[strings.ToLower(fd.Name)] = true
			fields = append(fields, fd)
		}
		m.Request = &Message{Name: m.Name + "Request", Fields: fields}
	}

	if m.Request != nil && !m.Request.Generated() {
		m.Validates = implementsValidator(m.Request.Type)
		if !m.Validates && !m.Request.Pointer && implementsValidator(types.NewPointer(m.Request.Type)) {
			m.Validates, m.ValidatePointer = true, true
		}
	}

	// The response.
	if outElem != nil {
		if m.Response, err = s.message("", outElem); err != nil {
			fail(err.Error(), "")
		}
	} else if len(m.Results) == 1 {
		if m.Response, err = s.message("", m.Results[0].Type); err != nil {
			fail(err.Error(), "")
		}
	} else {
		fields := make([]*Field, 0, len(m.Results))
		seen := map[string]bool{}
		for i, r := range m.Results {
			name, js := exportName(r.Name), r.Name
			if r.Name == "" || r.Name == "_" {
				name, js = fmt.Sprintf("Result%d", i+1), fmt.Sprintf("result%d", i+1)
			}
			if seen[strings.ToLower(name)] {
				fail(fmt.Sprintf("results %q and another name the same response field %s", r.Name, name), "rename one")
				continue
			}
			seen[strings.ToLower(name)] = true
			fields = append(fields, &Field{Name: name, JSON: js, Type: r.Type, Var: r, Selector: name})
		}
		m.Response = &Message{Name: m.Name + "Response", Fields: fields}
	}
	if m.Response != nil && !m.Response.Generated() && !m.ServerStreams() {
		m.Fails = implementsMethod(m.Response.Type, "Failed")
	}

	// The route.
	routeOK := true
	switch len(doc.directives) {
	case 0:
		m.Route = Route{Method: "POST", Path: "/" + strings.ToLower(s.Name) + "/" + strings.ToLower(m.Name)}
	case 1:
		c := doc.directives[0]
		r, err := ParseHTTPAnnotation(strings.TrimPrefix(c.Text, "//"+HTTPAnnotation))
		if err != nil {
			errs.add(&Error{Pos: pkg.Fset.Position(c.Pos()), Method: where, Message: "malformed //" + HTTPAnnotation + ": " + err.Error()})
			routeOK = false
		}
		m.Route, m.RouteSet = r, true
	default:
		c := doc.directives[1]
		errs.add(&Error{Pos: pkg.Fset.Position(c.Pos()), Method: where,
			Message: fmt.Sprintf("%d //%s annotations conflict", len(doc.directives), HTTPAnnotation), Hint: "keep one"})
		routeOK = false
	}
	switch {
	case routeOK && m.ClientStreams():
		// The body is the stream of requests: nothing else of a request
		// can come from the route.
		if m.Route.Method == "GET" || m.Route.Method == "DELETE" {
			fail(fmt.Sprintf("route %s: a stream of requests is the body of a POST, PUT or PATCH", m.Route.Pattern()), "use POST")
		}
		if len(m.Route.Params) > 0 {
			fail(fmt.Sprintf("route %s: a method that reads a stream of requests has no request to fill {%s} of", m.Route.Pattern(), m.Route.Params[0]), "put the value into the stream's messages")
		}
		m.Body = true
	case routeOK && m.Request != nil:
		for _, err := range m.bindRoute() {
			fail(err.Error(), "")
		}
	}
	errs.add(m.parseAnnotations(pkg.Fset, doc.doc, where))
	if err := errs.err(); err != nil {
		return nil, err
	}
	return m, nil
}

// implementsValidator reports whether t has the method Validate() error.
func implementsValidator(t types.Type) bool { return implementsMethod(t, "Validate") }

// implementsMethod reports whether t has the method name() error.
func implementsMethod(t types.Type, name string) bool {
	errType := types.Universe.Lookup("error").Type()
	sig := types.NewSignatureType(nil, nil, nil, nil, types.NewTuple(types.NewVar(0, nil, "", errType)), false)
	iface := types.NewInterfaceType([]*types.Func{types.NewFunc(0, nil, name, sig)}, nil).Complete()
	return types.Implements(t, iface)
}

func describe(name string, i int) string {
	if name == "" || name == "_" {
		return fmt.Sprintf("#%d", i+1)
	}
	return name
}

// message returns the message for a method's own parameter or result type.
func (s *Service) message(name string, t types.Type) (*Message, error) {
	m := &Message{Name: name, Type: t}
	if objectStruct(t) == nil {
		return m, nil
	}
	_, m.Pointer = t.Underlying().(*types.Pointer)
	var err error
	m.Fields, err = s.structFields(t)
	return m, err
}

// structFields returns the fields of a struct type (or of the struct a
// pointer points to) that encoding/json reads and writes, by its rules
// ([jsonFields]): exported fields, and the fields of embedded structs
// promoted into the object. Each has the selector that reaches it from a
// value of the type.
func (s *Service) structFields(t types.Type) ([]*Field, error) {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	st, ok := t.Underlying().(*types.Struct)
	if !ok {
		return nil, nil
	}
	typeName := types.TypeString(t, func(p *types.Package) string { return p.Name() })
	var out []*Field
	var errs []string
	for _, jf := range jsonFields(st) {
		f := &Field{JSON: jf.name, Type: jf.typ}
		cur := st
		var path []string
		foreign, bad := false, ""
		for depth, i := range jf.index {
			v := cur.Field(i)
			f.Obj, f.Tag = v, cur.Tag(i)
			if !v.Exported() && v.Pkg() != s.Pkg {
				foreign = true
			}
			path = append(path, v.Name())
			if depth == len(jf.index)-1 {
				break
			}
			ft := types.Unalias(v.Type())
			if p, ok := ft.(*types.Pointer); ok {
				if !v.Exported() && bad == "" {
					bad = fmt.Sprintf("field %s of %s is promoted through the embedded pointer %s to an unexported struct, which encoding/json cannot set; embed the struct by value or export its type",
						jf.index2name(st), typeName, v.Name())
				}
				f.Via = append(f.Via, &EmbeddedPointer{Selector: strings.Join(path, "."), Elem: p.Elem()})
				ft = p.Elem()
			}
			cur = ft.Underlying().(*types.Struct)
		}
		f.Name = f.Obj.Name()
		f.Selector = strings.Join(path, ".")
		if foreign && bad == "" {
			// The path crosses an unexported embedded field of another
			// package: generated code reaches the field by Go's
			// promotion, when that selects the same field.
			sel, _, _ := types.LookupFieldOrMethod(t, true, s.Pkg, f.Name)
			if sel != f.Obj || len(f.Via) > 0 {
				bad = fmt.Sprintf("field %s of %s is promoted through an unexported embedded field of package %s, which generated code cannot reach",
					f.Name, typeName, f.Obj.Pkg().Path())
			}
			f.Selector = f.Name
		}
		if bad != "" {
			errs = append(errs, bad)
			continue
		}
		out = append(out, f)
	}
	if len(errs) > 0 {
		return out, errors.New(strings.Join(errs, "; "))
	}
	return out, nil
}

// index2name names a promoted field by its path of Go names.
func (jf jsonField) index2name(st *types.Struct) string {
	var names []string
	for _, i := range jf.index {
		v := st.Field(i)
		names = append(names, v.Name())
		ft := types.Unalias(v.Type())
		if p, ok := ft.(*types.Pointer); ok {
			ft = p.Elem()
		}
		if next, ok := ft.Underlying().(*types.Struct); ok {
			st = next
		}
	}
	return strings.Join(names, ".")
}

var (
	textUnmarshaler = bytesMethod("UnmarshalText", true)
	jsonUnmarshaler = bytesMethod("UnmarshalJSON", true)
)

// ownJSON reports a type that encoding/json does not read and write by its
// fields or elements: the well-known types (wellKnownTypes: time.Time,
// time.Duration, json.RawMessage), and types with a MarshalJSON,
// UnmarshalJSON or MarshalText method (on the type or its pointer),
// including methods promoted from embedded fields.
func ownJSON(t types.Type) bool {
	if _, ok := types.Unalias(t).(*types.Named); !ok {
		return false
	}
	return wellKnownOf(t) != nil || implements(t, jsonMarshaler) || implements(t, jsonUnmarshaler) || implements(t, textMarshaler)
}

// isText reports a type that travels as its text over gRPC and in query
// strings and paths: it has MarshalText and UnmarshalText methods
// (encoding.TextMarshaler and TextUnmarshaler, on the type or its
// pointer), and is not one of the well-known types (wellKnownTypes).
func isText(t types.Type) bool {
	if _, ok := types.Unalias(t).(*types.Named); !ok || wellKnownOf(t) != nil {
		return false
	}
	return implements(t, textMarshaler) && implements(t, textUnmarshaler)
}

// objectStruct returns the struct a type is, or points to, when
// encoding/json writes it as an object of its fields; nil for other types
// and for structs with their own encoding (see [ownJSON]).
func objectStruct(t types.Type) *types.Struct {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	if ownJSON(t) {
		return nil
	}
	st, _ := t.Underlying().(*types.Struct)
	return st
}

// jsonName returns a field's name in JSON, and whether JSON skips it.
func jsonName(field, tag string) (string, bool) {
	v, ok := reflect.StructTag(tag).Lookup("json")
	if !ok {
		return field, false
	}
	name, _, _ := strings.Cut(v, ",")
	if name == "-" {
		return "", true
	}
	if name == "" {
		return field, false
	}
	return name, false
}

// structOf returns the struct a type is, or points to.
func structOf(t types.Type) *types.Struct {
	if p, ok := t.Underlying().(*types.Pointer); ok {
		t = p.Elem()
	}
	st, _ := t.Underlying().(*types.Struct)
	return st
}

func isNamedStruct(t types.Type) bool {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	_, ok := types.Unalias(t).(*types.Named)
	return ok
}

func isContext(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "context" && n.Obj().Name() == "Context"
}

func isError(t types.Type) bool {
	return types.Identical(t, types.Universe.Lookup("error").Type())
}

// checkType rejects types the generated code cannot name or JSON cannot
// carry.
func (s *Service) checkType(t types.Type, what string) error {
	return s.walkType(t, what, map[types.Type]bool{})
}

func (s *Service) walkType(t types.Type, what string, seen map[types.Type]bool) error {
	if seen[t] {
		return nil
	}
	seen[t] = true
	switch u := types.Unalias(t).(type) {
	case *types.Named:
		obj := u.Obj()
		if obj.Pkg() != nil && obj.Pkg() != s.Pkg && !obj.Exported() {
			return fmt.Errorf("%s has the unexported type %s of package %s", what, obj.Name(), obj.Pkg().Path())
		}
		if ownJSON(u) || isText(u) {
			return nil // encoded by its own methods, not by its fields
		}
		for i := 0; i < u.TypeArgs().Len(); i++ {
			if err := s.walkType(u.TypeArgs().At(i), what, seen); err != nil {
				return err
			}
		}
		return s.walkUnder(u.Underlying(), what, seen)
	default:
		return s.walkUnder(u, what, seen)
	}
}

func (s *Service) walkUnder(t types.Type, what string, seen map[types.Type]bool) error {
	switch u := t.(type) {
	case *types.Chan:
		return fmt.Errorf("%s is or holds a channel, which cannot cross the wire", what)
	case *types.Signature:
		return fmt.Errorf("%s is or holds a func, which cannot cross the wire", what)
	case *types.Basic:
		switch {
		case u.Kind() == types.Invalid:
			return &invalidTypeError{what: what}
		case u.Info()&types.IsComplex != 0:
			return fmt.Errorf("%s is or holds a complex number, which JSON cannot carry", what)
		case u.Kind() == types.UnsafePointer:
			return fmt.Errorf("%s is or holds an unsafe.Pointer", what)
		}
	case *types.Pointer:
		return s.walkType(u.Elem(), what, seen)
	case *types.Slice:
		return s.walkType(u.Elem(), what, seen)
	case *types.Array:
		return s.walkType(u.Elem(), what, seen)
	case *types.Map:
		if err := s.walkType(u.Key(), what, seen); err != nil {
			return err
		}
		return s.walkType(u.Elem(), what, seen)
	case *types.Struct:
		for i := 0; i < u.NumFields(); i++ {
			f := u.Field(i)
			if !f.Exported() && !f.Embedded() {
				continue
			}
			if _, skip := jsonName(f.Name(), u.Tag(i)); skip {
				continue
			}
			if err := s.walkType(f.Type(), what+" (field "+f.Name()+")", seen); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkNames rejects names the generator would declare that the package
// declares already.
func (s *Service) checkNames(pkg *packages.Package) error {
	names := []string{"Endpoints", "Middlewares", "NewEndpoints", "NewHTTPHandler", "RegisterHTTP", "NewHTTPClient", "NewHTTPClientEndpoints",
		"OpenAPIDocument", "RegisterGRPC", "NewGRPCClient", "NewGRPCClientEndpoints", "GRPCServiceName", "ServiceName"}
	for _, m := range s.Methods {
		names = append(names, "Make"+m.Name+"Endpoint")
		if m.Request.Generated() {
			names = append(names, m.Request.Name)
		}
		if m.Response.Generated() {
			names = append(names, m.Response.Name)
		}
	}
	var errs errorList
	for _, n := range names {
		if obj := s.scope.Lookup(n); obj != nil {
			errs.add(&Error{Pos: pkg.Fset.Position(obj.Pos()),
				Message: fmt.Sprintf("%s is declared here, and kitgen generates %s for %s", n, n, s.Name),
				Hint:    "rename it, or keep one service interface per package"})
		}
	}
	return errs.err()
}

// exportName turns a parameter name into an exported field name, with Go's
// initialisms: id → ID, userID → UserID, url → URL.
func exportName(name string) string {
	if name == "" {
		return name
	}
	switch strings.ToLower(name) {
	case "id", "url", "uri", "ip", "api", "http", "json", "uuid", "sql", "ttl":
		return strings.ToUpper(name)
	}
	r := []rune(name)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}
