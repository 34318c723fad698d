package codegen

import (
	"fmt"
	"go/ast"
	"go/token"
	"slices"
	"strings"
)

// The method annotations other than //kit:http, each a doc-comment line of
// a service method:
//
//	//kit:security bearer
//	//kit:idempotent
//	DeleteUser(ctx context.Context, id string) error
const (
	// SecurityAnnotation names the security schemes that guard a method,
	// for its OpenAPI operation: "//kit:security bearer". Several
	// schemes on one line are alternatives (any one of them serves);
	// "//kit:security none" declares a public method even when the
	// document's default (kitgen -security) is a scheme. The annotation
	// describes the method; enforcing it is the server's interceptors'
	// work (auth.Bearer, for example).
	SecurityAnnotation = "kit:security"
	// IdempotentAnnotation marks a method that may be called more than
	// once with the same effect as once, so that clients may retry it
	// after a failure whose outcome they cannot know: "//kit:idempotent".
	// GET, PUT and DELETE routes are idempotent by HTTP's rules without
	// it.
	IdempotentAnnotation = "kit:idempotent"
)

// securitySchemes are the schemes a //kit:security annotation and kitgen
// -security may name, with their OpenAPI security scheme objects.
var securitySchemes = map[string]map[string]any{
	"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
	"basic":  {"type": "http", "scheme": "basic"},
}

// annotationNames lists the annotations the generator knows, for the
// message about one it does not.
var annotationNames = []string{HTTPAnnotation, SecurityAnnotation, IdempotentAnnotation, MCPAnnotation}

// parseAnnotations reads the //kit: annotations of a method's doc comment
// other than //kit:http into m: Security, Idempotent and MCP. A //kit:
// annotation the generator does not know, a repeated one, or a malformed
// one is an error at its line.
func (m *Method) parseAnnotations(fset *token.FileSet, doc *ast.CommentGroup, where string) error {
	if doc == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, c := range doc.List {
		name, args, ok := annotation(c.Text)
		if !ok || name == HTTPAnnotation {
			continue
		}
		fail := func(msg, hint string) error {
			return &Error{Pos: fset.Position(c.Pos()), Method: where, Message: msg, Hint: hint}
		}
		if seen[name] {
			return fail("//"+name+" appears twice", "keep one")
		}
		seen[name] = true
		switch name {
		case SecurityAnnotation:
			schemes, err := parseSecurity(args)
			if err != nil {
				return fail("malformed //"+name+": "+err.Error(), "")
			}
			m.Security = schemes
		case IdempotentAnnotation:
			if len(args) > 0 {
				return fail(fmt.Sprintf("//%s takes no arguments, got %q", name, strings.Join(args, " ")), "")
			}
			m.Idempotent = true
		case MCPAnnotation:
			hints, err := parseMCP(args)
			if err != nil {
				return fail("malformed //"+name+": "+err.Error(), "")
			}
			m.MCP = hints
		default:
			return fail(fmt.Sprintf("unknown annotation //%s", name),
				"the annotations are //"+strings.Join(annotationNames, ", //"))
		}
	}
	return nil
}

// annotation splits a comment "//kit:name args..." into its name
// ("kit:name") and its arguments. Other comments are not annotations.
func annotation(text string) (string, []string, bool) {
	rest, ok := strings.CutPrefix(text, "//kit:")
	if !ok {
		return "", nil, false
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 || fields[0] == "" || strings.HasPrefix(rest, " ") {
		return "", nil, false
	}
	return "kit:" + fields[0], fields[1:], true
}

// parseSecurity checks the schemes of a //kit:security annotation: known
// scheme names, or "none" alone for a public method (an empty, non-nil
// slice).
func parseSecurity(args []string) ([]string, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("want a scheme: %s, or none", strings.Join(schemeNames(), ", "))
	}
	if slices.Contains(args, "none") {
		if len(args) > 1 {
			return nil, fmt.Errorf("none cannot be combined with a scheme")
		}
		return []string{}, nil
	}
	out := make([]string, 0, len(args))
	for _, a := range args {
		if _, ok := securitySchemes[a]; !ok {
			return nil, fmt.Errorf("unknown scheme %q: want %s, or none", a, strings.Join(schemeNames(), ", "))
		}
		if slices.Contains(out, a) {
			return nil, fmt.Errorf("scheme %q appears twice", a)
		}
		out = append(out, a)
	}
	return out, nil
}

// SecuritySchemes returns the names of the security schemes that
// //kit:security and kitgen -security know, in order.
func SecuritySchemes() []string { return schemeNames() }

// schemeNames returns the known security schemes in order.
func schemeNames() []string {
	names := make([]string, 0, len(securitySchemes))
	for n := range securitySchemes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Retryable reports whether the method's clients may send a call again
// after a failure whose outcome they cannot know: it has a
// //kit:idempotent annotation, or its HTTP route's method is one RFC 9110
// defines as idempotent (GET, HEAD, PUT, DELETE, OPTIONS). The generated
// HTTP and gRPC clients of such a method mark their errors so
// (an idempotent httpx.ClientCall or grpcx.ClientCall), and discovery.Retry
// retries them.
func (m *Method) Retryable() bool {
	if m.Idempotent {
		return true
	}
	switch m.Route.Method {
	case "GET", "HEAD", "PUT", "DELETE", "OPTIONS":
		return true
	}
	return false
}
