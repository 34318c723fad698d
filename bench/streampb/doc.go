// Package streampb is the protoc-generated Go code (protoc-gen-go and
// protoc-gen-go-grpc) of the .proto kitgen emits for internal/streamtest,
// so that the stream benchmarks run plain grpc-go on the messages the
// generated typedkit service sends.
package streampb

//go:generate ./gen.sh
