package discovery_test

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
)

// An instance whose calls keep failing is ejected after two failures in a
// row: it stays among the instances but out of the balancer's picks, and
// Retry's calls no longer try it first.
func ExampleEndpointerOutlierEjection() {
	endpointer := discovery.NewEndpointer(discovery.FixedInstancer{"10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"},
		greeterFactory, // 10.0.0.1 is down
		discovery.EndpointerOutlierEjection(discovery.OutlierEjection{
			ConsecutiveFailures: 2,
			BaseEjectionTime:    time.Minute,
		}),
		quiet,
	)
	defer endpointer.Close()

	greet := discovery.Retry(discovery.RoundRobin(endpointer))
	for _, name := range []string{"Ada", "Grace", "Edsger", "Barbara", "Niklaus"} {
		if _, err := greet(context.Background(), GreetRequest{Name: name}); err != nil {
			fmt.Println("error:", err)
		}
	}
	endpoints, _ := endpointer.Endpoints()
	fmt.Println("instances:", endpointer.Instances())
	fmt.Println("ejected:", endpointer.Ejected())
	fmt.Println("endpoints:", len(endpoints))
	// Output:
	// instances: [10.0.0.1:8080 10.0.0.2:8080 10.0.0.3:8080]
	// ejected: [10.0.0.1:8080]
	// endpoints: 2
}

// slowGreeterFactory answers from every instance but 10.0.0.1, which
// answers only once its caller gives up.
func slowGreeterFactory(instance string) (kit.Endpoint[GreetRequest, GreetResponse], io.Closer, error) {
	return func(ctx context.Context, req GreetRequest) (GreetResponse, error) {
		if instance == "10.0.0.1:8080" {
			<-ctx.Done()
			return GreetResponse{}, kit.WrapError(kit.Canceled, context.Cause(ctx), "")
		}
		return GreetResponse{Greeting: "Hello, " + req.Name + ", from " + instance}, nil
	}, nil, nil
}

// A call whose first attempt has not answered after 10 ms is hedged on the
// next instance, whose answer wins; the slow attempt is cancelled. Calls
// must be idempotent to be hedged.
func ExampleRetryHedgeAfter() {
	endpointer := discovery.NewEndpointer(discovery.FixedInstancer{"10.0.0.1:8080", "10.0.0.2:8080"}, slowGreeterFactory)
	defer endpointer.Close()

	greet := discovery.Retry(discovery.RoundRobin(endpointer),
		discovery.RetryIdempotentCalls(),
		discovery.RetryHedgeAfter(10*time.Millisecond))
	resp, err := greet(context.Background(), GreetRequest{Name: "Ada"})
	fmt.Println(resp.Greeting, err)
	// Output:
	// Hello, Ada, from 10.0.0.2:8080 <nil>
}
