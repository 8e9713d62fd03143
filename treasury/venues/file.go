package venues

import (
	"bytes"
	"fmt"
	"math/big"
	"time"

	"github.com/shopspring/decimal"

	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
	"github.com/solvency-dev/solvency/treasury/derivatives"
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

type fileOption struct {
	ID         string `json:"id"`
	Venue      string `json:"venue"`
	Underlying string `json:"underlying"`
	Right      string `json:"right"`
	Strike     string `json:"strike"` // USD per whole token, decimal
	Expiry     string `json:"expiry"` // RFC 3339
	Size       string `json:"size"`   // signed, whole tokens, decimal: negative is short
	Note       string `json:"note,omitempty"`
}

type filePool struct {
	ID      string `json:"id"`
	Venue   string `json:"venue"`
	AssetA  string `json:"assetA"`
	AssetB  string `json:"assetB"`
	AmountA string `json:"amountA"`
	AmountB string `json:"amountB"`
	Note    string `json:"note,omitempty"`
}

// LoadPositions reads a holdings file that holds plain positions only (see LoadHoldings). A
// file that also lists options or pool shares is refused rather than read in part: dropping a
// short option would flatter the treasury.
func LoadPositions(path string, assets map[string]market.Asset, book *Book) (Positions, error) {
	ps, d, err := LoadHoldings(path, assets, book)
	if err != nil {
		return nil, err
	}
	if !d.Empty() {
		return nil, fmt.Errorf("positions %s lists options or pool shares; read it with the holdings reader that keeps them", path)
	}
	return ps, nil
}

// LoadHoldings reads a holdings file with decimal amounts, either a bare list
// [{"venue", "asset", "amount"}] or the positions document {"positions": [...], "options":
// [...], "pools": [...]} (options and pools optional; the plain part is treasury/portfolio's
// format). Venue names of plain positions are resolved through the book, so a file written
// against the policy's venue names ("aave-v3") lands on the engine's pools ("aave-v3-usdc").
// An option is {"id", "venue", "underlying", "right": "call"|"put", "strike": USD decimal,
// "expiry": RFC 3339, "size": signed decimal tokens (negative: short)}; a pool share is {"id",
// "venue", "assetA", "assetB", "amountA", "amountB"} (the holder's claim on each reserve). The
// result is validated against the book (derivatives need the book).
func LoadHoldings(path string, assets map[string]market.Asset, book *Book) (Positions, Derivatives, error) {
	data, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return nil, Derivatives{}, fmt.Errorf("positions: %w", err)
	}
	// The document's first character says which of the two forms it is; each is read strictly.
	var doc struct {
		Positions []filePosition `json:"positions"`
		Options   []fileOption   `json:"options,omitempty"`
		Pools     []filePool     `json:"pools,omitempty"`
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		if err := jsonstrict.Unmarshal(path, data, &doc.Positions); err != nil {
			return nil, Derivatives{}, fmt.Errorf("positions: %w", err)
		}
	} else if err := jsonstrict.Unmarshal(path, data, &doc); err != nil {
		return nil, Derivatives{}, fmt.Errorf("positions: %w", err)
	}
	var out Positions
	for i, r := range doc.Positions {
		a, ok := assets[r.Asset]
		if !ok {
			return nil, Derivatives{}, fmt.Errorf("positions %s, entry %d: unknown asset %s", path, i, r.Asset)
		}
		amt, err := ParseAmount(r.Amount, a)
		if err != nil {
			return nil, Derivatives{}, fmt.Errorf("positions %s, entry %d: %w", path, i, err)
		}
		venue := r.Venue
		if book != nil {
			if venue, err = book.Resolve(r.Venue, r.Asset); err != nil {
				return nil, Derivatives{}, fmt.Errorf("positions %s, entry %d: %w", path, i, err)
			}
		}
		out = append(out, Position{Venue: venue, Asset: r.Asset, Amount: amt})
	}
	out = out.Canonical()
	d, err := parseDerivatives(doc.Options, doc.Pools, assets)
	if err != nil {
		return nil, Derivatives{}, fmt.Errorf("positions %s: %w", path, err)
	}
	if book != nil {
		if err := out.Validate(book); err != nil {
			return nil, Derivatives{}, fmt.Errorf("positions %s: %w", path, err)
		}
		if err := d.Validate(book, assets); err != nil {
			return nil, Derivatives{}, fmt.Errorf("positions %s: %w", path, err)
		}
	} else if !d.Empty() {
		return nil, Derivatives{}, fmt.Errorf("positions %s: options and pool shares need a venue book", path)
	}
	return out, d.Canonical(), nil
}

func parseDerivatives(opts []fileOption, pools []filePool, assets map[string]market.Asset) (Derivatives, error) {
	var d Derivatives
	for i, r := range opts {
		a, ok := assets[r.Underlying]
		if !ok {
			return d, fmt.Errorf("option %d (%s): unknown underlying %s", i, r.ID, r.Underlying)
		}
		strike, err := market.ParsePrice(r.Strike)
		if err != nil {
			return d, fmt.Errorf("option %d (%s): strike: %w", i, r.ID, err)
		}
		exp, err := time.Parse(time.RFC3339, r.Expiry)
		if err != nil {
			return d, fmt.Errorf("option %d (%s): expiry %q is not an RFC 3339 time: %w", i, r.ID, r.Expiry, err)
		}
		size, err := ParseAmount(r.Size, a)
		if err != nil {
			return d, fmt.Errorf("option %d (%s): size: %w", i, r.ID, err)
		}
		d.Options = append(d.Options, derivatives.Option{ID: r.ID, Venue: r.Venue, Underlying: r.Underlying,
			Right: derivatives.Right(r.Right), Strike: strike, Expiry: exp.Unix(), Size: size})
	}
	for i, r := range pools {
		aa, okA := assets[r.AssetA]
		ab, okB := assets[r.AssetB]
		if !okA || !okB {
			return d, fmt.Errorf("pool share %d (%s): unknown asset %s or %s", i, r.ID, r.AssetA, r.AssetB)
		}
		x, err := ParseAmount(r.AmountA, aa)
		if err != nil {
			return d, fmt.Errorf("pool share %d (%s): %w", i, r.ID, err)
		}
		y, err := ParseAmount(r.AmountB, ab)
		if err != nil {
			return d, fmt.Errorf("pool share %d (%s): %w", i, r.ID, err)
		}
		d.Pools = append(d.Pools, derivatives.PoolShare{ID: r.ID, Venue: r.Venue, AssetA: r.AssetA, AssetB: r.AssetB, AmountA: x, AmountB: y})
	}
	return d, nil
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
