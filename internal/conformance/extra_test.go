package conformance_test

import (
	"context"
	"math"
	"net/netip"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/typedkit/kit/internal/conformance/extra"
)

// The values of package extra's methods; js/extra.js holds them as a
// protobuf client writes them.

var timeAlone = map[string]time.Time{
	"zero":  {},
	"epoch": time.Unix(0, 0).UTC(),
	"set":   time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC),
}

var timePtrAlone = map[string]*time.Time{
	"nil":   nil,
	"epoch": ptr(time.Unix(0, 0).UTC()),
	"set":   ptr(time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)),
}

var durationAlone = map[string]time.Duration{"zero": 0, "negative": -1500 * time.Millisecond, "max": math.MaxInt64}

var netValues = map[string]extra.Net{
	"zero": {},
	"set": {
		Addr:   netip.MustParseAddr("192.0.2.1"),
		Prefix: netip.MustParsePrefix("198.51.100.0/24"),
		Addrs:  []netip.Addr{netip.MustParseAddr("::1"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("10.0.0.1")},
		Opt:    ptr(netip.MustParseAddr("fe80::1%eth0")),
	},
}

var addrAlone = map[string]netip.Addr{"zero": {}, "v6": netip.MustParseAddr("2001:db8::1")}

var derivedValues = map[string]extra.Derived{
	"zero": {},
	"set":  {Base: extra.Base{ID: "b1", Seq: -5}, Extra: "x"},
}

var chargeRequests = map[string]extra.ChargeRequest{"zero": {}, "card": {Card: "4242 4242"}}

var charges = map[string]extra.Charge{"zero": {}, "paid": {Amount: 1999}}

// extraServer is the suite's implementation of extra.Extra.
type extraServer struct{ rec *recorder }

var _ extra.Extra = extraServer{}

func (s extraServer) EchoTime(ctx context.Context, v time.Time) (time.Time, error) {
	return answer(ctx, s.rec, "EchoTime", timeAlone, timeAlone, v)
}

func (s extraServer) EchoTimePtr(ctx context.Context, v *time.Time) (*time.Time, error) {
	return answer(ctx, s.rec, "EchoTimePtr", timePtrAlone, timePtrAlone, v)
}

func (s extraServer) EchoDuration(ctx context.Context, v time.Duration) (time.Duration, error) {
	return answer(ctx, s.rec, "EchoDuration", durationAlone, durationAlone, v)
}

func (s extraServer) Addrs(ctx context.Context, v extra.Net) (extra.Net, error) {
	return answer(ctx, s.rec, "Addrs", netValues, netValues, v)
}

func (s extraServer) Lookup(ctx context.Context, v netip.Addr) (netip.Addr, error) {
	return answer(ctx, s.rec, "Lookup", addrAlone, addrAlone, v)
}

func (s extraServer) Embedded(ctx context.Context, v extra.Derived) (extra.Derived, error) {
	return answer(ctx, s.rec, "Embedded", derivedValues, derivedValues, v)
}

func (s extraServer) Charge(ctx context.Context, v extra.ChargeRequest) (extra.Charge, error) {
	return answer(ctx, s.rec, "Charge", chargeRequests, charges, v)
}

// TestNodeGRPCClientExtra is TestNodeGRPCClient for package extra.
func TestNodeGRPCClientExtra(t *testing.T) {
	t.Parallel()
	node := requireNode(t)
	rec := newRecorder()
	addr := serveGRPC(t, func(s *grpc.Server) {
		extra.RegisterGRPC(s, extra.NewEndpoints(extraServer{rec}, extra.Middlewares{}), serverFaults(t))
	})
	runNodeClient(t, node, addr, "extra/extra.proto", extra.GRPCServiceName, "extra")
	rec.covers(t, map[string][2][]string{
		"EchoTime":     {keys(timeAlone), keys(timeAlone)},
		"EchoTimePtr":  {keys(timePtrAlone), keys(timePtrAlone)},
		"EchoDuration": {keys(durationAlone), keys(durationAlone)},
		"Addrs":        {keys(netValues), keys(netValues)},
		"Lookup":       {keys(addrAlone), keys(addrAlone)},
		"Embedded":     {keys(derivedValues), keys(derivedValues)},
		"Charge":       {keys(chargeRequests), keys(charges)},
	})
}
