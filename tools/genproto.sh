#!/usr/bin/env bash
# Regenerates the Go code of uploader/proto with the generator versions pinned
# by go.mod's tool directives: the store's gRPC stubs (OUT) and Bazel's worker
# protocol messages (WORKER_OUT). Both default to the committed packages; the
# test suite points them at temp dirs and compares.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-uploader/internal/debuginfopb}
worker_out=${WORKER_OUT:-uploader/internal/workerpb}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
go build -o "$bin/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc
mkdir -p "$out" "$worker_out"
PATH="$bin:$PATH" protoc -I uploader/proto \
  --go_out="$out" --go_opt=paths=source_relative \
  --go-grpc_out="$out" --go-grpc_opt=paths=source_relative \
  parca/debuginfo/v1alpha1/debuginfo.proto
# paths=source_relative mirrors the proto's directory; flatten into one package.
mv "$out"/parca/debuginfo/v1alpha1/*.go "$out"/
rm -rf "$out/parca"
PATH="$bin:$PATH" protoc -I uploader/proto \
  --go_out="$worker_out" --go_opt=paths=source_relative \
  bazel/worker/worker_protocol.proto
mv "$worker_out"/bazel/worker/*.go "$worker_out"/
rm -rf "$worker_out/bazel"
