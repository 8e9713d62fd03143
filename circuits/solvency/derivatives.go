package solvency

import (
	"math/big"

	"github.com/consensys/gnark/frontend"
)

// Options and pool shares in the statement (docs/greeks.md has the full argument).
//
// Every figure here is a bound the circuit can check exactly with integer arithmetic, never a
// model value:
//
//   - A European option's intrinsic value per circuit unit of its underlying is
//     max(0, w_a - K*k_a) for a call and max(0, K*k_a - w_a) for a put, where w_a = price *
//     10^(18-prec) (the unit value) and k_a = 10^(18-prec), so K*k_a is the strike in the same
//     fine units. The max is a hinted sign bit s with (2s-1)*d range-checked: a wrong bit makes
//     the checked value negative, which wraps far above the range (S2).
//   - A long option counts size * intrinsic at (1e4 - h) like any long. With a zero interest rate
//     (r = 0, the assumption the engine's Black-76 uses for this bound) a European option is
//     worth at least its intrinsic value on the forward, so this never flatters a long.
//   - A short option is a liability of size * (intrinsic * (1e4 + h) + charge * w_a) in the bps
//     scale: intrinsic weighted like any short (S3) plus a governance charge on its notional that
//     stands in for its time value. Never below intrinsic.
//   - A pool share is valued at the oracle prices as if the pool were arbitraged to them:
//     V = 2*sqrt(vA*vB) with vA = amountA*w_A, vB = amountB*w_B. Each leg is floored to coarse
//     units of 2^64 fine units (1.8e-7 USD) so that the product fits the field, and the square
//     root is the exact integer one (r^2 <= prod < (r+1)^2), so V = 2^65*r <= 2*sqrt(vA*vB),
//     which never exceeds vA + vB, the claim at any price. The pool's own price plays no part.
//     The share is haircut by the larger of its two assets' haircuts.
//   - Every stress scenario revalues each option at the shocked price (the piecewise-linear
//     payoff, checked in circuit) and each pool share at the shocked legs: sqrt(mA*vA*mB*vB) =
//     sqrt(vA*vB)*sqrt(mA*mB), with sqrt(mA*mB) floored (impermanent loss included).
//
// Where they enter: collateral and the stress sums (above); net reserves for the caps (long
// values and pool values at their bounds, short liabilities at intrinsic plus the charge,
// rounded up); gross exposure for the caps (an option's notional on its underlying, each pool
// leg on its asset, all of them on the venue's group, where a long option adds its intrinsic
// value too: a deep in-the-money put's claim on the venue exceeds its notional); the liquidity buffer only through short
// liabilities, which drain it (a long option or a pool share adds nothing); the VaR surplus only
// through short liabilities (long derivatives count nothing there, so their loss under the VaR
// move is already assumed total; the non-linear risk of shorts is what the stress grid bounds).
// Target buckets and in-kind coverage are about the spot book and leave derivatives out.

// OptionPosition is one European option slot: the underlying asset and venue by index, put or
// call, long or short, the strike in USD with 8 decimals per whole token (like the oracle
// prices, < 2^63), the expiry (unix seconds, committed in RC; a live option's is after the
// snapshot time, not otherwise used in arithmetic) and the size in the underlying's circuit
// units (>= 0, < 2^64; the sign is Short). A zero size is the padding slot: every other field
// zero (asset 0, venue 0).
type OptionPosition struct {
	Venue, Asset int
	Put, Short   bool
	Strike       uint64
	Expiry       uint64
	Size         *big.Int
}

// PoolPosition is one constant-product pool-share slot: the holder's claim on each reserve of
// the pool, in each asset's circuit units (>= 0, < 2^64). Both amounts zero is the padding
// slot: assets 0 and 0 at venue 0.
type PoolPosition struct {
	Venue, AssetA, AssetB int
	AmountA, AmountB      *big.Int
}

// OptionVars is one option slot in circuit. ITM and ITMS are hints (the sign of the intrinsic
// difference at the oracle price and in each scenario); the range checks make them exact.
type OptionVars struct {
	Size, Short, Put, Strike, Expiry frontend.Variable
	Asset, Venue                     []frontend.Variable // one-hot (S4)
	ITM                              frontend.Variable
	ITMS                             []frontend.Variable // S
}

// PoolVars is one pool slot in circuit. QA, RA, QB, RB decompose the legs into coarse units
// (v = Q*2^64 + R); Root is isqrt(QA*QB); HB is 1 when asset B's haircut is the larger; RootS is
// isqrt(mA*mB) per scenario. All hints, each pinned by its constraints.
type PoolVars struct {
	AmountA, AmountB      frontend.Variable
	AssetA, AssetB, Venue []frontend.Variable // one-hot (S4)
	QA, RA, QB, RB, Root  frontend.Variable
	HB                    frontend.Variable
	RootS                 []frontend.Variable // S
}

// Bit widths of the derivative intermediates (S2; widths_test.go evaluates them).
const (
	StrikeBits = 63  // strike, like a price limb
	ExpiryBits = 64  // unix seconds
	IntrBits   = 123 // |w - K*k| < 2^123 (w, K*k < 2^123)
	// |mult*w - 1e4*K*k| < 2^139 + 2^137 < 2^140 (mult < 2^16, 1e4 < 2^14).
	IntrStressBits = 140
	PoolShift      = 64  // coarse unit of a pool leg: 2^64 fine units
	PoolQBits      = 123 // a leg amount*w < 2^187, so its coarse part is < 2^123
	PoolRootBits   = 123 // isqrt of a product < 2^246
	PoolRemBits    = 124 // prod - r^2 <= 2r < 2^124
	MultRootBits   = 16  // isqrt(mA*mB) <= max(mA, mB) < 2^16
	MultRemBits    = 17  // mA*mB - r^2 <= 2r < 2^17
	// The ceiling of the total short charge: OC + rem = q*1e4, rem < 1e4 (14 bits) and
	// q <= OC/1e4 + 1 < 2^(TotalBits+2) since OC <= 1e4 * option notional.
	ChargeQBits = TotalBits + 2
)

// sel returns xs[i] for the one-hot selector oh (asserted one-hot by the caller's oneHot):
// len(oh) constraints.
func sel(api frontend.API, oh, xs []frontend.Variable) frontend.Variable {
	var out frontend.Variable = 0
	for i := range oh {
		out = api.Add(out, api.Mul(oh[i], xs[i]))
	}
	return out
}

// maxZero returns max(0, d) for |d| < 2^bits, with the hinted sign s: (2s-1)*d is range-checked
// to bits, so s = 1 forces d >= 0 and s = 0 forces d <= 0 (a wrong s makes it wrap above). At
// d = 0 either bit gives 0, so the result is unique.
func maxZero(api frontend.API, d, s frontend.Variable, bits int) frontend.Variable {
	api.AssertIsBoolean(s)
	rangeCheck(api, api.Mul(api.Sub(api.Mul(2, s), 1), d), bits)
	return api.Mul(s, d)
}

// isqrtCheck asserts r = floor(sqrt(x)): r < 2^rBits, 0 <= x - r^2 <= 2r (remBits each).
func isqrtCheck(api frontend.API, x, r frontend.Variable, rBits, remBits int) {
	rangeCheck(api, r, rBits)
	e := api.Sub(x, api.Mul(r, r))
	rangeCheck(api, e, remBits)
	rangeCheck(api, api.Sub(api.Mul(2, r), e), remBits)
}

// derivVars are the derivative aggregates in circuit (twin: derivVals).
type derivVars struct {
	ol, os, plv  frontend.Variable   // long intrinsic, short intrinsic, pool value (fine)
	sl           frontend.Variable   // short liability, bps-scaled
	coll         frontend.Variable   // contribution to collateral, bps-scaled
	sumON, sumPL frontend.Variable   // option notional, pool legs (completeness bounds)
	gross        []frontend.Variable // per asset
	groupGross   []frontend.Variable // per group
	stress       []frontend.Variable // per scenario, bps^2-scaled
	chargeCeil   frontend.Variable   // ceil(OC/1e4)
	recsO, recsP []frontend.Variable // RC records
	nrAdj        frontend.Variable   // ol + plv - os - chargeCeil
}

// assertDerivatives values every option and pool slot (twinDerivatives natively).
func (c *Circuit) assertDerivatives(api frontend.API, w, k []frontend.Variable) *derivVars {
	s, pol := c.shape, &c.Policy
	A, V, G, S := s.Assets, s.Venues, s.Groups, s.Scenarios
	d := &derivVars{gross: zerosV(A), groupGross: zerosV(G), stress: zerosV(S)}
	var ol, os, plv, sl, coll, oc, sumON, sumPL frontend.Variable = 0, 0, 0, 0, 0, 0, 0, 0
	venueGross := zerosV(V)
	for j := range c.Options {
		o := &c.Options[j]
		rangeCheck(api, o.Size, MagBits)
		api.AssertIsBoolean(o.Short)
		api.AssertIsBoolean(o.Put)
		rangeCheck(api, o.Strike, StrikeBits)
		rangeCheck(api, o.Expiry, ExpiryBits)
		ai := oneHot(api, o.Asset)
		vi := oneHot(api, o.Venue)
		// One encoding per option: a zero-size slot is the padding record, every field zero
		// (short, put, strike, expiry, asset 0, venue 0), like the positions' "-0" rule; else one
		// portfolio would have several RCs and an opening could show an empty slot's made-up
		// terms. Each term is non-negative and range-checked (sum < 2^66), so the sum is zero
		// exactly when each is.
		zo := api.IsZero(o.Size)
		api.AssertIsEqual(api.Mul(zo, api.Add(o.Short, o.Put, o.Strike, o.Expiry, ai, vi)), 0)
		// A live option has not expired at the snapshot: Expiry > SnapTime, i.e. Expiry -
		// SnapTime - 1 >= 0 (both < 2^64, so an expired one wraps far above 2^64). The engine
		// settles expired options into positions before proving; their intrinsic is then cash.
		rangeCheck(api, api.Mul(api.Sub(1, zo), api.Sub(api.Sub(o.Expiry, c.SnapTime), 1)), ExpiryBits)
		wo := sel(api, o.Asset, w)                                           // < 2^123
		ko := sel(api, o.Asset, k)                                           // <= 10^18 < 2^60
		ho := sel(api, o.Asset, pol.Haircut)                                 // <= 1e4
		co := sel(api, o.Asset, pol.ShortCharge)                             // <= 1e4
		kk := api.Mul(o.Strike, ko)                                          // K*k < 2^123
		dir := api.Sub(1, api.Mul(2, o.Put))                                 // +1 call, -1 put
		intr := maxZero(api, api.Mul(dir, api.Sub(wo, kk)), o.ITM, IntrBits) // < 2^123
		val := api.Mul(o.Size, intr)                                         // < 2^187
		sv := api.Mul(o.Short, val)                                          // short intrinsic value
		lv := api.Sub(val, sv)                                               // long intrinsic value
		sw := api.Mul(api.Mul(o.Short, o.Size), wo)                          // short notional, < 2^187
		ch := api.Mul(sw, co)                                                // charge, bps-scaled, < 2^201
		lia := api.Add(api.Mul(sv, api.Add(BpsOne, ho)), ch)                 // short liability, bps-scaled
		ol, os = api.Add(ol, lv), api.Add(os, sv)
		sl, oc = api.Add(sl, lia), api.Add(oc, ch)
		coll = api.Add(coll, api.Sub(api.Mul(lv, api.Sub(BpsOne, ho)), lia))
		notional := api.Mul(o.Size, wo)                          // < 2^187
		sumON = api.Add(sumON, api.Mul(o.Size, api.Add(wo, kk))) // < 2^188 each
		for a := 0; a < A; a++ {
			d.gross[a] = api.Add(d.gross[a], api.Mul(o.Asset[a], notional))
		}
		// The venue's gross carries the notional and, for a long, its intrinsic value: a deep
		// in-the-money put is a claim on its venue of size*(K*k - w), which can far exceed the
		// notional size*w (S3: the group cap bounds the claim on the group's venues). Each is
		// size*(w + intr) <= size*max(w + K*k, 2w) < 2^188, far below the caps' wrap.
		og := api.Add(notional, lv)
		for v := 0; v < V; v++ {
			venueGross[v] = api.Add(venueGross[v], api.Mul(o.Venue[v], og))
		}
		// Stress: d' = dir*(mult*w - 1e4*K*k) is the intrinsic at the shocked price, bps-scaled.
		fo := api.Sub(api.Sub(BpsOne, ho), api.Mul(o.Short, 2*BpsOne)) // long 1e4-h, short -(1e4+h)
		kk4 := api.Mul(kk, BpsOne)
		for si := 0; si < S; si++ {
			mo := sel(api, o.Asset, pol.ScenMult[si]) // < 2^16
			ds := api.Mul(dir, api.Sub(api.Mul(mo, wo), kk4))
			is := maxZero(api, ds, o.ITMS[si], IntrStressBits) // < 2^140
			t := api.Mul(api.Mul(o.Size, is), fo)              // |t| < 2^64 * 2^140 * 2^15
			t = api.Sub(t, api.Mul(ch, mo))                    // the charge on shocked notional
			d.stress[si] = api.Add(d.stress[si], t)
		}
		// RC record: size (64) | short (1) | put (1) | asset (8) | venue (8) | strike (63) |
		// expiry (64) = 209 bits, injective, one per element.
		d.recsO = append(d.recsO, api.Add(o.Size, api.Mul(o.Short, p2(64)), api.Mul(o.Put, p2(65)),
			api.Mul(ai, p2(66)), api.Mul(vi, p2(74)), api.Mul(o.Strike, p2(82)), api.Mul(o.Expiry, p2(145))))
	}
	for j := range c.Pools {
		pl := &c.Pools[j]
		rangeCheck(api, pl.AmountA, MagBits)
		rangeCheck(api, pl.AmountB, MagBits)
		aa := oneHot(api, pl.AssetA)
		ab := oneHot(api, pl.AssetB)
		vi := oneHot(api, pl.Venue)
		// One encoding per empty pool slot: both amounts zero is the padding record, assets 0
		// and 0 at venue 0 (selectors still one-hot). Amounts < 2^64, so their sum is zero
		// exactly when both are; indices < 2^8, so theirs likewise.
		zp := api.IsZero(api.Add(pl.AmountA, pl.AmountB))
		api.AssertIsEqual(api.Mul(zp, api.Add(aa, ab, vi)), 0)
		va := api.Mul(pl.AmountA, sel(api, pl.AssetA, w)) // < 2^187
		vb := api.Mul(pl.AmountB, sel(api, pl.AssetB, w)) // < 2^187
		// Coarse legs: v = Q*2^64 + R, R < 2^64, Q < 2^123 (floor: conservative).
		rangeCheck(api, pl.QA, PoolQBits)
		rangeCheck(api, pl.RA, PoolShift)
		rangeCheck(api, pl.QB, PoolQBits)
		rangeCheck(api, pl.RB, PoolShift)
		api.AssertIsEqual(va, api.Add(api.Mul(pl.QA, p2(PoolShift)), pl.RA))
		api.AssertIsEqual(vb, api.Add(api.Mul(pl.QB, p2(PoolShift)), pl.RB))
		isqrtCheck(api, api.Mul(pl.QA, pl.QB), pl.Root, PoolRootBits, PoolRemBits) // prod < 2^246
		value := api.Mul(pl.Root, p2(PoolShift+1))                                 // 2*r*2^64 <= 2*sqrt(vA*vB) <= vA + vB
		legs := api.Add(va, vb)
		plv, sumPL = api.Add(plv, value), api.Add(sumPL, legs)
		for a := 0; a < A; a++ {
			d.gross[a] = api.Add(d.gross[a], api.Mul(pl.AssetA[a], va), api.Mul(pl.AssetB[a], vb))
		}
		for v := 0; v < V; v++ {
			venueGross[v] = api.Add(venueGross[v], api.Mul(pl.Venue[v], legs))
		}
		// The larger haircut: HB selects B, and (2HB-1)*(hB-hA) >= 0 proves it is the larger.
		ha, hb := sel(api, pl.AssetA, pol.Haircut), sel(api, pl.AssetB, pol.Haircut)
		hmax := maxZero(api, api.Sub(hb, ha), pl.HB, BpsBits)
		hmax = api.Add(ha, hmax)                    // ha + max(0, hb-ha) = max(ha, hb)
		pc := api.Mul(value, api.Sub(BpsOne, hmax)) // bps-scaled, < 2^184 once bounded
		coll = api.Add(coll, pc)
		for si := 0; si < S; si++ {
			ma := sel(api, pl.AssetA, pol.ScenMult[si])
			mb := sel(api, pl.AssetB, pol.ScenMult[si])
			isqrtCheck(api, api.Mul(ma, mb), pl.RootS[si], MultRootBits, MultRemBits)
			d.stress[si] = api.Add(d.stress[si], api.Mul(pc, pl.RootS[si])) // bps^2-scaled
		}
		// RC record: amountA (64) | amountB (64) | assetA (8) | assetB (8) | venue (8) = 152 bits.
		d.recsP = append(d.recsP, api.Add(pl.AmountA, api.Mul(pl.AmountB, p2(64)), api.Mul(aa, p2(128)),
			api.Mul(ab, p2(136)), api.Mul(vi, p2(144))))
	}
	for v := 0; v < V; v++ {
		for gi := 0; gi < G; gi++ {
			d.groupGross[gi] = api.Add(d.groupGross[gi], api.Mul(pol.VenueGroup[v][gi], venueGross[v]))
		}
	}
	// ceil(OC/1e4): OC + R = Q*1e4 with 0 <= R < 1e4 (S2, ceiling for a liability).
	rangeCheck(api, c.ChargeQ, ChargeQBits)
	rangeCheck(api, c.ChargeR, BpsBits)
	rangeCheck(api, api.Sub(BpsOne-1, c.ChargeR), BpsBits)
	api.AssertIsEqual(api.Add(oc, c.ChargeR), api.Mul(c.ChargeQ, BpsOne))
	d.ol, d.os, d.plv, d.sl, d.coll, d.sumON, d.sumPL, d.chargeCeil = ol, os, plv, sl, coll, sumON, sumPL, c.ChargeQ
	d.nrAdj = api.Sub(api.Add(ol, plv), api.Add(os, c.ChargeQ))
	return d
}

// optionEval and poolEval are the twin's per-slot results, which Assign uses as hints.
type optionEval struct {
	itm  bool
	itmS []bool
}

type poolEval struct {
	qa, ra, qb, rb, root *big.Int
	hb                   bool
	rootS                []*big.Int
}

// derivVals are the twin's derivative aggregates (derivVars in circuit).
type derivVals struct {
	ol, os, plv, sl, coll, oc, sumON, sumPL, chargeCeil, nrAdj *big.Int
	gross, groupGross, stress                                  []*big.Int
	opts                                                       []optionEval
	pools                                                      []poolEval
}

// maxZeroTwin is max(0, d) and the hint bit the circuit takes (1 when d > 0).
func maxZeroTwin(d *big.Int) (*big.Int, bool) {
	if d.Sign() > 0 {
		return new(big.Int).Set(d), true
	}
	return new(big.Int), false
}

// twinDerivatives values every option and pool share as assertDerivatives does.
func twinDerivatives(in *Inputs, w []*big.Int) *derivVals {
	p := in.Policy
	A, G, S := len(p.Assets), len(p.GroupCaps), len(p.Scenarios)
	d := &derivVals{ol: new(big.Int), os: new(big.Int), plv: new(big.Int), sl: new(big.Int), coll: new(big.Int),
		oc: new(big.Int), sumON: new(big.Int), sumPL: new(big.Int),
		gross: zeros(A), groupGross: zeros(G), stress: zeros(S)}
	mult := func(si, a int) *big.Int { return big.NewInt(int64(p.Scenarios[si].ShockBps[a]) + BpsOne) }
	for _, o := range in.Options {
		a := o.Asset
		wo := w[a]
		kk := new(big.Int).Mul(new(big.Int).SetUint64(o.Strike), pow10(MaxPrec-int(in.Table.Assets[a].Precision)))
		h := big.NewInt(int64(p.Assets[a].HaircutBps))
		co := big.NewInt(int64(p.Derivatives.charge(a)))
		diff := func(x, y *big.Int) *big.Int { // dir*(x - y)
			r := new(big.Int).Sub(x, y)
			if o.Put {
				r.Neg(r)
			}
			return r
		}
		intr, itm := maxZeroTwin(diff(wo, kk))
		ev := optionEval{itm: itm, itmS: make([]bool, S)}
		val := new(big.Int).Mul(o.Size, intr)
		notional := new(big.Int).Mul(o.Size, wo)
		ch := new(big.Int)
		lia := new(big.Int)
		if o.Short {
			ch.Mul(notional, co)
			lia.Mul(val, new(big.Int).Add(bpsK, h))
			lia.Add(lia, ch)
			d.os.Add(d.os, val)
			d.coll.Sub(d.coll, lia)
		} else {
			d.ol.Add(d.ol, val)
			d.coll.Add(d.coll, new(big.Int).Mul(val, new(big.Int).Sub(bpsK, h)))
		}
		d.sl.Add(d.sl, lia)
		d.oc.Add(d.oc, ch)
		d.sumON.Add(d.sumON, new(big.Int).Mul(o.Size, new(big.Int).Add(wo, kk)))
		d.gross[a].Add(d.gross[a], notional)
		og := new(big.Int).Set(notional) // a long's claim on its venue includes its intrinsic
		if !o.Short {
			og.Add(og, val)
		}
		d.groupGross[p.Venues[o.Venue].Group].Add(d.groupGross[p.Venues[o.Venue].Group], og)
		kk4 := new(big.Int).Mul(kk, bpsK)
		for si := 0; si < S; si++ {
			m := mult(si, a)
			is, b := maxZeroTwin(diff(new(big.Int).Mul(m, wo), kk4))
			ev.itmS[si] = b
			t := new(big.Int).Mul(o.Size, is)
			if o.Short {
				t.Mul(t, new(big.Int).Add(bpsK, h))
				t.Add(t, new(big.Int).Mul(ch, m))
				d.stress[si].Sub(d.stress[si], t)
			} else {
				d.stress[si].Add(d.stress[si], t.Mul(t, new(big.Int).Sub(bpsK, h)))
			}
		}
		d.opts = append(d.opts, ev)
	}
	mask := new(big.Int).Sub(pow2(PoolShift), big.NewInt(1))
	for _, pl := range in.Pools {
		va := new(big.Int).Mul(pl.AmountA, w[pl.AssetA])
		vb := new(big.Int).Mul(pl.AmountB, w[pl.AssetB])
		ev := poolEval{qa: new(big.Int).Rsh(va, PoolShift), ra: new(big.Int).And(va, mask),
			qb: new(big.Int).Rsh(vb, PoolShift), rb: new(big.Int).And(vb, mask), rootS: make([]*big.Int, S)}
		ev.root = new(big.Int).Sqrt(new(big.Int).Mul(ev.qa, ev.qb))
		value := new(big.Int).Lsh(ev.root, PoolShift+1)
		legs := new(big.Int).Add(va, vb)
		d.plv.Add(d.plv, value)
		d.sumPL.Add(d.sumPL, legs)
		d.gross[pl.AssetA].Add(d.gross[pl.AssetA], va)
		d.gross[pl.AssetB].Add(d.gross[pl.AssetB], vb)
		g := p.Venues[pl.Venue].Group
		d.groupGross[g].Add(d.groupGross[g], legs)
		ha, hb := p.Assets[pl.AssetA].HaircutBps, p.Assets[pl.AssetB].HaircutBps
		hmax := max(ha, hb)
		ev.hb = hb > ha
		pc := new(big.Int).Mul(value, big.NewInt(BpsOne-int64(hmax)))
		d.coll.Add(d.coll, pc)
		for si := 0; si < S; si++ {
			ev.rootS[si] = new(big.Int).Sqrt(new(big.Int).Mul(mult(si, pl.AssetA), mult(si, pl.AssetB)))
			d.stress[si].Add(d.stress[si], new(big.Int).Mul(pc, ev.rootS[si]))
		}
		d.pools = append(d.pools, ev)
	}
	// ceil(OC / 1e4)
	d.chargeCeil = new(big.Int).Add(d.oc, big.NewInt(BpsOne-1))
	d.chargeCeil.Quo(d.chargeCeil, bpsK)
	d.nrAdj = new(big.Int).Add(d.ol, d.plv)
	d.nrAdj.Sub(d.nrAdj, d.os)
	d.nrAdj.Sub(d.nrAdj, d.chargeCeil)
	return d
}
