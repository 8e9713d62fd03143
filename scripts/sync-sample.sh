#!/usr/bin/env bash
# Copies the sample treasury's fixtures from testdata/ into the embedded demo package
# (treasury/sample/files). TestSampleMatchesTestdata fails when they drift apart.
set -euo pipefail
cd "$(dirname "$0")/.."
dst=treasury/sample/files
mkdir -p "$dst"
cp testdata/policy.json testdata/positions.json testdata/liabilities.json "$dst/"
for f in venues.json rebalance.json executor.json addressbook.json market.json; do
  cp "testdata/treasury/$f" "$dst/"
done
cp testdata/treasury/config.json "$dst/config.json"
