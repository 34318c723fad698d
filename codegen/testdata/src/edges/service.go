// Package edges declares a service with the shapes that need care: lone
// times and texts, types with their own text form, embedded structs,
// named slices and maps, recursive messages, a message named like a
// method, and a Validate method with a pointer receiver.
package edges

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"time"
)

// Tags is a named slice.
type Tags []string

// Labels is a named map.
type Labels map[string]string

// Code travels as its text: MarshalText has a value receiver,
// UnmarshalText a pointer one.
type Code struct {
	n int
}

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

// Base is embedded: its fields are promoted, as encoding/json promotes
// them.
type Base struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
}

// Audit is embedded through a pointer.
type Audit struct {
	By   string `json:"by"`
	Note string `json:"note"`
}

// Item has embedded structs, one of whose fields it hides.
type Item struct {
	Base
	*Audit
	Note   string                 `json:"note"`
	Code   Code                   `json:"code"`
	Codes  []Code                 `json:"codes"`
	Addr   *netip.Addr            `json:"addr"`
	Labels Labels                 `json:"labels"`
	Tags   Tags                   `json:"tags"`
	Raw    json.RawMessage        `json:"raw"`
	ByCode map[string]Code        `json:"by_code"`
	Nets   map[int32]netip.Prefix `json:"nets"`
}

// Tree is recursive.
type Tree struct {
	Name     string `json:"name"`
	Children []Tree `json:"children"`
	Parent   *Tree  `json:"parent"`
}

// ChargeRequest is the request of Charge.
type ChargeRequest struct {
	Amount int64 `json:"amount"`
}

// Charge is the result of Charge: protoc resolves it to the message, not
// the rpc, as the .proto names it in full.
type Charge struct {
	ID string `json:"id"`
}

// ReserveRequest validates itself with a pointer receiver.
type ReserveRequest struct {
	Seats int `json:"seats"`
}

// Validate checks the request.
func (r *ReserveRequest) Validate() error {
	if r.Seats <= 0 {
		return errors.New("seats must be positive")
	}
	return nil
}

// Filter is read from the query string; its embedded fields too.
type Filter struct {
	*Audit
	Tags  Tags       `json:"tags"`
	Codes []Code     `json:"codes"`
	Near  netip.Addr `json:"near"`
	Since *time.Time `json:"since"`
}

// Edges covers the shapes.
type Edges interface {
	// Now returns the time: a lone time result.
	Now(ctx context.Context) (time.Time, error)
	// At takes a lone time and returns a pointer to one.
	At(ctx context.Context, t time.Time) (*time.Time, error)
	// Sleep takes a lone duration.
	Sleep(ctx context.Context, d time.Duration) (time.Duration, error)
	// Resolve takes and returns a lone text type, from the path.
	//
	//kit:http GET /hosts/{addr}
	Resolve(ctx context.Context, addr netip.Addr) (netip.Prefix, error)
	// Find reads named slices and text types from the query.
	//
	//kit:http GET /items
	Find(ctx context.Context, f Filter) ([]Item, error)
	// Put takes an item whose embedded field fills the path.
	//
	//kit:http PUT /items/{id}
	Put(ctx context.Context, item Item) (Item, error)
	// Label sets the labels of a code.
	//
	//kit:http PUT /codes/{code}/labels
	Label(ctx context.Context, code Code, labels Labels, tags Tags) (Labels, error)
	// Grow returns a recursive message.
	Grow(ctx context.Context, t Tree) (Tree, error)
	// Charge is an rpc named like its result.
	Charge(ctx context.Context, req ChargeRequest) (Charge, error)
	// Reserve validates with a pointer receiver.
	Reserve(ctx context.Context, req ReserveRequest) (int, error)
}
