package mcpx

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/typedkit/kit"
)

type fuzzReq struct {
	ID    int64             `json:"id"`
	Name  string            `json:"name"`
	Tags  []string          `json:"tags"`
	Attrs map[string]string `json:"attrs"`
	At    time.Time         `json:"at"`
	Next  *fuzzReq          `json:"next"`
}

// FuzzToolArguments hands arbitrary bytes to a tool as its arguments: the
// call never panics or fails the protocol, and its answer is a result or
// a tool error whose text is the JSON of a kit code.
func FuzzToolArguments(f *testing.F) {
	for _, seed := range []string{``, `null`, `{}`, `{"id":1,"name":"a"}`, `{"id":"x"}`, `[1,2]`, `{"next":{"next":{"id":2}}}`,
		`{"at":"2026-13-01T00:00:00Z"}`, `{"id":1e400}`, `{"tags":[null]}`, `"\ud800"`, `{`} {
		f.Add([]byte(seed))
	}
	h := &handler[fuzzReq, fuzzReq]{
		ep:  func(_ context.Context, r fuzzReq) (fuzzReq, error) { return r, nil },
		cfg: serverConfig{errorHandler: kit.ErrorHandlerFunc(func(context.Context, error) {})},
	}
	f.Fuzz(func(t *testing.T, args []byte) {
		res, err := h.handle(context.Background(), &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: "Echo", Arguments: args}})
		if err != nil || res == nil || len(res.Content) != 1 {
			t.Fatalf("handle(%q) = %v, %v", args, res, err)
		}
		text := res.Content[0].(*mcp.TextContent).Text
		if !res.IsError {
			if !json.Valid([]byte(text)) {
				t.Fatalf("result %q is not JSON", text)
			}
			return
		}
		var p problem
		if err := json.Unmarshal([]byte(text), &p); err != nil || p.Code != "invalid_argument" {
			t.Fatalf("tool error %q: %v", text, err)
		}
	})
}
