// Package interop proves that a service kitgen generates for gRPC is a real
// protobuf service: its tests exchange messages and calls with code that
// protoc, protoc-gen-go and protoc-gen-go-grpc generated from the emitted
// .proto (in pb/), and compare bytes with protobuf-go's.
package interop

import (
	"context"
	"time"
)

//go:generate go run github.com/typedkit/kit/codegen/cmd/kitgen -type Wire -transports grpc -q
//go:generate ./gen.sh

// Level is a named integer with constants: an enum.
type Level int32

// The levels.
const (
	LevelLow  Level = 1
	LevelHigh Level = 2
)

// Inner is a nested message.
type Inner struct {
	Name string `json:"name"`
	N    int32  `json:"n"`
}

// All has a field of every supported kind.
type All struct {
	B         bool              `json:"b"`
	I         int               `json:"i"`
	I8        int8              `json:"i8"`
	I16       int16             `json:"i16"`
	I32       int32             `json:"i32"`
	I64       int64             `json:"i64"`
	U         uint              `json:"u"`
	U8        uint8             `json:"u8"`
	U16       uint16            `json:"u16"`
	U32       uint32            `json:"u32"`
	U64       uint64            `json:"u64"`
	S32       int32             `json:"s32" kit:"40,zigzag"`
	S64       int64             `json:"s64" kit:"41,zigzag"`
	F32       float32           `json:"f32"`
	F64       float64           `json:"f64"`
	Str       string            `json:"str"`
	Bytes     []byte            `json:"bytes"`
	Inner     Inner             `json:"inner"`
	InnerPtr  *Inner            `json:"inner_ptr"`
	Inners    []Inner           `json:"inners"`
	InnerPtrs []*Inner          `json:"inner_ptrs"`
	Ints      []int64           `json:"ints"`
	Sints     []int32           `json:"sints" kit:"42,zigzag"`
	Floats    []float64         `json:"floats"`
	Strs      []string          `json:"strs"`
	Bools     []bool            `json:"bools"`
	Blobs     [][]byte          `json:"blobs"`
	MapSS     map[string]string `json:"map_ss"`
	MapIS     map[int32]string  `json:"map_is"`
	MapSM     map[string]Inner  `json:"map_sm"`
	MapBI     map[bool]int64    `json:"map_bi"`
	MapUP     map[uint64]*Inner `json:"map_up"`
	When      time.Time         `json:"when"`
	WhenPtr   *time.Time        `json:"when_ptr"`
	Dur       time.Duration     `json:"dur"`
	Level     Level             `json:"level"`
	Levels    []Level           `json:"levels"`
	OptI      *int64            `json:"opt_i"`
	OptS      *string           `json:"opt_s"`
	OptB      *bool             `json:"opt_b"`
	Skipped   string            `json:"-"`
}

// User is a representative message of 8 fields, for benchmarks.
type User struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Email   string    `json:"email"`
	Age     int32     `json:"age"`
	Admin   bool      `json:"admin"`
	Score   float64   `json:"score"`
	Tags    []string  `json:"tags"`
	Created time.Time `json:"created"`
}

// UserList is a list of users.
type UserList struct {
	Users []User `json:"users"`
}

// Wire echoes messages.
type Wire interface {
	// Echo returns its argument.
	Echo(ctx context.Context, a All) (All, error)
	// Count returns how many items there are.
	Count(ctx context.Context, items []string, prefix string) (int, error)
	// Users returns its argument.
	Users(ctx context.Context, list UserList) (UserList, error)
}
