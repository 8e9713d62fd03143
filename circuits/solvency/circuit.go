package solvency

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/math/bits"

	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// PolicyVars is the policy in circuit, private and opened from the public policy hash. Venue
// metadata is one-hot (S4): VenueGroup[v][g] = 1 exactly for the venue's group.
type PolicyVars struct {
	ChainID, Registry, MinCR    frontend.Variable
	LiqEnabled, LiqFloor        frontend.Variable
	LiqTiers                    []frontend.Variable // T
	VaREnabled, Z, Horizon      frontend.Variable
	Haircut, InKind, Liquid     []frontend.Variable   // A
	CapEnabled, Cap             []frontend.Variable   // A
	TargetEnabled, Target, Band []frontend.Variable   // K buckets
	TargetAssets                [][]frontend.Variable // K x A membership
	VenueGroup, VenueTier       [][]frontend.Variable
	GroupCapEnabled, GroupCap   []frontend.Variable // G
	ScenEnabled                 []frontend.Variable // S
	ScenMult                    [][]frontend.Variable
	LNeg, LMag                  []frontend.Variable // A(A+1)/2, lower triangle row by row
}

// PositionVars is one position slot: magnitude, sign bit and one-hot asset and venue selectors.
type PositionVars struct {
	Mag, Neg frontend.Variable
	Asset    []frontend.Variable // A, one-hot
	Venue    []frontend.Variable // V, one-hot
}

// Circuit is the solvency statement. Public inputs, in order (docs/design.md): PolicyHash, LC,
// RC, Meta, PriceWords.
type Circuit struct {
	PolicyHash frontend.Variable   `gnark:",public"`
	LC         frontend.Variable   `gnark:",public"`
	RC         frontend.Variable   `gnark:",public"`
	Meta       frontend.Variable   `gnark:",public"`
	PriceWords []frontend.Variable `gnark:",public"`

	Prices                                    []frontend.Variable
	Cycle, ReservesBlock, SnapEpoch, SnapTime frontend.Variable
	Symbols, Decimals, Precisions             []frontend.Variable
	Policy                                    PolicyVars
	Positions                                 []PositionVars
	RCSalt                                    frontend.Variable
	Liabilities                               []frontend.Variable
	AccSalt, TreeHeight, Batches, Depth       frontend.Variable
	Root                                      frontend.Variable
	// VaR rounding witnesses (S5): |X_a| = XQ*2^64 - XR, sign XNeg; SUR = SurQ*1e4*2^64 + SurR.
	XNeg, XQ, XR []frontend.Variable
	SurQ, SurR   frontend.Variable

	shape Shape
}

func vars(n int) []frontend.Variable { return make([]frontend.Variable, n) }
func vars2(n, m int) [][]frontend.Variable {
	out := make([][]frontend.Variable, n)
	for i := range out {
		out[i] = vars(m)
	}
	return out
}

// NewCircuit allocates the circuit for shape s (for compiling and as an assignment skeleton).
func NewCircuit(s Shape) *Circuit {
	A, P, V, G, T, S := s.Assets, s.Positions, s.Venues, s.Groups, s.Tiers, s.Scenarios
	c := &Circuit{
		PriceWords: vars(s.PriceWords()), Prices: vars(A),
		Symbols: vars(A), Decimals: vars(A), Precisions: vars(A),
		Positions: make([]PositionVars, P), Liabilities: vars(A),
		XNeg: vars(A), XQ: vars(A), XR: vars(A),
		shape: s,
	}
	c.Policy = PolicyVars{
		LiqTiers: vars(T),
		Haircut:  vars(A), InKind: vars(A), Liquid: vars(A), CapEnabled: vars(A), Cap: vars(A),
		TargetEnabled: vars(s.Buckets), Target: vars(s.Buckets), Band: vars(s.Buckets),
		TargetAssets: vars2(s.Buckets, A),
		VenueGroup:   vars2(V, G), VenueTier: vars2(V, T),
		GroupCapEnabled: vars(G), GroupCap: vars(G),
		ScenEnabled: vars(S), ScenMult: vars2(S, A),
		LNeg: vars(A * (A + 1) / 2), LMag: vars(A * (A + 1) / 2),
	}
	for j := range c.Positions {
		c.Positions[j] = PositionVars{Asset: vars(A), Venue: vars(V)}
	}
	return c
}

// Shape returns the circuit's shape.
func (c *Circuit) Shape() Shape { return c.shape }

type fv struct {
	v     frontend.Variable
	width int
}

// rangeCheck asserts 0 <= v < 2^n with n+1 constraints (bits.ToBinary; no commitment, S8).
func rangeCheck(api frontend.API, v frontend.Variable, n int) []frontend.Variable {
	return bits.ToBinary(api, v, bits.WithNbDigits(n))
}

// oneHot asserts that sel is boolean with sum 1 and returns the selected index.
func oneHot(api frontend.API, sel []frontend.Variable) frontend.Variable {
	var sum, idx frontend.Variable = 0, 0
	for i, b := range sel {
		api.AssertIsBoolean(b)
		sum = api.Add(sum, b)
		idx = api.Add(idx, api.Mul(b, i)) // constant multiple: no constraint
	}
	api.AssertIsEqual(sum, 1)
	return idx
}

func p2(n int) *big.Int { return new(big.Int).Lsh(big.NewInt(1), uint(n)) }

// Define states: the public statement opens (policy hash, LC, RC, meta, prices) and every limit
// of the policy holds. Comments give each intermediate's bit bound (widths.go).
func (c *Circuit) Define(api frontend.API) error {
	s := c.shape
	if err := s.Validate(); err != nil {
		return err
	}
	A, P, V, G, T := s.Assets, s.Positions, s.Venues, s.Groups, s.Tiers
	g, err := poseidon.NewGadget(api)
	if err != nil {
		return err
	}
	pol := &c.Policy

	// --- Prices (S1): each limb < 2^63, four limbs per public word.
	for w := range c.PriceWords {
		var word frontend.Variable = 0
		for k := 0; k < 4 && 4*w+k < A; k++ {
			rangeCheck(api, c.Prices[4*w+k], PriceBits)
			// A zero price would value that asset's liabilities at nothing (P1: answer > 0).
			api.AssertIsDifferent(c.Prices[4*w+k], 0)
			word = api.Add(word, api.Mul(c.Prices[4*w+k], p2(PriceBits*k))) // < 2^252
		}
		api.AssertIsEqual(word, c.PriceWords[w])
	}

	// --- Meta: u64, u64, u64, u40 packed into 232 bits.
	rangeCheck(api, c.Cycle, MetaU64)
	rangeCheck(api, c.ReservesBlock, MetaU64)
	rangeCheck(api, c.SnapEpoch, MetaU64)
	rangeCheck(api, c.SnapTime, MetaTime)
	meta := api.Add(c.Cycle, api.Mul(c.ReservesBlock, p2(64)), api.Mul(c.SnapEpoch, p2(128)), api.Mul(c.SnapTime, p2(192)))
	api.AssertIsEqual(meta, c.Meta)

	// --- Asset table (L8): assetsHash is computed here once and used in both the policy and the
	// LC preimage, so the two cannot name different tables. Precision gives the value scale.
	tbl := []frontend.Variable{A}
	w := vars(A) // w_a = price * 10^(18-prec) < 2^123
	for a := 0; a < A; a++ {
		rangeCheck(api, c.Decimals[a], DecBits)
		rangeCheck(api, c.Precisions[a], PrecBits)
		e := rangeCheck(api, api.Sub(MaxPrec, c.Precisions[a]), PrecBits) // prec <= 18
		var k frontend.Variable = 1
		for i, b := range e {
			f := api.Add(1, api.Mul(b, new(big.Int).Sub(pow10(1<<i), big.NewInt(1))))
			k = api.Mul(k, f) // 10^(18-prec) <= 10^18 < 2^60
		}
		w[a] = api.Mul(c.Prices[a], k)
		tbl = append(tbl, c.Symbols[a], api.Add(api.Mul(c.Decimals[a], 256), c.Precisions[a]))
	}
	assetsHash := g.Hash(poseidon.TagAssets, tbl...)

	// --- Policy (S6): every field range-checked, packed in the canonical layout, hashed.
	ph, err := policyHashGadget(api, g, s, pol, assetsHash)
	if err != nil {
		return err
	}
	api.AssertIsEqual(ph, c.PolicyHash)
	lsigned := vars(len(pol.LMag)) // |L_ij| < 2^24, signed
	for i := range pol.LMag {
		// One encoding per value: a zero magnitude carries sign 0, never "-0".
		api.AssertIsEqual(api.Mul(pol.LNeg[i], api.IsZero(pol.LMag[i])), 0)
		lsigned[i] = api.Sub(pol.LMag[i], api.Mul(2, api.Mul(pol.LNeg[i], pol.LMag[i])))
	}

	// --- Positions (S2, S4): magnitude < 2^64 and a sign bit; asset and venue by one-hot.
	posU, negU := zerosV(A), zerosV(A) // < P * 2^64 <= 2^74
	venueGross := zerosV(V)            // < P * 2^64 * 2^123 = 2^197
	var lq frontend.Variable = 0       // |LQ| <= P * 2^187 < 2^197
	liqV := vars(V)                    // 1 when the venue's tier is liquid
	for v := 0; v < V; v++ {
		var x frontend.Variable = 0
		for t := 0; t < T; t++ {
			x = api.Add(x, api.Mul(pol.VenueTier[v][t], pol.LiqTiers[t]))
		}
		liqV[v] = x
	}
	wLiq := vars(A) // w_a for buffer assets, else 0
	for a := 0; a < A; a++ {
		wLiq[a] = api.Mul(w[a], pol.Liquid[a])
	}
	recs := make([]frontend.Variable, 0, P)
	for j := 0; j < P; j++ {
		ps := &c.Positions[j]
		rangeCheck(api, ps.Mag, MagBits)
		api.AssertIsBoolean(ps.Neg)
		// One encoding per amount: a zero magnitude carries sign 0. Otherwise "-0" would be a
		// second RC record for the same position (a commitment with two openings).
		api.AssertIsEqual(api.Mul(ps.Neg, api.IsZero(ps.Mag)), 0)
		ai := oneHot(api, ps.Asset)
		vi := oneHot(api, ps.Venue)
		negMag := api.Mul(ps.Mag, ps.Neg)
		var val, ev frontend.Variable = 0, 0 // |amount| * w_a < 2^187
		for a := 0; a < A; a++ {
			e := api.Mul(ps.Mag, ps.Asset[a])
			nn := api.Mul(negMag, ps.Asset[a])
			posU[a] = api.Add(posU[a], api.Sub(e, nn))
			negU[a] = api.Add(negU[a], nn)
			val = api.Add(val, api.Mul(e, w[a]))
			ev = api.Add(ev, api.Mul(e, wLiq[a]))
		}
		var liq frontend.Variable = 0
		for v := 0; v < V; v++ {
			venueGross[v] = api.Add(venueGross[v], api.Mul(ps.Venue[v], val))
			liq = api.Add(liq, api.Mul(ps.Venue[v], liqV[v]))
		}
		// factor: +1 for a long at a liquid venue, 0 for a long elsewhere, -1 for any short (S3).
		f := api.Sub(liq, api.Mul(ps.Neg, api.Add(liq, 1)))
		lq = api.Add(lq, api.Mul(ev, f))
		// RC record: mag (64) | neg (1) | asset (8) | venue (8) = 81 bits, injective.
		recs = append(recs, api.Add(ps.Mag, api.Mul(ps.Neg, p2(64)), api.Mul(ai, p2(65)), api.Mul(vi, p2(73))))
	}
	rcIn := []frontend.Variable{c.RCSalt}
	for i := 0; i < len(recs); i += 3 {
		var e frontend.Variable = 0
		for k := 0; k < 3 && i+k < len(recs); k++ {
			e = api.Add(e, api.Mul(recs[i+k], p2(81*k))) // < 2^243
		}
		rcIn = append(rcIn, e)
	}
	api.AssertIsEqual(g.Hash(poseidon.TagRC, rcIn...), c.RC)
	groupGross := zerosV(G) // <= sum of venue gross < 2^197
	for v := 0; v < V; v++ {
		for gi := 0; gi < G; gi++ {
			groupGross[gi] = api.Add(groupGross[gi], api.Mul(pol.VenueGroup[v][gi], venueGross[v]))
		}
	}

	// --- Liabilities (L2): totals < 2^96, opened from accFinal, opened from LC.
	accIn := []frontend.Variable{c.SnapEpoch}
	for a := 0; a < A; a += 2 {
		rangeCheck(api, c.Liabilities[a], LiabBits)
		pair := []frontend.Variable{c.Liabilities[a]}
		if a+1 < A {
			rangeCheck(api, c.Liabilities[a+1], LiabBits)
			pair = append(pair, c.Liabilities[a+1])
		}
		accIn = append(accIn, poseidon.PackLimbsGadget(api, pair, LiabBits)) // < 2^192
	}
	accIn = append(accIn, c.AccSalt)
	accFinal := g.Hash(poseidon.TagAcc, accIn...)
	lc := g.Hash(poseidon.TagLC, c.SnapEpoch, c.SnapTime, c.TreeHeight, c.Batches, c.Depth, c.Root, accFinal, assetsHash)
	api.AssertIsEqual(lc, c.LC)

	// --- Values per asset, in fine units.
	pv, nv, lv, hn := vars(A), vars(A), vars(A), vars(A)
	var sumPV, sumNV, sumLV, coll frontend.Variable = 0, 0, 0, 0
	for a := 0; a < A; a++ {
		pv[a] = api.Mul(posU[a], w[a])          // < 2^197
		nv[a] = api.Mul(negU[a], w[a])          // < 2^197
		lv[a] = api.Mul(c.Liabilities[a], w[a]) // < 2^219
		sumPV = api.Add(sumPV, pv[a])
		sumNV = api.Add(sumNV, nv[a])
		sumLV = api.Add(sumLV, lv[a])
		// PV*(1e4-h) - NV*(1e4+h): a short is weighted by (1+h), never reduced (S3).
		ca := api.Sub(api.Mul(pv[a], api.Sub(BpsOne, pol.Haircut[a])), api.Mul(nv[a], api.Add(BpsOne, pol.Haircut[a])))
		coll = api.Add(coll, ca)
		hn[a] = api.Sub(ca, api.Mul(lv[a], BpsOne)) // |hn| < 2^185 once the totals are bounded
	}
	// Completeness bound: every sum below 2^170 (each term is a non-negative integer < 2^225, so
	// the sums do not wrap and each term is bounded too).
	rangeCheck(api, sumPV, TotalBits)
	rangeCheck(api, sumNV, TotalBits)
	rangeCheck(api, sumLV, TotalBits)
	nr := api.Sub(sumPV, sumNV) // |NR| < 2^170

	// 1. Collateral: coll >= minCR * sumLV (both bps-scaled).
	rangeCheck(api, api.Sub(coll, api.Mul(pol.MinCR, sumLV)), CollateralBits)

	// 2. In-kind coverage, in units: PosU - NegU - L >= 0 where flagged.
	for a := 0; a < A; a++ {
		d := api.Sub(api.Sub(posU[a], negU[a]), c.Liabilities[a]) // valid < 2^74
		rangeCheck(api, api.Mul(pol.InKind[a], d), inKindBits(P))
	}

	// 3a. Liquidity buffer: LQ * 1e4 >= floor * sumLV.
	rangeCheck(api, api.Mul(pol.LiqEnabled, api.Sub(api.Mul(lq, BpsOne), api.Mul(pol.LiqFloor, sumLV))), LiquidityBits)

	// 3b. Caps: gross * 1e4 <= cap * NR.
	for a := 0; a < A; a++ {
		d := api.Sub(api.Mul(pol.Cap[a], nr), api.Mul(api.Add(pv[a], nv[a]), BpsOne))
		rangeCheck(api, api.Mul(pol.CapEnabled[a], d), CapBits)
	}
	for gi := 0; gi < G; gi++ {
		d := api.Sub(api.Mul(pol.GroupCap[gi], nr), api.Mul(groupGross[gi], BpsOne))
		rangeCheck(api, api.Mul(pol.GroupCapEnabled[gi], d), CapBits)
	}

	// 3c. Target bands per bucket: (t-b)*NR <= net*1e4 <= (t+b)*NR.
	for k := range pol.TargetEnabled {
		var net frontend.Variable = 0 // |net| <= sumPV + sumNV < 2^171
		for a := 0; a < A; a++ {
			net = api.Add(net, api.Mul(pol.TargetAssets[k][a], api.Sub(pv[a], nv[a])))
		}
		net4 := api.Mul(net, BpsOne)
		low := api.Add(net4, api.Mul(api.Sub(pol.Band[k], pol.Target[k]), nr))
		high := api.Sub(api.Mul(api.Add(pol.Target[k], pol.Band[k]), nr), net4)
		rangeCheck(api, api.Mul(pol.TargetEnabled[k], low), TargetLowBits)
		rangeCheck(api, api.Mul(pol.TargetEnabled[k], high), TargetHighBits)
	}

	// 4. Stress: sum_a mult_sa * hn_a >= 0 (mult = 1e4 + shock >= 0).
	for si := range pol.ScenEnabled {
		var sum frontend.Variable = 0
		for a := 0; a < A; a++ {
			sum = api.Add(sum, api.Mul(pol.ScenMult[si][a], hn[a]))
		}
		rangeCheck(api, api.Mul(pol.ScenEnabled[si], sum), StressBits)
	}

	// 5. VaR (S5).
	var sur frontend.Variable = 0
	X := vars(A) // net exposure per asset, fine units, |X| < 2^171
	for a := 0; a < A; a++ {
		sur = api.Add(sur, hn[a])
		X[a] = api.Sub(api.Sub(pv[a], nv[a]), lv[a])
	}
	assertVaR(api, varVars{
		Enabled: pol.VaREnabled, Z: pol.Z, Horizon: pol.Horizon, L: lsigned,
		Surplus: sur, X: X, SurQ: c.SurQ, SurR: c.SurR, XNeg: c.XNeg, XQ: c.XQ, XR: c.XR,
	})
	return nil
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

func zerosV(n int) []frontend.Variable {
	out := vars(n)
	for i := range out {
		out[i] = 0
	}
	return out
}

// policyFieldVars is the canonical layout in circuit, in the order of Policy.fields, with every
// field range-checked (S6): booleans asserted, widths by bits.ToBinary, bps fields <= 10000,
// the collateral ratio >= 10000, venue group and tier indices derived from one-hot selectors.
// policyHashGadget range-checks every policy field and returns the policy hash; it equals
// Policy.Hash on the same policy (TestPolicyHashGoEqualsCircuit).
func policyHashGadget(api frontend.API, g *poseidon.Gadget, s Shape, pol *PolicyVars, assetsHash frontend.Variable) (frontend.Variable, error) {
	fields, err := policyFieldVars(api, s, pol)
	if err != nil {
		return nil, err
	}
	widths := make([]int, len(fields))
	for i, f := range fields {
		widths[i] = f.width
	}
	elem, off, n := packLayout(widths)
	packed := make([]frontend.Variable, n)
	for i := range packed {
		packed[i] = 0
	}
	for i, f := range fields {
		packed[elem[i]] = api.Add(packed[elem[i]], api.Mul(f.v, p2(off[i]))) // < 2^248
	}
	return g.Hash(poseidon.TagPolicy, append([]frontend.Variable{assetsHash}, packed...)...), nil
}

func policyFieldVars(api frontend.API, s Shape, pol *PolicyVars) ([]fv, error) {
	var out []fv
	bit := func(v frontend.Variable) {
		api.AssertIsBoolean(v)
		out = append(out, fv{v, 1})
	}
	num := func(v frontend.Variable, width int) {
		rangeCheck(api, v, width)
		out = append(out, fv{v, width})
	}
	bps := func(v frontend.Variable) {
		num(v, BpsBits)
		rangeCheck(api, api.Sub(BpsOne, v), BpsBits) // v <= 10000
	}
	konst := func(v, width int) { out = append(out, fv{v, width}) }
	konst(PolicyVersion, 16)
	konst(s.Assets, 16)
	konst(s.Venues, 16)
	konst(s.Groups, 16)
	konst(s.Tiers, 16)
	konst(s.Scenarios, 16)
	konst(s.Buckets, 16)
	num(pol.ChainID, ChainIDBits)
	num(pol.Registry, RegistryBits)
	num(pol.MinCR, FloorBits)
	rangeCheck(api, api.Sub(pol.MinCR, BpsOne), FloorBits) // minCR >= 10000
	bit(pol.LiqEnabled)
	num(pol.LiqFloor, FloorBits)
	for _, t := range pol.LiqTiers {
		bit(t)
	}
	bit(pol.VaREnabled)
	num(pol.Z, ZBits)
	num(pol.Horizon, HorizonBits)
	for a := 0; a < s.Assets; a++ {
		bps(pol.Haircut[a])
		bit(pol.InKind[a])
		bit(pol.Liquid[a])
		bit(pol.CapEnabled[a])
		bps(pol.Cap[a])
	}
	for v := 0; v < s.Venues; v++ {
		if len(pol.VenueGroup[v]) != s.Groups || len(pol.VenueTier[v]) != s.Tiers {
			return nil, fmt.Errorf("venue %d: selector lengths do not match the shape", v)
		}
		out = append(out, fv{oneHot(api, pol.VenueGroup[v]), idxBits(s.Groups)})
		out = append(out, fv{oneHot(api, pol.VenueTier[v]), idxBits(s.Tiers)})
	}
	for gi := 0; gi < s.Groups; gi++ {
		bit(pol.GroupCapEnabled[gi])
		bps(pol.GroupCap[gi])
	}
	for k := 0; k < s.Buckets; k++ {
		bit(pol.TargetEnabled[k])
		bps(pol.Target[k])
		bps(pol.Band[k])
		for a := 0; a < s.Assets; a++ {
			bit(pol.TargetAssets[k][a])
		}
	}
	for si := 0; si < s.Scenarios; si++ {
		bit(pol.ScenEnabled[si])
		for a := 0; a < s.Assets; a++ {
			num(pol.ScenMult[si][a], MultBits)
		}
	}
	for i := range pol.LMag {
		bit(pol.LNeg[i])
		num(pol.LMag[i], CholBits)
	}
	return out, nil
}
