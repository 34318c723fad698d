package consul_test

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/url"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
	"github.com/typedkit/kit/discovery/consul"
	"github.com/typedkit/kit/httpx"
)

// A service registers itself with an HTTP health check, and withdraws
// before it stops serving.
func ExampleRegistrar() {
	client, err := api.NewClient(api.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	registrar, err := consul.NewRegistrar(client, consul.Service{
		Name:    "users",
		Tags:    []string{"v2"},
		Address: "10.0.0.7",
		Port:    8080,
		Check: &consul.Check{
			HTTP:                    "http://10.0.0.7:8080/readyz",
			Interval:                5 * time.Second,
			DeregisterCriticalAfter: 10 * time.Minute,
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if err := registrar.Register(ctx); err != nil {
		log.Fatal(err)
	}
	// ... serve until asked to stop, then:
	if err := registrar.Deregister(ctx); err != nil {
		log.Print(err)
	}
	// ... and drain the server.
}

// A client watches the healthy instances of a service and calls them
// through a balancer and retries.
func ExampleNewInstancer() {
	client, err := api.NewClient(api.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	instancer, err := consul.NewInstancer(client, "users", consul.InstancerTags("v2"))
	if err != nil {
		log.Fatal(err)
	}
	defer instancer.Stop()

	factory := func(instance string) (kit.Endpoint[echoReq, echoResp], io.Closer, error) {
		u, err := url.Parse("http://" + instance + "/echo")
		if err != nil {
			return nil, nil, err
		}
		// Echo may be sent twice: Retry may resend it after a failure
		// mid-flight, not only when it provably never left.
		c := httpx.NewClient(http.MethodPost, u, httpx.EncodeJSONRequest[echoReq], httpx.DecodeJSONResponse[echoResp], httpx.ClientCall(kit.Call{Method: "Echo", Idempotent: true}))
		return c.Endpoint(), nil, nil
	}
	endpointer := discovery.NewEndpointer(instancer, factory)
	defer endpointer.Close()

	echo := discovery.Retry(discovery.RoundRobin(endpointer), discovery.RetryAttemptTimeout(time.Second))
	resp, err := echo(context.Background(), echoReq{N: 1})
	if err != nil {
		log.Fatal(err)
	}
	log.Println(resp.Instance)
}
