package solvency

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/shopspring/decimal"

	"github.com/solvency-dev/solvency/circuits/assets"
)

// Inputs is what the twin evaluates: the asset table, the policy, the positions, the public
// prices and the per-asset liability totals (circuit units).
type Inputs struct {
	Table       *assets.Table
	Policy      *Policy
	Positions   []Position
	Prices      []uint64
	Liabilities []*big.Int
}

// Limit kinds, for reports.
const (
	KindBound      = "bound"
	KindCollateral = "collateral"
	KindInKind     = "in-kind"
	KindLiquidity  = "liquidity"
	KindAssetCap   = "asset-cap"
	KindGroupCap   = "group-cap"
	KindTarget     = "target"
	KindStress     = "stress"
	KindVaR        = "var"
)

// Limit is one checked limit. Headroom is the exact integer the circuit range-checks (in the
// check's own units): the limit passes exactly when it is >= 0 and below 2^Width.
type Limit struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Subject is what the limit is about: the asset symbol (in-kind, asset cap), the group or
	// bucket index (group cap, target), the scenario index (stress); empty otherwise.
	Subject  string   `json:"subject,omitempty"`
	Value    string   `json:"value"` // human: a ratio in percent or an amount in USD
	Bound    string   `json:"bound"`
	Pass     bool     `json:"pass"`
	Headroom *big.Int `json:"headroom"`
	// Scale is a positive quantity in Headroom's units that makes it relative (Headroom/Scale
	// is the slack as a fraction of the bound); nil when the bound is zero.
	Scale *big.Int `json:"scale,omitempty"`
	Width int      `json:"-"`
}

// Report is the twin's result: every metric and every limit.
type Report struct {
	Pass      bool    `json:"pass"`
	ValueUnit string  `json:"valueUnit"` // the unit of every value below: "1e-26 USD"
	Limits    []Limit `json:"limits"`

	// Values in fine units (10^-26 USD); USD strings for display.
	GrossLong       *big.Int   `json:"grossLong"`       // sum PV
	GrossShort      *big.Int   `json:"grossShort"`      // sum NV
	NetReserves     *big.Int   `json:"netReserves"`     // NR = sum PV - sum NV
	HaircutReserves *big.Int   `json:"haircutReserves"` // (sum PV(1e4-h) - NV(1e4+h)) / 1e4, floored
	Liabilities     *big.Int   `json:"liabilities"`     // sum LV
	Surplus         *big.Int   `json:"surplus"`         // haircut reserves - liabilities (floored)
	LiquidValue     *big.Int   `json:"liquidValue"`     // LQ
	WorstStress     *big.Int   `json:"worstStress"`     // min over enabled scenarios of the shocked surplus / 1e8 (fine units), nil if none
	VaRValue        *big.Int   `json:"var"`             // z * sqrt(h * Q) in fine units (floored), nil when VaR is off
	NetExposure     []*big.Int `json:"netExposure"`     // X_a, fine units
	SurplusBps      *big.Int   `json:"-"`               // SUR, exact, bps-scaled fine units
}

// FormatFine renders fine units (10^-26 USD) as USD with 2 decimals, truncated toward zero.
func FormatFine(v *big.Int) string {
	if v == nil {
		return "-"
	}
	return decimal.NewFromBigInt(v, -FineDigits).Truncate(2).StringFixed(2)
}

// ratio renders num/den as a percentage with 2 decimals ("inf" when den is 0).
func ratio(num, den *big.Int) string {
	if den.Sign() == 0 {
		if num.Sign() == 0 {
			return "n/a"
		}
		return "inf"
	}
	return decimal.NewFromBigInt(num, 2).DivRound(decimal.NewFromBigInt(den, 0), 2).StringFixed(2) + "%"
}

func bpsPct(b int64) string { return decimal.New(b, -2).StringFixed(2) + "%" }

// Validate checks that the inputs fit the policy's shape and the circuit's input ranges.
func (in *Inputs) Validate() error {
	if in.Table == nil || in.Policy == nil {
		return errors.New("inputs: asset table and policy are required")
	}
	if err := in.Table.Validate(); err != nil {
		return err
	}
	if err := in.Policy.Validate(); err != nil {
		return err
	}
	p := in.Policy
	A := len(p.Assets)
	if in.Table.Len() != A {
		return fmt.Errorf("the policy has %d asset slots, the asset table %d", A, in.Table.Len())
	}
	if len(in.Prices) != A || len(in.Liabilities) != A {
		return fmt.Errorf("want %d prices and %d liability totals, got %d and %d", A, A, len(in.Prices), len(in.Liabilities))
	}
	for i, pr := range in.Prices {
		if pr == 0 || pr >= 1<<PriceBits {
			return fmt.Errorf("price %d (%d) is not in [1, 2^63) (P1: prices are positive)", i, pr)
		}
	}
	for i, l := range in.Liabilities {
		if l == nil || l.Sign() < 0 || l.BitLen() > LiabBits {
			return fmt.Errorf("liability total %d (%v) is not in [0, 2^96)", i, l)
		}
	}
	for j, pos := range in.Positions {
		if pos.Venue < 0 || pos.Venue >= len(p.Venues) || pos.Asset < 0 || pos.Asset >= A {
			return fmt.Errorf("position %d: venue %d or asset %d out of range", j, pos.Venue, pos.Asset)
		}
		if pos.Amount == nil || pos.Amount.CmpAbs(two64) >= 0 {
			return fmt.Errorf("position %d: amount %v: magnitude must be below 2^64", j, pos.Amount)
		}
	}
	return nil
}

var (
	two64 = new(big.Int).Lsh(big.NewInt(1), 64)
	bpsK  = big.NewInt(BpsOne)
)

func pow2(n int) *big.Int { return new(big.Int).Lsh(big.NewInt(1), uint(n)) }

// Evaluate is the native twin: it computes every metric and limit exactly as the circuit does.
// The circuit is satisfiable with these inputs exactly when Report.Pass is true.
func Evaluate(in *Inputs) (*Report, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	p := in.Policy
	A, G := len(p.Assets), len(p.GroupCaps)
	w := make([]*big.Int, A)
	for a := range w {
		w[a] = unitValue(in.Prices[a], in.Table.Assets[a].Precision)
	}
	posU, negU := zeros(A), zeros(A)
	groupGross := zeros(G)
	lq := new(big.Int)
	for _, pos := range in.Positions {
		mag := new(big.Int).Abs(pos.Amount)
		val := new(big.Int).Mul(mag, w[pos.Asset])
		v := p.Venues[pos.Venue]
		groupGross[v.Group].Add(groupGross[v.Group], val)
		if pos.Amount.Sign() < 0 {
			negU[pos.Asset].Add(negU[pos.Asset], mag)
			// A short or borrow of a buffer asset drains the buffer wherever it sits (S3).
			if p.Assets[pos.Asset].Liquid {
				lq.Sub(lq, val)
			}
		} else {
			posU[pos.Asset].Add(posU[pos.Asset], mag)
			if p.Assets[pos.Asset].Liquid && p.Liquidity.LiquidTiers[v.Tier] {
				lq.Add(lq, val)
			}
		}
	}
	r := &Report{ValueUnit: "1e-26 USD"}
	add := func(l Limit) {
		l.Pass = l.Headroom.Sign() >= 0 && l.Headroom.BitLen() <= l.Width
		if l.Scale != nil && l.Scale.Sign() <= 0 {
			l.Scale = nil
		}
		r.Limits = append(r.Limits, l)
	}
	pv, nv, lv := zeros(A), zeros(A), zeros(A)
	sumPV, sumNV, sumLV := new(big.Int), new(big.Int), new(big.Int)
	hn := zeros(A) // per asset PV(1e4-h) - NV(1e4+h) - 1e4 LV
	coll := new(big.Int)
	for a := 0; a < A; a++ {
		pv[a].Mul(posU[a], w[a])
		nv[a].Mul(negU[a], w[a])
		lv[a].Mul(in.Liabilities[a], w[a])
		sumPV.Add(sumPV, pv[a])
		sumNV.Add(sumNV, nv[a])
		sumLV.Add(sumLV, lv[a])
		h := int64(p.Assets[a].HaircutBps)
		t := new(big.Int).Mul(pv[a], big.NewInt(BpsOne-h))
		t.Sub(t, new(big.Int).Mul(nv[a], big.NewInt(BpsOne+h)))
		coll.Add(coll, t)
		hn[a].Sub(t, new(big.Int).Mul(lv[a], bpsK))
	}
	r.GrossLong, r.GrossShort, r.Liabilities = sumPV, sumNV, sumLV
	nr := new(big.Int).Sub(sumPV, sumNV)
	r.NetReserves = nr
	r.HaircutReserves = floorDiv(coll, bpsK)
	r.LiquidValue = lq
	lim := pow2(TotalBits)
	for _, b := range []struct {
		id string
		v  *big.Int
	}{{"bound/gross-long", sumPV}, {"bound/gross-short", sumNV}, {"bound/liabilities", sumLV}} {
		add(Limit{ID: b.id, Kind: KindBound, Value: FormatFine(b.v), Bound: "< " + FormatFine(lim),
			Headroom: new(big.Int).Sub(new(big.Int).Sub(lim, big.NewInt(1)), b.v), Width: TotalBits})
	}

	// 1. Collateral.
	minCR := big.NewInt(int64(p.MinCollateralBps))
	add(Limit{ID: "collateral", Kind: KindCollateral,
		Value:    ratio(coll, new(big.Int).Mul(sumLV, bpsK)),
		Bound:    ">= " + bpsPct(int64(p.MinCollateralBps)),
		Headroom: new(big.Int).Sub(coll, new(big.Int).Mul(minCR, sumLV)), Width: CollateralBits,
		Scale: new(big.Int).Mul(minCR, sumLV)})

	// 2. In-kind coverage (units of the asset).
	for a, ar := range p.Assets {
		if !ar.InKind {
			continue
		}
		net := new(big.Int).Sub(posU[a], negU[a])
		prec := in.Table.Assets[a].Precision
		add(Limit{ID: "in-kind/" + in.Table.Assets[a].Symbol, Kind: KindInKind, Subject: in.Table.Assets[a].Symbol,
			Scale:    new(big.Int).Set(in.Liabilities[a]),
			Value:    assets.FormatUnits(net, prec),
			Bound:    ">= " + assets.FormatUnits(in.Liabilities[a], prec),
			Headroom: new(big.Int).Sub(net, in.Liabilities[a]), Width: inKindBits(len(in.Positions))})
	}

	// 3a. Liquidity buffer.
	if p.Liquidity.Enabled {
		fl := big.NewInt(int64(p.Liquidity.FloorBps))
		add(Limit{ID: "liquidity", Kind: KindLiquidity,
			Value:    ratio(lq, sumLV),
			Bound:    ">= " + bpsPct(int64(p.Liquidity.FloorBps)) + " of liabilities",
			Headroom: new(big.Int).Sub(new(big.Int).Mul(lq, bpsK), new(big.Int).Mul(fl, sumLV)), Width: LiquidityBits,
			Scale: new(big.Int).Mul(fl, sumLV)})
	}

	// 3b. Concentration caps, gross numerators over net reserves (S3).
	for a, ar := range p.Assets {
		if !ar.Cap.Enabled {
			continue
		}
		gross := new(big.Int).Add(pv[a], nv[a])
		add(Limit{ID: "cap/asset/" + in.Table.Assets[a].Symbol, Kind: KindAssetCap, Subject: in.Table.Assets[a].Symbol,
			Scale:    new(big.Int).Mul(big.NewInt(int64(ar.Cap.Bps)), nr),
			Value:    ratio(gross, nr),
			Bound:    "<= " + bpsPct(int64(ar.Cap.Bps)),
			Headroom: capHeadroom(ar.Cap.Bps, nr, gross), Width: CapBits})
	}
	for g, c := range p.GroupCaps {
		if !c.Enabled {
			continue
		}
		add(Limit{ID: fmt.Sprintf("cap/group/%d", g), Kind: KindGroupCap, Subject: fmt.Sprint(g),
			Scale:    new(big.Int).Mul(big.NewInt(int64(c.Bps)), nr),
			Value:    ratio(groupGross[g], nr),
			Bound:    "<= " + bpsPct(int64(c.Bps)),
			Headroom: capHeadroom(c.Bps, nr, groupGross[g]), Width: CapBits})
	}

	// 3c. Target bands on each bucket's net value.
	for k, t := range p.Targets {
		if !t.Enabled {
			continue
		}
		net := new(big.Int)
		for a, m := range t.Assets {
			if m {
				net.Add(net, pv[a])
				net.Sub(net, nv[a])
			}
		}
		net4 := new(big.Int).Mul(net, bpsK)
		tb, bb := int64(t.WeightBps), int64(t.BandBps)
		low := new(big.Int).Add(net4, new(big.Int).Mul(big.NewInt(bb-tb), nr))
		high := new(big.Int).Sub(new(big.Int).Mul(big.NewInt(tb+bb), nr), net4)
		add(Limit{ID: fmt.Sprintf("target/%d/low", k), Kind: KindTarget, Subject: fmt.Sprint(k), Value: ratio(net, nr),
			Scale: new(big.Int).Mul(nr, bpsK),
			Bound: ">= " + bpsPct(tb-bb), Headroom: low, Width: TargetLowBits})
		add(Limit{ID: fmt.Sprintf("target/%d/high", k), Kind: KindTarget, Subject: fmt.Sprint(k), Value: ratio(net, nr),
			Scale: new(big.Int).Mul(nr, bpsK),
			Bound: "<= " + bpsPct(tb+bb), Headroom: high, Width: TargetHighBits})
	}

	// 4. Stress scenarios: shocked haircut reserves cover shocked liabilities.
	for s, sc := range p.Scenarios {
		if !sc.Enabled {
			continue
		}
		sum := new(big.Int)
		for a := 0; a < A; a++ {
			m := big.NewInt(int64(sc.ShockBps[a]) + BpsOne)
			sum.Add(sum, new(big.Int).Mul(m, hn[a]))
		}
		shocked := floorDiv(sum, big.NewInt(BpsOne*BpsOne))
		if r.WorstStress == nil || shocked.Cmp(r.WorstStress) < 0 {
			r.WorstStress = shocked
		}
		add(Limit{ID: fmt.Sprintf("stress/%d", s), Kind: KindStress, Subject: fmt.Sprint(s),
			Scale: new(big.Int).Mul(sumLV, big.NewInt(BpsOne*BpsOne)),
			Value: "surplus " + FormatFine(shocked), Bound: ">= 0", Headroom: sum, Width: StressBits})
	}

	// 5. Parametric VaR (S5).
	sur := new(big.Int)
	for a := range hn {
		sur.Add(sur, hn[a])
	}
	r.Surplus = floorDiv(sur, bpsK)
	r.SurplusBps = sur
	x := make([]*big.Int, A)
	r.NetExposure = make([]*big.Int, A)
	for a := 0; a < A; a++ {
		X := new(big.Int).Sub(pv[a], nv[a])
		X.Sub(X, lv[a])
		r.NetExposure[a] = X
		x[a] = roundAway(X, CoarseShift)
	}
	if p.VaR.Enabled {
		add(Limit{ID: "var/surplus", Kind: KindVaR, Value: FormatFine(r.Surplus), Bound: ">= 0", Scale: new(big.Int).Mul(sumLV, bpsK),
			Headroom: new(big.Int).Set(sur), Width: 250})
		xmax := pow2(XBits)
		for a := 0; a < A; a++ {
			ax := new(big.Int).Abs(x[a])
			add(Limit{ID: "bound/exposure/" + in.Table.Assets[a].Symbol, Kind: KindBound,
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
		v := new(big.Int).Sqrt(lhs)
		v.Lsh(v, CoarseShift)
		r.VaRValue = v.Quo(v, big.NewInt(ZScale*CholScale))
		add(Limit{ID: "var", Kind: KindVaR, Value: "VaR " + FormatFine(r.VaRValue),
			Bound:    "<= surplus " + FormatFine(new(big.Int).Lsh(sCoarse, CoarseShift)),
			Headroom: new(big.Int).Sub(rhs, lhs), Width: VaRBits, Scale: rhs})
	}
	r.Pass = true
	for _, l := range r.Limits {
		r.Pass = r.Pass && l.Pass
	}
	return r, nil
}

// SurplusCoarse is the surplus in coarse units that the prover uses: floor(SUR / (1e4 *
// 2^CoarseShift)) capped at 2^SurBits - 1, or 0 when SUR < 0 (then no witness exists).
func SurplusCoarse(sur *big.Int) *big.Int {
	if sur.Sign() <= 0 {
		return new(big.Int)
	}
	s := floorDiv(sur, new(big.Int).Lsh(bpsK, CoarseShift))
	if s.BitLen() > SurBits {
		s = new(big.Int).Sub(pow2(SurBits), big.NewInt(1))
	}
	return s
}

// X0 scales a coarse amount back to fine units, for display.
func X0(x *big.Int) *big.Int { return new(big.Int).Lsh(x, CoarseShift) }

func capHeadroom(capBps uint32, nr, gross *big.Int) *big.Int {
	h := new(big.Int).Mul(big.NewInt(int64(capBps)), nr)
	return h.Sub(h, new(big.Int).Mul(gross, bpsK))
}

func zeros(n int) []*big.Int {
	out := make([]*big.Int, n)
	for i := range out {
		out[i] = new(big.Int)
	}
	return out
}

// floorDiv is floor(a/b) for b > 0.
func floorDiv(a, b *big.Int) *big.Int {
	q, m := new(big.Int).DivMod(a, b, new(big.Int)) // Euclidean: m >= 0, so q is the floor
	_ = m
	return q
}

// roundAway is sign(X) * ceil(|X| / 2^shift).
func roundAway(X *big.Int, shift uint) *big.Int {
	m := new(big.Int).Abs(X)
	m.Add(m, new(big.Int).Sub(pow2(int(shift)), big.NewInt(1)))
	m.Rsh(m, shift)
	if X.Sign() < 0 {
		m.Neg(m)
	}
	return m
}
