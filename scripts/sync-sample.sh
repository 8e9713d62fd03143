#!/usr/bin/env bash
# Copies the demo treasury's fixtures from testdata/ into the embedded sample package
# (treasury/sample/files), flattening their paths; the sample's own config.json names them.
# TestSampleMatchesTestdata fails when they drift apart. The sample's policy, venues and
# positions are its own: the demo treasury holds options and a pool share (an options venue and
# an AMM in its book and policy, Greek limits in its policy) that the fixtures leave out.
set -euo pipefail
cd "$(dirname "$0")/.."
dst=treasury/sample/files
mkdir -p "$dst"
for f in liabilities.json rebalance.json; do
  cp "testdata/treasury/scenario/$f" "$dst/$f"
done
for f in executor.json addressbook.json market.json; do
  cp "testdata/treasury/$f" "$dst/$f"
done
