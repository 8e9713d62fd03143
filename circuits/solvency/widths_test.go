package solvency

import (
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/circuits/statement"
)

func maxOf(bits int) *big.Int { return new(big.Int).Sub(pow2(bits), big.NewInt(1)) }

func mul(xs ...*big.Int) *big.Int {
	r := big.NewInt(1)
	for _, x := range xs {
		r.Mul(r, x)
	}
	return r
}

// below asserts 0 <= v < 2^bits.
func below(t *testing.T, name string, v *big.Int, bits int) {
	t.Helper()
	if v.Sign() < 0 || v.BitLen() > bits {
		t.Errorf("%s = 2^%d is not below 2^%d", name, v.BitLen(), bits)
	}
}

// TestS2_WidthsAtLargestInputs evaluates every documented bound of widths.go at the largest
// inputs the range checks allow, and checks that every range-checked difference is sound: each
// valid value is below 2^width and each invalid (negative) one wraps above 2^width in the field.
func TestS2_WidthsAtLargestInputs(t *testing.T) {
	p := fr.Modulus()
	price := maxOf(PriceBits)
	scale := pow10(MaxPrec) // precision 0
	w := mul(price, scale)
	below(t, "w_a", w, 123)
	units := mul(big.NewInt(MaxShapePositions), maxOf(MagBits))
	below(t, "units per asset", units, 74)
	below(t, "PV_a before the bound", mul(units, w), 197)
	below(t, "LV_a before the bound", mul(maxOf(LiabBits), w), 219)
	// Sums before the completeness bound cannot wrap: A * 2^219 < p.
	if mul(big.NewInt(MaxShapeAssets), pow2(219)).Cmp(p) >= 0 {
		t.Error("sum of liability values may wrap")
	}

	// Inside the completeness bound.
	tot := maxOf(TotalBits) // sum PV, sum NV, sum LV each
	bps := big.NewInt(BpsOne)
	hw := big.NewInt(2 * BpsOne) // 1e4 + h <= 2e4
	negLimit := pow2(210)        // every invalid difference is smaller in magnitude
	check := func(name string, validMax, invalidMax *big.Int, width int) {
		t.Helper()
		below(t, name+" (valid)", validMax, width)
		if name != "VaR" && invalidMax.Cmp(negLimit) >= 0 {
			t.Errorf("%s: an invalid difference reaches 2^%d", name, invalidMax.BitLen())
		}
		// p - invalidMax must lie above 2^width: the range check refuses it.
		if new(big.Int).Sub(p, invalidMax).Cmp(pow2(width)) < 0 {
			t.Errorf("%s: an invalid difference wraps into the range", name)
		}
	}
	minCR := maxOf(FloorBits)
	check("collateral", mul(tot, bps), new(big.Int).Add(mul(tot, hw), mul(minCR, tot)), CollateralBits)
	check("in-kind", mul(big.NewInt(MaxShapePositions), maxOf(MagBits)), new(big.Int).Add(units, maxOf(LiabBits)), inKindBits(MaxShapePositions))
	check("liquidity", mul(tot, bps), new(big.Int).Add(mul(tot, bps), mul(maxOf(FloorBits), tot)), LiquidityBits)
	check("cap", mul(bps, tot), mul(big.NewInt(2), tot, bps), CapBits)
	check("target low", new(big.Int).Add(mul(tot, bps), mul(bps, tot)), new(big.Int).Add(mul(tot, bps), mul(bps, tot)), TargetLowBits)
	check("target high", new(big.Int).Add(mul(hw, tot), mul(tot, bps)), new(big.Int).Add(mul(tot, bps), mul(tot, bps)), TargetHighBits)
	hn := new(big.Int).Add(mul(tot, hw), mul(tot, bps)) // |sum_a hn_a| bound
	check("stress", mul(maxOf(MultBits), tot, bps), mul(maxOf(MultBits), hn), StressBits)

	// VaR at A = 32, every |L| = 2^24-1 of one sign, |x| = 2^71-1, z = 2^16-1, h = 1023.
	A := big.NewInt(MaxShapeAssets)
	y := mul(A, maxOf(CholBits), maxOf(XBits))
	below(t, "y_i", y, 100)
	q := mul(A, y, y)
	below(t, "Q", q, 205)
	lhs := mul(maxOf(ZBits), maxOf(ZBits), maxOf(HorizonBits), q)
	rs := mul(maxOf(SurBits), big.NewInt(ZScale*CholScale))
	rhs := mul(rs, rs)
	check("VaR", rhs, lhs, VaRBits)
	// The exposure decomposition: |X| < 2^171 but x*2^64 - r < 2^135; the surplus one < 2^188.
	below(t, "surplus decomposition", new(big.Int).Add(mul(maxOf(SurBits), new(big.Int).Lsh(bps, CoarseShift)), maxOf(SurRemBits)), 188)
	below(t, "valid surplus remainder", hn, SurRemBits)
	if new(big.Int).Sub(p, hn).BitLen() <= 188 {
		t.Error("a negative surplus could equal a decomposition")
	}

	// Packing: every packed element stays below p and injective.
	below(t, "price word", mul(pow2(3*PriceBits), maxOf(PriceBits)), 252)
	meta, err := statement.PackMeta(Meta{Cycle: ^uint64(0), ReservesBlock: ^uint64(0), SnapshotEpoch: ^uint64(0), SnapshotTime: 1<<MetaTime - 1})
	if err != nil {
		t.Fatal(err)
	}
	below(t, "meta", meta, 232)
	below(t, "RC element", mul(pow2(162), maxOf(81)), 243)
	if packBits >= 253 {
		t.Error("policy packing exceeds 253 bits")
	}
}

// TestTwinAtExtremes runs the twin at the largest inputs: it reports the completeness bounds
// as failing instead of wrapping or panicking.
func TestTwinAtExtremes(t *testing.T) {
	w := baseWitness(t)
	w.Table.Assets[aUSDC].Precision = 0
	w.Prices[aUSDC] = uint64(maxOf(PriceBits).Uint64())
	w.Positions = nil
	for i := 0; i < 64; i++ {
		w.Positions = append(w.Positions, Position{Venue: i % 4, Asset: aUSDC, Amount: maxOf(MagBits)})
	}
	w.Liabilities[aUSDC] = maxOf(LiabBits)
	w.Policy.AssetsHash = w.Table.Hash(poseidon.NewHasher())
	rep := mustEval(t, w)
	if rep.Pass {
		t.Fatal("extreme treasury passes")
	}
	found := false
	for _, l := range rep.Limits {
		if l.ID == "bound/liabilities" && !l.Pass {
			found = true
		}
	}
	if !found {
		t.Fatal("the liabilities completeness bound does not fail")
	}
}

// TestS2_DerivativeWidthsAtLargestInputs evaluates the option and pool intermediates of
// derivatives.go at the largest inputs the range checks allow, and the limits they enter with
// the completeness bounds (option notional and pool legs below 2^TotalBits).
func TestS2_DerivativeWidthsAtLargestInputs(t *testing.T) {
	p := fr.Modulus()
	w := mul(maxOf(PriceBits), pow10(MaxPrec)) // w < 2^123
	kk := mul(maxOf(StrikeBits), pow10(MaxPrec))
	below(t, "K*k", kk, IntrBits)
	below(t, "|w - K*k|", new(big.Int).Abs(new(big.Int).Sub(w, kk)), IntrBits)
	below(t, "max(w, K*k)", w, IntrBits)
	bps := big.NewInt(BpsOne)
	mult := maxOf(MultBits)
	below(t, "|mult*w - 1e4*K*k|", new(big.Int).Add(mul(mult, w), mul(bps, kk)), IntrStressBits)
	size := maxOf(MagBits)
	below(t, "size*intrinsic", mul(size, w), 187)
	below(t, "shocked size*intrinsic*(1e4+h)", mul(size, pow2(IntrStressBits), big.NewInt(2*BpsOne)), 219)
	below(t, "charge*mult", mul(size, w, bps, mult), 217)
	// Sums over every slot stay far below p (no wrap before the bounds are checked).
	if mul(big.NewInt(MaxShapeOptions), pow2(220)).Cmp(p) >= 0 {
		t.Error("option sums may wrap")
	}
	// Pools: leg, coarse part, product, root, remainder, value, shocked value.
	leg := mul(size, w)
	below(t, "pool leg", leg, 187)
	q := new(big.Int).Rsh(leg, PoolShift)
	below(t, "coarse leg", q, PoolQBits)
	prod := mul(q, q)
	below(t, "coarse product", prod, 246)
	r := new(big.Int).Sqrt(prod)
	below(t, "root", r, PoolRootBits)
	below(t, "root remainder bound 2r", mul(big.NewInt(2), r), PoolRemBits)
	// prod - r^2 for r one too large is negative; it must wrap above the range.
	if new(big.Int).Sub(p, new(big.Int).Add(mul(big.NewInt(2), r), big.NewInt(1))).BitLen() <= PoolRemBits {
		t.Error("a too-large root could pass the remainder check")
	}
	value := new(big.Int).Lsh(r, PoolShift+1)
	if value.Cmp(new(big.Int).Add(leg, leg)) > 0 {
		t.Error("pool value exceeds its legs")
	}
	below(t, "mA*mB", mul(mult, mult), 32)
	rm := new(big.Int).Sqrt(mul(mult, mult))
	below(t, "multiplier root", rm, MultRootBits)
	below(t, "multiplier remainder bound", mul(big.NewInt(2), rm), MultRemBits)
	below(t, "shocked pool value", mul(value, bps, rm), 218)

	// Within the completeness bounds (sumPV, ON, PL < 2^170 each).
	tot := maxOf(TotalBits)
	three := mul(big.NewInt(3), tot)
	below(t, "collateral (valid)", mul(three, bps), CollateralBits)
	below(t, "cap (valid)", mul(three, bps), CapBits)
	below(t, "stress (valid)", mul(three, bps, mult), StressBits)
	// Invalid magnitudes: every negative term together stays below 2^210 (widths.go).
	neg := new(big.Int).Add(mul(mult, tot, big.NewInt(3*BpsOne)), mul(mult, tot, big.NewInt(3*BpsOne))) // spot and shorts
	below(t, "stress (invalid magnitude)", neg, 210)
	sl := mul(tot, big.NewInt(3*BpsOne)) // short liability: (1e4+h)*intrinsic + charge*notional
	below(t, "short liability", sl, 187)
	below(t, "charge ceiling", new(big.Int).Add(tot, big.NewInt(1)), ChargeQBits)
	// A long option's claim on its venue: notional plus intrinsic, size*(w + intr) <=
	// size*max(w + K*k, 2w). Every slot's claim together, times 1e4, stays far from wrapping
	// into the caps' valid range (a cap that fails wraps above 2^CapBits).
	og := mul(size, new(big.Int).Add(w, kk))
	below(t, "long option venue gross", og, 188)
	grossAll := mul(new(big.Int).Add(mul(big.NewInt(int64(MaxShapeOptions+MaxShapePools)), og), pow2(197)), bps)
	if new(big.Int).Sub(p, grossAll).BitLen() <= CapBits {
		t.Error("a failing cap with every derivative's gross could wrap into its valid range")
	}
	// The expiry check: Expiry - SnapTime - 1 for an expired option (expiry 0 at the largest
	// snapshot time, or expiry = snapshot time) wraps far above 2^ExpiryBits.
	for _, d := range []*big.Int{new(big.Int).Neg(pow2(MetaTime)), big.NewInt(-1)} {
		if modP(d).BitLen() <= ExpiryBits {
			t.Error("an expired option could pass the expiry check")
		}
	}
	below(t, "live expiry difference", maxOf(ExpiryBits), ExpiryBits)
	below(t, "RC slot counts", SlotCounts(1<<SlotCountBits-1, 1<<SlotCountBits-1, 1<<SlotCountBits-1), 3*SlotCountBits)
	below(t, "option RC record", maxOf(209), 209)
	below(t, "pool RC record", maxOf(152), 152)
	if new(big.Int).Sub(p, new(big.Int).Add(sl, pow2(186))).BitLen() <= 188 {
		t.Error("a negative VaR surplus could equal a decomposition")
	}
}
