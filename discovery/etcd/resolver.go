package etcd

import (
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/resolver"

	"github.com/typedkit/kit/discovery"
)

// Scheme is the URI scheme of the targets of [NewResolver]'s builder.
const Scheme = "etcd"

// NewResolver returns a grpc-go resolver.Builder that resolves targets of
// the form
//
//	etcd:///usersvc
//
// to the instances of the service registered in the etcd cluster client
// talks to, followed as they change by an [Instancer] with opts.
// grpc.NewClient then balances with grpc-go's own policies:
//
//	conn, err := grpc.NewClient("etcd:///usersvc",
//		grpc.WithResolvers(etcd.NewResolver(client)),
//		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig": [{"round_robin":{}}]}`),
//		grpc.WithTransportCredentials(insecure.NewCredentials()))
//
// The builder is registered only with the clients it is given to. A target
// with an authority (etcd://host/...) or query parameters is refused: the
// client names the cluster, and opts configure the Instancer.
func NewResolver(client *clientv3.Client, opts ...InstancerOption) resolver.Builder {
	return discovery.NewResolver(Scheme, func(target resolver.Target) (discovery.Instancer, error) {
		service, err := parseTarget(target)
		if err != nil {
			return nil, err
		}
		return NewInstancer(client, service, opts...)
	})
}

// parseTarget returns the service a target names.
func parseTarget(target resolver.Target) (string, error) {
	u := target.URL
	if u.Host != "" {
		return "", fmt.Errorf("etcd: target %q names a cluster (%s); the resolver's client does: use etcd:///service", u.String(), u.Host)
	}
	if u.RawQuery != "" {
		return "", fmt.Errorf("etcd: target %q has parameters; give the resolver InstancerOptions instead", u.String())
	}
	service := strings.TrimPrefix(u.Path, "/")
	if service == "" || strings.Contains(service, "/") {
		return "", fmt.Errorf("etcd: target %q must be etcd:///service", u.String())
	}
	return service, nil
}
