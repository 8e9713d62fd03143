package solvency

import (
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/frontend"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/circuits/statement"
)

// mustNotSolve checks a crafted assignment against both the test engine and the R1CS.
func mustNotSolve(t *testing.T, c *Circuit) {
	t.Helper()
	if err := solve(t, c); err == nil {
		t.Fatal("crafted witness satisfies the R1CS")
	}
	if err := engineSolve(testShape, c); err == nil {
		t.Fatal("crafted witness satisfies the test engine")
	}
}

func bi(v any) *big.Int {
	switch x := v.(type) {
	case *big.Int:
		return new(big.Int).Set(x)
	case int:
		return big.NewInt(int64(x))
	case int64:
		return big.NewInt(x)
	case uint32:
		return big.NewInt(int64(x))
	case uint64:
		return new(big.Int).SetUint64(x)
	}
	panic("bi: unexpected type")
}

// rawRC recomputes RC over raw (possibly out-of-range) magnitudes, as a cheating prover would,
// so that the commitment is consistent and only the range checks can refuse the witness.
func rawRC(c *Circuit) *big.Int {
	h := poseidon.NewHasher()
	in := []fr.Element{elem(bi(c.RCSalt))}
	for i := 0; i < len(c.Positions); i += 3 {
		acc := new(big.Int)
		for k := 0; k < 3 && i+k < len(c.Positions); k++ {
			p := c.Positions[i+k]
			rec := bi(p.Mag)
			rec.Add(rec, new(big.Int).Lsh(bi(p.Neg), 64))
			rec.Add(rec, new(big.Int).Lsh(big.NewInt(int64(index(p.Asset))), 65))
			rec.Add(rec, new(big.Int).Lsh(big.NewInt(int64(index(p.Venue))), 73))
			acc.Add(acc, new(big.Int).Lsh(rec, uint(81*k)))
		}
		in = append(in, elem(acc))
	}
	for _, o := range c.Options {
		rec := bi(o.Size)
		rec.Add(rec, new(big.Int).Lsh(bi(o.Short), 64))
		rec.Add(rec, new(big.Int).Lsh(bi(o.Put), 65))
		rec.Add(rec, new(big.Int).Lsh(big.NewInt(int64(index(o.Asset))), 66))
		rec.Add(rec, new(big.Int).Lsh(big.NewInt(int64(index(o.Venue))), 74))
		rec.Add(rec, new(big.Int).Lsh(bi(o.Strike), 82))
		rec.Add(rec, new(big.Int).Lsh(bi(o.Expiry), 145))
		in = append(in, elem(rec))
	}
	for _, p := range c.Pools {
		rec := bi(p.AmountA)
		rec.Add(rec, new(big.Int).Lsh(bi(p.AmountB), 64))
		rec.Add(rec, new(big.Int).Lsh(big.NewInt(int64(index(p.AssetA))), 128))
		rec.Add(rec, new(big.Int).Lsh(big.NewInt(int64(index(p.AssetB))), 136))
		rec.Add(rec, new(big.Int).Lsh(big.NewInt(int64(index(p.Venue))), 144))
		in = append(in, elem(rec))
	}
	if cnt := SlotCounts(len(c.Positions), len(c.Options), len(c.Pools)); cnt != nil {
		in = append(in, elem(cnt))
	}
	e := h.Hash(poseidon.TagRC, in...)
	return e.BigInt(new(big.Int))
}

func elem(v *big.Int) fr.Element {
	var e fr.Element
	e.SetBigInt(modP(v))
	return e
}

func index(sel []frontend.Variable) int {
	for i, b := range sel {
		if bi(b).Sign() != 0 {
			return i
		}
	}
	return 0
}

// TestS1_PriceLimbShift: one price + 2^63 and its neighbour - 1 packs to the same public word.
func TestS1_PriceLimbShift(t *testing.T) {
	c := mustAssign(t, baseWitness(t))
	p0, p1 := bi(c.Prices[0]), bi(c.Prices[1])
	c.Prices[0] = p0.Add(p0, new(big.Int).Lsh(big.NewInt(1), 63))
	c.Prices[1] = p1.Sub(p1, big.NewInt(1))
	// The word is unchanged: p0 + 2^63 + (p1 - 1) * 2^63 = p0 + p1 * 2^63.
	mustNotSolve(t, c)
}

// TestS2_AmountOf2Pow64 and a price of 2^64 are refused by the range checks.
func TestS2_AmountOf2Pow64(t *testing.T) {
	c := mustAssign(t, baseWitness(t))
	c.Positions[0].Mag = new(big.Int).Lsh(big.NewInt(1), 64)
	c.RC = rawRC(c)
	mustNotSolve(t, c)
}

func TestS2_PriceOf2Pow64(t *testing.T) {
	c := mustAssign(t, baseWitness(t))
	two64 := new(big.Int).Lsh(big.NewInt(1), 64)
	c.Prices[3] = two64
	w := new(big.Int)
	for k := 3; k >= 0; k-- {
		w.Lsh(w, 63)
		w.Add(w, bi(c.Prices[k]))
	}
	c.PriceWords[0] = modP(w)
	mustNotSolve(t, c)
}

// TestS2_NegativeAmountAsPMinus1: a short of 1 unit smuggled as the magnitude p-1 with sign 0.
func TestS2_NegativeAmountAsPMinus1(t *testing.T) {
	c := mustAssign(t, baseWitness(t))
	c.Positions[4].Mag = new(big.Int).Sub(fr.Modulus(), big.NewInt(1))
	c.Positions[4].Neg = 0
	c.RC = rawRC(c)
	mustNotSolve(t, c)
}

// TestS4_PositionClaimsBetterTier: the liquidity buffer fails with the DAI at the illiquid
// venue 1; claiming venue 1 is liquid (in the policy's table) or that the DAI sits at liquid
// venue 3 would pass it, and neither proves: the first changes the policy hash, the second RC.
func TestS4_PositionClaimsBetterTier(t *testing.T) {
	w := baseWitness(t)
	disableAll(w.Policy)
	w.Policy.Liquidity = Liquidity{Enabled: true, FloorBps: 2900, LiquidTiers: []bool{true, false}}
	w.Positions[1].Amount = big.NewInt(0) // no USDC: DAI at venue 1 is the only buffer asset
	w.Positions[5].Amount = big.NewInt(0)
	rep := mustEval(t, w)
	if rep.Pass {
		t.Fatal("fixture: the liquidity buffer should fail")
	}
	better := clone(w)
	better.Policy.Venues[1].Tier = 0
	if r := mustEval(t, better); !r.Pass {
		t.Fatalf("fixture: a liquid venue 1 should pass, fails %v", failing(r))
	}

	c := mustAssign(t, w)
	c.Policy.VenueTier[1] = []frontend.Variable{1, 0} // venue 1 claims the liquid tier
	mustNotSolve(t, c)

	c = mustAssign(t, w)
	c.Positions[3].Venue = []frontend.Variable{0, 0, 0, 1} // the DAI claims liquid venue 3
	mustNotSolve(t, c)
}

// TestL8_SwappedAssetSlots: swapping ETH and WBTC (same precision) in the table the circuit
// values with changes assetsHash, which both the policy hash and LC bind.
func TestL8_SwappedAssetSlots(t *testing.T) {
	c := mustAssign(t, baseWitness(t))
	c.Symbols[aETH], c.Symbols[aWBTC] = c.Symbols[aWBTC], c.Symbols[aETH]
	mustNotSolve(t, c)

	// The same swap made consistently in a whole second witness gives another policy hash and LC:
	// a statement made for one table does not verify for the other.
	w := baseWitness(t)
	sw := clone(w)
	sw.Table = &assets.Table{Assets: append([]assets.Asset(nil), w.Table.Assets...)}
	sw.Table.Assets[aETH], sw.Table.Assets[aWBTC] = sw.Table.Assets[aWBTC], sw.Table.Assets[aETH]
	sw.Policy.AssetsHash = sw.Table.Hash(poseidon.NewHasher())
	h := poseidon.NewHasher()
	a, err := w.Statement(h)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sw.Statement(h)
	if err != nil {
		t.Fatal(err)
	}
	if a.PolicyHash == b.PolicyHash || a.LC == b.LC {
		t.Fatal("swapping asset slots leaves the policy hash or LC unchanged")
	}
	// And a policy bound to another table is refused natively.
	sw.Policy.AssetsHash = w.Policy.AssetsHash
	if _, err := sw.Statement(h); err == nil {
		t.Fatal("a policy whose assetsHash is not the table's was accepted")
	}
}

// rawPolicyHash hashes the policy fields in the assignment without validation (a cheating
// prover's hash), so that only the in-circuit range checks can refuse an out-of-range field.
func rawPolicyHash(t *testing.T, w *Witness) *big.Int {
	t.Helper()
	fs := w.Policy.fields()
	widths := make([]int, len(fs))
	for i, f := range fs {
		widths[i] = f.width
	}
	el, off, n := packLayout(widths)
	acc := make([]*big.Int, n)
	for i := range acc {
		acc[i] = new(big.Int)
	}
	for i, f := range fs {
		acc[el[i]].Add(acc[el[i]], new(big.Int).Lsh(f.v, uint(off[i])))
	}
	in := []fr.Element{w.Policy.AssetsHash}
	for _, a := range acc {
		in = append(in, elem(a))
	}
	e := poseidon.NewHasher().Hash(poseidon.TagPolicy, in...)
	return e.BigInt(new(big.Int))
}

// TestS6_PolicyFieldOutOfRange: a haircut of 10001 bps (and other out-of-range fields) with a
// consistent policy hash does not prove.
func TestS6_PolicyFieldOutOfRange(t *testing.T) {
	cases := []struct {
		name string
		set  func(p *Policy, c *Circuit)
	}{
		{"haircut 10001", func(p *Policy, c *Circuit) { p.Assets[0].HaircutBps = 10001; c.Policy.Haircut[0] = 10001 }},
		{"cap 10001", func(p *Policy, c *Circuit) { p.Assets[0].Cap.Bps = 10001; c.Policy.Cap[0] = 10001 }},
		{"min collateral 9999", func(p *Policy, c *Circuit) { p.MinCollateralBps = 9999; c.Policy.MinCR = 9999 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := baseWitness(t)
			c := mustAssign(t, w)
			tc.set(w.Policy, c)
			if err := w.Policy.Validate(); err == nil {
				t.Fatal("Validate accepted the out-of-range field")
			}
			c.PolicyHash = rawPolicyHash(t, w)
			mustNotSolve(t, c)
		})
	}
	// A shock below -100% would be a negative multiplier: p-1 in the field.
	w := baseWitness(t)
	c := mustAssign(t, w)
	c.Policy.ScenMult[0][0] = new(big.Int).Sub(fr.Modulus(), big.NewInt(1))
	mustNotSolve(t, c)
	// A sign bit of 2 on a Cholesky entry.
	c = mustAssign(t, w)
	c.Policy.LNeg[0] = 2
	mustNotSolve(t, c)
}

// TestL2_LimbShiftedLiabilities: (S_0 - 2^96... ) here S_0 + 2^96 and S_1 - 1 pack to the same
// element, so accFinal and LC are unchanged; the 96-bit range checks refuse it.
func TestL2_LimbShiftedLiabilities(t *testing.T) {
	w := baseWitness(t)
	c := mustAssign(t, w)
	l0, l1 := bi(c.Liabilities[0]), bi(c.Liabilities[1])
	c.Liabilities[0] = modP(l0.Sub(l0, new(big.Int).Lsh(big.NewInt(1), 96))) // S_0 - 2^96: "negative"
	c.Liabilities[1] = l1.Add(l1, big.NewInt(1))
	mustNotSolve(t, c)
	c = mustAssign(t, w)
	l0, l1 = bi(c.Liabilities[0]), bi(c.Liabilities[1])
	c.Liabilities[0] = l0.Add(l0, new(big.Int).Lsh(big.NewInt(1), 96))
	c.Liabilities[1] = modP(l1.Sub(l1, big.NewInt(1)))
	mustNotSolve(t, c)
}

// varCircuit isolates the VaR check for S5.
type varCircuit struct {
	Enabled, Z, Horizon, Surplus, SurQ, SurR frontend.Variable
	L, X, XNeg, XQ, XR                       []frontend.Variable
}

func (c *varCircuit) Define(api frontend.API) error {
	assertVaR(api, varVars{Enabled: c.Enabled, Z: c.Z, Horizon: c.Horizon, L: c.L, Surplus: c.Surplus,
		X: c.X, SurQ: c.SurQ, SurR: c.SurR, XNeg: c.XNeg, XQ: c.XQ, XR: c.XR})
	return nil
}

func newVarCircuit() *varCircuit {
	return &varCircuit{L: vars(3), X: vars(2), XNeg: vars(2), XQ: vars(2), XR: vars(2)}
}

// TestS5_NegativeSurplusZeroRisk: surplus -1 with Q = 0 (no exposure) satisfies
// z^2 Q <= surplus^2 as field arithmetic, and must not prove; whatever SurQ the prover picks.
func TestS5_NegativeSurplusZeroRisk(t *testing.T) {
	minus1 := new(big.Int).Sub(fr.Modulus(), big.NewInt(1))
	k := new(big.Int).Lsh(big.NewInt(BpsOne), CoarseShift)
	q, r := new(big.Int).DivMod(minus1, k, new(big.Int))
	var invalid []frontend.Circuit
	for _, sq := range []*big.Int{big.NewInt(0), q, minus1} {
		w := newVarCircuit()
		w.Enabled, w.Z, w.Horizon, w.Surplus = 1, 23263, 1, minus1
		w.SurQ, w.SurR = sq, new(big.Int).Sub(minus1, new(big.Int).Mul(sq, k))
		w.SurR = modP(w.SurR.(*big.Int))
		w.L = []frontend.Variable{40000, 0, 1000}
		w.X = []frontend.Variable{0, 0}
		w.XNeg = []frontend.Variable{0, 0}
		w.XQ = []frontend.Variable{0, 0}
		w.XR = []frontend.Variable{0, 0}
		invalid = append(invalid, w)
	}
	_ = r
	// Control: surplus 0 with Q = 0 proves.
	w := newVarCircuit()
	w.Enabled, w.Z, w.Horizon, w.Surplus, w.SurQ, w.SurR = 1, 23263, 1, 0, 0, 0
	w.L = []frontend.Variable{40000, 0, 1000}
	w.X, w.XNeg, w.XQ, w.XR = []frontend.Variable{0, 0}, []frontend.Variable{0, 0}, []frontend.Variable{0, 0}, []frontend.Variable{0, 0}
	checkGadget(t, newVarCircuit(), []frontend.Circuit{w}, invalid)
}

// TestS5_ExposureRoundingCannotHide: the prover cannot round a small exposure to zero nor flip
// its sign (XQ = 0 forces XR = 0).
func TestS5_ExposureRoundingCannotHide(t *testing.T) {
	w := newVarCircuit()
	w.Enabled, w.Z, w.Horizon = 1, 23263, 1
	w.Surplus, w.SurQ, w.SurR = 0, 0, 0
	w.L = []frontend.Variable{40000, 0, 1000}
	w.X = []frontend.Variable{5, 0} // 5 fine units of exposure: x must be 1 coarse unit
	w.XNeg = []frontend.Variable{1, 0}
	w.XQ = []frontend.Variable{0, 0}
	w.XR = []frontend.Variable{5, 0} // -(0*2^64 - 5) = 5: the sign-flip trick
	checkGadget(t, newVarCircuit(), nil, []frontend.Circuit{w})
}

// TestP1_ZeroPriceRefused: a zero price would erase the liabilities in that asset.
func TestP1_ZeroPriceRefused(t *testing.T) {
	w := baseWitness(t)
	w.Prices[aDAI] = 0
	if _, err := Evaluate(&w.Inputs); err == nil {
		t.Fatal("the twin accepted a zero price")
	}
	c := mustAssign(t, baseWitness(t))
	c.Prices[aDAI] = 0
	words, err := statement.PackPrices([]uint64{3000_00000000, 1_00000000, 65000_00000000, 0})
	if err != nil {
		t.Fatal(err)
	}
	c.PriceWords[0] = words[0]
	mustNotSolve(t, c)
}
