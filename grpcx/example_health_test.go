package grpcx_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/typedkit/kit/grpcx"
)

// The standard health service follows a readiness check (an httpx.Health
// is one), and Serve drains the server when its context ends.
func ExampleRegisterHealthReadiness() {
	var dbDown atomic.Bool
	ready := grpcx.ReadinessFunc(func(context.Context) error {
		if dbDown.Load() {
			return errors.New("db down")
		}
		return nil
	})
	s := grpc.NewServer()
	h := grpcx.RegisterHealthReadiness(s, ready)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan error, 1)
	go func() { served <- grpcx.Serve(ctx, s, lis, grpcx.ServeHealth(h)) }()

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	check := func() {
		resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
		fmt.Println(resp.GetStatus(), err)
	}

	// Serve polls every second; Update polls now.
	_ = h.Update(context.Background())
	check()
	dbDown.Store(true)
	_ = h.Update(context.Background())
	check()

	stop()
	fmt.Println("served:", <-served)
	// Output:
	// SERVING <nil>
	// NOT_SERVING <nil>
	// served: <nil>
}
