package solvency

import (
	"math/big"

	"github.com/consensys/gnark/frontend"
)

// Limit 5, parametric VaR (S5): z^2 * h * |L^T x|^2 <= (s * ZScale * CholScale)^2, where x is
// the net exposure per asset X = PV - NV - LV rounded away from zero to coarse units and s is
// the surplus SUR = sum hn floored to coarse units after it is shown >= 0. The bit bounds are in
// widths.go (CoarseShift, XBits, SurBits, SurRemBits, VaRBits).

// twinVaR sets the report's surplus and net exposures (always) and, when VaR is enabled, adds
// the surplus, the exposure bounds and the VaR limit itself.
func twinVaR(r *Report, in *Inputs, v *values) {
	p := in.Policy
	A := len(v.hn)
	// The VaR surplus is the spot surplus less every short option's liability: long options and
	// pool shares count nothing here (docs/greeks.md).
	sur := new(big.Int).Neg(v.der.sl)
	for a := range v.hn {
		sur.Add(sur, v.hn[a])
	}
	r.Surplus = floorDiv(new(big.Int).Sub(v.coll, new(big.Int).Mul(v.sumLV, bpsK)), bpsK)
	r.SurplusBps = sur
	x := make([]*big.Int, A)
	r.NetExposure = make([]*big.Int, A)
	for a := 0; a < A; a++ {
		X := new(big.Int).Sub(v.pv[a], v.nv[a])
		X.Sub(X, v.lv[a])
		r.NetExposure[a] = X
		x[a] = roundAway(X, CoarseShift)
	}
	if !p.VaR.Enabled {
		return
	}
	r.add(Limit{ID: "var/surplus", Kind: KindVaR, Value: FormatFine(r.Surplus), Bound: ">= 0", Scale: new(big.Int).Mul(v.sumLV, bpsK),
		Headroom: new(big.Int).Set(sur), Width: 250})
	xmax := pow2(XBits)
	for a := 0; a < A; a++ {
		ax := new(big.Int).Abs(x[a])
		r.add(Limit{ID: "bound/exposure/" + in.Table.Assets[a].Symbol, Kind: KindBound,
			Value: FormatFine(X0(x[a])), Bound: "|x| < 2^71 coarse units",
			Headroom: new(big.Int).Sub(new(big.Int).Sub(xmax, big.NewInt(1)), ax), Width: XBits})
	}
	sCoarse := SurplusCoarse(sur)
	q := new(big.Int)
	for i := 0; i < A; i++ {
		y := new(big.Int)
		for k := i; k < A; k++ {
			y.Add(y, new(big.Int).Mul(big.NewInt(p.VaR.L[k][i]), x[k]))
		}
		q.Add(q, new(big.Int).Mul(y, y))
	}
	z := big.NewInt(int64(p.VaR.Z))
	lhs := new(big.Int).Mul(z, z)
	lhs.Mul(lhs, big.NewInt(int64(p.VaR.HorizonDays)))
	lhs.Mul(lhs, q)
	rs := new(big.Int).Mul(sCoarse, big.NewInt(ZScale*CholScale))
	rhs := new(big.Int).Mul(rs, rs)
	// VaR for display: sqrt(lhs) / (ZScale*CholScale) coarse units.
	vr := new(big.Int).Sqrt(lhs)
	vr.Lsh(vr, CoarseShift)
	r.VaRValue = vr.Quo(vr, big.NewInt(ZScale*CholScale))
	r.add(Limit{ID: "var", Kind: KindVaR, Value: "VaR " + FormatFine(r.VaRValue),
		Bound:    "<= surplus " + FormatFine(new(big.Int).Lsh(sCoarse, CoarseShift)),
		Headroom: new(big.Int).Sub(rhs, lhs), Width: VaRBits, Scale: rhs})
}

// assertVaRLimit feeds the circuit's surplus and net exposures, with the prover's rounding
// witnesses, to assertVaR.
func (c *Circuit) assertVaRLimit(api frontend.API, v *valueVars, lsigned []frontend.Variable) {
	pol := &c.Policy
	sur := api.Neg(v.der.sl) // short option liabilities; long derivatives count nothing here
	X := vars(len(v.pv))     // net exposure per asset, fine units, |X| < 2^171
	for a := range v.pv {
		sur = api.Add(sur, v.hn[a])
		X[a] = api.Sub(api.Sub(v.pv[a], v.nv[a]), v.lv[a])
	}
	assertVaR(api, varVars{
		Enabled: pol.VaREnabled, Z: pol.Z, Horizon: pol.Horizon, L: lsigned,
		Surplus: sur, X: X, SurQ: c.SurQ, SurR: c.SurR, XNeg: c.XNeg, XQ: c.XQ, XR: c.XR,
	})
}

// varVars are the inputs of the VaR check.
type varVars struct {
	Enabled, Z, Horizon frontend.Variable
	L                   []frontend.Variable // signed, lower triangle row by row, |L| < 2^24
	Surplus             frontend.Variable   // SUR, bps-scaled fine units, |SUR| < 2^186
	X                   []frontend.Variable // net exposures, fine units, |X| < 2^171
	SurQ, SurR          frontend.Variable
	XNeg, XQ, XR        []frontend.Variable
}

// assertVaR proves z^2 * h * |L^T x|^2 <= (s * ZScale * CholScale)^2 where s is the surplus
// floored to coarse units after it is shown >= 0 by its decomposition, and x is X rounded away
// from zero to coarse units (S5). Disabled, every input is multiplied by 0 and the check is 0 <= 0.
func assertVaR(api frontend.API, v varVars) {
	A := len(v.X)
	// The surplus is shown >= 0 by its decomposition before anything is squared: SurQ*K + SurR
	// is a non-negative integer below 2^168, so a negative surplus (above p - 2^186) has none.
	rangeCheck(api, v.SurQ, SurBits)
	rangeCheck(api, v.SurR, SurRemBits)
	coarseK := new(big.Int).Lsh(big.NewInt(BpsOne), CoarseShift)
	api.AssertIsEqual(api.Mul(v.Enabled, v.Surplus), api.Add(api.Mul(v.SurQ, coarseK), v.SurR))
	x := vars(A)
	for a := 0; a < A; a++ {
		X := api.Mul(v.Enabled, v.X[a])
		rangeCheck(api, v.XQ[a], XBits)
		rangeCheck(api, v.XR[a], CoarseShift)
		api.AssertIsBoolean(v.XNeg[a])
		m := api.Sub(api.Mul(v.XQ[a], p2(CoarseShift)), v.XR[a]) // |m| < 2^135
		api.AssertIsEqual(X, api.Sub(m, api.Mul(2, api.Mul(v.XNeg[a], m))))
		// XQ = 0 forces XR = 0, so the rounding is away from zero and the sign is X's; it also
		// forces XNeg = 0, so a zero exposure has one encoding.
		xz := api.IsZero(v.XQ[a])
		api.AssertIsEqual(api.Mul(xz, v.XR[a]), 0)
		api.AssertIsEqual(api.Mul(xz, v.XNeg[a]), 0)
		x[a] = api.Sub(v.XQ[a], api.Mul(2, api.Mul(v.XNeg[a], v.XQ[a]))) // |x| < 2^71
	}
	var q frontend.Variable = 0 // Q < A * 2^200 <= 2^205
	for i := 0; i < A; i++ {
		var y frontend.Variable = 0 // |y| < A * 2^95 <= 2^100
		for k := i; k < A; k++ {
			y = api.Add(y, api.Mul(v.L[k*(k+1)/2+i], x[k]))
		}
		q = api.Add(q, api.Mul(y, y))
	}
	lhs := api.Mul(api.Mul(v.Z, v.Z), v.Horizon, q)       // < 2^(32+10+205) = 2^247
	rs := api.Mul(v.SurQ, int64(ZScale)*int64(CholScale)) // < 2^124
	rangeCheck(api, api.Sub(api.Mul(rs, rs), lhs), VaRBits)
}
