package solvency

import (
	"math/big"

	"github.com/consensys/gnark/frontend"
)

// Limit 1, collateral: haircut reserves cover minCR times the liabilities, both bps-scaled:
// coll - minCR * sumLV >= 0 with coll = sum PV*(1e4-h) - NV*(1e4+h) plus the options' and pool
// shares' terms (derivatives.go). Valid headroom <= (sumPV + option notional + pool legs)*1e4 <
// 3 * 2^184 < 2^186 (CollateralBits).

func twinCollateral(r *Report, p *Policy, v *values) {
	minCR := big.NewInt(int64(p.MinCollateralBps))
	r.add(Limit{ID: "collateral", Kind: KindCollateral,
		Value:    ratio(v.coll, new(big.Int).Mul(v.sumLV, bpsK)),
		Bound:    ">= " + bpsPct(int64(p.MinCollateralBps)),
		Headroom: new(big.Int).Sub(v.coll, new(big.Int).Mul(minCR, v.sumLV)), Width: CollateralBits,
		Scale: new(big.Int).Mul(minCR, v.sumLV)})
}

func assertCollateral(api frontend.API, pol *PolicyVars, v *valueVars) {
	rangeCheck(api, api.Sub(v.coll, api.Mul(pol.MinCR, v.sumLV)), CollateralBits)
}
