#!/usr/bin/env bash
# Runs every fuzz target for a short, fixed time (FUZZTIME, default 3s each: about 110 s in all,
# fixtures included, plus compilation). A target that fails leaves its input under the package's
# testdata/fuzz/<Target>/: commit it, fix the code, and it stays a regression case that the
# plain test command runs from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-3s}

# package target, one per line; the check below fails when a Fuzz function is missing here.
targets=$(cat <<'LIST'
./circuits/assets FuzzParseUnits
./circuits/batch FuzzIDHashInjective
./circuits/statement FuzzNormalisePrice
./contracts FuzzStatementJSON
./contracts FuzzParseKey
./internal/jsonstrict FuzzUnmarshal
./liabilities FuzzParseInclusionProof
./liabilities FuzzParseLiabilityFastPath
./liabilities FuzzParseAccounts
./prover/ceremony FuzzParseContribution
./prover/keys FuzzReadVerifyingKey
./treasury/derivatives FuzzParseVolSurface
./treasury/market FuzzParsePrice
./treasury/market FuzzParseSnapshots
./treasury/policy FuzzParse
./treasury/portfolio FuzzPositionsAndPrices
./treasury/venues FuzzParseAmount
./verifier FuzzVerifyBundle_Manifest
LIST
)

if [ "${1:-}" = "--list" ]; then
  echo "$targets"
  exit 0
fi

# Every fuzz target in the repository is listed above.
missing=0
while IFS=: read -r file line; do
  name=$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' <<< "$line")
  pkg="./$(dirname "$file")"
  if ! grep -qx "$pkg $name" <<< "$targets"; then
    echo "scripts/fuzz.sh does not list $pkg $name"; missing=1
  fi
done < <(git grep -e '^func Fuzz' -- '*_test.go')
# And every target listed above exists (a renamed or moved target would otherwise fuzz nothing).
while read -r pkg target; do
  if ! git grep -q -e "^func ${target}(" -- "${pkg#./}/*_test.go"; then
    echo "scripts/fuzz.sh lists $pkg $target, which no test file defines"; missing=1
  fi
done <<< "$targets"
[ "$missing" = 0 ] || exit 1

failed=0
while read -r pkg target; do
  echo "-- $pkg $target ($fuzztime)"
  if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"; then
    echo "FAIL: $pkg $target; its failing input is under $pkg/testdata/fuzz/$target/: commit it with the fix"
    failed=1
  fi
done <<< "$targets"
exit $failed
