package mcpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"runtime/debug"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/auth"
	"github.com/typedkit/kit/internal/jsonx"
)

// A Tool describes the MCP tool that serves one method.
type Tool struct {
	// Name is the tool's name, unique in its server; kitgen uses the
	// method's name.
	Name string
	// Title is a short name for people, shown by clients instead of Name
	// when set.
	Title string
	// Description says what the tool does and when to use it: kitgen
	// takes the method's doc comment.
	Description string
	// InputSchema is the JSON Schema (draft 2020-12) of the arguments, the
	// method's request; it must describe an object. Nil accepts any object.
	InputSchema json.RawMessage
	// OutputSchema is the JSON Schema of the structured result, an object;
	// nil declares none.
	OutputSchema json.RawMessage
	// Wrapped says that the response is not a JSON object, so the
	// structured result is {"result": response}, which OutputSchema
	// describes: MCP's structured content is always an object.
	Wrapped bool
	// ReadOnly says that the tool changes nothing (MCP's readOnlyHint).
	ReadOnly bool
	// Destructive says that a tool that is not ReadOnly may delete or
	// overwrite data rather than only add to it (destructiveHint).
	Destructive bool
	// Idempotent says that calling the tool again with the same arguments
	// has no further effect (idempotentHint).
	Idempotent bool
}

// annotations returns the hints of t. A tool that is not read-only
// carries destructiveHint explicitly, true or false, so that a client
// never has to assume.
func (t Tool) annotations() *mcp.ToolAnnotations {
	a := &mcp.ToolAnnotations{ReadOnlyHint: t.ReadOnly, IdempotentHint: t.Idempotent || t.ReadOnly}
	if !t.ReadOnly {
		d := t.Destructive
		a.DestructiveHint = &d
	}
	return a
}

// A RequestFunc runs before a tool call's arguments are decoded, and may
// put into the context what the request's transport carries (its HTTP
// header, for streamable HTTP: req.Extra.Header).
type RequestFunc func(ctx context.Context, req *mcp.CallToolRequest) context.Context

// A ServerOption configures the tools of [AddTool].
type ServerOption func(*serverConfig)

type serverConfig struct {
	before       []RequestFunc
	interceptors []kit.Interceptor
	call         kit.Call
	errorHandler kit.ErrorHandler
	strict       bool
}

// ServerBefore adds hooks that run, in order, before the arguments of a
// call are decoded.
func ServerBefore(fns ...RequestFunc) ServerOption {
	return func(c *serverConfig) { c.before = append(c.before, fns...) }
}

// ServerInterceptors wraps the tool's endpoint in interceptors, the first
// outermost, built once with the tool's kit.Call (Transport kit.MCP,
// ServerSide).
func ServerInterceptors(ics ...kit.Interceptor) ServerOption {
	return func(c *serverConfig) { c.interceptors = append(c.interceptors, ics...) }
}

// ServerCall describes the method the tool serves, for the interceptors:
// generated code passes the method's service, name and idempotence. The
// Transport and Side are always kit.MCP and kit.ServerSide; without this
// option the Call's Method is the tool's name.
func ServerCall(call kit.Call) ServerOption {
	return func(c *serverConfig) { c.call = call }
}

// ServerErrorHandler sets the handler that sees every failed call; the
// default, kit.LogServerFaults(nil), logs the server's faults.
func ServerErrorHandler(h kit.ErrorHandler) ServerOption {
	return func(c *serverConfig) { c.errorHandler = h }
}

// ServerStrictArguments refuses arguments that name a field the request
// does not have, as httpx.DecodeJSONRequestStrict refuses such a body.
// By default unknown fields are ignored, as encoding/json does.
func ServerStrictArguments() ServerOption {
	return func(c *serverConfig) { c.strict = true }
}

// AuthorizationToContext returns a hook (for [ServerBefore]) that puts the
// Authorization header of a streamable HTTP request where the auth
// package's interceptors (auth.Basic, auth.Bearer) read it, as
// auth.HTTPToContext does for httpx. Over stdio there is no header, and
// such interceptors refuse the call.
func AuthorizationToContext() RequestFunc {
	return func(ctx context.Context, req *mcp.CallToolRequest) context.Context {
		if req.Extra == nil || req.Extra.Header == nil {
			return ctx
		}
		if v := req.Extra.Header.Get("Authorization"); v != "" {
			return auth.ContextWithAuthorization(ctx, v)
		}
		return ctx
	}
}

// AddTool adds to s the tool t, served by ep: a call's arguments are
// decoded from JSON into a Req, ep answers, and its Resp is the tool's
// structured result and, as JSON text, its content. A decoding failure or
// an error of ep is a tool error (isError) whose text is the JSON object
// {"code", "message", "violations"} of the error's kit code, its public
// message and its field violations; a panic anywhere in the call is an
// Internal tool error, and the server goes on.
//
// AddTool panics, as mcp.Server.AddTool does, if t's name is empty or its
// input schema does not describe an object.
func AddTool[Req, Resp any](s *mcp.Server, t Tool, ep kit.Endpoint[Req, Resp], opts ...ServerOption) {
	if t.Name == "" {
		panic("mcpx: AddTool: the tool has no name")
	}
	cfg := serverConfig{errorHandler: kit.LogServerFaults(nil)}
	for _, o := range opts {
		o(&cfg)
	}
	call := cfg.call
	if call.Method == "" {
		call.Method = t.Name
	}
	call.Transport, call.Side = kit.MCP, kit.ServerSide
	if len(cfg.interceptors) > 0 {
		ep = kit.Intercept(ep, call, cfg.interceptors...)
	}
	tool := &mcp.Tool{
		Name:        t.Name,
		Title:       t.Title,
		Description: t.Description,
		InputSchema: t.InputSchema,
		Annotations: t.annotations(),
	}
	if t.InputSchema == nil {
		tool.InputSchema = json.RawMessage(`{"type":"object"}`)
	}
	if t.OutputSchema != nil {
		tool.OutputSchema = t.OutputSchema
	}
	h := &handler[Req, Resp]{ep: ep, cfg: cfg, wrapped: t.Wrapped}
	s.AddTool(tool, h.handle)
}

type handler[Req, Resp any] struct {
	ep      kit.Endpoint[Req, Resp]
	cfg     serverConfig
	wrapped bool
}

func (h *handler[Req, Resp]) handle(ctx context.Context, req *mcp.CallToolRequest) (res *mcp.CallToolResult, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = h.fail(ctx, kit.WrapError(kit.Internal, &kit.PanicError{Value: v, Stack: debug.Stack()}, "")), nil
		}
	}()
	for _, f := range h.cfg.before {
		ctx = f(ctx, req)
	}
	var args json.RawMessage
	if req.Params != nil {
		args = req.Params.Arguments
	}
	if a := bytes.TrimSpace(args); len(a) == 0 || bytes.Equal(a, []byte("null")) {
		args = json.RawMessage("{}")
	}
	var in Req
	if err := jsonx.Unmarshal(args, &in, h.cfg.strict, hasCode); err != nil {
		return h.fail(ctx, err), nil
	}
	out, err := h.ep(ctx, in)
	if err != nil {
		return h.fail(ctx, err), nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return h.fail(ctx, kit.WrapError(kit.Internal, err, "")), nil
	}
	structured := json.RawMessage(b)
	switch {
	case h.wrapped:
		structured = append(append([]byte(`{"result":`), b...), '}')
	case bytes.Equal(b, []byte("null")):
		structured = json.RawMessage("{}")
	}
	return &mcp.CallToolResult{
		Content:           []mcp.Content{&mcp.TextContent{Text: string(b)}},
		StructuredContent: structured,
	}, nil
}

// fail hands err to the error handler and returns the tool error of err.
func (h *handler[Req, Resp]) fail(ctx context.Context, err error) *mcp.CallToolResult {
	if h.cfg.errorHandler != nil {
		h.cfg.errorHandler.Handle(ctx, err)
	}
	return ToolError(err)
}

// ToolError returns the tool error of err: isError, with the JSON object
// {"code", "message", "violations"} of kit.CodeOf(err), kit.MessageOf(err)
// (the public message; an internal error's text is never shown) and
// kit.ViolationsOf(err) as its text.
func ToolError(err error) *mcp.CallToolResult {
	p := problem{
		Code:       kit.CodeOf(err).String(),
		Message:    kit.MessageOf(err),
		Violations: kit.ViolationsOf(err),
	}
	b, merr := json.Marshal(p)
	if merr != nil {
		b = []byte(`{"code":"internal","message":"internal error"}`)
	}
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: string(b)}}}
}

// problem is the JSON text of a tool error.
type problem struct {
	Code       string               `json:"code"`
	Message    string               `json:"message"`
	Violations []kit.FieldViolation `json:"violations,omitempty"`
}

// hasCode reports whether err already says what went wrong: a coded error
// of a value's own UnmarshalJSON method keeps its code.
func hasCode(err error) bool {
	var ke *kit.Error
	var kc kit.Coder
	return errors.As(err, &ke) || errors.As(err, &kc)
}
