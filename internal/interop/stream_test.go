package interop

import (
	"context"
	"errors"
	"io"
	"iter"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/internal/interop/pb"
)

// tailCreated is the creation time of the users Tail streams.
var tailCreated = time.Date(2025, 3, 1, 10, 0, 0, 500, time.UTC)

// tailUser is the i-th user Tail streams.
func tailUser(i int) User {
	return User{ID: int64(i), Name: "user " + strconv.Itoa(i), Email: "u" + strconv.Itoa(i) + "@example.com",
		Age: int32(20 + i), Tags: []string{"t" + strconv.Itoa(i)}, Created: tailCreated}
}

func toPBUser(u User) *pb.User {
	return &pb.User{Id: u.ID, Name: u.Name, Email: u.Email, Age: u.Age, Admin: u.Admin, Score: u.Score,
		Tags: u.Tags, Created: timestamppb.New(u.Created)}
}

// Tail implements Wire: Count users (forever when Count is 0, until the
// call ends), then the error Fail asks for.
func (echo) Tail(ctx context.Context, req TailRequest) (iter.Seq2[User, error], error) {
	if req.Count < 0 {
		return nil, kit.NewError(kit.InvalidArgument, "a negative count")
	}
	return func(yield func(User, error) bool) {
		for i := 0; req.Count == 0 || i < int(req.Count); i++ {
			if err := ctx.Err(); err != nil {
				yield(User{}, err)
				return
			}
			if !yield(tailUser(i), nil) {
				return
			}
		}
		if req.Fail != "" {
			yield(User{}, kit.NewError(kit.FailedPrecondition, req.Fail))
		}
	}, nil
}

// Collect implements Wire; a user with a negative age is refused with a
// field violation.
func (echo) Collect(_ context.Context, users iter.Seq2[User, error]) (UserList, error) {
	var l UserList
	for u, err := range users {
		if err != nil {
			return UserList{}, err
		}
		if u.Age < 0 {
			return UserList{}, kit.InvalidArgumentError("an age must not be negative",
				kit.FieldViolation{Field: "age", Description: "must not be negative"})
		}
		l.Users = append(l.Users, u)
	}
	return l, nil
}

// Relay implements Wire.
func (echo) Relay(_ context.Context, in iter.Seq2[All, error]) (iter.Seq2[All, error], error) {
	return in, nil
}

// Tail implements pb.WireServer as Tail of echo does; when the call ends
// early it reports the reason on tailEnded.
func (s pbServer) Tail(req *pb.TailRequest, stream grpc.ServerStreamingServer[pb.User]) error {
	for i := 0; req.GetCount() == 0 || i < int(req.GetCount()); i++ {
		if err := stream.Context().Err(); err != nil {
			if s.tailEnded != nil {
				s.tailEnded <- err
			}
			return status.FromContextError(err).Err()
		}
		if err := stream.Send(toPBUser(tailUser(i))); err != nil {
			return err
		}
		if req.GetCount() == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if f := req.GetFail(); f != "" {
		return status.Error(codes.FailedPrecondition, f)
	}
	return nil
}

// Collect implements pb.WireServer.
func (pbServer) Collect(stream grpc.ClientStreamingServer[pb.User, pb.UserList]) error {
	var l pb.UserList
	for {
		u, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&l)
		}
		if err != nil {
			return err
		}
		l.Users = append(l.Users, u)
	}
}

// Relay implements pb.WireServer.
func (pbServer) Relay(stream grpc.BidiStreamingServer[pb.All, pb.All]) error {
	for {
		a, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(a); err != nil {
			return err
		}
	}
}

// The protoc-generated client calls each kind of stream of the generated
// server.
func TestProtocClientStreams(t *testing.T) {
	t.Parallel()
	ended := make(chan codes.Code, 1)
	conn := dial(t, func(s *grpc.Server) {
		RegisterGRPC(s, NewEndpoints(echo{}, Middlewares{}), grpcx.ServerErrorHandler(kit.ErrorHandlerFunc(func(context.Context, error) {})),
			grpcx.ServerFinalizer(func(_ context.Context, info grpcx.FinalizerInfo) {
				if info.Method == "/"+GRPCServiceName+"/Tail" {
					ended <- info.Code
				}
			}))
	})
	client := pb.NewWireClient(conn)
	ctx := context.Background()

	t.Run("server stream", func(t *testing.T) {
		tests := []struct {
			name string
			req  *pb.TailRequest
			code codes.Code
			msg  string
		}{
			{name: "users", req: &pb.TailRequest{Count: 3}},
			{name: "error after users", req: &pb.TailRequest{Count: 2, Fail: "no more users"}, code: codes.FailedPrecondition, msg: "no more users"},
			{name: "open error", req: &pb.TailRequest{Count: -1}, code: codes.InvalidArgument, msg: "a negative count"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				stream, err := client.Tail(ctx, tt.req)
				require.NoError(t, err)
				var got []*pb.User
				for {
					u, err := stream.Recv()
					if err != nil {
						if errors.Is(err, io.EOF) {
							err = nil
						}
						assert.Equal(t, tt.code, status.Code(err), "%v", err)
						assert.Equal(t, tt.msg, status.Convert(err).Message())
						break
					}
					got = append(got, u)
				}
				assert.Len(t, got, max(0, int(tt.req.GetCount())))
				for i, u := range got {
					assert.True(t, proto.Equal(toPBUser(tailUser(i)), u), "user %d: %v", i, u)
				}
				<-ended
			})
		}
	})

	t.Run("cancel", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := client.Tail(cctx, &pb.TailRequest{})
		require.NoError(t, err)
		for range 3 {
			_, err := stream.Recv()
			require.NoError(t, err)
		}
		cancel()
		select {
		case code := <-ended:
			assert.Equal(t, codes.Canceled, code)
		case <-time.After(20 * time.Second):
			t.Fatal("the server's stream did not end when the client cancelled")
		}
	})

	t.Run("client stream", func(t *testing.T) {
		stream, err := client.Collect(ctx)
		require.NoError(t, err)
		for i := range 3 {
			require.NoError(t, stream.Send(toPBUser(tailUser(i))))
		}
		l, err := stream.CloseAndRecv()
		require.NoError(t, err)
		require.Len(t, l.GetUsers(), 3)
		for i, u := range l.GetUsers() {
			assert.True(t, proto.Equal(toPBUser(tailUser(i)), u), "user %d: %v", i, u)
		}

		stream, err = client.Collect(ctx)
		require.NoError(t, err)
		l, err = stream.CloseAndRecv()
		require.NoError(t, err)
		assert.Empty(t, l.GetUsers())

		// A refused message: InvalidArgument with a BadRequest detail.
		stream, err = client.Collect(ctx)
		require.NoError(t, err)
		require.NoError(t, stream.Send(toPBUser(tailUser(0))))
		require.NoError(t, stream.Send(&pb.User{Age: -1}))
		_, err = stream.CloseAndRecv()
		st := status.Convert(err)
		assert.Equal(t, codes.InvalidArgument, st.Code(), "%v", err)
		assert.Equal(t, "an age must not be negative", st.Message())
		var violations []*errdetails.BadRequest_FieldViolation
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok {
				violations = append(violations, br.GetFieldViolations()...)
			}
		}
		require.Len(t, violations, 1)
		assert.Equal(t, "age", violations[0].GetField())
		assert.Equal(t, "must not be negative", violations[0].GetDescription())
	})

	t.Run("bidi", func(t *testing.T) {
		stream, err := client.Relay(ctx)
		require.NoError(t, err)
		// A conversation: each answer arrives before the next message is
		// sent, with every kind of field.
		for name, a := range cases() {
			require.NoError(t, stream.Send(toPB(a)), name)
			got, err := stream.Recv()
			require.NoError(t, err, name)
			assert.True(t, proto.Equal(toPB(a), got), name)
		}
		require.NoError(t, stream.CloseSend())
		_, err = stream.Recv()
		assert.ErrorIs(t, err, io.EOF)
	})
}

// The generated client calls each kind of stream of a server built from
// the protoc output.
func TestGeneratedClientStreamsProtocServer(t *testing.T) {
	t.Parallel()
	ended := make(chan error, 1)
	conn := dial(t, func(s *grpc.Server) { pb.RegisterWireServer(s, pbServer{tailEnded: ended}) })
	client := NewGRPCClient(conn)
	ctx := context.Background()

	t.Run("server stream", func(t *testing.T) {
		seq, err := client.Tail(ctx, TailRequest{Count: 3})
		require.NoError(t, err)
		var got []User
		for u, err := range seq {
			require.NoError(t, err)
			got = append(got, u)
		}
		require.Len(t, got, 3)
		for i, u := range got {
			assert.Equal(t, tailUser(i), u)
		}

		seq, err = client.Tail(ctx, TailRequest{Count: 2, Fail: "no more users"})
		require.NoError(t, err)
		n := 0
		var last error
		for _, err := range seq {
			if err != nil {
				last = err
				break
			}
			n++
		}
		assert.Equal(t, 2, n)
		assert.Equal(t, kit.FailedPrecondition, kit.CodeOf(last), "%v", last)
		assert.Equal(t, "no more users", kit.MessageOf(last))
	})

	t.Run("cancel", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		seq, err := client.Tail(cctx, TailRequest{})
		require.NoError(t, err)
		n := 0
		var last error
		for _, err := range seq {
			if err != nil {
				last = err
				break
			}
			if n++; n == 3 {
				cancel()
			}
		}
		assert.Equal(t, kit.Canceled, kit.CodeOf(last), "%v", last)
		select {
		case err := <-ended:
			assert.ErrorIs(t, err, context.Canceled)
		case <-time.After(20 * time.Second):
			t.Fatal("the protoc server's stream did not end when the client cancelled")
		}
	})

	t.Run("client stream", func(t *testing.T) {
		l, err := client.Collect(ctx, func(yield func(User, error) bool) {
			for i := range 3 {
				if !yield(tailUser(i), nil) {
					return
				}
			}
		})
		require.NoError(t, err)
		assert.Equal(t, UserList{Users: []User{tailUser(0), tailUser(1), tailUser(2)}}, l)
	})

	t.Run("bidi", func(t *testing.T) {
		// The messages are all there when the call starts.
		var msgs []All
		for _, a := range cases() {
			msgs = append(msgs, a)
		}
		out, err := client.Relay(ctx, func(yield func(All, error) bool) {
			for _, a := range msgs {
				if !yield(a, nil) {
					return
				}
			}
		})
		require.NoError(t, err)
		n := 0
		for got, err := range out {
			require.NoError(t, err)
			if assert.Less(t, n, len(msgs)) {
				assert.Equal(t, normalize(msgs[n]), normalize(got))
			}
			n++
		}
		assert.Equal(t, len(msgs), n)
	})

	t.Run("conversation", func(t *testing.T) {
		// A conversation with a server that sends its header when the
		// stream opens: each answer arrives before the next message is
		// sent. (With one that sends nothing before its first answer, see
		// TestGeneratedClientConversesWithSilentServer.)
		conn := dial(t, func(s *grpc.Server) { pb.RegisterWireServer(s, headerFirst{}) })
		converse(t, context.Background(), NewGRPCClient(conn))
	})
}

// headerFirst is a protoc server whose Relay sends its header when the
// stream opens.
type headerFirst struct{ pbServer }

func (s headerFirst) Relay(stream grpc.BidiStreamingServer[pb.All, pb.All]) error {
	if err := stream.SendHeader(nil); err != nil {
		return err
	}
	return s.pbServer.Relay(stream)
}

// converse holds a conversation over Relay: one message, its answer, the
// next message.
func converse(t *testing.T, ctx context.Context, client Wire) {
	t.Helper()
	in := make(chan All)
	out, err := client.Relay(ctx, func(yield func(All, error) bool) {
		for a := range in {
			if !yield(a, nil) {
				return
			}
		}
	})
	require.NoError(t, err)
	next, stop := iter.Pull2(out)
	defer stop()
	for name, a := range cases() {
		in <- a
		got, err, ok := next()
		require.True(t, ok, name)
		require.NoError(t, err, name)
		assert.Equal(t, normalize(a), normalize(got), name)
	}
	close(in)
	_, err, ok := next()
	assert.False(t, ok, "the stream ends when the requests do: %v", err)
}

// The generated client holds a conversation with a bidirectional server
// that sends nothing before its first answer, as protoc-gen-go-grpc
// servers, grpc-js servers and most others do: the answers' sequence is
// returned before the server's header arrives.
func TestGeneratedClientConversesWithSilentServer(t *testing.T) {
	t.Parallel()
	conn := dial(t, func(s *grpc.Server) { pb.RegisterWireServer(s, pbServer{}) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	converse(t, ctx, NewGRPCClient(conn))
}
