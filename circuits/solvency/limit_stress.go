package solvency

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark/frontend"
)

// Limit 4, stress scenarios: shocked haircut reserves cover shocked liabilities,
// sum_a mult_sa * hn_a + D_s >= 0 with mult = 1e4 + shock >= 0, mult < 2^16, where D_s revalues
// every option and pool share at the shocked prices (derivatives.go), bps^2-scaled. The sum of
// the positive parts is <= 2^16 * 1e4 * (sumPV + option notional + pool legs) < 3 * 2^200 <
// 2^202 (StressBits).

// twinStress adds one limit per enabled scenario and sets the report's worst shocked surplus.
func twinStress(r *Report, p *Policy, v *values) {
	for s, sc := range p.Scenarios {
		if !sc.Enabled {
			continue
		}
		sum := new(big.Int).Set(v.der.stress[s])
		for a := range v.hn {
			m := big.NewInt(int64(sc.ShockBps[a]) + BpsOne)
			sum.Add(sum, new(big.Int).Mul(m, v.hn[a]))
		}
		shocked := floorDiv(sum, big.NewInt(BpsOne*BpsOne))
		if r.WorstStress == nil || shocked.Cmp(r.WorstStress) < 0 {
			r.WorstStress = shocked
		}
		r.add(Limit{ID: fmt.Sprintf("stress/%d", s), Kind: KindStress, Subject: fmt.Sprint(s),
			Scale: new(big.Int).Mul(v.sumLV, big.NewInt(BpsOne*BpsOne)),
			Value: "surplus " + FormatFine(shocked), Bound: ">= 0", Headroom: sum, Width: StressBits})
	}
}

// assertStress checks every scenario; a disabled one multiplies its sum by 0.
func assertStress(api frontend.API, pol *PolicyVars, v *valueVars) {
	for si := range pol.ScenEnabled {
		sum := v.der.stress[si]
		for a := range v.hn {
			sum = api.Add(sum, api.Mul(pol.ScenMult[si][a], v.hn[a]))
		}
		rangeCheck(api, api.Mul(pol.ScenEnabled[si], sum), StressBits)
	}
}
