package consul_test

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
	"github.com/typedkit/kit/discovery/consul"
	"github.com/typedkit/kit/httpx"
	"github.com/typedkit/kit/internal/tlstest"
	"github.com/typedkit/kit/tlsx"
)

func TestRegistrarTLSValidates(t *testing.T) {
	t.Parallel()
	client := newClient(t, agent)
	for _, tc := range []struct {
		name string
		svc  consul.Service
		want string
	}{
		{"TLS with an http check", consul.Service{Name: "s", Port: 1, TLS: true, Check: &consul.Check{HTTP: "http://127.0.0.1:1/readyz"}}, "not an https URL"},
		{"TLS meta taken", consul.Service{Name: "s", Port: 1, TLS: true, Meta: map[string]string{consul.MetaTLS: "no"}}, "Service.Meta"},
		{"skip verify of an http check", consul.Service{Name: "s", Port: 1, Check: &consul.Check{HTTP: "http://127.0.0.1:1/", TLSSkipVerify: true}}, "need an https"},
		{"server name of a plaintext gRPC check", consul.Service{Name: "s", Port: 1, Check: &consul.Check{GRPC: "127.0.0.1:1", TLSServerName: "x"}}, "GRPCUseTLS"},
		{"TLS fields of a TTL check", consul.Service{Name: "s", Port: 1, Check: &consul.Check{TTL: time.Second, TLSSkipVerify: true}}, "TTL check has no TLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := consul.NewRegistrar(client, tc.svc, quietRegistrar)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestTLSInstancesEndToEnd registers a mutual-TLS instance with an https
// check, which the agent runs over TLS, and reaches it through a
// discovery client that selects TLS instances by tag and dials each with
// a client certificate.
func TestTLSInstancesEndToEnd(t *testing.T) {
	t.Parallel()
	client := newClient(t, agent)
	set := tlstest.NewSet(t)
	srv, err := tlsx.NewServer(tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key, ClientCA: set.CA.File, ClientAuth: 3 /* VerifyClientCertIfGiven: the agent's check has no certificate */})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		p, ok := tlsx.PeerFrom(r.Context())
		if !ok {
			http.Error(w, "no client certificate", http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, `"`+p.Subject.CommonName+`"`)
	})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- httpx.Serve(ctx, &http.Server{Handler: mux, ErrorLog: log.New(io.Discard, "", 0)}, lis, httpx.ServeTLS(srv), httpx.ServeDrainTimeout(time.Second))
	}()
	t.Cleanup(func() { cancel(); assert.NoError(t, <-done) })

	port := lis.Addr().(*net.TCPAddr).Port
	reg, err := consul.NewRegistrar(client, consul.Service{
		Name: "tls-e2e", Address: "127.0.0.1", Port: port, TLS: true,
		Check: &consul.Check{
			HTTP:     "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + "/readyz",
			Interval: time.Second, Timeout: time.Second,
			// The agent does not trust the test CA.
			TLSSkipVerify: true,
		},
	}, quietRegistrar)
	require.NoError(t, err)
	require.NoError(t, reg.Register(context.Background()))
	t.Cleanup(func() { _ = reg.Deregister(context.Background()) })

	svc, _, err := client.Agent().Service(reg.ID(), nil)
	require.NoError(t, err)
	assert.Contains(t, svc.Tags, consul.TagTLS)
	assert.Equal(t, "true", svc.Meta[consul.MetaTLS])

	// The same instance with a check that verifies: the agent does not
	// trust the test CA, so it stays critical, for a certificate error.
	verifying, err := consul.NewRegistrar(client, consul.Service{
		ID: "tls-e2e-verifying", Name: "tls-e2e-verifying", Address: "127.0.0.1", Port: port, TLS: true,
		Check: &consul.Check{
			HTTP:     "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + "/readyz",
			Interval: time.Second, Timeout: time.Second, TLSServerName: "localhost",
		},
	}, quietRegistrar)
	require.NoError(t, err)
	require.NoError(t, verifying.Register(context.Background()))
	t.Cleanup(func() { _ = verifying.Deregister(context.Background()) })
	require.Eventually(t, func() bool {
		checks, err := client.Agent().Checks()
		if err != nil {
			return false
		}
		c, ok := checks["service:"+verifying.ID()]
		out := strings.ToLower(c.Output)
		return ok && c.Status == api.HealthCritical && (strings.Contains(out, "certificate") || strings.Contains(out, "x509"))
	}, deadline, 50*time.Millisecond, "a verifying check fails on the unknown CA")

	cfg, err := tlsx.ClientFiles{CA: set.CA.File, Cert: set.ClientA.Cert, Key: set.ClientA.Key}.Config()
	require.NoError(t, err)
	factory := func(instance string) (kit.Endpoint[struct{}, string], io.Closer, error) {
		u, err := url.Parse("https://" + instance + "/whoami")
		if err != nil {
			return nil, nil, err
		}
		tr := httpx.TLSTransport(tlsx.WithServerName(cfg, tlsx.HostOf(instance)))
		c := httpx.NewClient(http.MethodGet, u, func(context.Context, *http.Request, struct{}) error { return nil },
			httpx.DecodeJSONResponse[string], httpx.ClientHTTPClient(&http.Client{Transport: tr}))
		return c.Endpoint(), closeIdle{tr}, nil
	}
	inst, err := consul.NewInstancer(client, "tls-e2e", consul.InstancerTags(consul.TagTLS))
	require.NoError(t, err)
	t.Cleanup(inst.Stop)
	endpointer := discovery.NewEndpointer(inst, factory)
	t.Cleanup(func() { require.NoError(t, endpointer.Close()) })

	// The check starts critical and passes only if the agent speaks TLS
	// (a plaintext request is answered 400).
	require.Eventually(t, func() bool { return len(endpointer.Instances()) == 1 }, deadline, 10*time.Millisecond, "the TLS instance passes its https check")
	checksOf, _, err := client.Health().Checks("tls-e2e", nil)
	require.NoError(t, err)
	require.Len(t, checksOf, 1)
	assert.Equal(t, api.HealthPassing, checksOf[0].Status)

	call := discovery.Retry(discovery.RoundRobin(endpointer), discovery.RetryMaxAttempts(2))
	got, err := call(context.Background(), struct{}{})
	require.NoError(t, err)
	assert.Equal(t, "client-a", got)
}
