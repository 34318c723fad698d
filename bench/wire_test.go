package bench

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/typedkit/kit/bench/wire"
	"github.com/typedkit/kit/bench/wire/pb"
	"github.com/typedkit/kit/internal/grpctest"
)

// pbList is list as the protoc-generated message.
func pbList(list wire.UserList) *pb.UserList {
	m := &pb.UserList{Users: make([]*pb.User, len(list.Users))}
	for i, u := range list.Users {
		m.Users[i] = &pb.User{Id: u.ID, Name: u.Name, Email: u.Email, Age: u.Age, Admin: u.Admin, Score: u.Score,
			Tags: u.Tags, Created: timestamppb.New(u.Created)}
	}
	return m
}

// BenchmarkMessage marshals and unmarshals a list of 100 users (about 9 KB)
// with the code kitgen generates, with vtprotobuf's generated methods and
// with protobuf-go's proto.Marshal and proto.Unmarshal.
func BenchmarkMessage(b *testing.B) {
	list := wire.NewList(100)
	m := pbList(list)
	data, err := wire.Marshal(&list)
	if err != nil {
		b.Fatal(err)
	}
	type impl struct {
		name      string
		marshal   func() error
		unmarshal func() error
	}
	impls := rotate([]impl{
		{"typedkit",
			func() error { _, err := wire.Marshal(&list); return err },
			func() error { var l wire.UserList; return wire.Unmarshal(data, &l) }},
		{"vtprotobuf",
			func() error { _, err := m.MarshalVT(); return err },
			func() error { var l pb.UserList; return l.UnmarshalVT(data) }},
		{"protobuf-go",
			func() error { _, err := proto.Marshal(m); return err },
			func() error { var l pb.UserList; return proto.Unmarshal(data, &l) }},
	})
	for _, op := range []string{"marshal", "unmarshal"} {
		for _, c := range impls {
			f := c.marshal
			if op == "unmarshal" {
				f = c.unmarshal
			}
			b.Run("list100/"+op+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := f(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// vtCodec is a gRPC codec over vtprotobuf's methods that marshals into
// grpc-go's pooled buffers as grpc-go's own codec does: vtprotobuf at its
// best.
type vtCodec struct{}

type vtMessage interface {
	SizeVT() int
	MarshalToSizedBufferVT([]byte) (int, error)
	UnmarshalVT([]byte) error
}

func (vtCodec) Name() string { return "proto" }

func (vtCodec) Marshal(v any) (mem.BufferSlice, error) {
	m := v.(vtMessage)
	n := m.SizeVT()
	if mem.IsBelowBufferPoolingThreshold(n) {
		buf := make([]byte, n)
		if _, err := m.MarshalToSizedBufferVT(buf); err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(buf)}, nil
	}
	pool := mem.DefaultBufferPool()
	buf := pool.Get(n)
	if _, err := m.MarshalToSizedBufferVT(*buf); err != nil {
		pool.Put(buf)
		return nil, err
	}
	return mem.BufferSlice{mem.NewBuffer(buf, pool)}, nil
}

func (vtCodec) Unmarshal(data mem.BufferSlice, v any) error {
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return v.(vtMessage).UnmarshalVT(buf.ReadOnlyData())
}

var _ encoding.CodecV2 = vtCodec{}

type pbEcho struct{ pb.UnimplementedUsersServer }

func (pbEcho) Echo(_ context.Context, l *pb.UserList) (*pb.UserList, error) { return l, nil }

// sizes are the message sizes of the scaling rows, with the number of
// users (of about 90 bytes each) that make them.
var sizes = []struct {
	name  string
	users int
}{{"100B", 1}, {"10KB", 110}, {"1MB", 11000}}

// BenchmarkGRPCSize echoes a list of users of about 100 B, 10 KB and 1 MB
// over loopback: the service and client kitgen generates, and grpc-go's
// with protoc-generated code, through protobuf-go's codec and through
// vtprotobuf's methods.
func BenchmarkGRPCSize(b *testing.B) {
	ctx := context.Background()
	for _, size := range sizes {
		list := wire.NewList(size.users)
		m := pbList(list)
		impls := rotate([]struct {
			impl string
			make func(b *testing.B) func() error
		}{
			{"typedkit", func(b *testing.B) func() error {
				conn := grpctest.Serve(b, "loopback", func(s *grpc.Server) {
					wire.RegisterGRPC(s, wire.NewEndpoints(wire.Echo{}, wire.Middlewares{}))
				})
				client := wire.NewGRPCClient(conn)
				return func() error { _, err := client.Echo(ctx, list); return err }
			}},
			{"grpcgo", func(b *testing.B) func() error {
				conn := grpctest.Serve(b, "loopback", func(s *grpc.Server) { pb.RegisterUsersServer(s, pbEcho{}) })
				client := pb.NewUsersClient(conn)
				return func() error { _, err := client.Echo(ctx, m); return err }
			}},
			{"vtprotobuf", func(b *testing.B) func() error {
				conn := grpctest.Serve(b, "loopback", func(s *grpc.Server) { pb.RegisterUsersServer(s, pbEcho{}) },
					grpc.ForceServerCodecV2(vtCodec{}))
				client := pb.NewUsersClient(conn)
				return func() error { _, err := client.Echo(ctx, m, grpc.ForceCodecV2(vtCodec{})); return err }
			}},
		})
		for _, c := range impls {
			b.Run(fmt.Sprintf("size=%s/%s", size.name, c.impl), func(b *testing.B) {
				call := c.make(b)
				b.ReportAllocs()
				for b.Loop() {
					if err := call(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
