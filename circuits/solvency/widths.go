package solvency

import (
	"math/big"

	"github.com/solvency-dev/solvency/circuits/statement"
)

// Value units and bit bounds (S2). Every intermediate of the circuit is listed here with its
// largest value at the largest allowed inputs; TestS2_WidthsAtLargestInputs evaluates them. The
// option and pool intermediates are listed in derivatives.go (its constants) and evaluated by
// TestS2_DerivativeWidthsAtLargestInputs.
//
// Fine value unit: 10^-26 USD. An amount of u circuit units of asset a (precision prec_a <= 18)
// at price p_a (USD with 8 decimals) is worth u * w_a fine units with w_a = p_a * 10^(18-prec_a):
// exact, so amounts at different precisions compare without rounding.
//
//	p_a            < 2^63                         (PriceBits, range-checked limb, S1)
//	10^(18-prec)   <= 10^18 < 2^60
//	w_a            < 2^123
//	|amount|       < 2^64                         (MagBits)
//	units per asset, summed over P <= 2^10 slots  < 2^74
//	liability units per asset                     < 2^96  (LiabBits, L2)
//	PV_a, NV_a, LV_a (units * w_a)                < 2^219 as integers, no wrap
//	sum PV, sum NV, sum LV                        < 2^TotalBits = 2^170 (range-checked: the
//	                                                completeness bound, about 1.5e25 USD)
//	haircut weights 10000 +- h                    <= 20000 < 2^15
//
// Each limit is "difference >= 0", proved by range-checking the difference to the width below.
// Every valid difference is below 2^width; every invalid (negative) one has magnitude below
// 2^210 and therefore lies above p - 2^210 > 2^250 in the field, outside the range.
const (
	PriceBits  = statement.PriceBits // the packed limb width (S1)
	MagBits    = 64
	LiabBits   = 96
	TotalBits  = 170
	PrecBits   = 5  // circuit precision <= 18 < 2^5
	DecBits    = 8  // on-chain decimals
	MaxPrec    = 18 // fine unit exponent: value scale is 10^(MaxPrec - prec)
	MetaU64    = 64
	MetaTime   = statement.MetaTimeBits
	FineDigits = 26 // fine unit is 10^-26 USD

	// Option notional sum size*(w + K*k) and pool legs sum vA + vB are bounded like the totals
	// (< 2^170 each); every derivative value is below its notional (derivatives.go). ON and PL
	// below stand for those two sums.
	//
	// Collateral: sum PV*(1e4-h) - NV*(1e4+h) + derivatives - minCR*sum LV; valid <=
	// (sumPV + ON + PL)*1e4 < 3*2^184 < 2^186.
	CollateralBits = 186
	// Liquidity: LQ*1e4 - floor*sumLV; LQ <= sumPV: valid < 2^184.
	LiquidityBits = 185
	// Caps: cap*NRd - gross*1e4, cap <= 1e4, NRd <= sumPV + ON + PL: valid < 3*2^184 < 2^186.
	// A failing cap's magnitude is at most gross*1e4: the positions' < 2^197, plus per option
	// slot its notional and, for a long, its intrinsic (size*(w + intr) < 2^188), plus the pool
	// legs; < 2^212, so it wraps far above the range.
	CapBits = 186
	// Target low edge: net*1e4 + (band-target)*NR: valid < 2^184 + 2^184 = 2^185.
	TargetLowBits = 186
	// Target high edge: (target+band)*NR - net*1e4: (t+b) < 2^15 so < 2^185, plus NV*1e4 < 2^184.
	TargetHighBits = 186
	// Stress: sum mult*HN_a + D_s with mult < 2^16; the positive parts are <= 2^16*1e4*(sumPV +
	// ON + PL) < 3*2^200 < 2^202 (a shocked intrinsic is <= max(mult*w, 1e4*K*k) <= 2^16*(w+K*k);
	// a shocked pool share is <= its value * sqrt(mA*mB) <= PL * 2^16).
	StressBits = 202

	// VaR (S5). Net exposure X_a = PV_a - NV_a - LV_a (fine units, |X_a| < 2^171) is rounded away
	// from zero to x_a = sign * ceil(|X_a| / 2^CoarseShift), |x_a| < 2^XBits (completeness bound:
	// about 4e14 USD net per asset). The surplus SUR = sum PV(1e4-h) - NV(1e4+h) - 1e4*LV (valid
	// < 2^185) is shown >= 0 by SUR = s * 1e4 * 2^CoarseShift + r with s < 2^SurBits and
	// 0 <= r < 2^SurRemBits: a negative SUR (above p - 2^186) has no such form, as s*K + r <
	// 2^188. The prover may take any s <= SUR/K: the largest, capped at 2^90 - 1 (a smaller s only
	// hurts the prover, so the cap is sound and never makes a passing treasury fail).
	//   y_i = sum_a L[a][i] x_a          |y_i| < A * 2^(CholBits+XBits) <= 2^(5+24+71) = 2^100
	//   Q = sum_i y_i^2                  < A * 2^200 <= 2^205
	//   LHS = Z^2 * h * Q                < 2^(32+10+205) = 2^247
	//   RHS = (s * ZScale * CholScale)^2 < (2^90 * 2^33.3)^2 < 2^247
	// RHS - LHS is range-checked to VaRBits; an invalid difference has magnitude below 2^247.
	CoarseShift = 64
	XBits       = 71
	SurBits     = 90
	SurRemBits  = 187 // r <= SUR < 2^186
	VaRBits     = 247
)

// inKindBits is the width of the in-kind difference PosU - NegU - L: valid <= P * 2^64.
func inKindBits(positions int) int { return MagBits + idxBits(positions+1) }

// pow10 returns 10^n.
func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// unitValue is w_a = price * 10^(18 - prec) in fine units per circuit unit.
func unitValue(price uint64, prec uint8) *big.Int {
	w := new(big.Int).SetUint64(price)
	return w.Mul(w, pow10(MaxPrec-int(prec)))
}
