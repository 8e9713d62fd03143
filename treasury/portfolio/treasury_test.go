package portfolio

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/liabilities"
	"github.com/solvency-dev/solvency/prover/profile"
)

var exampleTreasury = TreasuryFiles{
	Policy: "../../testdata/policy.json", Positions: "../../testdata/positions.json", Prices: "../../testdata/prices.json",
}

// One loader serves the twin (risk) and the prover: the statement's prices carry the same
// normalised prices the twin evaluates, with the feeds' raw answers.
func TestLoadTreasuryServesTwinAndStatement(t *testing.T) {
	tr, err := LoadTreasury(exampleTreasury, nil)
	if err != nil {
		t.Fatal(err)
	}
	sp := tr.StatementPrices()
	in := tr.TwinInputs(nil)
	if len(sp) != tr.Table.Len() || len(in.Prices) != tr.Table.Len() || len(in.Positions) != 13 {
		t.Fatalf("%d statement prices, %d twin prices, %d positions for %d assets", len(sp), len(in.Prices), len(in.Positions), tr.Table.Len())
	}
	for i, p := range sp {
		if p.Symbol != tr.Table.Assets[i].Symbol || p.Price != in.Prices[i] || p.Answer == "" {
			t.Errorf("slot %d: statement price %+v, twin price %d", i, p, in.Prices[i])
		}
	}
	// The policy's own table given again as --assets is accepted.
	files := exampleTreasury
	files.Assets = "../../testdata/assets.json"
	if _, err := LoadTreasury(files, nil); err != nil {
		t.Fatal(err)
	}
}

func TestLoadTreasuryRefusals(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "assets.json")
	if err := os.WriteFile(other, []byte(`{"assets": [{"symbol": "ETH", "decimals": 18, "precision": 8}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	files := exampleTreasury
	files.Assets = other
	if _, err := LoadTreasury(files, nil); err == nil || !strings.Contains(err.Error(), "one asset table everywhere") {
		t.Errorf("another asset table: %v", err)
	}
	// The example policy is not the test profile's shape: refused before positions are read.
	prof, err := profile.Lookup("test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTreasury(exampleTreasury, &prof); err == nil || !strings.Contains(err.Error(), "profile test") {
		t.Errorf("shape mismatch: %v", err)
	}
	if _, err := LoadTreasury(TreasuryFiles{Policy: exampleTreasury.Policy}, nil); err == nil {
		t.Error("no positions or prices: accepted")
	}
}

// The totals read from a liabilities build open its accFinal and are its final running sums.
func TestLiabilityTotalsFromStore(t *testing.T) {
	tr, err := LoadTreasury(exampleTreasury, nil)
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := liabilities.ReadAccounts("../../testdata/liabilities/accounts-small.csv", tr.Table)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := liabilities.Build(context.Background(), tr.Table, accounts, liabilities.BuildOptions{Epoch: 3, SnapshotTime: 1, Height: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "snap")
	if err := snap.WriteDir(dir, false, nil); err != nil {
		t.Fatal(err)
	}
	totals, err := LiabilityTotalsFromStore(dir, tr.Table)
	if err != nil {
		t.Fatal(err)
	}
	eth, _ := tr.Table.Index("ETH")
	if len(totals) != tr.Table.Len() || totals[eth].Sign() <= 0 {
		t.Fatalf("totals %v", totals)
	}
	if _, err := solvency.Evaluate(tr.TwinInputs(totals)); err != nil {
		t.Fatal(err)
	}
	short := &assets.Table{Assets: tr.Table.Assets[:1]}
	if _, err := LiabilityTotalsFromStore(dir, short); err == nil || !strings.Contains(err.Error(), "another asset table") {
		t.Errorf("another table: %v", err)
	}
}
