// Package venues models where the treasury's assets sit: a wallet (the Safe), lending pools with
// a two-slope interest-rate model, liquid staking, and short perpetual hedges with funding. Each
// venue belongs to a group (the protocol, for concentration caps) and a liquidity tier (0 =
// instant, 1 = days, 2 = locked). Balances are signed integers in the asset's own units; interest,
// staking yield and funding accrue per cycle in integers.
package venues

import (
	"fmt"
	"math/big"
	"sort"
)

// Position is a signed amount of one asset at one venue, in the asset's units. A negative amount
// is a debt: a borrow at a lending pool or a short at a perpetual venue.
type Position struct {
	Venue  string   `json:"venue"`
	Asset  string   `json:"asset"`
	Amount *big.Int `json:"amount"`
}

// Positions is a treasury's holdings. Canonical form: one entry per (venue, asset), sorted,
// no zero amounts.
type Positions []Position

// Clone returns a deep copy.
func (ps Positions) Clone() Positions {
	out := make(Positions, len(ps))
	for i, p := range ps {
		out[i] = Position{Venue: p.Venue, Asset: p.Asset, Amount: new(big.Int).Set(p.Amount)}
	}
	return out
}

// Get returns the amount at (venue, asset), zero if absent; the result is a copy.
func (ps Positions) Get(venue, asset string) *big.Int {
	sum := new(big.Int)
	for _, p := range ps {
		if p.Venue == venue && p.Asset == asset {
			sum.Add(sum, p.Amount)
		}
	}
	return sum
}

// Add returns the positions with delta added at (venue, asset), in canonical form.
func (ps Positions) Add(venue, asset string, delta *big.Int) Positions {
	out := ps.Clone()
	out = append(out, Position{Venue: venue, Asset: asset, Amount: new(big.Int).Set(delta)})
	return out.Canonical()
}

// Canonical merges duplicates, drops zeros and sorts by venue then asset.
func (ps Positions) Canonical() Positions {
	type key struct{ v, a string }
	sums := map[key]*big.Int{}
	for _, p := range ps {
		k := key{p.Venue, p.Asset}
		if sums[k] == nil {
			sums[k] = new(big.Int)
		}
		if p.Amount != nil {
			sums[k].Add(sums[k], p.Amount)
		}
	}
	out := make(Positions, 0, len(sums))
	for k, v := range sums {
		if v.Sign() != 0 {
			out = append(out, Position{Venue: k.v, Asset: k.a, Amount: v})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Venue != out[j].Venue {
			return out[i].Venue < out[j].Venue
		}
		return out[i].Asset < out[j].Asset
	})
	return out
}

// NetByAsset sums amounts per asset over all venues.
func (ps Positions) NetByAsset() map[string]*big.Int {
	out := map[string]*big.Int{}
	for _, p := range ps {
		if out[p.Asset] == nil {
			out[p.Asset] = new(big.Int)
		}
		out[p.Asset].Add(out[p.Asset], p.Amount)
	}
	return out
}

// Validate checks every position against the book: the venue exists, holds that asset, and a
// negative amount only where the venue allows a debt.
func (ps Positions) Validate(b *Book) error {
	for _, p := range ps {
		v, ok := b.Venue(p.Venue)
		if !ok {
			return fmt.Errorf("position at unknown venue %q", p.Venue)
		}
		if p.Amount == nil {
			return fmt.Errorf("position %s/%s has no amount", p.Venue, p.Asset)
		}
		if !v.Holds(p.Asset) {
			return fmt.Errorf("venue %s cannot hold %s", p.Venue, p.Asset)
		}
		if p.Amount.Sign() < 0 && !v.AllowsDebt(p.Asset) {
			return fmt.Errorf("venue %s cannot hold a negative amount of %s", p.Venue, p.Asset)
		}
	}
	return nil
}
