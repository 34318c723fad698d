package codegen

import (
	"bufio"
	"bytes"
	"fmt"
	"go/constant"
	"go/token"
	"go/types"
	"maps"
	"math"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// protoMessage is a protobuf message for a Go struct type.
type protoMessage struct {
	// Name is the message's name in the .proto file.
	Name string
	// GoType is the struct type: a named struct of any package, or a
	// struct the generator declares (GoName).
	GoType types.Type
	// GoName is set for structs the generator declares.
	GoName string
	// Fields are the message's fields in field-number order.
	Fields []*protoField
	// Reserved are numbers the lock file records for fields that are gone.
	Reserved []int
	// Doc is the struct's doc comment, when known.
	Doc string
	// WrapType is the result type a generated one-field message carries.
	WrapType types.Type
	// HasText reports a message that holds, itself or in a message below
	// it, a field of a type that travels as its text: its size and write
	// functions share the texts that MarshalText returned.
	HasText bool
}

// protoField is one field of a message.
type protoField struct {
	// GoName is the Go field's name; Access selects it in a value of the
	// message's struct (a path through embedded structs for a promoted
	// field).
	GoName, Access string
	// Via are the embedded pointers on the way to a promoted field.
	Via  []*EmbeddedPointer
	Name string
	Num  int
	// Kind is the protobuf kind of the value (of the element for
	// repeated fields, of the value for maps); its row in protoKinds
	// says how it travels.
	Kind protoKind
	// Elem is the Go type of one value.
	Elem types.Type
	// Msg is the message of a message kind.
	Msg *protoMessage
	// Enum is the enum of an enum kind.
	Enum *protoEnum
	// Repeated is set for slices; Packed for repeated numbers.
	Repeated, Packed bool
	// Optional is set for pointers to scalars (proto3 optional); Pointer
	// for pointers to messages and times.
	Optional, Pointer bool
	// Map fields have a key kind and type; Kind and Elem describe values.
	Map     bool
	KeyKind protoKind
	KeyType types.Type
}

// protoEnum is a protobuf enum for a named integer type with constants.
type protoEnum struct {
	Name   string
	GoType types.Type
	Values []protoEnumValue
}

type protoEnumValue struct {
	Name  string
	Value int64
}

// protoModel is everything the .proto file and the wire codecs describe.
type protoModel struct {
	Package  string
	Messages []*protoMessage
	Enums    []*protoEnum
	// In and Out are the messages of each method, by method name.
	In, Out map[string]*protoMessage
	// Wrapped reports methods whose response is not a struct and travels
	// in a generated one-field message.
	Wrapped  map[string]bool
	Imports  []string
	lock     *lockFile
	byType   map[string]*protoMessage
	enumByTy map[string]*protoEnum
	// names are the names declared in the .proto package, by the key of
	// what declares them: the service, messages, enums and enum values
	// share one scope.
	names map[string]string
	svc   *Service
	errs  errorList
	// where and pos are the method being modelled, for errors.
	where string
	pos   token.Position
}

const typeTableHint = "see the type table in the codegen package documentation"

// buildProto builds the protobuf model of svc, numbering fields with the
// lock file's numbers where it has them. It reports every problem.
func buildProto(svc *Service, lock *lockFile) (*protoModel, error) {
	pm := &protoModel{
		Package:  svc.Pkg.Name(),
		In:       map[string]*protoMessage{},
		Out:      map[string]*protoMessage{},
		Wrapped:  map[string]bool{},
		lock:     lock,
		byType:   map[string]*protoMessage{},
		enumByTy: map[string]*protoEnum{},
		names:    map[string]string{},
		svc:      svc,
	}
	// The service's name and the generated messages' names come first, so
	// that a type of the same name gives way.
	pm.names[svc.Name] = "service"
	for _, m := range svc.Methods {
		if m.Request.Generated() {
			pm.names[m.Name+"Request"] = "generated"
		}
		if m.Response.Generated() || objectStruct(m.Response.Type) == nil {
			pm.names[m.Name+"Response"] = "generated"
		}
	}
	for _, m := range svc.Methods {
		pm.where, pm.pos = svc.Name+"."+m.Name, m.Pos
		in, err := pm.methodMessage(m.Request, m.Name+"Request")
		if err != nil {
			pm.fail(nil, "the request: "+err.Error())
		}
		out, err := pm.methodMessage(m.Response, m.Name+"Response")
		if err != nil {
			pm.fail(nil, "the response: "+err.Error())
		}
		pm.In[m.Name], pm.Out[m.Name] = in, out
		if !m.Response.Generated() && objectStruct(m.Response.Type) == nil {
			pm.Wrapped[m.Name] = true
		}
	}
	pm.markText()
	return pm, pm.errs.err()
}

// fail records a problem with a field (obj, when known) of the method
// being modelled.
func (pm *protoModel) fail(obj *types.Var, msg string) {
	pos := pm.pos
	if obj != nil && obj.Pos().IsValid() && pm.svc.fset != nil {
		pos = pm.svc.fset.Position(obj.Pos())
	}
	pm.errs.add(&Error{Pos: pos, Method: pm.where, Message: msg, Hint: typeTableHint})
}

// markText sets HasText on the messages that hold text fields, directly
// or in messages below them.
func (pm *protoModel) markText() {
	for changed := true; changed; {
		changed = false
		for _, m := range pm.Messages {
			if m.HasText {
				continue
			}
			for _, f := range m.Fields {
				if valueHasText(f) {
					m.HasText, changed = true, true
					break
				}
			}
		}
	}
}

// methodMessage returns the message for a method's request or response.
func (pm *protoModel) methodMessage(msg *Message, name string) (*protoMessage, error) {
	if msg.Generated() {
		where := pm.where
		return pm.structMessage(msg.Name, msg.Fields, nil, nil, msg.Name, fmt.Sprintf("%s is the %s of %s.", msg.Name, kindOf(name), where))
	}
	if st := objectStruct(msg.Type); st != nil {
		return pm.namedMessage(msg.Type)
	}
	// A response that is not an object travels as the field "value" of a
	// message of its own.
	value := &Field{Name: "Value", JSON: "value", Type: msg.Type, Selector: "Value", Tag: `kit:"1"`}
	wm, err := pm.structMessage(name, []*Field{value}, nil, nil, "grpc"+name, fmt.Sprintf("%s carries the result of %s as its value.", name, pm.where))
	if wm != nil {
		wm.WrapType = msg.Type
	}
	return wm, err
}

func kindOf(name string) string {
	if strings.HasSuffix(name, "Request") {
		return "request"
	}
	return "response"
}

// namedMessage returns the message of a named struct type (or pointer to
// one), building it on first use.
func (pm *protoModel) namedMessage(t types.Type) (*protoMessage, error) {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	key := types.TypeString(t, nil)
	if m, ok := pm.byType[key]; ok {
		return m, nil
	}
	named, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return nil, fmt.Errorf("%s is not a named struct type", key)
	}
	st := named.Underlying().(*types.Struct)
	doc := ""
	if named.Obj().Pkg() == pm.svc.Pkg {
		doc = pm.svc.typeDocs[named.Obj().Name()]
	}
	fields, err := pm.svc.structFields(t)
	if err != nil {
		return nil, err
	}
	return pm.structMessage(pm.messageName(named), fields, st, t, "", doc)
}

// messageName gives a named type a message name unique in the file.
func (pm *protoModel) messageName(n *types.Named) string {
	name := n.Obj().Name()
	for i := 0; i < n.TypeArgs().Len(); i++ {
		name += typeArgName(n.TypeArgs().At(i))
	}
	pkg := ""
	if n.Obj().Pkg() != nil {
		pkg = n.Obj().Pkg().Name()
	}
	return pm.declare(name, types.TypeString(n, nil), pkg)
}

// typeArgName spells a type argument in a message name: Page[User] is
// PageUser, Page[[]string] PageStringList, Page[map[string]int]
// PageStringIntMap.
func typeArgName(t types.Type) string {
	switch u := types.Unalias(t).(type) {
	case *types.Named:
		name := u.Obj().Name()
		for i := 0; i < u.TypeArgs().Len(); i++ {
			name += typeArgName(u.TypeArgs().At(i))
		}
		return exportName(name)
	case *types.Pointer:
		return typeArgName(u.Elem())
	case *types.Slice:
		return typeArgName(u.Elem()) + "List"
	case *types.Array:
		return typeArgName(u.Elem()) + "Array"
	case *types.Map:
		return typeArgName(u.Key()) + typeArgName(u.Elem()) + "Map"
	case *types.Basic:
		return exportName(u.Name())
	}
	return "Value"
}

// declare gives what key names a name unique in the .proto package: the
// name as protobuf spells identifiers, else with the Go package's name in
// front, else with a number after it.
func (pm *protoModel) declare(name, key, pkg string) string {
	base := protoIdent(name)
	cands := []string{base}
	if pkg != "" {
		cands = append(cands, protoIdent(exportName(pkg))+base)
	}
	for i := 2; ; i++ {
		if i-2 < len(cands) {
			if owner, taken := pm.names[cands[i-2]]; !taken || owner == key {
				pm.names[cands[i-2]] = key
				return cands[i-2]
			}
			continue
		}
		c := base + strconv.Itoa(i-len(cands))
		if owner, taken := pm.names[c]; !taken || owner == key {
			pm.names[c] = key
			return c
		}
	}
}

// protoIdent spells s as a protobuf identifier: ASCII letters, digits and
// underscores, not starting with a digit.
func protoIdent(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			if i == 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// jsonNameKey is what protoc compares to refuse two fields of a proto3
// message: their JSON names (underscores dropped, the next letter upper
// case), without regard to case.
func jsonNameKey(name string) string {
	return strings.ToLower(strings.ReplaceAll(name, "_", ""))
}

// structMessage builds the message of a struct's fields. named is the
// struct's named type (st its struct), or nil for a struct the generator
// declares as goName. Problems with fields are recorded, and the message
// is built without those fields.
func (pm *protoModel) structMessage(name string, fields []*Field, st *types.Struct, named types.Type, goName, doc string) (*protoMessage, error) {
	msg := &protoMessage{Name: name, GoType: named, GoName: goName, Doc: doc}
	if named != nil {
		pm.byType[types.TypeString(named, nil)] = msg
	}
	pm.Messages = append(pm.Messages, msg)

	type candidate struct {
		f        *protoField
		explicit int
		obj      *types.Var
	}
	var cands []candidate
	seenNames := map[string]string{}
	seenJSON := map[string]*protoField{}
	bad := func(fd *Field, format string, args ...any) {
		pm.fail(fd.Obj, fmt.Sprintf("message %s: field %s: ", name, fd.Name)+fmt.Sprintf(format, args...))
	}
	skipped := 0
	for _, fd := range fields {
		tag := reflect.StructTag(fd.Tag)
		if tag.Get("kit") == "-" {
			skipped++
			continue
		}
		f := &protoField{GoName: fd.Name, Access: fd.Selector, Via: fd.Via, Name: protoIdent(snake(fd.JSON))}
		if f.Access == "" {
			f.Access = fd.Name
		}
		if prev, dup := seenNames[f.Name]; dup {
			pm.fail(fd.Obj, fmt.Sprintf("message %s: fields %s and %s both have the protobuf name %s", name, prev, fd.Name, f.Name))
			continue
		}
		if prev, dup := seenJSON[jsonNameKey(f.Name)]; dup {
			pm.fail(fd.Obj, fmt.Sprintf("message %s: fields %s (%s) and %s (%s) have protobuf names that protoc refuses together, as their JSON names differ only in case or underscores; rename one in its json tag",
				name, prev.GoName, prev.Name, fd.Name, f.Name))
			continue
		}
		num, zigzag, err := fieldTag(tag)
		if err != nil {
			bad(fd, "%v", err)
			continue
		}
		if err := pm.fieldType(f, fd.Type, zigzag); err != nil {
			bad(fd, "%v", err)
			continue
		}
		seenNames[f.Name] = fd.Name
		seenJSON[jsonNameKey(f.Name)] = f
		cands = append(cands, candidate{f: f, explicit: num, obj: fd.Obj})
	}
	if len(fields) == 0 && skipped == 0 && st != nil && hidesData(st) {
		return msg, fmt.Errorf("%s has no exported fields, so its message would carry nothing: export its fields, or give it MarshalText and UnmarshalText methods to send it as a string", types.TypeString(named, func(p *types.Package) string { return p.Name() }))
	}

	// Number the fields: a tag, else the lock, else the next free number.
	locked := pm.lock.numbers(name)
	used := map[int]string{}
	var numbered []candidate
	for _, c := range cands {
		ln, inLock := locked[c.f.Name]
		switch {
		case c.explicit > 0 && inLock && ln != c.explicit:
			pm.fail(c.obj, fmt.Sprintf("message %s: field %s has the tag number %d but the lock file records %d; changing a field's number breaks every client (restore the number, or remove the field from the lock file on purpose)", name, c.f.GoName, c.explicit, ln))
			continue
		case c.explicit > 0:
			c.f.Num = c.explicit
		case inLock:
			c.f.Num = ln
		}
		if c.f.Num > 0 {
			if other, clash := used[c.f.Num]; clash {
				pm.fail(c.obj, fmt.Sprintf("message %s: fields %s and %s both have number %d", name, other, c.f.GoName, c.f.Num))
				continue
			}
			used[c.f.Num] = c.f.GoName
		}
		numbered = append(numbered, c)
	}
	cands = numbered
	lockedNames := slices.Sorted(maps.Keys(locked))
	for _, lname := range lockedNames {
		ln := locked[lname]
		if owner, clash := used[ln]; clash && seenNames[lname] != owner {
			return msg, fmt.Errorf("message %s: number %d belongs to field %s in the lock file, not to %s; a number may not change hands", name, ln, lname, owner)
		}
	}
	next := 1
	for _, ln := range locked {
		next = max(next, ln+1)
	}
	for _, c := range cands {
		if c.f.Num > 0 {
			continue
		}
		for {
			_, clash := used[next]
			_, lockedNum := pm.lock.owner(name, next)
			if !clash && !lockedNum && !(next >= 19000 && next <= 19999) {
				break
			}
			next++
		}
		c.f.Num = next
		used[next] = c.f.GoName
		next++
	}
	for _, lname := range lockedNames {
		if _, present := seenNames[lname]; !present {
			msg.Reserved = append(msg.Reserved, locked[lname])
		}
	}
	slices.Sort(msg.Reserved)
	for _, c := range cands {
		msg.Fields = append(msg.Fields, c.f)
		pm.lock.set(name, c.f.Name, c.f.Num)
	}
	slices.SortFunc(msg.Fields, func(a, b *protoField) int { return a.Num - b.Num })
	return msg, nil
}

// hidesData reports a struct with fields that neither JSON nor protobuf
// carries: unexported ones (the blank field _ aside).
func hidesData(st *types.Struct) bool {
	for i := 0; i < st.NumFields(); i++ {
		if f := st.Field(i); !f.Exported() && f.Name() != "_" {
			return true
		}
	}
	return false
}

// fieldTag reads a field number from a kit:"N" or kit:"N,zigzag" tag, or
// from a protobuf:"kind,N,..." tag.
func fieldTag(tag reflect.StructTag) (int, bool, error) {
	var num string
	zigzag := false
	if v, ok := tag.Lookup("kit"); ok {
		parts := strings.Split(v, ",")
		num = parts[0]
		for _, p := range parts[1:] {
			switch p {
			case "zigzag", "sint":
				zigzag = true
			default:
				return 0, false, fmt.Errorf("unknown kit tag option %q", p)
			}
		}
	} else if v, ok := tag.Lookup("protobuf"); ok {
		parts := strings.Split(v, ",")
		if len(parts) < 2 {
			return 0, false, fmt.Errorf("malformed protobuf tag %q", v)
		}
		num = parts[1]
		zigzag = parts[0] == "zigzag32" || parts[0] == "zigzag64"
	}
	if num == "" {
		return 0, zigzag, nil
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > 1<<29-1 || (n >= 19000 && n <= 19999) {
		return 0, false, fmt.Errorf("field number %q is not valid: want 1 to 536870911, outside 19000-19999", num)
	}
	return n, zigzag, nil
}

// fieldType sets the kind of a field from its Go type.
func (pm *protoModel) fieldType(f *protoField, t types.Type, zigzag bool) error {
	if ownJSON(t) || isText(t) {
		return pm.valueKind(f, t, zigzag, false)
	}
	if b, ok := t.Underlying().(*types.Slice); ok {
		if isByte(b.Elem()) {
			f.Kind, f.Elem = kindBytes, t
			return nil
		}
		f.Repeated = true
		if err := pm.valueKind(f, b.Elem(), zigzag, false); err != nil {
			return err
		}
		f.Packed = f.Kind.info().packed
		return nil
	}
	if m, ok := t.Underlying().(*types.Map); ok {
		f.Map = true
		kk, ok := mapKeyKind(m.Key(), zigzag)
		if !ok {
			return fmt.Errorf("map key type %s is not supported: want a string, bool or integer", types.TypeString(m.Key(), nil))
		}
		f.KeyKind, f.KeyType = kk, m.Key()
		if !isText(m.Elem()) && wellKnownOf(m.Elem()) == nil {
			if s, isSlice := m.Elem().Underlying().(*types.Slice); isSlice && !isByte(s.Elem()) {
				return fmt.Errorf("map values may not be slices (%s)", types.TypeString(m.Elem(), nil))
			}
			if _, isMap := m.Elem().Underlying().(*types.Map); isMap {
				return fmt.Errorf("map values may not be maps (%s)", types.TypeString(m.Elem(), nil))
			}
		}
		return pm.valueKind(f, m.Elem(), zigzag, true)
	}
	return pm.valueKind(f, t, zigzag, false)
}

// valueKind sets Kind, Elem and the pointer flags for one value of type t.
func (pm *protoModel) valueKind(f *protoField, t types.Type, zigzag, inMap bool) error {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		if f.Repeated || inMap {
			if objectStruct(p.Elem()) == nil {
				return fmt.Errorf("pointers to %s in slices and maps are not supported", types.TypeString(p.Elem(), nil))
			}
		}
		if err := pm.valueKind(f, p.Elem(), zigzag, inMap); err != nil {
			return err
		}
		if f.Kind.info().message {
			f.Pointer = true
		} else {
			f.Optional = true
		}
		return nil
	}
	f.Elem = t
	name := types.TypeString(t, func(p *types.Package) string { return p.Name() })
	if wk := wellKnownOf(t); wk != nil {
		f.Kind = wk.kind
		if imp := wk.kind.info().protoImport; imp != "" {
			pm.addImport(imp)
		}
		return nil
	}
	switch {
	case isText(t):
		f.Kind = kindText
		return nil
	case implements(t, jsonMarshaler) || implements(t, jsonUnmarshaler):
		return fmt.Errorf("%s has its own JSON encoding (MarshalJSON or UnmarshalJSON), which gRPC cannot carry; give it MarshalText and UnmarshalText methods to send it as a string", name)
	case implements(t, textMarshaler):
		return fmt.Errorf("%s has a MarshalText method but no UnmarshalText, so it cannot be read back; give it both to send it as a string", name)
	}
	if _, ok := t.Underlying().(*types.Struct); ok {
		if _, named := types.Unalias(t).(*types.Named); !named {
			return fmt.Errorf("anonymous struct types are not supported; declare a named type")
		}
		msg, err := pm.namedMessage(t)
		if err != nil {
			return err
		}
		f.Kind, f.Msg = kindMessage, msg
		return nil
	}
	if b, ok := t.Underlying().(*types.Slice); ok && isByte(b.Elem()) {
		f.Kind = kindBytes
		return nil
	}
	if _, ok := t.Underlying().(*types.Basic); !ok {
		return fmt.Errorf("type %s is not supported over gRPC", types.TypeString(t, nil))
	}
	if e, err := pm.enumOf(t); err != nil {
		return err
	} else if e != nil && !zigzag {
		f.Kind, f.Enum = kindEnum, e
		return nil
	}
	basic := basicOf(t)
	if basic == nil || basic.proto == "" {
		return fmt.Errorf("type %s is not supported over gRPC", types.TypeString(t, nil))
	}
	f.Kind = basic.protoKind(zigzag)
	return nil
}

func isByte(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Kind() == types.Byte
}

// mapKeyKind returns the protobuf kind of a map's key type, and whether
// protobuf allows it as a key.
func mapKeyKind(t types.Type, zigzag bool) (protoKind, bool) {
	basic := basicOf(t)
	if basic == nil || basic.proto == "" || !basic.protoKind(zigzag).info().mapKey {
		return "", false
	}
	return basic.protoKind(zigzag), true
}

// enumOf returns the enum of a named integer type that has constants in its
// package, all in int32's range.
func (pm *protoModel) enumOf(t types.Type) (*protoEnum, error) {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || n.Obj().Pkg() == nil || n.TypeArgs().Len() > 0 {
		return nil, nil
	}
	b, ok := n.Underlying().(*types.Basic)
	if !ok || b.Info()&types.IsInteger == 0 {
		return nil, nil
	}
	key := types.TypeString(n, nil)
	if e, ok := pm.enumByTy[key]; ok {
		return e, nil
	}
	scope := n.Obj().Pkg().Scope()
	type constant_ struct {
		name string
		v    int64
	}
	var consts []constant_
	for _, name := range scope.Names() {
		c, ok := scope.Lookup(name).(*types.Const)
		if !ok || !types.Identical(c.Type(), n) || !c.Exported() {
			continue
		}
		v, exact := constant.Int64Val(c.Val())
		if !exact || v < math.MinInt32 || v > math.MaxInt32 {
			return nil, nil
		}
		consts = append(consts, constant_{name, v})
	}
	if len(consts) == 0 {
		return nil, nil
	}
	e := &protoEnum{Name: pm.declare(n.Obj().Name(), key, n.Obj().Pkg().Name()), GoType: n}
	// Enum values are siblings of the enum in protobuf's scope: each
	// carries the enum's name in front.
	prefix := strings.ToUpper(snake(e.Name))
	hasZero := false
	for _, c := range consts {
		hasZero = hasZero || c.v == 0
		cname := protoIdent(strings.ToUpper(snake(c.name)))
		if !strings.HasPrefix(cname, prefix+"_") {
			cname = prefix + "_" + cname
		}
		e.Values = append(e.Values, protoEnumValue{Name: cname, Value: c.v})
	}
	if !hasZero {
		e.Values = append(e.Values, protoEnumValue{Name: prefix + "_UNSPECIFIED", Value: 0})
	}
	// Zero first, then by value; aliases (equal values) keep name order.
	slices.SortStableFunc(e.Values, func(a, b protoEnumValue) int {
		switch {
		case a.Value == b.Value:
			return strings.Compare(a.Name, b.Name)
		case a.Value == 0:
			return -1
		case b.Value == 0:
			return 1
		case a.Value < b.Value:
			return -1
		}
		return 1
	})
	for _, v := range e.Values {
		if owner, taken := pm.names[v.Name]; taken {
			return nil, fmt.Errorf("the enum value %s of %s has the protobuf name of %s, and enum values share the package's scope in protobuf; rename a constant", v.Name, e.Name, owner)
		}
		pm.names[v.Name] = "enum value " + v.Name + " of " + e.Name
	}
	pm.enumByTy[key] = e
	pm.Enums = append(pm.Enums, e)
	return e, nil
}

func (pm *protoModel) addImport(path string) {
	if !slices.Contains(pm.Imports, path) {
		pm.Imports = append(pm.Imports, path)
		slices.Sort(pm.Imports)
	}
}

// lockHeader starts every lock file.
const lockHeader = "# kitgen field numbers"

// lockFile records the field numbers of a service's messages, so that a
// field keeps its number however the structs change.
type lockFile struct {
	entries map[string]map[string]int
}

// readLock reads a lock file; a missing file is an empty lock.
func readLock(path string) (*lockFile, error) {
	l := &lockFile{entries: map[string]map[string]int{}}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return l, nil
	}
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		msg, field, ok := strings.Cut(fieldsAt(fields, 0), ".")
		num, err := strconv.Atoi(fieldsAt(fields, 1))
		if len(fields) != 2 || !ok || err != nil || num < 1 {
			return nil, fmt.Errorf("%s:%d: want \"Message.field number\", got %q", path, line, text)
		}
		l.set(msg, field, num)
	}
	return l, sc.Err()
}

func fieldsAt(f []string, i int) string {
	if i < len(f) {
		return f[i]
	}
	return ""
}

func (l *lockFile) numbers(msg string) map[string]int { return l.entries[msg] }

func (l *lockFile) owner(msg string, num int) (string, bool) {
	for name, n := range l.entries[msg] {
		if n == num {
			return name, true
		}
	}
	return "", false
}

func (l *lockFile) set(msg, field string, num int) {
	if l.entries[msg] == nil {
		l.entries[msg] = map[string]int{}
	}
	l.entries[msg][field] = num
}

// bytes renders the lock file: sorted, so it is deterministic.
func (l *lockFile) render(service string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s for the messages of %s. Commit this file: kitgen\n", lockHeader, service)
	b.WriteString("# keeps every field listed here at its number, and never gives a listed\n# number to another field.\n")
	msgs := make([]string, 0, len(l.entries))
	for m := range l.entries {
		msgs = append(msgs, m)
	}
	slices.Sort(msgs)
	for _, m := range msgs {
		type kv struct {
			name string
			num  int
		}
		var fs []kv
		for name, num := range l.entries[m] {
			fs = append(fs, kv{name, num})
		}
		slices.SortFunc(fs, func(a, b kv) int { return a.num - b.num })
		for _, f := range fs {
			fmt.Fprintf(&b, "%s.%s %d\n", m, f.name, f.num)
		}
	}
	return b.Bytes()
}
