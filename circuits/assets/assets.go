// Package assets holds the asset table that every statement is bound to (L8): each asset's
// symbol, on-chain decimals and circuit precision, in slot order, with its canonical hash; and
// the parsing of decimal amounts into integer circuit units.
package assets

import (
	"errors"
	"fmt"
	"io"
	"regexp"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
)

// Limits of the table. Precision stays below 19 so that 10^precision fits comfortably in 64 bits
// and one whole unit of any asset is representable.
const (
	MaxAssets    = 64
	MaxSymbolLen = 31
	MaxPrecision = 18
	MaxDecimals  = 36
)

// Asset is one slot of the table.
type Asset struct {
	Symbol    string `json:"symbol"`    // upper-case ticker, e.g. ETH
	Decimals  uint8  `json:"decimals"`  // on-chain ERC-20 decimals
	Precision uint8  `json:"precision"` // decimals kept inside proofs
}

// Table is the ordered list of assets; an asset's index is its slot in every vector.
type Table struct {
	Assets []Asset `json:"assets"`
}

var symbolRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$`)

// Validate checks the table's invariants.
func (t *Table) Validate() error {
	if len(t.Assets) == 0 {
		return errors.New("the asset table is empty")
	}
	if len(t.Assets) > MaxAssets {
		return fmt.Errorf("%d assets; at most %d are supported", len(t.Assets), MaxAssets)
	}
	seen := map[string]int{}
	for i, a := range t.Assets {
		if !symbolRE.MatchString(a.Symbol) {
			return fmt.Errorf("assets[%d].symbol %q: want 1-%d characters of A-Z, a-z, 0-9, '.', '_', '-'", i, a.Symbol, MaxSymbolLen)
		}
		if j, dup := seen[a.Symbol]; dup {
			return fmt.Errorf("assets[%d].symbol %q repeats assets[%d]", i, a.Symbol, j)
		}
		seen[a.Symbol] = i
		if a.Precision > MaxPrecision {
			return fmt.Errorf("assets[%d].precision %d: at most %d", i, a.Precision, MaxPrecision)
		}
		if a.Decimals > MaxDecimals {
			return fmt.Errorf("assets[%d].decimals %d: at most %d", i, a.Decimals, MaxDecimals)
		}
		if a.Precision > a.Decimals {
			return fmt.Errorf("assets[%d].precision %d exceeds its on-chain decimals %d", i, a.Precision, a.Decimals)
		}
	}
	return nil
}

// Len is the number of assets.
func (t *Table) Len() int { return len(t.Assets) }

// Index returns the slot of symbol.
func (t *Table) Index(symbol string) (int, bool) {
	for i, a := range t.Assets {
		if a.Symbol == symbol {
			return i, true
		}
	}
	return -1, false
}

// Symbols lists the symbols in slot order.
func (t *Table) Symbols() []string {
	out := make([]string, len(t.Assets))
	for i, a := range t.Assets {
		out[i] = a.Symbol
	}
	return out
}

// Elements is the canonical encoding hashed into assetsHash: A, then per asset the symbol's
// bytes as a big-endian integer and decimals*2^8 + precision.
func (t *Table) Elements() []fr.Element {
	out := make([]fr.Element, 0, 1+2*len(t.Assets))
	out = append(out, poseidon.Uint64(uint64(len(t.Assets))))
	for _, a := range t.Assets {
		var sym fr.Element
		sym.SetBytes([]byte(a.Symbol)) // at most 31 bytes: always below p
		out = append(out, sym, poseidon.Uint64(uint64(a.Decimals)<<8|uint64(a.Precision)))
	}
	return out
}

// Hash is assetsHash (L8): bound into LC and into the policy hash.
func (t *Table) Hash(h *poseidon.Hasher) fr.Element {
	return h.Hash(poseidon.TagAssets, t.Elements()...)
}

// Load reads and validates an asset table file, naming the file in every error.
func Load(path string) (*Table, error) {
	raw, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return nil, fmt.Errorf("asset table: %w", err)
	}
	return decode(path, raw)
}

// Decode parses an asset table strictly (see jsonstrict): every field is required, unknown,
// duplicate and case-variant keys are errors.
func Decode(r io.Reader) (*Table, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return decode("asset table", raw)
}

func decode(name string, raw []byte) (*Table, error) {
	var t Table
	if err := jsonstrict.Unmarshal(name, raw, &t); err != nil {
		return nil, err
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &t, nil
}
