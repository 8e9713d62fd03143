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
	// Derivatives (docs/greeks.md): the short-option charge is used by the proof; the Greek
	// limits are committed by the hash and range-checked, and enforced by the engine.
	ShortCharge            []frontend.Variable // A, bps
	DeltaEnabled, DeltaBps []frontend.Variable // A
	GammaEnabled, GammaBps frontend.Variable
	VegaEnabled, VegaBps   frontend.Variable
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
	// Options and pool shares (derivatives.go), and the ceiling of their total short charge.
	Options          []OptionVars
	Pools            []PoolVars
	ChargeQ, ChargeR frontend.Variable

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
		ShortCharge: vars(A), DeltaEnabled: vars(A), DeltaBps: vars(A),
	}
	for j := range c.Positions {
		c.Positions[j] = PositionVars{Asset: vars(A), Venue: vars(V)}
	}
	c.Options = make([]OptionVars, s.Options)
	for j := range c.Options {
		c.Options[j] = OptionVars{Asset: vars(A), Venue: vars(V), ITMS: vars(S)}
	}
	c.Pools = make([]PoolVars, s.Pools)
	for j := range c.Pools {
		c.Pools[j] = PoolVars{AssetA: vars(A), AssetB: vars(A), Venue: vars(V), RootS: vars(S)}
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
// of the policy holds. It is a sequence of steps, each beside its twin: the openings here and in
// values.go, one file per limit (limit_*.go). The order of the calls fixes the order of the
// constraints, so it must not change without new keys. Comments give each intermediate's bit
// bound (widths.go).
func (c *Circuit) Define(api frontend.API) error {
	if err := c.shape.Validate(); err != nil {
		return err
	}
	g, err := poseidon.NewGadget(api)
	if err != nil {
		return err
	}
	c.assertPrices(api)
	c.assertMeta(api)
	w, k, assetsHash := c.assetTable(api, g)
	lsigned, err := c.assertPolicy(api, g, assetsHash)
	if err != nil {
		return err
	}
	v, recs := c.assertPositions(api, w)
	v.der = c.assertDerivatives(api, w, k)
	c.assertRC(api, g, recs, v.der)
	c.assertLiabilities(api, g, assetsHash)
	c.values(api, w, v)
	pol := &c.Policy
	assertTotals(api, v)
	assertCollateral(api, pol, v)
	assertInKind(api, pol, v, c.shape.Positions)
	assertLiquidity(api, pol, v)
	assertCaps(api, pol, v)
	assertTargets(api, pol, v)
	assertStress(api, pol, v)
	c.assertVaRLimit(api, v, lsigned)
	return nil
}

// assertPrices opens the price words (S1): each limb < 2^63 and non-zero, four limbs per public
// word.
func (c *Circuit) assertPrices(api frontend.API) {
	A := c.shape.Assets
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
}

// assertMeta opens meta: u64, u64, u64, u40 packed into 232 bits.
func (c *Circuit) assertMeta(api frontend.API) {
	rangeCheck(api, c.Cycle, MetaU64)
	rangeCheck(api, c.ReservesBlock, MetaU64)
	rangeCheck(api, c.SnapEpoch, MetaU64)
	rangeCheck(api, c.SnapTime, MetaTime)
	meta := api.Add(c.Cycle, api.Mul(c.ReservesBlock, p2(64)), api.Mul(c.SnapEpoch, p2(128)), api.Mul(c.SnapTime, p2(192)))
	api.AssertIsEqual(meta, c.Meta)
}

// assetTable hashes the asset table (L8) and returns each asset's unit value w_a = price *
// 10^(18-prec) < 2^123 (unitValue natively), its scale k_a = 10^(18-prec) and the table's hash. assetsHash is computed here
// once and used in both the policy and the LC preimage, so the two cannot name different tables.
func (c *Circuit) assetTable(api frontend.API, g *poseidon.Gadget) ([]frontend.Variable, []frontend.Variable, frontend.Variable) {
	A := c.shape.Assets
	tbl := []frontend.Variable{A}
	w := vars(A)  // w_a = price * 10^(18-prec) < 2^123
	ks := vars(A) // k_a = 10^(18-prec) < 2^60
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
		ks[a] = k
		tbl = append(tbl, c.Symbols[a], api.Add(api.Mul(c.Decimals[a], 256), c.Precisions[a]))
	}
	return w, ks, g.Hash(poseidon.TagAssets, tbl...)
}

// assertPolicy opens the policy hash (S6: every field range-checked, packed in the canonical
// layout, hashed) and returns the signed Cholesky entries, |L_ij| < 2^24.
func (c *Circuit) assertPolicy(api frontend.API, g *poseidon.Gadget, assetsHash frontend.Variable) ([]frontend.Variable, error) {
	pol := &c.Policy
	ph, err := policyHashGadget(api, g, c.shape, pol, assetsHash)
	if err != nil {
		return nil, err
	}
	api.AssertIsEqual(ph, c.PolicyHash)
	lsigned := vars(len(pol.LMag)) // |L_ij| < 2^24, signed
	for i := range pol.LMag {
		// One encoding per value: a zero magnitude carries sign 0, never "-0".
		api.AssertIsEqual(api.Mul(pol.LNeg[i], api.IsZero(pol.LMag[i])), 0)
		lsigned[i] = api.Sub(pol.LMag[i], api.Mul(2, api.Mul(pol.LNeg[i], pol.LMag[i])))
	}
	return lsigned, nil
}

// assertLiabilities opens LC (L2): per-asset totals < 2^96, opened from accFinal, which LC opens.
func (c *Circuit) assertLiabilities(api frontend.API, g *poseidon.Gadget, assetsHash frontend.Variable) {
	A := c.shape.Assets
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
	for a := 0; a < s.Assets; a++ {
		bps(pol.ShortCharge[a])
	}
	for a := 0; a < s.Assets; a++ {
		bit(pol.DeltaEnabled[a])
		bps(pol.DeltaBps[a])
	}
	bit(pol.GammaEnabled)
	bps(pol.GammaBps)
	bit(pol.VegaEnabled)
	bps(pol.VegaBps)
	return out, nil
}
