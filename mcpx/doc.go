// Package mcpx serves the endpoints of a service as the tools of a Model
// Context Protocol server, on the official Go SDK
// (github.com/modelcontextprotocol/go-sdk).
//
// Each method becomes one tool: its arguments are the method's request as
// JSON, checked against the tool's input schema by the endpoint's own
// decoding and validation, its result the response as structured content
// (and, for clients that read only text, the same JSON as text), and a
// failure a tool error that carries the kit code, the public message and
// the field violations, never the text of an internal error. kitgen
// -transports mcp generates the registration of every method of an
// interface ([AddTool] with the schemas of the OpenAPI document).
//
// A tool call goes through the same endpoint as an HTTP or a gRPC call:
// the interceptors given with [ServerInterceptors] see a kit.Call whose
// Transport is kit.MCP, so authentication, limits, breakers, logging and
// metrics apply to tools as to every other call. [AuthorizationToContext]
// hands the Authorization header of a streamable HTTP request to the auth
// package's interceptors.
//
// [Handler] serves a server over streamable HTTP at a path of the
// service's HTTP server, stateless by default so that a client cannot make
// the server hold sessions; a local agent runs the same server over stdio
// with s.Run(ctx, &mcp.StdioTransport{}).
package mcpx
