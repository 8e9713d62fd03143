package solvency

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark/frontend"
)

// Limit 3b, concentration caps, per asset and per venue group: cap * NRd - gross * 1e4 >= 0, the
// gross value (long plus short, plus each option's notional on its underlying and each pool leg
// on its asset) over net reserves with derivatives (NRd: long options and pool shares at their
// bounds, short options at intrinsic plus the charge, rounded up) (S3). cap <= 1e4 and NRd <=
// sumPV + option notional + pool legs, so the valid headroom is below 3*2^184 < 2^186 (CapBits).

func twinCaps(r *Report, in *Inputs, v *values) {
	for a, ar := range in.Policy.Assets {
		if !ar.Cap.Enabled {
			continue
		}
		gross := new(big.Int).Add(v.pv[a], v.nv[a])
		gross.Add(gross, v.der.gross[a])
		r.add(Limit{ID: "cap/asset/" + in.Table.Assets[a].Symbol, Kind: KindAssetCap, Subject: in.Table.Assets[a].Symbol,
			Scale:    new(big.Int).Mul(big.NewInt(int64(ar.Cap.Bps)), v.nrd),
			Value:    ratio(gross, v.nrd),
			Bound:    "<= " + bpsPct(int64(ar.Cap.Bps)),
			Headroom: capHeadroom(ar.Cap.Bps, v.nrd, gross), Width: CapBits})
	}
	for g, c := range in.Policy.GroupCaps {
		if !c.Enabled {
			continue
		}
		gross := new(big.Int).Add(v.groupGross[g], v.der.groupGross[g])
		r.add(Limit{ID: fmt.Sprintf("cap/group/%d", g), Kind: KindGroupCap, Subject: fmt.Sprint(g),
			Scale:    new(big.Int).Mul(big.NewInt(int64(c.Bps)), v.nrd),
			Value:    ratio(gross, v.nrd),
			Bound:    "<= " + bpsPct(int64(c.Bps)),
			Headroom: capHeadroom(c.Bps, v.nrd, gross), Width: CapBits})
	}
}

func capHeadroom(capBps uint32, nr, gross *big.Int) *big.Int {
	h := new(big.Int).Mul(big.NewInt(int64(capBps)), nr)
	return h.Sub(h, new(big.Int).Mul(gross, bpsK))
}

// assertCaps checks every asset and group; a disabled cap multiplies its difference by 0.
func assertCaps(api frontend.API, pol *PolicyVars, v *valueVars) {
	for a := range v.pv {
		d := api.Sub(api.Mul(pol.Cap[a], v.nrd), api.Mul(api.Add(v.pv[a], v.nv[a], v.der.gross[a]), BpsOne))
		rangeCheck(api, api.Mul(pol.CapEnabled[a], d), CapBits)
	}
	for gi := range v.groupGross {
		d := api.Sub(api.Mul(pol.GroupCap[gi], v.nrd), api.Mul(api.Add(v.groupGross[gi], v.der.groupGross[gi]), BpsOne))
		rangeCheck(api, api.Mul(pol.GroupCapEnabled[gi], d), CapBits)
	}
}
