package usersvc_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/examples/usersvc"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/internal/grpctest"
)

// One list of interceptors wraps every method of the service on the server
// and the client, over HTTP, gRPC and in process, in go-kit's order, each
// seeing the Call of its side and transport.
func TestInterceptorsOnEveryTransportAndSide(t *testing.T) {
	t.Parallel()
	var shared []string
	var mu sync.Mutex
	log := func(s string) { mu.Lock(); shared = append(shared, s); mu.Unlock() }
	take := func() []string { mu.Lock(); defer mu.Unlock(); out := shared; shared = nil; return out }
	mk := func(name string) kit.Interceptor {
		return func(call kit.Call, next kit.Invoker) kit.Invoker {
			return func(ctx context.Context, c kit.Call) error {
				log(name + ">")
				err := next(ctx, c)
				log(fmt.Sprintf("<%s %s/%s %s.%s idem=%v %s", name, c.Transport, c.Side, c.Service, c.Method, c.Idempotent, kit.CodeOf(err)))
				return err
			}
		}
	}
	stack := func(side string) []kit.Interceptor { return []kit.Interceptor{mk(side + "1"), mk(side + "2")} }

	store := usersvc.NewStore()
	eps := usersvc.NewEndpoints(store, usersvc.Middlewares{})
	srv := httptest.NewServer(usersvc.NewHTTPHandler(eps, httpx.ServerInterceptors(stack("s")...)))
	defer srv.Close()
	conn := grpctest.Serve(t, "bufconn", func(s *grpc.Server) {
		usersvc.RegisterGRPC(s, eps, grpcx.ServerInterceptors(stack("s")...))
	})
	httpClient, err := usersvc.NewHTTPClient(srv.URL, httpx.ClientInterceptors(stack("c")...))
	require.NoError(t, err)
	clients := []struct {
		transport string
		svc       usersvc.UserService
		server    bool // the calls reach a server of the transport
	}{
		{"http", httpClient, true},
		{"grpc", usersvc.NewGRPCClient(conn, grpcx.ClientInterceptors(stack("c")...)), true},
		{"inprocess", usersvc.NewEndpoints(store, usersvc.Middlewares{}, stack("s")...), false},
	}
	ctx := context.Background()
	for _, c := range clients {
		// Serial: the cases share the interceptors' log.
		t.Run(c.transport, func(t *testing.T) {
			_, err := c.svc.CreateUser(ctx, usersvc.CreateUserRequest{Name: "Ada " + c.transport, Email: "ada@" + c.transport + ".example.com"})
			require.NoError(t, err)
			got := take()
			var want []string
			s := func(name string) string {
				return fmt.Sprintf("<%s %s/server usersvc.UserService.CreateUser idem=false ok", name, c.transport)
			}
			if c.server {
				cl := func(name string) string {
					return fmt.Sprintf("<%s %s/client usersvc.UserService.CreateUser idem=false ok", name, c.transport)
				}
				want = []string{"c1>", "c2>", "s1>", "s2>", s("s2"), s("s1"), cl("c2"), cl("c1")}
			} else {
				want = []string{"s1>", "s2>", s("s2"), s("s1")}
			}
			assert.Equal(t, want, got)

			// An idempotent method that fails: the code reaches every
			// interceptor on both sides.
			_, err = c.svc.GetUser(ctx, "nope")
			require.Equal(t, kit.NotFound, kit.CodeOf(err))
			got = take()
			last := got[len(got)-1]
			side := "server"
			if c.server {
				side = "client"
			}
			assert.Equal(t, fmt.Sprintf("<%s1 %s/%s usersvc.UserService.GetUser idem=true not_found", side[:1], c.transport, side), last)
		})
	}
}

// Interceptors are built once per method, not per call.
func TestInterceptorsBuiltOncePerMethod(t *testing.T) {
	t.Parallel()
	var built []string
	calls := 0
	count := func(call kit.Call, next kit.Invoker) kit.Invoker {
		built = append(built, call.Method)
		return func(ctx context.Context, c kit.Call) error { calls++; return next(ctx, c) }
	}
	eps := usersvc.NewEndpoints(usersvc.NewStore(), usersvc.Middlewares{}, count)
	methods := []string{"CreateUser", "GetUser", "UpdateUser", "DeleteUser", "ListUsers", "WatchUsers", "ImportUsers"}
	assert.ElementsMatch(t, methods, built)
	for range 3 {
		_, _ = eps.GetUser(context.Background(), "x")
	}
	assert.Len(t, built, len(methods))
	assert.Equal(t, 3, calls)
}
