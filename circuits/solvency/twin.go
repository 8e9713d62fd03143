package solvency

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/shopspring/decimal"

	"github.com/solvency-dev/solvency/circuits/assets"
)

// Inputs is what the twin evaluates: the asset table, the policy, the positions, the public
// prices and the per-asset liability totals (circuit units).
type Inputs struct {
	Table       *assets.Table
	Policy      *Policy
	Positions   []Position
	Options     []OptionPosition
	Pools       []PoolPosition
	Prices      []uint64
	Liabilities []*big.Int
}

// Limit kinds, for reports.
const (
	KindBound      = "bound"
	KindCollateral = "collateral"
	KindInKind     = "in-kind"
	KindLiquidity  = "liquidity"
	KindAssetCap   = "asset-cap"
	KindGroupCap   = "group-cap"
	KindTarget     = "target"
	KindStress     = "stress"
	KindVaR        = "var"
)

// Limit is one checked limit. Headroom is the exact integer the circuit range-checks (in the
// check's own units): the limit passes exactly when it is >= 0 and below 2^Width.
type Limit struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Subject is what the limit is about: the asset symbol (in-kind, asset cap), the group or
	// bucket index (group cap, target), the scenario index (stress); empty otherwise.
	Subject  string   `json:"subject,omitempty"`
	Value    string   `json:"value"` // human: a ratio in percent or an amount in USD
	Bound    string   `json:"bound"`
	Pass     bool     `json:"pass"`
	Headroom *big.Int `json:"headroom"`
	// Scale is a positive quantity in Headroom's units that makes it relative (Headroom/Scale
	// is the slack as a fraction of the bound); nil when the bound is zero.
	Scale *big.Int `json:"scale,omitempty"`
	Width int      `json:"-"`
}

// Report is the twin's result: every metric and every limit.
type Report struct {
	Pass      bool    `json:"pass"`
	ValueUnit string  `json:"valueUnit"` // the unit of every value below: "1e-26 USD"
	Limits    []Limit `json:"limits"`

	// Values in fine units (10^-26 USD); USD strings for display.
	GrossLong       *big.Int   `json:"grossLong"`       // sum PV
	GrossShort      *big.Int   `json:"grossShort"`      // sum NV
	NetReserves     *big.Int   `json:"netReserves"`     // NRd: sum PV - sum NV plus long options and pool shares, less short options
	OptionsLong     *big.Int   `json:"optionsLong"`     // long options at intrinsic value
	OptionsShort    *big.Int   `json:"optionsShort"`    // short options at intrinsic value plus the charge, rounded up
	PoolShares      *big.Int   `json:"poolShares"`      // pool shares at 2*sqrt(vA*vB), oracle prices
	HaircutReserves *big.Int   `json:"haircutReserves"` // (sum PV(1e4-h) - NV(1e4+h)) / 1e4, floored
	Liabilities     *big.Int   `json:"liabilities"`     // sum LV
	Surplus         *big.Int   `json:"surplus"`         // haircut reserves - liabilities (floored)
	LiquidValue     *big.Int   `json:"liquidValue"`     // LQ
	WorstStress     *big.Int   `json:"worstStress"`     // min over enabled scenarios of the shocked surplus / 1e8 (fine units), nil if none
	VaRValue        *big.Int   `json:"var"`             // z * sqrt(h * Q) in fine units (floored), nil when VaR is off
	NetExposure     []*big.Int `json:"netExposure"`     // X_a, fine units
	SurplusBps      *big.Int   `json:"-"`               // SUR, the VaR surplus (spot surplus less short options), exact, bps-scaled fine units
}

// FormatFine renders fine units (10^-26 USD) as USD with 2 decimals, truncated toward zero.
func FormatFine(v *big.Int) string {
	if v == nil {
		return "-"
	}
	return decimal.NewFromBigInt(v, -FineDigits).Truncate(2).StringFixed(2)
}

// ratio renders num/den as a percentage with 2 decimals ("inf" when den is 0).
func ratio(num, den *big.Int) string {
	if den.Sign() == 0 {
		if num.Sign() == 0 {
			return "n/a"
		}
		return "inf"
	}
	return decimal.NewFromBigInt(num, 2).DivRound(decimal.NewFromBigInt(den, 0), 2).StringFixed(2) + "%"
}

func bpsPct(b int64) string { return decimal.New(b, -2).StringFixed(2) + "%" }

// Validate checks that the inputs fit the policy's shape and the circuit's input ranges.
func (in *Inputs) Validate() error {
	if in.Table == nil || in.Policy == nil {
		return errors.New("inputs: asset table and policy are required")
	}
	if err := in.Table.Validate(); err != nil {
		return err
	}
	if err := in.Policy.Validate(); err != nil {
		return err
	}
	p := in.Policy
	A := len(p.Assets)
	if in.Table.Len() != A {
		return fmt.Errorf("the policy has %d asset slots, the asset table %d", A, in.Table.Len())
	}
	if len(in.Prices) != A || len(in.Liabilities) != A {
		return fmt.Errorf("want %d prices and %d liability totals, got %d and %d", A, A, len(in.Prices), len(in.Liabilities))
	}
	for i, pr := range in.Prices {
		if pr == 0 || pr >= 1<<PriceBits {
			return fmt.Errorf("price %d (%d) is not in [1, 2^63) (P1: prices are positive)", i, pr)
		}
	}
	for i, l := range in.Liabilities {
		if l == nil || l.Sign() < 0 || l.BitLen() > LiabBits {
			return fmt.Errorf("liability total %d (%v) is not in [0, 2^96)", i, l)
		}
	}
	for j, pos := range in.Positions {
		if pos.Venue < 0 || pos.Venue >= len(p.Venues) || pos.Asset < 0 || pos.Asset >= A {
			return fmt.Errorf("position %d: venue %d or asset %d out of range", j, pos.Venue, pos.Asset)
		}
		if pos.Amount == nil || pos.Amount.CmpAbs(two64) >= 0 {
			return fmt.Errorf("position %d: amount %v: magnitude must be below 2^64", j, pos.Amount)
		}
	}
	for j, o := range in.Options {
		if o.Venue < 0 || o.Venue >= len(p.Venues) || o.Asset < 0 || o.Asset >= A {
			return fmt.Errorf("option %d: venue %d or asset %d out of range", j, o.Venue, o.Asset)
		}
		if o.Size == nil || o.Size.Sign() < 0 || o.Size.BitLen() > MagBits {
			return fmt.Errorf("option %d: size %v: want 0 <= size < 2^64 (the sign is the short flag)", j, o.Size)
		}
		if o.Short && o.Size.Sign() == 0 {
			return fmt.Errorf("option %d: a zero size cannot be short (one encoding per option)", j)
		}
		if o.Strike >= 1<<StrikeBits {
			return fmt.Errorf("option %d: strike %d does not fit 63 bits", j, o.Strike)
		}
		if err := o.canonicalZero(); err != nil {
			return fmt.Errorf("option %d: %w", j, err)
		}
	}
	for j, pl := range in.Pools {
		if pl.Venue < 0 || pl.Venue >= len(p.Venues) || pl.AssetA < 0 || pl.AssetA >= A || pl.AssetB < 0 || pl.AssetB >= A {
			return fmt.Errorf("pool share %d: venue %d or assets %d, %d out of range", j, pl.Venue, pl.AssetA, pl.AssetB)
		}
		for _, x := range []*big.Int{pl.AmountA, pl.AmountB} {
			if x == nil || x.Sign() < 0 || x.BitLen() > MagBits {
				return fmt.Errorf("pool share %d: amount %v: want 0 <= amount < 2^64", j, x)
			}
		}
		if err := pl.canonicalZero(); err != nil {
			return fmt.Errorf("pool share %d: %w", j, err)
		}
	}
	return nil
}

var (
	two64 = new(big.Int).Lsh(big.NewInt(1), 64)
	bpsK  = big.NewInt(BpsOne)
)

func pow2(n int) *big.Int { return new(big.Int).Lsh(big.NewInt(1), uint(n)) }

// Evaluate is the native twin: it computes every metric and limit exactly as the circuit does.
// The circuit is satisfiable with these inputs exactly when Report.Pass is true. Each step's
// circuit version is beside it: values.go, then one file per limit (limit_*.go), in the order
// Circuit.Define calls them; the report lists the limits in that order.
func Evaluate(in *Inputs) (*Report, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	v := twinValues(in)
	r := &Report{ValueUnit: "1e-26 USD",
		GrossLong: v.sumPV, GrossShort: v.sumNV, Liabilities: v.sumLV, NetReserves: v.nrd,
		OptionsLong: v.der.ol, OptionsShort: new(big.Int).Add(v.der.os, v.der.chargeCeil), PoolShares: v.der.plv,
		HaircutReserves: floorDiv(v.coll, bpsK), LiquidValue: v.lq}
	twinTotals(r, v)
	twinCollateral(r, in.Policy, v)
	twinInKind(r, in, v)
	twinLiquidity(r, in.Policy, v)
	twinCaps(r, in, v)
	twinTargets(r, in.Policy, v)
	twinStress(r, in.Policy, v)
	twinVaR(r, in, v)
	r.Pass = true
	for _, l := range r.Limits {
		r.Pass = r.Pass && l.Pass
	}
	return r, nil
}

// add records a limit: it passes exactly when its headroom is in [0, 2^Width), the range the
// circuit checks. A non-positive scale is dropped (no relative slack).
func (r *Report) add(l Limit) {
	l.Pass = l.Headroom.Sign() >= 0 && l.Headroom.BitLen() <= l.Width
	if l.Scale != nil && l.Scale.Sign() <= 0 {
		l.Scale = nil
	}
	r.Limits = append(r.Limits, l)
}

// SurplusCoarse is the surplus in coarse units that the prover uses: floor(SUR / (1e4 *
// 2^CoarseShift)) capped at 2^SurBits - 1, or 0 when SUR < 0 (then no witness exists).
func SurplusCoarse(sur *big.Int) *big.Int {
	if sur.Sign() <= 0 {
		return new(big.Int)
	}
	s := floorDiv(sur, new(big.Int).Lsh(bpsK, CoarseShift))
	if s.BitLen() > SurBits {
		s = new(big.Int).Sub(pow2(SurBits), big.NewInt(1))
	}
	return s
}

// X0 scales a coarse amount back to fine units, for display.
func X0(x *big.Int) *big.Int { return new(big.Int).Lsh(x, CoarseShift) }

func zeros(n int) []*big.Int {
	out := make([]*big.Int, n)
	for i := range out {
		out[i] = new(big.Int)
	}
	return out
}

// floorDiv is floor(a/b) for b > 0.
func floorDiv(a, b *big.Int) *big.Int {
	q, m := new(big.Int).DivMod(a, b, new(big.Int)) // Euclidean: m >= 0, so q is the floor
	_ = m
	return q
}

// roundAway is sign(X) * ceil(|X| / 2^shift).
func roundAway(X *big.Int, shift uint) *big.Int {
	m := new(big.Int).Abs(X)
	m.Add(m, new(big.Int).Sub(pow2(int(shift)), big.NewInt(1)))
	m.Rsh(m, shift)
	if X.Sign() < 0 {
		m.Neg(m)
	}
	return m
}
