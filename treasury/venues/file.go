package venues

import (
	"bytes"
	"fmt"
	"math/big"

	"github.com/shopspring/decimal"

	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
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
	data, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return nil, fmt.Errorf("positions: %w", err)
	}
	// The document's first character says which of the two forms it is; each is read strictly.
	var raw []filePosition
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		if err := jsonstrict.Unmarshal(path, data, &raw); err != nil {
			return nil, fmt.Errorf("positions: %w", err)
		}
	} else {
		var doc struct {
			Positions []filePosition `json:"positions"`
		}
		if err := jsonstrict.Unmarshal(path, data, &doc); err != nil {
			return nil, fmt.Errorf("positions: %w", err)
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
	data, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return nil, fmt.Errorf("amounts: %w", err)
	}
	// Strict: "ETH" twice, null (which read as no liabilities at all) and trailing data are errors.
	var raw map[string]string
	if err := jsonstrict.Unmarshal(path, data, &raw); err != nil {
		return nil, fmt.Errorf("amounts: %w", err)
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
