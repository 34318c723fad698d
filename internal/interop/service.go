// Package interop proves that a service kitgen generates for gRPC is a real
// protobuf service: its tests exchange messages and calls with code that
// protoc, protoc-gen-go and protoc-gen-go-grpc generated from the emitted
// .proto (in pb/), and compare bytes with protobuf-go's.
package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/netip"
	"strconv"
	"strings"
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

// Node is a recursive message: a chain through Next, a tree through
// Children.
type Node struct {
	Value    int64  `json:"value"`
	Next     *Node  `json:"next"`
	Children []Node `json:"children"`
}

// Decimal is a number with three decimals that travels as its text, such
// as "-12.345": its methods have pointer receivers.
type Decimal struct {
	milli int64
}

// NewDecimal returns the decimal of milli thousandths.
func NewDecimal(milli int64) Decimal { return Decimal{milli: milli} }

// MarshalText writes the decimal with three decimals.
func (d *Decimal) MarshalText() ([]byte, error) {
	sign, m := "", d.milli
	if m < 0 {
		sign, m = "-", -m
	}
	return fmt.Appendf(nil, "%s%d.%03d", sign, m/1000, m%1000), nil
}

// UnmarshalText reads what MarshalText writes.
func (d *Decimal) UnmarshalText(b []byte) error {
	whole, frac, ok := strings.Cut(string(b), ".")
	if !ok || len(frac) != 3 {
		return errors.New("want a number with three decimals")
	}
	neg := strings.HasPrefix(whole, "-")
	w, err := strconv.ParseInt(strings.TrimPrefix(whole, "-"), 10, 64)
	if err != nil {
		return err
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil || f < 0 {
		return errors.New("want a number with three decimals")
	}
	d.milli = w*1000 + f
	if neg {
		d.milli = -d.milli
	}
	return nil
}

// Base is embedded in Extra: its fields are Extra's, as in JSON.
type Base struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
}

// Meta is embedded in Extra through a pointer.
type Meta struct {
	Note string `json:"note"`
}

// Tags is a named slice.
type Tags []string

// Labels is a named map.
type Labels map[string]string

// Extra has the shapes that encoding/json gives their own form: embedded
// structs, types with MarshalText, raw JSON, named slices and maps.
type Extra struct {
	Base
	*Meta
	Addr   netip.Addr            `json:"addr"`
	Prefix *netip.Prefix         `json:"prefix"`
	Addrs  []netip.Addr          `json:"addrs"`
	ByName map[string]netip.Addr `json:"by_name"`
	Amount Decimal               `json:"amount"`
	Tags   Tags                  `json:"tags"`
	Labels Labels                `json:"labels"`
	Raw    json.RawMessage       `json:"raw"`
}

// ChargeRequest is the request of Charge.
type ChargeRequest struct {
	Amount int64 `json:"amount"`
}

// Charge is the result of Charge, a message named like the method.
type Charge struct {
	ID     string `json:"id"`
	Amount int64  `json:"amount"`
}

// TailRequest is the request of Tail.
type TailRequest struct {
	// Count is the number of users streamed.
	Count int32 `json:"count"`
	// Fail, when set, ends the stream after the users with a
	// FailedPrecondition error of this message.
	Fail string `json:"fail"`
}

// Wire echoes messages.
type Wire interface {
	// Echo returns its argument.
	Echo(ctx context.Context, a All) (All, error)
	// Count returns how many items there are.
	Count(ctx context.Context, items []string, prefix string) (int, error)
	// Users returns its argument.
	Users(ctx context.Context, list UserList) (UserList, error)
	// OneUser returns its argument.
	OneUser(ctx context.Context, u User) (User, error)
	// Chain returns its argument, a recursive message.
	Chain(ctx context.Context, n Node) (Node, error)
	// Extras returns its argument.
	Extras(ctx context.Context, e Extra) (Extra, error)
	// At returns the time it is given: a lone time request and result.
	At(ctx context.Context, t time.Time) (time.Time, error)
	// Later returns the time it is given, or nil.
	Later(ctx context.Context, t *time.Time) (*time.Time, error)
	// Wait returns the duration it is given.
	Wait(ctx context.Context, d time.Duration) (time.Duration, error)
	// Lookup returns the address it is given: a lone text request and
	// result.
	Lookup(ctx context.Context, addr netip.Addr) (netip.Addr, error)
	// Charge charges: an rpc named like its result message.
	Charge(ctx context.Context, req ChargeRequest) (Charge, error)
	// Tail streams the users a TailRequest asks for: a server stream.
	Tail(ctx context.Context, req TailRequest) (iter.Seq2[User, error], error)
	// Collect gathers the users it is sent into a list: a client stream.
	Collect(ctx context.Context, users iter.Seq2[User, error]) (UserList, error)
	// Relay answers each message with itself: a bidirectional stream of
	// messages with a field of every kind.
	Relay(ctx context.Context, in iter.Seq2[All, error]) (iter.Seq2[All, error], error)
}
