package usersvc_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/examples/usersvc"
	"github.com/typedkit/kit/internal/grpctest"
)

// Every method through the generated gRPC client against the generated
// service registration, on a real grpc.Server.
func TestUserServiceOverGRPC(t *testing.T) {
	t.Parallel()
	conn := grpctest.Serve(t, "bufconn", func(s *grpc.Server) {
		usersvc.RegisterGRPC(s, usersvc.NewEndpoints(usersvc.NewStore(), usersvc.Middlewares{}))
	})
	c := usersvc.NewGRPCClient(conn)
	ctx := context.Background()

	ada, err := c.CreateUser(ctx, usersvc.CreateUserRequest{Name: "Ada", Email: "ada@example.com"})
	require.NoError(t, err)
	assert.Equal(t, "u000001", ada.ID)

	got, err := c.GetUser(ctx, ada.ID)
	require.NoError(t, err)
	assert.Equal(t, ada, got, "the timestamp survives the wire")

	_, err = c.CreateUser(ctx, usersvc.CreateUserRequest{Name: "", Email: "x"})
	assert.Equal(t, kit.InvalidArgument, kit.CodeOf(err))
	assert.Len(t, kit.ViolationsOf(err), 2)

	_, err = c.GetUser(ctx, "nope")
	assert.Equal(t, kit.NotFound, kit.CodeOf(err))
	assert.Equal(t, "user nope not found", kit.MessageOf(err))

	upd, err := c.UpdateUser(ctx, usersvc.UpdateUserRequest{ID: ada.ID, Name: "Ada L", Email: "ada@example.com"})
	require.NoError(t, err)
	assert.Equal(t, "Ada L", upd.Name)

	_, err = c.CreateUser(ctx, usersvc.CreateUserRequest{Name: "Bob", Email: "bob@example.com"})
	require.NoError(t, err)
	page, next, err := c.ListUsers(ctx, 1, "")
	require.NoError(t, err)
	require.Len(t, page, 1)
	assert.Equal(t, "u000001", next)
	page, next, err = c.ListUsers(ctx, 1, next)
	require.NoError(t, err)
	assert.Equal(t, "Bob", page[0].Name)
	assert.Empty(t, next)

	require.NoError(t, c.DeleteUser(ctx, ada.ID))
	assert.Equal(t, kit.NotFound, kit.CodeOf(c.DeleteUser(ctx, ada.ID)))
}
