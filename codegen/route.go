package codegen

import (
	"fmt"
	pathpkg "path"
	"strings"
)

// A Route is an HTTP method and a ServeMux path pattern for a service
// method.
type Route struct {
	// Method is the HTTP method: GET, POST, PUT, PATCH or DELETE.
	Method string
	// Path is the pattern's path, such as "/users/{id}".
	Path string
	// Params are the names of the path's wildcards, in order.
	Params []string
}

// Pattern returns the route as a ServeMux pattern: "GET /users/{id}".
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// HTTPAnnotation is the directive that sets a method's route in its doc
// comment: //kit:http GET /users/{id}
const HTTPAnnotation = "kit:http"

var httpMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true}

// ParseHTTPAnnotation parses the text after "//kit:http": an HTTP method and
// a path whose wildcards are {name} segments. It returns an error that says
// what is wrong with anything else.
func ParseHTTPAnnotation(s string) (Route, error) {
	fields := strings.Fields(s)
	if len(fields) != 2 {
		return Route{}, fmt.Errorf("want \"//%s METHOD /path\", got %q", HTTPAnnotation, strings.TrimSpace(s))
	}
	method, path := fields[0], fields[1]
	if !httpMethods[method] {
		return Route{}, fmt.Errorf("unsupported HTTP method %q: want GET, POST, PUT, PATCH or DELETE", method)
	}
	if !strings.HasPrefix(path, "/") {
		return Route{}, fmt.Errorf("path %q must start with /", path)
	}
	clean := pathpkg.Clean(path)
	if strings.HasSuffix(path, "/") && clean != "/" {
		clean += "/"
	}
	if clean != path && !strings.Contains(path, "//") {
		return Route{}, fmt.Errorf("path %q is not clean: want %q", path, clean)
	}
	var params []string
	seen := map[string]bool{}
	segments := strings.Split(path[1:], "/")
	for i, seg := range segments {
		if seg == "" && i != len(segments)-1 {
			return Route{}, fmt.Errorf("path %q has an empty segment", path)
		}
		if !strings.ContainsAny(seg, "{}") {
			if strings.ContainsAny(seg, " \t?#%") {
				return Route{}, fmt.Errorf("path %q: segment %q has a character a path may not hold", path, seg)
			}
			continue
		}
		if !strings.HasPrefix(seg, "{") || !strings.HasSuffix(seg, "}") || strings.Count(seg, "{") != 1 || strings.Count(seg, "}") != 1 {
			return Route{}, fmt.Errorf("path %q: a wildcard must be a whole segment such as {id}, got %q", path, seg)
		}
		name := seg[1 : len(seg)-1]
		if rest, ok := strings.CutSuffix(name, "..."); ok {
			if i != len(segments)-1 {
				return Route{}, fmt.Errorf("path %q: %s may only be the last segment", path, seg)
			}
			name = rest
		}
		if !isIdent(name) {
			return Route{}, fmt.Errorf("path %q: wildcard name %q is not a Go identifier", path, name)
		}
		if seen[name] {
			return Route{}, fmt.Errorf("path %q: wildcard {%s} appears twice", path, name)
		}
		seen[name] = true
		params = append(params, name)
	}
	return Route{Method: method, Path: path, Params: params}, nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return true
}
