package consul_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit/discovery/consul"
)

var quietRegistrar = consul.RegistrarLogger(slog.New(slog.DiscardHandler))

func TestNewRegistrarValidates(t *testing.T) {
	t.Parallel()
	client := newClient(t, agent)
	ok := consul.Service{Name: "users", Address: "127.0.0.1", Port: 8080}
	with := func(f func(*consul.Service)) consul.Service {
		s := ok
		f(&s)
		return s
	}
	tests := []struct {
		name    string
		service consul.Service
		wantErr string // empty: valid
		wantID  string
	}{
		{name: "minimal", service: ok, wantID: "users-127.0.0.1:8080"},
		{name: "IPv6 address", service: with(func(s *consul.Service) { s.Address = "2001:db8::7" }), wantID: "users-[2001:db8::7]:8080"},
		{name: "explicit ID", service: with(func(s *consul.Service) { s.ID = "users-1" }), wantID: "users-1"},
		{name: "no address", service: with(func(s *consul.Service) { s.Address = "" }), wantID: "users-agent:8080"},
		{name: "no name", service: with(func(s *consul.Service) { s.Name = "" }), wantErr: "Service.Name is required"},
		{name: "slash in name", service: with(func(s *consul.Service) { s.Name = "a/b" }), wantErr: "Service.Name"},
		{name: "space in ID", service: with(func(s *consul.Service) { s.ID = "a b" }), wantErr: "Service.ID"},
		{name: "port zero", service: with(func(s *consul.Service) { s.Port = 0 }), wantErr: "Service.Port 0"},
		{name: "port too big", service: with(func(s *consul.Service) { s.Port = 70000 }), wantErr: "Service.Port 70000"},
		{name: "address with port", service: with(func(s *consul.Service) { s.Address = "10.0.0.1:80" }), wantErr: "must not include a port"},
		{name: "bracketed address", service: with(func(s *consul.Service) { s.Address = "[::1]" }), wantErr: "without brackets"},
		{name: "two checks", service: with(func(s *consul.Service) {
			s.Check = &consul.Check{HTTP: "http://127.0.0.1:8080/health", TTL: time.Second}
		}), wantErr: "exactly one of HTTP, GRPC and TTL"},
		{name: "no check kind", service: with(func(s *consul.Service) { s.Check = &consul.Check{Interval: time.Second} }), wantErr: "exactly one"},
		{name: "relative HTTP check", service: with(func(s *consul.Service) { s.Check = &consul.Check{HTTP: "/health"} }), wantErr: "not an absolute http or https URL"},
		{name: "heartbeat not shorter than TTL", service: with(func(s *consul.Service) {
			s.Check = &consul.Check{TTL: time.Second, Heartbeat: time.Second}
		}), wantErr: "must be shorter than"},
		{name: "negative TTL", service: with(func(s *consul.Service) { s.Check = &consul.Check{TTL: -time.Second} }), wantErr: "must be positive"},
		{name: "negative interval", service: with(func(s *consul.Service) {
			s.Check = &consul.Check{GRPC: "127.0.0.1:9090", Interval: -1}
		}), wantErr: "must not be negative"},
		{name: "gRPC check", service: with(func(s *consul.Service) { s.Check = &consul.Check{GRPC: "127.0.0.1:9090"} }), wantID: "users-127.0.0.1:8080"},
		{name: "TTL check", service: with(func(s *consul.Service) { s.Check = &consul.Check{TTL: time.Second} }), wantID: "users-127.0.0.1:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := consul.NewRegistrar(client, tt.service)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Nil(t, r)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantID, r.ID())
		})
	}
	_, err := consul.NewRegistrar(nil, ok)
	assert.ErrorContains(t, err, "nil client")
}

func TestRegistrarRegistersWithCheck(t *testing.T) {
	t.Parallel()
	client := newClient(t, agent)
	health := newHealthServer(t)
	port := health.port()
	tests := []struct {
		name      string
		check     *consul.Check
		wantCheck func(*testing.T, agentCheck)
	}{
		{
			name:  "HTTP",
			check: &consul.Check{HTTP: "http://" + health.addr + "/health", Interval: time.Second, Timeout: time.Second},
			wantCheck: func(t *testing.T, c agentCheck) {
				assert.Equal(t, "http", c.Type)
				assert.Equal(t, "1s", c.Interval)
				assert.Equal(t, "1s", c.Timeout)
			},
		},
		{
			name:  "gRPC",
			check: &consul.Check{GRPC: health.addr, Interval: 2 * time.Second},
			wantCheck: func(t *testing.T, c agentCheck) {
				assert.Equal(t, "grpc", c.Type)
				assert.Equal(t, "2s", c.Interval)
			},
		},
		{
			name:  "TTL",
			check: &consul.Check{TTL: 5 * time.Second, DeregisterCriticalAfter: time.Minute},
			wantCheck: func(t *testing.T, c agentCheck) {
				assert.Equal(t, "ttl", c.Type)
				assert.Equal(t, api.HealthPassing, c.Status, "Register passes a TTL check at once")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := consul.NewRegistrar(client, consul.Service{
				Name:    "reg-" + tt.name,
				Tags:    []string{"v1", "blue"},
				Meta:    map[string]string{"version": "1.2.3"},
				Address: "127.0.0.1",
				Port:    port,
				Check:   tt.check,
			}, quietRegistrar)
			require.NoError(t, err)
			ctx := context.Background()
			require.NoError(t, r.Register(ctx))
			require.NoError(t, r.Register(ctx), "registering again updates the registration")

			svc, _, err := client.Agent().Service(r.ID(), nil)
			require.NoError(t, err)
			assert.Equal(t, "reg-"+tt.name, svc.Service)
			assert.Equal(t, []string{"v1", "blue"}, svc.Tags)
			assert.Equal(t, map[string]string{"version": "1.2.3"}, svc.Meta)
			assert.Equal(t, "127.0.0.1", svc.Address)
			assert.Equal(t, port, svc.Port)

			var checks map[string]agentCheck
			_, err = client.Raw().Query("/v1/agent/checks", &checks, nil)
			require.NoError(t, err)
			check, ok := checks["service:"+r.ID()]
			require.True(t, ok, "the check has the ID service:<service ID>")
			assert.Equal(t, r.ID(), check.ServiceID)
			tt.wantCheck(t, check)

			require.NoError(t, r.Deregister(ctx))
			require.NoError(t, r.Deregister(ctx), "deregistering an unknown instance is not an error")
			services, err := client.Agent().Services()
			require.NoError(t, err)
			assert.NotContains(t, services, r.ID())
		})
	}
}

func TestRegistrarRenewsTTL(t *testing.T) {
	t.Parallel()
	client := newClient(t, agent)
	r, err := consul.NewRegistrar(client, consul.Service{
		Name: "ttl-renew", Address: "127.0.0.1", Port: 9000,
		Check: &consul.Check{TTL: time.Second, Heartbeat: 200 * time.Millisecond},
	}, quietRegistrar)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, r.Register(ctx))
	t.Cleanup(func() { _ = r.Deregister(context.Background()) })

	inst, err := consul.NewInstancer(client, "ttl-renew")
	require.NoError(t, err)
	t.Cleanup(inst.Stop)
	w := watch(t, inst)
	w.WaitFor(t, 0, 5*time.Second, "the instance", hasInstances("127.0.0.1:9000"))

	// Outlive the TTL several times over: the heartbeat keeps it passing.
	time.Sleep(1500 * time.Millisecond)
	ev, _ := inst.State()
	assert.Equal(t, []string{"127.0.0.1:9000"}, ev.Instances)
	assert.NoError(t, ev.Err)

	// An agent that lost the registration gets it again from the heartbeat.
	mark := w.Mark()
	require.NoError(t, client.Agent().ServiceDeregister(r.ID()))
	w.WaitFor(t, mark, 5*time.Second, "the instance gone", hasInstances())
	w.WaitFor(t, mark, 5*time.Second, "the instance registered again", hasInstances("127.0.0.1:9000"))

	// Deregister stops the heartbeat: the instance stays gone.
	mark = w.Mark()
	require.NoError(t, r.Deregister(ctx))
	w.WaitFor(t, mark, 5*time.Second, "the instance gone", hasInstances())
	time.Sleep(500 * time.Millisecond)
	ev, _ = inst.State()
	assert.Empty(t, ev.Instances)
}

// agentCheck is the part of the agent's view of a check that the tests
// look at; the API package's types leave out the interval and timeout.
type agentCheck struct {
	ServiceID string
	Type      string
	Status    string
	Interval  string
	Timeout   string
}

// healthServer is a loopback HTTP server with a /health endpoint that
// passes.
type healthServer struct{ addr string }

func newHealthServer(t *testing.T) *healthServer {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return &healthServer{addr: srv.Listener.Addr().String()}
}

func (h *healthServer) port() int {
	_, p, _ := net.SplitHostPort(h.addr)
	n, _ := strconv.Atoi(p)
	return n
}
