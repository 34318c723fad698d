package discovery

import (
	"errors"
	"sync"

	"google.golang.org/grpc/resolver"
)

// An InstancerFunc makes the [Instancer] of a gRPC target, such as the
// Consul instancer of the service a target names. The resolver that asked
// for it stops it when grpc-go closes the resolver.
type InstancerFunc func(target resolver.Target) (Instancer, error)

// NewResolver returns a grpc-go resolver.Builder for scheme whose resolvers
// follow the instancer that newInstancer makes for each target: every
// event's instances become the ClientConn's addresses, so grpc.NewClient
// connects to every instance and balances with grpc-go's own policies
// (pick_first, round_robin, or one from the service config), subchannels
// and keepalive. An event with an error keeps the last addresses, as an
// [Endpointer] keeps its last good set; before any address is known the
// error reaches the ClientConn, whose calls wait or fail as their options
// say.
//
// The builder is not registered: give it to the client that uses it,
// grpc.NewClient(scheme+":///"+..., grpc.WithResolvers(b)), so that no
// import changes how another client of the process resolves.
func NewResolver(scheme string, newInstancer InstancerFunc) resolver.Builder {
	return &resolverBuilder{scheme: scheme, newInstancer: newInstancer}
}

type resolverBuilder struct {
	scheme       string
	newInstancer InstancerFunc
}

func (b *resolverBuilder) Scheme() string { return b.scheme }

func (b *resolverBuilder) Build(target resolver.Target, cc resolver.ClientConn, _ resolver.BuildOptions) (resolver.Resolver, error) {
	inst, err := b.newInstancer(target)
	if err != nil {
		return nil, err
	}
	if inst == nil {
		return nil, errors.New("discovery: NewResolver: the InstancerFunc returned no instancer")
	}
	r := &instancerResolver{inst: inst, cc: cc, ch: make(chan Event, 1), done: make(chan struct{})}
	inst.Register(r.ch)
	go r.run()
	return r, nil
}

// instancerResolver hands an instancer's events to a ClientConn.
type instancerResolver struct {
	inst Instancer
	cc   resolver.ClientConn
	ch   chan Event
	done chan struct{}
	once sync.Once
}

func (r *instancerResolver) run() {
	known := false
	for {
		select {
		case <-r.done:
			return
		case ev := <-r.ch:
			switch {
			case ev.Err != nil && known && len(ev.Instances) > 0:
				// Keep the last good addresses.
			case ev.Err == nil || len(ev.Instances) > 0:
				addrs := make([]resolver.Address, len(ev.Instances))
				for i, inst := range ev.Instances {
					addrs[i] = resolver.Address{Addr: inst}
				}
				// An error from UpdateState means the balancer refused
				// the state (no address at all, for round_robin); the
				// next event tries again.
				_ = r.cc.UpdateState(resolver.State{Addresses: addrs})
				known = ev.Err == nil || known
			default:
				r.cc.ReportError(ev.Err)
			}
		}
	}
}

// ResolveNow does nothing: the instancer sends every change as it happens.
func (r *instancerResolver) ResolveNow(resolver.ResolveNowOptions) {}

// Close unsubscribes from the instancer and stops it.
func (r *instancerResolver) Close() {
	r.once.Do(func() {
		r.inst.Deregister(r.ch)
		close(r.done)
		r.inst.Stop()
	})
}
