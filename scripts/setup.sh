#!/usr/bin/env bash
# Installs everything the project needs, pinned: Go modules, and (once contracts/ lands) the
# Solidity compiler through npm from contracts/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
go mod download
if [ -f contracts/package-lock.json ]; then
  (cd contracts && npm ci --no-audit --no-fund --loglevel=error)
fi
# The browser tests of the users' page and the report (web/browsertest): Debian's chromium, and
# playwright-core plus the report's charting library pinned in web/browsertest/package-lock.json.
if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM:-}" ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo apt-get install -y --no-install-recommends chromium
fi
(cd web/browsertest && npm ci --no-audit --no-fund --loglevel=error)
