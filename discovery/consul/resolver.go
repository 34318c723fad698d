package consul

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/consul/api"
	"google.golang.org/grpc/resolver"

	"github.com/typedkit/kit/discovery"
)

// Scheme is the URI scheme of the targets of [NewResolver]'s builder.
const Scheme = "consul"

// NewResolver returns a grpc-go resolver.Builder that resolves targets of
// the form
//
//	consul:///usersvc?tag=grpc&tag=v2&healthy=true&dc=dc1
//
// to the instances of the service that client's agent knows, followed as
// they change by an [Instancer] with opts (the target's parameters add to
// them): tag (repeatable) keeps the instances that have every tag, dc
// names another datacenter, and healthy=false includes instances whose
// checks fail. grpc.NewClient then balances with grpc-go's own policies:
//
//	conn, err := grpc.NewClient("consul:///usersvc?tag=grpc",
//		grpc.WithResolvers(consul.NewResolver(client)),
//		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig": [{"round_robin":{}}]}`),
//		grpc.WithTransportCredentials(insecure.NewCredentials()))
//
// The builder is registered only with the clients it is given to. A target
// with an authority (consul://host/...) is refused: the client names the
// agent.
func NewResolver(client *api.Client, opts ...InstancerOption) resolver.Builder {
	return discovery.NewResolver(Scheme, func(target resolver.Target) (discovery.Instancer, error) {
		service, targetOpts, err := parseTarget(target)
		if err != nil {
			return nil, err
		}
		return NewInstancer(client, service, append(append([]InstancerOption{}, opts...), targetOpts...)...)
	})
}

// parseTarget reads the service and the options of a target.
func parseTarget(target resolver.Target) (string, []InstancerOption, error) {
	u := target.URL
	if u.Host != "" {
		return "", nil, fmt.Errorf("consul: target %q names an agent (%s); the resolver's client does: use consul:///service", u.String(), u.Host)
	}
	service := strings.TrimPrefix(u.Path, "/")
	if service == "" || strings.Contains(service, "/") {
		return "", nil, fmt.Errorf("consul: target %q must be consul:///service", u.String())
	}
	var opts []InstancerOption
	for key, values := range u.Query() {
		switch key {
		case "tag":
			opts = append(opts, InstancerTags(values...))
		case "dc":
			opts = append(opts, InstancerDatacenter(values[len(values)-1]))
		case "healthy":
			healthy, err := strconv.ParseBool(values[len(values)-1])
			if err != nil {
				return "", nil, fmt.Errorf("consul: target %q: healthy=%q is not true or false", u.String(), values[len(values)-1])
			}
			if !healthy {
				opts = append(opts, InstancerIncludeFailing())
			}
		default:
			return "", nil, fmt.Errorf("consul: target %q: unknown parameter %q: want tag, dc or healthy", u.String(), key)
		}
	}
	return service, opts, nil
}
