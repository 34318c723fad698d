#!/usr/bin/env bash
# Regenerates test.pb.go and test_grpc.pb.go from test.proto with protoc
# (Debian's protobuf-compiler) and the protoc plugins pinned in
# internal/tools/go.mod.
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
protoc -I . \
  --plugin=protoc-gen-go="$bin/protoc-gen-go" --go_out=. --go_opt=paths=source_relative \
  --plugin=protoc-gen-go-grpc="$bin/protoc-gen-go-grpc" --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  test.proto
