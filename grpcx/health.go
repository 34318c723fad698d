package grpcx

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// RegisterHealth registers the standard gRPC health service
// (grpc.health.v1.Health) on s and returns it, with the overall status
// ("") and each named service set to SERVING. Set a service NOT_SERVING
// with SetServingStatus, and call Shutdown on the returned server when
// draining so every client sees NOT_SERVING.
func RegisterHealth(s grpc.ServiceRegistrar, services ...string) *health.Server {
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	for _, name := range services {
		hs.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	healthpb.RegisterHealthServer(s, hs)
	return hs
}
