#!/usr/bin/env bash
# Builds the users' page's verifier: the project's Go verifier compiled to WebAssembly, and Go's
# own JS loader for it, into web/page/ (build outputs, ignored by git). Usage: web/build-wasm.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")"
out="${1:-page}"
mkdir -p "$out"
GOOS=js GOARCH=wasm go build -trimpath -ldflags=-s -o "$out/verifier.wasm" ./wasm
cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" "$out/wasm_exec.js"
