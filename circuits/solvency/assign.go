package solvency

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/frontend"

	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// Witness is everything the prover holds: the twin's inputs plus the statement's scalars, the
// reserves salt and the liabilities opening.
type Witness struct {
	Inputs
	Slots int // P: position slots (>= len(Positions)); unused slots hold zero amounts
	// Option and pool slots (>= len(Options), len(Pools)); unused slots hold zero sizes.
	OptionSlots, PoolSlots int
	Meta                   Meta
	RCSalt                 fr.Element
	Opening                LiabilitiesOpening
}

// Shape is the witness's circuit shape.
func (w *Witness) Shape() Shape {
	s := w.Policy.Shape(w.Slots)
	s.Options, s.Pools = w.OptionSlots, w.PoolSlots
	return s
}

// padded returns the positions padded with zero-amount slots (venue 0, asset 0).
func (w *Witness) padded() ([]Position, error) {
	if len(w.Positions) > w.Slots {
		return nil, fmt.Errorf("%d positions do not fit %d slots", len(w.Positions), w.Slots)
	}
	out := append([]Position(nil), w.Positions...)
	for len(out) < w.Slots {
		out = append(out, Position{Amount: new(big.Int)})
	}
	return out, nil
}

// paddedDerivatives returns the options and pools padded with zero slots.
func (w *Witness) paddedDerivatives() ([]OptionPosition, []PoolPosition, error) {
	if len(w.Options) > w.OptionSlots || len(w.Pools) > w.PoolSlots {
		return nil, nil, fmt.Errorf("%d options and %d pool shares do not fit %d and %d slots",
			len(w.Options), len(w.Pools), w.OptionSlots, w.PoolSlots)
	}
	opts := append([]OptionPosition(nil), w.Options...)
	for len(opts) < w.OptionSlots {
		opts = append(opts, OptionPosition{Size: new(big.Int)})
	}
	pools := append([]PoolPosition(nil), w.Pools...)
	for len(pools) < w.PoolSlots {
		pools = append(pools, PoolPosition{AmountA: new(big.Int), AmountB: new(big.Int)})
	}
	return opts, pools, nil
}

// canonicalZero refuses a zero-size option with any other field set: the padding slot has one
// encoding, every field zero, as the circuit requires (one RC, one opening).
func (o OptionPosition) canonicalZero() error {
	if o.Size != nil && o.Size.Sign() == 0 && (o.Short || o.Put || o.Strike != 0 || o.Expiry != 0 || o.Asset != 0 || o.Venue != 0) {
		return errors.New("a zero-size option must have every other field zero (the padding slot has one encoding)")
	}
	return nil
}

// canonicalZero refuses a pool share with both amounts zero and any asset or venue but 0.
func (p PoolPosition) canonicalZero() error {
	if p.AmountA != nil && p.AmountB != nil && p.AmountA.Sign() == 0 && p.AmountB.Sign() == 0 && (p.AssetA != 0 || p.AssetB != 0 || p.Venue != 0) {
		return errors.New("a pool share with both amounts zero must name assets 0 and 0 at venue 0 (the padding slot has one encoding)")
	}
	return nil
}

// OptionRecord is an option's RC record: size (64) | short (1) | put (1) | asset (8) | venue (8)
// | strike (63) | expiry (64), 209 bits, one per field element.
func OptionRecord(o OptionPosition) (*big.Int, error) {
	if o.Size == nil || o.Size.Sign() < 0 || o.Size.BitLen() > MagBits || (o.Short && o.Size.Sign() == 0) ||
		o.Asset < 0 || o.Asset > 255 || o.Venue < 0 || o.Venue > 255 || o.Strike >= 1<<StrikeBits {
		return nil, errors.New("option is outside the record's ranges")
	}
	if err := o.canonicalZero(); err != nil {
		return nil, err
	}
	r := new(big.Int).Set(o.Size)
	if o.Short {
		r.SetBit(r, 64, 1)
	}
	if o.Put {
		r.SetBit(r, 65, 1)
	}
	r.Or(r, new(big.Int).Lsh(big.NewInt(int64(o.Asset)), 66))
	r.Or(r, new(big.Int).Lsh(big.NewInt(int64(o.Venue)), 74))
	r.Or(r, new(big.Int).Lsh(new(big.Int).SetUint64(o.Strike), 82))
	r.Or(r, new(big.Int).Lsh(new(big.Int).SetUint64(o.Expiry), 145))
	return r, nil
}

// PoolRecord is a pool share's RC record: amountA (64) | amountB (64) | assetA (8) | assetB (8) |
// venue (8), 152 bits, one per field element.
func PoolRecord(p PoolPosition) (*big.Int, error) {
	if p.AmountA == nil || p.AmountB == nil || p.AmountA.Sign() < 0 || p.AmountB.Sign() < 0 ||
		p.AmountA.BitLen() > MagBits || p.AmountB.BitLen() > MagBits ||
		p.AssetA < 0 || p.AssetA > 255 || p.AssetB < 0 || p.AssetB > 255 || p.Venue < 0 || p.Venue > 255 {
		return nil, errors.New("pool share is outside the record's ranges")
	}
	if err := p.canonicalZero(); err != nil {
		return nil, err
	}
	r := new(big.Int).Set(p.AmountA)
	r.Or(r, new(big.Int).Lsh(p.AmountB, 64))
	r.Or(r, new(big.Int).Lsh(big.NewInt(int64(p.AssetA)), 128))
	r.Or(r, new(big.Int).Lsh(big.NewInt(int64(p.AssetB)), 136))
	r.Or(r, new(big.Int).Lsh(big.NewInt(int64(p.Venue)), 144))
	return r, nil
}

// SlotCountBits is the width of each slot count in RC's counts element.
const SlotCountBits = 16

// SlotCounts is RC's last element, P | O<<16 | L<<32 (positions, option and pool slots), or nil
// when there are no option or pool slots (RC is then the positions' commitment alone, unchanged
// from before derivatives). It binds the split of the records between options and pools: an
// opening that reads the same records with other counts hashes another last element (R1).
// Counts are < 2^16 each (the shapes are far smaller), so the element is injective.
func SlotCounts(positions, options, pools int) *big.Int {
	if options+pools == 0 {
		return nil
	}
	e := new(big.Int).SetUint64(uint64(positions))
	e.Or(e, new(big.Int).Lsh(big.NewInt(int64(options)), SlotCountBits))
	return e.Or(e, new(big.Int).Lsh(big.NewInt(int64(pools)), 2*SlotCountBits))
}

// ReservesCommitmentAll is RC over positions, options and pool shares (each list already padded
// to its slot count): Hash(RC, salt, positions three records per element, one element per option
// record, one per pool record, then SlotCounts(P, O, L) when O+L > 0). With no option or pool
// slots it equals ReservesCommitment.
func ReservesCommitmentAll(h *poseidon.Hasher, positions []Position, options []OptionPosition, pools []PoolPosition, salt fr.Element) (fr.Element, error) {
	for _, n := range []int{len(positions), len(options), len(pools)} {
		if n >= 1<<SlotCountBits {
			return fr.Element{}, fmt.Errorf("%d slots do not fit the commitment's %d-bit count", n, SlotCountBits)
		}
	}
	in, err := positionElements(positions, salt)
	if err != nil {
		return fr.Element{}, err
	}
	for i, o := range options {
		r, err := OptionRecord(o)
		if err != nil {
			return fr.Element{}, fmt.Errorf("option %d: %w", i, err)
		}
		var e fr.Element
		e.SetBigInt(r)
		in = append(in, e)
	}
	for i, p := range pools {
		r, err := PoolRecord(p)
		if err != nil {
			return fr.Element{}, fmt.Errorf("pool share %d: %w", i, err)
		}
		var e fr.Element
		e.SetBigInt(r)
		in = append(in, e)
	}
	if cnt := SlotCounts(len(positions), len(options), len(pools)); cnt != nil {
		var e fr.Element
		e.SetBigInt(cnt)
		in = append(in, e)
	}
	return h.Hash(poseidon.TagRC, in...), nil
}

// ReservesCommitment is RC = Hash(RC, salt, packed positions): each position is the 81-bit
// record |amount| + neg*2^64 + asset*2^65 + venue*2^73, three records per element.
func ReservesCommitment(h *poseidon.Hasher, positions []Position, salt fr.Element) (fr.Element, error) {
	return ReservesCommitmentAll(h, positions, nil, nil, salt)
}

func positionElements(positions []Position, salt fr.Element) ([]fr.Element, error) {
	in := []fr.Element{salt}
	for i := 0; i < len(positions); i += 3 {
		acc := new(big.Int)
		for k := 2; k >= 0; k-- {
			acc.Lsh(acc, 81)
			if i+k >= len(positions) {
				continue
			}
			p := positions[i+k]
			if p.Amount == nil || p.Amount.CmpAbs(two64) >= 0 || p.Asset < 0 || p.Asset > 255 || p.Venue < 0 || p.Venue > 255 {
				return nil, fmt.Errorf("position %d is outside the record's ranges", i+k)
			}
			rec := new(big.Int).Abs(p.Amount)
			if p.Amount.Sign() < 0 {
				rec.SetBit(rec, 64, 1)
			}
			rec.Or(rec, new(big.Int).Lsh(big.NewInt(int64(p.Asset)), 65))
			rec.Or(rec, new(big.Int).Lsh(big.NewInt(int64(p.Venue)), 73))
			acc.Add(acc, rec)
		}
		var e fr.Element
		e.SetBigInt(acc)
		in = append(in, e)
	}
	return in, nil
}

// ReservesCommitment is RC over the witness's positions, options and pool shares, each padded to
// its slot count; the salt is given (the witness's own RCSalt, or an opening's).
func (w *Witness) ReservesCommitment(h *poseidon.Hasher, salt fr.Element) (fr.Element, error) {
	pos, err := w.padded()
	if err != nil {
		return fr.Element{}, err
	}
	opts, pools, err := w.paddedDerivatives()
	if err != nil {
		return fr.Element{}, err
	}
	return ReservesCommitmentAll(h, pos, opts, pools, salt)
}

// AccCommit is the running-sum commitment of docs/design.md: Hash(ACC, epoch, totals packed as
// 96-bit limbs two per element, salt).
func AccCommit(h *poseidon.Hasher, epoch uint64, totals []*big.Int, salt fr.Element) (fr.Element, error) {
	in := []fr.Element{poseidon.Uint64(epoch)}
	for a := 0; a < len(totals); a += 2 {
		e, err := poseidon.PackLimbs(totals[a:min(a+2, len(totals))], LiabBits)
		if err != nil {
			return fr.Element{}, fmt.Errorf("liability totals: %w", err)
		}
		in = append(in, e)
	}
	in = append(in, salt)
	return h.Hash(poseidon.TagAcc, in...), nil
}

// LiabilitiesCommitment is LC = Hash(LC, epoch, snapshotTime, h, n, D, root, accFinal, assetsHash).
func LiabilitiesCommitment(h *poseidon.Hasher, epoch, snapTime uint64, o LiabilitiesOpening, accFinal, assetsHash fr.Element) fr.Element {
	return h.Hash(poseidon.TagLC, poseidon.Uint64(epoch), poseidon.Uint64(snapTime), poseidon.Uint64(o.Height),
		poseidon.Uint64(o.Batches), poseidon.Uint64(o.Depth), o.Root, accFinal, assetsHash)
}

// Statement computes the public statement of the witness.
func (w *Witness) Statement(h *poseidon.Hasher) (*Statement, error) {
	if err := w.Inputs.Validate(); err != nil {
		return nil, err
	}
	if w.Meta.SnapshotTime >= 1<<MetaTime {
		return nil, errors.New("snapshot time does not fit 40 bits")
	}
	for j, o := range w.Options {
		// The circuit refuses an expired option (the engine settles them before proving).
		if o.Size.Sign() != 0 && o.Expiry <= w.Meta.SnapshotTime {
			return nil, fmt.Errorf("option %d expires at %d, not after the snapshot time %d: settle it into positions", j, o.Expiry, w.Meta.SnapshotTime)
		}
	}
	ah := w.Table.Hash(h)
	if ah != w.Policy.AssetsHash {
		return nil, errors.New("the policy's assetsHash is not the asset table's hash (L8)")
	}
	ph, err := w.Policy.Hash(h)
	if err != nil {
		return nil, err
	}
	pos, err := w.padded()
	if err != nil {
		return nil, err
	}
	opts, pools, err := w.paddedDerivatives()
	if err != nil {
		return nil, err
	}
	rc, err := ReservesCommitmentAll(h, pos, opts, pools, w.RCSalt)
	if err != nil {
		return nil, err
	}
	acc, err := AccCommit(h, w.Meta.SnapshotEpoch, w.Liabilities, w.Opening.AccSalt)
	if err != nil {
		return nil, err
	}
	return &Statement{
		PolicyHash: ph,
		LC:         LiabilitiesCommitment(h, w.Meta.SnapshotEpoch, w.Meta.SnapshotTime, w.Opening, acc, ah),
		RC:         rc,
		Meta:       w.Meta,
		Prices:     append([]uint64(nil), w.Prices...),
	}, nil
}

func b01(b bool) int {
	if b {
		return 1
	}
	return 0
}

func oneHotVals(n, idx int) []frontend.Variable {
	out := make([]frontend.Variable, n)
	for i := range out {
		out[i] = 0
		if i == idx {
			out[i] = 1
		}
	}
	return out
}

// Assign builds the full assignment (public and private) from the witness. It does not require
// the limits to pass: a failing witness yields an assignment that does not satisfy the circuit.
func Assign(h *poseidon.Hasher, w *Witness) (*Circuit, error) {
	st, err := w.Statement(h)
	if err != nil {
		return nil, err
	}
	s := w.Shape()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	pos, err := w.padded()
	if err != nil {
		return nil, err
	}
	p := w.Policy
	A := s.Assets
	c := NewCircuit(s)
	pub, err := PublicInputs(st)
	if err != nil {
		return nil, err
	}
	c.PolicyHash, c.LC, c.RC, c.Meta = pub[0], pub[1], pub[2], pub[3]
	for i := range c.PriceWords {
		c.PriceWords[i] = pub[4+i]
	}
	c.Cycle, c.ReservesBlock, c.SnapEpoch, c.SnapTime = w.Meta.Cycle, w.Meta.ReservesBlock, w.Meta.SnapshotEpoch, w.Meta.SnapshotTime
	for a, as := range w.Table.Assets {
		c.Prices[a] = w.Prices[a]
		var sym fr.Element
		sym.SetBytes([]byte(as.Symbol))
		c.Symbols[a] = sym.BigInt(new(big.Int))
		c.Decimals[a] = int(as.Decimals)
		c.Precisions[a] = int(as.Precision)
		c.Liabilities[a] = new(big.Int).Set(w.Liabilities[a])
	}
	assignPolicy(&c.Policy, p)
	for j, ps := range pos {
		c.Positions[j].Mag = new(big.Int).Abs(ps.Amount)
		c.Positions[j].Neg = b01(ps.Amount.Sign() < 0)
		c.Positions[j].Asset = oneHotVals(A, ps.Asset)
		c.Positions[j].Venue = oneHotVals(s.Venues, ps.Venue)
	}
	if err := assignDerivatives(c, w); err != nil {
		return nil, err
	}
	c.RCSalt = w.RCSalt.BigInt(new(big.Int))
	c.AccSalt = w.Opening.AccSalt.BigInt(new(big.Int))
	c.TreeHeight, c.Batches, c.Depth = w.Opening.Height, w.Opening.Batches, w.Opening.Depth
	c.Root = w.Opening.Root.BigInt(new(big.Int))

	// VaR rounding witnesses, computed as the twin does (zero when VaR is disabled).
	rep, err := Evaluate(&w.Inputs)
	if err != nil {
		return nil, err
	}
	sur := rep.SurplusBps
	c.SurQ, c.SurR = 0, 0
	if p.VaR.Enabled {
		if sur.Sign() >= 0 {
			q := SurplusCoarse(sur)
			c.SurQ = q
			c.SurR = new(big.Int).Sub(sur, new(big.Int).Mul(q, new(big.Int).Lsh(big.NewInt(BpsOne), CoarseShift)))
		}
		// With SUR < 0 no honest decomposition exists: the zero assignment does not satisfy (S5).
	}
	for a := 0; a < A; a++ {
		c.XNeg[a], c.XQ[a], c.XR[a] = 0, 0, 0
		if !p.VaR.Enabled {
			continue
		}
		X := rep.NetExposure[a]
		x := roundAway(X, CoarseShift)
		mq := new(big.Int).Abs(x)
		c.XQ[a] = mq
		c.XR[a] = new(big.Int).Sub(new(big.Int).Lsh(mq, CoarseShift), new(big.Int).Abs(X))
		c.XNeg[a] = b01(X.Sign() < 0)
	}
	return c, nil
}

func assignPolicy(pv *PolicyVars, p *Policy) {
	pv.ChainID = p.ChainID
	pv.Registry = new(big.Int).SetBytes(p.Registry[:])
	pv.MinCR = p.MinCollateralBps
	pv.LiqEnabled = b01(p.Liquidity.Enabled)
	pv.LiqFloor = p.Liquidity.FloorBps
	for t, l := range p.Liquidity.LiquidTiers {
		pv.LiqTiers[t] = b01(l)
	}
	pv.VaREnabled, pv.Z, pv.Horizon = b01(p.VaR.Enabled), p.VaR.Z, p.VaR.HorizonDays
	for a, ar := range p.Assets {
		pv.Haircut[a], pv.InKind[a], pv.Liquid[a] = ar.HaircutBps, b01(ar.InKind), b01(ar.Liquid)
		pv.CapEnabled[a], pv.Cap[a] = b01(ar.Cap.Enabled), ar.Cap.Bps
	}
	for v, vn := range p.Venues {
		pv.VenueGroup[v] = oneHotVals(len(p.GroupCaps), vn.Group)
		pv.VenueTier[v] = oneHotVals(len(p.Liquidity.LiquidTiers), vn.Tier)
	}
	for g, c := range p.GroupCaps {
		pv.GroupCapEnabled[g], pv.GroupCap[g] = b01(c.Enabled), c.Bps
	}
	for k, t := range p.Targets {
		pv.TargetEnabled[k], pv.Target[k], pv.Band[k] = b01(t.Enabled), t.WeightBps, t.BandBps
		for a, m := range t.Assets {
			pv.TargetAssets[k][a] = b01(m)
		}
	}
	for s, sc := range p.Scenarios {
		pv.ScenEnabled[s] = b01(sc.Enabled)
		for a, sh := range sc.ShockBps {
			pv.ScenMult[s][a] = int64(sh) + BpsOne
		}
	}
	d := &p.Derivatives
	for a := range p.Assets {
		b := d.deltaBand(a)
		pv.ShortCharge[a], pv.DeltaEnabled[a], pv.DeltaBps[a] = d.charge(a), b01(b.Enabled), b.Bps
	}
	pv.GammaEnabled, pv.GammaBps = b01(d.GammaFloor.Enabled), d.GammaFloor.Bps
	pv.VegaEnabled, pv.VegaBps = b01(d.VegaCap.Enabled), d.VegaCap.Bps
	i := 0
	for r := range p.VaR.L {
		for col := 0; col <= r; col++ {
			e := p.VaR.L[r][col]
			pv.LNeg[i] = b01(e < 0)
			if e < 0 {
				e = -e
			}
			pv.LMag[i] = e
			i++
		}
	}
}

// PublicAssignment is a circuit assignment with only the public inputs set, for
// frontend.NewWitness(..., frontend.PublicOnly()) on the verifier's side.
func PublicAssignment(s Shape, st *Statement) (*Circuit, error) {
	if len(st.Prices) != s.Assets {
		return nil, fmt.Errorf("statement has %d prices for %d assets", len(st.Prices), s.Assets)
	}
	c := NewCircuit(s)
	pub, err := PublicInputs(st)
	if err != nil {
		return nil, err
	}
	c.PolicyHash, c.LC, c.RC, c.Meta = pub[0], pub[1], pub[2], pub[3]
	for i := range c.PriceWords {
		c.PriceWords[i] = pub[4+i]
	}
	return c, nil
}

// assignDerivatives fills the option and pool slots and their hints from the twin.
func assignDerivatives(c *Circuit, w *Witness) error {
	opts, pools, err := w.paddedDerivatives()
	if err != nil {
		return err
	}
	s := c.shape
	in := w.Inputs
	in.Options, in.Pools = opts, pools
	wv := make([]*big.Int, s.Assets)
	for a := range wv {
		wv[a] = unitValue(w.Prices[a], w.Table.Assets[a].Precision)
	}
	d := twinDerivatives(&in, wv)
	for j, o := range opts {
		ov := &c.Options[j]
		ov.Size, ov.Short, ov.Put = new(big.Int).Set(o.Size), b01(o.Short), b01(o.Put)
		ov.Strike, ov.Expiry = o.Strike, o.Expiry
		ov.Asset, ov.Venue = oneHotVals(s.Assets, o.Asset), oneHotVals(s.Venues, o.Venue)
		ov.ITM = b01(d.opts[j].itm)
		for si := range ov.ITMS {
			ov.ITMS[si] = b01(d.opts[j].itmS[si])
		}
	}
	for j, p := range pools {
		pv, ev := &c.Pools[j], d.pools[j]
		pv.AmountA, pv.AmountB = new(big.Int).Set(p.AmountA), new(big.Int).Set(p.AmountB)
		pv.AssetA, pv.AssetB = oneHotVals(s.Assets, p.AssetA), oneHotVals(s.Assets, p.AssetB)
		pv.Venue = oneHotVals(s.Venues, p.Venue)
		pv.QA, pv.RA, pv.QB, pv.RB, pv.Root = ev.qa, ev.ra, ev.qb, ev.rb, ev.root
		pv.HB = b01(ev.hb)
		for si := range pv.RootS {
			pv.RootS[si] = ev.rootS[si]
		}
	}
	r := new(big.Int).Sub(new(big.Int).Mul(d.chargeCeil, bpsK), d.oc)
	c.ChargeQ, c.ChargeR = d.chargeCeil, r
	return nil
}
