package codegen

import (
	"fmt"
	"go/types"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
)

// TestBasicKindsAreTheLoadersKinds checks that every Go basic type the
// loader accepts has a complete row in basicKinds, and that no other has
// one.
func TestBasicKindsAreTheLoadersKinds(t *testing.T) {
	t.Parallel()
	svc := &Service{Pkg: types.NewPackage("example.com/p", "p")}
	for _, typ := range types.Typ {
		if typ.Info()&types.IsUntyped != 0 {
			continue // the types of constants, never of a parameter or a field
		}
		t.Run(typ.Name(), func(t *testing.T) {
			accepted := svc.checkType(typ, "the type") == nil
			b := basicKinds[typ.Kind()]
			if !accepted {
				assert.Nil(t, b, "the loader refuses %s, which has a row", typ)
				return
			}
			require.NotNil(t, b, "the loader accepts %s, which has no row in basicKinds", typ)
			assert.NotEmpty(t, b.jsonType, "jsonType")
			assert.Equal(t, b.proto == "", b.zigzag == "", "proto and zigzag are both set or both empty")
			for _, k := range []protoKind{b.proto, b.zigzag} {
				if k != "" {
					assert.Contains(t, protoKinds, k, "the protobuf kind %s has no row in protoKinds", k)
				}
			}
			if b.narrow {
				assert.NotZero(t, typ.Info()&types.IsInteger, "only integer types are narrow")
				assert.Equal(t, protowire.VarintType, protoKinds[b.proto].wire, "a narrow type's kind is a varint")
			}
			require.Contains(t, paramKinds, b.param.Kind, "the parameter kind %q has no row in paramKinds", b.param.Kind)
			switch b.param.Kind {
			case "int", "uint", "float":
				assert.Contains(t, []int{8, 16, 32, 64}, b.param.Bits, "the parser's bit size")
			default:
				assert.Zero(t, b.param.Bits, "bits of a kind without a bit size")
			}
		})
	}
}

// placeholders returns the $names a code template holds.
func placeholders(tmpl string) []string {
	var names []string
	expand(tmpl, func(name string) string {
		names = append(names, name)
		return ""
	})
	return names
}

// TestProtoKindsAreComplete checks that every row of protoKinds has what
// the emitters need of a kind like it, and that its templates hold only
// placeholders the emitters fill.
func TestProtoKindsAreComplete(t *testing.T) {
	t.Parallel()
	fi := &fileImports{self: types.NewPackage("example.com/p", "p"), reserved: map[string]bool{}, byPath: map[string]string{}, taken: map[string]bool{}}
	g := &grpcGen{fi: fi}
	f := &protoField{Name: "f", Msg: &protoMessage{Name: "M"}, Elem: types.Typ[types.Int8]}
	for _, kind := range slices.Sorted(maps.Keys(protoKinds)) {
		t.Run(string(kind), func(t *testing.T) {
			info := kind.info()
			assert.NotEmpty(t, info.proto, "proto")
			assert.Contains(t, wireTypeNames, info.wire, "wire")
			for name, tmpl := range map[string]string{"size": info.size, "write": info.write, "consume": info.consume, "decode": info.decode} {
				assert.NotEmpty(t, tmpl, name)
			}
			if !info.texts {
				assert.NotEmpty(t, info.present, "present: a zero test, or true")
			}
			if info.wire == protowire.VarintType {
				assert.NotEmpty(t, info.varint, "varint: what a varint kind writes")
				assert.NotEmpty(t, info.wide, "wide: the value read at the kind's width")
			}
			if info.packed {
				assert.NotEqual(t, protowire.BytesType, info.wire, "only scalar numbers pack")
				assert.NotEmpty(t, info.count, "count: the number of packed values")
			}
			if info.message || info.texts {
				assert.Equal(t, protowire.BytesType, info.wire, "messages and texts are length-delimited")
			}
			if info.protoImport != "" {
				assert.True(t, strings.HasPrefix(info.proto, ".google.protobuf."), "a well-known type is named in full")
			}
			for _, name := range placeholders(info.proto) {
				assert.Contains(t, []string{"pkg", "decl"}, name, "the .proto type fills $pkg and $decl")
			}
			for _, tmpl := range []string{info.varint, info.sizePre, info.size, info.write, info.present, info.consume, info.decodePost, info.decode, info.wide, info.count} {
				assert.NotPanics(t, func() { g.code(tmpl, f, kind, "*v.F", types.Typ[types.Int8], "b") }, "a placeholder of %q is not one the gRPC emitter fills", tmpl)
			}
		})
	}
}

// TestParamKindsAreComplete checks that every scalar kind of a path or
// query parameter has a row that parses and formats it, with placeholders
// the HTTP emitter fills.
func TestParamKindsAreComplete(t *testing.T) {
	t.Parallel()
	fi := &fileImports{self: types.NewPackage("example.com/p", "p"), reserved: map[string]bool{}, byPath: map[string]string{}, taken: map[string]bool{}}
	for _, kind := range slices.Sorted(maps.Keys(paramKinds)) {
		t.Run(kind, func(t *testing.T) {
			pk := paramKinds[kind]
			assert.NotEmpty(t, pk.value, "value")
			assert.NotEmpty(t, pk.format, "format")
			if pk.zero == "" {
				assert.NotEmpty(t, pk.formatPre, "a kind without a zero literal leaves out its empty text, which statements make")
			}
			b := &Binding{Key: "k", Scalar: Scalar{Kind: kind, Bits: 64}, Elem: types.Typ[types.String]}
			for _, tmpl := range []string{pk.parse, pk.value, pk.formatPre, pk.format} {
				assert.NotPanics(t, func() { paramCode(fi, b, tmpl, "T", "*x", "text") }, "a placeholder of %q is not one the HTTP emitter fills", tmpl)
			}
		})
	}
	assert.Contains(t, paramKinds, "text", "types with MarshalText and UnmarshalText")
}

// kindsService is the source of a service with a field, a map key and a
// parameter of every type the tables list, and of the types the proto
// model maps by their shape or methods, so that the model produces every
// kind it can.
func kindsService() string {
	imports := map[string]string{"context": "context"}
	var fields, params, httpParams []string
	for i, k := range slices.Sorted(maps.Keys(basicKinds)) {
		name, b := types.Typ[k].Name(), basicKinds[k]
		httpParams = append(httpParams, fmt.Sprintf("h%d %s", i, name))
		if b.proto == "" {
			continue
		}
		params = append(params, fmt.Sprintf("p%d %s", i, name), fmt.Sprintf("pp%d *%s", i, name))
		if k != types.Uint8 { // []uint8 is []byte: a body, not a list
			params = append(params, fmt.Sprintf("ps%d []%s", i, name))
		}
		fields = append(fields,
			fmt.Sprintf("B%d %s", i, name),
			fmt.Sprintf("Z%d %s `kit:\",zigzag\"`", i, name),
			fmt.Sprintf("P%d *%s", i, name),
			fmt.Sprintf("S%d []%s", i, name),
			fmt.Sprintf("SZ%d []%s `kit:\",zigzag\"`", i, name))
		if b.proto.info().mapKey {
			fields = append(fields,
				fmt.Sprintf("M%d map[%s]%s", i, name, name),
				fmt.Sprintf("MZ%d map[%s]string `kit:\",zigzag\"`", i, name))
		}
	}
	for i, w := range wellKnownTypes {
		alias := fmt.Sprintf("w%d", i)
		imports[alias] = w.path
		typ := alias + "." + w.name
		fields = append(fields, fmt.Sprintf("W%d %s", i, typ), fmt.Sprintf("WP%d *%s", i, typ), fmt.Sprintf("WS%d []%s", i, typ), fmt.Sprintf("WM%d map[string]%s", i, typ))
		if w.text {
			httpParams = append(httpParams, fmt.Sprintf("wh%d %s", i, typ), fmt.Sprintf("whs%d []%s", i, typ))
		}
	}
	fields = append(fields, "E Level", "ES []Level", "EM map[string]Level", "T Code", "TP *Code", "TS []Code", "TM map[int32]Code",
		"Bs []byte", "BL [][]byte", "In Inner", "InP *Inner", "InS []Inner", "InM map[string]*Inner")
	params = append(params, "e Level", "c Code", "cs []Code")
	httpParams = append(httpParams, "e Level", "c Code", "cs []Code")
	var b strings.Builder
	b.WriteString("package bad\n\nimport (\n")
	for _, alias := range slices.Sorted(maps.Keys(imports)) {
		fmt.Fprintf(&b, "\t%s %q\n", alias, imports[alias])
	}
	b.WriteString(`)

type Level int32

const LevelA Level = 1

type Code struct{ n int }

func (c Code) MarshalText() ([]byte, error) { return []byte{byte('A' + c.n)}, nil }
func (c *Code) UnmarshalText(b []byte) error { c.n = len(b); return nil }

type Inner struct{ X int }

type All struct {
`)
	for _, f := range fields {
		b.WriteString("\t" + f + "\n")
	}
	fmt.Fprintf(&b, `}

type S interface {
	Put(ctx context.Context, a All) (All, error)
	//kit:http GET /q
	Query(ctx context.Context, %s) error
}

type H interface {
	//kit:http GET /h
	Query(ctx context.Context, %s) error
}
`, strings.Join(params, ", "), strings.Join(httpParams, ", "))
	return b.String()
}

// TestTablesCoverTheModel checks that the proto model of a service with
// every type of the tables (kindsService) produces only kinds with a row
// in protoKinds and every kind of it, and that the generator fills the
// templates of every kind and every parameter kind.
func TestTablesCoverTheModel(t *testing.T) {
	t.Parallel()
	dir, err := filepath.Abs("testdata/bad")
	require.NoError(t, err)
	src := kindsService()
	overlay := map[string][]byte{filepath.Join(dir, "service.go"): []byte(src)}

	svc, err := load(dir, "S", overlay)
	require.NoError(t, err, src)
	pm, err := buildProto(svc, &lockFile{entries: map[string]map[string]int{}})
	require.NoError(t, err, src)
	produced := map[protoKind]bool{}
	for _, m := range pm.Messages {
		for _, f := range m.Fields {
			produced[f.Kind] = true
			if f.Map {
				produced[f.KeyKind] = true
			}
		}
	}
	for _, kind := range slices.Sorted(maps.Keys(produced)) {
		assert.Contains(t, protoKinds, kind, "the model produces the kind %s, which has no row in protoKinds", kind)
	}
	for _, kind := range slices.Sorted(maps.Keys(protoKinds)) {
		assert.True(t, produced[kind], "the kind %s has a row but no Go type of the tables maps to it", kind)
	}
	files, err := generate(svc, Options{Dir: t.TempDir(), Type: "S", HTTP: true, GRPC: true})
	require.NoError(t, err, src)
	assert.NotEmpty(t, files["s_grpc_gen.go"])

	// The parameters of every basic type, gRPC's or not.
	h, err := load(dir, "H", overlay)
	require.NoError(t, err, src)
	scalars := map[string]bool{}
	for _, b := range h.Methods[0].QueryBindings {
		scalars[b.Scalar.Kind] = true
	}
	assert.ElementsMatch(t, slices.Collect(maps.Keys(paramKinds)), slices.Collect(maps.Keys(scalars)), "every parameter kind, and only those, is bound")
	_, err = generate(h, Options{Dir: t.TempDir(), Type: "H", HTTP: true})
	require.NoError(t, err, src)
}
