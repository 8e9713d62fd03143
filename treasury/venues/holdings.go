package venues

import (
	"errors"
	"fmt"
	"math/big"
	"sort"

	"github.com/solvency-dev/solvency/treasury/derivatives"
	"github.com/solvency-dev/solvency/treasury/market"
)

// Derivatives are the treasury's options and pool shares, held beside its plain positions. The
// engine never trades them: they come from the positions file, are revalued every cycle, and an
// option leaves the book only at expiry (SettleExpired).
type Derivatives struct {
	Options []derivatives.Option    `json:"options,omitempty"`
	Pools   []derivatives.PoolShare `json:"pools,omitempty"`
}

// Empty reports whether there is no option and no pool share.
func (d Derivatives) Empty() bool { return len(d.Options) == 0 && len(d.Pools) == 0 }

// Clone returns a deep copy.
func (d Derivatives) Clone() Derivatives {
	var c Derivatives
	for _, o := range d.Options {
		o.Size = cloneInt(o.Size)
		c.Options = append(c.Options, o)
	}
	for _, p := range d.Pools {
		p.AmountA, p.AmountB = cloneInt(p.AmountA), cloneInt(p.AmountB)
		c.Pools = append(c.Pools, p)
	}
	return c
}

func cloneInt(v *big.Int) *big.Int {
	if v == nil {
		return nil
	}
	return new(big.Int).Set(v)
}

// Canonical sorts options and pool shares by id, so that equal holdings encode equally.
func (d Derivatives) Canonical() Derivatives {
	c := d.Clone()
	sort.Slice(c.Options, func(i, j int) bool { return c.Options[i].ID < c.Options[j].ID })
	sort.Slice(c.Pools, func(i, j int) bool { return c.Pools[i].ID < c.Pools[j].ID })
	return c
}

// Validate checks every option and pool share against the book and the asset table: ids
// unique, an option at an options venue on a known underlying with a right, a positive strike,
// an expiry and a non-zero size; a pool share at an AMM venue on two distinct known assets with
// non-negative amounts, not both zero.
func (d Derivatives) Validate(b *Book, assets map[string]market.Asset) error {
	seen := map[string]bool{}
	id := func(kind, s string) error {
		if s == "" || seen[s] {
			return fmt.Errorf("%s id %q is empty or repeated", kind, s)
		}
		seen[s] = true
		return nil
	}
	for _, o := range d.Options {
		if err := id("option", o.ID); err != nil {
			return err
		}
		if v, ok := b.Venue(o.Venue); !ok || v.Kind != KindOptions {
			return fmt.Errorf("option %s: venue %q is not an options venue of the book", o.ID, o.Venue)
		}
		if _, ok := assets[o.Underlying]; !ok {
			return fmt.Errorf("option %s: unknown underlying %s", o.ID, o.Underlying)
		}
		if o.Right != derivatives.Call && o.Right != derivatives.Put {
			return fmt.Errorf("option %s: right %q, want call or put", o.ID, o.Right)
		}
		if o.Strike == 0 || o.Expiry <= 0 || o.Size == nil || o.Size.Sign() == 0 {
			return fmt.Errorf("option %s needs a positive strike, an expiry and a non-zero size", o.ID)
		}
	}
	for _, p := range d.Pools {
		if err := id("pool share", p.ID); err != nil {
			return err
		}
		if v, ok := b.Venue(p.Venue); !ok || v.Kind != KindAMM {
			return fmt.Errorf("pool share %s: venue %q is not an AMM venue of the book", p.ID, p.Venue)
		}
		_, okA := assets[p.AssetA]
		_, okB := assets[p.AssetB]
		if !okA || !okB || p.AssetA == p.AssetB {
			return fmt.Errorf("pool share %s: assets %s/%s must be two distinct assets of the table", p.ID, p.AssetA, p.AssetB)
		}
		if p.AmountA == nil || p.AmountB == nil || p.AmountA.Sign() < 0 || p.AmountB.Sign() < 0 ||
			(p.AmountA.Sign() == 0 && p.AmountB.Sign() == 0) {
			return fmt.Errorf("pool share %s needs non-negative amounts, not both zero", p.ID)
		}
	}
	return nil
}

// Settlement is one expired option paid out in cash.
type Settlement struct {
	Option derivatives.Option `json:"option"`
	Price  uint64             `json:"price"`  // the underlying's price it settled at (USD, 8 decimals)
	Asset  string             `json:"asset"`  // the venue's settlement asset
	Amount *big.Int           `json:"amount"` // signed, in the settlement asset's units
}

// ErrSettle is returned when an expired option cannot be settled (no price, unknown asset).
var ErrSettle = errors.New("settle expired option")

// SettleExpired pays out every option whose expiry is at or before now: a European option
// settled in cash is worth exactly its intrinsic value at expiry, max(S-K, 0) for a call and
// max(K-S, 0) for a put per whole token, times its size. The underlying's price is the cycle's
// snapshot price (the first cycle at or after expiry; a real venue settles at its own index
// price around expiry, so the two can differ by the move between expiry and the cycle). The
// payout lands at the option's venue in its settlement asset, rounded against the treasury: a
// long option's receipt is floored, a short one's payment rounded up (a debt to the venue until
// margin covers it). Options that have not expired, and every pool share, are returned as they
// are.
func SettleExpired(ps Positions, d Derivatives, now int64, prices market.Snapshot, assets map[string]market.Asset, b *Book) (Positions, Derivatives, []Settlement, error) {
	out := ps.Clone()
	kept := Derivatives{Pools: d.Clone().Pools}
	var done []Settlement
	for _, o := range d.Clone().Options {
		if o.Expiry > now {
			kept.Options = append(kept.Options, o)
			continue
		}
		v, ok := b.Venue(o.Venue)
		if !ok || v.Kind != KindOptions {
			return nil, Derivatives{}, nil, fmt.Errorf("%w %s: venue %q is not an options venue", ErrSettle, o.ID, o.Venue)
		}
		ua, okU := assets[o.Underlying]
		sa, okS := assets[v.Options.Settlement]
		if !okU || !okS {
			return nil, Derivatives{}, nil, fmt.Errorf("%w %s: unknown asset %s or %s", ErrSettle, o.ID, o.Underlying, v.Options.Settlement)
		}
		spot, err := prices.Price(o.Underlying)
		if err != nil {
			return nil, Derivatives{}, nil, fmt.Errorf("%w %s: %v", ErrSettle, o.ID, err)
		}
		sp, err := prices.Price(v.Options.Settlement)
		if err != nil {
			return nil, Derivatives{}, nil, fmt.Errorf("%w %s: %v", ErrSettle, o.ID, err)
		}
		amt := settlementAmount(o, spot, ua, sa, sp)
		if amt.Sign() != 0 {
			out = out.Add(o.Venue, v.Options.Settlement, amt)
		}
		done = append(done, Settlement{Option: o, Price: spot, Asset: v.Options.Settlement, Amount: amt})
	}
	return out.Canonical(), kept, done, nil
}

// settlementAmount is the option's cash payout in units of the settlement asset, floored
// toward minus infinity (a receipt rounds down, a payment up).
func settlementAmount(o derivatives.Option, spot uint64, ua, sa market.Asset, sp uint64) *big.Int {
	var intrinsic int64 // USD, 8 decimals, per whole token; both operands are below 2^63
	switch {
	case o.Right == derivatives.Call && spot > o.Strike:
		intrinsic = int64(spot - o.Strike)
	case o.Right == derivatives.Put && o.Strike > spot:
		intrinsic = int64(o.Strike - spot)
	}
	// payout units = size * intrinsic / 10^uDec (USD8) * 10^sDec / sp
	n := new(big.Int).Mul(o.Size, big.NewInt(intrinsic))
	n.Mul(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(sa.Decimals)), nil))
	d := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(ua.Decimals)), nil)
	d.Mul(d, new(big.Int).SetUint64(sp))
	return new(big.Int).Div(n, d) // Euclidean division: the floor, for a positive d
}
