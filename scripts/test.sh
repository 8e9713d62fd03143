#!/usr/bin/env bash
# The project's test command (the README's second command): every test, as CI runs it.
#   ./scripts/test.sh           everything (real circuits, the embedded chain, kill -9, the browser)
#   ./scripts/test.sh --short   a quick local loop: skips the tests that prove real circuits,
#                               run the engine end to end or start a browser (go test -short)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--short" ]; then
  shift
  exec go test -short -count=1 -timeout 20m "$@" ./...
fi
go test -count=1 -timeout 60m "$@" ./...
