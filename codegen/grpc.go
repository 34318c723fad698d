package codegen

import (
	"fmt"
	"go/types"
	"strings"
	"text/template"

	"google.golang.org/protobuf/encoding/protowire"
)

const wirePath = "github.com/typedkit/kit/grpcx/wire"
const protowirePath = "google.golang.org/protobuf/encoding/protowire"

const grpcTemplate = `
{{- $grpcx := imp "github.com/typedkit/kit/grpcx" }}
{{- $grpc := imp "google.golang.org/grpc" }}
{{- $ctx := imp "context" }}
func init() { {{ $grpcx }}.RegisterCodec() }

// GRPCServiceName is the full name of {{ .Svc.Name }}'s gRPC service.
const GRPCServiceName = {{ quote .ServiceName }}

// RegisterGRPC registers the endpoints on s as the gRPC service
// {{ .ServiceName }}, described by {{ .ProtoFile }}. Requests and replies
// are protobuf messages that any gRPC client can send and read.
func RegisterGRPC(s {{ $grpc }}.ServiceRegistrar, e Endpoints, opts ...{{ $grpcx }}.ServerOption) {
{{- range .Svc.Methods }}
	{{ lowerFirst .Name }} := {{ $grpcx }}.NewServer(e.{{ .Name }}Endpoint,
		func(_ {{ $ctx }}.Context, w *{{ wireIn . }}) ({{ reqType . }}, error) { return {{ fromWire . "in" "w" }}, nil },
		func(_ {{ $ctx }}.Context, r {{ respType . }}) (*{{ wireOut . }}, error) { return {{ toWire . "out" "r" }}, nil },
		opts...)
{{- end }}
	s.RegisterService(&{{ $grpc }}.ServiceDesc{
		ServiceName: GRPCServiceName,
		HandlerType: (*any)(nil),
		Methods: []{{ $grpc }}.MethodDesc{
{{- range .Svc.Methods }}
			{MethodName: {{ quote .Name }}, Handler: {{ $grpcx }}.MethodHandler({{ lowerFirst .Name }}, {{ quote (fullMethod .) }})},
{{- end }}
		},
		Metadata: {{ quote $.ProtoFile }},
	}, struct{}{})
}

// NewGRPCClient returns a {{ .Svc.Name }} that calls the gRPC service
// {{ .ServiceName }} over cc.
func NewGRPCClient(cc {{ $grpc }}.ClientConnInterface, opts ...{{ $grpcx }}.ClientOption) {{ .Svc.Name }} {
	return NewGRPCClientEndpoints(cc, opts...)
}

// NewGRPCClientEndpoints is [NewGRPCClient] returning the client's
// endpoints, so that client-side middleware can wrap them.
func NewGRPCClientEndpoints(cc {{ $grpc }}.ClientConnInterface, opts ...{{ $grpcx }}.ClientOption) Endpoints {
	return Endpoints{
{{- range .Svc.Methods }}
		{{ .Name }}Endpoint: {{ $grpcx }}.NewClient(cc, {{ quote (fullMethod .) }},
			func(_ {{ $ctx }}.Context, r {{ reqType . }}) (*{{ wireIn . }}, error) { return {{ toWire . "in" "r" }}, nil },
			func(_ {{ $ctx }}.Context, w *{{ wireOut . }}) ({{ respType . }}, error) { return {{ fromWire . "out" "w" }}, nil },
			opts...).Endpoint(),
{{- end }}
	}
}
{{ range .Wrappers }}
// {{ .GoName }} carries the response of a method whose result is not a
// struct, as the field "value" of a message.
type {{ .GoName }} struct {
	Value {{ typ .WrapType }}
}
{{ end }}
{{- range .Wired }}
// protoWire{{ .Name }} is the gRPC codec's view of a {{ .Name }} message.
type protoWire{{ .Name }} struct{ v *{{ goType . }} }

// MarshalProtoWire implements grpcx.WireMessage.
func (w *protoWire{{ .Name }}) MarshalProtoWire(b []byte) ([]byte, error) {
	if b == nil {
		b = make([]byte, 0, protoSize{{ .Name }}(w.v))
	}
	return protoAppend{{ .Name }}(b, w.v), nil
}

// UnmarshalProtoWire implements grpcx.WireMessage.
func (w *protoWire{{ .Name }}) UnmarshalProtoWire(b []byte) error {
	if w.v == nil {
		w.v = new({{ goType . }})
	}
	return protoConsume{{ .Name }}(b, w.v)
}
{{ end }}
{{- range .Messages }}
// protoSize{{ .Name }} returns the size of v as a {{ .Name }} message.
func protoSize{{ .Name }}(v *{{ goType . }}) int {
	if v == nil {
		return 0
	}
	n := 0
{{- range .Fields }}
	{{ sizeField . }}
{{- end }}
	return n
}

// protoAppend{{ .Name }} appends v as a {{ .Name }} message, fields in
// number order and map entries in key order, as protobuf-go's deterministic
// mode writes them.
func protoAppend{{ .Name }}(b []byte, v *{{ goType . }}) []byte {
	if v == nil {
		return b
	}
{{- range .Fields }}
	{{ appendField . }}
{{- end }}
	return b
}

// protoConsume{{ .Name }} reads a {{ .Name }} message into v, merging it
// with what v holds. Unknown fields are skipped.
func protoConsume{{ .Name }}(b []byte, v *{{ goType . }}) error {
	for len(b) > 0 {
		num, typ, n, err := {{ imp "github.com/typedkit/kit/grpcx/wire" }}.ConsumeTag(b)
		if err != nil {
			return err
		}
		b = b[n:]
{{- if .Fields }}
		switch num {
{{- range .Fields }}
		case {{ .Num }}:
			{{ consumeField . }}
{{- end }}
		}
{{- else }}
		_ = num
{{- end }}
		n, err = {{ imp "github.com/typedkit/kit/grpcx/wire" }}.Skip(num, typ, b)
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
{{ end }}
`

// grpcData is what the gRPC template renders.
type grpcData struct {
	Svc         *Service
	ServiceName string
	ProtoFile   string
	Messages    []*protoMessage
	// Wired are the messages that travel as a method's request or reply.
	Wired []*protoMessage
	// Wrappers are the generated one-field messages of non-struct results.
	Wrappers []*protoMessage
	pm       *protoModel
}

// renderGRPC renders the wire codecs, the service registration and the
// client.
func renderGRPC(svc *Service, pm *protoModel, protoPkg, protoFile string) ([]byte, error) {
	d := &grpcData{Svc: svc, ServiceName: protoPkg + "." + svc.Name, ProtoFile: protoFile, Messages: pm.Messages, pm: pm}
	seen := map[*protoMessage]bool{}
	for _, m := range svc.Methods {
		for _, msg := range []*protoMessage{pm.In[m.Name], pm.Out[m.Name]} {
			if !seen[msg] {
				seen[msg] = true
				d.Wired = append(d.Wired, msg)
			}
		}
		if pm.Wrapped[m.Name] {
			d.Wrappers = append(d.Wrappers, pm.Out[m.Name])
		}
	}
	return render(svc, "grpc", grpcTemplate, d, func(fi *fileImports) template.FuncMap {
		g := &grpcGen{fi: fi, pm: pm}
		return template.FuncMap{
			"lowerFirst": func(s string) string { return "grpc" + s },
			"fullMethod": func(m *Method) string { return "/" + d.ServiceName + "/" + m.Name },
			"wireIn":     func(m *Method) string { return "protoWire" + pm.In[m.Name].Name },
			"wireOut":    func(m *Method) string { return "protoWire" + pm.Out[m.Name].Name },
			"goType":     g.goType,
			"fromWire":   func(m *Method, dir, w string) string { return g.fromWire(m, dir, w) },
			"toWire":     func(m *Method, dir, r string) string { return g.toWire(m, dir, r) },
			"sizeField":  g.sizeField,
			"appendField": func(f *protoField) string {
				return g.appendField(f)
			},
			"consumeField": g.consumeField,
		}
	})
}

// grpcGen writes the Go statements of the wire codecs.
type grpcGen struct {
	fi *fileImports
	pm *protoModel
}

func (g *grpcGen) pw() string   { return g.fi.name(protowirePath, "protowire") }
func (g *grpcGen) wire() string { return g.fi.name(wirePath, "wire") }

// goType is the Go type of a message's struct.
func (g *grpcGen) goType(m *protoMessage) string {
	if m.GoName != "" {
		return m.GoName
	}
	return g.fi.typ(m.GoType)
}

// goTypeOfElem is the Go type of one element of a repeated field.
func (g *grpcGen) goTypeOfElem(f *protoField) string {
	if f.Kind == "message" {
		return g.goType(f.Msg)
	}
	return g.fi.typ(f.Elem)
}

func (g *grpcGen) ptr(f *protoField) string {
	if f.Pointer || f.Optional {
		return "*"
	}
	return ""
}

// fromWire converts a wire wrapper w into the endpoint's request (dir
// "in") or response ("out").
func (g *grpcGen) fromWire(m *Method, dir, w string) string {
	msg := m.Request
	if dir == "out" {
		msg = m.Response
	}
	zero := "*new(" + g.endpointType(msg) + ")"
	switch {
	case dir == "out" && g.pm.Wrapped[m.Name]:
		return "func() " + g.endpointType(msg) + " { if " + w + ".v == nil { return " + zero + " }; return " + w + ".v.Value }()"
	case msg.Pointer:
		return w + ".v"
	}
	return "func() " + g.endpointType(msg) + " { if " + w + ".v == nil { return " + zero + " }; return *" + w + ".v }()"
}

// toWire wraps the endpoint's request or response r for the codec.
func (g *grpcGen) toWire(m *Method, dir, r string) string {
	msg, pmsg := m.Request, g.pm.In[m.Name]
	if dir == "out" {
		msg, pmsg = m.Response, g.pm.Out[m.Name]
	}
	wrapper := "&protoWire" + pmsg.Name
	switch {
	case dir == "out" && g.pm.Wrapped[m.Name]:
		return wrapper + "{v: &" + pmsg.GoName + "{Value: " + r + "}}"
	case msg.Pointer:
		return wrapper + "{v: " + r + "}"
	}
	return wrapper + "{v: &" + r + "}"
}

func (g *grpcGen) endpointType(msg *Message) string {
	if msg.Generated() {
		return msg.Name
	}
	return g.fi.typ(msg.Type)
}

// wireTypeOf is the protowire type of one value of a kind.
func wireTypeOf(kind string) protowire.Type {
	switch kind {
	case "float":
		return protowire.Fixed32Type
	case "double":
		return protowire.Fixed64Type
	case "string", "bytes", "message", "timestamp", "duration":
		return protowire.BytesType
	}
	return protowire.VarintType
}

// appendTag is the statement that appends a field's tag: its bytes,
// worked out here rather than on every call.
func appendTag(num int, typ protowire.Type) string {
	var parts []string
	for _, c := range protowire.AppendTag(nil, protowire.Number(num), typ) {
		parts = append(parts, fmt.Sprintf("0x%02x", c))
	}
	return "b = append(b, " + strings.Join(parts, ", ") + ")"
}

// wireType is the protowire type of one value of a kind.
func (g *grpcGen) wireType(kind string) string {
	switch kind {
	case "float":
		return g.pw() + ".Fixed32Type"
	case "double":
		return g.pw() + ".Fixed64Type"
	case "string", "bytes", "message", "timestamp", "duration":
		return g.pw() + ".BytesType"
	}
	return g.pw() + ".VarintType"
}

// varint returns the uint64 a varint kind writes for x.
func (g *grpcGen) varint(kind, x string) string {
	switch kind {
	case "bool":
		return g.pw() + ".EncodeBool(bool(" + x + "))"
	case "int32", "int64", "enum":
		return "uint64(int64(" + x + "))"
	case "sint32", "sint64":
		return g.pw() + ".EncodeZigZag(int64(" + x + "))"
	}
	return "uint64(" + x + ")"
}

func (g *grpcGen) math() string { return g.fi.name("math", "math") }

// sizeValue is the size of one value x without its tag.
func (g *grpcGen) sizeValue(f *protoField, kind, x string) string {
	switch kind {
	case "float":
		return "4"
	case "double":
		return "8"
	case "string", "bytes":
		return g.pw() + ".SizeBytes(len(" + x + "))"
	case "message":
		return g.pw() + ".SizeBytes(protoSize" + f.Msg.Name + "(" + addr(x) + "))"
	case "timestamp":
		return g.pw() + ".SizeBytes(" + g.wire() + ".SizeTimestamp(" + x + "))"
	case "duration":
		return g.pw() + ".SizeBytes(" + g.wire() + ".SizeDuration(" + x + "))"
	}
	return g.pw() + ".SizeVarint(" + g.varint(kind, x) + ")"
}

// appendValue appends one value x without its tag.
func (g *grpcGen) appendValue(f *protoField, kind, x string) string {
	pw := g.pw()
	switch kind {
	case "float":
		return "b = " + pw + ".AppendFixed32(b, " + g.math() + ".Float32bits(float32(" + x + ")))"
	case "double":
		return "b = " + pw + ".AppendFixed64(b, " + g.math() + ".Float64bits(float64(" + x + ")))"
	case "string":
		return "b = " + pw + ".AppendString(b, string(" + x + "))"
	case "bytes":
		return "b = " + pw + ".AppendBytes(b, " + x + ")"
	case "message":
		return "b = " + g.wire() + ".AppendVarint(b, uint64(protoSize" + f.Msg.Name + "(" + addr(x) + ")))\n" +
			"b = protoAppend" + f.Msg.Name + "(b, " + addr(x) + ")"
	case "timestamp":
		return "b = " + g.wire() + ".AppendVarint(b, uint64(" + g.wire() + ".SizeTimestamp(" + x + ")))\n" +
			"b = " + g.wire() + ".AppendTimestamp(b, " + x + ")"
	case "duration":
		return "b = " + g.wire() + ".AppendVarint(b, uint64(" + g.wire() + ".SizeDuration(" + x + ")))\n" +
			"b = " + g.wire() + ".AppendDuration(b, " + x + ")"
	}
	return "b = " + g.wire() + ".AppendVarint(b, " + g.varint(kind, x) + ")"
}

// addr takes the address of a value expression, or uses a pointer as it
// is: "*p" becomes "p".
func addr(x string) string {
	if p, ok := strings.CutPrefix(x, "*"); ok {
		return p
	}
	return "&" + x
}

// present is the condition under which a singular field with implicit
// presence is written: its value is not the zero value.
func (g *grpcGen) present(kind, x string) string {
	switch kind {
	case "bool":
		return "bool(" + x + ")"
	case "string", "bytes":
		return "len(" + x + ") > 0"
	case "float", "double":
		return x + " != 0 || " + g.math() + ".Signbit(float64(" + x + "))"
	case "timestamp":
		return "!" + x + ".IsZero()"
	case "message":
		return "true"
	}
	return x + " != 0"
}

func tagSize(num int) int {
	switch {
	case num < 1<<4:
		return 1
	case num < 1<<11:
		return 2
	case num < 1<<18:
		return 3
	case num < 1<<25:
		return 4
	}
	return 5
}

// sizeField returns the statements that add a field's size to n.
func (g *grpcGen) sizeField(f *protoField) string {
	v := "v." + f.GoName
	ts := tagSize(f.Num)
	switch {
	case f.Map:
		key := &protoField{Kind: f.KeyKind}
		return fmt.Sprintf("for k, x := range %s {\n_ = k\nen := 1 + %s + 1 + %s\nn += %d + %s.SizeBytes(en)\n}",
			v, g.sizeValue(key, f.KeyKind, "k"), g.sizeValue(f, f.Kind, g.deref(f, "x")), ts, g.pw())
	case f.Repeated && f.Packed:
		return fmt.Sprintf("if len(%s) > 0 {\npn := 0\nfor _, x := range %s {\n_ = x\npn += %s\n}\nn += %d + %s.SizeBytes(pn)\n}",
			v, v, g.sizeValue(f, f.Kind, "x"), ts, g.pw())
	case f.Repeated:
		return fmt.Sprintf("for i := range %s {\nn += %d + %s\n}", v, ts, g.sizeValue(f, f.Kind, g.deref(f, v+"[i]")))
	case f.Pointer, f.Optional:
		return fmt.Sprintf("if %s != nil {\nn += %d + %s\n}", v, ts, g.sizeValue(f, f.Kind, "*"+v))
	}
	cond := g.present(f.Kind, v)
	if cond == "true" {
		return fmt.Sprintf("n += %d + %s", ts, g.sizeValue(f, f.Kind, v))
	}
	return fmt.Sprintf("if %s {\nn += %d + %s\n}", cond, ts, g.sizeValue(f, f.Kind, v))
}

// deref returns the value expression of an element that may be a pointer
// to a message: "*x" so that addr gives the pointer back.
func (g *grpcGen) deref(f *protoField, x string) string {
	if f.Pointer {
		return "*" + x
	}
	return x
}

// appendField returns the statements that append a field.
func (g *grpcGen) appendField(f *protoField) string {
	v := "v." + f.GoName
	pw := g.pw()
	tag := appendTag(f.Num, wireTypeOf(f.Kind))
	switch {
	case f.Map:
		key := &protoField{Kind: f.KeyKind}
		keyType := g.fi.typ(f.KeyType)
		sortKeys := g.fi.name("slices", "slices") + ".Sort(keys)"
		if f.KeyKind == "bool" {
			sortKeys = g.fi.name("slices", "slices") + ".SortFunc(keys, func(a, b " + keyType + ") int {\nif a == b {\nreturn 0\n}\nif !bool(a) {\nreturn -1\n}\nreturn 1\n})"
		}
		x := g.deref(f, "x")
		tag = appendTag(f.Num, protowire.BytesType)
		return fmt.Sprintf(`if len(%[1]s) > 0 {
keys := make([]%[2]s, 0, len(%[1]s))
for k := range %[1]s {
keys = append(keys, k)
}
%[3]s
for _, k := range keys {
x := %[1]s[k]
_ = x
%[4]s
b = %[12]s.AppendVarint(b, uint64(1 + %[6]s + 1 + %[7]s))
%[8]s
%[9]s
%[10]s
%[11]s
}
}`, v, keyType, sortKeys, tag, pw, g.sizeValue(key, f.KeyKind, "k"), g.sizeValue(f, f.Kind, x),
			appendTag(1, wireTypeOf(f.KeyKind)), g.appendValue(key, f.KeyKind, "k"), appendTag(2, wireTypeOf(f.Kind)), g.appendValue(f, f.Kind, x), g.wire())
	case f.Repeated && f.Packed:
		return fmt.Sprintf("if len(%s) > 0 {\n%s\npn := 0\nfor _, x := range %s {\n_ = x\npn += %s\n}\nb = %s.AppendVarint(b, uint64(pn))\nfor _, x := range %s {\n%s\n}\n}",
			v, appendTag(f.Num, protowire.BytesType), v, g.sizeValue(f, f.Kind, "x"), g.wire(), v, g.appendValue(f, f.Kind, "x"))
	case f.Repeated:
		return fmt.Sprintf("for i := range %s {\n%s\n%s\n}", v, tag, g.appendValue(f, f.Kind, g.deref(f, v+"[i]")))
	case f.Pointer, f.Optional:
		return fmt.Sprintf("if %s != nil {\n%s\n%s\n}", v, tag, g.appendValue(f, f.Kind, "*"+v))
	}
	cond := g.present(f.Kind, v)
	if cond == "true" {
		return tag + "\n" + g.appendValue(f, f.Kind, v)
	}
	return fmt.Sprintf("if %s {\n%s\n%s\n}", cond, tag, g.appendValue(f, f.Kind, v))
}

// decodeValue returns statements that read one value of a kind from buf
// (advancing it) and then run set(expr) with the Go value of type elem.
func (g *grpcGen) decodeValue(f *protoField, kind string, elem types.Type, buf string, set func(string) string) string {
	w := g.wire()
	typ := func() string { return g.fi.typ(elem) }
	advance := buf + " = " + buf + "[n:]"
	switch kind {
	case "float":
		return fmt.Sprintf("x, n, err := %s.ConsumeFixed32(%s)\nif err != nil {\nreturn err\n}\n%s\n%s", w, buf, advance, set(typ()+"("+g.math()+".Float32frombits(x))"))
	case "double":
		return fmt.Sprintf("x, n, err := %s.ConsumeFixed64(%s)\nif err != nil {\nreturn err\n}\n%s\n%s", w, buf, advance, set(typ()+"("+g.math()+".Float64frombits(x))"))
	case "string":
		return fmt.Sprintf("x, n, err := %s.ConsumeString(%s, %q)\nif err != nil {\nreturn err\n}\n%s\n%s", w, buf, f.Name, advance, set(conv(typ, "x", elem, types.Typ[types.String])))
	case "bytes":
		return fmt.Sprintf("x, n, err := %s.ConsumeBytes(%s)\nif err != nil {\nreturn err\n}\n%s\n%s", w, buf, advance, set(conv(typ, w+".CopyBytes(x)", elem, types.NewSlice(types.Typ[types.Byte]))))
	case "message":
		body := fmt.Sprintf("x, n, err := %s.ConsumeBytes(%s)\nif err != nil {\nreturn err\n}\n%s\n", w, buf, advance)
		return body + set("\x00msg:x")
	case "timestamp":
		return fmt.Sprintf("x, n, err := %s.ConsumeBytes(%s)\nif err != nil {\nreturn err\n}\n%s\nt, err := %s.ConsumeTimestamp(x)\nif err != nil {\nreturn err\n}\n%s", w, buf, advance, w, set("t"))
	case "duration":
		return fmt.Sprintf("x, n, err := %s.ConsumeBytes(%s)\nif err != nil {\nreturn err\n}\n%s\nd, err := %s.ConsumeDuration(x)\nif err != nil {\nreturn err\n}\n%s", w, buf, advance, w, set(conv(typ, "d", elem, types.Typ[types.Int64])))
	}
	// Varint kinds.
	var val string
	t := typ()
	switch kind {
	case "bool":
		val = t + "(" + g.pw() + ".DecodeBool(x))"
	case "int32", "enum":
		val = t + "(int32(x))"
	case "int64":
		val = t + "(int64(x))"
	case "uint32":
		val = t + "(uint32(x))"
	case "uint64":
		val = t + "(x)"
	case "sint32":
		val = t + "(int32(" + g.pw() + ".DecodeZigZag(x & " + g.math() + ".MaxUint32)))"
	case "sint64":
		val = t + "(" + g.pw() + ".DecodeZigZag(x))"
	}
	check := ""
	if b, ok := elem.Underlying().(*types.Basic); ok {
		switch b.Kind() {
		case types.Int8, types.Int16, types.Uint8, types.Uint16:
			check = fmt.Sprintf("if y := %s; int64(y) != int64(%s) {\nreturn %s.Errorf(\"field %s: value %%d overflows %s\", int64(%s))\n}\n",
				val, wideOf(kind, g, "x"), w, f.Name, b.Name(), wideOf(kind, g, "x"))
		}
	}
	return fmt.Sprintf("x, n, err := %s.ConsumeVarint(%s)\nif err != nil {\nreturn err\n}\n%s\n%s%s", w, buf, advance, check, set(val))
}

// wideOf is the value of a varint kind at its full wire width, to check a
// narrower Go type against.
func wideOf(kind string, g *grpcGen, x string) string {
	switch kind {
	case "int32", "enum":
		return "int32(" + x + ")"
	case "uint32":
		return "uint32(" + x + ")"
	case "sint32":
		return "int32(" + g.pw() + ".DecodeZigZag(" + x + " & " + g.math() + ".MaxUint32))"
	}
	return x
}

// conv converts x of type from to the type to, named by t(), when they
// differ.
func conv(t func() string, x string, to, from types.Type) string {
	if types.Identical(to, from) {
		return x
	}
	return t() + "(" + x + ")"
}

// consumeField returns the body of a field's case in protoConsume: it
// reads the field when the wire type fits and continues the loop; when it
// does not, it falls through to skipping the field.
func (g *grpcGen) consumeField(f *protoField) string {
	v := "v." + f.GoName
	pw := g.pw()
	msgSet := func(target string, alloc bool) func(string) string {
		return func(expr string) string {
			if strings.HasPrefix(expr, "\x00msg:") {
				buf := strings.TrimPrefix(expr, "\x00msg:")
				t := g.goType(f.Msg)
				if alloc {
					return fmt.Sprintf("if %s == nil {\n%s = new(%s)\n}\nif err := protoConsume%s(%s, %s); err != nil {\nreturn err\n}", target, target, t, f.Msg.Name, buf, target)
				}
				return fmt.Sprintf("if err := protoConsume%s(%s, &%s); err != nil {\nreturn err\n}", f.Msg.Name, buf, target)
			}
			return target + " = " + expr
		}
	}
	switch {
	case f.Map:
		key := &protoField{Kind: f.KeyKind, Name: f.Name + ".key"}
		valType := g.fi.typ(f.Elem)
		valDecl := "var val " + valType
		valTarget := "val"
		if f.Pointer {
			valDecl = "var val *" + valType
		}
		readKey := g.decodeValue(key, f.KeyKind, f.KeyType, "entry", func(e string) string { return "k = " + e })
		readVal := g.decodeValue(f, f.Kind, f.Elem, "entry", msgSet(valTarget, f.Pointer))
		if f.Pointer {
			readVal = g.decodeValue(f, f.Kind, f.Elem, "entry", msgSet(valTarget, true))
		}
		return fmt.Sprintf(`if typ != %[1]s.BytesType {
break
}
entry, n, err := %[2]s.ConsumeBytes(b)
if err != nil {
return err
}
b = b[n:]
var k %[3]s
%[4]s
for len(entry) > 0 {
num, typ, n, err := %[2]s.ConsumeTag(entry)
if err != nil {
return err
}
entry = entry[n:]
if num == 1 && typ == %[5]s {
%[6]s
continue
}
if num == 2 && typ == %[7]s {
%[8]s
continue
}
n, err = %[2]s.Skip(num, typ, entry)
if err != nil {
return err
}
entry = entry[n:]
}
if %[9]s == nil {
%[9]s = make(%[10]s)
}
%[9]s[k] = val
continue`, pw, g.wire(), g.fi.typ(f.KeyType), valDecl, g.wireType(f.KeyKind), readKey, g.wireType(f.Kind), readVal, v,
			"map["+g.fi.typ(f.KeyType)+"]"+g.ptr(f)+valType)
	case f.Repeated:
		appendTo := func(e string) string {
			if strings.HasPrefix(e, "\x00msg:") {
				buf := strings.TrimPrefix(e, "\x00msg:")
				t := g.goType(f.Msg)
				if f.Pointer {
					return fmt.Sprintf("e := new(%s)\nif err := protoConsume%s(%s, e); err != nil {\nreturn err\n}\n%s = append(%s, e)", t, f.Msg.Name, buf, v, v)
				}
				return fmt.Sprintf("var e %s\nif err := protoConsume%s(%s, &e); err != nil {\nreturn err\n}\n%s = append(%s, e)", t, f.Msg.Name, buf, v, v)
			}
			if f.Pointer {
				return "e := " + e + "\n" + v + " = append(" + v + ", &e)"
			}
			return v + " = append(" + v + ", " + e + ")"
		}
		elemType := g.ptr(f) + g.goTypeOfElem(f)
		if !f.Packed {
			// Size the slice once, from the number of its fields left in b.
			grow := fmt.Sprintf("if %s == nil {\n%s = make([]%s, 0, 1+%s.Count(b, num))\n}\n", v, v, elemType, g.wire())
			return fmt.Sprintf("if typ != %s {\nbreak\n}\n%s\ncontinue", g.wireType(f.Kind),
				g.decodeValue(f, f.Kind, f.Elem, "b", func(e string) string { return grow + appendTo(e) }))
		}
		count := g.wire() + ".CountVarints(packed)"
		switch f.Kind {
		case "float":
			count = "len(packed) / 4"
		case "double":
			count = "len(packed) / 8"
		}
		return fmt.Sprintf(`if typ == %[1]s.BytesType {
packed, n, err := %[2]s.ConsumeBytes(b)
if err != nil {
return err
}
b = b[n:]
if %[6]s == nil {
%[6]s = make([]%[7]s, 0, %[8]s)
}
for len(packed) > 0 {
%[3]s
}
continue
}
if typ == %[4]s {
%[5]s
continue
}`, pw, g.wire(), g.decodeValue(f, f.Kind, f.Elem, "packed", appendTo), g.wireType(f.Kind), g.decodeValue(f, f.Kind, f.Elem, "b", appendTo),
			v, elemType, count)
	case f.Optional:
		return fmt.Sprintf("if typ != %s {\nbreak\n}\n%s\ncontinue", g.wireType(f.Kind), g.decodeValue(f, f.Kind, f.Elem, "b", func(e string) string { return "o := " + e + "\n" + v + " = &o" }))
	case f.Pointer && f.Kind != "message":
		return fmt.Sprintf("if typ != %s {\nbreak\n}\n%s\ncontinue", g.wireType(f.Kind), g.decodeValue(f, f.Kind, f.Elem, "b", func(e string) string { return "o := " + e + "\n" + v + " = &o" }))
	}
	return fmt.Sprintf("if typ != %s {\nbreak\n}\n%s\ncontinue", g.wireType(f.Kind), g.decodeValue(f, f.Kind, f.Elem, "b", msgSet(v, f.Pointer)))
}
