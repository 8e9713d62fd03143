package sample

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/solvency-dev/solvency/bench"
	"github.com/solvency-dev/solvency/liabilities"
	"github.com/solvency-dev/solvency/prover/profile"
)

// The account count is the demo's flag: a rerun with another count rewrites it in the copy.
func TestWriteWithAccountsSetsTheCount(t *testing.T) {
	dir := t.TempDir()
	for _, users := range []int{10, 25} {
		path, err := WriteWithAccounts(dir, users)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			Accounts struct {
				Users   int    `json:"users"`
				Seed    int    `json:"seed"`
				ScaleTo string `json:"scaleTo"`
			} `json:"accounts"`
		}
		if err := json.Unmarshal(b, &cfg); err != nil {
			t.Fatal(err)
		}
		if cfg.Accounts.Users != users || cfg.Accounts.Seed != 1 || cfg.Accounts.ScaleTo != "liabilities.json" {
			t.Fatalf("accounts %+v, want %d users", cfg.Accounts, users)
		}
	}
}

// The user's proof is the first CSV account's, and it verifies against the snapshot's root.
func TestWriteUserProofFirstAccount(t *testing.T) {
	p, err := profile.Lookup("test")
	if err != nil {
		t.Fatal(err)
	}
	data, err := bench.Generate(p, 20, 1, bench.Coverage)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := liabilities.Build(context.Background(), data.Table, data.Accounts,
		liabilities.BuildOptions{Epoch: 1, SnapshotTime: 1764000000, Height: p.BatchHeight})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	liabDir := filepath.Join(dir, "liabilities", "snapshot")
	if err := snap.WriteDir(liabDir, false, nil); err != nil {
		t.Fatal(err)
	}
	want := data.Accounts[3].ID
	csv := "account,ETH\n" + want + ",1\n"
	if err := os.WriteFile(filepath.Join(dir, "liabilities", "accounts.csv"), []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	path, account, err := WriteUserProof(liabDir, dir)
	if err != nil {
		t.Fatal(err)
	}
	if account != want || path != filepath.Join(dir, "user-proof-"+want+".json") {
		t.Fatalf("got %s at %s, want %s", account, path, want)
	}
	proof, err := liabilities.ReadInclusionProof(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := liabilities.VerifyInclusion(proof, proof.Snapshot.Root.Fr()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "liabilities", "accounts.csv"), []byte("account,ETH\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := WriteUserProof(liabDir, dir); err == nil {
		t.Fatal("an accounts file without an account gave a proof")
	}
}
