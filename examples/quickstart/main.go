// Command quickstart shows the core of typedkit in one program: a typed
// endpoint, the standard interceptors around it, and the error model.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/typedkit/kit"
)

// GreetRequest is the request of the Greet endpoint.
type GreetRequest struct{ Name string }

// GreetResponse is the response of the Greet endpoint.
type GreetResponse struct{ Greeting string }

func greet(ctx context.Context, req GreetRequest) (GreetResponse, error) {
	switch req.Name {
	case "":
		return GreetResponse{}, kit.InvalidArgumentError("name is required",
			kit.FieldViolation{Field: "name", Description: "must not be empty"})
	case "panic":
		panic("the endpoint broke")
	case "slow":
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return GreetResponse{}, ctx.Err()
		}
	}
	return GreetResponse{Greeting: "Hello, " + req.Name + "!"}, nil
}

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ep := kit.Intercept(greet, kit.Call{Service: "quickstart.Greeter", Method: "Greet"},
		kit.Logging(logger),
		kit.Recover(logger),
		kit.Timeout(100*time.Millisecond),
	)

	for _, name := range []string{"Ada", "", "panic", "slow"} {
		resp, err := ep(context.Background(), GreetRequest{Name: name})
		if err != nil {
			fmt.Printf("%-6q -> %s: %s\n", name, kit.CodeOf(err), kit.MessageOf(err))
			continue
		}
		fmt.Printf("%-6q -> %s\n", name, resp.Greeting)
	}
}
