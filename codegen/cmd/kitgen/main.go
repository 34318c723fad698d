// Command kitgen generates the typed glue of a service from its Go
// interface: endpoints, an Endpoints type that implements the interface,
// and HTTP handlers and clients. Run it from the service's package:
//
//	//go:generate go run github.com/typedkit/kit/codegen/cmd/kitgen -type UserService
//
// or, with kitgen declared as a tool in go.mod (go get -tool
// github.com/typedkit/kit/codegen/cmd/kitgen):
//
//	//go:generate go tool kitgen -type UserService
//
// See package github.com/typedkit/kit/codegen for the method shapes and
// the //kit:http route directive.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
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
	transports := fs.String("transports", "http", "comma-separated transports to generate: http, grpc, or none")
	protoPkg := fs.String("proto-package", "", "package of the .proto file and the gRPC service name (default the Go package's name)")
	endpointsOut := fs.String("endpoints-out", "", "file for the endpoints (default <type>_endpoints_gen.go)")
	httpOut := fs.String("http-out", "", "file for the HTTP handler and client (default <type>_http_gen.go)")
	grpcOut := fs.String("grpc-out", "", "file for the gRPC service, client and wire codecs (default <type>_grpc_gen.go)")
	protoOut := fs.String("proto-out", "", "file for the .proto description (default <type>.proto)")
	lockOut := fs.String("lock", "", "file of the locked protobuf field numbers; commit it (default <type>.kit.lock)")
	openAPIOut := fs.String("openapi-out", "", "file for the OpenAPI 3.1 document of the HTTP routes (default <type>.openapi.json)")
	openAPIVersion := fs.String("openapi-version", "1.0.0", "info.version of the OpenAPI document")
	security := fs.String("security", "", "security scheme the OpenAPI document declares: bearer, basic, or empty for none")
	quiet := fs.Bool("q", false, "print nothing on success")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: kitgen -type Name [flags]
       kitgen new -idl file.go -out dir -import module/path -service Name [-protocols http,grpc]

kitgen reads the Go interface Name in the package of -dir and writes its
typed glue into that package: request and response types, endpoints, an
Endpoints type that implements the interface, and, for -transports http,
an HTTP handler (NewHTTPHandler) and client (NewHTTPClient); for grpc, a
.proto file, protobuf wire codecs, a service registration (RegisterGRPC)
and a client (NewGRPCClient), with no protoc needed. It writes only files
it wrote before.

Methods have the shape M(ctx context.Context, args...) (results..., error).
A doc-comment line "//kit:http GET /users/{id}" sets a method's route.

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
		EndpointsFile: *endpointsOut, HTTPFile: *httpOut, GRPCFile: *grpcOut, ProtoFile: *protoOut, LockFile: *lockOut,
		OpenAPIFile: *openAPIOut, OpenAPIVersion: *openAPIVersion, Security: *security}
	for _, t := range strings.Split(*transports, ",") {
		switch strings.TrimSpace(t) {
		case "http":
			opts.HTTP = true
		case "grpc":
			opts.GRPC = true
		case "", "none":
		default:
			fmt.Fprintf(stderr, "kitgen: unknown transport %q: want http or grpc\n", t)
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
	protocols := fs.String("protocols", "http", "comma-separated transports to serve: http, grpc")
	fs.StringVar(&opts.Replace, "replace", "", "path of a local typedkit checkout for the new module's replace directive")
	fs.BoolVar(&opts.Add, "add", false, "write into an existing -out only the files it lacks")
	quiet := fs.Bool("q", false, "print nothing on success")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: kitgen new -idl file.go -out dir -import module/path -service Name [flags]

kitgen new creates a module that serves the interface Name of the -idl file:
go.mod, the service package (the interface file with its go:generate line,
an implementation whose methods answer Unimplemented, the generated glue),
cmd/<name>/main.go with the standard middleware, health endpoints, graceful
shutdown and Consul registration, and a README. Then:

	cd dir && go mod tidy && go run ./cmd/<name>

The interface file, the implementation, main.go and the README are yours;
kitgen writes them once and never again.

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
		case "":
		default:
			fmt.Fprintf(stderr, "kitgen new: unknown protocol %q: want http or grpc\n", p)
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
