package kit_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/typedkit/kit"
)

type GreetRequest struct{ Name string }

type GreetResponse struct{ Greeting string }

// An endpoint is a typed function; calling it needs no type assertion.
func ExampleEndpoint() {
	var greet kit.Endpoint[GreetRequest, GreetResponse] = func(_ context.Context, req GreetRequest) (GreetResponse, error) {
		return GreetResponse{Greeting: "Hello, " + req.Name}, nil
	}
	resp, err := greet(context.Background(), GreetRequest{Name: "Ada"})
	fmt.Println(resp.Greeting, err)
	// Output: Hello, Ada <nil>
}

// Chain runs its first middleware outermost.
func ExampleChain() {
	trace := func(name string) kit.Middleware[string, string] {
		return func(next kit.Endpoint[string, string]) kit.Endpoint[string, string] {
			return func(ctx context.Context, req string) (string, error) {
				fmt.Println("enter", name)
				defer fmt.Println("leave", name)
				return next(ctx, req)
			}
		}
	}
	ep := kit.Chain(trace("first"), trace("second"), trace("third"))(
		func(_ context.Context, req string) (string, error) {
			fmt.Println("endpoint", req)
			return req, nil
		})
	_, _ = ep(context.Background(), "hi")
	// Output:
	// enter first
	// enter second
	// enter third
	// endpoint hi
	// leave third
	// leave second
	// leave first
}

// Intercept wraps an endpoint in interceptors, the first outermost. The
// same list serves every endpoint, whatever its types: generated
// constructors take it once for all the methods of a service.
func ExampleIntercept() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{} // keep the output stable
			}
			return a
		},
	}))
	greet := func(_ context.Context, req GreetRequest) (GreetResponse, error) {
		if req.Name == "" {
			panic("no name")
		}
		return GreetResponse{Greeting: "Hello, " + req.Name}, nil
	}
	stack := []kit.Interceptor{
		kit.Logging(logger),
		kit.Recover(slog.New(slog.DiscardHandler)),
		kit.Timeout(time.Second),
	}

	ep := kit.Intercept(greet, kit.Call{Service: "greeter.Greeter", Method: "Greet"}, stack...)

	resp, _ := ep(context.Background(), GreetRequest{Name: "Ada"})
	fmt.Println(resp.Greeting)
	_, err := ep(context.Background(), GreetRequest{})
	fmt.Println(kit.CodeOf(err), kit.MessageOf(err))
	// Output:
	// level=INFO msg=call service=greeter.Greeter method=Greet transport=inprocess side=server code=ok
	// Hello, Ada
	// level=ERROR msg=call service=greeter.Greeter method=Greet transport=inprocess side=server code=internal error="internal: internal error: panic: no name"
	// internal internal error
}

// An Interceptor is called once per method with its Call, and returns the
// invoker that runs at every call of that method.
func ExampleInterceptor() {
	counts := map[string]int{}
	var mu sync.Mutex
	countCalls := func(call kit.Call, next kit.Invoker) kit.Invoker {
		name := call.Procedure() // computed once per method
		return func(ctx context.Context, c kit.Call) error {
			mu.Lock()
			counts[name]++
			mu.Unlock()
			return next(ctx, c)
		}
	}
	greet := kit.Intercept(func(_ context.Context, req GreetRequest) (GreetResponse, error) {
		return GreetResponse{Greeting: "Hello, " + req.Name}, nil
	}, kit.Call{Service: "greeter.Greeter", Method: "Greet"}, countCalls)

	for _, name := range []string{"Ada", "Grace"} {
		_, _ = greet(context.Background(), GreetRequest{Name: name})
	}
	fmt.Println(counts)
	// Output:
	// map[/greeter.Greeter/Greet:2]
}

// Errors carry a code and a public message; the cause stays internal.
func ExampleError() {
	cause := errors.New("sql: no rows in result set")
	err := fmt.Errorf("get user: %w", kit.WrapError(kit.NotFound, cause, "user 42 not found"))

	fmt.Println(kit.CodeOf(err))
	fmt.Println(kit.MessageOf(err)) // what a caller may see
	fmt.Println(errors.Is(err, cause))
	fmt.Println(kit.CodeOf(context.DeadlineExceeded), kit.CodeOf(errors.New("boom")))
	// Output:
	// not_found
	// user 42 not found
	// true
	// deadline_exceeded unknown
}

type TransferResponse struct {
	ID  string
	Err error // a business error, returned as part of the response
}

func (r TransferResponse) Failed() error { return r.Err }

// A response that implements Failer carries its own business error, and
// transports encode it as that error.
func ExampleFailer() {
	ok := TransferResponse{ID: "t1"}
	refused := TransferResponse{Err: kit.NewError(kit.FailedPrecondition, "insufficient funds")}

	fmt.Println(kit.Failed(ok))
	fmt.Println(kit.Failed(refused))
	fmt.Println(kit.Failed(GreetResponse{})) // not a Failer
	// Output:
	// <nil>
	// failed_precondition: insufficient funds
	// <nil>
}

// Field violations describe what is wrong with a request.
func ExampleInvalidArgumentError() {
	err := kit.InvalidArgumentError("invalid user",
		kit.FieldViolation{Field: "email", Description: "must contain @"},
	)
	for _, v := range kit.ViolationsOf(err) {
		fmt.Println(strings.ToUpper(v.Field), v.Description)
	}
	// Output: EMAIL must contain @
}
