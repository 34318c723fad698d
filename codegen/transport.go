package codegen

import "path/filepath"

// A transport is one way a service is served and called: the files it
// emits for a service beside the endpoints. Each transport lives in its own
// file and is listed in transports; a new one (a streaming protocol, MCP, a
// client in another language) is a new file with a type that implements
// this interface, an entry in transports and a field of [Options] that asks
// for it.
type transport interface {
	// name is the transport's name in kitgen's -transports flag.
	name() string
	// wanted reports whether opts ask for the transport.
	wanted(opts *Options) bool
	// emit renders the transport's files for svc into files, by name.
	emit(svc *Service, opts *Options, files map[string][]byte) error
}

// transports are the transports kitgen knows, in the order they are
// generated.
var transports = []transport{httpTransport{}, grpcTransport{}, mcpTransport{}, typeScriptTransport{}}

// httpTransport emits the HTTP handler and client and the OpenAPI document
// they serve.
type httpTransport struct{}

func (httpTransport) name() string              { return "http" }
func (httpTransport) wanted(opts *Options) bool { return opts.HTTP }

func (httpTransport) emit(svc *Service, opts *Options, files map[string][]byte) error {
	doc, err := renderOpenAPI(svc, opts.openAPI())
	if err != nil {
		return err
	}
	files[opts.OpenAPIFile] = doc
	files[opts.HTTPFile], err = renderHTTP(svc, opts.OpenAPIFile)
	return err
}

// grpcTransport emits the gRPC registration, client and wire codecs, the
// .proto file and the lock file of field numbers.
type grpcTransport struct{}

func (grpcTransport) name() string              { return "grpc" }
func (grpcTransport) wanted(opts *Options) bool { return opts.GRPC }

func (grpcTransport) emit(svc *Service, opts *Options, files map[string][]byte) error {
	lock, err := readLock(filepath.Join(opts.Dir, opts.LockFile))
	if err != nil {
		return err
	}
	pm, err := buildProto(svc, lock)
	if err != nil {
		return err
	}
	protoPkg := opts.protoPackage(svc)
	if files[opts.GRPCFile], err = renderGRPC(svc, pm, protoPkg, opts.ProtoFile); err != nil {
		return err
	}
	files[opts.ProtoFile] = renderProto(svc, pm, protoPkg)
	files[opts.LockFile] = lock.render(svc.Name)
	return nil
}
