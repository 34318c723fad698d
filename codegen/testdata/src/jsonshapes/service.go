// Package jsonshapes declares a service whose request and response hold
// every shape the generated JSON codecs handle, and the shapes they leave
// to encoding/json, for the differential test of the codecs against
// encoding/json (FuzzJSONCodecs of genrt/internal/jsondiff).
package jsonshapes

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Shapes echoes values through the generated JSON codecs.
type Shapes interface {
	// Echo returns a value.
	//
	//kit:http POST /echo
	Echo(ctx context.Context, in All) (All, error)

	// Pair takes two arguments, so its request is generated.
	//
	//kit:http POST /pair
	Pair(ctx context.Context, name string, tags []string) (*Inner, error)

	// Count returns a lone number.
	//
	//kit:http POST /count
	Count(ctx context.Context, in *Inner) (int, error)
}

// Level is a named integer.
type Level int

// Name is a named string, also a map key.
type Name string

// Tags is a named slice.
type Tags []string

// Bytes is a named []byte: base64, as []byte.
type Bytes []byte

// Inner is a nested struct, recursive through a pointer.
type Inner struct {
	A    int    `json:"a"`
	B    string `json:"b,omitempty"`
	Deep *Inner `json:"deep,omitempty"`
}

// Base is embedded by value.
type Base struct {
	ID     string `json:"id"`
	Shared string `json:"shared"`
	Tagged string `json:"tagged"`
}

// Extra is embedded through a pointer; its Shared clashes with Base's at
// the same depth, so neither is a field of All, and its Tagged loses to
// Base's tagged one... both are tagged, so they hide each other too.
type Extra struct {
	Note   string `json:"note"`
	Shared string `json:"shared"`
	Tagged string `json:"tagged"`
}

// Text travels as its text: MarshalText has a value receiver,
// UnmarshalText a pointer one.
type Text struct{ v string }

// MarshalText writes the text.
func (t Text) MarshalText() ([]byte, error) { return []byte(t.v), nil }

// UnmarshalText reads the text; "bad" is refused.
func (t *Text) UnmarshalText(b []byte) error {
	if string(b) == "bad" {
		return errors.New("bad text")
	}
	t.v = string(b)
	return nil
}

// PtrJSON has MarshalJSON on its pointer: encoding/json calls it only for
// addressable values, and writes the struct by its fields otherwise.
type PtrJSON struct {
	N int `json:"n"`
}

// MarshalJSON writes the number as a string.
func (p *PtrJSON) MarshalJSON() ([]byte, error) { return json.Marshal("n=" + itoa(p.N)) }

// UnmarshalJSON reads what MarshalJSON writes, or an object.
func (p *PtrJSON) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var o struct{ N int }
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		p.N = o.N
		return nil
	}
	n, ok := strings.CutPrefix(s, "n=")
	if !ok {
		return errors.New("want n=<number>")
	}
	p.N = len(n)
	return nil
}

// ValJSON has MarshalJSON on its value, with whitespace and HTML
// characters that encoding/json compacts and escapes.
type ValJSON struct{ S string }

// MarshalJSON writes the string in an object.
func (v ValJSON) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(v.S)
	return append(append([]byte(`{ "s" : `), b...), " , \"<>\": 1 }"...), err
}

// UnmarshalJSON reads what MarshalJSON writes.
func (v *ValJSON) UnmarshalJSON(b []byte) error {
	var o struct{ S string }
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	v.S = o.S
	return nil
}

// Key is a map key with its own text.
type Key struct{ k string }

// MarshalText writes the key.
func (k Key) MarshalText() ([]byte, error) { return []byte("k:" + k.k), nil }

// UnmarshalText reads the key.
func (k *Key) UnmarshalText(b []byte) error { k.k = strings.TrimPrefix(string(b), "k:"); return nil }

// Page is generic.
type Page[T any] struct {
	Items []T  `json:"items"`
	Next  *int `json:"next,omitempty"`
}

// Deeper is embedded below Nested, so its field is promoted two levels.
type Deeper struct {
	Depth int `json:"depth"`
}

// Nested is embedded by value and embeds Deeper through a pointer.
type Nested struct {
	*Deeper
	Level2 string `json:"level2"`
}

// All holds every shape.
type All struct {
	Base
	*Extra
	Nested

	Bool bool    `json:"bool"`
	Int  int     `json:"int"`
	I8   int8    `json:"i8"`
	I16  int16   `json:"i16"`
	I32  int32   `json:"i32"`
	I64  int64   `json:"i64"`
	Uint uint    `json:"uint"`
	U8   uint8   `json:"u8"`
	U16  uint16  `json:"u16"`
	U32  uint32  `json:"u32"`
	U64  uint64  `json:"u64"`
	Uptr uintptr `json:"uptr"`
	F32  float32 `json:"f32"`
	F64  float64 `json:"f64"`
	Str  string  `json:"str"`
	HTML string  `json:"<html&>"`
	// Kelvin's name folds with the Kelvin sign (U+212A) and with "KELVIN".
	Kelvin    string `json:"kelvin"`
	Untagged  int
	Level     Level          `json:"level"`
	Name      Name           `json:"name,omitempty"`
	OmitInt   int            `json:",omitempty"`
	OmitFloat float64        `json:"omitf,omitempty"`
	OmitBool  bool           `json:"omitb,omitempty"`
	OmitZero  int            `json:"omitz,omitzero"`
	OmitSlice []int          `json:"omits,omitempty"`
	OmitMap   map[string]int `json:"omitm,omitempty"`
	ZeroSlice []int          `json:"zeros,omitzero"`
	ZeroTime  time.Time      `json:"zerot,omitzero"`
	ZeroPtr   *Inner         `json:"zerop,omitzero"`
	OmitArr   [0]int         `json:"omita,omitempty"`

	QInt   int     `json:"qint,string"`
	QBool  bool    `json:"qbool,string"`
	QStr   string  `json:"qstr,string"`
	QF64   float64 `json:"qf64,string"`
	QU8    uint8   `json:"qu8,string"`
	QPtr   *int    `json:"qptr,string"`
	QOmit  int     `json:"qomit,omitempty,string"`
	QSlice []int   `json:"qslice,string"`

	PInt   *int    `json:"pint"`
	PStr   *string `json:"pstr,omitempty"`
	PP     **int   `json:"pp"`
	PLevel *Level  `json:"plevel"`

	Bytes      []byte  `json:"bytes"`
	NamedBytes Bytes   `json:"nbytes"`
	ByteArr    [4]byte `json:"barr"`

	Ints    []int       `json:"ints"`
	Tags    Tags        `json:"tags"`
	Arr     [3]int      `json:"arr"`
	Strs    []string    `json:"strs,omitempty"`
	Matrix  [][]int     `json:"matrix"`
	Inner   Inner       `json:"inner"`
	PInner  *Inner      `json:"pinner"`
	Inners  []Inner     `json:"inners"`
	PInners []*Inner    `json:"pinners"`
	Page    Page[Inner] `json:"page"`

	MapStr  map[string]int    `json:"mapstr"`
	MapName map[Name]Inner    `json:"mapname"`
	MapInt  map[int]string    `json:"mapint"`
	MapI8   map[int8]bool     `json:"mapi8"`
	MapU16  map[uint16]string `json:"mapu16"`
	MapText map[Key]int       `json:"maptext"`
	MapPtr  map[string]*Inner `json:"mapptr"`
	MapList map[string][]int  `json:"maplist"`

	Time  time.Time        `json:"time"`
	PTime *time.Time       `json:"ptime"`
	Dur   time.Duration    `json:"dur"`
	Raw   json.RawMessage  `json:"raw"`
	PRaw  *json.RawMessage `json:"praw"`
	Num   json.Number      `json:"num"`

	Any   any                `json:"any"`
	Err   error              `json:"err"`
	Text  Text               `json:"text"`
	PText *Text              `json:"ptext"`
	Texts []Text             `json:"texts"`
	PJ    PtrJSON            `json:"pj"`
	PJs   []PtrJSON          `json:"pjs"`
	PJMap map[string]PtrJSON `json:"pjmap"`
	VJ    ValJSON            `json:"vj"`
	Anon  struct {
		X int `json:"x"`
	} `json:"anon"`

	Skip   string `json:"-"`
	Dash   string `json:"-,"`
	hidden int
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	var b []byte
	for n != 0 {
		d := n % 10
		if d < 0 {
			d = -d
		}
		b = append([]byte{byte('0' + d)}, b...)
		n /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}
