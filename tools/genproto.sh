#!/usr/bin/env bash
# Regenerates the gRPC stubs from uploader/proto with the generator versions
# pinned by go.mod's tool directives. OUT defaults to the committed package;
# the test suite points it at a temp dir and compares.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-uploader/internal/debuginfopb}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
go build -o "$bin/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc
mkdir -p "$out"
PATH="$bin:$PATH" protoc -I uploader/proto \
  --go_out="$out" --go_opt=paths=source_relative \
  --go-grpc_out="$out" --go-grpc_opt=paths=source_relative \
  parca/debuginfo/v1alpha1/debuginfo.proto
# paths=source_relative mirrors the proto's directory; flatten into one package.
mv "$out"/parca/debuginfo/v1alpha1/*.go "$out"/
rm -rf "$out/parca"
