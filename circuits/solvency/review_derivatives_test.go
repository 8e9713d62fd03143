package solvency

// Adversarial review of the option and pool-share valuation (issue 21). Each test crafts what a
// cheating prover would send and passes when the statement refuses it. Tests whose attack
// succeeds fail, and their messages say what is missing.

import (
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/frontend"

	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// selIndex is the index the circuit derives from a selector, sum i*b_i mod p (what a crafted,
// non-one-hot selector puts into the RC record).
func selIndex(sel []frontend.Variable) *big.Int {
	acc := new(big.Int)
	for i, b := range sel {
		acc.Add(acc, new(big.Int).Mul(big.NewInt(int64(i)), bi(b)))
	}
	return modP(acc)
}

// reviewRC is rawRC with the indices computed as the circuit computes them, so that a crafted
// selector leaves RC consistent and only the selector checks can refuse the witness.
func reviewRC(c *Circuit) *big.Int {
	h := poseidon.NewHasher()
	in := []fr.Element{elem(bi(c.RCSalt))}
	for i := 0; i < len(c.Positions); i += 3 {
		acc := new(big.Int)
		for k := 0; k < 3 && i+k < len(c.Positions); k++ {
			p := c.Positions[i+k]
			rec := bi(p.Mag)
			rec.Add(rec, new(big.Int).Lsh(bi(p.Neg), 64))
			rec.Add(rec, new(big.Int).Lsh(selIndex(p.Asset), 65))
			rec.Add(rec, new(big.Int).Lsh(selIndex(p.Venue), 73))
			acc.Add(acc, new(big.Int).Lsh(rec, uint(81*k)))
		}
		in = append(in, elem(acc))
	}
	for _, o := range c.Options {
		rec := bi(o.Size)
		rec.Add(rec, new(big.Int).Lsh(bi(o.Short), 64))
		rec.Add(rec, new(big.Int).Lsh(bi(o.Put), 65))
		rec.Add(rec, new(big.Int).Lsh(selIndex(o.Asset), 66))
		rec.Add(rec, new(big.Int).Lsh(selIndex(o.Venue), 74))
		rec.Add(rec, new(big.Int).Lsh(bi(o.Strike), 82))
		rec.Add(rec, new(big.Int).Lsh(bi(o.Expiry), 145))
		in = append(in, elem(rec))
	}
	for _, p := range c.Pools {
		rec := bi(p.AmountA)
		rec.Add(rec, new(big.Int).Lsh(bi(p.AmountB), 64))
		rec.Add(rec, new(big.Int).Lsh(selIndex(p.AssetA), 128))
		rec.Add(rec, new(big.Int).Lsh(selIndex(p.AssetB), 136))
		rec.Add(rec, new(big.Int).Lsh(selIndex(p.Venue), 144))
		in = append(in, elem(rec))
	}
	if cnt := SlotCounts(len(c.Positions), len(c.Options), len(c.Pools)); cnt != nil {
		in = append(in, elem(cnt))
	}
	e := h.Hash(poseidon.TagRC, in...)
	return e.BigInt(new(big.Int))
}

// fieldSel is sum b_i * xs_i mod p, the circuit's sel().
func fieldSel(sel []frontend.Variable, xs []*big.Int) *big.Int {
	acc := new(big.Int)
	for i, b := range sel {
		acc.Add(acc, new(big.Int).Mul(bi(b), xs[i]))
	}
	return modP(acc)
}

// nonNeg reports whether a field element is a small non-negative integer (below 2^bits).
func nonNeg(v *big.Int, bits int) bool { return modP(v).BitLen() <= bits }

// fixHints recomputes every derivative hint (intrinsic signs, pool decompositions and roots,
// haircut selector, the charge's ceiling) from the assignment's own values in field arithmetic,
// as a cheating prover would after crafting a selector or a field: then only the check aimed at
// that crafted value can refuse the witness.
func fixHints(c *Circuit, w *Witness) {
	A := len(w.Prices)
	wv, kv := make([]*big.Int, A), make([]*big.Int, A)
	hc, ch := make([]*big.Int, A), make([]*big.Int, A)
	for a := range wv {
		wv[a] = unitValue(w.Prices[a], w.Table.Assets[a].Precision)
		kv[a] = pow10(MaxPrec - int(w.Table.Assets[a].Precision))
		hc[a], ch[a] = bi(c.Policy.Haircut[a]), bi(c.Policy.ShortCharge[a])
	}
	mult := func(si int) []*big.Int {
		out := make([]*big.Int, A)
		for a := range out {
			out[a] = bi(c.Policy.ScenMult[si][a])
		}
		return out
	}
	oc := new(big.Int)
	for j := range c.Options {
		o := &c.Options[j]
		wo, kk := fieldSel(o.Asset, wv), modP(new(big.Int).Mul(bi(o.Strike), fieldSel(o.Asset, kv)))
		dir := func(x *big.Int) *big.Int {
			if bi(o.Put).Sign() != 0 {
				return modP(new(big.Int).Neg(x))
			}
			return modP(x)
		}
		o.ITM = b01(nonNeg(dir(new(big.Int).Sub(wo, kk)), IntrBits))
		for si := range o.ITMS {
			ms := modP(new(big.Int).Mul(fieldSel(o.Asset, mult(si)), wo))
			o.ITMS[si] = b01(nonNeg(dir(new(big.Int).Sub(ms, new(big.Int).Mul(kk, bpsK))), IntrStressBits))
		}
		oc.Add(oc, new(big.Int).Mul(new(big.Int).Mul(bi(o.Short), bi(o.Size)), new(big.Int).Mul(wo, fieldSel(o.Asset, ch))))
	}
	oc = modP(oc)
	mask := maxOf(PoolShift)
	for j := range c.Pools {
		pl := &c.Pools[j]
		va := modP(new(big.Int).Mul(bi(pl.AmountA), fieldSel(pl.AssetA, wv)))
		vb := modP(new(big.Int).Mul(bi(pl.AmountB), fieldSel(pl.AssetB, wv)))
		pl.QA, pl.RA = new(big.Int).Rsh(va, PoolShift), new(big.Int).And(va, mask)
		pl.QB, pl.RB = new(big.Int).Rsh(vb, PoolShift), new(big.Int).And(vb, mask)
		pl.Root = new(big.Int).Sqrt(new(big.Int).Mul(bi(pl.QA), bi(pl.QB)))
		pl.HB = b01(nonNeg(new(big.Int).Sub(fieldSel(pl.AssetB, hc), fieldSel(pl.AssetA, hc)), BpsBits))
		for si := range pl.RootS {
			pl.RootS[si] = new(big.Int).Sqrt(modP(new(big.Int).Mul(fieldSel(pl.AssetA, mult(si)), fieldSel(pl.AssetB, mult(si)))))
		}
	}
	q := new(big.Int).Add(oc, big.NewInt(BpsOne-1))
	q.Quo(q, bpsK)
	c.ChargeQ, c.ChargeR = q, new(big.Int).Sub(new(big.Int).Mul(q, bpsK), oc)
}

// reviewRCControl fails the test when reviewRC no longer recomputes the honest RC (the RC format
// changed): the crafted witnesses would then be refused for their RC alone, proving nothing.
func reviewRCControl(t *testing.T, w *Witness) {
	t.Helper()
	c := mustAssign(t, w)
	if reviewRC(c).Cmp(bi(c.RC)) != 0 {
		t.Fatal("reviewRC does not recompute the honest RC: update it to the RC format")
	}
}

// reviewFixture is the put spread and pool share of derivWitness with the long put in the
// money (strike 3500, ETH at 3000) and only collateral, stress and the bounds enabled, so that a
// flattering hint has value to gain. It passes.
func reviewFixture(t *testing.T) *Witness {
	t.Helper()
	w := derivWitness(t)
	relax(w.Policy)
	w.Options[0].Strike = 3500_00000000
	mustPass(t, w)
	return w
}

// TestS3_ReviewNonBooleanSignHintsRefused: the intrinsic is s*d with s a hinted sign. A hint of
// 2 doubles an in-the-money long's intrinsic ((2s-1)*d = 3d still fits the range), and a hint
// of p-1 ("-1") turns an out-of-the-money long's negative difference into a positive value
// ((2s-1)*d = -3d >= 0). Only the boolean check on the hint refuses either, at the oracle price
// and in a scenario; likewise the pool's haircut selector.
func TestS3_ReviewNonBooleanSignHintsRefused(t *testing.T) {
	w := reviewFixture(t)
	c := mustAssign(t, w)
	if bi(c.Options[0].ITM).Int64() != 1 || bi(c.Options[1].ITM).Int64() != 0 {
		t.Fatal("fixture: the long put is in the money, the short put out of it")
	}
	for _, s := range []*big.Int{big.NewInt(2), modP(big.NewInt(-1))} {
		c = mustAssign(t, w)
		c.Options[0].ITM = s // doubles (2) or negates (-1) the long's intrinsic
		mustNotSolve(t, c)
		c = mustAssign(t, w)
		c.Options[0].ITMS[1] = s // scenario 1 leaves ETH unshocked: in the money there too
		mustNotSolve(t, c)
	}
	// An out-of-the-money long (the 2400 put flipped to long) with the hint "-1": its value
	// would be |d| = 600 USD per ETH.
	w2 := clone(w)
	w2.Options[1].Short = false
	c = mustAssign(t, w2)
	if bi(c.Options[1].ITM).Sign() != 0 {
		t.Fatal("fixture: the 2400 put is out of the money")
	}
	c.Options[1].ITM = modP(big.NewInt(-1))
	mustNotSolve(t, c)
	// The pool's haircut selector: "-1" with ha > hb gives max = 2ha - hb, 2 gives 2hb - ha.
	c = mustAssign(t, w)
	c.Pools[0].HB = 2
	mustNotSolve(t, c)
}

// TestS2_ReviewNegativeStrikeLongCallRefused: a long call with strike "-K" (p - K) would have
// intrinsic w + K*k, above the underlying itself; and a strike of 2^63 (one past the bound). RC
// is recomputed over each raw record; only the strike's range check can refuse.
func TestS2_ReviewNegativeStrikeLongCallRefused(t *testing.T) {
	w := reviewFixture(t)
	reviewRCControl(t, w)
	for _, k := range []*big.Int{modP(big.NewInt(-1000_00000000)), pow2(StrikeBits)} {
		c := mustAssign(t, w)
		o := &c.Options[0]
		o.Put = 0
		o.Strike = k
		fixHints(c, w)
		c.RC = reviewRC(c)
		mustNotSolve(t, c)
	}
}

// TestS2_ReviewExpiryPastBoundRefused: the expiry takes no part in the valuation, but it is a
// field of the RC record: 2^64 or p-1 would let one record alias another. RC recomputed.
func TestS2_ReviewExpiryPastBoundRefused(t *testing.T) {
	w := reviewFixture(t)
	reviewRCControl(t, w)
	for _, e := range []*big.Int{pow2(ExpiryBits), modP(big.NewInt(-1))} {
		c := mustAssign(t, w)
		c.Options[0].Expiry = e
		c.RC = reviewRC(c)
		mustNotSolve(t, c)
	}
}

// TestS4_ReviewDerivativeSelectorsOneHot: an option or pool slot cannot name a mixture of
// assets or venues. A long zero-strike call on "2*ETH - USDC" (selector (2, p-1, 0, 0): sum 1,
// not boolean) would be valued at nearly twice ETH's price; a pool leg on no asset or on two; a venue
// selector with two ones. RC is recomputed with the index the circuit derives.
func TestS4_ReviewDerivativeSelectorsOneHot(t *testing.T) {
	w := reviewFixture(t)
	c := mustAssign(t, w)
	fixHints(c, w)
	if err := solve(t, c); err != nil || reviewRC(c).Cmp(bi(c.RC)) != 0 {
		t.Fatalf("control: honest witness with recomputed hints %v, RC recomputed equal: %v", err, reviewRC(c).Cmp(bi(c.RC)) == 0)
	}
	mix := []frontend.Variable{2, modP(big.NewInt(-1)), 0, 0}
	cases := []func(c *Circuit){
		func(c *Circuit) { c.Options[0].Put, c.Options[0].Strike = 0, 0; c.Options[0].Asset = mix },
		func(c *Circuit) { c.Options[0].Venue = []frontend.Variable{1, 1, 0, 0} },
		func(c *Circuit) { c.Options[0].Asset = []frontend.Variable{0, 0, 0, 0} },
		func(c *Circuit) { c.Pools[0].AssetA = []frontend.Variable{0, 0, 0, 0} },
		func(c *Circuit) { c.Pools[0].AssetB = mix },
		func(c *Circuit) { c.Pools[0].Venue = []frontend.Variable{0, 1, 1, 0} },
	}
	for i, f := range cases {
		c := mustAssign(t, w)
		f(c)
		fixHints(c, w)
		c.RC = reviewRC(c)
		if err := solve(t, c); err == nil {
			t.Fatalf("case %d: a non-one-hot derivative selector satisfies the R1CS", i)
		}
		if err := engineSolve(testShape, c); err == nil {
			t.Fatalf("case %d: a non-one-hot derivative selector satisfies the test engine", i)
		}
	}
}

// TestS3_ReviewPoolStressRootAboveIsqrtRefused: in every enabled scenario the pool share's
// shocked value uses isqrt(mA*mB); a root one above it (or the unshocked 1e4 in the ETH -40%
// scenario, which would skip the impermanent loss) does not prove.
func TestS3_ReviewPoolStressRootAboveIsqrtRefused(t *testing.T) {
	w := reviewFixture(t)
	c := mustAssign(t, w)
	honest := bi(c.Pools[0].RootS[0])
	// ETH -40%, USDC flat: sqrt(6000 * 10000) = 7745.
	if honest.Int64() != 7745 {
		t.Fatalf("fixture: scenario 0's multiplier root is %s", honest)
	}
	for _, r := range []*big.Int{new(big.Int).Add(honest, big.NewInt(1)), big.NewInt(BpsOne)} {
		c = mustAssign(t, w)
		c.Pools[0].RootS[0] = r
		mustNotSolve(t, c)
	}
}

// TestS2_ReviewShortChargeCeilingCannotFloor: the short charge enters net reserves as
// ceil(OC/1e4) with OC + R = Q*1e4. Taking Q one lower needs R = R_honest - 1e4 (negative, so it
// wraps above 2^14): refused. (R <= 9999 only makes the ceiling exact; a larger R could only
// raise Q, against the prover.)
func TestS2_ReviewShortChargeCeilingCannotFloor(t *testing.T) {
	w := reviewFixture(t)
	// Every unit value of the test table is a multiple of 1e4 (precisions <= 8, round prices), so
	// the charge is too. DAI at precision 18 and 0.99990001 USD, shorted as a put of 1 DAI + 1
	// wei (charge 100 bps), leaves a remainder.
	tb := testTable()
	tb.Assets[aDAI].Precision = 18
	w.Table = tb
	w.Policy.AssetsHash = tb.Hash(poseidon.NewHasher())
	w.Prices[aDAI] = 99990001
	w.Options[1] = OptionPosition{Venue: 0, Asset: aDAI, Put: true, Short: true, Strike: 50000000, Expiry: 1803456000,
		Size: new(big.Int).Add(pow10(18), big.NewInt(1))}
	mustPass(t, w)
	c := mustAssign(t, w)
	q, r := bi(c.ChargeQ), bi(c.ChargeR)
	if r.Sign() == 0 {
		t.Fatal("fixture: the charge is a multiple of 1e4; the ceiling is not exercised")
	}
	c.ChargeQ = new(big.Int).Sub(q, big.NewInt(1))
	c.ChargeR = modP(new(big.Int).Sub(r, bpsK))
	mustNotSolve(t, c)
	// Two lower: R = R_honest - 2e4, wrapping too.
	c = mustAssign(t, w)
	c.ChargeQ = new(big.Int).Sub(q, big.NewInt(2))
	c.ChargeR = modP(new(big.Int).Sub(r, big.NewInt(2*BpsOne)))
	mustNotSolve(t, c)
}

// TestS3_ReviewOffsettingOptionPairNeverFlatters: a treasury that fails collateral, plus a long
// and a short option of the same terms (deep in the money, at venues of different groups),
// still does not prove with any choice of the intrinsic hints.
func TestS3_ReviewOffsettingOptionPairNeverFlatters(t *testing.T) {
	w := baseWitness(t)
	relax(w.Policy)
	w.Policy.Derivatives.ShortChargeBps = make([]uint32, len(w.Policy.Assets)) // no charge: the pair's cost is only the haircut spread
	// Liabilities raised until collateral fails.
	w.Liabilities[aUSDC] = new(big.Int).Add(w.Liabilities[aUSDC], tok(1000000, 6))
	mustFailOnly(t, mustEval(t, w), KindCollateral, KindStress)
	long := OptionPosition{Venue: 0, Asset: aETH, Strike: 1000_00000000, Expiry: 1803456000, Size: tok(500, 8)}
	short := long
	short.Venue, short.Short, short.Size = 1, true, tok(500, 8)
	w.Options = []OptionPosition{long, short}
	r := mustEval(t, w)
	if r.Pass {
		t.Fatal("the twin passes a failing treasury once an offsetting pair is added")
	}
	c := mustAssign(t, w)
	mustNotSolve(t, c)
	for _, s := range [][2]int{{1, 0}, {0, 0}, {1, 1}} { // long in, short out; both out; both in (honest)
		c = mustAssign(t, w)
		c.Options[0].ITM, c.Options[1].ITM = s[0], s[1]
		for si := range c.Options[1].ITMS {
			c.Options[1].ITMS[si] = s[1]
		}
		mustNotSolve(t, c)
	}
}

// TestS3_ReviewLongPutGroupGrossCoversClaim: a venue group's cap bounds what the treasury has at
// that group's venues (S3: gross exposure in the numerator). A long put deep in the money is a
// claim on its venue worth size*(K*k - w), which can far exceed size*w. Treasury A holds 970,000
// USDC extra at venue 0 and fails group 0's cap; treasury B holds instead a long put at venue 0
// worth exactly 970,000 USD (10 ETH, strike 100,000, ETH at 3000). Both have the same net
// reserves and the same claim on venue 0, so B must fail the cap too.
func TestS3_ReviewLongPutGroupGrossCoversClaim(t *testing.T) {
	base := baseWitness(t)
	relax(base.Policy)
	base.Policy.GroupCaps[0] = Cap{Enabled: true, Bps: 5000}
	a := clone(base)
	a.Positions = append(a.Positions, Position{Venue: 0, Asset: aUSDC, Amount: tok(970000, 6)})
	ra := mustEval(t, a)
	mustFailOnly(t, ra, KindGroupCap)
	b := clone(base)
	b.Options = []OptionPosition{{Venue: 0, Asset: aETH, Put: true, Strike: 100000_00000000, Expiry: 1803456000, Size: tok(10, 8)}}
	rb := mustEval(t, b)
	if ra.NetReserves.Cmp(rb.NetReserves) != 0 {
		t.Fatalf("fixture: net reserves differ: %s vs %s", FormatFine(ra.NetReserves), FormatFine(rb.NetReserves))
	}
	var ha, hb *big.Int
	for i := range ra.Limits {
		if ra.Limits[i].ID == "cap/group/0" {
			ha, hb = ra.Limits[i].Headroom, rb.Limits[i].Headroom
		}
	}
	if hb.Cmp(ha) > 0 {
		t.Errorf("S3: a 970,000 USD claim on venue 0 held as a long put adds only size*w = 30,000 USD to group 0's gross "+
			"(headroom %s vs %s as USDC): the group cap is flattered", hb, ha)
	}
	if rb.Pass {
		if err := solve(t, mustAssign(t, b)); err == nil {
			t.Error("S3: the circuit proves treasury B (group 0 cap passes with the claim held as a long put)")
		}
	}
}

// TestR1_ReviewOneRCOneOpening: RC is the hash of the records in order, options then pools, with
// the slot counts taken from the shape. The verifier reads those counts from the opening, so
// the record split must be bound by RC itself: otherwise one RC has two openings. Here the
// padding option at the boundary re-read as a padding pool gives the same RC; and a pool
// share's record re-read as a third option record (a short put, expiry 0) does too, so an
// auditor handed that opening sees a short option where the proof valued a pool share.
func TestR1_ReviewOneRCOneOpening(t *testing.T) {
	h := poseidon.NewHasher()
	w := derivWitness(t)
	pos, _ := w.padded()
	o1 := w.Options[0]
	zeroO := OptionPosition{Size: new(big.Int)}
	zeroP := PoolPosition{AmountA: new(big.Int), AmountB: new(big.Int)}
	pl := w.Pools[0]
	rc := func(opts []OptionPosition, pools []PoolPosition) fr.Element {
		t.Helper()
		e, err := ReservesCommitmentAll(h, pos, opts, pools, w.RCSalt)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	// (2 option slots, 1 pool slot) against (1, 2).
	if x, y := rc([]OptionPosition{o1, zeroO}, []PoolPosition{pl}), rc([]OptionPosition{o1}, []PoolPosition{zeroP, pl}); x == y {
		t.Error("R1: one RC opens as 2 option slots and 1 pool slot, and as 1 and 2")
	}
	// A pool record whose amount B is chosen so that it decodes as a short put (asset 0, venue
	// 2), about 30,000.6 USDC.
	y := new(big.Int).Lsh(big.NewInt(114441), 18)
	y.Or(y, big.NewInt(2<<10|1<<1|1))
	pl.AmountB = y
	pr, err := PoolRecord(pl)
	if err != nil {
		t.Fatal(err)
	}
	asOpt := OptionPosition{Size: new(big.Int).Set(pl.AmountA), Short: true, Put: true, Asset: 0, Venue: 2,
		Strike: new(big.Int).Rsh(pr, 82).Uint64() & (1<<StrikeBits - 1), Expiry: new(big.Int).Rsh(pr, 145).Uint64()}
	or, err := OptionRecord(asOpt)
	if err != nil {
		t.Fatal(err)
	}
	if or.Cmp(pr) != 0 {
		t.Fatalf("fixture: the pool record %x does not decode as the option %x", pr, or)
	}
	o2 := w.Options[1]
	if x, z := rc([]OptionPosition{o1, o2}, []PoolPosition{pl}), rc([]OptionPosition{o1, o2, asOpt}, nil); x == z {
		t.Error("R1: one RC opens as (2 options, 1 pool share) and as (3 options, no pool share): a pool share reads as a short put")
	}
}

// TestS2_ExpiredOptionRefused: an option slot with a non-zero size must expire after the
// statement's snapshot time (the engine settles expired options into positions first; an
// expired option valued at its intrinsic would count a payoff already due as a live claim).
// The witness builder refuses it, and a crafted assignment with RC recomputed does not solve
// at the snapshot time, one second before it, or at expiry 0; one second after it does.
func TestS2_ExpiredOptionRefused(t *testing.T) {
	w := reviewFixture(t)
	reviewRCControl(t, w)
	snap := w.Meta.SnapshotTime
	for _, e := range []uint64{0, snap - 1, snap} {
		w2 := clone(w)
		w2.Options = append([]OptionPosition(nil), w.Options...)
		w2.Options[0].Expiry = e
		if _, err := Assign(poseidon.NewHasher(), w2); err == nil {
			t.Fatalf("expiry %d (snapshot %d): the witness builder accepts an expired option", e, snap)
		}
		c := mustAssign(t, w)
		c.Options[0].Expiry = e
		c.RC = reviewRC(c)
		mustNotSolve(t, c)
	}
	w2 := clone(w)
	w2.Options = append([]OptionPosition(nil), w.Options...)
	w2.Options[0].Expiry = snap + 1
	mustPass(t, w2)
}

// TestR1_NonCanonicalZeroDerivativeSlotRefused: an empty option slot (size 0) or pool slot
// (both amounts 0) has one encoding, every other field zero (assets and venue index 0), like a
// zero position's sign. Otherwise one portfolio would have several RCs, and an opening could
// show an empty slot with made-up terms. Each field set alone on an empty slot (RC recomputed,
// hints recomputed) does not solve; the record encoders and the twin refuse it too.
func TestR1_NonCanonicalZeroDerivativeSlotRefused(t *testing.T) {
	w := reviewFixture(t)
	w.Options[1] = OptionPosition{Size: new(big.Int)}
	w.Pools[0] = PoolPosition{AmountA: new(big.Int), AmountB: new(big.Int)}
	mustPass(t, w)
	reviewRCControl(t, w)
	A, V := len(w.Prices), len(w.Policy.Venues)
	oneAt := func(n, i int) []frontend.Variable {
		s := make([]frontend.Variable, n)
		for k := range s {
			s[k] = b01(k == i)
		}
		return s
	}
	cases := map[string]func(c *Circuit){
		"option short":  func(c *Circuit) { c.Options[1].Short = 1 },
		"option put":    func(c *Circuit) { c.Options[1].Put = 1 },
		"option strike": func(c *Circuit) { c.Options[1].Strike = 2400_00000000 },
		"option expiry": func(c *Circuit) { c.Options[1].Expiry = 1803456000 },
		"option asset":  func(c *Circuit) { c.Options[1].Asset = oneAt(A, 1) },
		"option venue":  func(c *Circuit) { c.Options[1].Venue = oneAt(V, 2) },
		"pool asset A":  func(c *Circuit) { c.Pools[0].AssetA = oneAt(A, 1) },
		"pool asset B":  func(c *Circuit) { c.Pools[0].AssetB = oneAt(A, 1) },
		"pool venue":    func(c *Circuit) { c.Pools[0].Venue = oneAt(V, 1) },
	}
	for name, f := range cases {
		c := mustAssign(t, w)
		f(c)
		fixHints(c, w)
		c.RC = reviewRC(c)
		if err := solve(t, c); err == nil {
			t.Errorf("%s set on an empty slot: the R1CS is satisfied", name)
		}
		if err := engineSolve(testShape, c); err == nil {
			t.Errorf("%s set on an empty slot: the test engine is satisfied", name)
		}
	}
	for _, o := range []OptionPosition{{Put: true}, {Strike: 1}, {Expiry: 1}, {Asset: 1}, {Venue: 1}} {
		o.Size = new(big.Int)
		if _, err := OptionRecord(o); err == nil {
			t.Errorf("OptionRecord encodes the empty option %+v", o)
		}
		w2 := clone(w)
		w2.Options = []OptionPosition{w.Options[0], o}
		if _, err := Evaluate(&w2.Inputs); err == nil {
			t.Errorf("the twin accepts the empty option %+v", o)
		}
	}
	for _, p := range []PoolPosition{{AssetA: 1}, {AssetB: 1}, {Venue: 1}} {
		p.AmountA, p.AmountB = new(big.Int), new(big.Int)
		if _, err := PoolRecord(p); err == nil {
			t.Errorf("PoolRecord encodes the empty pool share %+v", p)
		}
	}
	// One amount zero is a (worthless) pool share, not padding: its assets stand.
	if _, err := PoolRecord(PoolPosition{AssetA: 1, AssetB: 2, Venue: 1, AmountA: big.NewInt(5), AmountB: new(big.Int)}); err != nil {
		t.Errorf("a pool share with one amount zero: %v", err)
	}
}
