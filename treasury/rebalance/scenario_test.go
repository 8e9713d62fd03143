package rebalance_test

import (
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/treasury/execute"
	"github.com/solvency-dev/solvency/treasury/rebalance"
	"github.com/solvency-dev/solvency/treasury/riskmodel"
	"github.com/solvency-dev/solvency/treasury/venues"
)

func e(n int64, dec int) *big.Int {
	return new(big.Int).Mul(big.NewInt(n), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(dec)), nil))
}

// plan runs the rebalancer and re-checks its result independently: the expected positions it
// reports must be what the executor gives for its trades, and After must be the checker's
// verdict on them. A plan may never claim a pass the checker does not give.
func plan(t *testing.T, s *sample, pf rebalance.Portfolio) *rebalance.Plan {
	t.Helper()
	p, err := s.rebalancer(t, nil).Plan(rebalance.Input{Book: s.book, Portfolio: pf})
	if err != nil {
		t.Fatal(err)
	}
	logPlan(t, p)
	pos, fills, err := s.exec.Execute(s.book.Clone(), pf.Positions, pf.Prices, p.Trades)
	if err != nil {
		t.Fatal(err)
	}
	if len(fills) != len(p.Fills) {
		t.Fatalf("replayed %d fills, plan has %d", len(fills), len(p.Fills))
	}
	for _, ps := range []venues.Positions{pos} {
		for _, x := range ps {
			if p.Expected.Get(x.Venue, x.Asset).Cmp(x.Amount) != 0 {
				t.Fatalf("plan expects %v %s at %s, replay gives %v", p.Expected.Get(x.Venue, x.Asset), x.Asset, x.Venue, x.Amount)
			}
		}
	}
	rep, err := s.checker.Check(rebalance.Portfolio{Positions: pos, Prices: pf.Prices, Liabilities: pf.Liabilities})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pass != p.After.Pass || (p.After.Pass && len(p.Binding) > 0) || (!rep.Pass && len(p.Binding) == 0) {
		t.Fatalf("plan says pass=%v binding=%d, independent check says %v", p.After.Pass, len(p.Binding), rep.Pass)
	}
	for _, f := range p.Fills {
		for _, tr := range f.Tranches {
			if tr.SlippageBps > int64(s.exec.Config().SlippageBudgetBps) {
				t.Fatalf("tranche over the slippage budget: %+v", tr)
			}
		}
	}
	return p
}

func TestCalmMarketNeedsNothing(t *testing.T) {
	s := loadSample(t)
	p := plan(t, s, s.portfolio(t, 0))
	if p.Triggered || len(p.Trades) != 0 || !p.After.Pass {
		t.Fatalf("calm market: triggered %v, %d trades, reasons %v", p.Triggered, len(p.Trades), p.Reasons)
	}
}

// A -40% ETH day under a stricter collateral ratio: the collateral limit breaks and the
// rebalancer blends volatile holdings into the low-risk bucket until it holds again.
func TestETHCrashRestoresCollateral(t *testing.T) {
	s := loadSample(t)
	s.checker.Policy.MinCollateralBps = 18000
	pf := s.portfolio(t, 1)
	before, err := s.checker.Check(pf)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := before.Find("collateral"); l.Pass {
		t.Fatalf("scenario does not break collateral: %s", l.Value)
	}
	p := plan(t, s, pf)
	if !p.After.Pass || p.Err() != nil {
		logReport(t, "after", p.After)
		t.Fatalf("collateral not restored: %v", p.Err())
	}
	sold := false
	for _, f := range p.Fills {
		if f.Trade.ToAsset == "USDC" && (f.Trade.FromAsset == "ETH" || f.Trade.FromAsset == "STETH" || f.Trade.FromAsset == "WBTC") && f.Out.Sign() > 0 {
			sold = true
		}
	}
	if !sold {
		t.Fatal("no volatile holding was blended into the low-risk bucket")
	}
	// Blending is the smallest that works: the collateral headroom is not far above target.
	if h, _ := func() (int64, bool) { l, _ := p.After.Find("collateral"); return l.HeadroomBps() }(); h > 2*s.cfg.TargetHeadroomBps+200 {
		t.Fatalf("blended far more than needed: collateral headroom %d bps", h)
	}
}

// A 10% depeg of the stablecoin the Safe holds its runway in, while the largest lending pool
// sits at 100% utilisation: the runway floor and the USDT cap break; liquidity must come from
// the pools that still have it, and the cap is cured by swapping USDT into another stable.
func TestDepegWithFrozenPool(t *testing.T) {
	s := loadSample(t)
	// The runway is held in USDT instead of USDC.
	s.pos = s.pos.Add("safe", "USDC", e(-10_000_000, 6)).Add("safe", "USDT", e(10_000_000, 6))
	s.checker.Policy.LiquidityFloorBps = 2600
	v, _ := s.book.Venue("aave-v3-usdc")
	v.Lending.Borrows.Set(v.Lending.Supply) // utilisation 100%: nothing withdrawable
	pf := s.portfolio(t, 2)
	if pf.Prices.Prices["USDT"] > 91_000_000 {
		t.Fatalf("the path's depeg step has USDT at %d", pf.Prices.Prices["USDT"])
	}
	before, err := s.checker.Check(pf)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"liquidity", "cap/asset/USDT"} {
		if l, _ := before.Find(id); l.Pass {
			t.Fatalf("scenario does not break %s (%s)", id, l.Value)
		}
	}
	p := plan(t, s, pf)
	if !p.After.Pass {
		logReport(t, "after", p.After)
		t.Fatalf("not restored: %v", p.Err())
	}
	for _, f := range p.Fills {
		if f.Trade.FromVenue == "aave-v3-usdc" && f.In.Sign() > 0 {
			t.Fatalf("withdrew %v from a pool at 100%% utilisation", f.In)
		}
		if f.Trade.ToVenue == "aave-v3-usdc" && f.In.Sign() > 0 {
			t.Fatalf("lent into a pool at 100%% utilisation: %s", f.Trade)
		}
	}
}

// When the frozen pool is the only source of liquidity, the floor cannot be restored and the
// plan says the liquidity limit binds.
func TestFrozenPoolOnlySourceReportsBinding(t *testing.T) {
	s := loadSample(t)
	var ps venues.Positions
	for _, x := range s.pos {
		if x.Venue == "aave-v3-usdc" || x.Venue == "gmx" || x.Asset == "STETH" || x.Asset == "ETH" || x.Asset == "WBTC" {
			ps = append(ps, x)
		}
	}
	// Liabilities in ETH only, so in-kind USDC is not at stake; the runway is only in aave-usdc.
	s.pos = ps.Canonical()
	s.liab = map[string]*big.Int{"ETH": e(5000, 18)}
	v, _ := s.book.Venue("aave-v3-usdc")
	v.Lending.Borrows.Set(v.Lending.Supply)
	// No swap route out of the volatile assets either: every pool is gone but stables'.
	s.exec = mustSim(t, s, []execute.PoolSpec{{A: "USDC", B: "DAI", DepthUSD: e(1_000_000, 8), FeeBps: 1}})
	pf := s.portfolio(t, 0)
	p := plan(t, s, pf)
	var be *rebalance.BindingError
	if !errors.As(p.Err(), &be) || be.Limits[0].ID != "liquidity" {
		t.Fatalf("want liquidity binding, got %v", p.Err())
	}
	if p.After.Pass {
		t.Fatal("a failing portfolio reported as passing")
	}
	if !strings.Contains(p.Err().Error(), "liquidity") {
		t.Fatalf("binding error does not name the limit: %v", p.Err())
	}
}

// Liabilities far above reserves: nothing can restore collateral; the plan must say so and
// never present a passing report.
func TestInsolventReportsCollateralBinding(t *testing.T) {
	s := loadSample(t)
	s.liab = map[string]*big.Int{"USDC": e(150_000_000, 6)}
	p := plan(t, s, s.portfolio(t, 1))
	if p.After.Pass || p.Err() == nil {
		t.Fatal("an insolvent treasury passed")
	}
	found := false
	for _, l := range p.Binding {
		found = found || l.ID == "collateral"
	}
	if !found {
		t.Fatalf("collateral not among the binding limits: %v", p.Err())
	}
}

// After the crash the volatile bucket is under its band: the rebalancer buys back toward 60%
// only as far as every limit keeps its headroom.
func TestBandBreachMovesTowardTarget(t *testing.T) {
	s := loadSample(t)
	pf := s.portfolio(t, 1)
	p := plan(t, s, pf)
	if !p.Triggered || !p.After.Pass {
		t.Fatalf("triggered %v pass %v", p.Triggered, p.After.Pass)
	}
	bought := false
	for _, f := range p.Fills {
		bought = bought || (f.Trade.ToAsset == "ETH" && f.Out.Sign() > 0)
	}
	if !bought {
		t.Fatal("no move toward the volatile target")
	}
	for _, l := range p.After.Limits {
		prev, _ := p.Before.Find(l.ID)
		h, _ := l.HeadroomBps()
		ph, _ := prev.HeadroomBps()
		if ph >= s.cfg.TriggerHeadroomBps && h < s.cfg.TriggerHeadroomBps {
			t.Fatalf("moving toward target spent %s's headroom: %d -> %d bps", l.ID, ph, h)
		}
	}
}

func mustSim(t *testing.T, s *sample, pools []execute.PoolSpec) *execute.Simulator {
	t.Helper()
	c := s.exec.Config()
	c.Pools = pools
	sim, err := execute.NewSimulator(c, s.assets)
	if err != nil {
		t.Fatal(err)
	}
	return sim
}

// The EWMA forecast spikes on the crash day: the rebalancer's own risk budget (advisory, not
// the proof's) makes it blend toward low risk although every policy limit still holds.
func TestForecastAnticipatesRisk(t *testing.T) {
	s := loadSample(t)
	h, err := s.mkt.HistoryUpTo(1)
	if err != nil {
		t.Fatal(err)
	}
	cov, err := riskmodel.EWMACovariance(h.Tail(120).LogReturns(), riskmodel.DefaultLambda)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rebalance.WithForecast(s.checker, rebalance.Forecast{Assets: h.Assets, Cov: cov, Confidence: 0.99, Horizon: 1, MaxBps: 1200}, s.assets)
	if err != nil {
		t.Fatal(err)
	}
	pf := s.portfolio(t, 1)
	before, err := c.Check(pf)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := before.Find(rebalance.ForecastID); l.Pass {
		t.Fatalf("forecast limit already holds: %s %s", l.Value, l.Bound)
	}
	p, err := s.rebalancer(t, c).Plan(rebalance.Input{Book: s.book, Portfolio: pf})
	if err != nil {
		t.Fatal(err)
	}
	logPlan(t, p)
	if l, _ := p.After.Find(rebalance.ForecastID); !l.Pass || !p.After.Pass {
		t.Fatalf("forecast budget not restored: %s %s (%v)", l.Value, l.Bound, p.Err())
	}
}

// Where the policy already counts lending pools as liquid (testdata/policy.json does), the
// liquidity phase raises the buffer by selling volatile holdings, not by pointless withdrawals.
func TestLiquidLendingIsNotChurned(t *testing.T) {
	s := loadSample(t)
	s.checker.Policy.VenueTiers = nil // lending at the book's tier 0: liquid
	s.checker.Policy.LiquidityFloorBps = 9500
	pf := s.portfolio(t, 0)
	before, err := s.checker.Check(pf)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := before.Find("liquidity"); l.Pass {
		t.Fatalf("scenario does not break liquidity: %s", l.Value)
	}
	p := plan(t, s, pf)
	if l, _ := p.After.Find("liquidity"); !l.Pass {
		t.Fatalf("liquidity not restored: %s", l.Value)
	}
	for _, f := range p.Fills {
		if f.Trade.Reason == "liquidity floor" && f.Trade.FromAsset == f.Trade.ToAsset {
			t.Fatalf("withdrew from an already liquid pool: %s", f.Trade)
		}
	}
}
