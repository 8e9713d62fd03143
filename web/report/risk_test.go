package report

import (
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/treasury/state"
)

// The report shows the cycle's delta-gamma VaR and worst stress scenario beside its Greeks,
// from the Greek summary the engine records.
func TestReportShowsDeltaGammaVaRAndStress(t *testing.T) {
	rec := &state.CycleRecord{Cycle: 1, Greeks: []byte(`{"before":null,"after":null,"risk":{"covariance_source":"policy",` +
		`"confidence":0.99,"horizon_days":1,"delta_gamma_normal_var":"1200.50","cornish_fisher_var":"1100.25",` +
		`"stress_assets":["ETH"],"worst_stress_pnl":"-700.10","worst_stress_scenario":"price -30% vol +50%"}}`)}
	c, err := cycleOf(rec)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(c.Greeks, "\n")
	for _, want := range []string{"delta-gamma VaR $1100.25 (Cornish-Fisher), $1200.50 (normal)", "worst full revaluation $-700.10 at price -30% vol +50% (ETH)"} {
		if !strings.Contains(all, want) {
			t.Errorf("report greeks %q lack %q", all, want)
		}
	}
	if _, err := cycleOf(&state.CycleRecord{Cycle: 2, Greeks: []byte(`{"risk":`)}); err == nil {
		t.Error("a torn Greek summary was read without error")
	}
}
