// Package extra is the second service of the conformance suite, kept
// apart from package shapes so that it can be switched off on its own:
// well-known types as a whole request or result, encoding.TextMarshaler
// types, embedded structs, and a message named like a method.
// TestNodeGRPCClientExtra calls it as TestNodeGRPCClient calls package
// shapes.
package extra

import (
	"context"
	"net/netip"
	"time"
)

//go:generate go tool kitgen -type Extra -transports http,grpc -openapi-license MIT -q

// Net has encoding.TextMarshaler fields: strings on the wire, as in JSON.
type Net struct {
	Addr   netip.Addr   `json:"addr"`
	Prefix netip.Prefix `json:"prefix"`
	Addrs  []netip.Addr `json:"addrs"`
	Opt    *netip.Addr  `json:"opt"`
}

// Base is embedded in Derived.
type Base struct {
	ID  string `json:"id"`
	Seq int64  `json:"seq"`
}

// Derived embeds Base: its fields are Derived's, as encoding/json has
// them.
type Derived struct {
	Base
	Extra string `json:"extra"`
}

// Charge is a message named like the method that returns it.
type Charge struct {
	Amount int64 `json:"amount"`
}

// ChargeRequest is the request of Charge.
type ChargeRequest struct {
	Card string `json:"card"`
}

// Extra is the conformance suite's second service.
type Extra interface {
	// EchoTime takes and returns a lone time.
	EchoTime(ctx context.Context, t time.Time) (time.Time, error)
	// EchoTimePtr takes and returns a lone pointer to a time.
	EchoTimePtr(ctx context.Context, t *time.Time) (*time.Time, error)
	// EchoDuration takes and returns a lone duration.
	EchoDuration(ctx context.Context, d time.Duration) (time.Duration, error)
	// Addrs takes and returns TextMarshaler fields.
	Addrs(ctx context.Context, n Net) (Net, error)
	// Lookup takes and returns a lone TextMarshaler.
	Lookup(ctx context.Context, addr netip.Addr) (netip.Addr, error)
	// Embedded takes and returns a struct with an embedded struct.
	Embedded(ctx context.Context, d Derived) (Derived, error)
	// Charge returns a message named like itself.
	Charge(ctx context.Context, r ChargeRequest) (Charge, error)
}
