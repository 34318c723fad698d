// Package shapes is the service of the conformance suite: one method per
// shape of request and response the generator supports, served by the
// suite's gRPC server and called by clients that typedkit did not write.
package shapes

import (
	"context"
	"time"
)

//go:generate go tool kitgen -type Shapes -transports http,grpc -openapi-license MIT -q

// Color is an enum: a named integer with constants.
type Color int32

// The colors. Zero has no constant: the .proto names it
// COLOR_UNSPECIFIED.
const (
	ColorRed   Color = 1
	ColorGreen Color = 2
	ColorBlue  Color = 3
)

// Inner is a nested message.
type Inner struct {
	Name string `json:"name"`
	N    int32  `json:"n"`
}

// Scalars has a field of every scalar kind.
type Scalars struct {
	B     bool    `json:"b"`
	I     int     `json:"i"`
	I8    int8    `json:"i8"`
	I16   int16   `json:"i16"`
	I32   int32   `json:"i32"`
	I64   int64   `json:"i64"`
	U     uint    `json:"u"`
	U8    uint8   `json:"u8"`
	U16   uint16  `json:"u16"`
	U32   uint32  `json:"u32"`
	U64   uint64  `json:"u64"`
	S32   int32   `json:"s32" kit:"30,zigzag"`
	S64   int64   `json:"s64" kit:"31,zigzag"`
	F32   float32 `json:"f32"`
	F64   float64 `json:"f64"`
	Str   string  `json:"str"`
	Bytes []byte  `json:"bytes"`
}

// Optional has fields with presence: a nil pointer is absent, a pointer
// to a zero value is present.
type Optional struct {
	I     *int64     `json:"i"`
	U     *uint32    `json:"u"`
	S     *string    `json:"s"`
	B     *bool      `json:"b"`
	F     *float64   `json:"f"`
	Color *Color     `json:"color"`
	Inner *Inner     `json:"inner"`
	When  *time.Time `json:"when"`
}

// Enums holds enum values alone, repeated and in a map.
type Enums struct {
	Color  Color            `json:"color"`
	Colors []Color          `json:"colors"`
	ByName map[string]Color `json:"by_name"`
}

// Node is a recursive message.
type Node struct {
	Name     string  `json:"name"`
	Children []*Node `json:"children"`
	Next     *Node   `json:"next"`
}

// Collections has repeated fields and maps of every kind of element.
type Collections struct {
	Strs      []string          `json:"strs"`
	Ints      []int64           `json:"ints"`
	Sints     []int32           `json:"sints" kit:"30,zigzag"`
	U32s      []uint32          `json:"u32s"`
	Floats    []float64         `json:"floats"`
	F32s      []float32         `json:"f32s"`
	Bools     []bool            `json:"bools"`
	Blobs     [][]byte          `json:"blobs"`
	Inners    []Inner           `json:"inners"`
	InnerPtrs []*Inner          `json:"inner_ptrs"`
	MapSS     map[string]string `json:"map_ss"`
	MapIS     map[int32]string  `json:"map_is"`
	MapUI     map[uint64]int64  `json:"map_ui"`
	MapBI     map[bool]int64    `json:"map_bi"`
	MapSM     map[string]Inner  `json:"map_sm"`
	MapSB     map[string][]byte `json:"map_sb"`
}

// Times has the well-known types: google.protobuf.Timestamp and
// google.protobuf.Duration.
type Times struct {
	When    time.Time       `json:"when"`
	WhenPtr *time.Time      `json:"when_ptr"`
	Dur     time.Duration   `json:"dur"`
	Whens   []time.Time     `json:"whens"`
	Durs    []time.Duration `json:"durs"`
}

// Page is a generic type; the methods use its instantiations.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next"`
}

// Shapes is the conformance suite's service: every method answers with
// the value its client asks for, after checking the request against the
// value the client says it sent.
type Shapes interface {
	// Scalars takes and returns every scalar kind.
	Scalars(ctx context.Context, s Scalars) (Scalars, error)
	// Optional takes and returns fields with presence.
	Optional(ctx context.Context, o Optional) (Optional, error)
	// Enums takes and returns enum values.
	Enums(ctx context.Context, e Enums) (Enums, error)
	// Tree takes and returns a recursive message.
	Tree(ctx context.Context, n Node) (Node, error)
	// Collections takes and returns repeated fields and maps.
	Collections(ctx context.Context, c Collections) (Collections, error)
	// Times takes and returns timestamps and durations.
	Times(ctx context.Context, t Times) (Times, error)
	// Generic takes one instantiation of a generic type and returns
	// another.
	Generic(ctx context.Context, p Page[Inner]) (Page[string], error)
	// Length takes a lone scalar and returns one.
	Length(ctx context.Context, s string) (int64, error)
	// Blob takes and returns lone bytes.
	Blob(ctx context.Context, b []byte) ([]byte, error)
	// Shade takes and returns a lone enum.
	Shade(ctx context.Context, c Color) (Color, error)
	// List takes and returns a lone slice of messages.
	List(ctx context.Context, items []Inner) ([]Inner, error)
	// Several takes several parameters and returns several results.
	Several(ctx context.Context, a string, b int32, c []string) (x bool, y float64, err error)
	// Ping takes and returns nothing.
	Ping(ctx context.Context) error
	// Fail answers the error of the kit code it is given, with
	// violations field violations.
	Fail(ctx context.Context, code string, violations int32) error
}
