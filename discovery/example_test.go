package discovery_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
)

type GreetRequest struct{ Name string }

type GreetResponse struct{ Greeting string }

// greeterFactory stands in for a transport client: it makes an endpoint
// per instance that answers from that instance, except 10.0.0.1, which is
// down.
func greeterFactory(instance string) (kit.Endpoint[GreetRequest, GreetResponse], io.Closer, error) {
	ep := func(_ context.Context, req GreetRequest) (GreetResponse, error) {
		if instance == "10.0.0.1:8080" {
			return GreetResponse{}, kit.WithRetrySafety(kit.NewError(kit.Unavailable, "instance down"), kit.RetryNotProcessed)
		}
		return GreetResponse{Greeting: "Hello, " + req.Name + ", from " + instance}, nil
	}
	return ep, nil, nil
}

// The client path from a fixed list of instances: an endpointer makes one
// endpoint per instance, a round-robin balancer spreads the calls, and Retry
// tries the next instance when one is unavailable.
func Example() {
	instances := discovery.FixedInstancer{
		"10.0.0.1:8080",
		"10.0.0.2:8080",
		net.JoinHostPort("2001:db8::1", "8080"), // "[2001:db8::1]:8080"
	}
	endpointer := discovery.NewEndpointer(instances, greeterFactory)
	defer endpointer.Close()

	greet := discovery.Retry(discovery.RoundRobin(endpointer), discovery.RetryMaxAttempts(3))

	for _, name := range []string{"Ada", "Grace", "Edsger"} {
		resp, err := greet(context.Background(), GreetRequest{Name: name})
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(resp.Greeting)
	}
	// Output:
	// Hello, Ada, from 10.0.0.2:8080
	// Hello, Grace, from 10.0.0.2:8080
	// Hello, Edsger, from [2001:db8::1]:8080
}

func ExampleNewEndpointer() {
	endpointer := discovery.NewEndpointer(discovery.FixedInstancer{"b:80", "a:80", "a:80"}, greeterFactory)
	defer endpointer.Close()

	fmt.Println(endpointer.Instances())
	endpoints, err := endpointer.Endpoints()
	fmt.Println(len(endpoints), err)
	// Output:
	// [a:80 b:80]
	// 2 <nil>
}

func ExampleRetry() {
	endpointer := discovery.NewEndpointer(discovery.FixedInstancer{"10.0.0.1:8080"}, greeterFactory)
	defer endpointer.Close()

	greet := discovery.Retry(discovery.RoundRobin(endpointer), discovery.RetryMaxAttempts(2))
	_, err := greet(context.Background(), GreetRequest{Name: "Ada"})

	var retryErr *discovery.RetryError
	if errors.As(err, &retryErr) {
		fmt.Println("attempts:", len(retryErr.Attempts))
	}
	fmt.Println("code:", kit.CodeOf(err))
	fmt.Println("message:", kit.MessageOf(err))
	// Output:
	// attempts: 2
	// code: unavailable
	// message: instance down
}

func ExampleRoundRobin_noEndpoints() {
	endpointer := discovery.NewEndpointer(discovery.FixedInstancer{}, greeterFactory)
	defer endpointer.Close()

	_, err := discovery.RoundRobin(endpointer).Endpoint()
	fmt.Println(kit.CodeOf(err), errors.Is(err, discovery.ErrNoEndpoints))
	// Output:
	// unavailable true
}
