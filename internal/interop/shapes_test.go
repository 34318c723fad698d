package interop

import (
	"context"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/internal/interop/pb"
)

// chain returns a list of depth nodes through Next.
func chain(depth int) Node {
	next := &Node{Value: int64(depth)}
	for i := depth - 1; i > 0; i-- {
		next = &Node{Value: int64(i), Next: next}
	}
	return *next
}

// pbChain is chain for protobuf-go.
func pbChain(depth int) *pb.Node {
	n := &pb.Node{Value: int64(depth)}
	for i := depth - 1; i > 0; i-- {
		n = &pb.Node{Value: int64(i), Next: n}
	}
	return n
}

func toPBNode(n *Node) *pb.Node {
	if n == nil {
		return nil
	}
	m := &pb.Node{Value: n.Value, Next: toPBNode(n.Next)}
	for i := range n.Children {
		m.Children = append(m.Children, toPBNode(&n.Children[i]))
	}
	return m
}

func marshalNode(n Node) []byte {
	b, err := (&protoWireNode{v: &n}).MarshalProtoWire(nil)
	if err != nil {
		panic(err)
	}
	return b
}

func unmarshalNode(b []byte) (Node, error) {
	w := &protoWireNode{}
	err := w.UnmarshalProtoWire(b)
	return *w.v, err
}

// Recursive messages, deep and wide, come out as protobuf-go writes them,
// and each side reads the other's.
func TestRecursiveBytesEqualProtobufGo(t *testing.T) {
	t.Parallel()
	tree := Node{Value: 1, Children: []Node{{Value: 2, Children: []Node{{Value: 4}}}, {Value: 3, Next: &Node{Value: 5}}}}
	cases := map[string]Node{
		"one":          chain(1),
		"ten":          chain(10),
		"thousand":     chain(1000),
		"8000":         chain(8000),
		"tree":         tree,
		"long lengths": {Value: 1, Children: make([]Node, 300)},
	}
	for name, n := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want, err := deterministic.Marshal(toPBNode(&n))
			require.NoError(t, err)
			got := marshalNode(n)
			require.Equal(t, want, got)
			var m pb.Node
			require.NoError(t, proto.UnmarshalOptions{RecursionLimit: 20000}.Unmarshal(got, &m))
			back, err := unmarshalNode(want)
			require.NoError(t, err)
			assert.Equal(t, got, marshalNode(back))
		})
	}
}

// Generated decoders refuse messages nested deeper than protobuf-go's
// limit, as protobuf-go does, with InvalidArgument; up to it they read
// what protobuf-go reads.
func TestRecursionLimit(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		depth int
		ok    bool
	}{{9999, true}, {10000, true}, {10001, false}, {30000, false}} {
		b := marshalNode(chain(tt.depth))
		_, err := unmarshalNode(b)
		pbErr := proto.Unmarshal(b, &pb.Node{})
		if tt.ok {
			assert.NoError(t, err, "depth %d", tt.depth)
			assert.NoError(t, pbErr, "depth %d", tt.depth)
			continue
		}
		require.Error(t, err, "depth %d", tt.depth)
		assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err))
		assert.Error(t, pbErr, "protobuf-go refuses depth %d too", tt.depth)
	}

	// A Timestamp counts as a level, as it is a message for protobuf-go.
	deepest := func(depth int) []byte {
		n := chain(depth - 1)
		last := &n
		for last.Next != nil {
			last = last.Next
		}
		last.Children = []Node{{Value: 1}}
		return marshalNode(n)
	}
	_, err := unmarshalNode(deepest(10000))
	assert.NoError(t, err)
	_, err = unmarshalNode(deepest(10001))
	assert.Error(t, err)
}

func extraCases() map[string]Extra {
	pfx := netip.MustParsePrefix("10.0.0.0/8")
	zeroPfx := netip.Prefix{}
	return map[string]Extra{
		"zero":                         {},
		"embedded":                     {Base: Base{ID: "x", Created: time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)}, Meta: &Meta{Note: "n"}},
		"embedded pointer set to zero": {Meta: &Meta{}},
		"text": {Addr: netip.MustParseAddr("2001:db8::1"), Prefix: &pfx, Addrs: []netip.Addr{netip.MustParseAddr("1.2.3.4"), {}},
			ByName: map[string]netip.Addr{"b": netip.MustParseAddr("::1"), "a": {}}, Amount: NewDecimal(-12345)},
		"present empty text": {Prefix: &zeroPfx},
		"named":              {Tags: Tags{"a", ""}, Labels: Labels{"k": "v"}, Raw: json.RawMessage(`{"a":[1,2]}`)},
	}
}

func textOf(v interface{ MarshalText() ([]byte, error) }) string {
	b, _ := v.MarshalText()
	return string(b)
}

func toPBExtra(e Extra) *pb.Extra {
	m := &pb.Extra{Id: e.ID, Addr: textOf(e.Addr), Amount: textOf(&e.Amount), Tags: e.Tags, Labels: e.Labels, Raw: e.Raw}
	if !e.Created.IsZero() {
		m.Created = timestamppb.New(e.Created)
	}
	if e.Meta != nil {
		m.Note = e.Note
	}
	if e.Prefix != nil {
		s := textOf(e.Prefix)
		m.Prefix = &s
	}
	for _, a := range e.Addrs {
		m.Addrs = append(m.Addrs, textOf(a))
	}
	if e.ByName != nil {
		m.ByName = map[string]string{}
		for k, a := range e.ByName {
			m.ByName[k] = textOf(a)
		}
	}
	return m
}

// Embedded structs, text types, raw JSON and named slices and maps come
// out as protobuf-go writes the .proto's messages, and read back.
func TestExtraBytesEqualProtobufGo(t *testing.T) {
	t.Parallel()
	for name, e := range extraCases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want, err := deterministic.Marshal(toPBExtra(e))
			require.NoError(t, err)
			got, err := (&protoWireExtra{v: &e}).MarshalProtoWire(nil)
			require.NoError(t, err)
			assert.Equal(t, want, got)

			w := &protoWireExtra{}
			require.NoError(t, w.UnmarshalProtoWire(want))
			again, err := w.MarshalProtoWire(nil)
			require.NoError(t, err)
			assert.Equal(t, want, again)
			if e.Meta != nil && e.Note != "" {
				require.NotNil(t, w.v.Meta, "the embedded pointer is allocated when its field arrives")
			}
		})
	}
	// An empty message leaves the embedded pointer nil, as JSON does.
	w := &protoWireExtra{}
	require.NoError(t, w.UnmarshalProtoWire(nil))
	assert.Nil(t, w.v.Meta)
}

// A text its type refuses, and one that is not UTF-8, are InvalidArgument.
func TestMalformedText(t *testing.T) {
	t.Parallel()
	field := func(num protowire.Number, s string) []byte {
		return protowire.AppendString(protowire.AppendTag(nil, num, protowire.BytesType), s)
	}
	for name, b := range map[string][]byte{
		"not an address": field(4, "not an address"),
		"bad decimal":    field(8, "1.5"),
		"not utf-8":      field(4, "\xff"),
		"bad prefix":     field(5, "10.0.0.0/99"),
		"bad list item":  field(6, "x"),
		"bad map value":  protowire.AppendBytes(protowire.AppendTag(nil, 7, protowire.BytesType), append(field(1, "k"), field(2, "x")...)),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := (&protoWireExtra{}).UnmarshalProtoWire(b)
			require.Error(t, err)
			assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err), "%v", err)
		})
	}
}

// A protoc-generated client calls the methods whose request or result is
// a lone time, duration or text, and the rpc named like its result.
func TestProtocClientCallsLoneValues(t *testing.T) {
	t.Parallel()
	conn := dial(t, func(s *grpc.Server) { RegisterGRPC(s, NewEndpoints(echo{}, Middlewares{})) })
	client := pb.NewWireClient(conn)
	ctx := context.Background()
	when := time.Date(2024, 2, 29, 12, 0, 0, 5, time.UTC)

	at, err := client.At(ctx, &pb.AtRequest{T: timestamppb.New(when)})
	require.NoError(t, err)
	assert.True(t, at.GetValue().AsTime().Equal(when))

	later, err := client.Later(ctx, &pb.LaterRequest{})
	require.NoError(t, err)
	assert.Nil(t, later.Value, "a nil time stays absent")
	later, err = client.Later(ctx, &pb.LaterRequest{T: timestamppb.New(time.Unix(0, 0))})
	require.NoError(t, err)
	require.NotNil(t, later.Value, "the zero Unix time is present")

	wait, err := client.Wait(ctx, &pb.WaitRequest{D: durationpb.New(-1500 * time.Millisecond)})
	require.NoError(t, err)
	assert.Equal(t, -1500*time.Millisecond, wait.GetValue().AsDuration())

	addr, err := client.Lookup(ctx, &pb.LookupRequest{Addr: "192.0.2.1"})
	require.NoError(t, err)
	assert.Equal(t, "192.0.2.2", addr.GetValue())
	_, err = client.Lookup(ctx, &pb.LookupRequest{Addr: "no address"})
	assert.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)

	ch, err := client.Charge(ctx, &pb.ChargeRequest{Amount: 7})
	require.NoError(t, err)
	assert.Equal(t, "ch_1", ch.GetId())
	assert.Equal(t, int64(7), ch.GetAmount())

	for name, e := range extraCases() {
		got, err := client.Extras(ctx, toPBExtra(e))
		require.NoError(t, err, name)
		assert.True(t, proto.Equal(toPBExtra(e), got), "%s: %v", name, got)
	}
	n, err := client.Chain(ctx, pbChain(1000))
	require.NoError(t, err)
	assert.True(t, proto.Equal(pbChain(1000), n))
}

// The generated client calls a protoc-generated server with lone values.
func TestGeneratedClientCallsProtocServerWithLoneValues(t *testing.T) {
	t.Parallel()
	conn := dial(t, func(s *grpc.Server) { pb.RegisterWireServer(s, pbServer{}) })
	client := NewGRPCClient(conn)
	ctx := context.Background()
	when := time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	at, err := client.At(ctx, when)
	require.NoError(t, err)
	assert.True(t, at.Equal(when))
	d, err := client.Wait(ctx, 3*time.Hour)
	require.NoError(t, err)
	assert.Equal(t, 3*time.Hour, d)
	a, err := client.Lookup(ctx, netip.MustParseAddr("fe80::1"))
	require.NoError(t, err)
	assert.Equal(t, netip.MustParseAddr("fe80::1"), a)
	for name, e := range extraCases() {
		got, err := client.Extras(ctx, e)
		require.NoError(t, err, name)
		want, _ := (&protoWireExtra{v: &e}).MarshalProtoWire(nil)
		back, _ := (&protoWireExtra{v: &got}).MarshalProtoWire(nil)
		assert.Equal(t, want, back, name)
	}
}
