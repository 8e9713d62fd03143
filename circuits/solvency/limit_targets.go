package solvency

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark/frontend"
)

// Limit 3c, target bands per bucket on the bucket's net value:
// (t-b)*NR <= net*1e4 <= (t+b)*NR, as two differences >= 0. |net| <= sumPV + sumNV < 2^171;
// low = net*1e4 + (b-t)*NR is valid below 2^185, high = (t+b)*NR - net*1e4 below 2^185 plus
// NV*1e4 < 2^184 (TargetLowBits, TargetHighBits).

func twinTargets(r *Report, p *Policy, v *values) {
	for k, t := range p.Targets {
		if !t.Enabled {
			continue
		}
		net := new(big.Int)
		for a, m := range t.Assets {
			if m {
				net.Add(net, v.pv[a])
				net.Sub(net, v.nv[a])
			}
		}
		net4 := new(big.Int).Mul(net, bpsK)
		tb, bb := int64(t.WeightBps), int64(t.BandBps)
		low := new(big.Int).Add(net4, new(big.Int).Mul(big.NewInt(bb-tb), v.nr))
		high := new(big.Int).Sub(new(big.Int).Mul(big.NewInt(tb+bb), v.nr), net4)
		r.add(Limit{ID: fmt.Sprintf("target/%d/low", k), Kind: KindTarget, Subject: fmt.Sprint(k), Value: ratio(net, v.nr),
			Scale: new(big.Int).Mul(v.nr, bpsK),
			Bound: ">= " + bpsPct(tb-bb), Headroom: low, Width: TargetLowBits})
		r.add(Limit{ID: fmt.Sprintf("target/%d/high", k), Kind: KindTarget, Subject: fmt.Sprint(k), Value: ratio(net, v.nr),
			Scale: new(big.Int).Mul(v.nr, bpsK),
			Bound: "<= " + bpsPct(tb+bb), Headroom: high, Width: TargetHighBits})
	}
}

// assertTargets checks every bucket; a disabled one multiplies both edges by 0.
func assertTargets(api frontend.API, pol *PolicyVars, v *valueVars) {
	for k := range pol.TargetEnabled {
		var net frontend.Variable = 0 // |net| <= sumPV + sumNV < 2^171
		for a := range v.pv {
			net = api.Add(net, api.Mul(pol.TargetAssets[k][a], api.Sub(v.pv[a], v.nv[a])))
		}
		net4 := api.Mul(net, BpsOne)
		low := api.Add(net4, api.Mul(api.Sub(pol.Band[k], pol.Target[k]), v.nr))
		high := api.Sub(api.Mul(api.Add(pol.Target[k], pol.Band[k]), v.nr), net4)
		rangeCheck(api, api.Mul(pol.TargetEnabled[k], low), TargetLowBits)
		rangeCheck(api, api.Mul(pol.TargetEnabled[k], high), TargetHighBits)
	}
}
