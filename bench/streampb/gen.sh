#!/usr/bin/env bash
# Compiles the .proto kitgen emitted for internal/streamtest with protoc and
# the plugins pinned in internal/tools/go.mod, so that the stream benchmarks
# run plain grpc-go on the same messages.
set -euo pipefail
cd "$(dirname "$0")"
root=$(git rev-parse --show-toplevel)
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
export GOWORK=off
go build -modfile="$root/internal/tools/go.mod" -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
go build -modfile="$root/internal/tools/go.mod" -o "$bin/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc
pkg=github.com/typedkit/kit/bench/streampb
protoc -I "$root/internal/streamtest" -I /usr/include \
  --plugin=protoc-gen-go="$bin/protoc-gen-go" --go_out=. --go_opt=paths=source_relative --go_opt=Mstreamer.proto=$pkg \
  --plugin=protoc-gen-go-grpc="$bin/protoc-gen-go-grpc" --go-grpc_out=. --go-grpc_opt=paths=source_relative --go-grpc_opt=Mstreamer.proto=$pkg \
  streamer.proto
