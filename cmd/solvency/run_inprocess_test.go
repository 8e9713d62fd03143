package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The run functions take options and writers: tests call them without a process.
func TestRiskRunInProcess(t *testing.T) {
	o := &riskOptions{positions: "../../testdata/positions.json", prices: "../../testdata/prices.json",
		policy: "../../testdata/policy.json", liabilityTotals: "../../testdata/liabilities.json"}
	var out bytes.Buffer
	if err := runRisk(o, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "every limit passes") {
		t.Fatalf("output:\n%s", out.String())
	}
}

// A separate asset table that is not the policy's names the way out: the flag can be left out.
func TestRiskAssetsMismatchNamesNextStep(t *testing.T) {
	other := filepath.Join(t.TempDir(), "assets.json")
	if err := os.WriteFile(other, []byte(`{"assets": [{"symbol": "ETH", "decimals": 18, "precision": 8}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	o := &riskOptions{assets: other, positions: "../../testdata/positions.json", prices: "../../testdata/prices.json",
		policy: "../../testdata/policy.json", liabilityTotals: "../../testdata/liabilities.json"}
	err := runRisk(o, &bytes.Buffer{}, io.Discard)
	if exitCode(err) != exitBadInput || !strings.Contains(err.Error(), "--assets can be left out") {
		t.Fatalf("got %v", err)
	}
}

func TestProveMissingKeysNamesSetup(t *testing.T) {
	dir := t.TempDir()
	o := &proveOptions{keysDir: filepath.Join(dir, "nokeys"), policyFile: "p", positionsFile: "q", pricesFile: "r",
		accountsFile: "a.csv", out: filepath.Join(dir, "bundle"), cycleSet: true, cycle: 1}
	err := runProve(context.Background(), o, &bytes.Buffer{}, &bytes.Buffer{})
	if exitCode(err) != exitBadInput || !strings.Contains(err.Error(), "solvency setup") {
		t.Fatalf("got %v", err)
	}
	if _, serr := os.Stat(o.out); !os.IsNotExist(serr) {
		t.Fatalf("a refused prove left %s behind", o.out)
	}
}

// `liabilities proof --dir BUNDLE.private` (prove's private directory) points at the snapshot
// inside it; the snapshot itself serves the proof.
func TestLiabilitiesProofPointsIntoPrivateDir(t *testing.T) {
	private := filepath.Join(t.TempDir(), "bundle"+privateSuffix)
	snap := filepath.Join(private, privateLiabilities)
	if err := os.MkdirAll(private, 0o700); err != nil {
		t.Fatal(err)
	}
	build := liabilitiesBuildOptions{assetsFile: "../../testdata/assets.json", accountsFile: "../../testdata/liabilities/accounts-small.csv",
		out: snap, height: 1, snapshotTime: 1}
	if err := runLiabilitiesBuild(context.Background(), build, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	err := runLiabilitiesProof(&bytes.Buffer{}, liabilitiesProofOptions{dir: private, account: "alice"})
	if exitCode(err) != exitBadInput || !strings.Contains(err.Error(), "give --dir "+snap) {
		t.Fatalf("got %v", err)
	}
	var out bytes.Buffer
	if err := runLiabilitiesProof(&out, liabilitiesProofOptions{dir: snap, account: "alice"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "alice") {
		t.Fatalf("proof:\n%s", out.String())
	}
}

// Without a statement to compare with, verify reserves exits 2 and, with --json, says so in the
// document (malformed input, not a failed check).
func TestVerifyReservesRunNeedsAStatement(t *testing.T) {
	var out bytes.Buffer
	err := runVerifyReserves(context.Background(), &verifyReservesOptions{opening: "x.json", json: true}, &out)
	if exitCode(err) != exitBadInput || !strings.Contains(err.Error(), "give the statement to check against") {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(out.String(), `"malformed": true`) {
		t.Fatalf("json:\n%s", out.String())
	}
}
