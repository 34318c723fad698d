// Package testpb holds the protobuf service the grpcx tests and benchmarks
// use. Its .pb.go files are generated from test.proto by gen.sh.
package testpb

//go:generate ./gen.sh
