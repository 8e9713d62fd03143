// Package refcheck is a plain reference Checker for the rebalancer's tests. It follows the
// semantics of the solvency statement (issue 9 and circuits/solvency's twin) in engine units
// (USD with 8 decimals), so the rebalancer can be tested before and independently of the
// circuit: haircuts with a short valued at (1 + h), gross exposure in cap numerators over net
// reserves, liquidity net per tier (a short of a liquid asset drains the buffer wherever it
// sits), stress shocks on haircut surplus, and VaR z²·h·|Lᵀx|² <= (surplus)² with the surplus
// first shown >= 0. It is not the production checker: production plugs in the twin.
package refcheck

import (
	"fmt"
	"math/big"
	"sort"

	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/rebalance"
	"github.com/solvency-dev/solvency/treasury/riskmodel"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// AssetRule is the policy for one asset.
type AssetRule struct {
	HaircutBps int64 `json:"haircutBps"`
	InKind     bool  `json:"inKind"`
	Liquid     bool  `json:"liquid"`
	CapBps     int64 `json:"capBps"` // 0: no cap
}

// VaR is the parametric VaR limit; Z is scaled by 10^4, the factor by its own Scale.
type VaR struct {
	Assets      []string            `json:"assets"`
	Z           int64               `json:"z"`
	HorizonDays int64               `json:"horizonDays"`
	Factor      riskmodel.IntFactor `json:"factor"`
}

// Policy is the reference policy.
type Policy struct {
	MinCollateralBps int64                `json:"minCollateralBps"`
	Assets           map[string]AssetRule `json:"assets"`
	GroupCapBps      map[string]int64     `json:"groupCapBps"`
	LiquidTiers      []bool               `json:"liquidTiers"`
	// VenueTiers overrides the book's tier per venue: the policy's venue table is the
	// authority on metadata (S4), and a policy may be stricter than the book.
	VenueTiers        map[string]uint8   `json:"venueTiers,omitempty"`
	LiquidityFloorBps int64              `json:"liquidityFloorBps"` // 0: off
	Scenarios         []map[string]int64 `json:"scenarios"`
	VaR               *VaR               `json:"var,omitempty"`
}

// Checker evaluates Policy; the book supplies each venue's group and tier.
type Checker struct {
	Policy Policy
	Book   *venues.Book
	Assets map[string]market.Asset
}

// bps returns 10^4, one in basis points.
func bps() *big.Int { return big.NewInt(10000) }

func (c *Checker) valueOf(asset string, amount *big.Int, prices market.Snapshot) (*big.Int, error) {
	a, ok := c.Assets[asset]
	if !ok {
		return nil, fmt.Errorf("unknown asset %s", asset)
	}
	p, err := prices.Price(asset)
	if err != nil {
		return nil, err
	}
	return market.Value(amount, a.Decimals, p), nil
}

// Check implements rebalance.Checker.
func (c *Checker) Check(pf rebalance.Portfolio) (*rebalance.Report, error) {
	pol := c.Policy
	pv, nv, lv := map[string]*big.Int{}, map[string]*big.Int{}, map[string]*big.Int{}
	units := map[string]*big.Int{}
	get := func(m map[string]*big.Int, k string) *big.Int {
		if m[k] == nil {
			m[k] = new(big.Int)
		}
		return m[k]
	}
	group := map[string]*big.Int{}
	lq := new(big.Int)
	for _, pos := range pf.Positions {
		rule, ok := pol.Assets[pos.Asset]
		if !ok {
			return nil, fmt.Errorf("refcheck: no policy for %s", pos.Asset)
		}
		v, ok := c.Book.Venue(pos.Venue)
		if !ok {
			return nil, fmt.Errorf("refcheck: unknown venue %s", pos.Venue)
		}
		mag := new(big.Int).Abs(pos.Amount)
		val, err := c.valueOf(pos.Asset, mag, pf.Prices)
		if err != nil {
			return nil, err
		}
		if pos.Amount.Sign() < 0 {
			// A debt is valued rounded up: floor(-x) = -ceil(x).
			neg, err := c.valueOf(pos.Asset, new(big.Int).Neg(mag), pf.Prices)
			if err != nil {
				return nil, err
			}
			val = neg.Neg(neg)
			get(nv, pos.Asset).Add(nv[pos.Asset], val)
			if rule.Liquid {
				lq.Sub(lq, val)
			}
		} else {
			get(pv, pos.Asset).Add(pv[pos.Asset], val)
			tier := v.Tier
			if t, ok := pol.VenueTiers[v.ID]; ok {
				tier = t
			}
			if rule.Liquid && int(tier) < len(pol.LiquidTiers) && pol.LiquidTiers[tier] {
				lq.Add(lq, val)
			}
		}
		get(group, v.Group).Add(group[v.Group], val)
		get(units, pos.Asset).Add(units[pos.Asset], pos.Amount)
	}
	for a, l := range pf.Liabilities {
		if l.Sign() < 0 {
			return nil, fmt.Errorf("refcheck: negative liabilities of %s", a)
		}
		// Liabilities valued rounded up, against the treasury.
		neg, err := c.valueOf(a, new(big.Int).Neg(l), pf.Prices)
		if err != nil {
			return nil, err
		}
		get(lv, a).Set(neg.Neg(neg))
	}
	sumPV, sumNV, sumLV := new(big.Int), new(big.Int), new(big.Int)
	coll := new(big.Int)
	hn := map[string]*big.Int{}
	for a, rule := range pol.Assets {
		p, n, l := get(pv, a), get(nv, a), get(lv, a)
		sumPV.Add(sumPV, p)
		sumNV.Add(sumNV, n)
		sumLV.Add(sumLV, l)
		t := new(big.Int).Mul(p, big.NewInt(10000-rule.HaircutBps))
		t.Sub(t, new(big.Int).Mul(n, big.NewInt(10000+rule.HaircutBps)))
		coll.Add(coll, t)
		hn[a] = new(big.Int).Sub(t, new(big.Int).Mul(l, bps()))
	}
	nr := new(big.Int).Sub(sumPV, sumNV)
	names := sortedKeys(pol.Assets)
	rep := &rebalance.Report{Pass: true}
	add := func(l rebalance.Limit) {
		l.Pass = l.Headroom.Sign() >= 0
		rep.Pass = rep.Pass && l.Pass
		rep.Limits = append(rep.Limits, l)
	}
	lv4 := new(big.Int).Mul(sumLV, bps())
	nr4 := new(big.Int).Mul(nr, bps())
	add(rebalance.Limit{ID: "collateral", Kind: rebalance.KindCollateral, Value: pct(coll, lv4),
		Bound:    fmt.Sprintf(">= %d bps", pol.MinCollateralBps),
		Headroom: new(big.Int).Sub(coll, new(big.Int).Mul(big.NewInt(pol.MinCollateralBps), sumLV)), Scale: lv4})
	for _, a := range names {
		if rule := pol.Assets[a]; rule.InKind {
			l := new(big.Int)
			if x := pf.Liabilities[a]; x != nil {
				l.Set(x)
			}
			add(rebalance.Limit{ID: "in-kind/" + a, Kind: rebalance.KindInKind, Subject: a,
				Value: get(units, a).String(), Bound: ">= " + l.String(), Headroom: new(big.Int).Sub(units[a], l), Scale: nonZero(l)})
		}
	}
	if pol.LiquidityFloorBps > 0 {
		add(rebalance.Limit{ID: "liquidity", Kind: rebalance.KindLiquidity, Value: pct(new(big.Int).Mul(lq, bps()), lv4),
			Bound:    fmt.Sprintf(">= %d bps of liabilities", pol.LiquidityFloorBps),
			Headroom: new(big.Int).Sub(new(big.Int).Mul(lq, bps()), new(big.Int).Mul(big.NewInt(pol.LiquidityFloorBps), sumLV)), Scale: nonZero(lv4)})
	}
	for _, a := range names {
		rule := pol.Assets[a]
		if rule.CapBps <= 0 {
			continue
		}
		gross := new(big.Int).Add(get(pv, a), get(nv, a))
		add(rebalance.Limit{ID: "cap/asset/" + a, Kind: rebalance.KindAssetCap, Subject: a,
			Value: pct(new(big.Int).Mul(gross, bps()), nr4), Bound: fmt.Sprintf("<= %d bps", rule.CapBps),
			Headroom: capHeadroom(rule.CapBps, nr, gross), Scale: nonZero(nr4)})
	}
	for _, g := range sortedKeys(pol.GroupCapBps) {
		capBps := pol.GroupCapBps[g]
		gross := get(group, g)
		add(rebalance.Limit{ID: "cap/group/" + g, Kind: rebalance.KindGroupCap, Subject: g,
			Value: pct(new(big.Int).Mul(gross, bps()), nr4), Bound: fmt.Sprintf("<= %d bps", capBps),
			Headroom: capHeadroom(capBps, nr, gross), Scale: nonZero(nr4)})
	}
	for s, sc := range pol.Scenarios {
		sum := new(big.Int)
		for a := range pol.Assets {
			sum.Add(sum, new(big.Int).Mul(big.NewInt(10000+sc[a]), hn[a]))
		}
		add(rebalance.Limit{ID: fmt.Sprintf("stress/%d", s), Kind: rebalance.KindStress, Value: "surplus " + market.FormatUSD(new(big.Int).Quo(sum, big.NewInt(1e8))),
			Bound: ">= 0", Headroom: sum, Scale: nonZero(new(big.Int).Mul(lv4, bps()))})
	}
	if pol.VaR != nil {
		sur := new(big.Int)
		for _, h := range hn {
			sur.Add(sur, h)
		}
		sur.Div(sur, bps()) // floor
		add(rebalance.Limit{ID: "var/surplus", Kind: rebalance.KindVaR, Value: market.FormatUSD(sur), Bound: ">= 0", Headroom: new(big.Int).Set(sur), Scale: nonZero(new(big.Int).Set(sumLV))})
		x := make([]*big.Int, len(pol.VaR.Assets))
		for i, a := range pol.VaR.Assets {
			x[i] = new(big.Int).Sub(new(big.Int).Sub(get(pv, a), get(nv, a)), get(lv, a))
		}
		q, err := pol.VaR.Factor.Quadratic(x)
		if err != nil {
			return nil, fmt.Errorf("refcheck: %w", err)
		}
		lhs := new(big.Int).Mul(big.NewInt(pol.VaR.Z*pol.VaR.Z*pol.VaR.HorizonDays), q)
		rs := new(big.Int).Mul(sur, big.NewInt(10000*pol.VaR.Factor.Scale))
		if sur.Sign() < 0 {
			rs.SetInt64(0) // the surplus must be >= 0 before squaring (S5)
		}
		rhs := new(big.Int).Mul(rs, rs)
		varUSD := new(big.Int).Sqrt(lhs)
		varUSD.Quo(varUSD, big.NewInt(10000*pol.VaR.Factor.Scale))
		add(rebalance.Limit{ID: "var", Kind: rebalance.KindVaR, Value: "VaR " + market.FormatUSD(varUSD),
			Bound: "<= surplus " + market.FormatUSD(sur), Headroom: new(big.Int).Sub(rhs, lhs), Scale: nonZero(rhs)})
	}
	return rep, nil
}

func capHeadroom(capBps int64, nr, gross *big.Int) *big.Int {
	h := new(big.Int).Mul(big.NewInt(capBps), nr)
	return h.Sub(h, new(big.Int).Mul(gross, bps()))
}

func nonZero(v *big.Int) *big.Int {
	if v == nil || v.Sign() <= 0 {
		return nil
	}
	return v
}

func pct(num, den *big.Int) string {
	if den.Sign() == 0 {
		return "n/a"
	}
	v := new(big.Int).Mul(num, big.NewInt(10000)) // basis points
	v.Quo(v, den)
	return fmt.Sprintf("%d.%02d%%", v.Int64()/100, abs(v.Int64()%100))
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
