// Package tools pins the developer tools the project runs with go tool:
// staticcheck, protoc-gen-go and protoc-gen-go-grpc. It is a module of its
// own so the tools' dependencies never enter the library's go.mod.
//
// The module is not in the repository's go.work, and go refuses -modfile in
// workspace mode, so run its tools with GOWORK=off; staticcheck, from the
// repository root (make lint also checks the nested modules):
//
//	GOWORK=off go tool -modfile=internal/tools/go.mod staticcheck ./...
package tools
