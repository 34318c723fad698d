package discovery_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/status"

	"github.com/typedkit/kit/discovery"
	"github.com/typedkit/kit/internal/grpctest"
	"github.com/typedkit/kit/internal/grpctest/testpb"
)

// broadcastInstancer is an instancer whose state the test sets.
type broadcastInstancer struct {
	discovery.Broadcaster
	stopped chan struct{}
}

func (b *broadcastInstancer) Stop() { close(b.stopped) }

func TestResolverFollowsAnInstancer(t *testing.T) {
	t.Parallel()
	a, _ := grpctest.ServeAddr(t)
	b, _ := grpctest.ServeAddr(t)
	inst := &broadcastInstancer{stopped: make(chan struct{})}
	var targets []string
	builder := discovery.NewResolver("test", func(target resolver.Target) (discovery.Instancer, error) {
		targets = append(targets, target.URL.Path)
		return inst, nil
	})
	conn, err := grpc.NewClient("test:///users", grpc.WithResolvers(builder),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig": [{"round_robin":{}}]}`),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	tc := testpb.NewTestClient(conn)
	call := func(waitForReady bool) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r, err := tc.Sum(ctx, &testpb.SumRequest{}, grpc.WaitForReady(waitForReady))
		if err != nil {
			return "", err
		}
		return r.C, nil
	}

	// Before any address: the instancer's error reaches the calls.
	conn.Connect()
	inst.Update(discovery.Event{Err: errors.New("registry unreachable")})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		_, err := call(false)
		assert.Equal(c, codes.Unavailable, status.Code(err))
		assert.ErrorContains(c, err, "registry unreachable")
	}, 5*time.Second, 10*time.Millisecond)

	inst.Update(discovery.Event{Instances: []string{a}})
	got, err := call(true)
	require.NoError(t, err)
	assert.Equal(t, a, got)

	inst.Update(discovery.Event{Instances: []string{b}})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got, err := call(true)
		assert.NoError(c, err)
		assert.Equal(c, b, got)
	}, 5*time.Second, 10*time.Millisecond)

	// An error after a good set keeps the set.
	inst.Update(discovery.Event{Instances: []string{b}, Err: errors.New("watch failed")})
	for range 5 {
		got, err := call(false)
		require.NoError(t, err)
		assert.Equal(t, b, got)
	}

	require.NoError(t, conn.Close())
	select {
	case <-inst.stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("closing the client did not stop the instancer")
	}
	assert.Equal(t, []string{"/users"}, targets)
}

func TestResolverBuildErrors(t *testing.T) {
	t.Parallel()
	builder := discovery.NewResolver("broken", func(resolver.Target) (discovery.Instancer, error) {
		return nil, errors.New("no such service")
	})
	conn, err := grpc.NewClient("broken:///x", grpc.WithResolvers(builder), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = testpb.NewTestClient(conn).Sum(ctx, &testpb.SumRequest{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no such service")
}
