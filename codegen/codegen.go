// Package codegen generates the typed glue of a service from its Go
// interface: request and response types, endpoints, an Endpoints type that
// is also a client of the interface, and HTTP servers and clients.
//
// It loads the service's package with golang.org/x/tools/go/packages and
// reads the interface with go/types, so parameter and result types from any
// package — imported, aliased, pointers, slices, maps, named and
// instantiated generic types — resolve, and the generated imports are
// right. Its command is kitgen (codegen/cmd/kitgen), a tool of the
// service's module (go get -tool github.com/typedkit/kit/codegen/cmd/kitgen)
// that a go:generate line in the service's package runs:
//
//	//go:generate go tool kitgen -type UserService
//
// # Method shapes
//
// Every method has the shape M(ctx context.Context, args...) (results...,
// error). A single argument of a named struct type (or a pointer to one)
// that encoding/json writes as an object of its fields is the endpoint's
// request; otherwise (several arguments, a scalar, a time.Time, a type with
// its own MarshalJSON or MarshalText) the generator declares an MRequest
// struct with one field per argument, named after it (JSON names are the
// argument names). A single result is the response; none or several make an
// MResponse struct. Variadic methods, channels, funcs, complex numbers and
// unexported types of other packages are errors that name the file, the
// line and the method. Every problem of an interface is reported in one
// run, sorted by position (an [ErrorList]).
//
// The fields of a struct are those encoding/json reads and writes:
// exported fields by their JSON names, and the fields of embedded structs
// promoted into it (by value or through a pointer, which is allocated when
// one of its fields is set), with encoding/json's rules for names that
// clash: the shallower field wins, then the tagged one, and two at the
// same depth hide each other. Named types behave as their underlying
// types: type Tags []string is a list wherever []string is.
//
// A request type whose Validate() error method has a value or a pointer
// receiver is checked before the endpoint runs; a failure answers
// InvalidArgument (see kit.Validate).
//
// # Streams
//
// A result iter.Seq2[T, error], the only one before the error, makes a
// server stream of T; a parameter iter.Seq2[T, error], the only one after
// the context, a client stream of T, which must be a named struct; both
// make a bidirectional stream. The arguments of a server stream follow the
// rules above. Over gRPC the .proto says stream; over HTTP the route of a
// client or bidirectional stream takes a POST, PUT or PATCH with no path
// wildcards (the body is the stream), and a server stream's route may be a
// GET for EventSource. The MCP tools and the TypeScript client have only
// the unary methods, and the TypeScript file names the streams it leaves
// out.
//
// # HTTP routes
//
// A doc-comment directive sets a method's route:
//
//	//kit:http GET /users/{id}
//	GetUser(ctx context.Context, id string) (User, error)
//
// Wildcards fill the request fields of the same name (by JSON name, or by
// Go name in any case; promoted fields of embedded structs too) and must
// be strings, bools, numbers, or types with MarshalText and UnmarshalText
// (time.Time, netip.Addr, ...), which travel as their text. GET and DELETE
// read the other fields from the query string (those, pointers to them for
// optional values, and slices of them, named or not, for repeated keys);
// other methods read a JSON body. A method without a directive is served
// at POST /<service>/<method>, in lower case.
//
// # gRPC without protoc
//
// With the gRPC transport (kitgen -transports grpc) the generator writes a
// .proto file describing the service and its messages, straight-line
// marshal, size and unmarshal functions built on
// google.golang.org/protobuf/encoding/protowire (no reflection), a service
// registration (RegisterGRPC) and a client (NewGRPCClient). The bytes on the
// wire are those protobuf-go writes in deterministic mode for the same
// values, so any protobuf client or server, in any language, compiled from
// the .proto, talks to the generated code. Unknown fields are skipped;
// malformed input, and messages nested deeper than protobuf-go's limit of
// 10,000 levels, are InvalidArgument errors. Marshalling takes time linear
// in the size of the message, however deeply messages nest: the size is
// worked out once, then the bytes are written back to front. The .proto
// names every message and enum in full (.pkg.Name), so that protoc
// resolves them whatever the rpcs are called.
//
// Go types map to protobuf types as follows:
//
//	Go type                                 protobuf
//	bool                                    bool
//	int, int64                              int64 (sint64 with kit:"N,zigzag")
//	int8, int16, int32                      int32 (sint32 with kit:"N,zigzag")
//	uint, uint64                            uint64
//	uint8, uint16, uint32                   uint32
//	float32, float64                        float, double
//	string                                  string (UTF-8 checked on decode)
//	[]byte, json.RawMessage                 bytes
//	named integer type with constants       enum (values from the constants)
//	named struct, pointer to one            message (a nil pointer is absent)
//	embedded struct, pointer to one         its fields, in the message
//	*T for a scalar T                       optional T (presence kept)
//	[]T                                     repeated T (packed for numbers)
//	map[K]V, K string, bool or integer      map<K, V>
//	time.Time, *time.Time                   google.protobuf.Timestamp (zero time absent)
//	time.Duration, *time.Duration           google.protobuf.Duration
//	T with MarshalText and UnmarshalText    string: the text (netip.Addr, netip.Prefix,
//	                                        big.Int, uuid types; empty text absent)
//
// A named type is its underlying type (type Tags []string is repeated
// string), unless it has methods of the table. A type with its own JSON
// encoding (MarshalJSON or UnmarshalJSON) and no MarshalText, a type with
// MarshalText and no UnmarshalText, and a struct none of whose fields
// travel (all unexported, as in a type that wraps its state) are errors:
// gRPC would lose what JSON carries. So is anything else — interfaces,
// channels, funcs, arrays, slices of slices other than [][]byte, maps of
// slices or maps, anonymous structs. Each error names the method and the
// field. A result that is not a struct of fields (a scalar, a time, a
// text type) travels as the field "value" of a message of its own; a lone
// argument of such a type is the field of its MRequest.
//
// Field numbers come from a kit:"N" (or protobuf:"kind,N,...") tag, else
// from the lock file <type>.kit.lock, else the next number free in the
// message. The lock file records every number given out: commit it. A
// field keeps its number when the struct's fields are reordered, removed
// numbers become reserved, and a tag that would renumber a locked field is
// an error.
//
// # OpenAPI
//
// With the HTTP transport the generator also writes <type>.openapi.json, an
// OpenAPI 3.1 document whose schemas are JSON Schema 2020-12, from the same
// model: routes, parameters, request and response schemas, the problem
// body of errors with the codes of each status. The generated handler
// serves it at GET /openapi.json.
//
// # TypeScript
//
// With the TypeScript transport (kitgen -transports typescript) the
// generator writes <type>.ts: the types of every request and response,
// from the JSON Schemas of the OpenAPI document, and a class
// <Type>Client with one async method per operation that calls the HTTP
// routes with fetch and throws a KitError with the kit code, the public
// message and the field violations of a failure. It needs nothing beyond
// the platform (ES2022: Node and browsers). 64-bit integers are
// number | bigint: the client reads those beyond 2^53 − 1 as bigints, so
// none is rounded. See typescript.go for the type mapping.
//
// # Scaffolding
//
// kitgen new -idl file.go -out dir -import module/path -service Name
// [-protocols http,grpc] creates a runnable module around an interface
// file: see [New].
//
// # Interceptors
//
// Every generated constructor wraps each method in the interceptors it is
// given (kit.Interceptor), with the method's kit.Call: NewEndpoints for
// in-process calls, RegisterHTTP and RegisterGRPC through
// httpx.ServerInterceptors and grpcx.ServerInterceptors, the clients
// through httpx.ClientInterceptors and grpcx.ClientInterceptors. The Call
// names the service (ServiceName, also the gRPC service name), the method,
// the transport and side, and whether the method is idempotent.
//
// # Output
//
// Files end in _gen.go and begin with "// Code generated by kitgen. DO NOT
// EDIT."; the generator rewrites them freely and never touches other files.
// The output is gofmt'ed and deterministic: the same input gives the same
// bytes. The endpoints file refers to genrt.SupportPackageIsVersion<N>: a
// runtime that cannot build the generated code lacks the constant, and the
// failing line says to regenerate.
//
// # Extending the generator
//
// What only generated code calls lives in package genrt, whose names are
// not part of the API users program against.
//
// Loading (load.go's [Load]) reads the interface with go/types into the
// model of model.go: a [Service] of [Method]s whose requests and responses
// are [Message]s of typed [Field]s. Emitters read only the model.
//
// What a type becomes on each wire is data: the tables of kinds.go, which
// every emitter reads (the .proto file, the gRPC codecs, the OpenAPI
// document, the HTTP path and query codecs) instead of deciding by kind
// itself. To add a type mapping, add a row to the table of kinds.go that
// holds its kind of type:
//
//   - a Go basic type: basicKinds, with its protobuf kind (plain and with
//     kit:"N,zigzag"), its JSON Schema type, format and bounds, and the
//     scalar kind and bit size of its path and query parameters;
//   - a named type of another package that travels in a form of its own,
//     as time.Time does: wellKnownTypes, with its protobuf kind, its JSON
//     Schema, and whether parameters hold it as its text;
//   - a protobuf kind: a protoKind constant and its row of protoKinds, with
//     its .proto type and import, its wire type, whether it packs and may
//     be a map key, and the code templates that size, write, test for
//     zero and read one value;
//   - a scalar kind of path and query parameters: paramKinds, with the
//     code that parses and formats it.
//
// The tests of kinds_test.go fail while a row lacks what its kind needs,
// or while the model produces a kind without one. Then add the type to
// the table above, add a case to the golden service testdata/src/edges,
// run go test ./codegen -update, and run the conformance suite (go test
// ./internal/conformance).
//
// A new transport is a new file: a type implementing the transport
// interface of transport.go (its name, whether the [Options] ask for it,
// and the files it emits from the model), added to the transports list,
// with a field of Options and a -transports name in cmd/kitgen. The
// transport's generated code takes the same interceptors as the others by
// passing each method's kit.Call to the runtime.
package codegen

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// Options says what to generate.
type Options struct {
	// Dir is the directory of the service's package.
	Dir string
	// Type is the name of the service interface.
	Type string
	// HTTP asks for the HTTP handler and client.
	HTTP bool
	// GRPC asks for the gRPC service, client and wire codecs, the .proto
	// file and the lock file of field numbers.
	GRPC bool
	// MCP asks for one MCP tool per method (package mcpx).
	MCP bool
	// TypeScript asks for a TypeScript client of the HTTP routes: one
	// .ts file with the types of every request and response and a class
	// that calls them with fetch.
	TypeScript bool
	// ProtoPackage is the package of the .proto file and of the gRPC
	// service's full name; by default the Go package's name.
	ProtoPackage string
	// EndpointsFile, HTTPFile, GRPCFile, ProtoFile and LockFile name the
	// output files; by default <type>_endpoints_gen.go,
	// <type>_http_gen.go, <type>_grpc_gen.go, <type>.proto and
	// <type>.kit.lock, with the type's name in snake case.
	EndpointsFile, HTTPFile, GRPCFile, ProtoFile, LockFile string
	// MCPFile names the file of the MCP tools; by default
	// <type>_mcp_gen.go.
	MCPFile string
	// OpenAPIFile names the OpenAPI document written with the HTTP
	// transport; by default <type>.openapi.json.
	OpenAPIFile string
	// TypeScriptFile names the file of the TypeScript client; by default
	// <type>.ts.
	TypeScriptFile string
	// OpenAPIVersion is the document's info.version; by default "1.0.0".
	OpenAPIVersion string
	// Security is the security scheme the document declares for every
	// operation without a //kit:security annotation: "bearer", "basic",
	// or "" for none.
	Security string
	// OpenAPI is the rest of what the OpenAPI document declares: servers,
	// license, contact; its Version and Security, when set, take the
	// place of OpenAPIVersion and Security.
	OpenAPI OpenAPIOptions
}

func (o *Options) defaults() {
	base := snake(o.Type)
	if o.EndpointsFile == "" {
		o.EndpointsFile = base + "_endpoints_gen.go"
	}
	if o.HTTPFile == "" {
		o.HTTPFile = base + "_http_gen.go"
	}
	if o.GRPCFile == "" {
		o.GRPCFile = base + "_grpc_gen.go"
	}
	if o.MCPFile == "" {
		o.MCPFile = base + "_mcp_gen.go"
	}
	if o.ProtoFile == "" {
		o.ProtoFile = base + ".proto"
	}
	if o.LockFile == "" {
		o.LockFile = base + ".kit.lock"
	}
	if o.OpenAPIFile == "" {
		o.OpenAPIFile = base + ".openapi.json"
	}
	if o.TypeScriptFile == "" {
		o.TypeScriptFile = base + ".ts"
	}
	if o.OpenAPIVersion == "" {
		o.OpenAPIVersion = "1.0.0"
	}
}

// files returns the names of every file the options may write.
func (o *Options) files() []string {
	return []string{o.EndpointsFile, o.HTTPFile, o.GRPCFile, o.MCPFile}
}

// Generate returns the generated files for the options, by file name. It
// writes nothing.
func Generate(opts Options) (map[string][]byte, error) {
	opts.defaults()
	for _, name := range opts.files() {
		if !strings.HasSuffix(name, "_gen.go") || strings.ContainsRune(name, filepath.Separator) {
			return nil, fmt.Errorf("output file %q must be a file name ending in _gen.go", name)
		}
	}
	for _, name := range []string{opts.ProtoFile, opts.LockFile, opts.OpenAPIFile, opts.TypeScriptFile} {
		if strings.ContainsRune(name, filepath.Separator) {
			return nil, fmt.Errorf("output file %q must be a file name", name)
		}
	}
	svc, err := loadDir(opts.Dir, opts.Type, opts.files()...)
	if err != nil {
		// The problems of the protobuf model, for the methods without
		// problems of their own, are reported in the same run.
		var errs errorList
		errs.add(err)
		if svc != nil && opts.GRPC && errs.other == nil {
			if lock, lerr := readLock(filepath.Join(opts.Dir, opts.LockFile)); lerr == nil {
				_, perr := buildProto(svc, lock)
				errs.add(perr)
			}
		}
		return nil, errs.err()
	}
	return generate(svc, opts)
}

// generate renders the files of a loaded service: its endpoints, then the
// files of each transport the options ask for.
func generate(svc *Service, opts Options) (map[string][]byte, error) {
	opts.defaults()
	svc.FullName = opts.protoPackage(svc) + "." + svc.Name
	files := map[string][]byte{}
	var err error
	if files[opts.EndpointsFile], err = renderEndpoints(svc); err != nil {
		return nil, err
	}
	for _, t := range transports {
		if t.wanted(&opts) {
			if err := t.emit(svc, &opts, files); err != nil {
				return nil, err
			}
		}
	}
	return files, nil
}

// protoPackage is the protobuf package of the service: ProtoPackage, or the
// Go package's name.
func (o *Options) protoPackage(svc *Service) string {
	if o.ProtoPackage != "" {
		return o.ProtoPackage
	}
	return svc.Pkg.Name()
}

// Write generates the files for the options and writes them into
// opts.Dir. It refuses to overwrite a file that the generator did not write.
// A transport that is not asked for has its stale generated file removed.
func Write(opts Options) ([]string, error) {
	opts.defaults()
	files, err := Generate(opts)
	if err != nil {
		return nil, err
	}
	var written []string
	for _, name := range append(opts.files(), opts.ProtoFile, opts.LockFile, opts.OpenAPIFile, opts.TypeScriptFile) {
		path := filepath.Join(opts.Dir, name)
		data, ok := files[name]
		old, readErr := os.ReadFile(path)
		if readErr == nil && !strings.HasPrefix(string(old), generatedHeader) && !strings.HasPrefix(string(old), lockHeader) && !isGeneratedOpenAPI(old) {
			return written, fmt.Errorf("%s exists and was not written by kitgen; not overwriting it", path)
		}
		if !ok {
			if name == opts.LockFile {
				continue // the lock outlives a run without gRPC
			}
			if readErr == nil {
				if err := os.Remove(path); err != nil {
					return written, err
				}
			}
			continue
		}
		if readErr == nil && string(old) == string(data) {
			written = append(written, path)
			continue
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

// isGeneratedOpenAPI reports an OpenAPI document kitgen wrote: JSON cannot
// carry the generated-code header, so the document is recognised by its
// shape.
func isGeneratedOpenAPI(data []byte) bool {
	return strings.HasPrefix(string(data), "{\n  \"components\"")
}

// snake turns UserService into user_service.
func snake(s string) string {
	var b strings.Builder
	r := []rune(s)
	for i, c := range r {
		if unicode.IsUpper(c) {
			if i > 0 && (unicode.IsLower(r[i-1]) || (i+1 < len(r) && unicode.IsLower(r[i+1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(c))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
