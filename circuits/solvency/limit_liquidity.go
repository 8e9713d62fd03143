package solvency

import (
	"math/big"

	"github.com/consensys/gnark/frontend"
)

// Limit 3a, liquidity buffer: LQ * 1e4 - floor * sumLV >= 0, where LQ is the value of buffer
// assets held long at liquid venues less every short of a buffer asset (S3). Every short
// option's liability (bps-scaled, SL) drains the buffer too: LQ * 1e4 - SL - floor * sumLV >= 0.
// Long options and pool shares add nothing. LQ <= sumPV, so the valid headroom is below 2^184
// (LiquidityBits).

func twinLiquidity(r *Report, p *Policy, v *values) {
	if !p.Liquidity.Enabled {
		return
	}
	fl := big.NewInt(int64(p.Liquidity.FloorBps))
	r.add(Limit{ID: "liquidity", Kind: KindLiquidity,
		Value:    ratio(v.lq, v.sumLV),
		Bound:    ">= " + bpsPct(int64(p.Liquidity.FloorBps)) + " of liabilities",
		Headroom: new(big.Int).Sub(new(big.Int).Sub(new(big.Int).Mul(v.lq, bpsK), v.der.sl), new(big.Int).Mul(fl, v.sumLV)), Width: LiquidityBits,
		Scale: new(big.Int).Mul(fl, v.sumLV)})
}

// assertLiquidity multiplies the difference by the enabled bit: disabled, the check is 0.
func assertLiquidity(api frontend.API, pol *PolicyVars, v *valueVars) {
	d := api.Sub(api.Sub(api.Mul(v.lq, BpsOne), v.der.sl), api.Mul(pol.LiqFloor, v.sumLV))
	rangeCheck(api, api.Mul(pol.LiqEnabled, d), LiquidityBits)
}
