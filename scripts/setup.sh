#!/usr/bin/env bash
# Installs everything the project needs, pinned: Go modules, and (once contracts/ lands) the
# Solidity compiler through npm from contracts/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
go mod download
if [ -f contracts/package-lock.json ]; then
  (cd contracts && npm ci --no-audit --no-fund --loglevel=error)
fi
