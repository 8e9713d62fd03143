package venues

import (
	"math/big"
	"testing"

	"github.com/solvency-dev/solvency/treasury/market"
)

func wadPct(p float64) *big.Int {
	f := new(big.Float).Mul(big.NewFloat(p), new(big.Float).SetInt(WAD()))
	i, _ := f.Int(nil)
	return i.Quo(i, big.NewInt(100))
}

func e(n int64, dec int) *big.Int {
	return new(big.Int).Mul(big.NewInt(n), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(dec)), nil))
}

var model = RateModel{BaseBps: 0, Slope1Bps: 400, Slope2Bps: 6000, KinkBps: 8000, ReserveFactorBps: 1000}

func TestKinkedRates(t *testing.T) {
	half := new(big.Int).Quo(WAD(), big.NewInt(2))
	if got := model.BorrowRate(half); got.Cmp(wadPct(2.5)) != 0 {
		t.Fatalf("borrow at 50%%: %v", got)
	}
	// Supply = 2.5% * 0.5 * 0.9 = 1.125%.
	if got := model.SupplyRate(half); got.Cmp(wadPct(1.125)) != 0 {
		t.Fatalf("supply at 50%%: %v", got)
	}
	u90 := new(big.Int).Mul(WAD(), big.NewInt(9))
	u90.Quo(u90, big.NewInt(10))
	// Above the kink: 4% + 60% * (0.9-0.8)/(1-0.8) = 34%.
	if got := model.BorrowRate(u90); got.Cmp(wadPct(34)) != 0 {
		t.Fatalf("borrow at 90%%: %v", got)
	}
	if got := model.BorrowRate(WAD()); got.Cmp(wadPct(64)) != 0 {
		t.Fatalf("borrow at 100%%: %v", got)
	}
}

func testBook(t *testing.T, supply, borrows int64) *Book {
	t.Helper()
	b, err := NewBook([]Venue{
		{ID: "safe", Kind: KindWallet, Group: "safe", Tier: TierInstant},
		{ID: "aave-usdc", Kind: KindLending, Group: "aave", Tier: TierInstant,
			Lending: &LendingPool{Asset: "USDC", Supply: e(supply, 6), Borrows: e(borrows, 6), Model: model}},
		{ID: "lido", Kind: KindStaking, Group: "lido", Tier: TierDays,
			Staking: &Staking{Asset: "stETH", Underlying: "ETH", AprBps: 300, Rebasing: true, ExchangeRate: new(big.Int).Set(WAD())}},
		{ID: "perp", Kind: KindPerp, Group: "perp", Tier: TierInstant,
			Perp: &Perp{Underlying: "ETH", Margin: "USDC", FundingAprBps: 1000}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFullUtilisationLocksLiquidity(t *testing.T) {
	b := testBook(t, 1000, 1000)
	w, err := b.Withdrawable("aave-usdc", "USDC", e(500, 6))
	if err != nil || w.Sign() != 0 {
		t.Fatalf("withdrawable at 100%% utilisation: %v %v", w, err)
	}
	v, _ := b.Venue("aave-usdc")
	if err := v.Lending.Withdraw(big.NewInt(1)); err == nil {
		t.Fatal("withdrew from a pool at 100% utilisation")
	}
	b = testBook(t, 1000, 900)
	w, _ = b.Withdrawable("aave-usdc", "USDC", e(500, 6))
	if w.Cmp(e(100, 6)) != 0 {
		t.Fatalf("withdrawable %v, want 100 USDC", w)
	}
}

func TestAccrualOneYear(t *testing.T) {
	b := testBook(t, 2_000_000, 1_000_000)
	ps := Positions{
		{Venue: "aave-usdc", Asset: "USDC", Amount: e(1_000_000, 6)},
		{Venue: "lido", Asset: "stETH", Amount: e(100, 18)},
		{Venue: "perp", Asset: "ETH", Amount: e(-10, 18)},
		{Venue: "perp", Asset: "USDC", Amount: e(10_000, 6)},
	}
	if err := ps.Validate(b); err != nil {
		t.Fatal(err)
	}
	assets := map[string]market.Asset{"USDC": {Symbol: "USDC", Decimals: 6}, "ETH": {Symbol: "ETH", Decimals: 18}, "stETH": {Symbol: "stETH", Decimals: 18}}
	prices := market.Snapshot{Prices: map[string]uint64{"USDC": 1e8, "ETH": 3000e8, "stETH": 2990e8}}
	out, log, err := b.Accrue(ps, SecondsPerYear, assets, prices)
	if err != nil {
		t.Fatal(err)
	}
	// Utilisation 50%: supply rate 1.125% -> 11,250 USDC.
	if got := out.Get("aave-usdc", "USDC"); got.Cmp(e(1_011_250, 6)) != 0 {
		t.Fatalf("lending after a year %v", got)
	}
	// 3% rebase on 100 stETH.
	if got := out.Get("lido", "stETH"); got.Cmp(e(103, 18)) != 0 {
		t.Fatalf("staking after a year %v", got)
	}
	// Short 10 ETH at $3000 earns 10% funding: $3000 -> 3000 USDC.
	if got := out.Get("perp", "USDC"); got.Cmp(e(13_000, 6)) != 0 {
		t.Fatalf("perp margin after a year %v", got)
	}
	if len(log) != 3 {
		t.Fatalf("accrual log %+v", log)
	}
	v, _ := b.Venue("aave-usdc")
	// Borrows grew by 2.5%, supply by 2.5% * 0.9 of borrows.
	if v.Lending.Borrows.Cmp(e(1_025_000, 6)) != 0 || v.Lending.Supply.Cmp(e(2_022_500, 6)) != 0 {
		t.Fatalf("pool after a year: supply %v borrows %v", v.Lending.Supply, v.Lending.Borrows)
	}
}

func TestPositionsCanonicalAndValidate(t *testing.T) {
	b := testBook(t, 10, 5)
	ps := Positions{{Venue: "safe", Asset: "USDC", Amount: big.NewInt(5)}, {Venue: "safe", Asset: "USDC", Amount: big.NewInt(-5)},
		{Venue: "aave-usdc", Asset: "USDC", Amount: big.NewInt(3)}}.Canonical()
	if len(ps) != 1 || ps[0].Venue != "aave-usdc" {
		t.Fatalf("canonical %+v", ps)
	}
	for _, bad := range []Positions{
		{{Venue: "nowhere", Asset: "USDC", Amount: big.NewInt(1)}},
		{{Venue: "aave-usdc", Asset: "DAI", Amount: big.NewInt(1)}},
		{{Venue: "safe", Asset: "ETH", Amount: big.NewInt(-1)}},
		{{Venue: "perp", Asset: "USDC", Amount: big.NewInt(-1)}},
	} {
		if err := bad.Validate(b); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	if err := (Positions{{Venue: "perp", Asset: "ETH", Amount: big.NewInt(-1)}}).Validate(b); err != nil {
		t.Fatalf("a perp short refused: %v", err)
	}
}

func TestSupplyRateAfterFalls(t *testing.T) {
	b := testBook(t, 1000, 850)
	v, _ := b.Venue("aave-usdc")
	prev := v.Lending.SupplyRateAfter(new(big.Int))
	for _, d := range []int64{10, 100, 1000} {
		r := v.Lending.SupplyRateAfter(e(d, 6))
		if r.Cmp(prev) >= 0 {
			t.Fatalf("supply rate did not fall with a deposit of %d", d)
		}
		prev = r
	}
}

// The sample book of testdata/treasury takes the project's positions document, written against
// the policy's venue names (testdata/positions.json), and resolves every entry to a pool.
func TestSampleBookLoadsPolicyPositions(t *testing.T) {
	assets, err := market.LoadAssets("../../testdata/treasury/assets.json")
	if err != nil {
		t.Fatal(err)
	}
	book, err := LoadBook("../../testdata/treasury/venues.json")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := LoadPositions("../../testdata/positions.json", assets, book)
	if err != nil {
		t.Fatal(err)
	}
	if got := ps.Get("aave-v3-dai", "DAI"); got.Sign() <= 0 {
		t.Fatalf("aave-v3 DAI (supply less borrow) resolved to %v", got)
	}
	if ps.Get("gmx", "ETH").Sign() >= 0 {
		t.Fatal("the perp short was lost")
	}
	if _, err := book.Resolve("aave-v3", "ETH"); err == nil {
		t.Fatal("resolved a pool that does not exist")
	}
	v, _ := book.Venue("compound-v3-usdc")
	if v.PolicyName() != "compound-v3" {
		t.Fatalf("policy name %s", v.PolicyName())
	}
}

func TestBorrowAccruesAtBorrowRate(t *testing.T) {
	b := testBook(t, 2_000_000, 1_000_000)
	ps := Positions{{Venue: "aave-usdc", Asset: "USDC", Amount: e(-100_000, 6)}}
	out, _, err := b.Accrue(ps, SecondsPerYear, map[string]market.Asset{"USDC": {Symbol: "USDC", Decimals: 6}}, market.Snapshot{})
	if err != nil {
		t.Fatal(err)
	}
	// Borrow rate at 50% utilisation: 2.5%.
	if got := out.Get("aave-usdc", "USDC"); got.Cmp(e(-102_500, 6)) != 0 {
		t.Fatalf("debt after a year %v", got)
	}
}
