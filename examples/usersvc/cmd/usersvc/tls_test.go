package main

import (
	"context"
	"crypto/tls"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/examples/usersvc"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/internal/tlstest"
	"github.com/typedkit/kit/tlsx"
)

// tool returns the path of an independent client, skipping the test when
// it is missing, unless CI=true, where it must be there (make deps
// installs it).
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI (make deps installs it): %v", name, err)
		}
		t.Skipf("%s is not installed (apt-get install %s); skipping the check with an independent client", name, name)
	}
	return p
}

// startTLSService starts the command over mutual TLS with set's server
// certificate and CA, plus args, and waits until /readyz answers 200 over
// TLS to a client without a certificate, as a probe is.
func startTLSService(t *testing.T, set *tlstest.Set, args ...string) (httpAddr, grpcAddr string, s *service) {
	t.Helper()
	httpAddr, grpcAddr = freePort(t), freePort(t)
	buildOnce.Do(func() { buildErr = build() })
	require.NoError(t, buildErr)
	args = append([]string{"-dev", "-http.addr", httpAddr, "-grpc.addr", grpcAddr,
		"-tls.cert", set.Server.Cert, "-tls.key", set.Server.Key, "-tls.client-ca", set.CA.File}, args...)
	s = &service{cmd: exec.Command(binPath, args...), logs: new(syncBuffer), exited: make(chan struct{}), base: "https://" + httpAddr}
	s.cmd.Stderr = s.logs
	require.NoError(t, s.cmd.Start())
	go func() {
		s.exitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
	probe := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: set.CA.Pool()}}, Timeout: time.Second}
	require.Eventually(t, func() bool {
		resp, err := probe.Get(s.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 20*time.Millisecond, "the service did not become ready over TLS:\n%s", s.logs)
	return httpAddr, grpcAddr, s
}

// build builds the command into binPath.
func build() error {
	dir, err := os.MkdirTemp("", "usersvc-test-")
	if err != nil {
		return err
	}
	binPath = dir + "/usersvc"
	if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
		return &buildError{err, out}
	}
	return nil
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + string(e.out) }

func TestTLSFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-dev", "-tls.cert", "c.pem"},
		{"-dev", "-tls.key", "k.pem"},
		{"-dev", "-tls.client-ca", "ca.pem"},
		{"-dev", "-tls.cert", "c.pem", "-tls.key", "k.pem", "-tls.allow", "a.example"},
	} {
		_, err := parseFlags(args)
		assert.Error(t, err, "%q", args)
	}
	c, err := parseFlags([]string{"-dev", "-tls.cert", "c", "-tls.key", "k", "-tls.client-ca", "ca", "-tls.allow", "a.example, spiffe://td/ns/prod/*"})
	require.NoError(t, err)
	assert.Equal(t, []string{"a.example"}, dnsNames(c.tlsAllow))
	assert.Equal(t, []string{"spiffe://td/ns/prod/*"}, uris(c.tlsAllow))
}

// TestTLSWithCurl talks to the service over mutual TLS with curl: a call
// with a client certificate of the CA succeeds over HTTP/2, one without a
// certificate is refused, health answers without one, and plaintext on
// the port is answered 400.
func TestTLSWithCurl(t *testing.T) {
	t.Parallel()
	curl := tool(t, "curl")
	set := tlstest.NewSet(t)
	addr, _, svc := startTLSService(t, set, "-tls.allow", tlstest.ClientAURI)
	run := func(args ...string) (string, string) {
		out, err := exec.Command(curl, append([]string{"-sS", "--max-time", "10", "-o", "-", "-w", "\n%{http_code} %{http_version}", "--cacert", set.CA.File}, args...)...).CombinedOutput()
		require.NoError(t, err, "%s", out)
		i := strings.LastIndexByte(string(out), '\n')
		require.GreaterOrEqual(t, i, 0, "%s", out)
		return string(out[:i]), string(out[i+1:])
	}
	base := "https://" + addr
	body, status := run("--cert", set.ClientA.Cert, "--key", set.ClientA.Key, "-H", "Content-Type: application/json",
		"-d", `{"name":"Ada","email":"ada@example.com"}`, base+"/users")
	assert.Equal(t, "200 2", status, body)
	assert.Contains(t, body, `"name":"Ada"`)

	body, status = run("--cert", set.ClientB.Cert, "--key", set.ClientB.Key, base+"/users")
	assert.Equal(t, "403 2", status, "client b is not in -tls.allow: %s", body)
	body, status = run(base + "/users")
	assert.Equal(t, "401 2", status, "no client certificate: %s", body)
	_, status = run(base + "/livez")
	assert.Equal(t, "200 2", status, "probes need no client certificate")
	_, status = run("--http1.1", base+"/readyz")
	assert.Equal(t, "200 1.1", status)

	// Certificates the server must refuse fail the handshake.
	for _, f := range []tlstest.Files{set.Expired, set.Foreign} {
		out, err := exec.Command(curl, "-sS", "--max-time", "10", "--cacert", set.CA.File, "--cert", f.Cert, "--key", f.Key, base+"/users").CombinedOutput()
		assert.Error(t, err, "%s", out)
	}

	body, status = run("http://" + addr + "/users")
	assert.Equal(t, "400 1", status, "net/http answers HTTP/1.0 400")
	assert.Contains(t, body, "HTTP request to an HTTPS server")
	_, status = run("--cert", set.ClientA.Cert, "--key", set.ClientA.Key, base+"/users")
	assert.Equal(t, "200 2", status, "the server goes on serving:\n%s", svc.logs)
	svc.stop(t)
}

// TestTLSWithOpenSSL checks the handshake with openssl s_client: a
// verified chain, h2 through ALPN, TLS 1.2 accepted and TLS 1.1 refused.
func TestTLSWithOpenSSL(t *testing.T) {
	t.Parallel()
	openssl := tool(t, "openssl")
	set := tlstest.NewSet(t)
	addr, grpcAddr, svc := startTLSService(t, set)
	sClient := func(extra ...string) (string, error) {
		args := append([]string{"s_client", "-connect", addr, "-servername", "localhost", "-CAfile", set.CA.File, "-verify_return_error",
			"-cert", set.ClientA.Cert, "-key", set.ClientA.Key}, extra...)
		cmd := exec.Command(openssl, args...)
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := sClient("-alpn", "h2,http/1.1")
	require.NoError(t, err, out)
	assert.Contains(t, out, "Verify return code: 0 (ok)")
	assert.Contains(t, out, "ALPN protocol: h2")
	out, err = sClient("-tls1_2")
	require.NoError(t, err, out)
	assert.Contains(t, out, "Protocol  : TLSv1.2")
	out, err = sClient("-tls1_1")
	assert.True(t, err != nil || !strings.Contains(out, "Verify return code: 0 (ok)"), "TLS 1.1 is refused:\n%s", out)

	// The gRPC port too, with h2 only.
	cmd := exec.Command(openssl, "s_client", "-connect", grpcAddr, "-servername", "localhost", "-CAfile", set.CA.File, "-verify_return_error", "-alpn", "h2")
	cmd.Stdin = strings.NewReader("")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", b)
	assert.Contains(t, string(b), "ALPN protocol: h2")
	svc.stop(t)
}

// TestTLSOverGRPC calls the service's gRPC port over mutual TLS with the
// generated client: a client certificate admits, none is
// Unauthenticated, and the health service answers without one.
func TestTLSOverGRPC(t *testing.T) {
	t.Parallel()
	set := tlstest.NewSet(t)
	_, grpcAddr, svc := startTLSService(t, set)
	dial := func(f tlstest.Files) *grpc.ClientConn {
		cfg, err := tlsx.ClientFiles{CA: set.CA.File, Cert: f.Cert, Key: f.Key}.Config()
		require.NoError(t, err)
		conn, err := grpc.NewClient(grpcAddr, grpcx.DialTLS(cfg))
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close() })
		return conn
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u, err := usersvc.NewGRPCClient(dial(set.ClientA)).CreateUser(ctx, usersvc.CreateUserRequest{Name: "Ada", Email: "ada@example.com"})
	require.NoError(t, err)
	assert.Equal(t, "Ada", u.Name)

	anonymous := dial(tlstest.Files{})
	_, err = usersvc.NewGRPCClient(anonymous).CreateUser(ctx, usersvc.CreateUserRequest{Name: "Eve", Email: "eve@example.com"})
	assert.Equal(t, kit.Unauthenticated, kit.CodeOf(err), "%v", err)
	resp, err := healthpb.NewHealthClient(anonymous).Check(ctx, &healthpb.HealthCheckRequest{Service: usersvc.GRPCServiceName})
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
	svc.stop(t)
}
