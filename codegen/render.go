package codegen

import (
	"bytes"
	"fmt"
	"go/format"
	"go/types"
	"slices"
	"strconv"
	"strings"
	"text/template"
)

// Import paths of the packages generated code uses.
const (
	kitPath   = "github.com/typedkit/kit"
	httpxPath = "github.com/typedkit/kit/httpx"
	grpcxPath = "github.com/typedkit/kit/grpcx"
	genrtPath = "github.com/typedkit/kit/genrt"
)

// fileImports names the packages one generated file imports, so that no
// import name collides with another or with a name the package declares.
type fileImports struct {
	self *types.Package
	// paths gives packages an import path other than their own: the
	// service package of an interface file loaded on its own.
	paths    map[*types.Package]string
	reserved map[string]bool
	byPath   map[string]string
	taken    map[string]bool
}

func newFileImports(svc *Service) *fileImports {
	fi := &fileImports{self: svc.Pkg, reserved: map[string]bool{}, byPath: map[string]string{}, taken: map[string]bool{}}
	for _, n := range svc.scope.Names() {
		fi.reserved[n] = true
	}
	// Names the generated code declares as locals and receivers.
	for _, n := range []string{"ctx", "req", "resp", "err", "svc", "e", "r", "w", "q", "v", "x", "p", "mux", "opts", "mw", "u", "base"} {
		fi.reserved[n] = true
	}
	return fi
}

// name returns the name under which the file refers to the package.
func (fi *fileImports) name(path, pkgName string) string {
	if n, ok := fi.byPath[path]; ok {
		return n
	}
	n := pkgName
	for i := 2; fi.taken[n] || fi.reserved[n]; i++ {
		n = pkgName + strconv.Itoa(i)
	}
	fi.byPath[path] = n
	fi.taken[n] = true
	return n
}

func (fi *fileImports) qualifier(p *types.Package) string {
	if p.Path() == fi.self.Path() {
		return ""
	}
	if path, ok := fi.paths[p]; ok {
		return fi.name(path, p.Name())
	}
	return fi.name(p.Path(), p.Name())
}

func (fi *fileImports) typ(t types.Type) string { return types.TypeString(t, fi.qualifier) }

// block returns the import declaration, in a stable order.
func (fi *fileImports) block() string {
	paths := make([]string, 0, len(fi.byPath))
	for p := range fi.byPath {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	// The standard library first, then the rest, as goimports groups them.
	slices.SortStableFunc(paths, func(a, b string) int {
		return boolCmp(strings.Contains(strings.Split(a, "/")[0], "."), strings.Contains(strings.Split(b, "/")[0], "."))
	})
	var b strings.Builder
	b.WriteString("import (\n")
	for i, p := range paths {
		if i > 0 && strings.Contains(strings.Split(p, "/")[0], ".") && !strings.Contains(strings.Split(paths[i-1], "/")[0], ".") {
			b.WriteString("\n")
		}
		name := fi.byPath[p]
		last := p[strings.LastIndex(p, "/")+1:]
		if name == last {
			fmt.Fprintf(&b, "\t%q\n", p)
		} else {
			fmt.Fprintf(&b, "\t%s %q\n", name, p)
		}
	}
	b.WriteString(")\n")
	return b.String()
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// render executes a template for svc and returns the gofmt'ed file.
func render(svc *Service, name, text string, data any, extra func(*fileImports) template.FuncMap) ([]byte, error) {
	return renderFile(svc, newFileImports(svc), generatedHeader+"\n\n", svc.Pkg.Name(), name, text, data, extra)
}

// renderFile executes a template for a file of package pkgName whose
// imports fi names, below head (the generated-code header, or a doc
// comment).
func renderFile(svc *Service, fi *fileImports, head, pkgName, name, text string, data any, extra func(*fileImports) template.FuncMap) ([]byte, error) {
	funcs := template.FuncMap{
		"typ": fi.typ,
		"imp": func(path string) string { return fi.name(path, path[strings.LastIndex(path, "/")+1:]) },
		// blankImport imports a package for its side effects only.
		"blankImport": func(path string) string {
			if _, ok := fi.byPath[path]; !ok {
				fi.byPath[path] = "_"
			}
			return ""
		},
		"reqType": func(m *Method) string {
			if m.Request.Generated() {
				return m.Request.Name
			}
			return fi.typ(m.Request.Type)
		},
		"respType": func(m *Method) string {
			if m.Response.Generated() {
				return m.Response.Name
			}
			return fi.typ(m.Response.Type)
		},
		// endpointResult is the result list of the method's endpoint.
		"endpointResult": func(m *Method) string {
			resp := fi.typ(m.Response.Type)
			if m.Response.Generated() {
				resp = m.Response.Name
			}
			if m.ServerStreams() {
				return fi.name("iter", "iter") + ".Seq2[" + resp + ", error], error"
			}
			return resp + ", error"
		},
		"comment": comment,
		"article": article,
		"quote":   strconv.Quote,
		"tag":     func(json string) string { return "`json:\"" + json + "\"`" },
	}
	funcs["callService"] = callService
	for k, v := range methodFuncs(svc, fi) {
		funcs[k] = v
	}
	if extra != nil {
		for k, v := range extra(fi) {
			funcs[k] = v
		}
	}
	tmpl, err := template.New(name).Funcs(funcs).Parse(text)
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	if err := tmpl.Execute(&body, data); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.WriteString(head)
	fmt.Fprintf(&out, "package %s\n\n", pkgName)
	if len(fi.byPath) > 0 {
		out.WriteString(fi.block())
	}
	out.Write(body.Bytes())
	src, err := format.Source(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("format %s: %w\n%s", name, err, out.Bytes())
	}
	return src, nil
}

// comment turns text into // comment lines.
func comment(text string) string {
	text = strings.TrimSpace(text)
	if text == "" {
		return ""
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if l == "" {
			lines[i] = "//"
		} else {
			lines[i] = "// " + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// localNames gives a method's parameters names for a generated method
// signature that cannot shadow an import or a local of the generated code.
func localNames(vars []*Var, fi *fileImports, pkgs map[string]bool) []string {
	names := make([]string, len(vars))
	used := map[string]bool{"ctx": true, "e": true, "resp": true, "err": true}
	for i, v := range vars {
		n := v.Name
		if n == "" || n == "_" {
			n = "arg" + strconv.Itoa(i+1)
		}
		for used[n] || fi.taken[n] || pkgs[n] || isImportName(n) {
			n += "_"
		}
		used[n] = true
		names[i] = n
	}
	return names
}

// isImportName reports names the generated files may use for imports.
func isImportName(n string) bool {
	switch n {
	case "context", "http", "url", "strconv", "strings", "kit", "httpx", "grpcx", "grpc", "errors", "fmt":
		return true
	}
	return false
}

// article returns "a" or "an", the article of word in English: "an" before
// a vowel sound. A leading U followed by one consonant and a vowel is
// sounded "you" (User, Unit, Usage) and takes "a"; Update and Under take
// "an".
func article(word string) string {
	if word == "" {
		return "a"
	}
	w := strings.ToLower(word)
	isVowel := func(c byte) bool { return strings.IndexByte("aeiou", c) >= 0 }
	if w[0] == 'u' && len(w) >= 3 && !isVowel(w[1]) && isVowel(w[2]) {
		return "a"
	}
	if isVowel(w[0]) {
		return "an"
	}
	return "a"
}
