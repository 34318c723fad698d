package codegen

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// FuzzGenerate generates random service interfaces of the shapes the
// generator supports, runs the generator on each, builds the output into a
// program, and checks that protoc compiles the emitted .proto and that a
// random value marshals, through the generated codec, to the bytes
// protobuf-go writes (in deterministic mode) for the same value of the
// .proto's message, and reads back to the same bytes. The TypeScript
// client is generated too, so that no shape crashes its emitter.
//
// Each input costs a build of a small program (a few seconds with a warm
// build cache); the seeds, run by go test, cover every shape in a few
// interfaces. go test -fuzz FuzzGenerate explores further.
func FuzzGenerate(f *testing.F) {
	if testing.Short() {
		f.Skip("builds a program per input; run without -short")
	}
	protocPath(f)
	root := repoRoot(f)
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{"scalars", "messages and maps", "text and time", "embedded", "recursive", "edges", "lists", "lone values", "enums"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g := newFuzzGen(data)
		g.build()
		dir := t.TempDir()
		write := func(name, content string) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("go.mod", "module example.com/fz\n\ngo 1.26.7\n\nrequire github.com/typedkit/kit v0.0.0\n\nreplace github.com/typedkit/kit => "+root+"\n")
		write("go.sum", string(sum))
		service := g.serviceSource()
		write("service.go", service)
		value := g.value(g.msgs[0], 0)
		write("main.go", g.mainSource(value))

		files, err := Generate(Options{Dir: dir, Type: "S", HTTP: true, GRPC: true, TypeScript: true})
		if err != nil {
			t.Fatalf("the generator refuses supported shapes: %v\n%s", err, service)
		}
		// The TypeScript client is written too (the conformance suite
		// typechecks those of the golden services with tsc).
		if ts := string(files["s.ts"]); !strings.HasPrefix(ts, generatedHeader) || !strings.Contains(ts, "export class SClient {") {
			t.Fatalf("no TypeScript client for\n%s", service)
		}
		for name, content := range files {
			write(name, string(content))
		}
		set := protoc(t, "s.proto", files["s.proto"])
		typecheckTS(t, root, dir, "s.ts", service)

		cmd := exec.Command("go", "build", "-o", "fz", ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("the generated code does not build: %v\n%s\n%s", err, out, service)
		}
		run := exec.Command(filepath.Join(dir, "fz"))
		var stderr bytes.Buffer
		run.Stderr = &stderr
		out, err := run.Output()
		if err != nil {
			t.Fatalf("the generated codec fails: %v\n%s\n%s\nvalue: %s", err, stderr.String(), service, value.lit)
		}
		ours, err := hex.DecodeString(strings.TrimSpace(string(out)))
		if err != nil {
			t.Fatal(err)
		}

		// protobuf-go, from the .proto that protoc compiled, writes the
		// same value.
		var fds descriptorpb.FileDescriptorSet
		if err := proto.Unmarshal(set, &fds); err != nil {
			t.Fatal(err)
		}
		reg, err := protodesc.NewFiles(&fds)
		if err != nil {
			t.Fatalf("protobuf-go refuses the descriptors: %v", err)
		}
		d, err := reg.FindDescriptorByName(protoreflect.FullName("main." + g.msgs[0].name))
		if err != nil {
			t.Fatal(err)
		}
		msg := dynamicpb.NewMessage(d.(protoreflect.MessageDescriptor))
		g.fill(t, msg, value)
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, ours) {
			t.Fatalf("the generated codec writes\n%x\nprotobuf-go writes\n%x\nfor %s\n%s", ours, want, value.lit, service)
		}
		// And protobuf-go reads ours.
		back := dynamicpb.NewMessage(d.(protoreflect.MessageDescriptor))
		if err := proto.Unmarshal(ours, back); err != nil {
			t.Fatalf("protobuf-go refuses the generated codec's bytes: %v", err)
		}
		if !proto.Equal(msg, back) {
			t.Fatalf("protobuf-go reads another value from the generated codec's bytes")
		}
	})
}

// fuzzGen makes a random service from the fuzzer's bytes: each choice
// takes a byte of the input while there are some, then a number from a
// generator seeded by the input.
type fuzzGen struct {
	data []byte
	rnd  *rand.Rand
	msgs []*fzMsg
	// methods are the interface's methods, as Go source.
	methods []string
}

func newFuzzGen(data []byte) *fuzzGen {
	h := fnv.New64a()
	h.Write(data)
	s := h.Sum64()
	return &fuzzGen{data: data, rnd: rand.New(rand.NewPCG(s, s>>7|1))}
}

// n returns a choice in [0, k).
func (g *fuzzGen) n(k int) int {
	if len(g.data) > 0 {
		c := int(g.data[0])
		g.data = g.data[1:]
		return c % k
	}
	return g.rnd.IntN(k)
}

// fzType is a Go type of a field.
type fzType struct {
	// kind is scalar, ptr, slice, map or msg.
	kind string
	// scalar names a scalar: a Go type such as int8, time.Time or
	// netip.Addr.
	scalar string
	elem   *fzType
	key    string
	msg    *fzMsg
	// named is the name of a named slice or map type.
	named string
}

type fzMsg struct {
	name   string
	fields []*fzField
}

type fzField struct {
	goName, json string
	typ          *fzType
	zigzag       bool
	num          int
	// embed is a struct embedded by value, or by pointer when typ is a
	// pointer.
	embed bool
}

var fzScalars = []string{"bool", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64",
	"float32", "float64", "string", "[]byte", "Level", "time.Time", "time.Duration", "netip.Addr", "netip.Prefix", "Code", "json.RawMessage"}

// mapKeys are the key types protobuf allows.
var fzMapKeys = []string{"string", "bool", "int32", "int64", "uint32", "uint64", "int", "uint8"}

func (g *fuzzGen) scalar() string { return fzScalars[g.n(len(fzScalars))] }

// typ returns a random field type of message i: messages refer to those
// after them, and to themselves through pointers and slices.
func (g *fuzzGen) typ(i int) *fzType {
	other := func() *fzMsg {
		if i+1 < len(g.msgs) {
			return g.msgs[i+1+g.n(len(g.msgs)-i-1)]
		}
		return nil
	}
	switch g.n(12) {
	case 0, 1, 2, 3:
		return &fzType{kind: "scalar", scalar: g.scalar()}
	case 4:
		s := g.scalar()
		switch s {
		case "[]byte", "json.RawMessage", "time.Time", "time.Duration", "netip.Addr", "netip.Prefix", "Code":
			if s == "time.Time" || s == "netip.Addr" {
				return &fzType{kind: "ptr", elem: &fzType{kind: "scalar", scalar: s}}
			}
			s = "string"
		}
		return &fzType{kind: "ptr", elem: &fzType{kind: "scalar", scalar: s}}
	case 5, 6:
		s := g.scalar()
		if s == "json.RawMessage" {
			s = "[]byte"
		}
		t := &fzType{kind: "slice", elem: &fzType{kind: "scalar", scalar: s}}
		if s == "string" && g.n(2) == 0 {
			t.named = "Tags"
		}
		return t
	case 7, 8:
		v := &fzType{kind: "scalar", scalar: g.scalar()}
		if m := other(); m != nil && g.n(2) == 0 {
			v = &fzType{kind: "msg", msg: m}
			if g.n(2) == 0 {
				v = &fzType{kind: "ptr", elem: v}
			}
		}
		t := &fzType{kind: "map", key: fzMapKeys[g.n(len(fzMapKeys))], elem: v}
		if t.key == "string" && v.kind == "scalar" && v.scalar == "string" && g.n(2) == 0 {
			t.named = "Labels"
		}
		return t
	default:
		m := other()
		self := g.msgs[i]
		if m == nil || g.n(3) == 0 {
			// A recursive field.
			if g.n(2) == 0 {
				return &fzType{kind: "ptr", elem: &fzType{kind: "msg", msg: self}}
			}
			return &fzType{kind: "slice", elem: &fzType{kind: "msg", msg: self}}
		}
		switch g.n(4) {
		case 0:
			return &fzType{kind: "ptr", elem: &fzType{kind: "msg", msg: m}}
		case 1:
			return &fzType{kind: "slice", elem: &fzType{kind: "msg", msg: m}}
		case 2:
			return &fzType{kind: "slice", elem: &fzType{kind: "ptr", elem: &fzType{kind: "msg", msg: m}}}
		}
		return &fzType{kind: "msg", msg: m}
	}
}

// build makes the messages and the methods.
func (g *fuzzGen) build() {
	nm := 1 + g.n(4)
	for i := range nm {
		g.msgs = append(g.msgs, &fzMsg{name: fmt.Sprintf("M%d", i)})
	}
	base := &fzMsg{name: "Base", fields: []*fzField{
		{goName: "BaseID", json: "base_id", typ: &fzType{kind: "scalar", scalar: "string"}},
		{goName: "BaseAt", json: "base_at", typ: &fzType{kind: "scalar", scalar: "time.Time"}},
	}}
	aux := &fzMsg{name: "Aux", fields: []*fzField{
		{goName: "AuxNote", json: "aux_note", typ: &fzType{kind: "scalar", scalar: "string"}},
		{goName: "AuxN", json: "aux_n", typ: &fzType{kind: "scalar", scalar: "int32"}},
	}}
	for i, m := range g.msgs {
		nf := 1 + g.n(7)
		for j := range nf {
			f := &fzField{goName: fmt.Sprintf("F%d", j), typ: g.typ(i)}
			switch g.n(3) {
			case 0:
				f.json = fmt.Sprintf("f%d", j)
			case 1:
				f.json = fmt.Sprintf("field_%d", j)
			default:
				f.json = fmt.Sprintf("x-%d", j)
			}
			if t := f.typ; (t.kind == "scalar" || t.kind == "slice" && t.elem.kind == "scalar") && g.n(4) == 0 {
				s := t.scalar
				if t.kind == "slice" {
					s = t.elem.scalar
				}
				if s == "int32" || s == "int64" || s == "int" {
					f.zigzag, f.num = true, 100+j
				}
			}
			m.fields = append(m.fields, f)
		}
		if i == 0 {
			if g.n(2) == 0 {
				m.fields = append(m.fields, &fzField{goName: "Base", embed: true, typ: &fzType{kind: "msg", msg: base}})
			}
			if g.n(2) == 0 {
				m.fields = append(m.fields, &fzField{goName: "Aux", embed: true, typ: &fzType{kind: "ptr", elem: &fzType{kind: "msg", msg: aux}}})
			}
		}
	}
	g.msgs = append(g.msgs, base, aux)

	g.methods = append(g.methods, "Echo(ctx context.Context, v M0) (M0, error)")
	extras := []string{
		"At(ctx context.Context, t time.Time) (*time.Time, error)",
		"Wait(ctx context.Context, d time.Duration) (time.Duration, error)",
		"//kit:http GET /addr/{a}\n\tAddr(ctx context.Context, a netip.Addr, tags Tags) (netip.Prefix, error)",
		"Many(ctx context.Context, a int32, b string, c []M0) (x M0, y bool, err error)",
		"Ptr(ctx context.Context, v *M0) (*M0, error)",
		"Codes(ctx context.Context, c Code) (Code, error)",
		"//kit:http GET /find\n\tFind(ctx context.Context, labels []Code, since *time.Time, n *int64) ([]M0, error)",
	}
	for _, e := range extras {
		if g.n(3) == 0 {
			g.methods = append(g.methods, e)
		}
	}
}

// goType spells a type in Go.
func (t *fzType) goType() string {
	switch t.kind {
	case "ptr":
		return "*" + t.elem.goType()
	case "slice":
		if t.named != "" {
			return t.named
		}
		return "[]" + t.elem.goType()
	case "map":
		if t.named != "" {
			return t.named
		}
		return "map[" + t.key + "]" + t.elem.goType()
	case "msg":
		return t.msg.name
	}
	return t.scalar
}

func (g *fuzzGen) serviceSource() string {
	var b strings.Builder
	b.WriteString(`package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"time"
)

var (
	_ json.RawMessage
	_ netip.Addr
	_ time.Time
)

// Level is an enum.
type Level int32

// The levels.
const (
	LevelLow  Level = 1
	LevelHigh Level = 2
)

// Tags is a named slice.
type Tags []string

// Labels is a named map.
type Labels map[string]string

// Code travels as its text.
type Code struct{ n int }

// MarshalText writes the code.
func (c Code) MarshalText() ([]byte, error) { return []byte{byte('A' + c.n)}, nil }

// UnmarshalText reads a code.
func (c *Code) UnmarshalText(b []byte) error {
	if len(b) != 1 || b[0] < 'A' || b[0] > 'Z' {
		return errors.New("want one capital letter")
	}
	c.n = int(b[0] - 'A')
	return nil
}

`)
	for _, m := range g.msgs {
		fmt.Fprintf(&b, "// %s is a message.\ntype %s struct {\n", m.name, m.name)
		for _, f := range m.fields {
			if f.embed {
				fmt.Fprintf(&b, "\t%s\n", f.typ.goType())
				continue
			}
			tag := fmt.Sprintf("json:%q", f.json)
			if f.zigzag {
				tag += fmt.Sprintf(" kit:\"%d,zigzag\"", f.num)
			}
			fmt.Fprintf(&b, "\t%s %s `%s`\n", f.goName, f.typ.goType(), tag)
		}
		b.WriteString("}\n\n")
	}
	b.WriteString("// S is the service.\ntype S interface {\n")
	for _, m := range g.methods {
		fmt.Fprintf(&b, "\t%s\n", m)
	}
	b.WriteString("}\n")
	return b.String()
}

func (g *fuzzGen) mainSource(v *fzVal) string {
	return `package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"os"
	"time"
)

var (
	_ = math.Inf
	_ json.RawMessage
	_ netip.Addr
	_ time.Time
)

func ptr[T any](v T) *T { return &v }

func main() {
	v := ` + v.lit + `
	b, err := (&protoWire` + g.msgs[0].name + `{v: &v}).MarshalProtoWire(nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "marshal:", err)
		os.Exit(1)
	}
	w := &protoWire` + g.msgs[0].name + `{}
	if err := w.UnmarshalProtoWire(b); err != nil {
		fmt.Fprintln(os.Stderr, "unmarshal:", err)
		os.Exit(2)
	}
	again, err := w.MarshalProtoWire(nil)
	if err != nil || !bytes.Equal(b, again) {
		fmt.Fprintf(os.Stderr, "the round trip changed the bytes (%v):\n%x\n%x\n", err, b, again)
		os.Exit(3)
	}
	fmt.Printf("%x\n", b)
}
`
}

// fzVal is a value of a type: its Go literal, and what protobuf-go is
// given for it.
type fzVal struct {
	t   *fzType
	lit string
	// scalar is the protoreflect value of a scalar, present whether it
	// is written when it stands alone (proto3's implicit presence).
	scalar  protoreflect.Value
	present bool
	// timestamp and duration values are messages of two fields.
	seconds int64
	nanos   int32
	isNil   bool
	elem    *fzVal
	elems   []*fzVal
	keys    []*fzVal
	fields  []*fzVal
}

// value returns a random value of a message, depth levels down.
func (g *fuzzGen) value(m *fzMsg, depth int) *fzVal {
	v := &fzVal{t: &fzType{kind: "msg", msg: m}}
	var parts []string
	for _, f := range m.fields {
		fv := g.valueOf(f.typ, depth+1)
		v.fields = append(v.fields, fv)
		parts = append(parts, f.goName+": "+fv.lit)
	}
	v.lit = m.name + "{" + strings.Join(parts, ", ") + "}"
	return v
}

func (g *fuzzGen) valueOf(t *fzType, depth int) *fzVal {
	switch t.kind {
	case "ptr":
		if g.n(4) == 0 || (t.elem.kind == "msg" && depth > 3) {
			return &fzVal{t: t, lit: "nil", isNil: true}
		}
		e := g.valueOf(t.elem, depth)
		if t.elem.kind == "msg" {
			return &fzVal{t: t, lit: "&" + e.lit, elem: e}
		}
		return &fzVal{t: t, lit: "ptr[" + t.elem.goType() + "](" + e.lit + ")", elem: e}
	case "slice":
		n := g.n(4)
		if t.elem.kind != "scalar" && depth > 3 {
			n = 0
		}
		if n == 0 {
			if g.n(2) == 0 {
				return &fzVal{t: t, lit: t.goType() + "{}"}
			}
			return &fzVal{t: t, lit: "nil"}
		}
		v := &fzVal{t: t}
		var parts []string
		for range n {
			e := g.valueOf(t.elem, depth+1)
			if t.elem.kind == "ptr" && e.isNil {
				// A nil element reads back as an empty message: not a
				// round trip of the Go value.
				e = g.valueOf(t.elem, depth+1)
				if e.isNil {
					continue
				}
			}
			v.elems = append(v.elems, e)
			parts = append(parts, e.lit)
		}
		v.lit = t.goType() + "{" + strings.Join(parts, ", ") + "}"
		return v
	case "map":
		n := g.n(4)
		if t.elem.kind != "scalar" && depth > 3 {
			n = 0
		}
		v := &fzVal{t: t}
		if n == 0 {
			v.lit = "nil"
			return v
		}
		seen := map[string]bool{}
		var parts []string
		for range n {
			k := g.valueOf(&fzType{kind: "scalar", scalar: t.key}, depth)
			if seen[k.lit] {
				continue
			}
			seen[k.lit] = true
			e := g.valueOf(t.elem, depth+1)
			if e.isNil {
				continue
			}
			v.keys = append(v.keys, k)
			v.elems = append(v.elems, e)
			parts = append(parts, k.lit+": "+e.lit)
		}
		v.lit = t.goType() + "{" + strings.Join(parts, ", ") + "}"
		return v
	case "msg":
		return g.value(t.msg, depth)
	}
	return g.scalarValue(t)
}

// scalarValue returns a value of a scalar type, often an edge of its range.
func (g *fuzzGen) scalarValue(t *fzType) *fzVal {
	v := &fzVal{t: t}
	pick := func(n int) int { return g.n(n) }
	signed := func(lo, hi int64) int64 {
		return []int64{0, 1, -1, lo, hi, lo + 1, hi - 1, 42}[pick(8)]
	}
	unsigned := func(hi uint64) uint64 { return min([]uint64{0, 1, hi, hi - 1, 127, 128, 300}[pick(7)], hi) }
	setInt := func(x int64, pv protoreflect.Value) {
		v.lit = fmt.Sprintf("%s(%d)", t.scalar, x)
		v.scalar, v.present = pv, x != 0
	}
	switch t.scalar {
	case "bool":
		b := pick(2) == 0
		v.lit, v.scalar, v.present = strconv.FormatBool(b), protoreflect.ValueOfBool(b), b
	case "int", "int64":
		x := signed(math.MinInt64, math.MaxInt64)
		setInt(x, protoreflect.ValueOfInt64(x))
	case "int8":
		x := signed(math.MinInt8, math.MaxInt8)
		setInt(x, protoreflect.ValueOfInt32(int32(x)))
	case "int16":
		x := signed(math.MinInt16, math.MaxInt16)
		setInt(x, protoreflect.ValueOfInt32(int32(x)))
	case "int32":
		x := signed(math.MinInt32, math.MaxInt32)
		setInt(x, protoreflect.ValueOfInt32(int32(x)))
	case "uint", "uint64", "uint8", "uint16", "uint32":
		hi := map[string]uint64{"uint": math.MaxUint64, "uint64": math.MaxUint64, "uint8": math.MaxUint8, "uint16": math.MaxUint16, "uint32": math.MaxUint32}[t.scalar]
		x := unsigned(hi)
		v.lit = fmt.Sprintf("%s(%d)", t.scalar, x)
		if hi > math.MaxUint32 {
			v.scalar = protoreflect.ValueOfUint64(x)
		} else {
			v.scalar = protoreflect.ValueOfUint32(uint32(x))
		}
		v.present = x != 0
	case "float32", "float64":
		lits := []string{"0", "math.Copysign(0, -1)", "1.5", "-2.25", "math.Inf(1)", "math.Inf(-1)", "1e-30", "3e38"}
		vals := []float64{0, math.Copysign(0, -1), 1.5, -2.25, math.Inf(1), math.Inf(-1), 1e-30, 3e38}
		i := pick(len(lits))
		v.lit = t.scalar + "(" + lits[i] + ")"
		x := vals[i]
		if t.scalar == "float32" {
			v.scalar = protoreflect.ValueOfFloat32(float32(x))
		} else {
			v.scalar = protoreflect.ValueOfFloat64(x)
		}
		v.present = x != 0 || math.Signbit(x)
	case "string":
		s := []string{"", "a", "héllo, 世界", "\x00", strings.Repeat("x", 200)}[pick(5)]
		v.lit, v.scalar, v.present = strconv.Quote(s), protoreflect.ValueOfString(s), s != ""
	case "[]byte", "json.RawMessage":
		bs := [][]byte{nil, {}, {0, 1, 255}, []byte(`{"a":[1,2]}`)}[pick(4)]
		if bs == nil {
			v.lit = "nil"
		} else {
			v.lit = t.scalar + "(" + strconv.Quote(string(bs)) + ")"
		}
		v.scalar, v.present = protoreflect.ValueOfBytes(bs), len(bs) > 0
	case "Level":
		x := []int32{0, 1, 2, 7, -1}[pick(5)]
		v.lit, v.scalar, v.present = fmt.Sprintf("Level(%d)", x), protoreflect.ValueOfEnum(protoreflect.EnumNumber(x)), x != 0
	case "time.Time":
		times := []time.Time{{}, time.Unix(0, 0), time.Date(2024, 2, 29, 12, 30, 45, 123456789, time.UTC),
			time.Date(1901, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}
		tm := times[pick(len(times))]
		if tm.IsZero() {
			v.lit = "time.Time{}"
		} else {
			v.lit = fmt.Sprintf("time.Unix(%d, %d).UTC()", tm.Unix(), tm.Nanosecond())
		}
		v.seconds, v.nanos, v.present = tm.Unix(), int32(tm.Nanosecond()), !tm.IsZero()
	case "time.Duration":
		d := []time.Duration{0, 1, -1, 1500 * time.Millisecond, -90*time.Second - 5, math.MaxInt64, math.MinInt64}[pick(7)]
		v.lit = fmt.Sprintf("time.Duration(%d)", int64(d))
		v.seconds, v.nanos, v.present = int64(d/time.Second), int32(d%time.Second), d != 0
	case "netip.Addr":
		s := []string{"", "1.2.3.4", "::1", "fe80::1%eth0", "::ffff:1.2.3.4"}[pick(5)]
		if s == "" {
			v.lit = "netip.Addr{}"
		} else {
			v.lit = fmt.Sprintf("netip.MustParseAddr(%q)", s)
			s = netip.MustParseAddr(s).String()
		}
		v.scalar, v.present = protoreflect.ValueOfString(s), s != ""
	case "netip.Prefix":
		s := []string{"", "10.0.0.0/8", "2001:db8::/32"}[pick(3)]
		if s == "" {
			v.lit = "netip.Prefix{}"
		} else {
			v.lit = fmt.Sprintf("netip.MustParsePrefix(%q)", s)
		}
		v.scalar, v.present = protoreflect.ValueOfString(s), s != ""
	case "Code":
		n := pick(26)
		v.lit = fmt.Sprintf("Code{n: %d}", n)
		v.scalar, v.present = protoreflect.ValueOfString(string(rune('A'+n))), true
	default:
		panic("no values for " + t.scalar)
	}
	return v
}

// fill sets v, a value of a message, in m, as protobuf-go has it.
func (g *fuzzGen) fill(t *testing.T, m protoreflect.Message, v *fzVal) {
	fields := m.Descriptor().Fields()
	for i, f := range v.t.msg.fields {
		fv := v.fields[i]
		if f.embed {
			if fv.isNil {
				continue
			}
			if fv.elem != nil {
				fv = fv.elem
			}
			g.fill(t, m, fv) // promoted fields are the parent's
			continue
		}
		fd := fields.ByName(protoreflect.Name(protoIdent(snake(f.json))))
		if fd == nil {
			t.Fatalf("the .proto has no field for %s (%s)", f.goName, f.json)
		}
		switch {
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			for j, k := range fv.keys {
				mp.Set(protoreflect.MapKey(g.single(fd.MapKey(), k)), g.element(m, fd.MapValue(), fv.elems[j], func() protoreflect.Value { return mp.NewValue() }))
			}
		case fd.IsList():
			l := m.Mutable(fd).List()
			for _, e := range fv.elems {
				l.Append(g.element(m, fd, e, l.NewElement))
			}
		default:
			if fv.isNil {
				continue
			}
			elem, ptr := fv, false
			if fv.t.kind == "ptr" {
				elem, ptr = fv.elem, true
			}
			if fd.Kind() == protoreflect.MessageKind {
				if elem.t.kind == "scalar" && !ptr && !elem.present {
					continue // a zero time or duration is absent
				}
				m.Set(fd, g.element(m, fd, elem, func() protoreflect.Value { return m.NewField(fd) }))
				continue
			}
			if !ptr && !elem.present {
				continue
			}
			m.Set(fd, elem.scalar)
		}
	}
}

// element returns one value of a field: of a list, a map or a singular
// field. newMsg makes a message of the field's type.
func (g *fuzzGen) element(parent protoreflect.Message, fd protoreflect.FieldDescriptor, v *fzVal, newMsg func() protoreflect.Value) protoreflect.Value {
	if v.t.kind == "ptr" {
		v = v.elem
	}
	if fd.Kind() != protoreflect.MessageKind {
		return g.single(fd, v)
	}
	mv := newMsg()
	msg := mv.Message()
	if v.t.kind == "msg" {
		g.fill(nil, msg, v)
		return mv
	}
	// A Timestamp or a Duration: seconds and nanos.
	fields := msg.Descriptor().Fields()
	if v.seconds != 0 {
		msg.Set(fields.ByName("seconds"), protoreflect.ValueOfInt64(v.seconds))
	}
	if v.nanos != 0 {
		msg.Set(fields.ByName("nanos"), protoreflect.ValueOfInt32(v.nanos))
	}
	return mv
}

// single is a scalar value for a field of fd's kind: sint and fixed kinds
// take the same Go values.
func (g *fuzzGen) single(fd protoreflect.FieldDescriptor, v *fzVal) protoreflect.Value {
	return v.scalar
}

// typecheckTS runs tsc --strict on a generated TypeScript file in dir,
// when the conformance suite's node_modules has it (npm ci in
// internal/conformance); without it the conformance suite's
// TestTypeScriptTypechecks still checks the golden services.
func typecheckTS(t *testing.T, root, dir, name, service string) {
	t.Helper()
	tsc := filepath.Join(root, "internal", "conformance", "node_modules", ".bin", "tsc")
	if _, err := os.Stat(tsc); err != nil {
		return
	}
	if _, err := exec.LookPath("node"); err != nil {
		return
	}
	cmd := exec.Command(tsc, "--strict", "--noEmit", "--target", "es2022", "--lib", "es2022,dom", name)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tsc refuses the TypeScript client: %v\n%s\n%s", err, out, service)
	}
}
