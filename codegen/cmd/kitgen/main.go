// Command kitgen generates the typed glue of a service from its Go
// interface: endpoints, an Endpoints type that implements the interface,
// HTTP handlers and clients with an OpenAPI document, gRPC services and
// clients with a .proto, MCP tools, and a TypeScript client of the HTTP
// routes. Declare it as a tool of the service's module
// (Go 1.24 tool directives), so it runs at the version go.mod requires:
//
//	go get -tool github.com/typedkit/kit/codegen/cmd/kitgen
//
// and run it from the service's package with a go:generate line:
//
//	//go:generate go tool kitgen -type UserService -transports http,grpc
//
// then go generate ./... and go mod tidy (the generated files import
// packages, such as gRPC's, that the module may not require yet).
//
// kitgen new scaffolds a module around an interface file; outside a
// module, run it as go run github.com/typedkit/kit/codegen/cmd/kitgen@latest
// new. Its go.mod declares kitgen as a tool and its go:generate line
// carries the -openapi-* and -security flags, so that go generate writes
// the files kitgen new wrote.
//
// See package github.com/typedkit/kit/codegen for the method shapes and
// the //kit:http route directive, and its SecurityAnnotation and
// IdempotentAnnotation for //kit:security and //kit:idempotent.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/typedkit/kit/codegen"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "new" {
		return runNew(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("kitgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	typ := fs.String("type", "", "name of the service interface (required)")
	dir := fs.String("dir", ".", "directory of the service's package")
	transports := fs.String("transports", "http", "comma-separated transports to generate: http, grpc, mcp, typescript, or none")
	protoPkg := fs.String("proto-package", "", "package of the .proto file and the gRPC service name (default the Go package's name)")
	endpointsOut := fs.String("endpoints-out", "", "file for the endpoints (default <type>_endpoints_gen.go)")
	httpOut := fs.String("http-out", "", "file for the HTTP handler and client (default <type>_http_gen.go)")
	grpcOut := fs.String("grpc-out", "", "file for the gRPC service, client and wire codecs (default <type>_grpc_gen.go)")
	mcpOut := fs.String("mcp-out", "", "file for the MCP tools (default <type>_mcp_gen.go)")
	protoOut := fs.String("proto-out", "", "file for the .proto description (default <type>.proto)")
	lockOut := fs.String("lock", "", "file of the locked protobuf field numbers; commit it (default <type>.kit.lock)")
	openAPIOut := fs.String("openapi-out", "", "file for the OpenAPI 3.1 document of the HTTP routes (default <type>.openapi.json)")
	tsOut := fs.String("ts-out", "", "file for the TypeScript client of the HTTP routes (default <type>.ts)")
	var oa codegen.OpenAPIOptions
	openAPIFlags(fs, &oa)
	quiet := fs.Bool("q", false, "print nothing on success")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: kitgen -type Name [flags]
       kitgen new -idl file.go -out dir -import module/path -service Name [-protocols http,grpc,mcp] [-discovery consul|etcd|none]

kitgen reads the Go interface Name in the package of -dir and writes its
typed glue into that package: request and response types, endpoints, an
Endpoints type that implements the interface, and, for -transports http,
an HTTP handler (NewHTTPHandler) and client (NewHTTPClient); for grpc, a
.proto file, protobuf wire codecs, a service registration (RegisterGRPC)
and a client (NewGRPCClient), with no protoc needed; for mcp, one MCP tool
per method (RegisterMCP, NewMCPServer) on package mcpx; for typescript, a
.ts file with the types of every request and response and a client class
that calls the HTTP routes with fetch, with no dependencies. It writes
only files it wrote before.

Methods have the shape M(ctx context.Context, args...) (results..., error).
Doc-comment lines annotate a method: "//kit:http GET /users/{id}" sets its
route, "//kit:security bearer" the security scheme its OpenAPI operation
declares ("//kit:security none": public), "//kit:idempotent" marks it safe
to retry, "//kit:mcp skip|readonly|destructive|nondestructive" sets its
MCP tool's hints or leaves it out.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *typ == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	opts := codegen.Options{Dir: *dir, Type: *typ, ProtoPackage: *protoPkg,
		EndpointsFile: *endpointsOut, HTTPFile: *httpOut, GRPCFile: *grpcOut, MCPFile: *mcpOut, ProtoFile: *protoOut, LockFile: *lockOut,
		OpenAPIFile: *openAPIOut, TypeScriptFile: *tsOut, OpenAPI: oa}
	for _, t := range strings.Split(*transports, ",") {
		switch strings.TrimSpace(t) {
		case "http":
			opts.HTTP = true
		case "grpc":
			opts.GRPC = true
		case "mcp":
			opts.MCP = true
		case "typescript":
			opts.TypeScript = true
		case "", "none":
		default:
			fmt.Fprintf(stderr, "kitgen: unknown transport %q: want http, grpc, mcp or typescript\n", t)
			return 2
		}
	}
	written, err := codegen.Write(opts)
	if err != nil {
		fmt.Fprintf(stderr, "kitgen: %v\n", err)
		return 1
	}
	if !*quiet {
		for _, f := range written {
			fmt.Fprintf(stdout, "kitgen: wrote %s\n", f)
		}
	}
	return 0
}

func runNew(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kitgen new", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts codegen.NewOptions
	fs.StringVar(&opts.IDL, "idl", "", "Go file that declares the service interface and its types (required)")
	fs.StringVar(&opts.Out, "out", "", "directory of the new module; must not exist or be empty (required)")
	fs.StringVar(&opts.Import, "import", "", "module path of the new module, such as example.com/usersvc (required)")
	fs.StringVar(&opts.Service, "service", "", "name of the interface in the -idl file (required)")
	protocols := fs.String("protocols", "http", "comma-separated transports to serve: http, grpc, mcp")
	fs.StringVar(&opts.Discovery, "discovery", codegen.DiscoveryConsul, "registry main.go registers in when given its address: consul (-consul.addr), etcd (-etcd.addr) or none")
	fs.StringVar(&opts.Replace, "replace", "", "path of a local typedkit checkout for the new module's replace directive")
	fs.BoolVar(&opts.Add, "add", false, "write into an existing -out only the files it lacks")
	openAPIFlags(fs, &opts.OpenAPI)
	quiet := fs.Bool("q", false, "print nothing on success")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: kitgen new -idl file.go -out dir -import module/path -service Name [flags]

kitgen new creates a module that serves the interface Name of the -idl file:
go.mod, the service package (the interface file with its go:generate line,
an implementation whose methods answer Unimplemented, the generated glue),
cmd/<name>/main.go with the standard middleware, health endpoints, graceful
shutdown and registration in Consul or etcd (-discovery), and a README. Then:

	cd dir && go mod tidy && go run ./cmd/<name>

The interface file, the implementation, main.go and the README are yours;
kitgen writes them once and never again. The -openapi-* and -security
flags go into the go:generate line, so go generate writes what kitgen new
wrote.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	for _, p := range strings.Split(*protocols, ",") {
		switch strings.TrimSpace(p) {
		case "http":
			opts.HTTP = true
		case "grpc":
			opts.GRPC = true
		case "mcp":
			opts.MCP = true
		case "":
		default:
			fmt.Fprintf(stderr, "kitgen new: unknown protocol %q: want http, grpc or mcp\n", p)
			return 2
		}
	}
	written, err := codegen.New(opts)
	if err != nil {
		fmt.Fprintf(stderr, "kitgen new: %v\n", err)
		return 1
	}
	if !*quiet {
		for _, f := range written {
			fmt.Fprintf(stdout, "kitgen: wrote %s\n", f)
		}
		fmt.Fprintf(stdout, "next: cd %s && go mod tidy && go run ./cmd/%s\n", opts.Out, strings.ToLower(opts.Service))
	}
	return 0
}

// openAPIFlags declares the flags of the OpenAPI document's options, the
// same for kitgen and kitgen new.
func openAPIFlags(fs *flag.FlagSet, oa *codegen.OpenAPIOptions) {
	fs.StringVar(&oa.Version, "openapi-version", "1.0.0", "info.version of the OpenAPI document")
	fs.StringVar(&oa.Title, "openapi-title", "", "info.title of the OpenAPI document (default the interface's name)")
	fs.Func("openapi-server", "a server of the OpenAPI document: \"URL [description]\"; repeat for several (default /, the host serving the document)", func(s string) error {
		srv, err := codegen.ParseOpenAPIServer(s)
		if err != nil {
			return err
		}
		oa.Servers = append(oa.Servers, srv)
		return nil
	})
	fs.StringVar(&oa.License, "openapi-license", "", "license of the API: an SPDX identifier such as MIT or Apache-2.0, or a name with -openapi-license-url")
	fs.StringVar(&oa.LicenseURL, "openapi-license-url", "", "URL of the license's text")
	fs.StringVar(&oa.Contact, "openapi-contact", "", "contact of the API: \"Name <email>\", an email address or a URL")
	fs.Func("security", "security scheme of the OpenAPI operations without a //kit:security annotation: "+strings.Join(codegen.SecuritySchemes(), ", ")+", or none (the default)", func(s string) error {
		if s != "none" && !slices.Contains(codegen.SecuritySchemes(), s) {
			return fmt.Errorf("unknown security scheme %q: want %s or none", s, strings.Join(codegen.SecuritySchemes(), ", "))
		}
		oa.Security = s
		return nil
	})
}
