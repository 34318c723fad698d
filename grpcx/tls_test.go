package grpcx_test

import (
	"context"
	"crypto/tls"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/grpcx"
	"github.com/typedkit/kit/health"
	"github.com/typedkit/kit/internal/grpctest/testpb"
	"github.com/typedkit/kit/internal/tlstest"
	"github.com/typedkit/kit/tlsx"
)

// peerSum answers the URI SAN of the caller's verified certificate, or
// "-" without one.
func peerSum(ctx context.Context, _ sumReq) (sumResp, error) {
	if p, ok := tlsx.PeerFrom(ctx); ok && len(p.URIs) > 0 {
		return sumResp{C: p.URIs[0].String()}, nil
	}
	return sumResp{C: "-"}, nil
}

// serveGRPCTLS serves peerSum, through opts, over TLS with files on a
// loopback port until the test ends.
func serveGRPCTLS(t *testing.T, files tlsx.ServerFiles, opts ...grpcx.ServerOption) (string, *tlsx.Server) {
	t.Helper()
	srv, err := tlsx.NewServer(files)
	require.NoError(t, err)
	s := grpcx.NewGRPCServer(grpcx.ServerTLS(srv))
	opts = append([]grpcx.ServerOption{grpcx.ServerBefore(grpcx.TLSPeerToContext())}, opts...)
	testpb.RegisterTestServer(s, &service{sum: grpcx.NewServer(kit.Endpoint[sumReq, sumResp](peerSum), decodeSum, encodeSum, opts...)})
	grpcx.RegisterHealth(s, new(health.Health), grpcx.HealthServices("typedkit.test.Test"))
	lis := listenTCP(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- grpcx.Serve(ctx, s, lis, grpcx.ServeDrainTimeout(time.Second)) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	return lis.Addr().String(), srv
}

// dialTLS dials addr with the CA of set and the client certificate f
// (none when zero).
func dialTLS(t *testing.T, set *tlstest.Set, addr string, f tlstest.Files) *grpc.ClientConn {
	t.Helper()
	cfg, err := tlsx.ClientFiles{CA: set.CA.File, Cert: f.Cert, Key: f.Key}.Config()
	require.NoError(t, err)
	conn, err := grpc.NewClient(addr, grpcx.DialTLS(cfg))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestServerTLSHandshakes(t *testing.T) {
	t.Parallel()
	set := tlstest.NewSet(t)
	addr, _ := serveGRPCTLS(t, tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key, ClientCA: set.CA.File})
	for _, tc := range []struct {
		name   string
		client tlstest.Files
		want   string // reply, or "" for a failed handshake
	}{
		{"client a", set.ClientA, tlstest.ClientAURI},
		{"client b", set.ClientB, tlstest.ClientBURI},
		{"expired", set.Expired, ""},
		{"other CA", set.Foreign, ""},
		{"no certificate", tlstest.Files{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, err := sumClient(dialTLS(t, set, addr, tc.client))(callCtx(t), sumReq{A: 1, B: "x"})
			if tc.want == "" {
				require.Error(t, err)
				assert.Equal(t, kit.Unavailable, kit.CodeOf(err), err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, resp.C)
		})
	}
	t.Run("server-only TLS", func(t *testing.T) {
		t.Parallel()
		addr, _ := serveGRPCTLS(t, tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key})
		resp, err := sumClient(dialTLS(t, set, addr, tlstest.Files{}))(callCtx(t), sumReq{A: 1, B: "x"})
		require.NoError(t, err)
		assert.Equal(t, "-", resp.C)
	})
}

func TestServerTLSRefusesPlaintext(t *testing.T) {
	t.Parallel()
	set := tlstest.NewSet(t)
	addr, _ := serveGRPCTLS(t, tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key, ClientCA: set.CA.File})
	for range 3 {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(t, err)
		_, err = sumClient(conn)(callCtx(t), sumReq{A: 1, B: "x"})
		_ = conn.Close()
		require.Error(t, err)
		assert.Equal(t, kit.Unavailable, kit.CodeOf(err), err.Error())
	}
	hc := healthpb.NewHealthClient(dialTLS(t, set, addr, set.ClientA))
	resp, err := hc.Check(callCtx(t), &healthpb.HealthCheckRequest{Service: "typedkit.test.Test"})
	require.NoError(t, err, "the server goes on serving, health included")
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
}

// TestServerTLSReloadUnderLoad replaces the certificate while calls run
// on new connections and on one kept open: no call fails, new connections
// get the new certificate, the connection opened before keeps the old.
func TestServerTLSReloadUnderLoad(t *testing.T) {
	t.Parallel()
	set := tlstest.NewSet(t)
	served := set.CA.Server(t, "served")
	next := set.CA.Server(t, "next")
	addr, srv := serveGRPCTLS(t, tlsx.ServerFiles{Cert: served.Cert, Key: served.Key, ClientCA: set.CA.File})

	servedBy := func(conn *grpc.ClientConn) (string, error) {
		var p peer.Peer
		_, err := sumClient(conn, grpcx.ClientCallOptions(grpc.Peer(&p)))(callCtx(t), sumReq{A: 1, B: "x"})
		if err != nil {
			return "", err
		}
		return p.AuthInfo.(credentials.TLSInfo).State.PeerCertificates[0].SerialNumber.String(), nil
	}
	kept := dialTLS(t, set, addr, set.ClientA)
	serial, err := servedBy(kept)
	require.NoError(t, err)
	require.Equal(t, served.Leaf.SerialNumber.String(), serial)

	cfg, err := tlsx.ClientFiles{CA: set.CA.File, Cert: set.ClientA.Cert, Key: set.ClientA.Key}.Config()
	require.NoError(t, err)
	var (
		stop     atomic.Bool
		failures atomic.Int64
		mu       sync.Mutex
		seen     = map[string]int{}
		wg       sync.WaitGroup
	)
	for range 3 {
		wg.Go(func() {
			for !stop.Load() {
				conn, err := grpc.NewClient(addr, grpcx.DialTLS(cfg))
				if err != nil {
					failures.Add(1)
					continue
				}
				serial, err := servedBy(conn)
				_ = conn.Close()
				if err != nil {
					failures.Add(1)
					t.Log(err)
					continue
				}
				mu.Lock()
				seen[serial]++
				mu.Unlock()
			}
		})
	}
	waitSeen := func(serial string) {
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return seen[serial] > 0
		}, 10*time.Second, 5*time.Millisecond)
	}
	waitSeen(served.Leaf.SerialNumber.String())
	tlstest.Replace(t, served, next)
	waitSeen(next.Leaf.SerialNumber.String())
	stop.Store(true)
	wg.Wait()
	assert.Zero(t, failures.Load())
	assert.Equal(t, next.Leaf.SerialNumber, srv.Leaf().SerialNumber)

	serial, err = servedBy(kept)
	require.NoError(t, err)
	assert.Equal(t, served.Leaf.SerialNumber.String(), serial, "a connection keeps its certificate")
}

func TestDialTLSServerName(t *testing.T) {
	t.Parallel()
	set := tlstest.NewSet(t)
	addr, _ := serveGRPCTLS(t, tlsx.ServerFiles{Cert: set.Server.Cert, Key: set.Server.Key})
	cfg, err := tlsx.ClientFiles{CA: set.CA.File}.Config()
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		cfg  *tls.Config
		ok   bool
	}{
		{"from the target", cfg, true},
		{"override held by the certificate", tlsx.WithServerName(cfg, "localhost"), true},
		{"override not held", tlsx.WithServerName(cfg, "elsewhere.test"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn, err := grpc.NewClient(addr, grpcx.DialTLS(tc.cfg))
			require.NoError(t, err)
			defer conn.Close()
			_, err = sumClient(conn)(callCtx(t), sumReq{A: 1, B: "x"})
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.Equal(t, kit.Unavailable, kit.CodeOf(err))
			}
		})
	}
}

func TestPeerFromWithoutTLS(t *testing.T) {
	t.Parallel()
	_, ok := grpcx.PeerFrom(context.Background())
	assert.False(t, ok)
	ctx := grpcx.TLSPeerToContext()(context.Background(), nil)
	_, ok = tlsx.PeerFrom(ctx)
	assert.False(t, ok)
}
