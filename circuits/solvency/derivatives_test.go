package solvency

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// derivWitness is the base treasury plus an ETH put spread (long 2800 put, short 2400 put, 20 ETH
// each, a tail hedge) and an ETH/USDC pool share (10 ETH and 30,000 USDC) at venue 0. It passes.
func derivWitness(t testing.TB) *Witness {
	t.Helper()
	w := baseWitness(t)
	w.Options = []OptionPosition{
		{Venue: 2, Asset: aETH, Put: true, Strike: 2800_00000000, Expiry: 1803456000, Size: tok(20, 8)},
		{Venue: 2, Asset: aETH, Put: true, Short: true, Strike: 2400_00000000, Expiry: 1803456000, Size: tok(20, 8)},
	}
	w.Pools = []PoolPosition{{Venue: 0, AssetA: aETH, AssetB: aUSDC, AmountA: tok(10, 8), AmountB: tok(30000, 6)}}
	return w
}

// relax disables every limit but collateral and the stress scenarios (and the completeness
// bounds), so a test can show that one of those alone decides.
func relax(p *Policy) {
	for a := range p.Assets {
		p.Assets[a].InKind, p.Assets[a].Cap = false, Cap{}
	}
	for g := range p.GroupCaps {
		p.GroupCaps[g] = Cap{}
	}
	for k := range p.Targets {
		p.Targets[k] = Target{Assets: make([]bool, len(p.Assets))}
	}
	p.Liquidity = Liquidity{LiquidTiers: p.Liquidity.LiquidTiers}
	p.VaR = VaR{L: p.VaR.L}
	for i := range p.VaR.L {
		p.VaR.L[i] = make([]int64, i+1)
	}
}

func mustPass(t *testing.T, w *Witness) *Report {
	t.Helper()
	r := mustEval(t, w)
	if !r.Pass {
		t.Fatalf("fixture fails %v", failing(r))
	}
	if err := solve(t, mustAssign(t, w)); err != nil {
		t.Fatalf("passing treasury does not solve: %v", err)
	}
	return r
}

func mustFailOnly(t *testing.T, r *Report, kinds ...string) {
	t.Helper()
	if r.Pass {
		t.Fatal("fixture passes; want it to fail")
	}
	for _, l := range r.Limits {
		if l.Pass {
			continue
		}
		ok := false
		for _, k := range kinds {
			ok = ok || l.Kind == k
		}
		if !ok {
			t.Fatalf("fixture fails %s, want only %v", l.ID, kinds)
		}
	}
}

// TestDerivativesValidWitnessSolves: the put spread and the pool share solve in the R1CS and in
// gnark's test engine, and the twin's values are the documented bounds.
func TestDerivativesValidWitnessSolves(t *testing.T) {
	w := derivWitness(t)
	r := mustPass(t, w)
	if err := engineSolve(testShape, mustAssign(t, w)); err != nil {
		t.Fatal(err)
	}
	// Price 3000 > both strikes: both puts are out of the money, intrinsic 0.
	if r.OptionsLong.Sign() != 0 {
		t.Fatalf("long puts OTM valued %s", r.OptionsLong)
	}
	// The short put carries only its charge: 20 ETH * 3000 USD * 15% = 9000 USD.
	if want := new(big.Int).Mul(big.NewInt(9000), pow10(FineDigits)); r.OptionsShort.Cmp(want) != 0 {
		t.Fatalf("short put liability %s, want %s", FormatFine(r.OptionsShort), FormatFine(want))
	}
	// Pool: 2*sqrt(30000*30000) = 60000 USD, less the coarse flooring (below 1e-6 USD).
	want := new(big.Int).Mul(big.NewInt(60000), pow10(FineDigits))
	gap := new(big.Int).Sub(want, r.PoolShares)
	if gap.Sign() < 0 || gap.Cmp(pow10(FineDigits-6)) > 0 {
		t.Fatalf("pool share valued %s, want 60000 less under 1e-6", r.PoolShares)
	}
}

// TestS3_ShortOptionBelowIntrinsicRefused: a short call deep in the money makes collateral fail;
// without it the treasury passes. A prover that values the short at zero (the in-the-money hint
// flipped, so the intrinsic computes to 0) does not prove.
func TestS3_ShortOptionBelowIntrinsicRefused(t *testing.T) {
	w := baseWitness(t)
	mustPass(t, w)
	w.OptionSlots = testShape.Options
	w.Options = []OptionPosition{{Venue: 0, Asset: aETH, Short: true, Strike: 1000_00000000, Expiry: 1803456000, Size: tok(300, 8)}}
	mustFailOnly(t, mustEval(t, w), KindCollateral, KindLiquidity, KindStress, KindVaR, KindAssetCap, KindGroupCap)
	c := mustAssign(t, w)
	if bi(c.Options[0].ITM).Int64() != 1 {
		t.Fatal("the short call is in the money")
	}
	c.Options[0].ITM = 0
	mustNotSolve(t, c)
	// Also with every scenario's hint flipped: the short cannot dodge its shocked value either.
	for si := range c.Options[0].ITMS {
		c.Options[0].ITMS[si] = 0
	}
	mustNotSolve(t, c)
}

// TestS3_LongOptionAboveBoundRefused: a long put far out of the money is worth nothing in the
// statement; claiming it in the money (so that the "intrinsic" is the negative difference,
// which in the field is a huge value) does not prove, at the oracle price or in a scenario.
func TestS3_LongOptionAboveBoundRefused(t *testing.T) {
	w := derivWitness(t)
	mustPass(t, w)
	w.Options[0].Strike = 100_00000000 // a 100 USD put on ETH at 3000: OTM now and under -40%
	mustPass(t, w)
	c := mustAssign(t, w)
	if bi(c.Options[0].ITM).Sign() != 0 || bi(c.Options[0].ITMS[0]).Sign() != 0 {
		t.Fatal("the long put is out of the money")
	}
	c.Options[0].ITM = 1
	mustNotSolve(t, c)
	c = mustAssign(t, w)
	c.Options[0].ITMS[0] = 1
	mustNotSolve(t, c)
}

// TestS3_PoolShareAtNonOraclePriceRefused: an unbalanced pool (100 ETH and 30,000 USDC: its own
// price is 300 USD per ETH) is worth 2*sqrt(300,000 * 30,000) ~ 189,737 USD at the oracle price,
// far less than its legs valued one by one (330,000 USD). With liabilities that pass only at the
// legs' sum, no root the prover can choose proves: not the one the legs' sum needs, nor one
// above the integer square root.
func TestS3_PoolShareAtNonOraclePriceRefused(t *testing.T) {
	w := baseWitness(t)
	relax(w.Policy)
	w.Policy.Scenarios = []Scenario{{ShockBps: make([]int32, 4)}, {ShockBps: make([]int32, 4)}}
	w.Pools = []PoolPosition{{Venue: 0, AssetA: aETH, AssetB: aUSDC, AmountA: tok(100, 8), AmountB: tok(30000, 6)}}
	base := mustPass(t, w)
	// Raise USDC liabilities until collateral fails at the sqrt value but would pass at x*pa+y*pb.
	legs := new(big.Int).Mul(big.NewInt(330000), pow10(FineDigits))
	sqrtV := base.PoolShares
	// The collateral headroom (bps-scaled) with the pool at sqrt value.
	head := base.Limits[5].Headroom // collateral is the sixth limit: five bounds, then it
	if base.Limits[5].ID != "collateral" {
		t.Fatalf("limit 5 is %s", base.Limits[5].ID)
	}
	// Extra value the legs' sum would add at (1e4 - 1500): (legs - sqrtV) * 8500.
	extra := new(big.Int).Mul(new(big.Int).Sub(legs, sqrtV), big.NewInt(8500))
	// Liabilities of USDC (unit value w = 1e8 * 1e12 = 1e20 fine per unit) raised by an amount
	// whose weighted value lies between head and head + extra.
	wU := unitValue(w.Prices[aUSDC], 6)
	k := new(big.Int).Mul(wU, big.NewInt(int64(w.Policy.MinCollateralBps)))
	mid := new(big.Int).Add(head, new(big.Int).Rsh(extra, 1))
	addUnits := new(big.Int).Quo(mid, k)
	w.Liabilities[aUSDC].Add(w.Liabilities[aUSDC], addUnits)
	r := mustEval(t, w)
	mustFailOnly(t, r, KindCollateral)
	// Control: the same liabilities against the legs' sum would pass collateral.
	if new(big.Int).Add(r.Limits[5].Headroom, extra).Sign() < 0 {
		t.Fatal("fixture: the legs' sum would not pass either")
	}
	c := mustAssign(t, w)
	honest := bi(c.Pools[0].Root)
	// The root the legs' sum needs: value = 2^65 * root = legs.
	c.Pools[0].Root = new(big.Int).Rsh(legs, PoolShift+1)
	mustNotSolve(t, c)
	// And any root just above the integer square root.
	c.Pools[0].Root = new(big.Int).Add(honest, big.NewInt(1))
	mustNotSolve(t, c)
	// A flattering decomposition of a leg (coarse part raised, remainder "negative").
	c = mustAssign(t, w)
	c.Pools[0].QA = new(big.Int).Add(bi(c.Pools[0].QA), big.NewInt(1000))
	c.Pools[0].RA = modP(new(big.Int).Sub(bi(c.Pools[0].RA), new(big.Int).Lsh(big.NewInt(1000), PoolShift)))
	c.Pools[0].Root = new(big.Int).Sqrt(new(big.Int).Mul(bi(c.Pools[0].QA), bi(c.Pools[0].QB)))
	mustNotSolve(t, c)
}

// TestS3_PoolShareSmallerHaircutRefused: a pool share is haircut by the larger of its assets'
// haircuts; a hint choosing the smaller one does not prove.
func TestS3_PoolShareSmallerHaircutRefused(t *testing.T) {
	w := derivWitness(t)
	c := mustAssign(t, w)
	if bi(c.Pools[0].HB).Sign() != 0 {
		t.Fatal("ETH's haircut (A) is the larger")
	}
	c.Pools[0].HB = 1
	mustNotSolve(t, c)
}

// TestS3_StressNeedsOptionRevaluation: a short put out of the money today (strike 2500, ETH at
// 3000) goes deep into the money in scenario 0 (ETH -40%, 1800). Collateral passes; only the
// revalued scenario fails. A prover that skips the revaluation (the scenario's hint flipped, so
// the short's shocked intrinsic is 0, as at today's price) does not prove.
func TestS3_StressNeedsOptionRevaluation(t *testing.T) {
	w := baseWitness(t)
	relax(w.Policy)
	mustPass(t, w)
	w.Options = []OptionPosition{{Venue: 0, Asset: aETH, Put: true, Short: true, Strike: 2500_00000000, Expiry: 1803456000, Size: tok(2000, 8)}}
	w.Policy.Derivatives.ShortChargeBps[aETH] = 0
	r := mustEval(t, w)
	mustFailOnly(t, r, KindStress)
	c := mustAssign(t, w)
	if bi(c.Options[0].ITM).Sign() != 0 || bi(c.Options[0].ITMS[0]).Int64() != 1 {
		t.Fatal("the short put is OTM now and ITM in scenario 0")
	}
	c.Options[0].ITMS[0] = 0
	mustNotSolve(t, c)
}

// TestS2_NegativeZeroOptionRefused: an option slot of size 0 flagged short, with RC recomputed
// over that record, does not prove (a second encoding of the empty slot).
func TestS2_NegativeZeroOptionRefused(t *testing.T) {
	w := derivWitness(t)
	w.Options = w.Options[:1]
	c := mustAssign(t, w)
	if rawRC(c).Cmp(bi(c.RC)) != 0 {
		t.Fatal("rawRC differs from the assigned RC")
	}
	if err := solve(t, c); err != nil {
		t.Fatal(err)
	}
	c.Options[1].Short = 1 // the padding slot, size 0
	c.RC = rawRC(c)
	mustNotSolve(t, c)
	if _, err := Evaluate(&Inputs{Table: w.Table, Policy: w.Policy, Prices: w.Prices, Liabilities: w.Liabilities,
		Options: []OptionPosition{{Short: true, Size: new(big.Int)}}}); err == nil {
		t.Fatal("the twin accepts a short option of size 0")
	}
}

// TestS2_DerivativeSizesPastBoundRefused: an option size or a pool amount of 2^64 (one past the
// bound) or a "negative" one (p - 1), with RC and the pool's hints recomputed, does not prove;
// the twin refuses them as input.
func TestS2_DerivativeSizesPastBoundRefused(t *testing.T) {
	w := derivWitness(t)
	for _, v := range []*big.Int{pow2(MagBits), modP(big.NewInt(-1))} {
		c := mustAssign(t, w)
		c.Options[0].Size = v
		c.RC = rawRC(c)
		mustNotSolve(t, c)

		c = mustAssign(t, w)
		pl := &c.Pools[0]
		pl.AmountA = v
		va := new(big.Int).Mul(v, unitValue(w.Prices[aETH], 8))
		va = modP(va)
		pl.QA, pl.RA = new(big.Int).Rsh(va, PoolShift), new(big.Int).And(va, maxOf(PoolShift))
		pl.Root = new(big.Int).Sqrt(new(big.Int).Mul(bi(pl.QA), bi(pl.QB)))
		c.RC = rawRC(c)
		mustNotSolve(t, c)
	}
	bad := clone(w)
	bad.Options[0].Size = pow2(MagBits)
	if _, err := Evaluate(&bad.Inputs); err == nil {
		t.Fatal("the twin accepts an option size of 2^64")
	}
	bad = clone(w)
	bad.Pools[0].AmountB = big.NewInt(-1)
	if _, err := Evaluate(&bad.Inputs); err == nil {
		t.Fatal("the twin accepts a negative pool amount")
	}
}

// TestS3_OffsettingOptionPairNeverHelps: adding a long and a short option of the same terms
// never raises any limit's headroom (the long counts at 1e4-h, the short at 1e4+h plus the
// charge, in every scenario), so it never turns a failing limit into a passing one.
func TestS3_OffsettingOptionPairNeverHelps(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for i := 0; i < 300; i++ {
		w := randomWitness(rng, testShape.Positions)
		w.Options = w.Options[:0]
		before := mustEval(t, w)
		a := rng.IntN(len(w.Prices))
		size := big.NewInt(1 + rng.Int64N(1<<40))
		o := OptionPosition{Venue: rng.IntN(testShape.Venues), Asset: a, Put: rng.IntN(2) == 0,
			Strike: w.Prices[a] / 100 * uint64(50+rng.IntN(101)), Size: size}
		s := o
		s.Short, s.Venue, s.Size = true, rng.IntN(testShape.Venues), new(big.Int).Set(size)
		w.Options = append(w.Options, o, s)
		after := mustEval(t, w)
		for k, l := range before.Limits {
			m := after.Limits[k]
			if m.ID != l.ID {
				t.Fatalf("limit lists differ: %s vs %s", l.ID, m.ID)
			}
			if m.Headroom.Cmp(l.Headroom) > 0 {
				t.Fatalf("case %d: the pair raises %s headroom from %s to %s", i, l.ID, l.Headroom, m.Headroom)
			}
		}
	}
}

// TestS3_DerivativesCircuitMatchesTwin: random treasuries that always hold options and a pool
// share, most pushed to the exact point where the report flips by moving an option's size or
// strike or a pool amount: the circuit is satisfiable exactly when the twin passes.
func TestS3_DerivativesCircuitMatchesTwin(t *testing.T) {
	n := 600
	if testing.Short() {
		n = 120
	}
	rng := rand.New(rand.NewPCG(23, 24))
	var passes, fails, boundary int
	kinds := map[string]int{} // failing limit kinds of the boundary cases
	for i := 0; i < n; i++ {
		w := randomWitness(rng, testShape.Positions)
		for len(w.Options) < testShape.Options {
			a := rng.IntN(len(w.Prices))
			w.Options = append(w.Options, OptionPosition{Venue: rng.IntN(testShape.Venues), Asset: a, Put: rng.IntN(2) == 0,
				Short: rng.IntN(2) == 0, Strike: w.Prices[a] / 100 * uint64(50+rng.IntN(101)), Expiry: w.Meta.SnapshotTime + 1 + rng.Uint64N(1<<26),
				Size: big.NewInt(1 + rng.Int64N(1<<36))})
		}
		if len(w.Pools) == 0 {
			w.Pools = append(w.Pools, PoolPosition{Venue: 1, AssetA: 0, AssetB: 1, AmountA: big.NewInt(1 + rng.Int64N(1<<40)), AmountB: big.NewInt(rng.Int64N(1 << 50))})
		}
		moved := false
		// Most cases are moved to a boundary (the floor below asks a quarter of them there; a
		// parameter with no flip in range is retried, up to 32 times, in derivBoundary).
		if rng.Float64() < 0.9 {
			if m, ok := derivBoundary(t, rng, w); ok {
				w, moved = m, true
				boundary++
			}
		}
		rep := mustEval(t, w)
		if moved {
			for _, l := range rep.Limits {
				if !l.Pass {
					kinds[l.Kind]++
				}
			}
		}
		err := solve(t, mustAssign(t, w))
		if rep.Pass != (err == nil) {
			t.Fatalf("case %d: twin pass=%v (failing %v), circuit: %v", i, rep.Pass, failing(rep), err)
		}
		if rep.Pass {
			passes++
		} else {
			fails++
		}
	}
	t.Logf("%d cases: %d pass, %d fail, %d at a boundary; failing kinds there: %v", n, passes, fails, boundary, kinds)
	if passes < n/10 || fails < n/10 || boundary < n/4 {
		t.Fatalf("poor coverage: %d pass, %d fail, %d at a boundary", passes, fails, boundary)
	}
}

// canonZero rewrites every empty option or pool slot of w to the padding slot's one encoding
// (a bisection that reaches size 0 leaves the other fields behind, which the statement refuses).
func canonZero(w *Witness) {
	for j, o := range w.Options {
		if o.Size.Sign() == 0 {
			w.Options[j] = OptionPosition{Size: new(big.Int)}
		}
	}
	for j, p := range w.Pools {
		if p.AmountA.Sign() == 0 && p.AmountB.Sign() == 0 {
			w.Pools[j] = PoolPosition{AmountA: new(big.Int), AmountB: new(big.Int)}
		}
	}
}

// derivBoundary bisects one derivative parameter (an option's signed size, an option's strike,
// a pool's amount A) to the point where the report flips, when one exists in range.
func derivBoundary(t *testing.T, rng *rand.Rand, w *Witness) (*Witness, bool) {
	for attempt := 0; attempt < 32; attempt++ {
		nO := len(w.Options)
		k := rng.IntN(2*nO + len(w.Pools))
		set := func(v *big.Int) *Witness {
			c := clone(w)
			switch {
			case k < nO:
				c.Options[k].Size, c.Options[k].Short = new(big.Int).Abs(v), v.Sign() < 0
			case k < 2*nO:
				c.Options[k-nO].Strike = v.Uint64()
			default:
				c.Pools[k-2*nO].AmountA = v
			}
			canonZero(c)
			return c
		}
		end := new(big.Int).Lsh(big.NewInt(1), uint(20+rng.IntN(43)))
		if k < nO && rng.IntN(2) == 0 {
			end.Neg(end)
		}
		lo, hi := new(big.Int), end
		pl, ph := mustEval(t, set(lo)).Pass, mustEval(t, set(hi)).Pass
		if pl == ph {
			continue
		}
		for new(big.Int).Sub(hi, lo).CmpAbs(big.NewInt(1)) > 0 {
			mid := new(big.Int).Add(lo, hi)
			mid.Quo(mid, big.NewInt(2))
			if mustEval(t, set(mid)).Pass == pl {
				lo = mid
			} else {
				hi = mid
			}
		}
		if rng.IntN(2) == 0 {
			return set(lo), true
		}
		return set(hi), true
	}
	return w, false
}

// TestReservesCommitmentCoversDerivatives: RC changes with every field of an option and a pool
// record (expiry included), and equals the positions-only commitment when there are none.
func TestReservesCommitmentCoversDerivatives(t *testing.T) {
	h := poseidon.NewHasher()
	w := derivWitness(t)
	pos, _ := w.padded()
	opts, pools, err := w.paddedDerivatives()
	if err != nil {
		t.Fatal(err)
	}
	base, err := ReservesCommitmentAll(h, pos, opts, pools, w.RCSalt)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := ReservesCommitment(h, pos, w.RCSalt)
	none, _ := ReservesCommitmentAll(h, pos, nil, nil, w.RCSalt)
	if plain != none || plain == base {
		t.Fatal("RC without derivatives must equal the positions-only commitment, and differ with them")
	}
	muts := []func(o *OptionPosition, p *PoolPosition){
		func(o *OptionPosition, _ *PoolPosition) { o.Expiry++ },
		func(o *OptionPosition, _ *PoolPosition) { o.Strike++ },
		func(o *OptionPosition, _ *PoolPosition) { o.Put = !o.Put },
		func(o *OptionPosition, _ *PoolPosition) { o.Short = !o.Short },
		func(o *OptionPosition, _ *PoolPosition) { o.Asset++ },
		func(o *OptionPosition, _ *PoolPosition) { o.Venue++ },
		func(o *OptionPosition, _ *PoolPosition) { o.Size = new(big.Int).Add(o.Size, big.NewInt(1)) },
		func(_ *OptionPosition, p *PoolPosition) { p.AmountA = new(big.Int).Add(p.AmountA, big.NewInt(1)) },
		func(_ *OptionPosition, p *PoolPosition) { p.AmountB = new(big.Int).Add(p.AmountB, big.NewInt(1)) },
		func(_ *OptionPosition, p *PoolPosition) { p.AssetB++ },
		func(_ *OptionPosition, p *PoolPosition) { p.Venue++ },
	}
	for i, m := range muts {
		o2 := append([]OptionPosition(nil), opts...)
		p2 := append([]PoolPosition(nil), pools...)
		m(&o2[0], &p2[0])
		got, err := ReservesCommitmentAll(h, pos, o2, p2, w.RCSalt)
		if err != nil {
			t.Fatal(err)
		}
		if got == base {
			t.Fatalf("mutation %d leaves RC unchanged", i)
		}
	}
}

// TestS6_DerivativePolicyFieldsRangeChecked: a short-option charge of 10001 bps (it fits the
// 14-bit field, so only the <= 10000 check can refuse it) or a Greek limit's enabled bit of 2,
// each with the policy hash recomputed over that encoding, does not prove.
func TestS6_DerivativePolicyFieldsRangeChecked(t *testing.T) {
	w := derivWitness(t)
	A := len(w.Policy.Assets)
	fs := w.Policy.fields()
	first := len(fs) - (3*A + 4) // the derivatives block closes the layout
	if fs[first].width != BpsBits || fs[first].v.Int64() != 1500 {
		t.Fatal("fixture: the layout's derivatives block is not where this test expects")
	}
	c := mustAssign(t, w)
	if got := rawPolicyHashFields(fs, w.Policy.AssetsHash); got.Cmp(bi(c.PolicyHash)) != 0 {
		t.Fatal("control: raw policy hash differs from the assigned one")
	}
	bad := append([]field(nil), fs...)
	bad[first] = field{big.NewInt(BpsOne + 1), BpsBits}
	c.Policy.ShortCharge[0] = BpsOne + 1
	c.PolicyHash = rawPolicyHashFields(bad, w.Policy.AssetsHash)
	mustNotSolve(t, c)

	c = mustAssign(t, w)
	bad = append([]field(nil), fs...)
	gamma := len(fs) - 4 // gamma enabled, gamma bps, vega enabled, vega bps
	bad[gamma] = field{big.NewInt(2), 1}
	c.Policy.GammaEnabled = 2
	c.PolicyHash = rawPolicyHashFields(bad, w.Policy.AssetsHash)
	mustNotSolve(t, c)
}
