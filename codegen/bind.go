package codegen

import (
	"fmt"
	"go/types"
	"strings"
)

// Binding ties a request field to a path wildcard or a query parameter.
type Binding struct {
	// Field is the request field.
	Field *Field
	// Key is the wildcard or query parameter name.
	Key string
	// Scalar is how the value is parsed and formatted.
	Scalar Scalar
	// Elem is the scalar type: the field's type, or its element type for a
	// pointer or a slice.
	Elem types.Type
	// Pointer reports a pointer field: set only when the parameter is
	// present.
	Pointer bool
	// Slice reports a slice field: one element per repeated query key.
	Slice bool
}

// Scalar is the kind of a value that a path segment or a query parameter
// holds.
type Scalar struct {
	// Kind is "string", "bool", "int", "uint", "float", or "text" for a
	// type that travels as its text; paramKinds says how each is parsed
	// and formatted.
	Kind string
	// Bits is the size of an int, uint or float kind.
	Bits int
}

// scalarOf returns the scalar kind of t: that of its underlying type
// (basicKinds), or "text" for a type that travels as its text (see
// [paramText]).
func scalarOf(t types.Type) (Scalar, bool) {
	if paramText(t) {
		return Scalar{Kind: "text"}, true
	}
	b := basicOf(t)
	if b == nil {
		return Scalar{}, false
	}
	return b.param, true
}

// paramText reports a type that a path segment or a query parameter holds
// as its text: a type with MarshalText and UnmarshalText methods, and
// well-known types that travel so (time.Time: RFC 3339, as in JSON).
func paramText(t types.Type) bool {
	if isText(t) {
		return true
	}
	wk := wellKnownOf(t)
	return wk != nil && wk.text
}

// binding returns how a field is read from a path segment (single values
// only) or a query string. Named types behave as their underlying types:
// a named slice is a list, as []T is. A type with its own text form
// (MarshalText and UnmarshalText) is one value, even when it is a slice.
func binding(f *Field, key string, allowSlice bool) (*Binding, bool) {
	b := &Binding{Field: f, Key: key, Elem: f.Type}
	if !paramText(f.Type) {
		switch u := f.Type.Underlying().(type) {
		case *types.Pointer:
			if _, named := types.Unalias(f.Type).(*types.Named); !named {
				b.Pointer, b.Elem = true, u.Elem()
			}
		case *types.Slice:
			if !allowSlice || isByte(u.Elem()) {
				return nil, false // []byte is a body, not a list
			}
			b.Slice, b.Elem = true, u.Elem()
		}
	}
	s, ok := scalarOf(b.Elem)
	if !ok {
		return nil, false
	}
	b.Scalar = s
	return b, true
}

// bindRoute binds the route's wildcards, and for GET and DELETE the rest of
// the request's fields, to request fields. It returns every problem.
func (m *Method) bindRoute() []error {
	var errs []error
	fields := m.Request.Fields
	bound := map[*Field]bool{}
	for _, p := range m.Route.Params {
		f := findField(fields, p)
		if f == nil {
			have := "it has no fields"
			if len(fields) > 0 {
				names := make([]string, len(fields))
				for i, f := range fields {
					names[i] = f.JSON
				}
				have = "its fields are " + strings.Join(names, ", ")
			}
			errs = append(errs, fmt.Errorf("route %s: the request %s has no field for {%s}; %s", m.Route.Pattern(), m.requestName(), p, have))
			continue
		}
		b, ok := binding(f, p, false)
		bound[f] = true
		if !ok {
			errs = append(errs, fmt.Errorf("route %s: {%s} fills field %s of type %s, which a path segment cannot hold (want a string, bool, integer or float type, or a type with MarshalText and UnmarshalText)",
				m.Route.Pattern(), p, f.Name, types.TypeString(f.Type, nil)))
			continue
		}
		bound[f] = true
		m.PathBindings = append(m.PathBindings, b)
	}
	if m.Route.Method != "GET" && m.Route.Method != "DELETE" {
		m.Body = true
		return errs
	}
	for _, f := range fields {
		if bound[f] {
			continue
		}
		b, ok := binding(f, f.JSON, true)
		if !ok {
			errs = append(errs, fmt.Errorf("route %s: field %s of type %s cannot be read from a query string; use POST, PUT or PATCH for a request with a body, or a string, bool, number, type with MarshalText and UnmarshalText, or slice of them",
				m.Route.Pattern(), f.Name, types.TypeString(f.Type, nil)))
			continue
		}
		m.QueryBindings = append(m.QueryBindings, b)
	}
	return errs
}

func (m *Method) requestName() string {
	if m.Request.Generated() {
		return m.Request.Name
	}
	return types.TypeString(m.Request.Type, func(p *types.Package) string { return p.Name() })
}

// findField finds the field a wildcard names: by its JSON name, or by its
// Go name without regard to case.
func findField(fields []*Field, name string) *Field {
	for _, f := range fields {
		if f.JSON == name {
			return f
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}
