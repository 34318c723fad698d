#!/usr/bin/env bash
# Compiles the .proto that kitgen emitted with protoc (Debian's
# protobuf-compiler) and the protoc plugins pinned in internal/tools/go.mod,
# into pb/.
set -euo pipefail
cd "$(dirname "$0")"
root=$(git rev-parse --show-toplevel)
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
# The plugins build from internal/tools/go.mod alone, outside the
# repository's go.work (which refuses -modfile).
export GOWORK=off
go build -modfile="$root/internal/tools/go.mod" -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
go build -modfile="$root/internal/tools/go.mod" -o "$bin/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc
pkg=github.com/typedkit/kit/internal/interop/pb
protoc -I . -I /usr/include \
  --plugin=protoc-gen-go="$bin/protoc-gen-go" --go_out=pb --go_opt=paths=source_relative --go_opt=Mwire.proto=$pkg \
  --plugin=protoc-gen-go-grpc="$bin/protoc-gen-go-grpc" --go-grpc_out=pb --go-grpc_opt=paths=source_relative --go-grpc_opt=Mwire.proto=$pkg \
  wire.proto
