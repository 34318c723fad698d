package codegen

import (
	"encoding/json"
	"fmt"
	"go/types"
	"reflect"
	"strconv"
	"strings"

	"github.com/typedkit/kit/genrt"
)

// This file emits the JSON codecs of the HTTP glue: a reader and a writer
// function for each request and response type with a JSON body, built
// from the go/types model as the protowire codecs are (no reflection),
// straight-line code over genrt.JSONDecoder and genrt.JSONWriter. They
// accept and produce exactly what encoding/json does for the same types
// and tags: fields by encoding/json's rules (jsonFields), omitempty,
// omitzero, the ",string" option, embedded structs, keys matched exactly
// and then without regard to case, the last duplicate winning, null for
// every kind.
//
// A value of a type the emitter does not encode itself goes through
// encoding/json, as that type alone (genrt.JSONWriter.Value and
// genrt.JSONValue), so generation never fails for a type: interfaces,
// types with their own MarshalJSON, UnmarshalJSON, MarshalText or
// UnmarshalText (time.Time and json.RawMessage aside, whose methods the
// codecs copy), maps whose keys are not strings or integers, anonymous
// structs, named pointer types, and structs with a field that the
// ",string" option or omitzero make the emitter's own rules not cover.
//
// The generated glue hands a call to httpx's encoding/json functions
// instead when its context says so (httpx.ContextWithStandardJSON, which
// httpx.ServerStandardJSON sets for every request of a server): the switch
// to fall back on, at run time and per service or per call, with no
// regeneration. Errors are encoding/json's own (*json.SyntaxError,
// *json.UnmarshalTypeError, a method's error), which httpx's problem
// bodies describe as they describe encoding/json's; nesting is limited to
// encoding/json's 10,000 levels, and bodies by the server's body limit.
//
// Where encoding/json calls a method of a pointer receiver only on an
// addressable value (a MarshalJSON of *T on a field of a struct passed by
// value, say), the writers come in two variants, for addressable values
// and for values that are not, so that the same method is called.

// jsonEmitter renders the codecs of one file.
type jsonEmitter struct {
	svc   *Service
	fi    *fileImports
	out   strings.Builder
	funcs map[string]string
	names map[string]bool
	// sensitive memoizes jsonAddrSensitive.
	sensitive map[string]bool
}

func newJSONEmitter(svc *Service, fi *fileImports) *jsonEmitter {
	return &jsonEmitter{svc: svc, fi: fi, funcs: map[string]string{}, names: map[string]bool{}, sensitive: map[string]bool{}}
}

// jsonShape is how the codecs handle a type.
type jsonShape int

const (
	jsonFallback jsonShape = iota // encoding/json
	jsonBasic                     // a row of basicKinds or wellKnownTypes
	jsonPointer
	jsonBytes
	jsonSlice
	jsonArray
	jsonMap
	jsonStruct
)

// shape returns how the codecs handle t, and its kind for jsonBasic.
func (e *jsonEmitter) shape(t types.Type) (jsonShape, *jsonKind) {
	if wk := wellKnownOf(t); wk != nil {
		if wk.json == nil {
			return jsonFallback, nil
		}
		return jsonBasic, wk.json
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		if n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "encoding/json" {
			return jsonFallback, nil // json.Number and the like
		}
		if jsonOwnMethods(t) {
			return jsonFallback, nil
		}
		if _, isPtr := n.Underlying().(*types.Pointer); isPtr {
			return jsonFallback, nil
		}
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		if b := basicKinds[u.Kind()]; b != nil && b.json != nil {
			return jsonBasic, b.json
		}
	case *types.Pointer:
		if s, _ := e.shape(u.Elem()); s != jsonFallback {
			return jsonPointer, nil
		}
	case *types.Slice:
		if b, ok := u.Elem().Underlying().(*types.Basic); ok && b.Kind() == types.Uint8 && !jsonOwnMethods(u.Elem()) && !jsonOwnMethods(types.NewPointer(u.Elem())) {
			return jsonBytes, nil
		}
		if s, _ := e.shape(u.Elem()); s != jsonFallback {
			return jsonSlice, nil
		}
	case *types.Array:
		if s, _ := e.shape(u.Elem()); s != jsonFallback {
			return jsonArray, nil
		}
	case *types.Map:
		if jsonMapKey(u.Key()) == "" {
			return jsonFallback, nil
		}
		if s, _ := e.shape(u.Elem()); s != jsonFallback {
			return jsonMap, nil
		}
	case *types.Struct:
		if _, named := types.Unalias(t).(*types.Named); named {
			if _, ok := e.structFields(t); ok {
				return jsonStruct, nil
			}
		}
	}
	return jsonFallback, nil
}

// jsonOwnMethods reports a type with a method that encoding/json calls
// instead of reading or writing it by its kind.
func jsonOwnMethods(t types.Type) bool {
	return implements(t, jsonMarshaler) || implements(t, jsonUnmarshaler) || implements(t, textMarshaler) || implements(t, textUnmarshaler)
}

// jsonMapKey returns the kind of a map key the codecs handle: "string",
// "int" or "uint"; "" for keys left to encoding/json.
func jsonMapKey(k types.Type) string {
	if jsonOwnMethods(k) {
		return ""
	}
	b, ok := k.Underlying().(*types.Basic)
	switch {
	case !ok:
		return ""
	case b.Info()&types.IsString != 0:
		return "string"
	case b.Info()&types.IsUnsigned != 0:
		return "uint"
	case b.Info()&types.IsInteger != 0:
		return "int"
	}
	return ""
}

// jsonAddrSensitive reports a type that encoding/json writes differently
// when it is addressable: it holds, by value, a type whose MarshalJSON or
// MarshalText has a pointer receiver.
func (e *jsonEmitter) jsonAddrSensitive(t types.Type) bool {
	key := types.TypeString(t, nil)
	if v, ok := e.sensitive[key]; ok {
		return v
	}
	e.sensitive[key] = false // cycles through values are impossible; through pointers they stop
	v := false
	if _, isPtr := t.Underlying().(*types.Pointer); !isPtr && !types.IsInterface(t) {
		if !types.Implements(t, jsonMarshaler) && !types.Implements(t, textMarshaler) &&
			(types.Implements(types.NewPointer(t), jsonMarshaler) || types.Implements(types.NewPointer(t), textMarshaler)) {
			v = true
		}
	}
	if !v && wellKnownOf(t) == nil {
		switch u := t.Underlying().(type) {
		case *types.Array:
			v = e.jsonAddrSensitive(u.Elem())
		case *types.Struct:
			for i := 0; i < u.NumFields() && !v; i++ {
				if f := u.Field(i); f.Exported() || f.Embedded() {
					v = e.jsonAddrSensitive(f.Type())
				}
			}
		}
	}
	e.sensitive[key] = v
	return v
}

// jsonStructField is a field of a struct as the codecs see it.
type jsonStructField struct {
	*Field
	omitEmpty, omitZero, quoted bool
}

// structFields returns the fields of a named struct type, and false when
// the codecs leave the struct to encoding/json.
func (e *jsonEmitter) structFields(t types.Type) ([]jsonStructField, bool) {
	fields, err := e.svc.structFields(t)
	if err != nil {
		return nil, false
	}
	return e.fieldOptions(fields)
}

// fieldOptions reads the options of the fields' json tags, and reports
// false for a struct with a field whose options the codecs do not cover.
func (e *jsonEmitter) fieldOptions(fields []*Field) ([]jsonStructField, bool) {
	out := make([]jsonStructField, 0, len(fields))
	for _, f := range fields {
		jf := jsonStructField{Field: f}
		tag, _ := reflect.StructTag(f.Tag).Lookup("json")
		_, opts, _ := strings.Cut(tag, ",")
		for _, o := range strings.Split(opts, ",") {
			switch o {
			case "omitempty":
				jf.omitEmpty = true
			case "omitzero":
				jf.omitZero = true
			case "string":
				ft := f.Type
				if p, ok := types.Unalias(ft).(*types.Pointer); ok {
					ft = p.Elem()
				}
				if b, ok := ft.Underlying().(*types.Basic); ok && b.Info()&(types.IsBoolean|types.IsNumeric|types.IsString) != 0 && b.Info()&types.IsComplex == 0 {
					jf.quoted = true
				}
			}
		}
		if jf.quoted {
			elem, ptr := f.Type, false
			if p, ok := types.Unalias(elem).(*types.Pointer); ok {
				elem, ptr = p.Elem(), true
			}
			if s, k := e.shape(elem); s != jsonBasic || k.quotedRead == "" || wellKnownOf(elem) != nil {
				return nil, false
			}
			if ptr && types.Unalias(f.Type) != f.Type {
				return nil, false
			}
		}
		if jf.omitZero && e.zeroTest(f.Type, "x") == "" {
			return nil, false
		}
		out = append(out, jf)
	}
	return out, true
}

// zeroTest returns the condition under which omitzero keeps the value x of
// type t, or "" for a type whose zero test the codecs do not make.
func (e *jsonEmitter) zeroTest(t types.Type, x string) string {
	if _, isPtr := t.Underlying().(*types.Pointer); isPtr {
		if hasIsZero(t) {
			return x + " != nil && !" + x + ".IsZero()"
		}
		return x + " != nil"
	}
	if types.IsInterface(t) {
		return ""
	}
	if hasIsZero(t) || hasIsZero(types.NewPointer(t)) {
		return "!" + x + ".IsZero()"
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		if b := basicKinds[u.Kind()]; b != nil && b.json != nil {
			if u.Info()&types.IsString != 0 {
				return x + ` != ""`
			}
			return e.fill(b.json.present, x, "")
		}
	case *types.Slice, *types.Map:
		return x + " != nil"
	}
	return ""
}

// hasIsZero reports a type with the method IsZero() bool.
func hasIsZero(t types.Type) bool {
	sig := types.NewSignatureType(nil, nil, nil, nil, types.NewTuple(types.NewVar(0, nil, "", types.Typ[types.Bool])), false)
	iface := types.NewInterfaceType([]*types.Func{types.NewFunc(0, nil, "IsZero", sig)}, nil).Complete()
	return types.Implements(t, iface)
}

// fill fills a jsonKind template.
func (e *jsonEmitter) fill(tmpl, x, p string) string {
	return expand(tmpl, func(name string) string {
		switch name {
		case "x":
			return x
		case "p":
			return p
		case "s":
			return "s"
		case "start":
			return "start"
		case "rt":
			return e.fi.name(genrtPath, "genrt")
		}
		panic("codegen: unknown placeholder $" + name + " in a JSON template")
	})
}

// funcName gives a codec function a name unique in the file.
func (e *jsonEmitter) funcName(prefix string, t types.Type) string {
	base := prefix + jsonTypeName(t)
	name := base
	for i := 2; e.names[name] || e.fi.reserved[name]; i++ {
		name = base + strconv.Itoa(i)
	}
	e.names[name] = true
	return name
}

// jsonTypeName spells a type in a function name.
func jsonTypeName(t types.Type) string {
	switch u := types.Unalias(t).(type) {
	case *types.Pointer:
		return "Ptr" + jsonTypeName(u.Elem())
	case *types.Named:
		name := exportName(u.Obj().Name())
		for i := 0; i < u.TypeArgs().Len(); i++ {
			name += jsonTypeName(u.TypeArgs().At(i))
		}
		return name
	case *types.Slice:
		return jsonTypeName(u.Elem()) + "List"
	case *types.Array:
		return jsonTypeName(u.Elem()) + "Array" + strconv.FormatInt(u.Len(), 10)
	case *types.Map:
		return jsonTypeName(u.Key()) + jsonTypeName(u.Elem()) + "Map"
	case *types.Basic:
		return exportName(u.Name())
	}
	return "Value"
}

// rt is the file's name of package genrt.
func (e *jsonEmitter) rt() string { return e.fi.name(genrtPath, "genrt") }

// read returns the statement that reads a value of type t into the
// pointer p.
func (e *jsonEmitter) read(t types.Type, p string) string {
	s, k := e.shape(t)
	switch s {
	case jsonBasic:
		return e.fill(k.read, "", p)
	case jsonFallback:
		return e.rt() + ".JSONValue(d, " + p + ")"
	}
	return e.reader(t) + "(d, " + p + ")"
}

// write returns the statement that writes the value x of type t, whose
// pointer is p; addr reports an addressable value.
func (e *jsonEmitter) write(t types.Type, x, p string, addr bool) string {
	s, k := e.shape(t)
	switch s {
	case jsonBasic:
		return e.fill(k.write, x, p)
	case jsonBytes:
		return "w.Bytes([]byte(" + x + "))"
	case jsonFallback:
		if !addr && e.jsonAddrSensitive(t) {
			return "w.Value(" + x + ")"
		}
		return "w.Value(" + p + ")"
	}
	return e.writer(t, addr) + "(w, " + p + ")"
}

// reader returns the name of the reader function of t, emitting it on
// first use.
func (e *jsonEmitter) reader(t types.Type) string {
	key := "r " + types.TypeString(t, nil)
	if n, ok := e.funcs[key]; ok {
		return n
	}
	name := e.funcName("jsonRead", t)
	e.funcs[key] = name
	var b strings.Builder
	T := e.fi.typ(t)
	rt := e.rt()
	fmt.Fprintf(&b, "\n// %s reads %s as json.Unmarshal does.\nfunc %s(d *%s.JSONDecoder, v *%s) {\n", name, article(T)+" "+T, name, rt, T)
	s, _ := e.shape(t)
	switch u := t.Underlying().(type) {
	case *types.Pointer:
		fmt.Fprintf(&b, "if d.Null() {\n*v = nil\nreturn\n}\nif *v == nil {\n*v = new(%s)\n}\n%s\n", e.fi.typ(u.Elem()), e.read(u.Elem(), "*v"))
	case *types.Slice:
		if s == jsonBytes {
			fmt.Fprintf(&b, "if !d.IsArray() {\n%s.JSONBytes(d, v)\nreturn\n}\n", rt)
		} else {
			fmt.Fprintf(&b, "if d.Null() {\n*v = nil\nreturn\n}\n")
		}
		fmt.Fprintf(&b, "if !d.BeginArray(%s.TypeOf[%s]) {\nreturn\n}\n", rt, T)
		fmt.Fprintf(&b, "s := *v\ni := 0\nfor first := true; d.More(first, ']'); first = false {\n")
		fmt.Fprintf(&b, "if i >= cap(s) {\ns = %s.Grow(s, 1)\n}\nif i >= len(s) {\ns = s[:i+1]\n}\n", e.fi.name("slices", "slices"))
		fmt.Fprintf(&b, "%s\ni++\nif d.Failed() {\n*v = s\nreturn\n}\n}\n", e.read(u.Elem(), "&s[i]"))
		fmt.Fprintf(&b, "if i < len(s) {\ns = s[:i]\n}\nif i == 0 {\ns = %s{}\n}\n*v = s\n", T)
	case *types.Array:
		fmt.Fprintf(&b, "if !d.BeginArray(%s.TypeOf[%s]) {\nreturn\n}\n", rt, T)
		fmt.Fprintf(&b, "i := 0\nfor first := true; d.More(first, ']'); first = false {\nif i < len(v) {\n%s\n} else {\nd.Skip()\n}\ni++\nif d.Failed() {\nreturn\n}\n}\n", e.read(u.Elem(), "&v[i]"))
		fmt.Fprintf(&b, "for ; i < len(v); i++ {\nv[i] = %s\n}\n", e.zero(u.Elem()))
	case *types.Map:
		fmt.Fprintf(&b, "if d.Null() {\n*v = nil\nreturn\n}\nif !d.BeginObject(%s.TypeOf[%s]) {\nreturn\n}\nif *v == nil {\n*v = %s{}\n}\n", rt, T, T)
		fmt.Fprintf(&b, "for first := true; d.More(first, '}'); first = false {\n")
		K := e.fi.typ(u.Key())
		// The key is read before the value and, for integers, parsed
		// after it, as encoding/json does.
		kind := jsonMapKey(u.Key())
		if kind == "string" {
			fmt.Fprintf(&b, "k := %s(d.Key())\n", K)
		} else {
			b.WriteString("text := string(d.Key())\n")
		}
		fmt.Fprintf(&b, "var x %s\n%s\nif d.Failed() {\nreturn\n}\n", e.fi.typ(u.Elem()), e.read(u.Elem(), "&x"))
		switch kind {
		case "int":
			fmt.Fprintf(&b, "var k %s\n%s.JSONIntKey(d, &k, text)\nif d.Failed() {\nreturn\n}\n", K, rt)
		case "uint":
			fmt.Fprintf(&b, "var k %s\n%s.JSONUintKey(d, &k, text)\nif d.Failed() {\nreturn\n}\n", K, rt)
		}
		b.WriteString("(*v)[k] = x\n}\n")
	case *types.Struct:
		fields, _ := e.structFields(t)
		e.structReader(&b, T, fields)
	}
	b.WriteString("}\n")
	e.out.WriteString(b.String())
	return name
}

// zero returns the zero value of t as an expression.
func (e *jsonEmitter) zero(t types.Type) string {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Info()&types.IsString != 0:
			return e.fi.typ(t) + `("")`
		case u.Info()&types.IsBoolean != 0:
			return e.fi.typ(t) + "(false)"
		}
		return e.fi.typ(t) + "(0)"
	case *types.Pointer, *types.Slice, *types.Map, *types.Interface, *types.Signature, *types.Chan:
		return "nil"
	}
	return e.fi.typ(t) + "{}"
}

// structReader writes the body of a struct's reader.
func (e *jsonEmitter) structReader(b *strings.Builder, T string, fields []jsonStructField) {
	rt := e.rt()
	fmt.Fprintf(b, "if !d.BeginObject(%s.TypeOf[%s]) {\nreturn\n}\n", rt, T)
	fmt.Fprintf(b, "for first := true; d.More(first, '}'); first = false {\n")
	if len(fields) == 0 {
		b.WriteString("d.Key()\nd.Skip()\n}\n")
		return
	}
	b.WriteString("f := 0\nswitch string(d.Key()) {\n")
	for i, f := range fields {
		fmt.Fprintf(b, "case %s:\nf = %d\n", strconv.Quote(f.JSON), i+1)
	}
	b.WriteString("default:\nswitch string(d.FoldedKey()) {\n")
	seen := map[string]bool{}
	for i, f := range fields {
		folded := string(genrt.AppendFoldedName(nil, []byte(f.JSON)))
		if seen[folded] {
			continue
		}
		seen[folded] = true
		fmt.Fprintf(b, "case %s:\nf = %d\n", strconv.Quote(folded), i+1)
	}
	b.WriteString("}\n}\nswitch f {\n")
	for i, f := range fields {
		fmt.Fprintf(b, "case %d:\n", i+1)
		b.WriteString(allocVia(e.fi, "v", f.Field))
		field := "v." + f.Selector
		if f.quoted {
			b.WriteString(e.quotedRead(f, field))
		} else {
			b.WriteString(e.read(f.Type, "&"+field))
		}
		// A type error names the field as encoding/json does: the Go names
		// of the embedded structs on the way, then its JSON name.
		path := f.JSON
		if i := strings.LastIndexByte(f.Selector, '.'); i >= 0 {
			path = f.Selector[:i+1] + f.JSON
		}
		fmt.Fprintf(b, "\nif d.Failed() {\nd.InField(%s)\nreturn\n}\n", strconv.Quote(path))
	}
	b.WriteString("default:\nd.Skip()\n}\n}\n")
}

// quotedRead returns the statements that read a field with the ",string"
// option.
func (e *jsonEmitter) quotedRead(f jsonStructField, field string) string {
	elem := f.Type
	p, isPtr := types.Unalias(elem).(*types.Pointer)
	if isPtr {
		elem = p.Elem()
	}
	_, k := e.shape(elem)
	T := e.fi.typ(elem)
	if !isPtr {
		return fmt.Sprintf("if s, start, _, ok := d.Quoted(%s.TypeOf[%s]); ok {\n_ = start\n%s\n}", e.rt(), T, e.fill(k.quotedRead, "", "&"+field))
	}
	return fmt.Sprintf("if s, start, null, ok := d.Quoted(%s.TypeOf[%s]); null {\n%s = nil\n} else if ok {\n_ = start\nif %s == nil {\n%s = new(%s)\n}\n%s\n}",
		e.rt(), T, field, field, field, T, e.fill(k.quotedRead, "", field))
}

// writer returns the name of the writer function of t (its variant for
// values that are not addressable, where that differs), emitting it on
// first use.
func (e *jsonEmitter) writer(t types.Type, addr bool) string {
	if !e.jsonAddrSensitive(t) {
		addr = true
	}
	key := "w " + types.TypeString(t, nil)
	prefix := "jsonWrite"
	if !addr {
		key += " value"
		prefix = "jsonWriteValue"
	}
	if n, ok := e.funcs[key]; ok {
		return n
	}
	name := e.funcName(prefix, t)
	e.funcs[key] = name
	var b strings.Builder
	T := e.fi.typ(t)
	fmt.Fprintf(&b, "\n// %s writes %s as json.Marshal does.\nfunc %s(w *%s.JSONWriter, v *%s) {\n", name, article(T)+" "+T, name, e.rt(), T)
	switch u := t.Underlying().(type) {
	case *types.Pointer:
		fmt.Fprintf(&b, "if *v == nil {\nw.Raw(\"null\")\nreturn\n}\n%s\n", e.write(u.Elem(), "**v", "*v", true))
	case *types.Slice:
		fmt.Fprintf(&b, "if *v == nil {\nw.Raw(\"null\")\nreturn\n}\nw.Byte('[')\nfor i := range *v {\nif i > 0 {\nw.Byte(',')\n}\n%s\n}\nw.Byte(']')\n",
			e.write(u.Elem(), "(*v)[i]", "&(*v)[i]", true))
	case *types.Array:
		fmt.Fprintf(&b, "w.Byte('[')\nfor i := range v {\nif i > 0 {\nw.Byte(',')\n}\n%s\n}\nw.Byte(']')\n",
			e.write(u.Elem(), "v[i]", "&v[i]", addr))
	case *types.Map:
		fmt.Fprintf(&b, "if *v == nil {\nw.Raw(\"null\")\nreturn\n}\nw.Byte('{')\n")
		switch jsonMapKey(u.Key()) {
		case "string":
			fmt.Fprintf(&b, "for i, k := range %s.SortedKeys(*v) {\nif i > 0 {\nw.Byte(',')\n}\nw.String(string(k))\n", e.rt())
		case "int":
			fmt.Fprintf(&b, "for i, kt := range %s.SortedIntKeys(*v) {\nif i > 0 {\nw.Byte(',')\n}\nk := kt.Key\nw.String(kt.Text)\n", e.rt())
		case "uint":
			fmt.Fprintf(&b, "for i, kt := range %s.SortedUintKeys(*v) {\nif i > 0 {\nw.Byte(',')\n}\nk := kt.Key\nw.String(kt.Text)\n", e.rt())
		}
		fmt.Fprintf(&b, "w.Byte(':')\nx := (*v)[k]\n%s\n}\nw.Byte('}')\n", e.write(u.Elem(), "x", "&x", false))
	case *types.Struct:
		fields, _ := e.structFields(t)
		e.structWriter(&b, fields, addr)
	}
	b.WriteString("}\n")
	e.out.WriteString(b.String())
	return name
}

// structWriter writes the body of a struct's writer.
func (e *jsonEmitter) structWriter(b *strings.Builder, fields []jsonStructField, addr bool) {
	if len(fields) == 0 {
		b.WriteString("w.Raw(\"{}\")\n")
		return
	}
	dynamic := false
	for _, f := range fields {
		dynamic = dynamic || f.omitEmpty || f.omitZero || len(f.Via) > 0
	}
	if dynamic {
		b.WriteString("next := byte('{')\n")
	}
	for i, f := range fields {
		name, _ := json.Marshal(f.JSON) // HTML-escaped, as encoding/json writes names
		field := "v." + f.Selector
		var conds []string
		if c := viaPresent("v", f.Field); c != "" {
			conds = append(conds, c)
		}
		if f.omitEmpty {
			if c := e.present(f.Type, field); c != "" {
				conds = append(conds, c)
			}
		}
		if f.omitZero {
			conds = append(conds, e.zeroTest(f.Type, field))
		}
		if len(conds) > 0 {
			fmt.Fprintf(b, "if %s {\n", strings.Join(conds, " && "))
		}
		switch {
		case dynamic:
			fmt.Fprintf(b, "w.Byte(next)\nnext = ','\nw.Raw(%s)\n", strconv.Quote(string(name)+":"))
		case i == 0:
			fmt.Fprintf(b, "w.Raw(%s)\n", strconv.Quote("{"+string(name)+":"))
		default:
			fmt.Fprintf(b, "w.Raw(%s)\n", strconv.Quote(","+string(name)+":"))
		}
		if f.quoted {
			b.WriteString(e.quotedWrite(f, field))
		} else {
			b.WriteString(e.write(f.Type, field, "&"+field, addr || len(f.Via) > 0 /* through an embedded pointer */))
		}
		b.WriteString("\n")
		if len(conds) > 0 {
			b.WriteString("}\n")
		}
	}
	if dynamic {
		b.WriteString("if next == '{' {\nw.Raw(\"{}\")\n} else {\nw.Byte('}')\n}\n")
	} else {
		b.WriteString("w.Byte('}')\n")
	}
}

// quotedWrite returns the statements that write a field with the
// ",string" option.
func (e *jsonEmitter) quotedWrite(f jsonStructField, field string) string {
	elem := f.Type
	p, isPtr := types.Unalias(elem).(*types.Pointer)
	if isPtr {
		elem = p.Elem()
	}
	_, k := e.shape(elem)
	if !isPtr {
		return e.fill(k.quotedWrite, field, "&"+field)
	}
	return fmt.Sprintf("if %s == nil {\nw.Raw(\"null\")\n} else {\n%s\n}", field, e.fill(k.quotedWrite, "*"+field, field))
}

// present returns the condition under which omitempty keeps the value x of
// type t: encoding/json's test of an empty value; "" for kinds that are
// never empty (structs).
func (e *jsonEmitter) present(t types.Type, x string) string {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		if b := basicKinds[u.Kind()]; b != nil && b.json != nil {
			return e.fill(b.json.present, x, "")
		}
	case *types.Slice, *types.Map, *types.Array:
		return "len(" + x + ") != 0"
	case *types.Pointer, *types.Interface:
		return x + " != nil"
	}
	return ""
}

// messageReader returns the reader of a method's request or response
// message: of its type, or of the struct the generator declares.
func (e *jsonEmitter) messageReader(m *Message) string {
	if !m.Generated() {
		return e.topReader(m.Type)
	}
	key := "r " + m.Name
	if n, ok := e.funcs[key]; ok {
		return n
	}
	name := "jsonRead" + m.Name
	e.names[name], e.funcs[key] = true, name
	fields, _ := e.fieldOptions(generatedFields(m))
	var b strings.Builder
	fmt.Fprintf(&b, "\n// %s reads %s %s as json.Unmarshal does.\nfunc %s(d *%s.JSONDecoder, v *%s) {\n", name, article(m.Name), m.Name, name, e.rt(), m.Name)
	e.structReader(&b, m.Name, fields)
	b.WriteString("}\n")
	e.out.WriteString(b.String())
	return name
}

// messageWriter returns the writer of a method's request or response
// message, for a value that is not addressable (the codecs write their
// argument's copy).
func (e *jsonEmitter) messageWriter(m *Message) string {
	if !m.Generated() {
		return e.topWriter(m.Type)
	}
	key := "w " + m.Name
	if n, ok := e.funcs[key]; ok {
		return n
	}
	name := "jsonWrite" + m.Name
	e.names[name], e.funcs[key] = true, name
	fields, _ := e.fieldOptions(generatedFields(m))
	var b strings.Builder
	fmt.Fprintf(&b, "\n// %s writes %s %s as json.Marshal does.\nfunc %s(w *%s.JSONWriter, v *%s) {\n", name, article(m.Name), m.Name, name, e.rt(), m.Name)
	e.structWriter(&b, fields, false)
	b.WriteString("}\n")
	e.out.WriteString(b.String())
	return name
}

// topWriter returns a writer of a value of t that is not addressable.
func (e *jsonEmitter) topWriter(t types.Type) string {
	s, _ := e.shape(t)
	switch s {
	case jsonPointer, jsonSlice, jsonArray, jsonMap, jsonStruct:
		return e.writer(t, false)
	}
	key := "w " + types.TypeString(t, nil) + " top"
	if n, ok := e.funcs[key]; ok {
		return n
	}
	name := e.funcName("jsonWrite", t)
	e.funcs[key] = name
	T := e.fi.typ(t)
	fmt.Fprintf(&e.out, "\n// %s writes %s as json.Marshal does.\nfunc %s(w *%s.JSONWriter, v *%s) {\n%s\n}\n", name, article(T)+" "+T, name, e.rt(), T, e.write(t, "*v", "v", false))
	return name
}

// topReader returns a reader of a value of t.
func (e *jsonEmitter) topReader(t types.Type) string {
	s, _ := e.shape(t)
	switch s {
	case jsonPointer, jsonSlice, jsonBytes, jsonArray, jsonMap, jsonStruct:
		return e.reader(t)
	}
	key := "r " + types.TypeString(t, nil) + " top"
	if n, ok := e.funcs[key]; ok {
		return n
	}
	name := e.funcName("jsonRead", t)
	e.funcs[key] = name
	T := e.fi.typ(t)
	fmt.Fprintf(&e.out, "\n// %s reads %s as json.Unmarshal does.\nfunc %s(d *%s.JSONDecoder, v *%s) {\n%s\n}\n", name, article(T)+" "+T, name, e.rt(), T, e.read(t, "v"))
	return name
}

// generatedFields are the fields of a struct the generator declares, with
// the tags it declares them with.
func generatedFields(m *Message) []*Field {
	out := make([]*Field, len(m.Fields))
	for i, f := range m.Fields {
		g := *f
		g.Tag = `json:"` + f.JSON + `"`
		g.Via = nil
		if g.Selector == "" {
			g.Selector = g.Name
		}
		out[i] = &g
	}
	return out
}
