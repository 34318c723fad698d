package conformance_test

import (
	"math"
	"strings"
	"time"

	"github.com/typedkit/kit/internal/conformance/shapes"
)

// The values the Go server expects and answers, by method and name. The
// Node client (js/values.js) holds the same values written as a protobuf
// client sees them; a case names the value the client sends and the value
// it asks for in reply.

func ptr[T any](v T) *T { return &v }

// allBytes is every byte value once.
func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

var scalarValues = map[string]shapes.Scalars{
	"zero": {},
	"max": {
		B: true, I: math.MaxInt64, I8: math.MaxInt8, I16: math.MaxInt16, I32: math.MaxInt32, I64: math.MaxInt64,
		U: math.MaxUint64, U8: math.MaxUint8, U16: math.MaxUint16, U32: math.MaxUint32, U64: math.MaxUint64,
		S32: math.MaxInt32, S64: math.MaxInt64, F32: math.MaxFloat32, F64: math.MaxFloat64,
		Str: "max", Bytes: []byte{0xff, 0xff, 0xff},
	},
	"min": {
		I: math.MinInt64, I8: math.MinInt8, I16: math.MinInt16, I32: math.MinInt32, I64: math.MinInt64,
		S32: math.MinInt32, S64: math.MinInt64, F32: math.SmallestNonzeroFloat32, F64: -math.MaxFloat64,
		Str: "", Bytes: []byte{0},
	},
	"negative": {
		I: -1, I8: -1, I16: -1, I32: -1, I64: -1, S32: -1, S64: -1, F32: -1.5, F64: -0.25,
		U: 1 << 63, U32: 1 << 31, U64: 1 << 63,
	},
	"unicode": {Str: "héllo, 世界 🌍 \u0000 end", Bytes: allBytes()},
	"nan":     {F32: float32(math.NaN()), F64: math.NaN()},
	"inf":     {F32: float32(math.Inf(1)), F64: math.Inf(-1)},
	"negzero": {F32: float32(math.Copysign(0, -1)), F64: math.Copysign(0, -1)},
}

var optionalValues = map[string]shapes.Optional{
	"absent": {},
	"zeros": {
		I: ptr[int64](0), U: ptr[uint32](0), S: ptr(""), B: ptr(false), F: ptr(0.0),
		Color: ptr(shapes.Color(0)), Inner: &shapes.Inner{}, When: ptr(time.Unix(0, 0).UTC()),
	},
	"set": {
		I: ptr[int64](-7), U: ptr[uint32](7), S: ptr("seven"), B: ptr(true), F: ptr(7.5),
		Color: ptr(shapes.ColorBlue), Inner: &shapes.Inner{Name: "in", N: 7},
		When: ptr(time.Date(2024, 2, 29, 23, 59, 59, 7, time.UTC)),
	},
}

var enumValues = map[string]shapes.Enums{
	"zero": {},
	"named": {
		Color:  shapes.ColorGreen,
		Colors: []shapes.Color{shapes.ColorRed, 0, shapes.ColorBlue, shapes.ColorRed},
		ByName: map[string]shapes.Color{"red": shapes.ColorRed, "none": 0, "blue": shapes.ColorBlue},
	},
	// Values without a constant: enums are open, they are kept.
	"unknown": {
		Color:  42,
		Colors: []shapes.Color{-1, 1000},
		ByName: map[string]shapes.Color{"big": math.MaxInt32, "negative": math.MinInt32},
	},
}

// chain is a list of n nodes linked by Next.
func chain(n int) *shapes.Node {
	var head *shapes.Node
	for i := n; i > 0; i-- {
		head = &shapes.Node{Name: strings.Repeat("n", i%5+1), Next: head}
	}
	return head
}

var treeValues = map[string]shapes.Node{
	"leaf": {Name: "leaf"},
	"tree": {Name: "root", Children: []*shapes.Node{
		{Name: "a", Children: []*shapes.Node{{Name: "a1"}, {Name: "a2", Next: &shapes.Node{Name: "a2next"}}}},
		{Name: "b"},
		{Name: "", Children: []*shapes.Node{{Name: "c1"}}},
	}},
	"deep": *chain(100),
}

var collectionValues = map[string]shapes.Collections{
	"empty": {},
	"full": {
		Strs:      []string{"a", "", "ü", "long " + strings.Repeat("x", 300)},
		Ints:      []int64{0, -1, 1, math.MaxInt64, math.MinInt64},
		Sints:     []int32{0, -1, 1, math.MaxInt32, math.MinInt32},
		U32s:      []uint32{0, 1, math.MaxUint32},
		Floats:    []float64{0, -1.5, math.MaxFloat64, math.Inf(1)},
		F32s:      []float32{1.25, -2.5, math.MaxFloat32},
		Bools:     []bool{true, false, true},
		Blobs:     [][]byte{{1, 2, 3}, {}, {0}},
		Inners:    []shapes.Inner{{Name: "x", N: 1}, {}, {Name: "z", N: -3}},
		InnerPtrs: []*shapes.Inner{{Name: "p", N: 1}, {Name: "q"}},
		MapSS:     map[string]string{"k": "v", "": "empty key", "empty value": ""},
		MapIS:     map[int32]string{0: "zero", -1: "minus one", math.MaxInt32: "max", math.MinInt32: "min"},
		MapUI:     map[uint64]int64{0: 1, math.MaxUint64: math.MinInt64},
		MapBI:     map[bool]int64{true: 1, false: -1},
		MapSM:     map[string]shapes.Inner{"one": {Name: "one", N: 1}, "zero": {}},
		MapSB:     map[string][]byte{"bytes": {0xde, 0xad}, "none": {}},
	},
}

// collectionRequests are what a protobuf.js client can send: protobuf.js
// encodes the keys of a map<bool, V> from the strings of a JavaScript
// object's keys, so a false key goes out as true (a protobuf.js
// limitation); the replies keep both keys.
var collectionRequests = func() map[string]shapes.Collections {
	m := map[string]shapes.Collections{}
	for k, v := range collectionValues {
		if v.MapBI != nil {
			v.MapBI = map[bool]int64{true: v.MapBI[true]}
		}
		m[k] = v
	}
	return m
}()

var timeValues = map[string]shapes.Times{
	"zero": {},
	"set": {
		When:    time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC),
		WhenPtr: ptr(time.Unix(-1, 500000000).UTC()),
		Dur:     1500 * time.Millisecond,
		Whens:   []time.Time{time.Unix(0, 0).UTC(), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		Durs:    []time.Duration{-1500 * time.Millisecond, 0, time.Nanosecond},
	},
	"edges": {
		When:    time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC),
		WhenPtr: ptr(time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)),
		Dur:     math.MaxInt64,
		Durs:    []time.Duration{math.MinInt64},
	},
}

var pageInnerValues = map[string]shapes.Page[shapes.Inner]{
	"empty": {},
	"two":   {Items: []shapes.Inner{{Name: "a", N: 1}, {Name: "b", N: 2}}, Next: "page 2"},
}

var pageStringValues = map[string]shapes.Page[string]{
	"empty": {},
	"two":   {Items: []string{"x", "y"}, Next: "page 3"},
}

var stringValues = map[string]string{"empty": "", "unicode": "héllo 🌍", "long": strings.Repeat("long ", 1000)}

var int64Values = map[string]int64{"zero": 0, "max": math.MaxInt64, "min": math.MinInt64}

var bytesValues = map[string][]byte{"empty": nil, "all": allBytes()}

var colorValues = map[string]shapes.Color{"zero": 0, "blue": shapes.ColorBlue, "unknown": 77}

var innerListValues = map[string][]shapes.Inner{
	"empty": nil,
	"three": {{Name: "a", N: 1}, {}, {Name: "c", N: math.MinInt32}},
}

var severalRequests = map[string]shapes.SeveralRequest{
	"zero": {},
	"set":  {A: "a", B: -2, C: []string{"c", ""}},
}

var severalResponses = map[string]shapes.SeveralResponse{
	"zero": {},
	"set":  {X: true, Y: -0.5},
}
