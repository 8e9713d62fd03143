package portfolio

import (
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/treasury/policy"
)

// OptionEntry is one European option of the positions file: an id unique in the file, a venue
// of the policy, the underlying's symbol, "call" or "put", the strike in USD per whole token (a
// plain decimal), the expiry (RFC 3339) and the signed size in whole tokens of the underlying
// ("-10" is a short of ten).
type OptionEntry struct {
	ID         string `json:"id"`
	Venue      string `json:"venue"`
	Underlying string `json:"underlying"`
	Right      string `json:"right"`
	Strike     string `json:"strike"`
	Expiry     string `json:"expiry"`
	Size       string `json:"size"`
	Note       string `json:"note,omitempty"`
}

// PoolEntry is one constant-product pool share: the holder's claim on each reserve of the pool
// (LP balance / LP supply * reserve), in whole tokens, non-negative.
type PoolEntry struct {
	ID      string `json:"id"`
	Venue   string `json:"venue"`
	AssetA  string `json:"assetA"`
	AssetB  string `json:"assetB"`
	AmountA string `json:"amountA"`
	AmountB string `json:"amountB"`
	Note    string `json:"note,omitempty"`
}

// Derivatives are the converted options and pool shares, in file order.
type Derivatives struct {
	Options []solvency.OptionPosition
	Pools   []solvency.PoolPosition
	// IDs name each option and pool share, index for index.
	OptionIDs, PoolIDs []string
}

// maxStrikeUSD8 is the largest strike a record holds: below 2^63 in USD with 8 decimals.
var maxStrikeUSD8 = new(big.Int).Lsh(big.NewInt(1), solvency.StrikeBits)

// ConvertDerivatives turns the options and pool entries into circuit records; label names the
// source in errors. Every conversion rounds against the prover (docs/greeks.md):
//   - sizes: a long rounds down, a short's magnitude rounds up (toward minus infinity, as
//     positions);
//   - strikes, to USD with 8 decimals: a long call and a short put round up, a long put and a
//     short call round down, so a long's intrinsic value only shrinks and a short's only grows;
//   - pool amounts round down.
func (f *PositionsFile) ConvertDerivatives(label string, pol *policy.File) (*Derivatives, error) {
	t := pol.Table()
	out := &Derivatives{}
	ids := map[string]string{}
	id := func(field, v string) error {
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("%s: %s.id: an id is required", label, field)
		}
		if prev, dup := ids[v]; dup {
			return fmt.Errorf("%s: %s.id: %q is already the id of %s", label, field, v, prev)
		}
		ids[v] = field
		return nil
	}
	venue := func(field, v string) (int, error) {
		i, ok := pol.VenueIndex(v)
		if !ok {
			return 0, fmt.Errorf("%s: %s.venue: %q is not a venue of the policy", label, field, v)
		}
		return i, nil
	}
	asset := func(field, s string) (int, error) {
		a, ok := t.Index(s)
		if !ok {
			return 0, fmt.Errorf("%s: %s: %q is not in the asset table", label, field, s)
		}
		return a, nil
	}
	for i, e := range f.Options {
		p := fmt.Sprintf("options[%d]", i)
		if err := id(p, e.ID); err != nil {
			return nil, err
		}
		v, err := venue(p, e.Venue)
		if err != nil {
			return nil, err
		}
		a, err := asset(p+".underlying", e.Underlying)
		if err != nil {
			return nil, err
		}
		if e.Right != "call" && e.Right != "put" {
			return nil, fmt.Errorf("%s: %s.right: %q: want \"call\" or \"put\"", label, p, e.Right)
		}
		put := e.Right == "put"
		if strings.HasPrefix(e.Size, "-") && strings.Trim(e.Size, "-0.") == "" {
			return nil, fmt.Errorf("%s: %s.size: %q: a zero size has no sign", label, p, e.Size)
		}
		size, err := assets.ParseUnits(e.Size, t.Assets[a].Precision, assets.RoundDown, true)
		if err != nil {
			return nil, fmt.Errorf("%s: %s.size: %w", label, p, err)
		}
		short := size.Sign() < 0
		strike, err := strikeUSD8(e.Strike, put != short) // long put or short call: round down
		if err != nil {
			return nil, fmt.Errorf("%s: %s.strike: %w", label, p, err)
		}
		exp, err := time.Parse(time.RFC3339, e.Expiry)
		if err != nil {
			return nil, fmt.Errorf("%s: %s.expiry: %q is not an RFC 3339 time (2027-03-26T08:00:00Z)", label, p, e.Expiry)
		}
		if exp.Unix() <= 0 {
			return nil, fmt.Errorf("%s: %s.expiry: %s is not after 1970", label, p, e.Expiry)
		}
		out.Options = append(out.Options, solvency.OptionPosition{Venue: v, Asset: a, Put: put, Short: short,
			Strike: strike, Expiry: uint64(exp.Unix()), Size: size.Abs(size)})
		out.OptionIDs = append(out.OptionIDs, e.ID)
	}
	for i, e := range f.Pools {
		p := fmt.Sprintf("pools[%d]", i)
		if err := id(p, e.ID); err != nil {
			return nil, err
		}
		v, err := venue(p, e.Venue)
		if err != nil {
			return nil, err
		}
		a, err := asset(p+".assetA", e.AssetA)
		if err != nil {
			return nil, err
		}
		b, err := asset(p+".assetB", e.AssetB)
		if err != nil {
			return nil, err
		}
		if a == b {
			return nil, fmt.Errorf("%s: %s.assetB: a pool holds two different assets, both are %s", label, p, e.AssetA)
		}
		amtA, err := assets.ParseUnits(e.AmountA, t.Assets[a].Precision, assets.RoundDown, false)
		if err != nil {
			return nil, fmt.Errorf("%s: %s.amountA: %w", label, p, err)
		}
		amtB, err := assets.ParseUnits(e.AmountB, t.Assets[b].Precision, assets.RoundDown, false)
		if err != nil {
			return nil, fmt.Errorf("%s: %s.amountB: %w", label, p, err)
		}
		out.Pools = append(out.Pools, solvency.PoolPosition{Venue: v, AssetA: a, AssetB: b, AmountA: amtA, AmountB: amtB})
		out.PoolIDs = append(out.PoolIDs, e.ID)
	}
	return out, nil
}

// strikeUSD8 converts a plain decimal USD strike to USD with 8 decimals, rounded down or up.
// It must be positive and below 2^63.
func strikeUSD8(s string, down bool) (uint64, error) {
	mode := assets.RoundUp
	if down {
		mode = assets.RoundDown
	}
	if _, err := decimal.NewFromString(s); err != nil || strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("strike %q is not a positive plain decimal", s)
	}
	// ParseUnits bounds magnitudes to 64 bits; the record bound is 63.
	v, err := assets.ParseUnits(s, 8, mode, false)
	if err != nil {
		return 0, err
	}
	if v.Sign() <= 0 || v.Cmp(maxStrikeUSD8) >= 0 {
		return 0, fmt.Errorf("strike %q: want above 0 and below 2^63 units of 1e-8 USD", s)
	}
	return v.Uint64(), nil
}
