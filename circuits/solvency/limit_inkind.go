package solvency

import (
	"math/big"

	"github.com/consensys/gnark/frontend"

	"github.com/solvency-dev/solvency/circuits/assets"
)

// Limit 2, in-kind coverage, in units of the asset, where the policy flags it:
// PosU - NegU - L >= 0. Valid headroom <= P * 2^64 < 2^inKindBits(P).

func twinInKind(r *Report, in *Inputs, v *values) {
	for a, ar := range in.Policy.Assets {
		if !ar.InKind {
			continue
		}
		net := new(big.Int).Sub(v.posU[a], v.negU[a])
		prec := in.Table.Assets[a].Precision
		r.add(Limit{ID: "in-kind/" + in.Table.Assets[a].Symbol, Kind: KindInKind, Subject: in.Table.Assets[a].Symbol,
			Scale:    new(big.Int).Set(in.Liabilities[a]),
			Value:    assets.FormatUnits(net, prec),
			Bound:    ">= " + assets.FormatUnits(in.Liabilities[a], prec),
			Headroom: new(big.Int).Sub(net, in.Liabilities[a]), Width: inKindBits(len(in.Positions))})
	}
}

// assertInKind checks every asset; a disabled one multiplies its difference by 0.
func assertInKind(api frontend.API, pol *PolicyVars, v *valueVars, positions int) {
	for a := range v.posU {
		d := api.Sub(api.Sub(v.posU[a], v.negU[a]), v.liab[a]) // valid < 2^74
		rangeCheck(api, api.Mul(pol.InKind[a], d), inKindBits(positions))
	}
}
