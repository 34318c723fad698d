// Package tools pins the developer tools the project runs with go tool:
// staticcheck, protoc-gen-go and protoc-gen-go-grpc. It is a module of its
// own so the tools' dependencies never enter the library's go.mod.
//
// Run staticcheck from the repository root:
//
//	go tool -modfile=internal/tools/go.mod staticcheck ./...
package tools
