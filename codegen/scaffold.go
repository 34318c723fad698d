package codegen

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"go/ast"
	gobuild "go/build"
	"go/format"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"golang.org/x/tools/go/packages"
)

// NewOptions says what `kitgen new` scaffolds.
type NewOptions struct {
	// IDL is the Go file that declares the service interface and its
	// types.
	IDL string
	// Out is the directory of the new module. It must not exist or be
	// empty, unless Add is set.
	Out string
	// Import is the new module's path, such as example.com/usersvc.
	Import string
	// Service is the name of the interface in IDL.
	Service string
	// HTTP and GRPC say which transports the service serves; MCP adds its
	// methods as MCP tools at /mcp of the HTTP listener.
	HTTP, GRPC, MCP bool
	// Discovery is the registry main.go registers the service in when it
	// is given the registry's address: DiscoveryConsul (the default, for
	// ""), DiscoveryEtcd, or DiscoveryNone for a main.go without one.
	Discovery string
	// Replace, when set, points the module's typedkit requirements, the
	// root module, the discovery backend's module (discovery/consul or
	// discovery/etcd) and, with MCP, the MCP transport's (mcpx), at a
	// local checkout of typedkit (replace directives).
	Replace string
	// Add writes into an existing Out the files that are not there yet,
	// and never touches the others.
	Add bool
	// OpenAPI is what the OpenAPI document declares beyond the routes
	// (servers, license, contact, the default security scheme). New
	// writes it into the go:generate line as kitgen's -openapi-* and
	// -security flags, so that go generate writes the files New wrote.
	OpenAPI OpenAPIOptions
}

// kitModule is typedkit's module path.
const kitModule = "github.com/typedkit/kit"

// consulModule is the module of typedkit's Consul backend, which the
// scaffolded main.go imports, and consulDir its directory in a checkout.
const (
	consulModule = kitModule + "/discovery/consul"
	consulDir    = "discovery/consul"
)

// etcdModule is the module of typedkit's etcd backend, which main.go
// imports with DiscoveryEtcd, and etcdDir its directory in a checkout.
const (
	etcdModule = kitModule + "/discovery/etcd"
	etcdDir    = "discovery/etcd"
)

// The registries of [NewOptions.Discovery].
const (
	DiscoveryConsul = "consul"
	DiscoveryEtcd   = "etcd"
	DiscoveryNone   = "none"
)

// mcpModule is the module of typedkit's MCP transport, which a service
// with MCP imports, and mcpDir its directory in a checkout.
const (
	mcpModule = kitModule + "/mcpx"
	mcpDir    = "mcpx"
)

// New scaffolds a runnable service module from an interface file: go.mod,
// which declares kitgen as a tool (go tool kitgen); the service package
// holding the interface file with its go:generate line, an implementation
// whose methods answer Unimplemented, and the generated glue;
// cmd/<service>/main.go serving the endpoints with the standard
// middleware, health endpoints and graceful shutdown; and a README. The
// generated files are byte for byte those go generate writes in the new
// module. The implementation, main.go, README and the interface file are
// the user's: New writes them once and never again. A kitgen go:generate
// line in the interface file gives way to the one New writes from its
// options. On any error New writes nothing. It returns the paths it
// wrote.
func New(opts NewOptions) ([]string, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	pkgName, err := packageName(opts.IDL)
	if err != nil {
		return nil, err
	}
	if pkgName == "main" {
		return nil, &Error{Pos: token.Position{Filename: opts.IDL, Line: 1}, Message: "the interface file's package is main",
			Hint: "name the package after the service, such as package " + strings.ToLower(opts.Service)}
	}
	pkgPath := opts.Import + "/" + pkgName
	svc, src, err := loadFile(opts.IDL, opts.Service, pkgPath)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}

	files["go.mod"] = goMod(opts)
	if opts.Replace != "" {
		var sum []byte
		var dirs []string
		for _, m := range opts.localModules() {
			dirs = append(dirs, m[1])
		}
		for _, dir := range dirs {
			if s, err := os.ReadFile(filepath.Join(dir, "go.sum")); err == nil {
				sum = append(sum, s...)
			}
		}
		if sum != nil {
			files["go.sum"] = sum
		}
	}
	if files[filepath.Join(pkgName, "service.go")], err = withGenerateLine(src, svc, opts); err != nil {
		return nil, err
	}
	implName := "Service"
	if svc.scope.Lookup(implName) != nil || svc.scope.Lookup("New"+implName) != nil {
		implName = opts.Service + "Impl"
	}
	if files[filepath.Join(pkgName, "service_impl.go")], err = renderImpl(svc, implName); err != nil {
		return nil, err
	}
	cmdName := strings.ToLower(opts.Service)
	if files[filepath.Join("cmd", cmdName, "main.go")], err = renderMain(svc, opts, pkgPath, implName); err != nil {
		return nil, err
	}
	files["README.md"] = scaffoldReadme(opts, pkgName, cmdName)

	gen := Options{Type: opts.Service, HTTP: opts.HTTP, GRPC: opts.GRPC, MCP: opts.MCP, Dir: filepath.Join(opts.Out, pkgName), OpenAPI: opts.OpenAPI}
	generated, err := generate(svc, gen)
	if err != nil {
		return nil, err
	}
	for name, data := range generated {
		files[filepath.Join(pkgName, name)] = data
	}
	return writeTree(opts.Out, files, opts.Add)
}

func (o *NewOptions) check() error {
	var missing []string
	for flag, v := range map[string]string{"-idl": o.IDL, "-out": o.Out, "-import": o.Import, "-service": o.Service} {
		if v == "" {
			missing = append(missing, flag)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	if !o.HTTP && !o.GRPC && !o.MCP {
		return errors.New("-protocols names no transport: want http, grpc, mcp or several")
	}
	switch o.Discovery {
	case "":
		o.Discovery = DiscoveryConsul
	case DiscoveryConsul, DiscoveryEtcd, DiscoveryNone:
	default:
		return fmt.Errorf("-discovery %q: want consul, etcd or none", o.Discovery)
	}
	if strings.ContainsAny(o.Import, " \t\\") || strings.HasPrefix(o.Import, "/") || strings.HasSuffix(o.Import, "/") {
		return fmt.Errorf("-import %q is not a module path", o.Import)
	}
	entries, err := os.ReadDir(o.Out)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	case len(entries) > 0 && !o.Add:
		return fmt.Errorf("%s is not empty; choose a new directory, or pass -add to write only the files it lacks", o.Out)
	}
	if o.Replace != "" {
		abs, err := filepath.Abs(o.Replace)
		if err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(abs, "go.mod")); err != nil {
			return fmt.Errorf("-replace %s: no typedkit checkout there (no go.mod)", o.Replace)
		}
		o.Replace = abs
	}
	return nil
}

// packageName returns the name of the package a Go file declares.
func packageName(path string) (string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly)
	if err != nil {
		return "", err
	}
	return f.Name.Name, nil
}

// loadFile loads one Go file as a package on its own, under the import
// path pkgPath it will have in the new module (so the generated files say
// what go generate's say there), and builds the model of its interface.
// Positions name the file itself.
func loadFile(path, typeName, pkgPath string) (*Service, []byte, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, err
	}
	src, err := os.ReadFile(abs)
	if err != nil {
		return nil, nil, err
	}
	// The file is read outside any module it may sit in: in GOPATH mode,
	// from a GOPATH of its own where it has its import path.
	gopath, err := os.MkdirTemp("", "kitgen-new-*")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(gopath)
	dir := filepath.Join(gopath, "src", filepath.FromSlash(pkgPath))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	staged := filepath.Join(dir, filepath.Base(abs))
	if err := os.WriteFile(staged, src, 0o644); err != nil {
		return nil, nil, err
	}
	userGOPATH := cmp.Or(os.Getenv("GOPATH"), gobuild.Default.GOPATH)
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo,
		Dir:  dir,
		Env:  append(os.Environ(), "GO111MODULE=off", "GOFLAGS=", "GOPATH="+gopath+string(filepath.ListSeparator)+userGOPATH),
		ParseFile: func(fset *token.FileSet, filename string, src []byte) (*ast.File, error) {
			if filename == staged {
				filename = abs
			}
			return parser.ParseFile(fset, filename, src, parser.AllErrors|parser.ParseComments|parser.SkipObjectResolution)
		},
	}
	pkgs, err := packages.Load(cfg, pkgPath)
	if err != nil {
		return nil, nil, fmt.Errorf("load %s: %w", path, err)
	}
	if len(pkgs) != 1 || pkgs[0].Types == nil {
		return nil, nil, fmt.Errorf("load %s: not a Go file", path)
	}
	pkg := pkgs[0]
	svc, err := build(pkg, filepath.Dir(abs), typeName)
	if err != nil {
		if len(pkg.Errors) > 0 {
			return nil, nil, typeCheckError(pkg)
		}
		return nil, nil, err
	}
	if len(pkg.Errors) > 0 {
		return nil, nil, typeCheckError(pkg)
	}
	return svc, src, nil
}

// kitgenTool is kitgen's package, the tool of the new module's go.mod.
const kitgenTool = kitModule + "/codegen/cmd/kitgen"

// goMod is the new module's go.mod: kitgen is a tool of the module (go
// tool kitgen runs it at the version the module requires), and go mod
// tidy adds the requirements.
func goMod(opts NewOptions) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "module %s\n\ngo 1.26.7\n\ntool %s\n", opts.Import, kitgenTool)
	if opts.Replace != "" {
		mods := opts.localModules()
		b.WriteString("\nrequire (\n")
		for _, m := range mods {
			fmt.Fprintf(&b, "\t%s v0.0.0\n", m[0])
		}
		b.WriteString(")\n\nreplace (\n")
		for _, m := range mods {
			fmt.Fprintf(&b, "\t%s => %s\n", m[0], m[1])
		}
		b.WriteString(")\n")
	}
	return b.Bytes()
}

// localModules returns the typedkit modules the new module requires, with
// their directories in the checkout of Replace.
func (o NewOptions) localModules() [][2]string {
	mods := [][2]string{{kitModule, o.Replace}}
	switch o.Discovery {
	case DiscoveryConsul:
		mods = append(mods, [2]string{consulModule, filepath.Join(o.Replace, consulDir)})
	case DiscoveryEtcd:
		mods = append(mods, [2]string{etcdModule, filepath.Join(o.Replace, etcdDir)})
	}
	if o.MCP {
		mods = append(mods, [2]string{mcpModule, filepath.Join(o.Replace, mcpDir)})
	}
	return mods
}

// generateArgs are kitgen's arguments for the options, as the go:generate
// line passes them: values with spaces or quotes in Go's quoted form.
func generateArgs(opts NewOptions) []string {
	var transports []string
	if opts.HTTP {
		transports = append(transports, "http")
	}
	if opts.GRPC {
		transports = append(transports, "grpc")
	}
	if opts.MCP {
		transports = append(transports, "mcp")
	}
	args := []string{"-type", opts.Service, "-transports", strings.Join(transports, ",")}
	oa := opts.OpenAPI
	flag := func(name, v string) {
		if v != "" {
			args = append(args, "-"+name, v)
		}
	}
	if oa.Version != "1.0.0" {
		flag("openapi-version", oa.Version)
	}
	flag("openapi-title", oa.Title)
	for _, s := range oa.Servers {
		flag("openapi-server", strings.TrimSpace(s.URL+" "+s.Description))
	}
	flag("openapi-license", oa.License)
	flag("openapi-license-url", oa.LicenseURL)
	flag("openapi-contact", oa.Contact)
	flag("security", oa.Security)
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"\\") || !strconv.CanBackquote(a) {
			args[i] = strconv.Quote(a)
		}
	}
	return args
}

// isKitgenLine reports a go:generate line that runs kitgen.
func isKitgenLine(line string) bool {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "//go:generate ")
	return ok && (strings.Contains(rest, "codegen/cmd/kitgen") || strings.HasPrefix(strings.TrimSpace(rest), "go tool kitgen"))
}

// withGenerateLine returns the interface file with the go:generate line
// that runs kitgen, above the interface's declaration.
func withGenerateLine(src []byte, svc *Service, opts NewOptions) ([]byte, error) {
	line := "//go:generate go tool kitgen " + strings.Join(generateArgs(opts), " ") + "\n"
	var kept [][]byte
	for _, l := range bytes.SplitAfter(src, []byte("\n")) {
		if !isKitgenLine(string(l)) {
			kept = append(kept, l)
		}
	}
	src = bytes.Join(kept, nil)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	insertAt := -1
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			if spec.(*ast.TypeSpec).Name.Name == svc.Name {
				pos := gd.Pos()
				if gd.Doc != nil {
					pos = gd.Doc.Pos()
				}
				insertAt = fset.Position(pos).Offset
			}
		}
	}
	if insertAt < 0 {
		return nil, fmt.Errorf("no declaration of %s in the interface file", svc.Name)
	}
	out := append(append(append([]byte{}, src[:insertAt]...), line...), src[insertAt:]...)
	return format.Source(out)
}

// zeroValue is a literal of the zero value of t.
func zeroValue(t types.Type, typ func(types.Type) string) string {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Info()&types.IsBoolean != 0:
			return "false"
		case u.Info()&types.IsString != 0:
			if _, named := types.Unalias(t).(*types.Named); named {
				return typ(t) + "(\"\")"
			}
			return `""`
		case u.Info()&types.IsNumeric != 0:
			if _, named := types.Unalias(t).(*types.Named); named {
				return typ(t) + "(0)"
			}
			return "0"
		}
	case *types.Pointer, *types.Slice, *types.Map, *types.Interface, *types.Chan, *types.Signature:
		return "nil"
	case *types.Struct:
		if _, named := types.Unalias(t).(*types.Named); named {
			return typ(t) + "{}"
		}
	}
	return "*new(" + typ(t) + ")"
}

const implTemplate = `
{{- $kit := imp "github.com/typedkit/kit" -}}
// {{ .Impl }} implements {{ .Svc.Name }}. Each method answers Unimplemented
// (HTTP 501, gRPC Unimplemented) until it is written. This file is yours:
// kitgen never writes it again.
type {{ .Impl }} struct{}

// New{{ .Impl }} returns {{ article .Impl }} {{ .Impl }}.
func New{{ .Impl }}() *{{ .Impl }} { return &{{ .Impl }}{} }

var _ {{ .Svc.Name }} = (*{{ .Impl }})(nil)
{{ range .Svc.Methods }}
// {{ .Name }} implements {{ $.Svc.Name }}.
func (s *{{ $.Impl }}) {{ .Name }}({{ signature . }}) {
	return {{ zeros . }}{{ $kit }}.NewError({{ $kit }}.Unimplemented, {{ quote (print .Name " is not implemented") }})
}
{{ end }}`

// renderImpl renders the user's implementation file.
func renderImpl(svc *Service, implName string) ([]byte, error) {
	data := struct {
		Svc  *Service
		Impl string
	}{svc, implName}
	src, err := render(svc, "impl", implTemplate, data, func(fi *fileImports) template.FuncMap {
		return template.FuncMap{
			"zeros": func(m *Method) string {
				var b strings.Builder
				for _, r := range m.Results {
					b.WriteString(zeroValue(r.Type, fi.typ) + ", ")
				}
				return b.String()
			},
		}
	})
	if err != nil {
		return nil, err
	}
	return bytes.Replace(src, []byte(generatedHeader+"\n\n"), nil, 1), nil
}

const mainTemplate = `
{{- $kit := imp "github.com/typedkit/kit" -}}
{{- $svc := imp .PkgPath -}}
{{- $http := imp "net/http" -}}
{{- $ctx := imp "context" -}}
{{- $errors := imp "errors" -}}
{{- $flag := imp "flag" -}}
{{- $fmt := imp "fmt" -}}
{{- $slog := imp "log/slog" -}}
{{- $net := imp "net" -}}
{{- $os := imp "os" -}}
{{- $signal := imp "os/signal" -}}
{{- $syscall := imp "syscall" -}}
{{- $time := imp "time" -}}
{{- $rate := imp "golang.org/x/time/rate" -}}
{{- $breaker := imp "github.com/typedkit/kit/breaker" -}}
{{- $httpx := imp "github.com/typedkit/kit/httpx" -}}
{{- $limit := imp "github.com/typedkit/kit/limit" -}}
{{- $tls := imp "crypto/tls" -}}
{{- $tlsx := imp "github.com/typedkit/kit/tlsx" -}}
{{- $auth := imp "github.com/typedkit/kit/auth" -}}
func main() {
	if err := run(); err != nil {
		{{ $fmt }}.Fprintln({{ $os }}.Stderr, "{{ .Cmd }}:", err)
		{{ $os }}.Exit(1)
	}
}

// interceptors is the stack of every method of one transport, outermost
// first: logging sees every outcome, recovery turns panics into Internal
// errors, the limiter and the breaker reject before any work, and the
// timeout bounds the work itself. Each method gets a limiter and a breaker
// of its own, and each call of interceptors makes new ones, so a flood over
// one transport leaves the other's budget alone.
func interceptors(logger *{{ $slog }}.Logger, timeout {{ $time }}.Duration, rps float64) []{{ $kit }}.Interceptor {
	perMethodLimit := func(call {{ $kit }}.Call, next {{ $kit }}.Invoker) {{ $kit }}.Invoker {
		return {{ $limit }}.Erroring({{ $rate }}.NewLimiter({{ $rate }}.Limit(rps), int(rps)/5+1))(call, next)
	}
	return []{{ $kit }}.Interceptor{
		{{ $kit }}.Logging(logger),
		{{ $kit }}.Recover(logger),
		perMethodLimit,
		{{ $breaker }}.Adaptive(),
		{{ $kit }}.Timeout(timeout),
	}
}

func run() error {
	httpAddr := {{ $flag }}.String("http.addr", "127.0.0.1:8080", "HTTP listen address{{ if not .HTTP }} (health endpoints){{ end }}")
{{- if .GRPC }}
	grpcAddr := {{ $flag }}.String("grpc.addr", "127.0.0.1:8081", "gRPC listen address")
{{- end }}
{{- if eq .Discovery "consul" }}
	consulAddr := {{ $flag }}.String("consul.addr", "", "Consul agent address, such as 127.0.0.1:8500 (empty: no registration)")
{{- else if eq .Discovery "etcd" }}
	etcdAddr := {{ $flag }}.String("etcd.addr", "", "etcd endpoints, comma-separated, such as 127.0.0.1:2379 (empty: no registration)")
{{- end }}
	timeout := {{ $flag }}.Duration("timeout", 5*{{ $time }}.Second, "deadline of each call")
	rps := {{ $flag }}.Float64("rate", 1000, "calls per second allowed for each method on each transport")
	readyDelay := {{ $flag }}.Duration("shutdown.delay", 5*{{ $time }}.Second, "how long /readyz answers 503, while serving, before the listeners close at shutdown")
	drain := {{ $flag }}.Duration("drain", 10*{{ $time }}.Second, "longest wait for in-flight calls at shutdown; connections still open then are closed")
	logLevel := {{ $flag }}.String("log.level", "warn", "least level logged for calls: info logs every call, warn failures only")
	tlsCert := {{ $flag }}.String("tls.cert", "", "PEM certificate to serve TLS with, reloaded when it changes (needs -tls.key)")
	tlsKey := {{ $flag }}.String("tls.key", "", "PEM private key of -tls.cert")
	tlsClientCA := {{ $flag }}.String("tls.client-ca", "", "PEM bundle of the CAs whose client certificates may call the service: mutual TLS (health endpoints stay open to probes)")
	{{ $flag }}.Parse()
	if (*tlsCert == "") != (*tlsKey == "") || (*tlsClientCA != "" && *tlsCert == "") {
		return {{ $errors }}.New("-tls.cert and -tls.key go together, and -tls.client-ca needs them")
	}

	var level {{ $slog }}.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return {{ $fmt }}.Errorf("-log.level: %w", err)
	}
	logger := {{ $slog }}.New({{ $slog }}.NewTextHandler({{ $os }}.Stderr, nil))
	calls := {{ $slog }}.New({{ $slog }}.NewTextHandler({{ $os }}.Stderr, &{{ $slog }}.HandlerOptions{Level: level}))
	ctx, stop := {{ $signal }}.NotifyContext({{ $ctx }}.Background(), {{ $os }}.Interrupt, {{ $syscall }}.SIGTERM)
	defer stop()

	svc := {{ $svc }}.New{{ .Impl }}()
	endpoints := {{ $svc }}.NewEndpoints(svc, {{ $svc }}.Middlewares{})

	// TLS on every port; with a client CA, calls need a client certificate
	// that chains to it, and probes reach the health endpoints without one.
	var certs *{{ $tlsx }}.Server
	var peers *{{ $auth }}.PeerAuthorizer
	var err error
	if *tlsCert != "" {
		files := {{ $tlsx }}.ServerFiles{Cert: *tlsCert, Key: *tlsKey, ClientCA: *tlsClientCA}
		if *tlsClientCA != "" {
			files.ClientAuth = {{ $tls }}.VerifyClientCertIfGiven
			if peers, err = {{ $auth }}.NewPeerAuthorizer({{ $auth }}.PeerPolicy{AnyVerified: true}); err != nil {
				return err
			}
		}
		if certs, err = {{ $tlsx }}.NewServer(files); err != nil {
			return err
		}
	}

	// One health model for every transport; Serve marks it draining at
	// shutdown.
	svcHealth := new({{ imp "github.com/typedkit/kit/health" }}.Health)
	mux := {{ $http }}.NewServeMux()
	svcHealth.Register(mux)
{{- if .HTTP }}
	httpOpts := []{{ $httpx }}.ServerOption{ {{- $httpx }}.ServerInterceptors(interceptors(calls, *timeout, *rps)...),
		{{ $httpx }}.ServerErrorHandler({{ $kit }}.LogServerFaults(calls))}
	if peers != nil {
		httpOpts = append(httpOpts, {{ $httpx }}.ServerGuard({{ $auth }}.HTTPPeerGuard(peers, nil)))
	}
	{{ $svc }}.RegisterHTTP(mux, endpoints, httpOpts...)
{{- end }}
{{- if .MCP }}
{{- $mcpx := imp "github.com/typedkit/kit/mcpx" }}
	// The methods as MCP tools, through the same interceptors. Over
	// stdio, for a local agent: tools.Run(ctx, &mcp.StdioTransport{}).
	tools := {{ $svc }}.NewMCPServer(endpoints, "0.1.0", {{ $mcpx }}.ServerInterceptors(interceptors(calls, *timeout, *rps)...),
		{{ $mcpx }}.ServerErrorHandler({{ $kit }}.LogServerFaults(calls)), {{ $mcpx }}.ServerBefore({{ $mcpx }}.AuthorizationToContext()))
	mux.Handle("/mcp", {{ $mcpx }}.Handler(tools))
{{- end }}
	httpLis, err := {{ $net }}.Listen("tcp", *httpAddr)
	if err != nil {
		return err
	}
	logger.Info("serving HTTP", "addr", httpLis.Addr().String(), "tls", certs != nil, "mtls", peers != nil)
	serveOpts := []{{ $httpx }}.ServeOption{ {{- $httpx }}.ServeHealth(svcHealth), {{ $httpx }}.ServeReadinessDelay(*readyDelay), {{ $httpx }}.ServeDrainTimeout(*drain),
		{{ $httpx }}.ServeLogger(logger)}
	if certs != nil {
		serveOpts = append(serveOpts, {{ $httpx }}.ServeTLS(certs))
	}
	errc := make(chan error, 2)
	go func() {
		// Serve gives the server limits a slow or idle client cannot hold
		// open; RouteProblems answers unknown routes with problem bodies.
		errc <- {{ $httpx }}.Serve(ctx, &{{ $http }}.Server{Handler: {{ $httpx }}.RouteProblems(mux)}, httpLis, serveOpts...)
	}()
{{- if .GRPC }}
{{- $grpcx := imp "github.com/typedkit/kit/grpcx" }}

	grpcLis, err := {{ $net }}.Listen("tcp", *grpcAddr)
	if err != nil {
		return err
	}
	var grpcServerOpts []{{ imp "google.golang.org/grpc" }}.ServerOption
	if certs != nil {
		grpcServerOpts = append(grpcServerOpts, {{ $grpcx }}.ServerTLS(certs))
	}
	grpcServer := {{ $grpcx }}.NewGRPCServer(grpcServerOpts...)
	grpcOpts := []{{ $grpcx }}.ServerOption{ {{- $grpcx }}.ServerInterceptors(interceptors(calls, *timeout, *rps)...),
		{{ $grpcx }}.ServerErrorHandler({{ $kit }}.LogServerFaults(calls))}
	if peers != nil {
		grpcOpts = append(grpcOpts, {{ $grpcx }}.ServerGuard({{ $auth }}.GRPCPeerGuard(peers, nil)))
	}
	{{ $svc }}.RegisterGRPC(grpcServer, endpoints, grpcOpts...)
	{{ $grpcx }}.RegisterHealth(grpcServer, svcHealth, {{ $grpcx }}.HealthServices({{ $svc }}.GRPCServiceName))
	logger.Info("serving gRPC", "addr", grpcLis.Addr().String())
	go func() {
		errc <- {{ $grpcx }}.Serve(ctx, grpcServer, grpcLis, {{ $grpcx }}.ServeHealth(svcHealth),
			{{ $grpcx }}.ServeReadinessDelay(*readyDelay), {{ $grpcx }}.ServeDrainTimeout(*drain), {{ $grpcx }}.ServeLogger(logger))
	}()
{{- end }}

{{- if eq .Discovery "consul" }}
{{- $consul := imp "github.com/typedkit/kit/discovery/consul" }}
{{- $api := imp "github.com/hashicorp/consul/api" }}
	deregistered := make(chan struct{})
	if *consulAddr == "" {
		close(deregistered)
	} else {
		tcp := httpLis.Addr().(*{{ $net }}.TCPAddr)
		client, err := {{ $api }}.NewClient(&{{ $api }}.Config{Address: *consulAddr})
		if err != nil {
			return err
		}
		scheme := "http"
		if certs != nil {
			scheme = "https"
		}
		reg, err := {{ $consul }}.NewRegistrar(client, {{ $consul }}.Service{
			Name:    "{{ .Cmd }}",
			Address: tcp.IP.String(),
			Port:    tcp.Port,
			TLS:     certs != nil,
			Check: &{{ $consul }}.Check{
				HTTP:                    scheme + "://" + httpLis.Addr().String() + "/readyz",
				Interval:                {{ $time }}.Second,
				DeregisterCriticalAfter: {{ $time }}.Minute,
				// The agent reads only the status of /readyz.
				TLSSkipVerify: certs != nil,
			},
		})
		if err != nil {
			return err
		}
		if err := reg.Register(ctx); err != nil {
			return err
		}
		logger.Info("registered in Consul", "consul", *consulAddr, "id", reg.ID())
		// Leave Consul as soon as the shutdown begins, so clients stop
		// picking this instance while it drains.
		go func() {
			defer close(deregistered)
			<-ctx.Done()
			dctx, cancel := {{ $ctx }}.WithTimeout({{ $ctx }}.Background(), 5*{{ $time }}.Second)
			defer cancel()
			if err := reg.Deregister(dctx); err != nil {
				logger.Warn("deregistering from Consul", "error", err)
			}
		}()
	}

{{- else if eq .Discovery "etcd" }}
{{- $etcd := imp "github.com/typedkit/kit/discovery/etcd" }}
{{- $clientv3 := impAs "go.etcd.io/etcd/client/v3" "clientv3" }}
{{- $zap := imp "go.uber.org/zap" }}
{{- $strings := imp "strings" }}
	deregistered := make(chan struct{})
	if *etcdAddr == "" {
		close(deregistered)
	} else {
		// etcd has no health checks: the instance leaves when it
		// deregisters, or when its lease expires after a crash.
		tcp := httpLis.Addr().(*{{ $net }}.TCPAddr)
		client, err := {{ $clientv3 }}.New({{ $clientv3 }}.Config{
			Endpoints:   {{ $strings }}.Split(*etcdAddr, ","),
			DialTimeout: 5 * {{ $time }}.Second,
			DialOptions: {{ $etcd }}.DialOptions(),
			// The registrar logs what an operator needs to know; the
			// client's own logs would repeat it while etcd is away.
			Logger: {{ $zap }}.NewNop(),
		})
		if err != nil {
			return err
		}
		reg, err := {{ $etcd }}.NewRegistrar(client, {{ $etcd }}.Service{Name: "{{ .Cmd }}", Address: tcp.IP.String(), Port: tcp.Port},
			{{ $etcd }}.RegistrarLogger(logger))
		if err == nil {
			err = reg.Register(ctx)
		}
		if err != nil {
			_ = client.Close()
			return err
		}
		logger.Info("registered in etcd", "etcd", *etcdAddr, "key", reg.Key())
		// Leave etcd as soon as the shutdown begins, so clients stop
		// picking this instance while it drains.
		go func() {
			defer close(deregistered)
			defer client.Close()
			<-ctx.Done()
			dctx, cancel := {{ $ctx }}.WithTimeout({{ $ctx }}.Background(), 5*{{ $time }}.Second)
			defer cancel()
			if err := reg.Deregister(dctx); err != nil {
				logger.Warn("deregistering from etcd", "error", err)
			}
		}()
	}

{{- end }}
	var first error
	for range {{ if .GRPC }}2{{ else }}1{{ end }} {
		if err := <-errc; err != nil && first == nil {
			first = err
			stop()
		}
	}
{{- if ne .Discovery "none" }}
	<-deregistered
{{- end }}
	if first != nil && !{{ $errors }}.Is(first, {{ $ctx }}.Canceled) {
		return first
	}
	return nil
}
`

// renderMain renders the user's cmd/<service>/main.go.
func renderMain(svc *Service, opts NewOptions, pkgPath, implName string) ([]byte, error) {
	fi := newFileImports(svc)
	fi.self = types.NewPackage(pkgPath+"/cmd/main", "main")
	fi.paths = map[*types.Package]string{svc.Pkg: pkgPath}
	for _, n := range []string{"interceptors", "perMethodLimit", "run", "main", "httpAddr", "grpcAddr", "consulAddr", "etcdAddr", "timeout", "rps", "drain",
		"readyDelay", "logLevel", "level", "calls", "svc",
		"logger", "stop", "limiter", "endpoints", "svcHealth", "httpLis", "grpcLis", "grpcServer", "errc", "reg", "tcp", "first", "client", "deregistered", "dctx", "cancel"} {
		fi.reserved[n] = true
	}
	cmd := strings.ToLower(opts.Service)
	transports := "HTTP"
	switch {
	case opts.HTTP && opts.GRPC:
		transports = "HTTP and gRPC"
	case opts.GRPC:
		transports = "gRPC"
	}
	head := fmt.Sprintf(`// Command %s serves %s over %s.
//
// Every endpoint has logging (of failures; -log.level info logs every
// call), panic recovery, a rate limit, an adaptive circuit breaker and a
// timeout; the servers have limits a slow or idle client cannot hold open;
// /livez and /readyz report health; SIGINT or SIGTERM reports not ready for
// -shutdown.delay, drains in-flight calls and stops. This file is yours:
// kitgen never writes it again.
`, cmd, svc.Name, transports)
	data := struct {
		Svc           *Service
		PkgPath, Impl string
		Cmd           string
		HTTP, GRPC    bool
		MCP           bool
		Discovery     string
	}{svc, pkgPath, implName, cmd, opts.HTTP, opts.GRPC, opts.MCP, opts.Discovery}
	qualified := func(msg *Message) string {
		if msg.Generated() {
			return fi.name(pkgPath, svc.Pkg.Name()) + "." + msg.Name
		}
		return fi.typ(msg.Type)
	}
	return renderFile(svc, fi, head, "main", "main", mainTemplate, data, func(fi *fileImports) template.FuncMap {
		return template.FuncMap{
			"reqType":  func(m *Method) string { return qualified(m.Request) },
			"respType": func(m *Method) string { return qualified(m.Response) },
			// impAs imports a package whose name is not its path's last
			// element, such as go.etcd.io/etcd/client/v3 (clientv3).
			"impAs": func(path, name string) string { return fi.name(path, name) },
		}
	})
}

// scaffoldReadme is the README of a new module.
func scaffoldReadme(opts NewOptions, pkgName, cmd string) []byte {
	var b bytes.Buffer
	data := struct {
		Service, Pkg, Cmd, Kit string
		HTTP, GRPC, MCP        bool
		Discovery              string
	}{opts.Service, pkgName, cmd, kitModule, opts.HTTP, opts.GRPC, opts.MCP, opts.Discovery}
	_ = template.Must(template.New("readme").Parse(readmeTemplate)).Execute(&b, data)
	return b.Bytes()
}

const readmeTemplate = `# {{ .Service }}

A service built with typedkit ({{ .Kit }}). Its interface is in
` + "`{{ .Pkg }}/service.go`" + `; the implementation goes in ` + "`{{ .Pkg }}/service_impl.go`" + `.

` + "```sh" + `
go mod tidy
go run ./cmd/{{ .Cmd }}      # HTTP on 127.0.0.1:8080{{ if .GRPC }}, gRPC on 127.0.0.1:8081{{ end }}{{ if .MCP }}, MCP tools at /mcp{{ end }}
go generate ./...     # after changing the interface: go tool kitgen rewrites the *_gen.go files
go mod tidy           # when the generated files import something new (another transport)
` + "```" + `
{{ if .HTTP }}
Every method answers 501 Not Implemented until you write it:

` + "```sh" + `
curl -s localhost:8080/readyz
curl -s localhost:8080/openapi.json
` + "```" + `
{{ end }}
` + "`{{ .Pkg }}/service.go`, `{{ .Pkg }}/service_impl.go`, `cmd/{{ .Cmd }}/main.go`" + ` and this README
are yours: kitgen writes them once. The ` + "`*_gen.go`" + ` files{{ if .GRPC }}, the .proto file{{ end }}{{ if .HTTP }}
and the OpenAPI document{{ end }} belong to kitgen and are rewritten by ` + "`go generate`" + `.{{ if .GRPC }}
Commit the .kit.lock file: it keeps the protobuf field numbers stable.{{ end }}

kitgen is a tool of this module (the tool line in go.mod): ` + "`go get -tool {{ .Kit }}/codegen/cmd/kitgen@VERSION`" + `
moves it to another version.

Flags: -http.addr,{{ if .GRPC }} -grpc.addr,{{ end }}{{ if eq .Discovery "consul" }} -consul.addr (register in Consul with a check on
/readyz),{{ else if eq .Discovery "etcd" }} -etcd.addr (register in etcd on a kept-alive lease),{{ end }} -timeout, -rate, -drain.
`

// writeTree writes files under dir, all or nothing: into a staging
// directory beside dir that is then renamed. With add, dir may exist and
// only the files it lacks are written.
func writeTree(dir string, files map[string][]byte, add bool) ([]string, error) {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	if add {
		if _, err := os.Stat(dir); err == nil {
			var written []string
			for _, name := range names {
				path := filepath.Join(dir, name)
				if _, err := os.Stat(path); err == nil {
					continue
				}
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					return written, err
				}
				if err := os.WriteFile(path, files[name], 0o644); err != nil {
					return written, err
				}
				written = append(written, path)
			}
			return written, nil
		}
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	stage, err := os.MkdirTemp(parent, ".kitgen-new-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stage)
	for _, name := range names {
		path := filepath.Join(stage, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err // not empty any more
	}
	if err := os.Rename(stage, dir); err != nil {
		return nil, err
	}
	written := make([]string, len(names))
	for i, name := range names {
		written[i] = filepath.Join(dir, name)
	}
	return written, nil
}
