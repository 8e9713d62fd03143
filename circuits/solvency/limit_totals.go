package solvency

import (
	"math/big"

	"github.com/consensys/gnark/frontend"
)

// Totals bound (completeness): sum PV, sum NV, sum LV, the options' notional sum size*(w + K*k)
// and the pool legs' sum vA + vB are each below 2^TotalBits = 2^170. Every derivative value is
// at most its notional (intrinsic <= w for a call, <= K*k for a put; 2*sqrt(vA*vB) <= vA + vB),
// so these two bounds bound every derivative term too.
// Each term is a non-negative integer below 2^225, so the sums do not wrap and each term is
// bounded too; every limit below relies on these bounds for its own width.

// twinTotals reports the three bounds as limits of kind "bound".
func twinTotals(r *Report, v *values) {
	lim := pow2(TotalBits)
	for _, b := range []struct {
		id string
		v  *big.Int
	}{{"bound/gross-long", v.sumPV}, {"bound/gross-short", v.sumNV}, {"bound/liabilities", v.sumLV},
		{"bound/option-notional", v.der.sumON}, {"bound/pool-legs", v.der.sumPL}} {
		r.add(Limit{ID: b.id, Kind: KindBound, Value: FormatFine(b.v), Bound: "< " + FormatFine(lim),
			Headroom: new(big.Int).Sub(new(big.Int).Sub(lim, big.NewInt(1)), b.v), Width: TotalBits})
	}
}

// assertTotals range-checks the three sums to TotalBits.
func assertTotals(api frontend.API, v *valueVars) {
	rangeCheck(api, v.sumPV, TotalBits)
	rangeCheck(api, v.sumNV, TotalBits)
	rangeCheck(api, v.sumLV, TotalBits)
	rangeCheck(api, v.der.sumON, TotalBits)
	rangeCheck(api, v.der.sumPL, TotalBits)
}
