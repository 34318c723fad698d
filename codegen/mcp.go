package codegen

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// MCPAnnotation sets how a method is offered as an MCP tool:
//
//	//kit:mcp skip            the method is not a tool
//	//kit:mcp readonly        the tool changes nothing
//	//kit:mcp destructive     the tool may delete or overwrite data
//	//kit:mcp nondestructive  the tool only adds
//
// Without it a method whose HTTP route is GET or HEAD is read-only, and any
// other is marked as a write that may destroy, the conservative reading;
// the tool is idempotent when the method is ([Method.Retryable]).
const MCPAnnotation = "kit:mcp"

// mcpHints are the arguments //kit:mcp may have.
var mcpHints = []string{"skip", "readonly", "destructive", "nondestructive"}

// parseMCP checks the arguments of a //kit:mcp annotation: one of
// mcpHints.
func parseMCP(args []string) ([]string, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("want one of %s", strings.Join(mcpHints, ", "))
	}
	for _, h := range mcpHints {
		if args[0] == h {
			return args, nil
		}
	}
	return nil, fmt.Errorf("unknown hint %q: want one of %s", args[0], strings.Join(mcpHints, ", "))
}

// mcpTransport emits the registration of every method as a tool of an MCP
// server (package mcpx, on the official Go SDK).
type mcpTransport struct{}

func (mcpTransport) name() string              { return "mcp" }
func (mcpTransport) wanted(opts *Options) bool { return opts.MCP }

func (mcpTransport) emit(svc *Service, opts *Options, files map[string][]byte) error {
	tools, err := mcpTools(svc)
	if err != nil {
		return err
	}
	files[opts.MCPFile], err = render(svc, "mcp", mcpTemplate, struct {
		*Service
		Tools []mcpTool
	}{svc, tools}, nil)
	return err
}

// mcpTool is what the generated code says of one tool.
type mcpTool struct {
	Method      *Method
	Description string
	// Input and Output are Go literals of the JSON Schemas.
	Input, Output string
	Wrapped       bool
	ReadOnly      bool
	Destructive   bool
	Idempotent    bool
}

// mcpTools returns the tools of the unary methods not annotated //kit:mcp
// skip.
func mcpTools(svc *Service) ([]mcpTool, error) {
	var tools []mcpTool
	for _, m := range svc.Methods {
		hint := ""
		if len(m.MCP) > 0 {
			hint = m.MCP[0]
		}
		if hint == "skip" || m.Streams() {
			// A tool answers one call with one result: streams are
			// not tools.
			continue
		}
		t := mcpTool{Method: m, Description: cleanDoc(m.Doc), Idempotent: m.Retryable()}
		if t.Description == "" {
			t.Description = summaryOf(m) + "."
		}
		switch hint {
		case "readonly":
			t.ReadOnly = true
		case "destructive":
			t.Destructive = true
		case "nondestructive":
		default:
			t.ReadOnly = m.Route.Method == "GET" || m.Route.Method == "HEAD"
			t.Destructive = !t.ReadOnly
		}
		in, out, wrapped, err := mcpSchemas(svc, m)
		if err != nil {
			return nil, err
		}
		t.Input, t.Output, t.Wrapped = goString(in), goString(out), wrapped
		tools = append(tools, t)
	}
	return tools, nil
}

// goString returns a Go string literal of s: a raw string when it can be.
func goString(s []byte) string {
	if strings.ContainsAny(string(s), "`\r") {
		return strconv.Quote(string(s))
	}
	return "`" + string(s) + "`"
}

// mcpSchemas returns the JSON Schemas (2020-12, self-contained: the
// components they use are in $defs) of a method's arguments and of its
// structured result, which is {"result": response} when the response is
// not an object (wrapped).
func mcpSchemas(svc *Service, m *Method) (in, out []byte, wrapped bool, err error) {
	g := newOpenAPIGen(svc)
	input := g.messageSchema(m.Request, nil, "")
	if alts, ok := input["anyOf"].([]any); ok && len(alts) == 2 {
		input = alts[0].(map[string]any) // a nil request pointer is the zero request
	}
	output := g.messageSchema(m.Response, nil, "")
	inSchema := selfContained(g.schemas, input)
	outSchema := selfContained(g.schemas, output)
	if outSchema["type"] != "object" {
		defs := outSchema["$defs"]
		delete(outSchema, "$defs")
		outSchema = map[string]any{
			"type":       "object",
			"properties": map[string]any{"result": outSchema},
			"required":   []string{"result"},
		}
		if defs != nil {
			outSchema["$defs"] = defs
		}
		wrapped = true
	}
	if in, err = json.Marshal(inSchema); err != nil {
		return nil, nil, false, err
	}
	if out, err = json.Marshal(outSchema); err != nil {
		return nil, nil, false, err
	}
	return in, out, wrapped, nil
}

const componentRef = "#/components/schemas/"

// selfContained returns root with the component schemas it refers to,
// directly or through each other, in its $defs, and every reference
// rewritten to point there. A root that is a reference is replaced by the
// schema it names.
func selfContained(components map[string]any, root map[string]any) map[string]any {
	for {
		r, ok := root["$ref"].(string)
		if !ok || len(root) != 1 {
			break
		}
		root = components[strings.TrimPrefix(r, componentRef)].(map[string]any)
	}
	defs := map[string]any{}
	var visit func(v any) any
	visit = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			c := make(map[string]any, len(v))
			for k, e := range v {
				if s, ok := e.(string); ok && k == "$ref" && strings.HasPrefix(s, componentRef) {
					name := strings.TrimPrefix(s, componentRef)
					c[k] = "#/$defs/" + name
					if _, done := defs[name]; !done {
						defs[name] = nil // visiting: a cycle refers to it by name
						defs[name] = visit(components[name])
					}
					continue
				}
				c[k] = visit(e)
			}
			return c
		case []any:
			c := make([]any, len(v))
			for i, e := range v {
				c[i] = visit(e)
			}
			return c
		}
		return v
	}
	out := visit(root).(map[string]any)
	if len(defs) > 0 {
		out["$defs"] = defs
	}
	return out
}

const mcpTemplate = `
{{- $mcp := imp "github.com/modelcontextprotocol/go-sdk/mcp" }}
{{- $mcpx := imp "github.com/typedkit/kit/mcpx" }}
{{- $kit := imp "github.com/typedkit/kit" }}
{{- $json := imp "encoding/json" }}
// NewMCPServer returns an MCP server named for {{ .Name }}, at version, whose
// tools are the methods of e: see [RegisterMCP]. Serve it over streamable
// HTTP with mcpx.Handler, or over stdio with
// s.Run(ctx, &mcp.StdioTransport{}).
func NewMCPServer(e Endpoints, version string, opts ...{{ $mcpx }}.ServerOption) *{{ $mcp }}.Server {
	s := {{ $mcp }}.NewServer(&{{ $mcp }}.Implementation{Name: ServiceName, Version: version}, nil)
	RegisterMCP(s, e, opts...)
	return s
}

// RegisterMCP adds to s one tool for each method of {{ .Name }}, served by its
// endpoint in e, with the JSON Schemas of its arguments and result:
//
{{- range .Tools }}
//	{{ .Method.Name }}{{ if .ReadOnly }} (read-only){{ else if .Destructive }} (writes, may destroy){{ else }} (writes){{ end }}
{{- end }}
//
// The interceptors of mcpx.ServerInterceptors in opts wrap every method.
func RegisterMCP(s *{{ $mcp }}.Server, e Endpoints, opts ...{{ $mcpx }}.ServerOption) {
	// serve returns opts with the Call of one method.
	serve := func(method string, idempotent bool) []{{ $mcpx }}.ServerOption {
		return append(opts[:len(opts):len(opts)], {{ $mcpx }}.ServerCall({{ $kit }}.Call{Service: ServiceName, Method: method, Idempotent: idempotent}))
	}
{{- range .Tools }}
	{{ $mcpx }}.AddTool(s, {{ $mcpx }}.Tool{
		Name:         {{ quote .Method.Name }},
		Description:  {{ quote .Description }},
		InputSchema:  {{ $json }}.RawMessage({{ .Input }}),
		OutputSchema: {{ $json }}.RawMessage({{ .Output }}),
{{- if .Wrapped }}
		Wrapped:      true,
{{- end }}
{{- if .ReadOnly }}
		ReadOnly:     true,
{{- end }}
{{- if .Destructive }}
		Destructive:  true,
{{- end }}
{{- if .Idempotent }}
		Idempotent:   true,
{{- end }}
	}, e.{{ .Method.Name }}Endpoint, serve({{ quote .Method.Name }}, {{ .Method.Retryable }})...)
{{- end }}
}
`
