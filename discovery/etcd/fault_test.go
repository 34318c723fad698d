package etcd_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/typedkit/kit/discovery/etcd"
	"github.com/typedkit/kit/internal/discoverytest"
	"github.com/typedkit/kit/internal/etcdtest"
)

// envFaultsEtcd hands an instance process of TestFaults the endpoints of
// the etcd it registers itself in.
const envFaultsEtcd = "TYPEDKIT_FAULTS_ETCD"

// faultTTL is the lease TTL of the instances of TestFaults: etcd's
// minimum with its default timings.
const faultTTL = 2 * time.Second

// registerSelf registers an instance process in etcd, as a service
// registers itself: under "faults" at its HTTP address and "faults-grpc"
// at its gRPC address, on leases of its own that it keeps alive, so that
// its death or its hanging lets them expire.
func registerSelf(ctx context.Context, a discoverytest.Advertised) (func(), error) {
	endpoints := os.Getenv(envFaultsEtcd)
	if endpoints == "" {
		return func() {}, nil
	}
	client, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(endpoints, ","), DialTimeout: 5 * time.Second,
		DialOptions: etcd.DialOptions(), Logger: zap.NewNop()})
	if err != nil {
		return nil, err
	}
	var regs []*etcd.Registrar
	deregister := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, r := range regs {
			_ = r.Deregister(ctx)
		}
		_ = client.Close()
	}
	for _, s := range []struct{ name, addr string }{{"faults", a.HTTP}, {"faults-grpc", a.GRPC}} {
		host, port, _ := net.SplitHostPort(s.addr)
		p, _ := strconv.Atoi(port)
		r, err := etcd.NewRegistrar(client, etcd.Service{Name: s.name, Address: host, Port: p},
			etcd.RegistrarTTL(faultTTL), etcd.RegistrarLogger(slog.New(slog.DiscardHandler)))
		if err == nil {
			err = r.Register(ctx)
		}
		if err != nil {
			deregister()
			return nil, errors.Join(err, client.Close())
		}
		regs = append(regs, r)
	}
	return deregister, nil
}

// TestFaults is the fault table of the etcd backend: three instances, each
// a process of its own behind a proxy that registers itself with a 2 s
// lease, called under load by a typed client and by a plain grpc-go client
// through etcd:///faults-grpc (see discoverytest.RunFault) while an
// instance is killed, hung or cut off, or etcd restarts. etcd has no
// health checks: an instance leaves when its lease expires, and a network
// that drops its traffic leaves it registered, so only the client's
// outlier ejection takes it out. It logs the table; it asserts that the
// sets get right and that no typed call fails, never the times.
//
// Not parallel: its rows measure times, and one restarts its etcd.
func TestFaults(t *testing.T) {
	type row struct {
		server *etcdtest.Server
		inst   []*discoverytest.Instance
	}
	without := func(r *row, gone *discoverytest.Instance) []string {
		var out []string
		for _, in := range r.inst {
			if in != gone {
				out = append(out, in.HTTP.Addr)
			}
		}
		return out
	}
	cases := []struct {
		name          string
		resolverFails bool
		inject        func(t *testing.T, r *row) (time.Time, []string, []string, string)
	}{
		{name: "kill (SIGKILL of an instance)", inject: func(t *testing.T, r *row) (time.Time, []string, []string, string) {
			at := time.Now()
			require.NoError(t, r.inst[0].Kill())
			return at, without(r, r.inst[0]), without(r, r.inst[0]), "balancer: ejected; set: its lease expires (TTL 2 s)"
		}},
		{name: "hang (SIGSTOP of an instance)", resolverFails: true, inject: func(t *testing.T, r *row) (time.Time, []string, []string, string) {
			at := time.Now()
			require.NoError(t, r.inst[0].Hang())
			return at, without(r, r.inst[0]), without(r, r.inst[0]), "balancer: ejected; set: its lease expires (TTL 2 s)"
		}},
		{name: "drop (its proxy stops forwarding)", resolverFails: true, inject: func(t *testing.T, r *row) (time.Time, []string, []string, string) {
			at := time.Now()
			r.inst[0].Drop()
			return at, without(r, nil), without(r, r.inst[0]), "balancer: ejected; set: unchanged, etcd does not see it"
		}},
		{name: "etcd restart", inject: func(t *testing.T, r *row) (time.Time, []string, []string, string) {
			require.NoError(t, r.server.Stop())
			time.Sleep(time.Second)
			require.NoError(t, r.server.Restart())
			at := time.Now()
			require.NoError(t, r.inst[0].Shutdown())
			return at, without(r, r.inst[0]), without(r, r.inst[0]), "etcd away 1 s; from its answering again to a deregistration made then"
		}},
	}
	var table []discoverytest.FaultRow
	for _, fc := range cases {
		t.Run(fc.name, func(t *testing.T) {
			r := &row{server: etcdtest.Start(t)}
			for i := range 3 {
				r.inst = append(r.inst, discoverytest.StartInstance(t, "i"+strconv.Itoa(i),
					envFaultsEtcd+"="+strings.Join(r.server.Endpoints(), ",")))
			}
			client := newClient(t, r.server.Endpoints()...)
			instancer, err := etcd.NewInstancer(client, "faults")
			require.NoError(t, err)
			t.Cleanup(instancer.Stop)
			conn, err := grpc.NewClient("etcd:///faults-grpc",
				grpc.WithResolvers(etcd.NewResolver(client)),
				grpc.WithDefaultServiceConfig(discoverytest.GRPCServiceConfig),
				grpc.WithTransportCredentials(insecure.NewCredentials()))
			require.NoError(t, err)
			t.Cleanup(func() { _ = conn.Close() })

			table = append(table, discoverytest.RunFault(t, discoverytest.Fault{
				Name:            fc.name,
				Instancer:       instancer,
				Conn:            conn,
				Instances:       r.inst,
				ResolverMayFail: fc.resolverFails,
				Inject: func(t *testing.T) (time.Time, []string, []string, string) {
					return fc.inject(t, r)
				},
			}))
		})
	}
	discoverytest.LogTable(t, "etcd fault table", table)
}
