// Package solvency is the on-chain statement: a treasury's private positions, valued at public
// oracle prices after haircuts, cover the private liabilities opened from the liabilities
// commitment, and every governance risk limit of a public policy holds. It holds the Groth16
// circuit and, beside it, the native twin (the same integer computation in plain Go) that builds
// witnesses, reports each limit and tests the circuit.
//
// The encodings are documented in docs/policy-encoding.md (policy) and docs/design.md (public
// inputs, LC, running sums); this file holds the policy's canonical form and its hash.
package solvency

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// Bit widths of policy fields (S6). Every field is range-checked to its width in the circuit;
// basis-point fields are additionally checked against 10000 where the text says so.
const (
	BpsBits       = 14 // haircuts, caps, targets, bands: 0..10000 (< 2^14)
	FloorBits     = 16 // liquidity floor, min collateral ratio: bps up to 65535
	MultBits      = 16 // stress multiplier 10000 + shock: shock in [-10000, 55535]
	ZBits         = 16 // z-score scaled by ZScale
	HorizonBits   = 10 // VaR horizon in days, < 1024
	CholBits      = 24 // |L_ij| scaled by CholScale, < 2^24
	ChainIDBits   = 64
	RegistryBits  = 160
	PolicyVersion = 2 // 2: the derivatives block (short-option charges, Greek limits) was added

	BpsOne    = 10000
	ZScale    = 10000   // z-score fixed point: 2.3263 -> 23263
	CholScale = 1000000 // Cholesky entries fixed point: 0.05 -> 50000 (daily return units)
)

// Cap is an optional upper bound in bps of net reserves.
type Cap struct {
	Enabled bool
	Bps     uint32
}

// Target is an optional target weight with a symmetric band for a bucket of assets (ETH and
// stETH, the stablecoins...), both in bps of net reserves: the bucket's net value must lie in
// [(weight-band), (weight+band)] of net reserves.
type Target struct {
	Enabled   bool
	Assets    []bool // per asset slot: member of the bucket
	WeightBps uint32
	BandBps   uint32
}

// AssetRule is the policy for one asset slot.
type AssetRule struct {
	HaircutBps uint32 // 0..10000; a long is valued at (1-h), a short at (1+h) (S3)
	InKind     bool   // net reserves of this asset must cover its liabilities on their own
	Liquid     bool   // counts toward the liquidity buffer when held at a liquid-tier venue
	Cap        Cap    // concentration cap on gross exposure
}

// Venue is one venue's metadata (S4): the group (protocol) it belongs to and its liquidity tier.
type Venue struct {
	Group int // index into Policy.GroupCaps
	Tier  int // index into Liquidity.LiquidTiers
}

// Liquidity is the liquidity buffer: liquid value >= FloorBps of liabilities' value.
type Liquidity struct {
	Enabled     bool
	FloorBps    uint32
	LiquidTiers []bool // per tier: positions at venues of this tier count as liquid
}

// Scenario is one stress scenario: a signed price shock per asset in bps, each >= -10000.
type Scenario struct {
	Enabled  bool
	ShockBps []int32
}

// VaR is the parametric Value-at-Risk limit z^2 * h * |L^T x|^2 <= surplus^2 (S5).
type VaR struct {
	Enabled     bool
	Z           uint32    // z-score * ZScale
	HorizonDays uint32    // h
	L           [][]int64 // lower-triangular Cholesky factor of the daily return covariance * CholScale; L[i][j] for j <= i
}

// GreekBand is an optional Greek limit in bps of reserves (docs/greeks.md). The proof commits it
// through the policy hash; the engine and its report enforce it, because model Greeks are the
// engine's, not the circuit's.
type GreekBand struct {
	Enabled bool
	Bps     uint32 // 0..10000
}

// DerivativesPolicy is the policy for options and pool shares. ShortChargeBps is proven: a short
// option on asset a is a liability of its intrinsic value (weighted 1e4+h like any short) plus
// ShortChargeBps[a] of its notional at the oracle price. The Greek limits are committed but not
// proven (docs/greeks.md): |net delta * price| <= DeltaBands[a].Bps of reserves per asset, cash
// gamma (USD per 1% move) >= -GammaFloor.Bps of reserves, |vega per vol point| <= VegaCap.Bps of
// reserves. Nil slices mean zero charges and disabled bands (the encoding is fixed arity either
// way: one entry per asset slot).
type DerivativesPolicy struct {
	ShortChargeBps []uint32    // per asset slot, 0..10000
	DeltaBands     []GreekBand // per asset slot
	GammaFloor     GreekBand
	VegaCap        GreekBand
}

// charge returns asset a's short-option charge (0 when the slice is nil).
func (d *DerivativesPolicy) charge(a int) uint32 {
	if d.ShortChargeBps == nil {
		return 0
	}
	return d.ShortChargeBps[a]
}

// deltaBand returns asset a's delta band (disabled when the slice is nil).
func (d *DerivativesPolicy) deltaBand(a int) GreekBand {
	if d.DeltaBands == nil {
		return GreekBand{}
	}
	return d.DeltaBands[a]
}

// Policy is the canonical, fixed-arity policy that the circuit hashes (S6). Its shape (number
// of assets, venues, groups, tiers, scenarios) is part of the preimage.
type Policy struct {
	ChainID          uint64
	Registry         [20]byte
	AssetsHash       fr.Element // L8: must equal the asset table's hash
	MinCollateralBps uint32     // 10000..65535
	Assets           []AssetRule
	Venues           []Venue
	GroupCaps        []Cap
	Targets          []Target // target buckets
	Liquidity        Liquidity
	Scenarios        []Scenario
	VaR              VaR
	Derivatives      DerivativesPolicy
}

// Shape returns the policy's dimensions with the given number of position slots.
func (p *Policy) Shape(positions int) Shape {
	return Shape{
		Assets:    len(p.Assets),
		Positions: positions,
		Venues:    len(p.Venues),
		Groups:    len(p.GroupCaps),
		Tiers:     len(p.Liquidity.LiquidTiers),
		Scenarios: len(p.Scenarios),
		Buckets:   len(p.Targets),
	}
}

// Validate checks every range the circuit checks, plus canonical form: a disabled limit's
// fields are zero, so that one effective policy has one hash.
func (p *Policy) Validate() error {
	s := p.Shape(1)
	if err := s.Validate(); err != nil {
		return err
	}
	if p.MinCollateralBps < BpsOne || p.MinCollateralBps >= 1<<FloorBits {
		return fmt.Errorf("min collateral ratio %d bps: want 10000..65535 (reserves must cover liabilities)", p.MinCollateralBps)
	}
	for i, a := range p.Assets {
		if a.HaircutBps > BpsOne {
			return fmt.Errorf("asset %d: haircut %d bps is above 10000", i, a.HaircutBps)
		}
		if err := checkCap(a.Cap); err != nil {
			return fmt.Errorf("asset %d: cap: %w", i, err)
		}
	}
	for i, t := range p.Targets {
		if t.WeightBps > BpsOne || t.BandBps > BpsOne {
			return fmt.Errorf("target %d: weight %d bps, band %d bps: each at most 10000", i, t.WeightBps, t.BandBps)
		}
		if len(t.Assets) != s.Assets {
			return fmt.Errorf("target %d: %d membership flags for %d assets", i, len(t.Assets), s.Assets)
		}
		if !t.Enabled {
			if t.WeightBps != 0 || t.BandBps != 0 {
				return fmt.Errorf("target %d: a disabled target must have zero weight and band", i)
			}
			for _, m := range t.Assets {
				if m {
					return fmt.Errorf("target %d: a disabled target must have no member assets", i)
				}
			}
		}
	}
	for i, v := range p.Venues {
		if v.Group < 0 || v.Group >= s.Groups {
			return fmt.Errorf("venue %d: group %d out of range [0, %d)", i, v.Group, s.Groups)
		}
		if v.Tier < 0 || v.Tier >= s.Tiers {
			return fmt.Errorf("venue %d: tier %d out of range [0, %d)", i, v.Tier, s.Tiers)
		}
	}
	for g, c := range p.GroupCaps {
		if err := checkCap(c); err != nil {
			return fmt.Errorf("group %d: cap: %w", g, err)
		}
	}
	l := p.Liquidity
	if l.FloorBps >= 1<<FloorBits {
		return fmt.Errorf("liquidity floor %d bps: at most 65535", l.FloorBps)
	}
	if !l.Enabled && l.FloorBps != 0 {
		return errors.New("liquidity: a disabled buffer must have a zero floor")
	}
	for i, sc := range p.Scenarios {
		if len(sc.ShockBps) != s.Assets {
			return fmt.Errorf("scenario %d: %d shocks for %d assets", i, len(sc.ShockBps), s.Assets)
		}
		for a, sh := range sc.ShockBps {
			if sh < -BpsOne || int64(sh)+BpsOne >= 1<<MultBits {
				return fmt.Errorf("scenario %d, asset %d: shock %d bps: want -10000..55535", i, a, sh)
			}
			if !sc.Enabled && sh != 0 {
				return fmt.Errorf("scenario %d: a disabled scenario must have zero shocks", i)
			}
		}
	}
	v := p.VaR
	if v.Z >= 1<<ZBits || v.HorizonDays >= 1<<HorizonBits {
		return fmt.Errorf("VaR: z %d (< 65536) or horizon %d days (< 1024) out of range", v.Z, v.HorizonDays)
	}
	if v.Enabled && v.HorizonDays == 0 {
		return errors.New("VaR: horizon must be at least one day when enabled")
	}
	if len(v.L) != s.Assets {
		return fmt.Errorf("VaR: Cholesky factor has %d rows for %d assets", len(v.L), s.Assets)
	}
	for i, row := range v.L {
		if len(row) != i+1 {
			return fmt.Errorf("VaR: Cholesky row %d has %d entries, want %d (lower triangle)", i, len(row), i+1)
		}
		for j, e := range row {
			if e <= -(1<<CholBits) || e >= 1<<CholBits {
				return fmt.Errorf("VaR: L[%d][%d] = %d: magnitude must be below 2^%d", i, j, e, CholBits)
			}
			if !v.Enabled && e != 0 {
				return errors.New("VaR: a disabled VaR must have a zero factor")
			}
		}
	}
	if !v.Enabled && (v.Z != 0 || v.HorizonDays != 0) {
		return errors.New("VaR: a disabled VaR must have zero z and horizon")
	}
	return p.Derivatives.validate(s.Assets)
}

func (d *DerivativesPolicy) validate(assets int) error {
	if d.ShortChargeBps != nil && len(d.ShortChargeBps) != assets {
		return fmt.Errorf("derivatives: %d short-option charges for %d assets", len(d.ShortChargeBps), assets)
	}
	for a, c := range d.ShortChargeBps {
		if c > BpsOne {
			return fmt.Errorf("derivatives: asset %d: short-option charge %d bps is above 10000", a, c)
		}
	}
	if d.DeltaBands != nil && len(d.DeltaBands) != assets {
		return fmt.Errorf("derivatives: %d delta bands for %d assets", len(d.DeltaBands), assets)
	}
	for a, b := range d.DeltaBands {
		if err := checkCap(Cap(b)); err != nil {
			return fmt.Errorf("derivatives: asset %d: delta band: %w", a, err)
		}
	}
	if err := checkCap(Cap(d.GammaFloor)); err != nil {
		return fmt.Errorf("derivatives: gamma floor: %w", err)
	}
	if err := checkCap(Cap(d.VegaCap)); err != nil {
		return fmt.Errorf("derivatives: vega cap: %w", err)
	}
	return nil
}

func checkCap(c Cap) error {
	if c.Bps > BpsOne {
		return fmt.Errorf("%d bps is above 10000", c.Bps)
	}
	if !c.Enabled && c.Bps != 0 {
		return errors.New("a disabled cap must be zero")
	}
	return nil
}

// field is one entry of the canonical layout: a non-negative value of at most width bits.
type field struct {
	v     *big.Int
	width int
}

func u(v uint64, w int) field { return field{new(big.Int).SetUint64(v), w} }
func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// idxBits is the width of an index below n (at least 1).
func idxBits(n int) int {
	w := 1
	for (1 << w) < n {
		w++
	}
	return w
}

// fields is the canonical layout, in order (docs/policy-encoding.md). The circuit builds the
// same list from its variables in policyFieldVars; TestPolicyHashGoEqualsCircuit pins them equal.
func (p *Policy) fields() []field {
	s := p.Shape(1)
	var f []field
	add := func(x ...field) { f = append(f, x...) }
	add(u(PolicyVersion, 16), u(uint64(s.Assets), 16), u(uint64(s.Venues), 16), u(uint64(s.Groups), 16),
		u(uint64(s.Tiers), 16), u(uint64(s.Scenarios), 16), u(uint64(s.Buckets), 16))
	add(u(p.ChainID, ChainIDBits), field{new(big.Int).SetBytes(p.Registry[:]), RegistryBits})
	add(u(uint64(p.MinCollateralBps), FloorBits))
	add(u(b2u(p.Liquidity.Enabled), 1), u(uint64(p.Liquidity.FloorBps), FloorBits))
	for _, t := range p.Liquidity.LiquidTiers {
		add(u(b2u(t), 1))
	}
	add(u(b2u(p.VaR.Enabled), 1), u(uint64(p.VaR.Z), ZBits), u(uint64(p.VaR.HorizonDays), HorizonBits))
	for _, a := range p.Assets {
		add(u(uint64(a.HaircutBps), BpsBits), u(b2u(a.InKind), 1), u(b2u(a.Liquid), 1),
			u(b2u(a.Cap.Enabled), 1), u(uint64(a.Cap.Bps), BpsBits))
	}
	for _, v := range p.Venues {
		add(u(uint64(v.Group), idxBits(s.Groups)), u(uint64(v.Tier), idxBits(s.Tiers)))
	}
	for _, c := range p.GroupCaps {
		add(u(b2u(c.Enabled), 1), u(uint64(c.Bps), BpsBits))
	}
	for _, t := range p.Targets {
		add(u(b2u(t.Enabled), 1), u(uint64(t.WeightBps), BpsBits), u(uint64(t.BandBps), BpsBits))
		for _, m := range t.Assets {
			add(u(b2u(m), 1))
		}
	}
	for _, sc := range p.Scenarios {
		add(u(b2u(sc.Enabled), 1))
		for _, sh := range sc.ShockBps {
			add(u(uint64(int64(sh)+BpsOne), MultBits)) // multiplier 10000 + shock >= 0
		}
	}
	for i := range p.VaR.L {
		for j := 0; j <= i; j++ {
			e := p.VaR.L[i][j]
			neg := e < 0
			if neg {
				e = -e
			}
			add(u(b2u(neg), 1), u(uint64(e), CholBits)) // sign bit, magnitude
		}
	}
	d := &p.Derivatives
	for a := 0; a < s.Assets; a++ {
		add(u(uint64(d.charge(a)), BpsBits))
	}
	for a := 0; a < s.Assets; a++ {
		b := d.deltaBand(a)
		add(u(b2u(b.Enabled), 1), u(uint64(b.Bps), BpsBits))
	}
	add(u(b2u(d.GammaFloor.Enabled), 1), u(uint64(d.GammaFloor.Bps), BpsBits))
	add(u(b2u(d.VegaCap.Enabled), 1), u(uint64(d.VegaCap.Bps), BpsBits))
	return f
}

// packBits is the payload of one packed element: fields never straddle elements, and 248 bits
// keep every packed element below p.
const packBits = 248

// packLayout assigns each field (by width) an element index and bit offset.
func packLayout(widths []int) (elem []int, off []int, n int) {
	elem = make([]int, len(widths))
	off = make([]int, len(widths))
	cur, pos := 0, 0
	for i, w := range widths {
		if pos+w > packBits {
			cur++
			pos = 0
		}
		elem[i], off[i] = cur, pos
		pos += w
	}
	return elem, off, cur + 1
}

// Elements is the policy hash preimage after the tag: assetsHash, then the packed fields.
func (p *Policy) Elements() ([]fr.Element, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	fs := p.fields()
	widths := make([]int, len(fs))
	for i, x := range fs {
		widths[i] = x.width
		if x.v.Sign() < 0 || x.v.BitLen() > x.width {
			return nil, fmt.Errorf("policy field %d (%s) does not fit %d bits", i, x.v, x.width)
		}
	}
	elem, off, n := packLayout(widths)
	acc := make([]*big.Int, n)
	for i := range acc {
		acc[i] = new(big.Int)
	}
	for i, x := range fs {
		acc[elem[i]].Or(acc[elem[i]], new(big.Int).Lsh(x.v, uint(off[i])))
	}
	out := make([]fr.Element, 0, n+1)
	out = append(out, p.AssetsHash)
	for _, a := range acc {
		var e fr.Element
		e.SetBigInt(a)
		out = append(out, e)
	}
	return out, nil
}

// Hash is the policy hash: Hash(TagPolicy, assetsHash, packed fields...).
func (p *Policy) Hash(h *poseidon.Hasher) (fr.Element, error) {
	el, err := p.Elements()
	if err != nil {
		return fr.Element{}, err
	}
	return h.Hash(poseidon.TagPolicy, el...), nil
}
