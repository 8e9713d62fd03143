package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/treasury/engine"
)

// A cycle's summary shows the delta-gamma VaR and the worst stress scenario beside the Greeks;
// --json carries them under greeks.risk with snake_case keys.
func TestSummaryPrintsDeltaGammaVaR(t *testing.T) {
	s := &engine.Summary{Cycle: 1, Stage: "published", Greeks: &engine.GreeksSummary{
		After: []engine.GreekLine{{Underlying: "ETH", Delta: 115.5, DeltaUSD: 213716, InBand: true, CashGamma: 960}},
		Risk: &engine.RiskFigures{CovarianceSource: "policy", Confidence: 0.99, HorizonDays: 1, DeltaGammaNormalVaR: "1899357.74",
			CornishFisherVaR: "1899032.44", StressAssets: []string{"ETH"}, WorstStressPnL: "-70196.36", WorstStressScenario: "price -30% vol +50%"},
	}}
	var out bytes.Buffer
	printSummary(&out, s, false)
	for _, want := range []string{"delta-gamma VaR   $1899032.44 Cornish-Fisher, $1899357.74 normal (99.00%, 1 day, policy covariance)",
		"worst revaluation $-70196.36 at price -30% vol +50% (ETH)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	printSummary(&out, s, true)
	for _, key := range []string{`"cornish_fisher_var":"1899032.44"`, `"delta_gamma_normal_var":"1899357.74"`, `"worst_stress_pnl":"-70196.36"`,
		`"worst_stress_scenario":"price -30% vol +50%"`} {
		if !strings.Contains(out.String(), key) {
			t.Errorf("json lacks %s: %s", key, out.String())
		}
	}
	var back engine.Summary
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || back.Greeks == nil || back.Greeks.Risk == nil || back.Greeks.Risk.CornishFisherVaR != "1899032.44" {
		t.Fatalf("json %s: %v", out.String(), err)
	}
}
