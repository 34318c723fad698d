package codegen

import (
	"go/types"
	"strings"
	"text/template"
)

const endpointsTemplate = `
{{- $kit := imp "github.com/typedkit/kit" }}
{{- $ctx := imp "context" }}
{{- range .Methods }}
{{- if .Request.Generated }}
// {{ .Request.Name }} is the request of {{ $.Name }}.{{ .Name }}.
type {{ .Request.Name }} struct {
{{- range .Request.Fields }}
	{{ .Name }} {{ typ .Type }} {{ tag .JSON }}
{{- end }}
}
{{ end }}
{{- if .Response.Generated }}
// {{ .Response.Name }} is the response of {{ $.Name }}.{{ .Name }}.
type {{ .Response.Name }} struct {
{{- range .Response.Fields }}
	{{ .Name }} {{ typ .Type }} {{ tag .JSON }}
{{- end }}
}
{{ end }}
// Make{{ .Name }}Endpoint returns the endpoint that calls svc.{{ .Name }}.
// Its errors keep no retry mark of the calls the method made (kit.Served).
{{- if .ValidatePointer }}
// Requests are checked by their Validate method first, as kit.Validate
// checks them.
{{- else if .Validates }}
// Requests are checked by their Validate method first (kit.Validate).
{{- end }}
func Make{{ .Name }}Endpoint(svc {{ $.Name }}) {{ $kit }}.Endpoint[{{ reqType . }}, {{ respType . }}] {
{{- if .ValidatePointer }}
	return {{ $kit }}.Served({{ $kit }}.Endpoint[{{ reqType . }}, {{ respType . }}](func(ctx {{ $ctx }}.Context, req {{ reqType . }}) ({{ respType . }}, error) {
		if err := req.Validate(); err != nil {
			return *new({{ respType . }}), {{ $kit }}.ValidationError(err)
		}
		{{ callService . }}
	}))
{{- else if .Validates }}
	return {{ $kit }}.Served({{ $kit }}.Validate({{ $kit }}.Endpoint[{{ reqType . }}, {{ respType . }}](func(ctx {{ $ctx }}.Context, req {{ reqType . }}) ({{ respType . }}, error) {
		{{ callService . }}
	})))
{{- else }}
	return {{ $kit }}.Served({{ $kit }}.Endpoint[{{ reqType . }}, {{ respType . }}](func(ctx {{ $ctx }}.Context, req {{ reqType . }}) ({{ respType . }}, error) {
		{{ callService . }}
	}))
{{- end }}
}
{{ end }}
// Endpoints holds one typed endpoint per method of {{ .Name }}. It
// implements {{ .Name }} itself, so endpoints that call a remote service
// are a {{ .Name }} client.
type Endpoints struct {
{{- range .Methods }}
	{{ .Name }}Endpoint {{ $kit }}.Endpoint[{{ reqType . }}, {{ respType . }}]
{{- end }}
}

// Middlewares holds typed middlewares for each endpoint of {{ .Name }}, the
// first of each list outermost.
type Middlewares struct {
{{- range .Methods }}
	{{ .Name }} []{{ $kit }}.Middleware[{{ reqType . }}, {{ respType . }}]
{{- end }}
}

// NewEndpoints returns the endpoints of svc, each wrapped in its
// middlewares from mw.
func NewEndpoints(svc {{ .Name }}, mw Middlewares) Endpoints {
	return Endpoints{
{{- range .Methods }}
		{{ .Name }}Endpoint: {{ $kit }}.Apply(Make{{ .Name }}Endpoint(svc), mw.{{ .Name }}...),
{{- end }}
	}
}

var _ {{ .Name }} = Endpoints{}
{{ range .Methods }}
// {{ .Name }} calls the {{ .Name }} endpoint.
func (e Endpoints) {{ .Name }}({{ signature . }}) {
	{{ callEndpoint . }}
}
{{ end }}
`

// renderEndpoints renders the request and response types, the endpoint
// constructors and the Endpoints type.
func renderEndpoints(svc *Service) ([]byte, error) {
	return render(svc, "endpoints", endpointsTemplate, svc, nil)
}

// callService is the body of a Make<M>Endpoint endpoint.
func callService(m *Method) string {
	var args []string
	args = append(args, "ctx")
	if m.Request.Generated() {
		for _, f := range m.Request.Fields {
			args = append(args, "req."+f.Name)
		}
	} else {
		args = append(args, "req")
	}
	call := "svc." + m.Name + "(" + strings.Join(args, ", ") + ")"
	if !m.Response.Generated() {
		return "return " + call
	}
	var vars, fields []string
	for i, f := range m.Response.Fields {
		v := "r" + itoa(i)
		vars = append(vars, v)
		fields = append(fields, f.Name+": "+v)
	}
	vars = append(vars, "err")
	return strings.Join(vars, ", ") + " := " + call + "\n\t\treturn " + m.Response.Name + "{" + strings.Join(fields, ", ") + "}, err"
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// methodFuncs are the template functions that need the file's imports.
func methodFuncs(svc *Service, fi *fileImports) template.FuncMap {
	return template.FuncMap{
		"signature": func(m *Method) string {
			names := localNames(m.Params, fi, pkgNames(m))
			var b strings.Builder
			b.WriteString("ctx " + fi.name("context", "context") + ".Context")
			for i, p := range m.Params {
				b.WriteString(", " + names[i] + " " + fi.typ(p.Type))
			}
			b.WriteString(") (")
			for _, r := range m.Results {
				b.WriteString(fi.typ(r.Type) + ", ")
			}
			b.WriteString("error")
			return b.String()
		},
		"callEndpoint": func(m *Method) string {
			names := localNames(m.Params, fi, pkgNames(m))
			var req string
			if m.Request.Generated() {
				var fields []string
				for i, f := range m.Request.Fields {
					fields = append(fields, f.Name+": "+names[i])
				}
				req = m.Request.Name + "{" + strings.Join(fields, ", ") + "}"
			} else {
				req = names[0]
			}
			call := "e." + m.Name + "Endpoint(ctx, " + req + ")"
			switch {
			case !m.Response.Generated():
				return "return " + call
			case len(m.Response.Fields) == 0:
				return "_, err := " + call + "\n\treturn err"
			}
			var rets []string
			for _, f := range m.Response.Fields {
				rets = append(rets, "resp."+f.Name)
			}
			return "resp, err := " + call + "\n\treturn " + strings.Join(rets, ", ") + ", err"
		},
	}
}

// pkgNames returns the names of the packages a method's types refer to.
func pkgNames(m *Method) map[string]bool {
	names := map[string]bool{}
	q := func(p *types.Package) string { names[p.Name()] = true; return p.Name() }
	for _, v := range append(append([]*Var(nil), m.Params...), m.Results...) {
		types.TypeString(v.Type, q)
	}
	return names
}
