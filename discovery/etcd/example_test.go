package etcd_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
	"github.com/typedkit/kit/discovery/etcd"
)

// A server registers itself in etcd, and a client balances over the
// instances it finds there. It needs an etcd at 127.0.0.1:2379, so it is
// compiled but not run.
func Example() {
	client, err := clientv3.New(clientv3.Config{Endpoints: []string{"127.0.0.1:2379"}, DialTimeout: 5 * time.Second, DialOptions: etcd.DialOptions()})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	// The server: registered while it serves, with a lease etcd drops
	// within the TTL if the process dies.
	reg, err := etcd.NewRegistrar(client, etcd.Service{Name: "users", Address: "10.0.0.7", Port: 8080}, etcd.RegistrarTTL(5*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if err := reg.Register(ctx); err != nil {
		log.Fatal(err)
	}
	defer reg.Deregister(ctx) // before the server stops answering

	// The client: the instances of users, one endpoint each.
	instancer, err := etcd.NewInstancer(client, "users")
	if err != nil {
		log.Fatal(err)
	}
	defer instancer.Stop()
	factory := func(instance string) (kit.Endpoint[string, string], io.Closer, error) {
		return func(_ context.Context, name string) (string, error) {
			return "hello " + name + " from " + instance, nil
		}, nil, nil
	}
	endpointer := discovery.NewEndpointer(instancer, factory)
	defer endpointer.Close()
	hello := discovery.Retry(discovery.RoundRobin(endpointer))
	fmt.Println(hello(ctx, "Ada"))
}
