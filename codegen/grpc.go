package codegen

import (
	"fmt"
	"go/types"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"google.golang.org/protobuf/encoding/protowire"
)

const protowirePath = "google.golang.org/protobuf/encoding/protowire"

const grpcTemplate = `
{{- $kit := imp "github.com/typedkit/kit" }}
{{- $grpcx := imp "github.com/typedkit/kit/grpcx" }}
{{- $grpc := imp "google.golang.org/grpc" }}
{{- $ctx := imp "context" }}
{{- $wire := imp "github.com/typedkit/kit/genrt" }}
// GRPCServiceName is the full name of {{ .Svc.Name }}'s gRPC service.
const GRPCServiceName = ServiceName

// RegisterGRPC registers the endpoints on s as the gRPC service
// {{ .ServiceName }}, described by {{ .ProtoFile }}. Requests and replies
// are protobuf messages that any gRPC client can send and read. The
// interceptors of grpcx.ServerInterceptors in opts wrap every method.
func RegisterGRPC(s {{ $grpc }}.ServiceRegistrar, e Endpoints, opts ...{{ $grpcx }}.ServerOption) {
	// serve returns opts with the Call of one method.
	serve := func(method string, idempotent bool) []{{ $grpcx }}.ServerOption {
		return append(opts[:len(opts):len(opts)], {{ $grpcx }}.ServerCall({{ $kit }}.Call{Service: ServiceName, Method: method, Idempotent: idempotent}))
	}
{{- range .Svc.Methods }}
{{- if .Streams }}
	{{ lowerFirst .Name }} := {{ $grpcx }}.{{ .KitStream }}Handler(e.{{ .Name }}Endpoint, {{ binder . "in" }}, {{ binder . "out" }},
		serve({{ quote .Name }}, {{ .Retryable }})...)
{{- else }}
	{{ lowerFirst .Name }} := {{ $grpcx }}.NewServer(e.{{ .Name }}Endpoint,
		func(_ {{ $ctx }}.Context, w *{{ wireIn . }}) ({{ reqType . }}, error) { return {{ fromWire . "in" "w" }}, nil },
		func(_ {{ $ctx }}.Context, r {{ respType . }}) (*{{ wireOut . }}, error) { return {{ toWire . "out" "r" }}, nil },
		serve({{ quote .Name }}, {{ .Retryable }})...)
{{- end }}
{{- end }}
	s.RegisterService(&{{ $grpc }}.ServiceDesc{
		ServiceName: GRPCServiceName,
		HandlerType: (*any)(nil),
		Methods: []{{ $grpc }}.MethodDesc{
{{- range .Svc.Methods }}{{ if not .Streams }}
			{MethodName: {{ quote .Name }}, Handler: {{ $grpcx }}.MethodHandler({{ lowerFirst .Name }}, {{ quote (fullMethod .) }})},
{{- end }}{{ end }}
		},
{{- if .Streams }}
		Streams: []{{ $grpc }}.StreamDesc{
{{- range .Svc.Methods }}{{ if .Streams }}
			{StreamName: {{ quote .Name }}, Handler: {{ lowerFirst .Name }}{{ if .ServerStreams }}, ServerStreams: true{{ end }}{{ if .ClientStreams }}, ClientStreams: true{{ end }}},
{{- end }}{{ end }}
		},
{{- end }}
		Metadata: {{ quote $.ProtoFile }},
	}, struct{}{})
}

// NewGRPCClient returns {{ article .Svc.Name }} {{ .Svc.Name }} that calls the gRPC service
// {{ .ServiceName }} over cc.
func NewGRPCClient(cc {{ $grpc }}.ClientConnInterface, opts ...{{ $grpcx }}.ClientOption) {{ .Svc.Name }} {
	return NewGRPCClientEndpoints(cc, opts...)
}

// NewGRPCClientEndpoints is [NewGRPCClient] returning the client's
// endpoints, so that typed client-side middleware can wrap them. The
// interceptors of grpcx.ClientInterceptors in opts wrap every method.
func NewGRPCClientEndpoints(cc {{ $grpc }}.ClientConnInterface, opts ...{{ $grpcx }}.ClientOption) Endpoints {
	// call returns opts with the Call of one method.
	call := func(method string, idempotent bool) []{{ $grpcx }}.ClientOption {
		return append(opts[:len(opts):len(opts)], {{ $grpcx }}.ClientCall({{ $kit }}.Call{Service: ServiceName, Method: method, Idempotent: idempotent}))
	}
	return Endpoints{
{{- range .Svc.Methods }}
{{- if .Streams }}
		{{ .Name }}Endpoint: {{ $grpcx }}.{{ .KitStream }}Client(cc, {{ quote (fullMethod .) }}, {{ binder . "in" }}, {{ binder . "out" }},
			call({{ quote .Name }}, {{ .Retryable }})...),
{{- else }}
		{{ .Name }}Endpoint: {{ $grpcx }}.NewClient(cc, {{ quote (fullMethod .) }},
			func(_ {{ $ctx }}.Context, r {{ reqType . }}) (*{{ wireIn . }}, error) { return {{ toWire . "in" "r" }}, nil },
			func(_ {{ $ctx }}.Context, w *{{ wireOut . }}) ({{ respType . }}, error) { return {{ fromWire . "out" "w" }}, nil },
			call({{ quote .Name }}, {{ .Retryable }})...).Endpoint(),
{{- end }}
{{- end }}
	}
}
{{- range .Views }}

// {{ .Name }} is the gRPC codec's view of one {{ .Dir }} of the stream of
// {{ $.Svc.Name }}.{{ .Method.Name }}, bound to the stream's value.
type {{ .Name }} struct{ v *{{ .GoType }} }

func (w *{{ .Name }}) MarshalProtoWire(b []byte) ([]byte, error) {
	return ({{ .Wrap }}).MarshalProtoWire(b)
}

func (w *{{ .Name }}) MarshalProtoWireBuffers() ({{ $wire }}.Buffers, error) {
	return ({{ .Wrap }}).MarshalProtoWireBuffers()
}

func (w *{{ .Name }}) UnmarshalProtoWire(b []byte) error {
{{- if .Direct }}
	return ({{ .Wrap }}).UnmarshalProtoWire(b)
{{- else }}
	var m protoWire{{ .Wire }}
	if err := m.UnmarshalProtoWire(b); err != nil {
		return err
	}
	*w.v = {{ .From }}
	return nil
{{- end }}
}
{{- end }}
{{ range .Wrappers }}
// {{ .GoName }} carries the response of a method whose result is not a
// struct, as the field "value" of a message.
type {{ .GoName }} struct {
	Value {{ typ .WrapType }}
}
{{ end }}
{{- range .Wired }}
// protoWire{{ .Name }} is the gRPC codec's view of {{ article .Name }} {{ .Name }} message.
type protoWire{{ .Name }} struct{ v *{{ goType . }} }
{{ valueMethod . }}
// MarshalProtoWire implements genrt.WireMessage: the size first, then the
// message written back to front into exactly that many bytes, so that
// each nested message's length is known when it is written.
func (w *protoWire{{ .Name }}) MarshalProtoWire(b []byte) ([]byte, error) {
{{- if .HasText }}
	var t {{ $wire }}.Texts
	n := protoSize{{ .Name }}(w.v, &t)
	if err := t.Err(); err != nil {
		return nil, err
	}
	b, buf := {{ $wire }}.Grow(b, n)
	if protoWrite{{ .Name }}(buf, n, w.v, &t) != 0 {
		return nil, {{ $wire }}.ErrChanged
	}
{{- else }}
	n := protoSize{{ .Name }}(w.v)
	b, buf := {{ $wire }}.Grow(b, n)
	if protoWrite{{ .Name }}(buf, n, w.v) != 0 {
		return nil, {{ $wire }}.ErrChanged
	}
{{- end }}
	return b, nil
}

// MarshalProtoWireBuffers implements genrt.BufferedWireMessage: the
// message written as MarshalProtoWire writes it, into a buffer of gRPC's
// pool when it is large.
func (w *protoWire{{ .Name }}) MarshalProtoWireBuffers() ({{ $wire }}.Buffers, error) {
{{- if .HasText }}
	var t {{ $wire }}.Texts
	n := protoSize{{ .Name }}(w.v, &t)
	if err := t.Err(); err != nil {
		return nil, err
	}
	buf, data := {{ $wire }}.Buffer(n)
	if protoWrite{{ .Name }}(buf, n, w.v, &t) != 0 {
		data.Free()
		return nil, {{ $wire }}.ErrChanged
	}
{{- else }}
	n := protoSize{{ .Name }}(w.v)
	buf, data := {{ $wire }}.Buffer(n)
	if protoWrite{{ .Name }}(buf, n, w.v) != 0 {
		data.Free()
		return nil, {{ $wire }}.ErrChanged
	}
{{- end }}
	return data, nil
}

// UnmarshalProtoWire implements genrt.WireMessage. Messages nested deeper
// than protobuf-go's limit are refused. No value read aliases b: the
// strings share copies made by a genrt.Strings.
func (w *protoWire{{ .Name }}) UnmarshalProtoWire(b []byte) error {
	if w.v == nil {
		w.v = new({{ goType . }})
	}
	strs := {{ $wire }}.NewStrings(b)
	return protoConsume{{ .Name }}(b, w.v, {{ $wire }}.RecursionLimit-1, &strs, len(b))
}
{{ end }}
{{- range .Messages }}
// protoSize{{ .Name }} returns the size of v as {{ article .Name }} {{ .Name }} message.
{{- if .HasText }} It
// keeps the texts of the fields that travel as text in t, for
// protoWrite{{ .Name }}.
{{- end }}
func protoSize{{ .Name }}(v *{{ goType . }}{{ if .HasText }}, t *{{ $wire }}.Texts{{ end }}) int {
	if v == nil {
		return 0
	}
	n := 0
{{- range .Fields }}
	{{ sizeField . }}
{{- end }}
	return n
}

// protoWrite{{ .Name }} writes v as {{ article .Name }} {{ .Name }} message into b, back to
// front, ending at b[i-1], and returns where it begins. b[:i] holds
// protoSize{{ .Name }}(v) bytes at least. Fields come out in number order
// and map entries in key order, as protobuf-go's deterministic mode writes
// them.
func protoWrite{{ .Name }}(b []byte, i int, v *{{ goType . }}{{ if .HasText }}, t *{{ $wire }}.Texts{{ end }}) int {
	if v == nil {
		return i
	}
{{- range reverse .Fields }}
	{{ writeField . }}
{{- end }}
	return i
}

// protoConsume{{ .Name }} reads {{ article .Name }} {{ .Name }} message into v, merging it
// with what v holds. Unknown fields are skipped; depth is how many levels
// of messages may still nest below this one. Strings come from strs, and
// b ends at the offset end of the bytes strs was made for.
func protoConsume{{ .Name }}(b []byte, v *{{ goType . }}, depth int, strs *{{ $wire }}.Strings, end int) error {
	for len(b) > 0 {
		num, typ, n, err := {{ $wire }}.ConsumeTag(b)
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
{{- end }}
		n, err = {{ $wire }}.Skip(num, typ, b)
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
	// values are the wired messages whose value a method's endpoint
	// takes or returns by value, and whether the value is the Value field
	// of a wrapper.
	values map[*protoMessage]valueOf
	pm     *protoModel
	// Views are the generated views of the streams' messages.
	Views []*streamView
}

// Streams reports whether the service has a stream method.
func (d *grpcData) Streams() bool {
	for _, m := range d.Svc.Methods {
		if m.Streams() {
			return true
		}
	}
	return false
}

// streamView is a generated view of one direction of a stream, which a
// grpcx.Binder binds to the stream's value.
type streamView struct {
	Name, Dir, GoType, Wire, Wrap, From string
	Method                              *Method
	// Direct reports a view that reads into the bound value itself.
	Direct bool
}

// valueOf is how an endpoint reads a wired message: its type and whether it
// is the Value field of a wrapper.
type valueOf struct {
	msg     *Message
	wrapped bool
}

// renderGRPC renders the wire codecs, the service registration and the
// client.
func renderGRPC(svc *Service, pm *protoModel, protoPkg, protoFile string) ([]byte, error) {
	d := &grpcData{Svc: svc, ServiceName: svc.FullName, ProtoFile: protoFile, Messages: pm.Messages, pm: pm,
		values: map[*protoMessage]valueOf{}}
	seen := map[*protoMessage]bool{}
	for _, m := range svc.Methods {
		if !m.Request.Pointer {
			d.values[pm.In[m.Name]] = valueOf{msg: m.Request}
		}
		if pm.Wrapped[m.Name] {
			d.values[pm.Out[m.Name]] = valueOf{msg: m.Response, wrapped: true}
		} else if !m.Response.Pointer {
			d.values[pm.Out[m.Name]] = valueOf{msg: m.Response}
		}
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
		d.Views = nil
		views := map[string]*streamView{}
		for _, m := range svc.Methods {
			if !m.Streams() {
				continue
			}
			for _, dir := range []string{"in", "out"} {
				msg, pmsg, what := m.Request, pm.In[m.Name], "request"
				if dir == "out" {
					msg, pmsg, what = m.Response, pm.Out[m.Name], "response"
				}
				v := &streamView{Name: "protoStream" + m.Name + exportName(dir), Dir: what, Method: m,
					GoType: g.endpointType(msg), Wire: pmsg.Name,
					Wrap: g.toWire(m, dir, "(*w.v)"), From: g.fromWire(m, dir, "m")}
				v.Direct = !msg.Pointer && !(dir == "out" && pm.Wrapped[m.Name])
				if v.Direct {
					v.Wrap = "&protoWire" + pmsg.Name + "{v: w.v}"
				}
				views[m.Name+dir] = v
				d.Views = append(d.Views, v)
			}
		}
		return template.FuncMap{
			"binder": func(m *Method, dir string) string {
				v := views[m.Name+dir]
				return "func(v *" + v.GoType + ") any { return &" + v.Name + "{v: v} }"
			},
			"lowerFirst": func(s string) string { return "grpc" + s },
			"fullMethod": func(m *Method) string { return "/" + d.ServiceName + "/" + m.Name },
			"wireIn":     func(m *Method) string { return "protoWire" + pm.In[m.Name].Name },
			"wireOut":    func(m *Method) string { return "protoWire" + pm.Out[m.Name].Name },
			"goType":     g.goType,
			"valueMethod": func(msg *protoMessage) string {
				v, ok := d.values[msg]
				if !ok {
					return ""
				}
				t := g.endpointType(v.msg)
				get := "*w.v"
				if v.wrapped {
					get = "w.v.Value"
				}
				return "\n// value returns the message's value: the zero " + t + " when there is\n// none.\n" +
					"func (w *protoWire" + msg.Name + ") value() " + t + " {\n\tif w.v == nil {\n\t\tvar zero " + t +
					"\n\t\treturn zero\n\t}\n\treturn " + get + "\n}\n"
			},
			"fromWire":     func(m *Method, dir, w string) string { return g.fromWire(m, dir, w) },
			"toWire":       func(m *Method, dir, r string) string { return g.toWire(m, dir, r) },
			"sizeField":    g.sizeField,
			"writeField":   g.writeField,
			"consumeField": g.consumeField,
			"reverse": func(fs []*protoField) []*protoField {
				r := slices.Clone(fs)
				slices.Reverse(r)
				return r
			},
		}
	})
}

// grpcGen writes the Go statements of the wire codecs.
type grpcGen struct {
	fi *fileImports
	pm *protoModel
}

func (g *grpcGen) pw() string   { return g.fi.name(protowirePath, "protowire") }
func (g *grpcGen) wire() string { return g.fi.name(genrtPath, "genrt") }

// goType is the Go type of a message's struct.
func (g *grpcGen) goType(m *protoMessage) string {
	if m.GoName != "" {
		return m.GoName
	}
	return g.fi.typ(m.GoType)
}

// goTypeOfElem is the Go type of one element of a repeated field.
func (g *grpcGen) goTypeOfElem(f *protoField) string {
	if f.Kind == kindMessage {
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
	if msg.Pointer && (dir == "in" || !g.pm.Wrapped[m.Name]) {
		return w + ".v"
	}
	return w + ".value()"
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

// putTag is the statement that writes a field's tag before b[i]: its
// bytes, worked out here rather than on every call.
func putTag(num int, typ protowire.Type) string {
	tag := protowire.AppendTag(nil, protowire.Number(num), typ)
	if len(tag) == 1 {
		return fmt.Sprintf("i--\nb[i] = 0x%02x", tag[0])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "i -= %d\n", len(tag))
	for j, c := range tag {
		fmt.Fprintf(&b, "b[i+%d] = 0x%02x\n", j, c)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// wireType is the protowire type of one value of a kind, as generated code
// names it.
func (g *grpcGen) wireType(kind protoKind) string {
	return g.pw() + "." + wireTypeNames[kind.info().wire]
}

// code fills a template of a kind's row (see kinds.go) for the value x of
// field f, of Go type elem, read from buf.
func (g *grpcGen) code(tmpl string, f *protoField, kind protoKind, x string, elem types.Type, buf string) string {
	return expand(tmpl, func(name string) string {
		switch name {
		case "pw":
			return g.pw()
		case "rt":
			return g.wire()
		case "math":
			return g.math()
		case "x":
			return x
		case "recv":
			return receiver(x)
		case "T":
			return g.fi.typ(elem)
		case "buf":
			return buf
		case "end":
			// The offset in the top message's bytes at which buf ends.
			if buf == "b" {
				return "end"
			}
			return buf + "End"
		case "name":
			return strconv.Quote(f.Name)
		case "msg":
			return f.Msg.Name
		case "addr":
			return addr(x)
		case "texts":
			return texts(f.Msg)
		case "varint":
			return g.code(kind.info().varint, f, kind, x, elem, buf)
		}
		panic("codegen: unknown placeholder $" + name + " in a template of the protobuf kind " + string(kind))
	})
}

func (g *grpcGen) math() string { return g.fi.name("math", "math") }

// texts is the texts argument of a message's size and write functions.
func texts(m *protoMessage) string {
	if m.HasText {
		return ", t"
	}
	return ""
}

// sizeValue returns statements and the expression of the size of one
// value x without its tag. Only a kind with texts has statements: they
// call MarshalText, whose result the size pass keeps for the write pass.
func (g *grpcGen) sizeValue(f *protoField, kind protoKind, x string) (string, string) {
	info := kind.info()
	return g.code(info.sizePre, f, kind, x, f.Elem, ""), g.code(info.size, f, kind, x, f.Elem, "")
}

// writeValue writes one value x without its tag, back to front.
func (g *grpcGen) writeValue(f *protoField, kind protoKind, x string) string {
	return g.code(kind.info().write, f, kind, x, f.Elem, "")
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
func (g *grpcGen) present(f *protoField, x string) string {
	return g.code(f.Kind.info().present, f, f.Kind, x, f.Elem, "")
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

// guard puts a field's statement under the condition that the embedded
// pointers on its way are set.
func guard(f *protoField, stmt string) string {
	var conds []string
	for _, p := range f.Via {
		conds = append(conds, "v."+p.Selector+" != nil")
	}
	if len(conds) == 0 {
		return stmt
	}
	return "if " + strings.Join(conds, " && ") + " {\n" + stmt + "\n}"
}

// sortedKeys returns the statements that collect a map's keys into keys,
// in protobuf-go's deterministic order.
func (g *grpcGen) sortedKeys(f *protoField, v string) string {
	keyType := g.fi.typ(f.KeyType)
	sortKeys := g.fi.name("slices", "slices") + ".Sort(keys)"
	if f.KeyKind == kindBool {
		sortKeys = g.fi.name("slices", "slices") + ".SortFunc(keys, func(a, b " + keyType + ") int {\nif a == b {\nreturn 0\n}\nif !bool(a) {\nreturn -1\n}\nreturn 1\n})"
	}
	return fmt.Sprintf("keys := make([]%s, 0, len(%s))\nfor k := range %s {\nkeys = append(keys, k)\n}\n%s\n", keyType, v, v, sortKeys)
}

// valueHasText reports a field whose values keep texts in the size pass.
func valueHasText(f *protoField) bool {
	return f.Kind.info().texts || (f.Kind == kindMessage && f.Msg.HasText)
}

// sizeField returns the statements that add a field's size to n.
func (g *grpcGen) sizeField(f *protoField) string {
	v := "v." + f.Access
	ts := tagSize(f.Num)
	var stmt string
	switch {
	case f.Map:
		key := &protoField{Kind: f.KeyKind}
		_, ks := g.sizeValue(key, f.KeyKind, "k")
		pre, vs := g.sizeValue(f, f.Kind, g.deref(f, "x"))
		usesX := usesIdent(pre+vs, "x")
		if valueHasText(f) {
			// The texts are kept in the order the write pass takes them.
			get := ""
			if usesX {
				get = "x := " + v + "[k]\n"
			}
			stmt = fmt.Sprintf("if len(%s) > 0 {\n%sfor _, k := range keys {\n%s%sen := 1 + %s + 1 + %s\nn += %d + %s.SizeBytes(en)\n}\n}",
				v, g.sortedKeys(f, v), get, pre, ks, vs, ts, g.pw())
			break
		}
		stmt = fmt.Sprintf("for %s {\nen := 1 + %s + 1 + %s\nn += %d + %s.SizeBytes(en)\n}", rangeVars(usesIdent(ks, "k"), usesX, v), ks, vs, ts, g.pw())
	case f.Repeated && f.Packed:
		_, es := g.sizeValue(f, f.Kind, "x")
		stmt = fmt.Sprintf("if len(%s) > 0 {\npn := 0\nfor %s {\npn += %s\n}\nn += %d + %s.SizeBytes(pn)\n}", v, rangeVars(false, usesIdent(es, "x"), v), es, ts, g.pw())
	case f.Repeated:
		pre, es := g.sizeValue(f, f.Kind, g.deref(f, v+"[i]"))
		stmt = fmt.Sprintf("for i := range %s {\n%sn += %d + %s\n}", v, pre, ts, es)
	case f.Pointer, f.Optional:
		pre, es := g.sizeValue(f, f.Kind, "*"+v)
		stmt = fmt.Sprintf("if %s != nil {\n%sn += %d + %s\n}", v, pre, ts, es)
	case f.Kind.info().texts:
		stmt = fmt.Sprintf("{\ntxt, err := %s.MarshalText()\nif s := t.Add(txt, err, %q); s > 0 {\nn += %d + %s.SizeBytes(s)\n}\n}", v, f.Name, ts, g.pw())
	default:
		_, es := g.sizeValue(f, f.Kind, v)
		if cond := g.present(f, v); cond == "true" {
			stmt = fmt.Sprintf("n += %d + %s", ts, es)
		} else {
			stmt = fmt.Sprintf("if %s {\nn += %d + %s\n}", cond, ts, es)
		}
	}
	return guard(f, stmt)
}

// deref returns the value expression of an element that may be a pointer
// to a message: "*x" so that addr gives the pointer back.
func (g *grpcGen) deref(f *protoField, x string) string {
	if f.Pointer {
		return "*" + x
	}
	return x
}

// writeField returns the statements that write a field back to front:
// the value, then its length, then its tag.
func (g *grpcGen) writeField(f *protoField) string {
	v := "v." + f.Access
	w := g.wire()
	tag := putTag(f.Num, f.Kind.info().wire)
	var stmt string
	switch {
	case f.Map:
		key := &protoField{Kind: f.KeyKind}
		value := g.writeValue(f, f.Kind, g.deref(f, "x"))
		get := ""
		if usesIdent(value, "x") {
			get = "x := " + v + "[k]\n"
		}
		stmt = fmt.Sprintf("if len(%[1]s) > 0 {\n%[2]sfor j := len(keys) - 1; j >= 0; j-- {\nk := keys[j]\n%[9]sentry := i\n{\n%[3]s\n}\n%[4]s\n%[5]s\n%[6]s\ni = %[7]s.PutVarint(b, i, uint64(entry-i))\n%[8]s\n}\n}",
			v, g.sortedKeys(f, v), value, putTag(2, f.Kind.info().wire),
			g.writeValue(key, f.KeyKind, "k"), putTag(1, f.KeyKind.info().wire), w, putTag(f.Num, protowire.BytesType), get)
	case f.Repeated && f.Packed:
		stmt = fmt.Sprintf("if len(%[1]s) > 0 {\nend := i\nfor j := len(%[1]s) - 1; j >= 0; j-- {\n%[2]s\n}\ni = %[3]s.PutVarint(b, i, uint64(end-i))\n%[4]s\n}",
			v, g.writeValue(f, f.Kind, v+"[j]"), w, putTag(f.Num, protowire.BytesType))
	case f.Repeated:
		stmt = fmt.Sprintf("for j := len(%s) - 1; j >= 0; j-- {\n{\n%s\n}\n%s\n}", v, g.writeValue(f, f.Kind, g.deref(f, v+"[j]")), tag)
	case f.Pointer, f.Optional:
		stmt = fmt.Sprintf("if %s != nil {\n{\n%s\n}\n%s\n}", v, g.writeValue(f, f.Kind, "*"+v), tag)
	case f.Kind.info().texts:
		stmt = fmt.Sprintf("if txt := t.Pop(); len(txt) > 0 {\ni = %s.PutBytes(b, i, txt)\n%s\n}", w, tag)
	default:
		value := g.writeValue(f, f.Kind, v)
		if cond := g.present(f, v); cond == "true" {
			stmt = "{\n" + value + "\n" + tag + "\n}"
		} else {
			stmt = fmt.Sprintf("if %s {\n%s\n%s\n}", cond, value, tag)
		}
	}
	return guard(f, stmt)
}

// depthCheck is the statement that refuses a message nested too deeply.
func (g *grpcGen) depthCheck() string {
	return "if depth == 0 {\nreturn " + g.wire() + ".ErrDepth\n}\n"
}

// decodeValue returns statements that read one value of a kind from buf
// (advancing it) and then run set(expr) with the Go value of type elem.
func (g *grpcGen) decodeValue(f *protoField, kind protoKind, elem types.Type, buf string, set func(string) string) string {
	info := kind.info()
	code := func(tmpl string) string { return g.code(tmpl, f, kind, "x", elem, buf) }
	var b strings.Builder
	if info.message {
		b.WriteString(g.depthCheck())
	}
	b.WriteString(code(info.consume) + "\nif err != nil {\nreturn err\n}\n" + buf + " = " + buf + "[n:]\n")
	b.WriteString(code(info.decodePost))
	val := code(info.decode)
	if info.decodeAs != nil {
		val = conv(func() string { return g.fi.typ(elem) }, val, elem, info.decodeAs)
	}
	// A Go integer type narrower than the kind takes only the values
	// that fit.
	if basic := basicOf(elem); basic != nil && basic.narrow && info.wire == protowire.VarintType {
		wide := code(info.wide)
		fmt.Fprintf(&b, "if y := %s; int64(y) != int64(%s) {\nreturn %s.Errorf(\"field %s: value %%d overflows %s\", int64(%s))\n}\n",
			val, wide, g.wire(), f.Name, elem.Underlying().(*types.Basic).Name(), wide)
	}
	return b.String() + set(val)
}

// conv converts x of type from to the type to, named by t(), when they
// differ.
func conv(t func() string, x string, to, from types.Type) string {
	if types.Identical(to, from) {
		return x
	}
	return t() + "(" + x + ")"
}

// alloc returns the statements that allocate the nil embedded pointers on
// the way to a promoted field before it is set, as encoding/json does.
func (g *grpcGen) alloc(f *protoField) string {
	var b strings.Builder
	for _, p := range f.Via {
		fmt.Fprintf(&b, "if v.%s == nil {\nv.%s = new(%s)\n}\n", p.Selector, p.Selector, g.fi.typ(p.Elem))
	}
	return b.String()
}

// consumeField returns the body of a field's case in protoConsume: it
// reads the field when the wire type fits and continues the loop; when it
// does not, it falls through to skipping the field.
func (g *grpcGen) consumeField(f *protoField) string {
	v := "v." + f.Access
	pw := g.pw()
	alloc := g.alloc(f)
	msgSet := func(target string, ptr, allocVia bool) func(string) string {
		pre := ""
		if allocVia {
			pre = alloc
		}
		return func(expr string) string {
			if buf, ok := consumed(expr); ok {
				t := g.goType(f.Msg)
				if ptr {
					return fmt.Sprintf("%sif %s == nil {\n%s = new(%s)\n}\nif err := protoConsume%s(%s, %s, depth-1, strs, %s); err != nil {\nreturn err\n}", pre, target, target, t, f.Msg.Name, buf.buf, target, buf.end)
				}
				return fmt.Sprintf("%sif err := protoConsume%s(%s, &%s, depth-1, strs, %s); err != nil {\nreturn err\n}", pre, f.Msg.Name, buf.buf, target, buf.end)
			}
			return pre + target + " = " + expr
		}
	}
	switch {
	case f.Map:
		key := &protoField{Kind: f.KeyKind, Name: f.Name + ".key"}
		valType := g.fi.typ(f.Elem)
		if f.Kind == kindMessage {
			valType = g.goType(f.Msg)
		}
		valDecl := "var val " + valType
		if f.Pointer {
			valDecl = "var val *" + valType
		}
		readKey := g.decodeValue(key, f.KeyKind, f.KeyType, "entry", func(e string) string { return "k = " + e })
		readVal := g.decodeValue(f, f.Kind, f.Elem, "entry", msgSet("val", f.Pointer, false))
		entryEnd := ""
		if usesIdent(readKey+readVal, "entryEnd") {
			// The offset at which the entry ends, for its strings and its
			// message.
			entryEnd = "entryEnd := end - len(b)\n"
		}
		return fmt.Sprintf(`if typ != %[1]s.BytesType {
break
}
entry, n, err := %[2]s.ConsumeBytes(b)
if err != nil {
return err
}
b = b[n:]
%[12]svar k %[3]s
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
%[11]sif %[9]s == nil {
%[9]s = make(%[10]s)
}
%[9]s[k] = val
continue`, pw, g.wire(), g.fi.typ(f.KeyType), valDecl, g.wireType(f.KeyKind), readKey, g.wireType(f.Kind), readVal, v,
			"map["+g.fi.typ(f.KeyType)+"]"+g.ptr(f)+valType, alloc, entryEnd)
	case f.Repeated:
		appendTo := func(e string) string {
			if buf, ok := consumed(e); ok {
				t := g.goType(f.Msg)
				if f.Pointer {
					return fmt.Sprintf("e := new(%s)\nif err := protoConsume%s(%s, e, depth-1, strs, %s); err != nil {\nreturn err\n}\n%s = append(%s, e)", t, f.Msg.Name, buf.buf, buf.end, v, v)
				}
				// The element is read where it is kept, not copied there.
				return fmt.Sprintf("%s = append(%s, %s{})\nif err := protoConsume%s(%s, &%s[len(%s)-1], depth-1, strs, %s); err != nil {\nreturn err\n}", v, v, t, f.Msg.Name, buf.buf, v, v, buf.end)
			}
			if f.Pointer {
				return "e := " + e + "\n" + v + " = append(" + v + ", &e)"
			}
			return v + " = append(" + v + ", " + e + ")"
		}
		elemType := g.ptr(f) + g.goTypeOfElem(f)
		if !f.Packed {
			// Size the slice from its first element, guessing that as
			// many like it follow as the rest of b holds, without
			// walking b to count them.
			grow := fmt.Sprintf("%sif %s == nil {\n%s = %s.MakeSlice[%s](len(b), n)\n}\n", alloc, v, v, g.wire(), elemType)
			if f.Kind == kindString && !f.Pointer && types.Identical(f.Elem, types.Typ[types.String]) {
				// Slices of strings share their room, as their strings do.
				grow = fmt.Sprintf("%sif %s == nil {\n%s = strs.Slice(len(b), n)\n}\n", alloc, v, v)
			}
			return fmt.Sprintf("if typ != %s {\nbreak\n}\n%s\ncontinue", g.wireType(f.Kind),
				g.decodeValue(f, f.Kind, f.Elem, "b", func(e string) string { return grow + appendTo(e) }))
		}
		count := g.code(f.Kind.info().count, f, f.Kind, "", f.Elem, "")
		return fmt.Sprintf(`if typ == %[1]s.BytesType {
packed, n, err := %[2]s.ConsumeBytes(b)
if err != nil {
return err
}
b = b[n:]
%[9]sif %[6]s == nil {
%[6]s = make([]%[7]s, 0, %[8]s)
}
for len(packed) > 0 {
%[3]s
}
continue
}
if typ == %[4]s {
%[9]s%[5]s
continue
}`, pw, g.wire(), g.decodeValue(f, f.Kind, f.Elem, "packed", appendTo), g.wireType(f.Kind), g.decodeValue(f, f.Kind, f.Elem, "b", appendTo),
			v, elemType, count, alloc)
	case f.Optional, f.Pointer && f.Kind != kindMessage:
		return fmt.Sprintf("if typ != %s {\nbreak\n}\n%s\ncontinue", g.wireType(f.Kind), g.decodeValue(f, f.Kind, f.Elem, "b", func(e string) string { return alloc + "o := " + e + "\n" + v + " = &o" }))
	}
	return fmt.Sprintf("if typ != %s {\nbreak\n}\n%s\ncontinue", g.wireType(f.Kind), g.decodeValue(f, f.Kind, f.Elem, "b", msgSet(v, f.Pointer, true)))
}

// usesIdent reports whether the Go code refers to the identifier name.
func usesIdent(code, name string) bool {
	for i := strings.Index(code, name); i >= 0; {
		end := i + len(name)
		before := i == 0 || !isIdentByte(code[i-1])
		after := end == len(code) || !isIdentByte(code[end])
		if before && after && (i == 0 || code[i-1] != '.') {
			return true
		}
		next := strings.Index(code[end:], name)
		if next < 0 {
			break
		}
		i = end + next
	}
	return false
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// rangeVars returns the clause of a range over v that declares the key k
// and the value x only where the body uses them.
func rangeVars(key, value bool, v string) string {
	switch {
	case key && value:
		return "k, x := range " + v
	case key:
		return "k := range " + v
	case value:
		return "_, x := range " + v
	}
	return "range " + v
}
