package codegen

import (
	"go/types"
	"math"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file holds what the generator knows about each kind of value, in
// tables that every emitter reads:
//
//   - basicKinds: each Go basic type the loader accepts, with its protobuf
//     kind (plain and with kit:"N,zigzag"), its JSON Schema, how a path
//     segment or query parameter of it is parsed and formatted, and how
//     the generated JSON codecs read and write it (its jsonKind);
//   - wellKnownTypes: the named types of other packages that travel in a
//     form of their own (time.Time, time.Duration, json.RawMessage), with
//     their jsonKinds;
//   - protoKinds: each protobuf kind, with its .proto spelling, its wire
//     type and the code that sizes, writes, tests and reads one value;
//   - paramKinds: each scalar kind of a path or query parameter, with the
//     code that parses and formats it.
//
// A Go type the tables do not list travels by its shape (structs as
// messages, slices as repeated fields, maps as maps), or by its own
// MarshalText and UnmarshalText methods (the kind text, see isText).
//
// Code templates are Go source with $name placeholders, which the emitter
// fills in the order they appear (see expand): a placeholder that names a
// package imports it, so a template names only the packages its code uses.
// The gRPC emitter (grpc.go) fills
//
//	$x      the value
//	$recv   the value as a method's receiver: (*p) for *p
//	$T      the Go type of the value
//	$buf    the bytes a value is read from
//	$name   the field's protobuf name, quoted, for errors
//	$msg    the name of the message of a message kind
//	$addr   a pointer to the value: &x, or p for *p
//	$texts  the texts argument of the message's functions, when it has one
//	$varint the kind's varint template, filled in
//	$pw $rt $math  the packages protowire, genrt and math
//
// the .proto writer (protofile.go) fills $pkg (the .proto package) and
// $decl (the name of the message or enum the model declares), and the HTTP
// emitter (http.go) fills those listed at paramKind.

// protoKind is the protobuf kind of one value of a field: of the element
// of a repeated field, of the key or the value of a map. It is a string,
// the kind's name as the .proto file spells the scalar types, so that a
// model reads well in a test's failure and in a debugger; the constants
// below are every kind, and each has a row in protoKinds.
type protoKind string

// The protobuf kinds.
const (
	kindBool      protoKind = "bool"
	kindInt32     protoKind = "int32"
	kindInt64     protoKind = "int64"
	kindUint32    protoKind = "uint32"
	kindUint64    protoKind = "uint64"
	kindSint32    protoKind = "sint32"
	kindSint64    protoKind = "sint64"
	kindFloat     protoKind = "float"
	kindDouble    protoKind = "double"
	kindString    protoKind = "string"
	kindBytes     protoKind = "bytes"
	kindEnum      protoKind = "enum"
	kindMessage   protoKind = "message"
	kindTimestamp protoKind = "timestamp" // google.protobuf.Timestamp, from time.Time
	kindDuration  protoKind = "duration"  // google.protobuf.Duration, from time.Duration
	kindText      protoKind = "text"      // a string that MarshalText writes and UnmarshalText reads
)

// protoKindInfo is what the .proto file and the wire codecs do with one
// value of a protobuf kind. Templates are filled as the file's comment
// says.
type protoKindInfo struct {
	// proto is the kind's type in the .proto file: $pkg.$decl for the
	// messages and enums the model declares.
	proto string
	// protoImport is the .proto file that declares a well-known type.
	protoImport string
	// wire is the wire type of one value.
	wire protowire.Type
	// packed reports a kind whose repeated fields are packed, proto3's
	// default for scalar numbers.
	packed bool
	// mapKey reports a kind protobuf allows as a map's key.
	mapKey bool
	// message reports a kind that is a message on the wire: reading one
	// nests a level deeper, and a pointer to one is a field whose
	// presence is the message's (not proto3 optional).
	message bool
	// texts reports a kind whose size pass marshals the value to its text,
	// which it keeps (genrt.Texts) for the write pass: a singular field is
	// written when its text is not empty, and a message that holds one
	// passes the texts to its size and write functions.
	texts bool

	// varint is the uint64 a varint kind writes for $x.
	varint string
	// sizePre and size are the statements and the expression of the size
	// of $x without its tag.
	sizePre, size string
	// write is the statements that write $x without its tag, back to
	// front, ending before b[i].
	write string
	// present is the zero test of a singular field with implicit presence:
	// the condition under which $x is written; "true" for always. Kinds
	// with texts test the text instead.
	present string

	// consume is the statement that reads one value from $buf into x, n
	// (the bytes read) and err.
	consume string
	// decodePost is the statements, after consume, that turn x into the
	// value, returning any error.
	decodePost string
	// decode is the expression of the value read, of the Go type $T;
	// when decodeAs is set, of that type, converted to $T where the two
	// differ.
	decode   string
	decodeAs types.Type
	// wide is, for a varint kind, x at the kind's full width, which a Go
	// integer type narrower than the kind is checked against on decode.
	wide string
	// count is, for a packed kind, the number of values in the bytes
	// packed, to size a slice once.
	count string
}

// consumedMessage starts the decode expression of a message: the bytes of
// the message and, after a NUL, the offset at which they end, which the
// emitter reads into its target with the message's consume function.
const consumedMessage = "\x00msg:"

// consumedBytes is a message's bytes in a decode expression: the variable
// that holds them and the expression of the offset at which they end.
type consumedBytes struct{ buf, end string }

// consumed splits a decode expression that starts with consumedMessage.
func consumed(expr string) (consumedBytes, bool) {
	rest, ok := strings.CutPrefix(expr, consumedMessage)
	if !ok {
		return consumedBytes{}, false
	}
	buf, end, _ := strings.Cut(rest, "\x00")
	return consumedBytes{buf: buf, end: end}, true
}

// Templates shared by several kinds.
const (
	varintSize    = "$pw.SizeVarint($varint)"
	varintWrite   = "i = $rt.PutVarint(b, i, $varint)"
	varintConsume = "x, n, err := $rt.ConsumeVarint($buf)"
	varintCount   = "$rt.CountVarints(packed)"
	bytesConsume  = "x, n, err := $rt.ConsumeBytes($buf)"
	bytesSize     = "$pw.SizeBytes(len($x))"
	nonZero       = "$x != 0"
)

// protoKinds is every protobuf kind's row.
var protoKinds = map[protoKind]*protoKindInfo{
	kindBool: {proto: "bool", wire: protowire.VarintType, packed: true, mapKey: true,
		varint: "$pw.EncodeBool(bool($x))", size: varintSize, write: varintWrite, present: "bool($x)",
		consume: varintConsume, decode: "$T($pw.DecodeBool(x))", wide: "x", count: varintCount},
	kindInt32: {proto: "int32", wire: protowire.VarintType, packed: true, mapKey: true,
		varint: "uint64(int64($x))", size: varintSize, write: varintWrite, present: nonZero,
		consume: varintConsume, decode: "$T(int32(x))", wide: "int32(x)", count: varintCount},
	kindInt64: {proto: "int64", wire: protowire.VarintType, packed: true, mapKey: true,
		varint: "uint64(int64($x))", size: varintSize, write: varintWrite, present: nonZero,
		consume: varintConsume, decode: "$T(int64(x))", wide: "x", count: varintCount},
	kindUint32: {proto: "uint32", wire: protowire.VarintType, packed: true, mapKey: true,
		varint: "uint64($x)", size: varintSize, write: varintWrite, present: nonZero,
		consume: varintConsume, decode: "$T(uint32(x))", wide: "uint32(x)", count: varintCount},
	kindUint64: {proto: "uint64", wire: protowire.VarintType, packed: true, mapKey: true,
		varint: "uint64($x)", size: varintSize, write: varintWrite, present: nonZero,
		consume: varintConsume, decode: "$T(x)", wide: "x", count: varintCount},
	kindSint32: {proto: "sint32", wire: protowire.VarintType, packed: true, mapKey: true,
		varint: "$pw.EncodeZigZag(int64($x))", size: varintSize, write: varintWrite, present: nonZero,
		consume: varintConsume, decode: "$T(int32($pw.DecodeZigZag(x & $math.MaxUint32)))",
		wide: "int32($pw.DecodeZigZag(x & $math.MaxUint32))", count: varintCount},
	kindSint64: {proto: "sint64", wire: protowire.VarintType, packed: true, mapKey: true,
		varint: "$pw.EncodeZigZag(int64($x))", size: varintSize, write: varintWrite, present: nonZero,
		consume: varintConsume, decode: "$T($pw.DecodeZigZag(x))", wide: "x", count: varintCount},
	kindEnum: {proto: ".$pkg.$decl", wire: protowire.VarintType, packed: true,
		varint: "uint64(int64($x))", size: varintSize, write: varintWrite, present: nonZero,
		consume: varintConsume, decode: "$T(int32(x))", wide: "int32(x)", count: varintCount},
	kindFloat: {proto: "float", wire: protowire.Fixed32Type, packed: true,
		size: "4", write: "i = $rt.PutFixed32(b, i, $math.Float32bits(float32($x)))",
		present: "$x != 0 || $math.Signbit(float64($x))",
		consume: "x, n, err := $rt.ConsumeFixed32($buf)", decode: "$T($math.Float32frombits(x))", count: "len(packed) / 4"},
	kindDouble: {proto: "double", wire: protowire.Fixed64Type, packed: true,
		size: "8", write: "i = $rt.PutFixed64(b, i, $math.Float64bits(float64($x)))",
		present: "$x != 0 || $math.Signbit(float64($x))",
		consume: "x, n, err := $rt.ConsumeFixed64($buf)", decode: "$T($math.Float64frombits(x))", count: "len(packed) / 8"},
	kindString: {proto: "string", wire: protowire.BytesType, mapKey: true,
		size: bytesSize, write: "i = $rt.PutString(b, i, string($x))", present: "len($x) > 0",
		consume: "x, n, err := $rt.ConsumeText($buf, $name)", decode: "strs.String($end-len($buf), x)", decodeAs: types.Typ[types.String]},
	kindBytes: {proto: "bytes", wire: protowire.BytesType,
		size: bytesSize, write: "i = $rt.PutBytes(b, i, $x)", present: "len($x) > 0",
		consume: bytesConsume, decode: "$rt.CopyBytes(x)", decodeAs: types.NewSlice(types.Typ[types.Byte])},
	kindText: {proto: "string", wire: protowire.BytesType, texts: true,
		sizePre: "txt, err := $recv.MarshalText()\n", size: "$pw.SizeBytes(t.Add(txt, err, $name))",
		write:      "i = $rt.PutBytes(b, i, t.Pop())",
		consume:    "x, n, err := $rt.ConsumeText($buf, $name)",
		decodePost: "var tv $T\nif err := tv.UnmarshalText(x); err != nil {\nreturn $rt.TextError($name, err)\n}\n",
		decode:     "tv"},
	kindMessage: {proto: ".$pkg.$decl", wire: protowire.BytesType, message: true,
		size:    "$pw.SizeBytes(protoSize$msg($addr$texts))",
		write:   "end := i\ni = protoWrite$msg(b, i, $addr$texts)\ni = $rt.PutVarint(b, i, uint64(end-i))",
		present: "true",
		consume: bytesConsume, decode: consumedMessage + "x\x00$end-len($buf)"},
	kindTimestamp: {proto: ".google.protobuf.Timestamp", protoImport: "google/protobuf/timestamp.proto", wire: protowire.BytesType, message: true,
		size:    "$pw.SizeBytes($rt.SizeTimestamp($x))",
		write:   "end := i\ni = $rt.PutTimestamp(b, i, $x)\ni = $rt.PutVarint(b, i, uint64(end-i))",
		present: "!$x.IsZero()",
		consume: bytesConsume, decodePost: "t, err := $rt.ConsumeTimestamp(x)\nif err != nil {\nreturn err\n}\n", decode: "t"},
	kindDuration: {proto: ".google.protobuf.Duration", protoImport: "google/protobuf/duration.proto", wire: protowire.BytesType, message: true,
		size:    "$pw.SizeBytes($rt.SizeDuration($x))",
		write:   "end := i\ni = $rt.PutDuration(b, i, $x)\ni = $rt.PutVarint(b, i, uint64(end-i))",
		present: nonZero,
		consume: bytesConsume, decodePost: "d, err := $rt.ConsumeDuration(x)\nif err != nil {\nreturn err\n}\n",
		decode: "d", decodeAs: types.Typ[types.Int64]},
}

// info returns the kind's row.
func (k protoKind) info() *protoKindInfo {
	info, ok := protoKinds[k]
	if !ok {
		panic("codegen: the protobuf kind " + string(k) + " has no row in protoKinds")
	}
	return info
}

// wireTypeNames are the names of protowire's wire types, as generated code
// spells them after the package's name.
var wireTypeNames = map[protowire.Type]string{
	protowire.VarintType:  "VarintType",
	protowire.Fixed32Type: "Fixed32Type",
	protowire.Fixed64Type: "Fixed64Type",
	protowire.BytesType:   "BytesType",
}

// basicKindInfo is what the generator does with a Go basic type, and with
// a named type whose underlying type it is.
type basicKindInfo struct {
	// proto is the protobuf kind, and zigzag the kind with a
	// kit:"N,zigzag" tag (the same kind where the tag changes nothing);
	// both empty for a type gRPC does not carry. A named integer type
	// with constants is an enum instead (without the tag).
	proto, zigzag protoKind
	// narrow reports an integer type narrower than its protobuf kind:
	// reading it checks that the value fits.
	narrow bool
	// jsonType and format are the JSON Schema type and format of the
	// value encoding/json writes; minimum and maximum, when set, the
	// bounds encoding/json enforces when it reads a number into the type.
	jsonType, format string
	minimum, maximum any
	// param is how a path segment or a query parameter holds the value:
	// the parser and formatter of its paramKinds row, and their bit size.
	param Scalar
	// json is how the generated JSON codecs read and write the value.
	json *jsonKind
}

// protoKind returns the type's protobuf kind, with or without zigzag.
func (b *basicKindInfo) protoKind(zigzag bool) protoKind {
	if zigzag {
		return b.zigzag
	}
	return b.proto
}

// basicKinds is every Go basic type the loader accepts (types.Byte is
// types.Uint8 and types.Rune types.Int32).
var basicKinds = map[types.BasicKind]*basicKindInfo{
	types.Bool: {proto: kindBool, zigzag: kindBool, jsonType: "boolean",
		param: Scalar{Kind: "bool"}, json: jsonBool},
	types.Int: {proto: kindInt64, zigzag: kindSint64, jsonType: "integer", format: "int64",
		minimum: int64(math.MinInt64), maximum: int64(math.MaxInt64), param: Scalar{Kind: "int", Bits: 64}, json: jsonInt},
	types.Int8: {proto: kindInt32, zigzag: kindSint32, narrow: true, jsonType: "integer",
		minimum: math.MinInt8, maximum: math.MaxInt8, param: Scalar{Kind: "int", Bits: 8}, json: jsonInt},
	types.Int16: {proto: kindInt32, zigzag: kindSint32, narrow: true, jsonType: "integer",
		minimum: math.MinInt16, maximum: math.MaxInt16, param: Scalar{Kind: "int", Bits: 16}, json: jsonInt},
	types.Int32: {proto: kindInt32, zigzag: kindSint32, jsonType: "integer", format: "int32",
		minimum: math.MinInt32, maximum: math.MaxInt32, param: Scalar{Kind: "int", Bits: 32}, json: jsonInt},
	types.Int64: {proto: kindInt64, zigzag: kindSint64, jsonType: "integer", format: "int64",
		minimum: int64(math.MinInt64), maximum: int64(math.MaxInt64), param: Scalar{Kind: "int", Bits: 64}, json: jsonInt},
	types.Uint: {proto: kindUint64, zigzag: kindUint64, jsonType: "integer",
		minimum: 0, maximum: uint64(math.MaxUint64), param: Scalar{Kind: "uint", Bits: 64}, json: jsonUint},
	types.Uint8: {proto: kindUint32, zigzag: kindUint32, narrow: true, jsonType: "integer",
		minimum: 0, maximum: math.MaxUint8, param: Scalar{Kind: "uint", Bits: 8}, json: jsonUint},
	types.Uint16: {proto: kindUint32, zigzag: kindUint32, narrow: true, jsonType: "integer",
		minimum: 0, maximum: math.MaxUint16, param: Scalar{Kind: "uint", Bits: 16}, json: jsonUint},
	types.Uint32: {proto: kindUint32, zigzag: kindUint32, jsonType: "integer",
		minimum: 0, maximum: uint32(math.MaxUint32), param: Scalar{Kind: "uint", Bits: 32}, json: jsonUint},
	types.Uint64: {proto: kindUint64, zigzag: kindUint64, jsonType: "integer",
		minimum: 0, maximum: uint64(math.MaxUint64), param: Scalar{Kind: "uint", Bits: 64}, json: jsonUint},
	types.Uintptr: {jsonType: "integer", // not over gRPC
		minimum: 0, maximum: uint64(math.MaxUint64), param: Scalar{Kind: "uint", Bits: 64}, json: jsonUint},
	types.Float32: {proto: kindFloat, zigzag: kindFloat, jsonType: "number", format: "float",
		minimum: -math.MaxFloat32, maximum: math.MaxFloat32, param: Scalar{Kind: "float", Bits: 32}, json: jsonFloat32},
	types.Float64: {proto: kindDouble, zigzag: kindDouble, jsonType: "number", format: "double",
		param: Scalar{Kind: "float", Bits: 64}, json: jsonFloat64},
	types.String: {proto: kindString, zigzag: kindString, jsonType: "string",
		param: Scalar{Kind: "string"}, json: jsonString},
}

// jsonKind is how the generated JSON codecs (json.go) read and write a
// value of a kind. Its templates are filled with
//
//	$x     the value
//	$p     a pointer to the value
//	$s     the text of a ",string" field, and $start where it begins
//	$rt    the package genrt
//
// and run where d is the *genrt.JSONDecoder and w the *genrt.JSONWriter.
type jsonKind struct {
	// read is the statement that reads a value into $p; quotedRead the
	// statement that sets $p from the text $s of a ",string" field.
	read, quotedRead string
	// write is the statement that writes $x; quotedWrite the statements
	// that write it inside a string, for the ",string" option (empty
	// where the option changes nothing).
	write, quotedWrite string
	// present is the condition under which omitempty (and omitzero)
	// keep the value: encoding/json's test of an empty value (reflect's
	// IsZero for numbers, so -0.0 is empty and NaN is not).
	present string
}

// The JSON kinds of the basic types.
var (
	jsonBool = &jsonKind{read: "$rt.JSONBool(d, $p)", quotedRead: "$rt.QuotedBool(d, $p, $s)",
		write: "w.Bool(bool($x))", quotedWrite: "w.Byte('\"')\nw.Bool(bool($x))\nw.Byte('\"')", present: "bool($x)"}
	jsonInt = &jsonKind{read: "$rt.JSONInt(d, $p)", quotedRead: "$rt.QuotedInt(d, $p, $s, $start)",
		write: "w.Int(int64($x))", quotedWrite: "w.Byte('\"')\nw.Int(int64($x))\nw.Byte('\"')", present: "$x != 0"}
	jsonUint = &jsonKind{read: "$rt.JSONUint(d, $p)", quotedRead: "$rt.QuotedUint(d, $p, $s, $start)",
		write: "w.Uint(uint64($x))", quotedWrite: "w.Byte('\"')\nw.Uint(uint64($x))\nw.Byte('\"')", present: "$x != 0"}
	jsonFloat32 = &jsonKind{read: "$rt.JSONFloat(d, $p)", quotedRead: "$rt.QuotedFloat(d, $p, $s, $start)",
		write: "w.Float(float64($x), 32)", quotedWrite: "w.Byte('\"')\nw.Float(float64($x), 32)\nw.Byte('\"')",
		present: "$x != 0"}
	jsonFloat64 = &jsonKind{read: "$rt.JSONFloat(d, $p)", quotedRead: "$rt.QuotedFloat(d, $p, $s, $start)",
		write: "w.Float(float64($x), 64)", quotedWrite: "w.Byte('\"')\nw.Float(float64($x), 64)\nw.Byte('\"')",
		present: "$x != 0"}
	jsonString = &jsonKind{read: "$rt.JSONString(d, $p)", quotedRead: "$rt.QuotedString(d, $p, $s)",
		write: "w.String(string($x))", quotedWrite: "w.QuotedString(string($x))", present: "len($x) != 0"}
)

// basicOf returns the row of t's underlying type, or nil when that is not
// a basic type of the table.
func basicOf(t types.Type) *basicKindInfo {
	b, ok := t.Underlying().(*types.Basic)
	if !ok {
		return nil
	}
	return basicKinds[b.Kind()]
}

// basicSchema is the JSON Schema of a basic type's values.
func basicSchema(b *basicKindInfo) map[string]any {
	s := map[string]any{"type": b.jsonType}
	if b.format != "" {
		s["format"] = b.format
	}
	if b.minimum != nil {
		s["minimum"] = b.minimum
	}
	if b.maximum != nil {
		s["maximum"] = b.maximum
	}
	return s
}

// wellKnownType is a named type of another package that travels in a
// form of its own rather than by its underlying type or its methods.
type wellKnownType struct {
	// path and name are the type's package path and name.
	path, name string
	// kind is its protobuf kind.
	kind protoKind
	// schema returns its JSON Schema; nil for the schema of its methods
	// (json.RawMessage: any JSON value).
	schema func() map[string]any
	// text reports a type that a path segment or a query parameter holds
	// as its text (MarshalText and UnmarshalText); otherwise one holds it
	// as its underlying type, if at all.
	text bool
	// json is how the generated JSON codecs read and write it, as its
	// own methods do.
	json *jsonKind
}

// wellKnownTypes is every well-known type. These are neither message
// structs nor text types (see isText): each has its own row.
var wellKnownTypes = []*wellKnownType{
	{path: "time", name: "Time", kind: kindTimestamp, text: true, // RFC 3339, as in JSON
		schema: func() map[string]any { return map[string]any{"type": "string", "format": "date-time"} },
		json:   &jsonKind{read: "$rt.JSONTime(d, $p)", write: "w.Time($x)"}},
	{path: "time", name: "Duration", kind: kindDuration,
		schema: func() map[string]any {
			s := basicSchema(basicKinds[types.Int64])
			s["description"] = "A duration in nanoseconds."
			return s
		}, json: jsonInt},
	{path: "encoding/json", name: "RawMessage", kind: kindBytes, // the JSON text itself
		json: &jsonKind{read: "$rt.JSONRawMessage(d, $p)", write: "w.RawMessage($x)", present: "len($x) != 0"}},
}

// wellKnownOf returns the row of a well-known type, or nil for other types.
func wellKnownOf(t types.Type) *wellKnownType {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || n.Obj().Pkg() == nil {
		return nil
	}
	for _, w := range wellKnownTypes {
		if n.Obj().Pkg().Path() == w.path && n.Obj().Name() == w.name {
			return w
		}
	}
	return nil
}

// paramKind is how generated HTTP code parses and formats the value of a
// path segment or a query parameter of a scalar kind (Scalar.Kind). Its
// templates are filled with
//
//	$T      the Go type of the value
//	$x      the value to format
//	$recv   the value as a method's receiver: (*p) for *p
//	$tmp    the variable the formatting statements leave the text in
//	$key    the parameter's name, quoted
//	$bits   the scalar's bit size
//	$prefix the start of the error message of a bad value, quoted
//	$desc   the expression of a bad value's description
//	$rt $kit $strconv  the packages genrt, kit and strconv
type paramKind struct {
	// parse is the statements that parse the string v, returning the
	// error; empty when v is the value.
	parse string
	// value is the parsed value's expression, of the type $T; when as is
	// set, of that type, converted to $T where the two differ.
	value string
	// formatPre and format are the statements (returning any error) and
	// the string expression that format $x; when as is set, format is of
	// that type, $x converted to it where the two differ.
	formatPre, format string
	as                types.Type
	// zero is the literal of the zero value, which a query string leaves
	// out; empty for a kind whose empty text is left out instead.
	zero string
}

// paramKinds is every scalar kind of a path segment or a query parameter:
// those of basicKinds, and text for types with MarshalText and
// UnmarshalText (and well-known types that travel as their text).
var paramKinds = map[string]*paramKind{
	"string": {value: "v", format: "$x", as: types.Typ[types.String], zero: `""`},
	"bool": {parse: "x, err := $rt.ParseBool($key, v)\nif err != nil {\nreturn req, err\n}\n", value: "$T(x)",
		format: "$strconv.FormatBool(bool($x))", zero: "false"},
	"int": {parse: "x, err := $rt.ParseInt($key, v, $bits)\nif err != nil {\nreturn req, err\n}\n", value: "$T(x)",
		format: "$strconv.FormatInt(int64($x), 10)", zero: "0"},
	"uint": {parse: "x, err := $rt.ParseUint($key, v, $bits)\nif err != nil {\nreturn req, err\n}\n", value: "$T(x)",
		format: "$strconv.FormatUint(uint64($x), 10)", zero: "0"},
	"float": {parse: "x, err := $rt.ParseFloat($key, v, $bits)\nif err != nil {\nreturn req, err\n}\n", value: "$T(x)",
		format: "$strconv.FormatFloat(float64($x), 'g', -1, $bits)", zero: "0"},
	"text": {parse: "var x $T\nif err := x.UnmarshalText([]byte(v)); err != nil {\nreturn req, $kit.WrapError($kit.InvalidArgument, err, $prefix+$desc).WithViolations($kit.FieldViolation{Field: $key, Description: $desc})\n}\n",
		value:     "x",
		formatPre: "$tmp, err := $recv.MarshalText()\nif err != nil {\nreturn err\n}\n", format: "string($tmp)"},
}

// expand fills the $name placeholders of a code template, in the order
// they appear, with what arg returns for each name. arg is asked only for
// the names the template holds, so that a package is imported only where
// code uses it, and in the order the code names it; what it returns is
// not read again.
func expand(tmpl string, arg func(name string) string) string {
	out := make([]byte, 0, len(tmpl)+32)
	for i := 0; i < len(tmpl); {
		if tmpl[i] != '$' {
			out = append(out, tmpl[i])
			i++
			continue
		}
		j := i + 1
		for j < len(tmpl) && (tmpl[j] >= 'a' && tmpl[j] <= 'z' || tmpl[j] >= 'A' && tmpl[j] <= 'Z') {
			j++
		}
		out = append(out, arg(tmpl[i+1:j])...)
		i = j
	}
	return string(out)
}

// receiver spells a value expression as a method's receiver: (*p) for *p.
func receiver(x string) string {
	if len(x) > 0 && x[0] == '*' {
		return "(" + x + ")"
	}
	return x
}
