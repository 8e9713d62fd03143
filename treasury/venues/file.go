package venues

import (
	"encoding/json"
	"fmt"
	"math/big"
	"os"

	"github.com/shopspring/decimal"

	"github.com/solvency-dev/solvency/treasury/market"
)

// ParseAmount parses a decimal amount of asset ("12.5") into its units, refusing more decimals
// than the asset has: a holdings file states exact amounts.
func ParseAmount(s string, a market.Asset) (*big.Int, error) {
	if !market.PlainDecimal(s) {
		return nil, fmt.Errorf("amount %q of %s is not a plain decimal number", s, a.Symbol)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return nil, fmt.Errorf("amount %q of %s: %w", s, a.Symbol, err)
	}
	scaled := d.Shift(int32(a.Decimals))
	if !scaled.IsInteger() {
		return nil, fmt.Errorf("amount %q of %s has more than %d decimals", s, a.Symbol, a.Decimals)
	}
	return scaled.BigInt(), nil
}

// FormatAmount prints units of asset as a decimal.
func FormatAmount(v *big.Int, a market.Asset) string {
	return decimal.NewFromBigInt(v, -int32(a.Decimals)).String()
}

type filePosition struct {
	Venue  string `json:"venue"`
	Asset  string `json:"asset"`
	Amount string `json:"amount"`
	Note   string `json:"note,omitempty"`
}

// LoadPositions reads a holdings file with decimal amounts, either a bare list
// [{"venue", "asset", "amount"}] or the positions document {"positions": [...]} of
// treasury/portfolio. Venue names are resolved through the book, so a file written against the
// policy's venue names ("aave-v3") lands on the engine's pools ("aave-v3-usdc"). The result is
// validated against the book.
func LoadPositions(path string, assets map[string]market.Asset, book *Book) (Positions, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read positions: %w", err)
	}
	var raw []filePosition
	if err := json.Unmarshal(data, &raw); err != nil {
		var doc struct {
			Positions []filePosition `json:"positions"`
		}
		if err2 := json.Unmarshal(data, &doc); err2 != nil {
			return nil, fmt.Errorf("parse positions %s: %w", path, err)
		}
		raw = doc.Positions
	}
	var out Positions
	for i, r := range raw {
		a, ok := assets[r.Asset]
		if !ok {
			return nil, fmt.Errorf("positions %s, entry %d: unknown asset %s", path, i, r.Asset)
		}
		amt, err := ParseAmount(r.Amount, a)
		if err != nil {
			return nil, fmt.Errorf("positions %s, entry %d: %w", path, i, err)
		}
		venue := r.Venue
		if book != nil {
			if venue, err = book.Resolve(r.Venue, r.Asset); err != nil {
				return nil, fmt.Errorf("positions %s, entry %d: %w", path, i, err)
			}
		}
		out = append(out, Position{Venue: venue, Asset: r.Asset, Amount: amt})
	}
	out = out.Canonical()
	if book != nil {
		if err := out.Validate(book); err != nil {
			return nil, fmt.Errorf("positions %s: %w", path, err)
		}
	}
	return out, nil
}

// LoadAmounts reads {"ASSET": "decimal", ...} into units per asset (the sample liabilities).
func LoadAmounts(path string, assets map[string]market.Asset) (map[string]*big.Int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read amounts: %w", err)
	}
	var raw map[string]string
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse amounts %s: %w", path, err)
	}
	out := map[string]*big.Int{}
	for sym, s := range raw {
		a, ok := assets[sym]
		if !ok {
			return nil, fmt.Errorf("amounts %s: unknown asset %s", path, sym)
		}
		v, err := ParseAmount(s, a)
		if err != nil {
			return nil, fmt.Errorf("amounts %s: %w", path, err)
		}
		out[sym] = v
	}
	return out, nil
}
