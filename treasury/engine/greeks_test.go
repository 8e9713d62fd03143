package engine

import (
	"context"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/treasury/execute"
	"github.com/solvency-dev/solvency/treasury/rebalance"
	"github.com/solvency-dev/solvency/treasury/state"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// greekPlan plans cycle c of the sample from its initial holdings, with the liabilities at the
// sample's totals (the generated accounts are scaled to them) and the cycle's Greeks.
func greekPlan(t *testing.T, e *Engine, in *inputs, c uint64) *rebalance.Plan {
	t.Helper()
	var err error
	if e.totals, err = venues.LoadAmounts(e.cfg.Path("liabilities.json"), e.assets); err != nil {
		t.Fatal(err)
	}
	snap, err := e.src.Snapshot(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	gin, err := e.greekInput(in.derivs, snap)
	if err != nil {
		t.Fatal(err)
	}
	reb, err := e.rebalancerFor(c)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := reb.Plan(rebalance.Input{Book: in.book, Portfolio: e.portfolio(in.positions, in.derivs, snap), Greeks: gin})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// The demo: the sample treasury holds an ETH put spread and an ETH/USDC pool share beside its
// perp hedge, with net ETH delta inside the policy's band at the start. On the drawdown day
// (cycle 1, ETH -40%) the pool share's short gamma and the spread leave delta outside its band,
// and the rebalancer sells more ETH perpetuals at gmx to bring it back inside; the gamma floor
// and vega cap hold and are reported with the Greeks.
func TestDemoDrawdownResizesPerpHedge(t *testing.T) {
	cfg, err := editedSample(t, func(string, map[string]any) {})
	if err != nil {
		t.Fatal(err)
	}
	e, in, err := loadedEngine(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.derivs.Options) != 2 || len(in.derivs.Pools) != 1 {
		t.Fatalf("sample derivatives %+v", in.derivs)
	}
	start := greekPlan(t, e, in, 0)
	eth := func(r *rebalance.GreekReport) rebalance.UnderlyingGreeks {
		g, ok := r.Find("ETH")
		if !ok {
			t.Fatal("no ETH greeks")
		}
		return g
	}
	if g := eth(start.GreeksBefore); !g.InBand || g.BandUSD == 0 {
		t.Fatalf("start: ETH delta $%.0f, band $%.0f: want inside", g.DeltaUSD, g.BandUSD)
	}
	day := greekPlan(t, e, in, 1)
	before, after := eth(day.GreeksBefore), eth(day.GreeksAfter)
	t.Logf("drawdown: ETH delta $%.0f -> $%.0f, band $%.0f; cash gamma $%.0f; vega $%.0f/pt", before.DeltaUSD, after.DeltaUSD, after.BandUSD,
		day.GreeksAfter.CashGamma, day.GreeksAfter.VegaPoint)
	if before.InBand || !after.InBand {
		t.Fatalf("drawdown: ETH delta $%.0f -> $%.0f, band $%.0f: want outside, then inside", before.DeltaUSD, after.DeltaUSD, before.BandUSD)
	}
	var hedges []execute.Trade
	for _, tr := range day.Trades {
		if tr.IsPerpResize() {
			hedges = append(hedges, tr)
		}
	}
	if len(hedges) != 1 || hedges[0].FromVenue != "gmx" || hedges[0].Perp != execute.PerpShort {
		t.Fatalf("hedge trades %v", hedges)
	}
	if len(day.GreekBinding) != 0 {
		t.Fatalf("Greek limits binding after the plan: %v", day.GreekBinding)
	}
	sum := greeksOf(day)
	b, _ := json.Marshal(sum)
	if len(sum.Before) == 0 || !strings.Contains(string(b), `"underlying":"ETH"`) {
		t.Fatalf("summary greeks %s", b)
	}
}

// The volatility forecast is chosen by name in the config; an unknown name stops the run
// before anything is made.
func TestForecastModelChosenInConfig(t *testing.T) {
	for _, model := range []string{"ewma", "garch"} {
		cfg, err := editedSample(t, func(_ string, m map[string]any) {
			m["forecast"] = map[string]any{"confidence": 0.99, "horizonDays": 1, "maxBps": 400, "model": model}
		})
		if err != nil {
			t.Fatal(err)
		}
		e, _, err := loadedEngine(t, cfg)
		if err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		if _, err := e.forecastChecker(1); err != nil {
			t.Fatalf("%s: %v", model, err)
		}
	}
	cfg, err := editedSample(t, func(_ string, m map[string]any) {
		m["forecast"] = map[string]any{"confidence": 0.99, "horizonDays": 1, "maxBps": 400, "model": "arima"}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadedEngine(t, cfg); err == nil || !strings.Contains(err.Error(), "arima") {
		t.Fatalf("unknown model: %v", err)
	}
}

// An option that expired by the cycle's time settles at assessment: its intrinsic value in cash
// at its venue, recorded with the positions and derivatives that remain.
func TestExpiredOptionSettlesAtAssessment(t *testing.T) {
	cfg, err := editedSample(t, func(string, map[string]any) {})
	if err != nil {
		t.Fatal(err)
	}
	e, in, err := loadedEngine(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := e.src.Snapshot(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	d := in.derivs.Clone()
	d.Options[1].Expiry = snap.Time // the long 2400 put expires on the drawdown day
	if e.st, err = state.Open(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	defer e.st.Close()
	if _, err := e.st.Init(in.positions, in.book); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.InitDerivatives(d); err != nil {
		t.Fatal(err)
	}
	pos, kept, settled, eff, err := e.settleExpired(in.positions, snap)
	if err != nil {
		t.Fatal(err)
	}
	if len(settled) != 1 || settled[0].Option.ID != "eth-put-2400-mar26" || len(kept.Options) != 1 || eff.Derivatives == nil || eff.Positions == nil {
		t.Fatalf("settled %+v kept %+v", settled, kept)
	}
	// In the money by about $551 a token at about $1849: some $1.8M for 3300 puts, at derive.
	got := settled[0].Amount
	if got.Cmp(big.NewInt(1_700_000_000_000)) < 0 || got.Cmp(big.NewInt(1_900_000_000_000)) > 0 || pos.Get("derive", "USDC").Cmp(got) != 0 {
		t.Fatalf("settlement %v, derive USDC %v", got, pos.Get("derive", "USDC"))
	}
	if notes := e.settlementNotes(settled); len(notes) != 1 || !strings.Contains(notes[0], "eth-put-2400-mar26 expired: settled 18") {
		t.Fatalf("notes %q", notes)
	}
}
