package refcheck

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/rebalance"
	"github.com/solvency-dev/solvency/treasury/venues"
)

func e(n int64, dec int) *big.Int {
	return new(big.Int).Mul(big.NewInt(n), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(dec)), nil))
}

// S3: adding an offsetting pair (+X at one venue, -X at another) never turns a failing limit
// into a passing one. The reference checker must keep this property of the real statement.
func TestOffsettingPairNeverFlatters(t *testing.T) {
	book, err := venues.NewBook([]venues.Venue{
		{ID: "safe", Kind: venues.KindWallet, Group: "self", Tier: 0},
		{ID: "cex", Kind: venues.KindWallet, Group: "cex", Tier: 1},
		{ID: "pool", Kind: venues.KindLending, Group: "aave", Tier: 0, Lending: &venues.LendingPool{Asset: "USDC", Supply: e(1, 12), Borrows: e(1, 11),
			Model: venues.RateModel{Slope1Bps: 400, Slope2Bps: 6000, KinkBps: 9000}}},
		{ID: "perp", Kind: venues.KindPerp, Group: "gmx", Tier: 0, Perp: &venues.Perp{Underlying: "ETH", Margin: "USDC"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	assets := map[string]market.Asset{"ETH": {Symbol: "ETH", Decimals: 18}, "USDC": {Symbol: "USDC", Decimals: 6}}
	c := &Checker{Book: book, Assets: assets, Policy: Policy{
		MinCollateralBps: 12000,
		Assets: map[string]AssetRule{"ETH": {HaircutBps: 1500, InKind: true, CapBps: 6000},
			"USDC": {HaircutBps: 200, Liquid: true, InKind: true}},
		GroupCapBps:       map[string]int64{"aave": 3000, "cex": 2000, "gmx": 1000},
		LiquidTiers:       []bool{true, false},
		LiquidityFloorBps: 2000,
		Scenarios:         []map[string]int64{{"ETH": -4000}, {"USDC": -1000}},
	}}
	prices := market.Snapshot{Prices: map[string]uint64{"ETH": 3000e8, "USDC": 1e8}}
	rng := rand.New(rand.NewPCG(9, 9))
	pairs := []struct{ a, b venues.Position }{
		{venues.Position{Venue: "perp", Asset: "ETH"}, venues.Position{Venue: "safe", Asset: "ETH"}},
		{venues.Position{Venue: "pool", Asset: "USDC"}, venues.Position{Venue: "safe", Asset: "USDC"}},
	}
	failing := 0
	for trial := 0; trial < 1000; trial++ {
		pf := rebalance.Portfolio{Prices: prices, Liabilities: map[string]*big.Int{"USDC": e(rng.Int64N(5_000_000), 6), "ETH": e(rng.Int64N(2000), 18)}}
		pf.Positions = venues.Positions{
			{Venue: "safe", Asset: "ETH", Amount: e(rng.Int64N(4000), 18)},
			{Venue: "safe", Asset: "USDC", Amount: e(rng.Int64N(6_000_000), 6)},
			{Venue: "cex", Asset: "ETH", Amount: e(rng.Int64N(1000), 18)},
			{Venue: "pool", Asset: "USDC", Amount: e(rng.Int64N(3_000_000), 6)},
		}.Canonical()
		before, err := c.Check(pf)
		if err != nil {
			t.Fatal(err)
		}
		p := pairs[trial%len(pairs)]
		x := new(big.Int).Mul(big.NewInt(rng.Int64N(1_000_000)+1), e(1, int(assets[p.a.Asset].Decimals)-3))
		with := pf.Clone()
		with.Positions = with.Positions.Add(p.a.Venue, p.a.Asset, new(big.Int).Neg(x)).Add(p.b.Venue, p.b.Asset, x)
		after, err := c.Check(with)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range before.Limits {
			if l.Pass {
				continue
			}
			failing++
			if a, _ := after.Find(l.ID); a.Pass {
				t.Fatalf("trial %d: +%v %s at %s / -%v at %s turned %s from failing to passing (%s -> %s)",
					trial, x, p.b.Asset, p.b.Venue, x, p.a.Venue, l.ID, l.Value, a.Value)
			}
		}
	}
	if failing < 500 {
		t.Fatalf("only %d failing limits in 1000 treasuries: the property is barely exercised", failing)
	}
}
