package mcpx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/mcpx"
)

type greetRequest struct {
	Name string `json:"name"`
}

type greeting struct {
	Text string `json:"text"`
}

// A typed endpoint served as an MCP tool, called by the SDK's client over
// an in-memory connection. kitgen -transports mcp generates these
// registrations, with the schemas, for every method of an interface.
func ExampleAddTool() {
	greet := func(_ context.Context, r greetRequest) (greeting, error) {
		if r.Name == "" {
			return greeting{}, kit.InvalidArgumentError("name is required", kit.FieldViolation{Field: "name", Description: "must not be empty"})
		}
		return greeting{Text: "Hello, " + r.Name}, nil
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "greeter", Version: "1.0.0"}, nil)
	mcpx.AddTool(s, mcpx.Tool{
		Name:         "Greet",
		Description:  "Greet greets a person by name.",
		InputSchema:  json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}}}`),
		OutputSchema: json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}}}`),
		ReadOnly:     true,
	}, greet)

	ctx := context.Background()
	serverSide, clientSide := mcp.NewInMemoryTransports()
	if _, err := s.Connect(ctx, serverSide, nil); err != nil {
		log.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1.0.0"}, nil).Connect(ctx, clientSide, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer cs.Close()

	for _, args := range []map[string]any{{"name": "Ada"}, {"name": ""}} {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "Greet", Arguments: args})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(res.IsError, res.Content[0].(*mcp.TextContent).Text)
	}
	// Output:
	// false {"text":"Hello, Ada"}
	// true {"code":"invalid_argument","message":"name is required","violations":[{"field":"name","description":"must not be empty"}]}
}
