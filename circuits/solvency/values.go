package solvency

import (
	"math/big"

	"github.com/consensys/gnark/frontend"

	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// The values every limit reads: per-asset units from the positions, their values in fine units
// (10^-26 USD), the liquid value and the gross value per venue group. Each step has its twin
// (plain Go, big integers) beside its circuit version (frontend variables, with bit bounds).

// values is the twin's side.
type values struct {
	posU, negU []*big.Int // long and short units per asset
	liab       []*big.Int // liability units per asset
	groupGross []*big.Int // gross value per venue group
	lq         *big.Int   // liquid value LQ

	pv, nv, lv                []*big.Int // long, short and liability value per asset
	hn                        []*big.Int // per asset PV(1e4-h) - NV(1e4+h) - 1e4 LV
	sumPV, sumNV, sumLV, coll *big.Int   // coll = sum PV(1e4-h) - NV(1e4+h) + derivatives
	nr                        *big.Int   // net reserves of the spot book, sum PV - sum NV
	nrd                       *big.Int   // net reserves with derivatives: nr + der.nrAdj
	der                       *derivVals // options and pool shares (derivatives.go)
}

// valueVars is the circuit's side; bounds are in the comments where each is computed.
type valueVars struct {
	posU, negU, liab []frontend.Variable
	groupGross       []frontend.Variable
	lq               frontend.Variable

	pv, nv, lv, hn            []frontend.Variable
	sumPV, sumNV, sumLV, coll frontend.Variable
	nr, nrd                   frontend.Variable
	der                       *derivVars
}

// twinPositions sums the positions per asset, per venue group and into the liquid value, as
// assertPositions does.
func twinPositions(in *Inputs, w []*big.Int) *values {
	p := in.Policy
	A, G := len(p.Assets), len(p.GroupCaps)
	v := &values{posU: zeros(A), negU: zeros(A), groupGross: zeros(G), lq: new(big.Int)}
	for _, pos := range in.Positions {
		mag := new(big.Int).Abs(pos.Amount)
		val := new(big.Int).Mul(mag, w[pos.Asset])
		vn := p.Venues[pos.Venue]
		v.groupGross[vn.Group].Add(v.groupGross[vn.Group], val)
		if pos.Amount.Sign() < 0 {
			v.negU[pos.Asset].Add(v.negU[pos.Asset], mag)
			// A short or borrow of a buffer asset drains the buffer wherever it sits (S3).
			if p.Assets[pos.Asset].Liquid {
				v.lq.Sub(v.lq, val)
			}
		} else {
			v.posU[pos.Asset].Add(v.posU[pos.Asset], mag)
			if p.Assets[pos.Asset].Liquid && p.Liquidity.LiquidTiers[vn.Tier] {
				v.lq.Add(v.lq, val)
			}
		}
	}
	return v
}

// assertPositions checks the positions (S2, S4: magnitude < 2^64 and a sign bit; asset and
// venue by one-hot) and returns the per-asset units, the liquid value, the gross value per venue
// group (twinPositions natively) and the positions' RC records.
func (c *Circuit) assertPositions(api frontend.API, w []frontend.Variable) (*valueVars, []frontend.Variable) {
	s, pol := c.shape, &c.Policy
	A, P, V, G, T := s.Assets, s.Positions, s.Venues, s.Groups, s.Tiers
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
	groupGross := zerosV(G) // <= sum of venue gross < 2^197
	for v := 0; v < V; v++ {
		for gi := 0; gi < G; gi++ {
			groupGross[gi] = api.Add(groupGross[gi], api.Mul(pol.VenueGroup[v][gi], venueGross[v]))
		}
	}
	return &valueVars{posU: posU, negU: negU, lq: lq, groupGross: groupGross}, recs
}

// assertRC opens RC = Hash(RC, salt, positions three records per element, then one element per
// option record and one per pool record, then the slot counts P | O<<16 | L<<32)
// (ReservesCommitment natively). The counts element binds the split between the record kinds:
// without it one RC could be opened as O option and L pool records and as O+1 and L-1 (R1).
// With no option or pool slots neither it nor any record follows the positions: the commitment
// of the positions alone, as before derivatives existed (P is then fixed by the element count
// and the zero padding records, as it always was).
func (c *Circuit) assertRC(api frontend.API, g *poseidon.Gadget, recs []frontend.Variable, d *derivVars) {
	rcIn := []frontend.Variable{c.RCSalt}
	for i := 0; i < len(recs); i += 3 {
		var e frontend.Variable = 0
		for k := 0; k < 3 && i+k < len(recs); k++ {
			e = api.Add(e, api.Mul(recs[i+k], p2(81*k))) // < 2^243
		}
		rcIn = append(rcIn, e)
	}
	rcIn = append(rcIn, d.recsO...) // < 2^209 each
	rcIn = append(rcIn, d.recsP...) // < 2^152 each
	if cnt := SlotCounts(len(recs), len(d.recsO), len(d.recsP)); cnt != nil {
		rcIn = append(rcIn, cnt) // a constant of the shape: no constraint
	}
	api.AssertIsEqual(g.Hash(poseidon.TagRC, rcIn...), c.RC)
}

// twinValues values the positions and liabilities per asset, as Circuit.values does.
func twinValues(in *Inputs) *values {
	p := in.Policy
	A := len(p.Assets)
	w := make([]*big.Int, A)
	for a := range w {
		w[a] = unitValue(in.Prices[a], in.Table.Assets[a].Precision)
	}
	v := twinPositions(in, w)
	v.der = twinDerivatives(in, w)
	v.liab = in.Liabilities
	v.pv, v.nv, v.lv, v.hn = zeros(A), zeros(A), zeros(A), zeros(A)
	v.sumPV, v.sumNV, v.sumLV, v.coll = new(big.Int), new(big.Int), new(big.Int), new(big.Int)
	for a := 0; a < A; a++ {
		v.pv[a].Mul(v.posU[a], w[a])
		v.nv[a].Mul(v.negU[a], w[a])
		v.lv[a].Mul(in.Liabilities[a], w[a])
		v.sumPV.Add(v.sumPV, v.pv[a])
		v.sumNV.Add(v.sumNV, v.nv[a])
		v.sumLV.Add(v.sumLV, v.lv[a])
		h := int64(p.Assets[a].HaircutBps)
		t := new(big.Int).Mul(v.pv[a], big.NewInt(BpsOne-h))
		t.Sub(t, new(big.Int).Mul(v.nv[a], big.NewInt(BpsOne+h)))
		v.coll.Add(v.coll, t)
		v.hn[a].Sub(t, new(big.Int).Mul(v.lv[a], bpsK))
	}
	v.coll.Add(v.coll, v.der.coll)
	v.nr = new(big.Int).Sub(v.sumPV, v.sumNV)
	v.nrd = new(big.Int).Add(v.nr, v.der.nrAdj)
	return v
}

// values computes the values per asset, in fine units, into v.
func (c *Circuit) values(api frontend.API, w []frontend.Variable, v *valueVars) {
	A, pol := c.shape.Assets, &c.Policy
	v.liab = c.Liabilities
	v.pv, v.nv, v.lv, v.hn = vars(A), vars(A), vars(A), vars(A)
	var sumPV, sumNV, sumLV, coll frontend.Variable = 0, 0, 0, 0
	for a := 0; a < A; a++ {
		v.pv[a] = api.Mul(v.posU[a], w[a])        // < 2^197
		v.nv[a] = api.Mul(v.negU[a], w[a])        // < 2^197
		v.lv[a] = api.Mul(c.Liabilities[a], w[a]) // < 2^219
		sumPV = api.Add(sumPV, v.pv[a])
		sumNV = api.Add(sumNV, v.nv[a])
		sumLV = api.Add(sumLV, v.lv[a])
		// PV*(1e4-h) - NV*(1e4+h): a short is weighted by (1+h), never reduced (S3).
		ca := api.Sub(api.Mul(v.pv[a], api.Sub(BpsOne, pol.Haircut[a])), api.Mul(v.nv[a], api.Add(BpsOne, pol.Haircut[a])))
		coll = api.Add(coll, ca)
		v.hn[a] = api.Sub(ca, api.Mul(v.lv[a], BpsOne)) // |hn| < 2^185 once the totals are bounded
	}
	// Options and pool shares: long values at (1e4-h), short liabilities (derivatives.go).
	coll = api.Add(coll, v.der.coll)
	v.sumPV, v.sumNV, v.sumLV, v.coll = sumPV, sumNV, sumLV, coll
	v.nr = api.Sub(sumPV, sumNV)       // |NR| < 2^170 once the totals are bounded
	v.nrd = api.Add(v.nr, v.der.nrAdj) // |NRd| < 2^173 once the totals are bounded
}
