// Package portfolio reads the treasury's positions file (venue, asset, signed decimal amount)
// and the prices file (per asset: the oracle feed's answer, decimals, round id and update time),
// and converts them into the solvency circuit's integer inputs: amounts in circuit units rounded
// against the prover (toward minus infinity, so a long shrinks and a debt grows) and prices
// normalised to USD with 8 decimals by the rule of docs/design.md.
package portfolio

import (
	"fmt"
	"math/big"
	"regexp"
	"sort"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/circuits/statement"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
	"github.com/solvency-dev/solvency/treasury/policy"
)

// PositionsFile is the positions document. Options and pool shares are optional
// (derivatives.go).
type PositionsFile struct {
	Positions []PositionEntry `json:"positions"`
	Options   []OptionEntry   `json:"options,omitempty"`
	Pools     []PoolEntry     `json:"pools,omitempty"`
}

// PositionEntry is one position: a venue name from the policy, an asset symbol and a signed
// plain decimal amount in whole tokens ("-250.5" is a short or a borrow).
type PositionEntry struct {
	Venue  string `json:"venue"`
	Asset  string `json:"asset"`
	Amount string `json:"amount"`
	Note   string `json:"note,omitempty"`
}

// PricesFile is the prices document.
type PricesFile struct {
	Prices []PriceEntry `json:"prices"`
}

// PriceEntry is one feed's round as the oracle published it.
type PriceEntry struct {
	Asset     string `json:"asset"`
	Answer    string `json:"answer"`   // integer, the feed's own decimals
	Decimals  uint8  `json:"decimals"` // the feed's decimals()
	RoundID   string `json:"roundId"`  // uint80, decimal
	UpdatedAt uint64 `json:"updatedAt"`
}

// Price is a normalised price with its round.
type Price struct {
	Asset     string
	USD8      uint64 // USD with 8 decimals, < 2^63
	RoundID   *big.Int
	UpdatedAt uint64
}

// decodeStrict reads path (a regular file within the configuration limit) and decodes it
// strictly: every field is required unless marked optional, and unknown, duplicate and
// case-variant keys, null and trailing data are errors located in the file.
func decodeStrict(path string, v any) error {
	raw, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return err
	}
	return jsonstrict.Unmarshal(path, raw, v)
}

// ReadPricesFile reads a prices document strictly, without converting it.
func ReadPricesFile(path string) (*PricesFile, error) {
	var f PricesFile
	if err := decodeStrict(path, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// LoadPositions reads a positions file and converts it against the policy (venue names) and its
// asset table (symbols and precisions).
func LoadPositions(path string, pol *policy.File) ([]solvency.Position, error) {
	var f PositionsFile
	if err := decodeStrict(path, &f); err != nil {
		return nil, err
	}
	return f.Convert(path, pol)
}

// LoadHoldings reads a positions file and converts its positions, options and pool shares.
func LoadHoldings(path string, pol *policy.File) ([]solvency.Position, *Derivatives, error) {
	var f PositionsFile
	if err := decodeStrict(path, &f); err != nil {
		return nil, nil, err
	}
	pos, err := f.Convert(path, pol)
	if err != nil {
		return nil, nil, err
	}
	d, err := f.ConvertDerivatives(path, pol)
	if err != nil {
		return nil, nil, err
	}
	return pos, d, nil
}

// Convert turns the entries into circuit positions; label names the source in errors.
func (f *PositionsFile) Convert(label string, pol *policy.File) ([]solvency.Position, error) {
	t := pol.Table()
	out := make([]solvency.Position, 0, len(f.Positions))
	for i, e := range f.Positions {
		v, ok := pol.VenueIndex(e.Venue)
		if !ok {
			return nil, fmt.Errorf("%s: positions[%d].venue: %q is not a venue of the policy", label, i, e.Venue)
		}
		a, ok := t.Index(e.Asset)
		if !ok {
			return nil, fmt.Errorf("%s: positions[%d].asset: %q is not in the asset table", label, i, e.Asset)
		}
		// Reserves round down (toward minus infinity): against the prover.
		u, err := assets.ParseUnits(e.Amount, t.Assets[a].Precision, assets.RoundDown, true)
		if err != nil {
			return nil, fmt.Errorf("%s: positions[%d].amount: %w", label, i, err)
		}
		out = append(out, solvency.Position{Venue: v, Asset: a, Amount: u})
	}
	return out, nil
}

var uintRE = regexp.MustCompile(`^[0-9]{1,78}$`)

// LoadPrices reads a prices file and returns the prices in asset-table order.
func LoadPrices(path string, t *assets.Table) ([]Price, error) {
	f, err := ReadPricesFile(path)
	if err != nil {
		return nil, err
	}
	return f.Convert(path, t)
}

// Convert normalises every entry; each asset of the table needs exactly one.
func (f *PricesFile) Convert(label string, t *assets.Table) ([]Price, error) {
	out := make([]Price, t.Len())
	seen := make([]bool, t.Len())
	for i, e := range f.Prices {
		a, ok := t.Index(e.Asset)
		if !ok {
			return nil, fmt.Errorf("%s: prices[%d].asset: %q is not in the asset table", label, i, e.Asset)
		}
		if seen[a] {
			return nil, fmt.Errorf("%s: prices[%d].asset: %q repeats", label, i, e.Asset)
		}
		seen[a] = true
		if !uintRE.MatchString(e.Answer) {
			return nil, fmt.Errorf("%s: prices[%d].answer: %q is not a positive integer", label, i, e.Answer)
		}
		ans, _ := new(big.Int).SetString(e.Answer, 10)
		if e.Decimals > statement.MaxFeedDecimals {
			return nil, fmt.Errorf("%s: prices[%d].decimals: %d is above %d", label, i, e.Decimals, statement.MaxFeedDecimals)
		}
		p, err := statement.NormalisePrice(ans, e.Decimals)
		if err != nil {
			return nil, fmt.Errorf("%s: prices[%d]: %w", label, i, err)
		}
		if !uintRE.MatchString(e.RoundID) {
			return nil, fmt.Errorf("%s: prices[%d].roundId: %q is not an integer", label, i, e.RoundID)
		}
		rid, _ := new(big.Int).SetString(e.RoundID, 10)
		if rid.BitLen() > 80 {
			return nil, fmt.Errorf("%s: prices[%d].roundId: above uint80", label, i)
		}
		out[a] = Price{Asset: e.Asset, USD8: p, RoundID: rid, UpdatedAt: e.UpdatedAt}
	}
	for a, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("%s: no price for %s", label, t.Assets[a].Symbol)
		}
	}
	return out, nil
}

// USD8 lists the normalised prices in table order.
func USD8(ps []Price) []uint64 {
	out := make([]uint64, len(ps))
	for i, p := range ps {
		out[i] = p.USD8
	}
	return out
}

// LoadLiabilityTotals reads a JSON object symbol -> decimal total and converts it into circuit
// units rounded up (liabilities round against the prover). Assets of the table that are absent
// owe nothing.
func LoadLiabilityTotals(path string, t *assets.Table) ([]*big.Int, error) {
	var m map[string]string
	if err := decodeStrict(path, &m); err != nil {
		return nil, err
	}
	out := make([]*big.Int, t.Len())
	for i := range out {
		out[i] = new(big.Int)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, sym := range keys {
		a, ok := t.Index(sym)
		if !ok {
			return nil, fmt.Errorf("%s: %q is not in the asset table", path, sym)
		}
		v, err := assets.ParseUnits(m[sym], t.Assets[a].Precision, assets.RoundUp, false)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, sym, err)
		}
		out[a] = v
	}
	return out, nil
}
