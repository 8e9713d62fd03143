#!/usr/bin/env bash
# Copies the demo treasury's fixtures from testdata/ into the embedded sample package
# (treasury/sample/files), flattening their paths; the sample's own config.json names them.
# TestSampleMatchesTestdata fails when they drift apart.
set -euo pipefail
cd "$(dirname "$0")/.."
dst=treasury/sample/files
mkdir -p "$dst"
cp testdata/policy.json "$dst/policy.json"
for f in positions.json liabilities.json rebalance.json; do
  cp "testdata/treasury/scenario/$f" "$dst/$f"
done
for f in venues.json executor.json addressbook.json market.json; do
  cp "testdata/treasury/$f" "$dst/$f"
done
