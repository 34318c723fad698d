package interop

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/typedkit/kit/internal/grpctest"
	"github.com/typedkit/kit/internal/interop/pb"
)

func benchUser(i int) User {
	return User{ID: int64(i) + 1e6, Name: fmt.Sprintf("User Number %d", i), Email: fmt.Sprintf("user%d@example.com", i),
		Age: 42, Admin: i%7 == 0, Score: 97.25, Tags: []string{"alpha", "beta"}, Created: time.Unix(1700000000+int64(i), 500).UTC()}
}

func benchPBUser(u User) *pb.User {
	return &pb.User{Id: u.ID, Name: u.Name, Email: u.Email, Age: u.Age, Admin: u.Admin, Score: u.Score, Tags: u.Tags, Created: timestamppb.New(u.Created)}
}

// BenchmarkMarshal compares the generated marshal code with protobuf-go's
// proto.Marshal of the protoc-generated type, for one user of 8 fields and
// a list of 100 users.
func BenchmarkMarshal(b *testing.B) {
	user := benchUser(1)
	list := UserList{}
	pbList := &pb.UserList{}
	for i := range 100 {
		list.Users = append(list.Users, benchUser(i))
		pbList.Users = append(pbList.Users, benchPBUser(benchUser(i)))
	}
	pbUser := benchPBUser(user)
	b.Run("user/kitgen", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = (&protoWireUser{v: &user}).MarshalProtoWire(nil)
		}
	})
	b.Run("user/protobuf-go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = proto.Marshal(pbUser)
		}
	})
	b.Run("list100/kitgen", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = (&protoWireUserList{v: &list}).MarshalProtoWire(nil)
		}
	})
	b.Run("list100/protobuf-go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = proto.Marshal(pbList)
		}
	})
}

// BenchmarkUnmarshal compares the generated unmarshal code with
// proto.Unmarshal into the protoc-generated type.
func BenchmarkUnmarshal(b *testing.B) {
	user := benchUser(1)
	list := UserList{}
	for i := range 100 {
		list.Users = append(list.Users, benchUser(i))
	}
	userBytes, _ := (&protoWireUser{v: &user}).MarshalProtoWire(nil)
	listBytes, _ := (&protoWireUserList{v: &list}).MarshalProtoWire(nil)
	b.Run("user/kitgen", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := (&protoWireUser{}).UnmarshalProtoWire(userBytes); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("user/protobuf-go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := proto.Unmarshal(userBytes, &pb.User{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("list100/kitgen", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := (&protoWireUserList{}).UnmarshalProtoWire(listBytes); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("list100/protobuf-go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := proto.Unmarshal(listBytes, &pb.UserList{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUnaryCall calls Users with a list of 10 users through the
// generated gRPC service and client, and through a service and client that
// protoc generated, over bufconn.
func BenchmarkUnaryCall(b *testing.B) {
	list := UserList{}
	pbList := &pb.UserList{}
	for i := range 10 {
		list.Users = append(list.Users, benchUser(i))
		pbList.Users = append(pbList.Users, benchPBUser(benchUser(i)))
	}
	ctx := context.Background()
	b.Run("kitgen", func(b *testing.B) {
		conn := grpctest.Serve(b, "bufconn", func(s *grpc.Server) { RegisterGRPC(s, NewEndpoints(echo{}, Middlewares{})) })
		client := NewGRPCClient(conn)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := client.Users(ctx, list); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("protoc", func(b *testing.B) {
		conn := grpctest.Serve(b, "bufconn", func(s *grpc.Server) { pb.RegisterWireServer(s, pbServer{}) })
		client := pb.NewWireClient(conn)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := client.Users(ctx, pbList); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRecursive marshals and unmarshals a chain of nested messages of
// 10, 1,000 and 8,000 levels with the generated code and with protobuf-go:
// the time per level stays flat as the depth grows (each pass is linear).
func BenchmarkRecursive(b *testing.B) {
	for _, depth := range []int{10, 1000, 8000} {
		n := chain(depth)
		pbn := pbChain(depth)
		data := marshalNode(n)
		b.Run(fmt.Sprintf("marshal/depth=%d/kitgen", depth), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := (&protoWireNode{v: &n}).MarshalProtoWire(nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(depth), "ns/level")
		})
		b.Run(fmt.Sprintf("marshal/depth=%d/protobuf-go", depth), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := deterministic.Marshal(pbn); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(depth), "ns/level")
		})
		b.Run(fmt.Sprintf("unmarshal/depth=%d/kitgen", depth), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := (&protoWireNode{}).UnmarshalProtoWire(data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(depth), "ns/level")
		})
		b.Run(fmt.Sprintf("unmarshal/depth=%d/protobuf-go", depth), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := proto.Unmarshal(data, &pb.Node{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(depth), "ns/level")
		})
	}
}
