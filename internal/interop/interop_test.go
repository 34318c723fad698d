package interop

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/internal/grpctest"
	"github.com/typedkit/kit/internal/interop/pb"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func ptr[T any](v T) *T { return &v }

// cases are values of every kind, with their edges.
func cases() map[string]All {
	when := time.Date(2024, 2, 29, 12, 30, 45, 123456789, time.UTC)
	before := time.Date(1901, 1, 1, 0, 0, 0, 1, time.UTC)
	return map[string]All{
		"zero": {},
		"scalars": {B: true, I: -1, I8: math.MinInt8, I16: math.MaxInt16, I32: math.MinInt32, I64: math.MaxInt64,
			U: math.MaxUint64, U8: math.MaxUint8, U16: 1, U32: math.MaxUint32, U64: 1 << 63,
			S32: math.MinInt32, S64: -1, F32: -1.5, F64: math.Inf(1), Str: "héllo, 世界", Bytes: []byte{0, 1, 255}},
		"negative zero float": {F64: math.Copysign(0, -1), F32: float32(math.Copysign(0, -1))},
		"messages": {Inner: Inner{Name: "in", N: -3}, InnerPtr: &Inner{}, Inners: []Inner{{}, {Name: "b"}},
			InnerPtrs: []*Inner{{N: 1}}},
		"repeated": {Ints: []int64{0, -1, math.MaxInt64}, Sints: []int32{-2, 2}, Floats: []float64{0, 1.25},
			Strs: []string{"", "a"}, Bools: []bool{true, false}, Blobs: [][]byte{{}, {1}}, Levels: []Level{LevelHigh, 0, 7}},
		"large repeated":        {Ints: make([]int64, 10000), Strs: make([]string, 1000)},
		"strings across copies": largeStrings(),
		"maps": {MapSS: map[string]string{"b": "2", "a": "", "": "0"}, MapIS: map[int32]string{-1: "m", 3: "t"},
			MapSM: map[string]Inner{"x": {Name: "x"}, "y": {}}, MapBI: map[bool]int64{true: 1, false: 0},
			MapUP: map[uint64]*Inner{1: {N: 1}, 0: {}}},
		"times":                            {When: when, WhenPtr: &before, Dur: -90*time.Second - 5},
		"enum":                             {Level: LevelLow},
		"optional zero values are present": {OptI: ptr[int64](0), OptS: ptr(""), OptB: ptr(false)},
		"optional values":                  {OptI: ptr[int64](-7), OptS: ptr("s"), OptB: ptr(true)},
	}
}

// largeStrings is a message of about 100 KB whose strings, in every place a
// string can be, lie across several of the copies that genrt.Strings makes:
// marshalled into gRPC's pooled buffers and read back without aliasing them.
func largeStrings() All {
	a := All{Str: strings.Repeat("s", 20<<10), Bytes: bytes.Repeat([]byte{7}, 30<<10), MapSS: map[string]string{},
		MapSM: map[string]Inner{}, OptS: ptr(strings.Repeat("o", 100))}
	for i := range 200 {
		v := fmt.Sprintf("value %d %s", i, strings.Repeat("v", i*3))
		a.Strs = append(a.Strs, v)
		a.Inners = append(a.Inners, Inner{Name: v, N: int32(i)})
		a.MapSS[fmt.Sprint("k", i)] = v
		a.MapSM[v] = Inner{Name: fmt.Sprint("in", i)}
	}
	return a
}

func toPBInner(in *Inner) *pb.Inner {
	if in == nil {
		return nil
	}
	return &pb.Inner{Name: in.Name, N: in.N}
}

// toPB builds the protoc-generated message with the same values.
func toPB(a All) *pb.All {
	m := &pb.All{B: a.B, I: int64(a.I), I8: int32(a.I8), I16: int32(a.I16), I32: a.I32, I64: a.I64,
		U: uint64(a.U), U8: uint32(a.U8), U16: uint32(a.U16), U32: a.U32, U64: a.U64,
		S32: a.S32, S64: a.S64, F32: a.F32, F64: a.F64, Str: a.Str, Bytes: a.Bytes,
		Inner: toPBInner(&a.Inner), InnerPtr: toPBInner(a.InnerPtr),
		Ints: a.Ints, Sints: a.Sints, Floats: a.Floats, Strs: a.Strs, Bools: a.Bools, Blobs: a.Blobs,
		Level: pb.Level(a.Level), OptI: a.OptI, OptS: a.OptS, OptB: a.OptB, MapSs: a.MapSS, MapIs: a.MapIS, MapBi: a.MapBI}
	for _, in := range a.Inners {
		m.Inners = append(m.Inners, toPBInner(&in))
	}
	for _, in := range a.InnerPtrs {
		m.InnerPtrs = append(m.InnerPtrs, toPBInner(in))
	}
	if a.MapSM != nil {
		m.MapSm = map[string]*pb.Inner{}
		for k, v := range a.MapSM {
			m.MapSm[k] = toPBInner(&v)
		}
	}
	if a.MapUP != nil {
		m.MapUp = map[uint64]*pb.Inner{}
		for k, v := range a.MapUP {
			m.MapUp[k] = toPBInner(v)
		}
	}
	if !a.When.IsZero() {
		m.When = timestamppb.New(a.When)
	}
	if a.WhenPtr != nil {
		m.WhenPtr = timestamppb.New(*a.WhenPtr)
	}
	if a.Dur != 0 {
		m.Dur = durationpb.New(a.Dur)
	}
	for _, l := range a.Levels {
		m.Levels = append(m.Levels, pb.Level(l))
	}
	return m
}

func marshal(a All) []byte {
	b, _ := (&protoWireAll{v: &a}).MarshalProtoWire(nil)
	return b
}

func unmarshal(b []byte) (All, error) {
	w := &protoWireAll{}
	err := w.UnmarshalProtoWire(b)
	if w.v == nil {
		return All{}, err
	}
	return *w.v, err
}

var deterministic = proto.MarshalOptions{Deterministic: true}

// Our bytes equal protobuf-go's deterministic bytes for the same values,
// and each side reads the other's.
func TestBytesEqualProtobufGo(t *testing.T) {
	t.Parallel()
	for name, a := range cases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want, err := deterministic.Marshal(toPB(a))
			require.NoError(t, err)
			got := marshal(a)
			assert.Equal(t, want, got)

			// protobuf-go reads ours.
			var m pb.All
			require.NoError(t, proto.Unmarshal(got, &m))
			assert.True(t, proto.Equal(toPB(a), &m), "protobuf-go read back %v", &m)

			// We read protobuf-go's, and what we read does not alias the
			// bytes, which a transport may reuse.
			in := bytes.Clone(want)
			back, err := unmarshal(in)
			require.NoError(t, err)
			for i := range in {
				in[i] = 0xff
			}
			assert.Equal(t, normalize(a), normalize(back))
		})
	}
}

// normalize maps the values that protobuf cannot tell apart to one form:
// nil and empty slices and maps, and times in UTC.
func normalize(a All) All {
	norm := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		return b
	}
	a.Bytes = norm(a.Bytes)
	for i := range a.Blobs {
		a.Blobs[i] = norm(a.Blobs[i])
	}
	if len(a.Inners) == 0 {
		a.Inners = nil
	}
	if len(a.Strs) == 0 {
		a.Strs = nil
	}
	if len(a.MapSS) == 0 {
		a.MapSS = nil
	}
	if a.WhenPtr != nil {
		w := a.WhenPtr.UTC()
		a.WhenPtr = &w
	}
	return a
}

// Unknown fields are skipped, so an older reader accepts a newer writer.
func TestUnknownFieldsSkipped(t *testing.T) {
	t.Parallel()
	b := marshal(All{Str: "kept", I: 5})
	b = protowire.AppendTag(b, 1000, protowire.BytesType)
	b = protowire.AppendString(b, "from the future")
	b = protowire.AppendTag(b, 1001, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, 7)
	b = protowire.AppendTag(b, 14, protowire.VarintType) // a known number with another wire type
	b = protowire.AppendVarint(b, 1)
	got, err := unmarshal(b)
	require.NoError(t, err)
	assert.Equal(t, "kept", got.Str)
	assert.Equal(t, 5, got.I)
}

// Malformed input is an InvalidArgument error, never a panic.
func TestMalformedInput(t *testing.T) {
	t.Parallel()
	full := marshal(cases()["scalars"])
	tests := map[string][]byte{
		"truncated":         full[:len(full)-1],
		"bad tag":           {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"field zero":        {0x00, 0x01},
		"long length":       {0x72, 0x10, 'a'},
		"invalid utf-8":     {0x72, 0x02, 0xff, 0xfe},
		"int8 overflow":     {0x18, 0x80, 0x02},
		"bad timestamp":     append(protowire.AppendTag(nil, 30, protowire.BytesType), 0x02, 0x10, 0x80),
		"timestamp too big": append(protowire.AppendTag(nil, 30, protowire.BytesType), append([]byte{0x0b, 0x08}, protowire.AppendVarint(nil, 1<<40)...)...),
	}
	// Fix the length of the last case.
	tb := protowire.AppendTag(nil, 30, protowire.BytesType)
	inner := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 1<<40)
	tests["timestamp too big"] = protowire.AppendBytes(tb, inner)
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := unmarshal(b)
			require.Error(t, err)
			assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err), "%v", err)
		})
	}
}

// FuzzUnmarshal checks that the decoder never panics and that what it
// accepts survives a round trip, with protobuf-go agreeing.
func FuzzUnmarshal(f *testing.F) {
	for _, a := range cases() {
		if len(a.Ints) < 100 && len(a.Strs) < 100 {
			f.Add(marshal(a))
		}
	}
	f.Add([]byte{0x72, 0x02, 0xff, 0xfe})
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		a, err := unmarshal(in)
		if err != nil {
			if kit.CodeOf(err) != kit.InvalidArgument {
				t.Fatalf("error without InvalidArgument: %v", err)
			}
			return
		}
		first := marshal(a)
		for i := range in {
			in[i] = 0xff
		}
		if !bytes.Equal(first, marshal(a)) {
			t.Fatalf("the value read changed with the bytes it was read from")
		}
		again, err := unmarshal(first)
		if err != nil {
			t.Fatalf("re-reading our own bytes: %v", err)
		}
		if !bytes.Equal(first, marshal(again)) {
			t.Fatalf("round trip changed the value:\n%+v\n%+v", a, again)
		}
		var m pb.All
		if err := proto.Unmarshal(first, &m); err != nil {
			t.Fatalf("protobuf-go refuses our bytes: %v", err)
		}
	})
}

// echo is the typed service.
type echo struct{}

func (echo) Echo(_ context.Context, a All) (All, error) { return a, nil }
func (echo) Count(_ context.Context, items []string, prefix string) (int, error) {
	if prefix == "fail" {
		return 0, kit.NewError(kit.FailedPrecondition, "no counting today")
	}
	return len(items), nil
}
func (echo) Users(_ context.Context, l UserList) (UserList, error) { return l, nil }
func (echo) OneUser(_ context.Context, u User) (User, error)       { return u, nil }
func (echo) Chain(_ context.Context, n Node) (Node, error)         { return n, nil }
func (echo) Extras(_ context.Context, e Extra) (Extra, error)      { return e, nil }
func (echo) At(_ context.Context, t time.Time) (time.Time, error)  { return t, nil }
func (echo) Later(_ context.Context, t *time.Time) (*time.Time, error) {
	return t, nil
}
func (echo) Wait(_ context.Context, d time.Duration) (time.Duration, error) { return d, nil }
func (echo) Lookup(_ context.Context, a netip.Addr) (netip.Addr, error) {
	if a.IsUnspecified() {
		return netip.Addr{}, kit.NewError(kit.NotFound, "no such address")
	}
	return a.Next(), nil
}
func (echo) Charge(_ context.Context, r ChargeRequest) (Charge, error) {
	return Charge{ID: "ch_1", Amount: r.Amount}, nil
}

// pbServer is a server built from the protoc output.
type pbServer struct {
	pb.UnimplementedWireServer
	// tailEnded, if not nil, hears why a Tail ended early.
	tailEnded chan<- error
}

func (pbServer) Echo(_ context.Context, a *pb.All) (*pb.All, error)            { return a, nil }
func (pbServer) Users(_ context.Context, l *pb.UserList) (*pb.UserList, error) { return l, nil }
func (pbServer) Chain(_ context.Context, n *pb.Node) (*pb.Node, error)         { return n, nil }
func (pbServer) Extras(_ context.Context, e *pb.Extra) (*pb.Extra, error)      { return e, nil }
func (pbServer) At(_ context.Context, r *pb.AtRequest) (*pb.AtResponse, error) {
	return &pb.AtResponse{Value: r.GetT()}, nil
}
func (pbServer) Wait(_ context.Context, r *pb.WaitRequest) (*pb.WaitResponse, error) {
	return &pb.WaitResponse{Value: r.GetD()}, nil
}
func (pbServer) Lookup(_ context.Context, r *pb.LookupRequest) (*pb.LookupResponse, error) {
	return &pb.LookupResponse{Value: r.GetAddr()}, nil
}

func (pbServer) Count(_ context.Context, r *pb.CountRequest) (*pb.CountResponse, error) {
	if r.GetPrefix() == "fail" {
		return nil, status.Error(codes.FailedPrecondition, "no counting today")
	}
	return &pb.CountResponse{Value: int64(len(r.GetItems()))}, nil
}

func dial(t *testing.T, register func(*grpc.Server)) *grpc.ClientConn {
	t.Helper()
	return grpctest.Serve(t, "bufconn", register)
}

// A protoc-generated client calls the generated server.
func TestProtocClientCallsGeneratedServer(t *testing.T) {
	t.Parallel()
	conn := dial(t, func(s *grpc.Server) { RegisterGRPC(s, NewEndpoints(echo{}, Middlewares{})) })
	client := pb.NewWireClient(conn)
	for name, a := range cases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := client.Echo(context.Background(), toPB(a))
			require.NoError(t, err)
			assert.True(t, proto.Equal(toPB(a), got))
		})
	}
	n, err := client.Count(context.Background(), &pb.CountRequest{Items: []string{"a", "b", "c"}})
	require.NoError(t, err)
	assert.Equal(t, int64(3), n.GetValue())
	_, err = client.Count(context.Background(), &pb.CountRequest{Prefix: "fail"})
	assert.Equal(t, codes.FailedPrecondition, status.Code(err))
	assert.Equal(t, "no counting today", status.Convert(err).Message())
}

// The generated client calls a server built from the protoc output.
func TestGeneratedClientCallsProtocServer(t *testing.T) {
	t.Parallel()
	conn := dial(t, func(s *grpc.Server) { pb.RegisterWireServer(s, pbServer{}) })
	client := NewGRPCClient(conn)
	for name, a := range cases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := client.Echo(context.Background(), a)
			require.NoError(t, err)
			assert.Equal(t, normalize(a), normalize(got))
		})
	}
	n, err := client.Count(context.Background(), []string{"a", "b"}, "")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	_, err = client.Count(context.Background(), nil, "fail")
	assert.Equal(t, kit.FailedPrecondition, kit.CodeOf(err))
}

// Large messages, marshalled into gRPC's pooled buffers and read from
// buffers gRPC reuses once the codec returns, arrive whole from many
// concurrent calls in both directions, between the generated client and
// server and with the protoc-generated client (run it with -race).
func TestConcurrentLargeMessages(t *testing.T) {
	t.Parallel()
	conn := dial(t, func(s *grpc.Server) { RegisterGRPC(s, NewEndpoints(echo{}, Middlewares{})) })
	client := NewGRPCClient(conn)
	pbClient := pb.NewWireClient(conn)
	big := largeStrings()
	var list UserList
	for i := range 8000 {
		list.Users = append(list.Users, benchUser(i))
	}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for range 3 {
				switch g % 3 {
				case 0:
					got, err := client.Echo(context.Background(), big)
					if assert.NoError(t, err) {
						assert.Equal(t, normalize(big), normalize(got))
					}
				case 1:
					got, err := client.Users(context.Background(), list)
					if assert.NoError(t, err) {
						assert.Equal(t, list, got)
					}
				default:
					got, err := pbClient.Echo(context.Background(), toPB(big))
					if assert.NoError(t, err) {
						assert.True(t, proto.Equal(toPB(big), got))
					}
				}
			}
		})
	}
	wg.Wait()
}

// rawCodec sends bytes as they are, to put malformed requests on the wire.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }
func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}
func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

// A malformed request is answered InvalidArgument and the server goes on.
func TestMalformedRequestOverGRPC(t *testing.T) {
	t.Parallel()
	conn := dial(t, func(s *grpc.Server) { RegisterGRPC(s, NewEndpoints(echo{}, Middlewares{})) })
	in, out := []byte{0x72, 0x10, 'a'}, []byte(nil)
	err := conn.Invoke(context.Background(), "/"+GRPCServiceName+"/Echo", &in, &out, grpc.ForceCodecV2(rawCodec{}))
	assert.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)

	got, err := NewGRPCClient(conn).Echo(context.Background(), All{Str: "still serving"})
	require.NoError(t, err)
	assert.Equal(t, "still serving", got.Str)
}
