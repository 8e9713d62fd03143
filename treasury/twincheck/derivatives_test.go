package twincheck

import (
	"math/big"
	"testing"

	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/treasury/derivatives"
	"github.com/solvency-dev/solvency/treasury/rebalance"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// Options and pool shares enter the twin (and the proof) in circuit units rounded against the
// prover: a long option's size and a pool share's claims round down, a short option's size up;
// a long that rounds to nothing is left out, a short never is.
func TestDerivativesConvertedConservatively(t *testing.T) {
	tc, _, snap := sampleChecker(t)
	eth, _ := tc.Table.Index("ETH") // 18 decimals, precision 8: one circuit unit is 10^10 wei
	usdc, _ := tc.Table.Index("USDC")
	wei := func(s string) *big.Int { v, _ := new(big.Int).SetString(s, 10); return v }
	d := venues.Derivatives{
		Options: []derivatives.Option{
			{ID: "a-long", Venue: "derive", Underlying: "ETH", Right: derivatives.Put, Strike: 2400e8, Expiry: 1774598400, Size: wei("15000000000")},   // 1.5 units
			{ID: "b-short", Venue: "derive", Underlying: "ETH", Right: derivatives.Put, Strike: 1800e8, Expiry: 1774598400, Size: wei("-15000000000")}, // 1.5 units short
			{ID: "c-dust-long", Venue: "derive", Underlying: "ETH", Right: derivatives.Call, Strike: 4000e8, Expiry: 1774598400, Size: wei("9999999999")},
			{ID: "d-dust-short", Venue: "derive", Underlying: "ETH", Right: derivatives.Call, Strike: 4000e8, Expiry: 1774598400, Size: wei("-1")},
		},
		Pools: []derivatives.PoolShare{{ID: "lp", Venue: "uniswap-v2", AssetA: "ETH", AssetB: "USDC", AmountA: wei("25000000000"), AmountB: big.NewInt(7)}},
	}
	opts, pools, err := tc.Derivatives(d)
	if err != nil {
		t.Fatal(err)
	}
	derive, _ := tc.Policy.VenueIndex("derive")
	uni, _ := tc.Policy.VenueIndex("uniswap-v2")
	want := []solvency.OptionPosition{
		{Venue: derive, Asset: eth, Put: true, Strike: 2400e8, Expiry: 1774598400, Size: big.NewInt(1)},
		{Venue: derive, Asset: eth, Put: true, Short: true, Strike: 1800e8, Expiry: 1774598400, Size: big.NewInt(2)},
		{Venue: derive, Asset: eth, Short: true, Strike: 4000e8, Expiry: 1774598400, Size: big.NewInt(1)},
	}
	if len(opts) != len(want) {
		t.Fatalf("options %+v", opts)
	}
	for i := range want {
		o, w := opts[i], want[i]
		if o.Venue != w.Venue || o.Asset != w.Asset || o.Put != w.Put || o.Short != w.Short || o.Strike != w.Strike || o.Expiry != w.Expiry || o.Size.Cmp(w.Size) != 0 {
			t.Errorf("option %d: %+v, want %+v", i, o, w)
		}
	}
	if len(pools) != 1 || pools[0].Venue != uni || pools[0].AssetA != eth || pools[0].AssetB != usdc || pools[0].AmountA.Int64() != 2 || pools[0].AmountB.Int64() != 7 {
		t.Fatalf("pools %+v", pools)
	}
	// The twin's inputs carry them.
	in, err := tc.Inputs(rebalance.Portfolio{Prices: snap, Derivatives: venues.Derivatives{Options: d.Options[1:2]}})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Options) != 1 || !in.Options[0].Short {
		t.Fatalf("twin inputs carry %+v", in.Options)
	}
	bad := venues.Derivatives{Options: []derivatives.Option{{ID: "x", Venue: "nowhere", Underlying: "ETH", Right: derivatives.Put, Strike: 1, Expiry: 1, Size: big.NewInt(1)}}}
	if _, _, err := tc.Derivatives(bad); err == nil {
		t.Fatal("an option at a venue the policy lacks was converted")
	}
}
