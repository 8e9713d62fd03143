package portfolio

import (
	"math/big"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/circuits/solvency"
)

const derivFixture = "../../testdata/positions-derivatives.json"

// TestDerivativesFixture: the put spread and the pool share of the fixture convert to circuit
// records (strike in USD8, expiry in unix seconds, sizes in circuit units), and the twin passes
// with them.
func TestDerivativesFixture(t *testing.T) {
	pf := loadPolicy(t)
	pos, d, err := LoadHoldings(derivFixture, pf)
	if err != nil {
		t.Fatal(err)
	}
	if len(pos) != 13 || len(d.Options) != 2 || len(d.Pools) != 1 {
		t.Fatalf("%d positions, %d options, %d pools", len(pos), len(d.Options), len(d.Pools))
	}
	long, short := d.Options[0], d.Options[1]
	if !long.Put || long.Short || long.Strike != 2700_00000000 || long.Size.Cmp(big.NewInt(200_00000000)) != 0 || long.Expiry != 1806048000 {
		t.Fatalf("long put %+v", long)
	}
	if !short.Put || !short.Short || short.Strike != 2200_50000000 || short.Size.Cmp(big.NewInt(200_00000000)) != 0 {
		t.Fatalf("short put %+v", short)
	}
	if d.OptionIDs[1] != "eth-put-2200-short" || d.PoolIDs[0] != "uni-v2-eth-usdc" {
		t.Fatalf("ids %v %v", d.OptionIDs, d.PoolIDs)
	}
	p := d.Pools[0]
	if p.AssetA != 0 || p.AssetB != 3 || p.AmountA.Cmp(big.NewInt(100_00000000)) != 0 || p.AmountB.Cmp(big.NewInt(300000_000000)) != 0 {
		t.Fatalf("pool %+v", p)
	}
	tr, err := LoadTreasury(TreasuryFiles{Policy: "../../testdata/policy.json", Positions: derivFixture, Prices: "../../testdata/prices.json"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tot, err := LoadLiabilityTotals("../../testdata/liabilities.json", tr.Table)
	if err != nil {
		t.Fatal(err)
	}
	in := tr.TwinInputs(tot)
	if len(in.Options) != 2 || len(in.Pools) != 1 {
		t.Fatal("the twin's inputs lack the derivatives")
	}
	rep, err := solvency.Evaluate(in)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Pass || rep.PoolShares.Sign() <= 0 || rep.OptionsShort.Sign() <= 0 {
		t.Fatalf("pass %v, pool %s, short options %s", rep.Pass, rep.PoolShares, rep.OptionsShort)
	}
}

// TestS3_DerivativesRoundAgainstProver: sizes round toward minus infinity (a long shrinks, a
// short grows); strikes round so a long's intrinsic value shrinks and a short's grows; pool
// amounts round down.
func TestS3_DerivativesRoundAgainstProver(t *testing.T) {
	pf := loadPolicy(t)
	opt := func(right, strike, size string) OptionEntry {
		return OptionEntry{ID: right + strike + size, Venue: "safe", Underlying: "USDC", Right: right, Strike: strike,
			Expiry: "2027-03-26T08:00:00Z", Size: size}
	}
	f := &PositionsFile{Options: []OptionEntry{
		opt("call", "1.000000005", "1.0000009"),  // long call: strike up, size down
		opt("put", "1.000000005", "1.0000009"),   // long put: strike down
		opt("call", "1.000000005", "-1.0000001"), // short call: strike down, size up
		opt("put", "1.000000005", "-1.0000001"),  // short put: strike up
	}, Pools: []PoolEntry{{ID: "p", Venue: "safe", AssetA: "ETH", AssetB: "USDC", AmountA: "1.000000009", AmountB: "2.0000009"}}}
	d, err := f.ConvertDerivatives("t", pf)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		strike uint64
		size   int64
		short  bool
	}{{100000001, 1000000, false}, {100000000, 1000000, false}, {100000000, 1000001, true}, {100000001, 1000001, true}}
	for i, w := range want {
		o := d.Options[i]
		if o.Strike != w.strike || o.Size.Int64() != w.size || o.Short != w.short {
			t.Fatalf("option %d: strike %d size %v short %v, want %+v", i, o.Strike, o.Size, o.Short, w)
		}
	}
	if d.Pools[0].AmountA.Int64() != 100000000 || d.Pools[0].AmountB.Int64() != 2000000 {
		t.Fatalf("pool amounts %v %v", d.Pools[0].AmountA, d.Pools[0].AmountB)
	}
}

// TestDerivativesFileErrors: every malformed entry is refused with the file and the field named.
func TestDerivativesFileErrors(t *testing.T) {
	pf := loadPolicy(t)
	cases := []struct{ name, from, to, want string }{
		{"unknown venue", `"venue": "safe", "assetA"`, `"venue": "uniswap", "assetA"`, "pools[0].venue"},
		{"unknown underlying", `"underlying": "ETH", "right": "put", "strike": "2700"`, `"underlying": "DOGE", "right": "put", "strike": "2700"`, "options[0].underlying"},
		{"bad right", `"right": "put", "strike": "2700"`, `"right": "Put", "strike": "2700"`, "options[0].right"},
		{"negative strike", `"strike": "2700"`, `"strike": "-2700"`, "options[0].strike"},
		{"zero strike", `"strike": "2700"`, `"strike": "0"`, "options[0].strike"},
		{"strike exponent", `"strike": "2700"`, `"strike": "2.7e3"`, "options[0].strike"},
		{"bad expiry", `"expiry": "2027-03-26T08:00:00Z", "size": "200"`, `"expiry": "26/03/2027", "size": "200"`, "options[0].expiry"},
		{"negative zero size", `"size": "-200"`, `"size": "-0.0"`, "options[1].size"},
		{"size past 64 bits", `"size": "200",`, `"size": "200000000000000",`, "options[0].size"},
		{"duplicate id", `"id": "eth-put-2200-short"`, `"id": "eth-put-2700-long"`, "options[1].id"},
		{"empty id", `"id": "uni-v2-eth-usdc"`, `"id": " "`, "pools[0].id"},
		{"negative pool amount", `"amountB": "300000"`, `"amountB": "-300000"`, "pools[0].amountB"},
		{"one-asset pool", `"assetB": "USDC"`, `"assetB": "ETH"`, "pools[0].assetB"},
		{"unknown key", `"note": "short leg of the put spread"`, `"notes": "x"`, "notes"},
		{"missing size", `, "size": "-200"`, ``, "size"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := edited(t, derivFixture, tc.from, tc.to)
			_, _, err := LoadHoldings(p, pf)
			if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error naming %s and %s, got %v", p, tc.want, err)
			}
		})
	}
}
