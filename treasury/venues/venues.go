package venues

import (
	"errors"
	"fmt"
	"math/big"
	"sort"

	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
)

// Kind is the kind of a venue.
type Kind string

// The venue kinds.
const (
	KindWallet  Kind = "wallet"
	KindLending Kind = "lending"
	KindStaking Kind = "staking"
	KindPerp    Kind = "perp"
	// KindOptions is an options venue: European options sit there (see Derivatives), cash
	// settled into its settlement asset, which is the one asset it holds as a balance.
	KindOptions Kind = "options"
	// KindAMM is a constant-product exchange: pool shares sit there (see Derivatives); it holds
	// no plain balance.
	KindAMM Kind = "amm"
)

// Liquidity tiers, as in the policy's venue table: what can be turned into cash how fast.
const (
	TierInstant uint8 = 0
	TierDays    uint8 = 1
	TierLocked  uint8 = 2
)

// SecondsPerYear converts annual rates into per-cycle accruals (365 days).
const SecondsPerYear = 365 * 24 * 3600

// Venue is one place the treasury holds assets. Exactly one of Lending, Staking and Perp is set
// for those kinds; a wallet has none.
type Venue struct {
	ID    string `json:"id"`
	Kind  Kind   `json:"kind"`
	Group string `json:"group"`
	Tier  uint8  `json:"tier"`
	// Address is the contract a Safe batch calls to deposit or withdraw (empty for the wallet).
	Address string `json:"address,omitempty"`
	// PolicyVenue is the venue's name in the governance policy's venue table when it differs
	// from ID: the policy names a protocol market ("aave-v3") where the engine models one pool
	// per asset ("aave-v3-usdc"). Group and Tier must equal the policy's for that venue (S4).
	PolicyVenue string `json:"policyVenue,omitempty"`

	Lending *LendingPool  `json:"lending,omitempty"`
	Staking *Staking      `json:"staking,omitempty"`
	Perp    *Perp         `json:"perp,omitempty"`
	Options *OptionsVenue `json:"options,omitempty"`
}

// PolicyName is the venue's name in the policy's venue table.
func (v *Venue) PolicyName() string {
	if v.PolicyVenue != "" {
		return v.PolicyVenue
	}
	return v.ID
}

// Holds reports whether the venue can hold asset at all.
func (v *Venue) Holds(asset string) bool {
	switch v.Kind {
	case KindWallet:
		return true
	case KindLending:
		return v.Lending != nil && v.Lending.Asset == asset
	case KindStaking:
		return v.Staking != nil && v.Staking.Asset == asset
	case KindPerp:
		return v.Perp != nil && (v.Perp.Margin == asset || v.Perp.Underlying == asset)
	case KindOptions:
		return v.Options != nil && v.Options.Settlement == asset
	}
	return false
}

// AllowsDebt reports whether a negative amount of asset is meaningful at the venue: a borrow at
// a lending pool, a short of the underlying at a perpetual venue.
func (v *Venue) AllowsDebt(asset string) bool {
	switch v.Kind {
	case KindLending:
		return v.Lending != nil && v.Lending.Asset == asset
	case KindPerp:
		return v.Perp != nil && v.Perp.Underlying == asset
	case KindOptions:
		// A short option settled in the money is owed to the venue until margin covers it.
		return v.Options != nil && v.Options.Settlement == asset
	}
	return false
}

// Clone returns a deep copy (pool state included).
func (v Venue) Clone() Venue {
	c := v
	if v.Lending != nil {
		l := *v.Lending
		l.Supply, l.Borrows = new(big.Int).Set(v.Lending.Supply), new(big.Int).Set(v.Lending.Borrows)
		c.Lending = &l
	}
	if v.Staking != nil {
		s := *v.Staking
		s.ExchangeRate = new(big.Int).Set(v.Staking.ExchangeRate)
		c.Staking = &s
	}
	if v.Perp != nil {
		p := *v.Perp
		if v.Perp.DepthUSD != nil {
			p.DepthUSD = new(big.Int).Set(v.Perp.DepthUSD)
		}
		c.Perp = &p
	}
	if v.Options != nil {
		o := *v.Options
		c.Options = &o
	}
	return c
}

// Book is the set of venues, in a fixed order.
type Book struct {
	Venues []Venue `json:"venues"`
}

// NewBook validates venues and returns a book.
func NewBook(vs []Venue) (*Book, error) {
	b := &Book{Venues: make([]Venue, 0, len(vs))}
	seen := map[string]bool{}
	for _, v := range vs {
		if v.ID == "" || seen[v.ID] {
			return nil, fmt.Errorf("venue id %q is empty or repeated", v.ID)
		}
		seen[v.ID] = true
		if v.Group == "" {
			return nil, fmt.Errorf("venue %s has no group", v.ID)
		}
		if v.Tier > TierLocked {
			return nil, fmt.Errorf("venue %s has tier %d, want 0..2", v.ID, v.Tier)
		}
		switch v.Kind {
		case KindWallet:
		case KindLending:
			if v.Lending == nil {
				return nil, fmt.Errorf("lending venue %s has no pool", v.ID)
			}
			if err := v.Lending.validate(); err != nil {
				return nil, fmt.Errorf("venue %s: %w", v.ID, err)
			}
		case KindStaking:
			if v.Staking == nil || v.Staking.Asset == "" || v.Staking.ExchangeRate == nil || v.Staking.ExchangeRate.Sign() <= 0 {
				return nil, fmt.Errorf("staking venue %s needs an asset and a positive exchange rate", v.ID)
			}
		case KindPerp:
			if v.Perp == nil || v.Perp.Underlying == "" || v.Perp.Margin == "" {
				return nil, fmt.Errorf("perp venue %s needs an underlying and a margin asset", v.ID)
			}
			if v.Perp.FeeBps < 0 || v.Perp.FeeBps >= 10000 || (v.Perp.DepthUSD != nil && v.Perp.DepthUSD.Sign() <= 0) {
				return nil, fmt.Errorf("perp venue %s: fee must be in [0, 10000) bps and depth positive when given", v.ID)
			}
		case KindOptions:
			if v.Options == nil || v.Options.Settlement == "" {
				return nil, fmt.Errorf("options venue %s needs a settlement asset", v.ID)
			}
		case KindAMM:
		default:
			return nil, fmt.Errorf("venue %s has unknown kind %q", v.ID, v.Kind)
		}
		b.Venues = append(b.Venues, v.Clone())
	}
	return b, nil
}

// LoadBook reads a JSON book ({"venues": [...]}).
func LoadBook(path string) (*Book, error) {
	data, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return nil, fmt.Errorf("venues: %w", err)
	}
	var b Book
	if err := jsonstrict.Unmarshal(path, data, &b); err != nil {
		return nil, fmt.Errorf("venues: %w", err)
	}
	return NewBook(b.Venues)
}

// Venue returns the venue with id; the pointer is into the book, so changes persist.
func (b *Book) Venue(id string) (*Venue, bool) {
	for i := range b.Venues {
		if b.Venues[i].ID == id {
			return &b.Venues[i], true
		}
	}
	return nil, false
}

// Resolve returns the book venue that holds asset under a policy venue name: the venue with
// that ID, else the one whose PolicyVenue is name and that holds asset ("aave-v3" + "USDC" ->
// "aave-v3-usdc"). It lets a positions file written against the policy's venue table load into
// the engine's per-pool book.
func (b *Book) Resolve(name, asset string) (string, error) {
	if v, ok := b.Venue(name); ok {
		return v.ID, nil
	}
	found := ""
	for i := range b.Venues {
		v := &b.Venues[i]
		if v.PolicyName() == name && v.Holds(asset) {
			if found != "" {
				return "", fmt.Errorf("policy venue %s holds %s at both %s and %s", name, asset, found, v.ID)
			}
			found = v.ID
		}
	}
	if found == "" {
		return "", fmt.Errorf("no venue %s holding %s in the book", name, asset)
	}
	return found, nil
}

// Clone deep-copies the book, so a what-if simulation does not touch the live pool state.
func (b *Book) Clone() *Book {
	c := &Book{Venues: make([]Venue, len(b.Venues))}
	for i, v := range b.Venues {
		c.Venues[i] = v.Clone()
	}
	return c
}

// Groups returns the sorted distinct groups.
func (b *Book) Groups() []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range b.Venues {
		if !seen[v.Group] {
			seen[v.Group] = true
			out = append(out, v.Group)
		}
	}
	sort.Strings(out)
	return out
}

// Withdrawable returns how much of a position can leave its venue now. A wallet and a perp's
// margin are fully withdrawable; a lending position only up to the pool's free liquidity
// (supply minus borrows, so at 100% utilisation nothing); a staking position is not withdrawable
// in place (it exits through a swap or a queue).
func (b *Book) Withdrawable(venue, asset string, held *big.Int) (*big.Int, error) {
	v, ok := b.Venue(venue)
	if !ok {
		return nil, fmt.Errorf("unknown venue %q", venue)
	}
	if held.Sign() <= 0 {
		return new(big.Int), nil
	}
	switch v.Kind {
	case KindWallet:
		return new(big.Int).Set(held), nil
	case KindLending:
		return minBig(held, v.Lending.Available()), nil
	case KindPerp:
		if asset == v.Perp.Margin {
			return new(big.Int).Set(held), nil
		}
		return new(big.Int), nil
	case KindStaking, KindAMM:
		return new(big.Int), nil
	case KindOptions:
		return new(big.Int).Set(held), nil // settled cash
	}
	return nil, errors.New("unreachable venue kind")
}

func minBig(a, b *big.Int) *big.Int {
	if a.Cmp(b) <= 0 {
		return new(big.Int).Set(a)
	}
	return new(big.Int).Set(b)
}
