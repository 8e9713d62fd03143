package portfolio

import (
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/treasury/policy"
)

func loadPolicy(t *testing.T) *policy.File {
	t.Helper()
	f, err := policy.Load("../../testdata/policy.json")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestExampleFiles(t *testing.T) {
	pf := loadPolicy(t)
	pos, err := LoadPositions("../../testdata/positions.json", pf)
	if err != nil {
		t.Fatal(err)
	}
	if len(pos) != 13 {
		t.Fatalf("%d positions", len(pos))
	}
	prices, err := LoadPrices("../../testdata/prices.json", pf.Table())
	if err != nil {
		t.Fatal(err)
	}
	if prices[0].USD8 != 300000000000 || prices[7].USD8 != 812345678 {
		t.Fatalf("prices %v", USD8(prices))
	}
	tot, err := LoadLiabilityTotals("../../testdata/liabilities.json", pf.Table())
	if err != nil {
		t.Fatal(err)
	}
	if tot[0].Cmp(big.NewInt(1500_00000000)) != 0 || tot[1].Sign() != 0 {
		t.Fatalf("totals %v", tot)
	}
}

// TestReservesRoundAgainstProver: a long rounds down, a short rounds toward minus infinity
// (its debt grows); liabilities round up.
func TestReservesRoundAgainstProver(t *testing.T) {
	pf := loadPolicy(t)
	f := &PositionsFile{Positions: []PositionEntry{
		{Venue: "safe", Asset: "USDC", Amount: "1.0000009"},
		{Venue: "safe", Asset: "USDC", Amount: "-1.0000001"},
	}}
	pos, err := f.Convert("t", pf)
	if err != nil {
		t.Fatal(err)
	}
	if pos[0].Amount.Int64() != 1000000 || pos[1].Amount.Int64() != -1000001 {
		t.Fatalf("rounding: %v %v", pos[0].Amount, pos[1].Amount)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "l.json")
	os.WriteFile(p, []byte(`{"USDC": "0.0000001"}`), 0o644)
	tot, err := LoadLiabilityTotals(p, pf.Table())
	if err != nil || tot[3].Int64() != 1 {
		t.Fatalf("liability rounding: %v %v", tot, err)
	}
}

func TestRejects(t *testing.T) {
	pf := loadPolicy(t)
	bad := []PositionEntry{
		{Venue: "nowhere", Asset: "ETH", Amount: "1"},
		{Venue: "safe", Asset: "DOGE", Amount: "1"},
		{Venue: "safe", Asset: "ETH", Amount: "1e3"},
		{Venue: "safe", Asset: "ETH", Amount: "184467440737.09551616"}, // 2^64 units at precision 8
	}
	for _, e := range bad {
		f := &PositionsFile{Positions: []PositionEntry{e}}
		if _, err := f.Convert("t", pf); err == nil || !strings.Contains(err.Error(), "positions[0]") {
			t.Errorf("%+v: got %v", e, err)
		}
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "p.json")
	os.WriteFile(p, []byte("{\"prices\": [\n {\"asset\": \"ETH\", \"answer\": \"1\", \"decimals\": 8, \"roundId\": \"1\", \"updatedAt\": 1, \"extra\": 1}]}"), 0o644)
	if _, err := LoadPrices(p, pf.Table()); err == nil {
		t.Error("unknown field accepted")
	}
	os.WriteFile(p, []byte(`{"prices": []}`), 0o644)
	if _, err := LoadPrices(p, pf.Table()); err == nil || !strings.Contains(err.Error(), "no price for ETH") {
		t.Errorf("missing price: %v", err)
	}
}

func FuzzPositionsAndPrices(f *testing.F) {
	for _, p := range []string{"../../testdata/positions.json", "../../testdata/prices.json"} {
		raw, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"positions":[{"venue":"safe","asset":"ETH","amount":"-0.000000001"}]}`))
	pf, err := policy.Load("../../testdata/policy.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "f.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if pos, err := LoadPositions(p, pf); err == nil {
			for _, x := range pos {
				if x.Amount.CmpAbs(new(big.Int).Lsh(big.NewInt(1), 64)) >= 0 {
					t.Fatalf("amount %s escapes the 64-bit bound", x.Amount)
				}
			}
		}
		if ps, err := LoadPrices(p, pf.Table()); err == nil {
			for _, x := range ps {
				if x.USD8 == 0 || x.USD8 >= 1<<63 {
					t.Fatalf("price %d out of range", x.USD8)
				}
			}
		}
	})
}
