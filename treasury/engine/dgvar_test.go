package engine

import (
	"context"
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/solvency-dev/solvency/treasury/derivatives"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/riskmodel"
	"github.com/solvency-dev/solvency/treasury/venues"
)

type flatVol float64

func (v flatVol) ImpliedVol(string, time.Time, float64, time.Time) (float64, error) {
	return float64(v), nil
}

// A hand-made book: 10 ETH held, 5 short ETH perpetual, 20000 USDC of liabilities and a long
// ETH call. The engine's delta-gamma VaR is riskmodel.DeltaGammaVaR on the dollar delta and
// gamma built by hand from the same holdings and the call's Black-76 Greeks.
func TestDeltaGammaVaRMatchesRiskModel(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	assets := map[string]market.Asset{"ETH": {Symbol: "ETH", Decimals: 18}, "USDC": {Symbol: "USDC", Decimals: 6}}
	snap := market.Snapshot{Time: now.Unix(), Prices: map[string]uint64{"ETH": 2000_00000000, "USDC": 1_00000000}}
	eth := func(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e18)) }
	pos := venues.Positions{{Venue: "cold", Asset: "ETH", Amount: eth(10)}, {Venue: "gmx", Asset: "ETH", Amount: eth(-5)}}
	liab := map[string]*big.Int{"USDC": big.NewInt(20000_000000)}
	call := derivatives.Option{ID: "c1", Venue: "deribit", Underlying: "ETH", Right: derivatives.Call, Strike: 2200_00000000,
		Expiry: now.Add(30 * 24 * time.Hour).Unix(), Size: eth(3)}
	d := venues.Derivatives{Options: []derivatives.Option{call}}
	rb, err := NewRiskBook(pos, liab, d, snap, assets, flatVol(0.8), 0)
	if err != nil {
		t.Fatal(err)
	}
	cov := mat.NewSymDense(2, []float64{0.0016, 0.00001, 0.00001, 0.000001})
	cm := &CovarianceModel{Assets: []string{"ETH", "USDC"}, Cov: cov, Confidence: 0.99, HorizonDays: 1, Source: "policy"}
	got, err := ComputeRisk(rb, cm, DefaultStressGrid, []string{"ETH"})
	if err != nil {
		t.Fatal(err)
	}
	_, g, err := derivatives.ValueOption(call, 2000, 18, flatVol(0.8), now, 0)
	if err != nil {
		t.Fatal(err)
	}
	want, err := riskmodel.NewDeltaGamma([]float64{2000, 1}, []float64{5 + g.Delta, -20000}, []float64{g.Gamma, 0})
	if err != nil {
		t.Fatal(err)
	}
	for method, field := range map[riskmodel.DGMethod]string{riskmodel.DeltaGammaNormal: got.DeltaGammaNormalVaR, riskmodel.CornishFisher: got.CornishFisherVaR} {
		tail, err := riskmodel.DeltaGammaVaR(cov, want, 0.99, 1, method)
		if err != nil {
			t.Fatal(err)
		}
		if w := market.FormatUSD(tail.VaR); field != w {
			t.Errorf("%s VaR %s, want %s", method, field, w)
		}
	}
	// The long call is long gamma: its P&L is skewed right, so Cornish-Fisher's VaR is below
	// the normal approximation's.
	cf, _ := strconv.ParseFloat(got.CornishFisherVaR, 64)
	dn, _ := strconv.ParseFloat(got.DeltaGammaNormalVaR, 64)
	if !(cf > 0 && cf < dn) {
		t.Errorf("Cornish-Fisher %v, normal %v: want 0 < CF < normal for a long-gamma book", cf, dn)
	}
	// Full revaluation: the worst scenario is the grid's minimum, and the book (net long
	// ETH) loses most when ETH falls 30%.
	pnl, err := riskmodel.RevalueStress(rb.Book, []riskmodel.StressScenario{{Name: "x", PriceMove: map[string]float64{"ETH": -0.3},
		VolMove: map[string]float64{"ETH": 0.5}}})
	if err != nil {
		t.Fatal(err)
	}
	if got.WorstStressScenario != "price -30% vol +50%" || len(got.Stress) != len(DefaultStressGrid) {
		t.Fatalf("worst %q of %d scenarios", got.WorstStressScenario, len(got.Stress))
	}
	if w, _ := strconv.ParseFloat(got.WorstStressPnL, 64); w > pnl[0]+0.01 || w < pnl[0]-0.01 {
		t.Errorf("worst P&L %s, want %.2f", got.WorstStressPnL, pnl[0])
	}
}

// The sample treasury's cycle carries the model risk figures beside its Greeks: both
// delta-gamma VaRs under the policy's covariance and the stress grid with its worst scenario,
// under their snake_case keys.
func TestSampleSummaryCarriesRiskFigures(t *testing.T) {
	cfg, err := editedSample(t, func(string, map[string]any) {})
	if err != nil {
		t.Fatal(err)
	}
	e, in, err := loadedEngine(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	plan := greekPlan(t, e, in, 1)
	snap, err := e.src.Snapshot(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	risk, err := e.cycleRisk(1, in.positions, in.derivs, snap)
	if err != nil {
		t.Fatal(err)
	}
	sum := greeksOf(plan)
	sum.Risk = risk
	b, _ := json.Marshal(sum)
	t.Logf("risk %s", b)
	for _, k := range []string{`"delta_gamma_normal_var":"`, `"cornish_fisher_var":"`, `"worst_stress_pnl":"`, `"worst_stress_scenario":"price `, `"stress_assets":["ETH"]`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("summary lacks %s: %s", k, b)
		}
	}
	min := 0.0
	for i, l := range risk.Stress {
		v, err := strconv.ParseFloat(l.PnL, 64)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 || v < min {
			min = v
		}
	}
	if w, _ := strconv.ParseFloat(risk.WorstStressPnL, 64); w != min {
		t.Errorf("worst %v, grid minimum %v", w, min)
	}
	// Read back as the run summary reads a cycle's record.
	var back GreeksSummary
	if err := json.Unmarshal(b, &back); err != nil || back.Risk == nil || back.Risk.CornishFisherVaR != risk.CornishFisherVaR {
		t.Fatalf("round trip %+v: %v", back.Risk, err)
	}
}

// With a forecast configured the delta-gamma VaR uses the forecast's covariance, confidence and
// horizon; a configured stress grid and stress assets replace the defaults, and a move of
// -100% or a stress asset outside the table is refused when the engine opens.
func TestRiskFiguresFollowForecastAndStressConfig(t *testing.T) {
	cfg, err := editedSample(t, func(_ string, m map[string]any) {
		m["forecast"] = map[string]any{"confidence": 0.975, "horizonDays": 2, "maxBps": 400}
		g, _ := m["greeks"].(map[string]any)
		if g == nil {
			g = map[string]any{}
		}
		g["stress"] = []any{map[string]any{"price": -0.4, "vol": 0.8}, map[string]any{"price": 0.4, "vol": -0.2}}
		g["stressAssets"] = []any{"ETH", "STETH"}
		m["greeks"] = g
	})
	if err != nil {
		t.Fatal(err)
	}
	e, in, err := loadedEngine(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if e.totals, err = venues.LoadAmounts(e.cfg.Path("liabilities.json"), e.assets); err != nil {
		t.Fatal(err)
	}
	snap, err := e.src.Snapshot(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	risk, err := e.cycleRisk(1, in.positions, in.derivs, snap)
	if err != nil {
		t.Fatal(err)
	}
	if risk.CovarianceSource != "forecast" || risk.Confidence != 0.975 || risk.HorizonDays != 2 || risk.CornishFisherVaR == "" {
		t.Fatalf("risk %+v: want the forecast's model", risk)
	}
	if len(risk.Stress) != 2 || risk.Stress[0].Scenario != "price -40% vol +80%" || strings.Join(risk.StressAssets, ",") != "ETH,STETH" {
		t.Fatalf("stress %+v on %v", risk.Stress, risk.StressAssets)
	}
	for name, edit := range map[string]func(map[string]any){
		"-100%":   func(g map[string]any) { g["stress"] = []any{map[string]any{"price": -1, "vol": 0}} },
		"unknown": func(g map[string]any) { g["stressAssets"] = []any{"DOGE"} },
	} {
		cfg, err := editedSample(t, func(_ string, m map[string]any) {
			g, _ := m["greeks"].(map[string]any)
			if g == nil {
				g = map[string]any{}
			}
			edit(g)
			m["greeks"] = g
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := loadedEngine(t, cfg); err == nil || !strings.Contains(err.Error(), "stress") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
