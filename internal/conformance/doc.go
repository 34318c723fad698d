// Package conformance runs services that kitgen generates against clients
// and tools that typedkit did not write: protoc compiles every .proto the
// generator emits, a Node client built on @grpc/grpc-js and
// @grpc/proto-loader calls the generated gRPC server for every shape the
// generator supports, Node's gRPC and HTTP clients (and a grpc-js server)
// exchange every kind of stream with the generated code, Redocly lints the
// OpenAPI documents, and a Prism validation proxy checks the example's
// HTTP traffic against its document. See README.md for how it runs and
// how to add a shape.
//
// It is a module of its own, so its dependencies stay out of the
// library's go.mod and its node_modules out of the library's packages.
package conformance
