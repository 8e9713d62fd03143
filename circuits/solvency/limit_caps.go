package solvency

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark/frontend"
)

// Limit 3b, concentration caps, per asset and per venue group: cap * NR - gross * 1e4 >= 0, the
// gross value (long plus short) over net reserves (S3). cap <= 1e4 and NR <= sumPV, so the
// valid headroom is below 2^184 (CapBits).

func twinCaps(r *Report, in *Inputs, v *values) {
	for a, ar := range in.Policy.Assets {
		if !ar.Cap.Enabled {
			continue
		}
		gross := new(big.Int).Add(v.pv[a], v.nv[a])
		r.add(Limit{ID: "cap/asset/" + in.Table.Assets[a].Symbol, Kind: KindAssetCap, Subject: in.Table.Assets[a].Symbol,
			Scale:    new(big.Int).Mul(big.NewInt(int64(ar.Cap.Bps)), v.nr),
			Value:    ratio(gross, v.nr),
			Bound:    "<= " + bpsPct(int64(ar.Cap.Bps)),
			Headroom: capHeadroom(ar.Cap.Bps, v.nr, gross), Width: CapBits})
	}
	for g, c := range in.Policy.GroupCaps {
		if !c.Enabled {
			continue
		}
		r.add(Limit{ID: fmt.Sprintf("cap/group/%d", g), Kind: KindGroupCap, Subject: fmt.Sprint(g),
			Scale:    new(big.Int).Mul(big.NewInt(int64(c.Bps)), v.nr),
			Value:    ratio(v.groupGross[g], v.nr),
			Bound:    "<= " + bpsPct(int64(c.Bps)),
			Headroom: capHeadroom(c.Bps, v.nr, v.groupGross[g]), Width: CapBits})
	}
}

func capHeadroom(capBps uint32, nr, gross *big.Int) *big.Int {
	h := new(big.Int).Mul(big.NewInt(int64(capBps)), nr)
	return h.Sub(h, new(big.Int).Mul(gross, bpsK))
}

// assertCaps checks every asset and group; a disabled cap multiplies its difference by 0.
func assertCaps(api frontend.API, pol *PolicyVars, v *valueVars) {
	for a := range v.pv {
		d := api.Sub(api.Mul(pol.Cap[a], v.nr), api.Mul(api.Add(v.pv[a], v.nv[a]), BpsOne))
		rangeCheck(api, api.Mul(pol.CapEnabled[a], d), CapBits)
	}
	for gi := range v.groupGross {
		d := api.Sub(api.Mul(pol.GroupCap[gi], v.nr), api.Mul(v.groupGross[gi], BpsOne))
		rangeCheck(api, api.Mul(pol.GroupCapEnabled[gi], d), CapBits)
	}
}
