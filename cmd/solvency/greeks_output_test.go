package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/treasury/engine"
)

// A cycle's summary shows the net Greeks per underlying, before and after the plan, with the
// delta band and the Greek limits no allowed trade restored; --json carries the same figures.
func TestSummaryPrintsGreeks(t *testing.T) {
	s := &engine.Summary{Cycle: 1, Stage: "published", Greeks: &engine.GreeksSummary{
		Before:  []engine.GreekLine{{Underlying: "ETH", Delta: 136, DeltaUSD: 251474, BandUSD: 229698}},
		After:   []engine.GreekLine{{Underlying: "ETH", Delta: 115.5, DeltaUSD: 213716, BandUSD: 229670, InBand: true, CashGamma: 960, VegaPerPoint: 1357, ThetaPerDay: -722}},
		Binding: []string{"gamma floor: cash gamma $-9000 per 1% move, floor $-5000 (50 bps of reserves)"},
	}}
	var out bytes.Buffer
	printSummary(&out, s, false)
	for _, want := range []string{"greeks ETH", "delta 115.50 ($213716, band ±$229670) (was 136.00, $251474)",
		"cash gamma $960 per 1%, vega $1357 per vol point, theta $-722 a day", "GREEK LIMIT       gamma floor"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	printSummary(&out, s, true)
	var back engine.Summary
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || back.Greeks == nil || back.Greeks.After[0].BandUSD != 229670 {
		t.Fatalf("json %s: %v", out.String(), err)
	}
}
