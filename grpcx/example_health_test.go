package grpcx_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/health"
)

// The standard health service follows the service's health model, the one
// whose handlers serve /livez and /readyz too. Serve marks the model
// draining when its context ends: the Watch streams report NOT_SERVING and
// end, and the server drains.
func ExampleRegisterHealth() {
	h := new(health.Health)
	h.AddCheck("db", func(context.Context) error { return nil })
	s := grpc.NewServer()
	grpcx.RegisterHealth(s, h, grpcx.HealthServices("example.Users"))
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
	hc := healthpb.NewHealthClient(conn)
	resp, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{Service: "example.Users"})
	fmt.Println(resp.GetStatus(), err)

	watch, err := hc.Watch(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, _ := watch.Recv()
	fmt.Println("watch:", m.GetStatus())
	stop()
	m, _ = watch.Recv()
	fmt.Println("watch:", m.GetStatus())
	_, err = watch.Recv()
	fmt.Println("watch ended:", errors.Is(err, io.EOF))
	fmt.Println("served:", <-served)
	// Output:
	// SERVING <nil>
	// watch: SERVING
	// watch: NOT_SERVING
	// watch ended: true
	// served: <nil>
}
