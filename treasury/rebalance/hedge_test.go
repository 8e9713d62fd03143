package rebalance_test

import (
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/treasury/derivatives"
	"github.com/solvency-dev/solvency/treasury/execute"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/rebalance"
	"github.com/solvency-dev/solvency/treasury/rebalance/internal/refcheck"
	"github.com/solvency-dev/solvency/treasury/venues"
)

func units(n int64, dec int) *big.Int {
	return new(big.Int).Mul(big.NewInt(n), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(dec)), nil))
}

// hedgeCase is a small treasury: 1000 ETH and $3M in the Safe, a 200 ETH short at a perp venue
// with $500k margin, $2M owed in USDC. Net ETH delta: 800 ETH ($2.4M at $3000) of about $5.9M
// reserves.
type hedgeCase struct {
	assets map[string]market.Asset
	book   *venues.Book
	pf     rebalance.Portfolio
	reb    *rebalance.Rebalancer
}

func newHedgeCase(t *testing.T, feeBps, fundingAprBps int64, depthUSD *big.Int) *hedgeCase {
	t.Helper()
	h := &hedgeCase{assets: map[string]market.Asset{"ETH": {Symbol: "ETH", Decimals: 18}, "USDC": {Symbol: "USDC", Decimals: 6}}}
	var err error
	h.book, err = venues.NewBook([]venues.Venue{
		{ID: "safe", Kind: venues.KindWallet, Group: "self"},
		{ID: "perp", Kind: venues.KindPerp, Group: "perp", Perp: &venues.Perp{Underlying: "ETH", Margin: "USDC",
			FundingAprBps: fundingAprBps, FeeBps: feeBps, DepthUSD: depthUSD}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.pf = rebalance.Portfolio{
		Positions: venues.Positions{{Venue: "perp", Asset: "ETH", Amount: units(-200, 18)}, {Venue: "perp", Asset: "USDC", Amount: units(500_000, 6)},
			{Venue: "safe", Asset: "ETH", Amount: units(1000, 18)}, {Venue: "safe", Asset: "USDC", Amount: units(3_000_000, 6)}},
		Prices:      market.Snapshot{Prices: map[string]uint64{"ETH": 3000_00000000, "USDC": 1_00000000}},
		Liabilities: map[string]*big.Int{"USDC": units(2_000_000, 6)},
	}
	exec, err := execute.NewSimulator(execute.Config{MinTrancheUSD: units(1000, 8), MaxTrancheUSD: units(1_000_000, 8), SlippageBudgetBps: 50}, h.assets)
	if err != nil {
		t.Fatal(err)
	}
	chk := &refcheck.Checker{Policy: refcheck.Policy{MinCollateralBps: 10000, LiquidTiers: []bool{true},
		Assets: map[string]refcheck.AssetRule{"ETH": {HaircutBps: 1500}, "USDC": {HaircutBps: 100, InKind: true, Liquid: true}}},
		Book: h.book.Clone(), Assets: h.assets}
	cfg := rebalance.Config{Stables: []string{"USDC"}, Cash: rebalance.Holding{Venue: "safe", Asset: "USDC"},
		TriggerHeadroomBps: 0, TargetHeadroomBps: 0}
	if h.reb, err = rebalance.New(cfg, h.assets, exec, chk); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *hedgeCase) plan(t *testing.T, in *rebalance.GreekInput) *rebalance.Plan {
	t.Helper()
	p, err := h.reb.Plan(rebalance.Input{Book: h.book, Portfolio: h.pf, Greeks: in})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func band(bps uint32) *rebalance.GreekInput {
	return &rebalance.GreekInput{Limits: rebalance.GreekLimits{DeltaBands: map[string]uint32{"ETH": bps}}}
}

func ethDelta(t *testing.T, r *rebalance.GreekReport) rebalance.UnderlyingGreeks {
	t.Helper()
	g, ok := r.Find("ETH")
	if !ok {
		t.Fatal("no ETH greeks")
	}
	return g
}

// A delta above its band is brought back inside by selling perps: with a cheap venue (no fee,
// no funding) the resize re-centres delta, 800 ETH more short, and nothing else trades.
func TestHedgeDeltaOutsideBandResizedToCentre(t *testing.T) {
	h := newHedgeCase(t, 0, 0, nil)
	p := h.plan(t, band(1000))
	before := ethDelta(t, p.GreeksBefore)
	if before.InBand || math.Abs(before.Delta-800) > 1e-9 {
		t.Fatalf("before: %+v", before)
	}
	if len(p.Trades) != 1 || p.Trades[0].Perp != execute.PerpShort || p.Trades[0].FromVenue != "perp" {
		t.Fatalf("trades %v", p.Trades)
	}
	if got := p.Trades[0].Amount; got.Cmp(units(800, 18)) != 0 {
		t.Fatalf("resize %v, want 800 ETH", got)
	}
	after := ethDelta(t, p.GreeksAfter)
	if !after.InBand || math.Abs(after.Delta) > 1e-9 || len(p.GreekBinding) != 0 {
		t.Fatalf("after: %+v binding %v", after, p.GreekBinding)
	}
	// A delta below its band (the treasury net short) is covered the other way.
	// (1300 ETH more short, its notional credited to margin as a resize would.)
	h.pf.Positions = h.pf.Positions.Add("perp", "ETH", units(-1300, 18)).Add("perp", "USDC", units(3_900_000, 6))
	p = h.plan(t, band(1000))
	if len(p.Trades) != 1 || p.Trades[0].Perp != execute.PerpCover || p.Trades[0].Amount.Cmp(units(500, 18)) != 0 {
		t.Fatalf("cover: %v", p.Trades)
	}
}

// When the resize is dear, by funding (shorts pay 20% a year, 38 bps over the week), by the
// venue's fee (20 bps) or by price impact (a $50M-deep book: 50 bps tranches within the
// slippage budget), the rebalancer makes the smallest resize that reaches the band's edge:
// delta ends just inside the band, at 99% of it.
func TestHedgeCostChoosesBandEdge(t *testing.T) {
	for name, h := range map[string]*hedgeCase{
		"funding": newHedgeCase(t, 0, -2000, nil),
		"fee":     newHedgeCase(t, 20, 0, nil),
		"impact":  newHedgeCase(t, 0, 0, units(50_000_000, 8)),
	} {
		p := h.plan(t, band(1000))
		if len(p.Trades) != 1 || p.Trades[0].Perp != execute.PerpShort {
			t.Fatalf("%s: trades %v", name, p.Trades)
		}
		after := ethDelta(t, p.GreeksAfter)
		if !after.InBand || after.DeltaUSD < 0.97*after.BandUSD || after.DeltaUSD > after.BandUSD {
			t.Fatalf("%s: delta $%.0f, band $%.0f: want just inside the edge", name, after.DeltaUSD, after.BandUSD)
		}
		resized := new(big.Float).SetInt(p.Trades[0].Amount)
		if f, _ := resized.Float64(); f/1e18 > 700 {
			t.Fatalf("%s: resized %v ETH; the edge needs about 600", name, f/1e18)
		}
		found := false
		for _, s := range p.Steps {
			found = found || strings.Contains(s, "band's edge")
		}
		if !found {
			t.Fatalf("%s: steps %v do not say why the edge", name, p.Steps)
		}
	}
}

// A breach of the gamma floor (a short option book) is reported, not "fixed" with a trade:
// perps carry no gamma, and the rebalancer trades no option.
func TestHedgeGammaFloorReportedNotTraded(t *testing.T) {
	h := newHedgeCase(t, 0, 0, nil)
	floor := uint32(10)
	in := &rebalance.GreekInput{
		// Short options: delta cancels the spot's, gamma -0.5 ETH per dollar: cash gamma
		// -0.5 * 3000^2 / 100 = -$45k per 1% move, against a floor of about -$5.9k.
		Derivatives: map[string]derivatives.Greeks{"ETH": {Delta: -800, Gamma: -0.5}},
		Limits:      rebalance.GreekLimits{DeltaBands: map[string]uint32{"ETH": 1000}, GammaFloorBps: &floor},
	}
	p := h.plan(t, in)
	if len(p.Trades) != 0 {
		t.Fatalf("trades for a gamma breach: %v", p.Trades)
	}
	if len(p.GreekBinding) != 1 || !strings.HasPrefix(p.GreekBinding[0], "gamma floor") {
		t.Fatalf("binding %v", p.GreekBinding)
	}
	if math.Abs(p.GreeksAfter.CashGamma+45000) > 1e-6 {
		t.Fatalf("cash gamma %v", p.GreeksAfter.CashGamma)
	}
}

// The report's lines for people name each underlying with a band or an option's Greeks, and
// say when delta is outside its band.
func TestGreekReportLines(t *testing.T) {
	h := newHedgeCase(t, 0, 0, nil)
	r, err := rebalance.NetGreeks(h.pf, band(1000), h.assets)
	if err != nil {
		t.Fatal(err)
	}
	lines := r.Lines()
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ETH: delta 800.00 ($2400000; band ±$590000, OUTSIDE)") || !strings.HasPrefix(lines[1], "treasury: cash gamma $0") {
		t.Fatalf("lines %q", lines)
	}
}
