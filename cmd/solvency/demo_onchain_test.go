package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/contracts/devnet"
	"github.com/solvency-dev/solvency/contracts/treasurychain"
)

// TestDemoReservesOnChainAuditorVerifies runs the demo (few accounts, one cycle): it deploys the
// treasury's contracts, funds the Safe, runs the cycle against them, and the auditor's command it
// prints, `verify reserves --rpc` against the demo's chain with the off-chain venues' balances,
// passes, reading the Safe's positions at the cycle's reserves block.
func TestDemoReservesOnChainAuditorVerifies(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits")
	}
	dir := t.TempDir()
	var out, errw bytes.Buffer
	o := &demoOptions{dir: filepath.Join(dir, "demo"), users: 20, cycles: 1, provers: 1, http: "127.0.0.1:8080"}
	if err := runDemo(context.Background(), &out, &errw, o); err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out.String(), errw.String())
	}
	t.Logf("%s\n%s", errw.String(), out.String())
	if !strings.Contains(out.String(), "verify reserves --opening") || !strings.Contains(errw.String(), "executed through the Safe") {
		t.Fatalf("the demo did not execute through the Safe or print the auditor's command:\n%s\n%s", out.String(), errw.String())
	}
	d, err := treasurychain.ReadDeployment(filepath.Join(o.dir, "state", "treasury", "treasury-deployment.json"))
	if err != nil {
		t.Fatal(err)
	}
	dn, err := devnet.Start(devnet.Config{DataDir: filepath.Join(o.dir, "state", "chain"), HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer dn.Close()
	cdir := filepath.Join(o.dir, "state", "cycles", "000001")
	code, stdout, stderr := runToy(t, "verify", "reserves", "--opening", filepath.Join(cdir, "private", "reserves-opening-000001.json"),
		"--bundle", filepath.Join(cdir, "bundle"), "--rpc", dn.HTTPEndpoint(),
		"--addresses", filepath.Join(o.dir, "state", "addresses.json"),
		"--balances", filepath.Join(o.dir, fmt.Sprintf("offchain-balances-%06d.json", 1)))
	if code != 0 {
		t.Fatalf("verify reserves --rpc on the demo's chain: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "read from the chain at block") || !strings.Contains(stdout, d.Safe.Hex()) || !strings.Contains(stdout, "countersign sha256:") {
		t.Fatalf("verify reserves output:\n%s", stdout)
	}
	t.Logf("auditor:\n%s", stdout)
}
