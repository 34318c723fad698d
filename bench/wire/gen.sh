#!/usr/bin/env bash
# Compiles the .proto that kitgen emitted with protoc (Debian's
# protobuf-compiler) and the plugins pinned as tools in bench/go.mod
# (protoc-gen-go, protoc-gen-go-grpc, vtprotobuf's protoc-gen-go-vtproto),
# into pb/.
set -euo pipefail
cd "$(dirname "$0")"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
export GOWORK=off
for tool in google.golang.org/protobuf/cmd/protoc-gen-go google.golang.org/grpc/cmd/protoc-gen-go-grpc \
  github.com/planetscale/vtprotobuf/cmd/protoc-gen-go-vtproto; do
  go build -o "$bin/$(basename "$tool")" "$tool"
done
pkg=github.com/typedkit/kit/bench/wire/pb
protoc -I . -I /usr/include \
  --plugin=protoc-gen-go="$bin/protoc-gen-go" --go_out=pb --go_opt=paths=source_relative --go_opt=Musers.proto=$pkg \
  --plugin=protoc-gen-go-grpc="$bin/protoc-gen-go-grpc" --go-grpc_out=pb --go-grpc_opt=paths=source_relative --go-grpc_opt=Musers.proto=$pkg \
  --plugin=protoc-gen-go-vtproto="$bin/protoc-gen-go-vtproto" --go-vtproto_out=pb --go-vtproto_opt=paths=source_relative \
  --go-vtproto_opt=Musers.proto=$pkg --go-vtproto_opt=features=marshal+unmarshal+size+pool+equal \
  users.proto
