package mcpx

import (
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// DefaultMaxBodyBytes bounds the body of one streamable HTTP request of
// [Handler], unless [HandlerMaxBodyBytes] sets another: 1 MiB.
const DefaultMaxBodyBytes = 1 << 20

// A HandlerOption configures [Handler].
type HandlerOption func(*handlerConfig)

type handlerConfig struct {
	idle    time.Duration
	maxBody int64
	json    bool
}

// HandlerSessions makes the handler keep a session per client, closed
// after idle without a request (it must be positive), for servers that
// send requests or notifications of their own. By default the handler is
// stateless: every request stands alone, and a client cannot make the
// server hold state.
func HandlerSessions(idle time.Duration) HandlerOption {
	return func(c *handlerConfig) {
		if idle > 0 {
			c.idle = idle
		}
	}
}

// HandlerMaxBodyBytes bounds the body of one request; a larger one is
// answered 413. The default is [DefaultMaxBodyBytes].
func HandlerMaxBodyBytes(n int64) HandlerOption {
	return func(c *handlerConfig) {
		if n > 0 {
			c.maxBody = n
		}
	}
}

// HandlerJSONResponses answers each request with one application/json
// body instead of a text/event-stream.
func HandlerJSONResponses() HandlerOption {
	return func(c *handlerConfig) { c.json = true }
}

// Handler returns the http.Handler that serves s over MCP's streamable
// HTTP transport, to be mounted at a path of the service's HTTP server
// (such as /mcp). It protects a server on loopback from DNS rebinding
// (a request with a Host that is not a loopback name is refused) as the
// SDK does, bounds request bodies, and is stateless unless
// [HandlerSessions] says otherwise.
func Handler(s *mcp.Server, opts ...HandlerOption) http.Handler {
	cfg := handlerConfig{maxBody: DefaultMaxBodyBytes}
	for _, o := range opts {
		o(&cfg)
	}
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{
		Stateless:           cfg.idle == 0,
		SessionTimeout:      cfg.idle,
		MaxRequestBodyBytes: cfg.maxBody,
		JSONResponse:        cfg.json,
	})
}
