// Package market holds prices as integers (USD with 8 decimals), per-cycle price snapshots, a
// price history for risk statistics, and the sources a cycle reads prices from: a seeded
// synthetic market, snapshot files, and Chainlink-style feeds read through go-ethereum.
//
// Prices are never float64: a float cannot hold every 8-decimal price exactly and the proof
// needs the exact integer the oracle published. Floats appear only for statistics (returns).
package market

import (
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/solvency-dev/solvency/circuits/statement"
)

// PriceDecimals is the fixed precision of every normalised price: USD with 8 decimals, the
// precision of Chainlink's USD pairs (docs/design.md, "Price normalisation"). A feed answer
// becomes such a price by statement.NormalisePrice (circuits/statement), the one Go
// implementation of the registry contract's rule.
const PriceDecimals = statement.PriceDecimals

// MaxPrice is the largest normalised price: prices enter the solvency statement as 63-bit limbs
// (SOUNDNESS S1), so a price must be below 2^63.
const MaxPrice = uint64(1)<<statement.PriceBits - 1

// ParsePrice parses a decimal USD price ("3012.5") into 8-decimal units. More than 8 decimals is
// an error rather than a silent rounding: a price file must state exactly what is proven.
func ParsePrice(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	// Plain decimals only: an exponent ("1e999999999") would make the parser build a huge
	// number before any range check.
	if !plainDecimal(s, false) {
		return 0, fmt.Errorf("price %q is not a plain decimal number", s)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return 0, fmt.Errorf("parse price %q: %w", s, err)
	}
	if d.Sign() <= 0 {
		return 0, fmt.Errorf("price %q is not positive", s)
	}
	scaled := d.Shift(PriceDecimals)
	if !scaled.IsInteger() {
		return 0, fmt.Errorf("price %q has more than %d decimals", s, PriceDecimals)
	}
	b := scaled.BigInt()
	if !b.IsUint64() || b.Uint64() > MaxPrice {
		return 0, fmt.Errorf("price %q is above the 63-bit price bound", s)
	}
	return b.Uint64(), nil
}

// FormatPrice prints an 8-decimal price as a decimal string.
func FormatPrice(p uint64) string {
	return decimal.NewFromBigInt(new(big.Int).SetUint64(p), -PriceDecimals).String()
}

// FormatUSD prints a value in USD with 8 decimals (signed, any size) rounded to cents.
func FormatUSD(v *big.Int) string {
	if v == nil {
		return "0.00"
	}
	return decimal.NewFromBigInt(v, -PriceDecimals).StringFixed(2)
}

// Asset is what the engine needs to know about an asset to value it: its symbol and the number
// of decimals of its amounts (the unit amounts are counted in).
type Asset struct {
	Symbol   string `json:"symbol"`
	Decimals uint8  `json:"decimals"`
}

// Value returns amount * price / 10^decimals in USD with 8 decimals, floored toward minus
// infinity. Flooring toward minus infinity rounds against the treasury for both signs: a
// holding is worth a little less, a debt a little more (ARCHITECTURE "round against the prover").
func Value(amount *big.Int, decimals uint8, price uint64) *big.Int {
	v := new(big.Int).Mul(amount, new(big.Int).SetUint64(price))
	d := pow10(int64(decimals))
	// big.Int.Div is Euclidean division; with a positive divisor that is the floor.
	return v.Div(v, d)
}

// AmountFor returns the amount of an asset worth value (USD, 8 decimals) at price, floored
// toward zero so a trade never sizes above what the value pays for.
func AmountFor(value *big.Int, decimals uint8, price uint64) (*big.Int, error) {
	if price == 0 {
		return nil, errors.New("price is zero")
	}
	a := new(big.Int).Mul(value, pow10(int64(decimals)))
	return a.Quo(a, new(big.Int).SetUint64(price)), nil
}

// Snapshot is the set of prices a cycle uses: one normalised price per asset, taken at Time
// (unix seconds), with the feed round per asset when the prices came from feeds (P1, S7).
type Snapshot struct {
	Cycle  uint64              `json:"cycle"`
	Time   int64               `json:"time"`
	Prices map[string]uint64   `json:"prices"`
	Rounds map[string]*big.Int `json:"rounds,omitempty"`
	Source string              `json:"source,omitempty"`
}

// Price returns the price of asset or an error naming the missing asset.
func (s Snapshot) Price(asset string) (uint64, error) {
	p, ok := s.Prices[asset]
	if !ok {
		return 0, fmt.Errorf("no price for %s in the cycle %d snapshot", asset, s.Cycle)
	}
	return p, nil
}

// Assets returns the snapshot's assets in sorted order.
func (s Snapshot) Assets() []string {
	out := make([]string, 0, len(s.Prices))
	for a := range s.Prices {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// Clone returns a deep copy, so a caller can change prices without touching a stored snapshot.
func (s Snapshot) Clone() Snapshot {
	c := s
	c.Prices = make(map[string]uint64, len(s.Prices))
	for k, v := range s.Prices {
		c.Prices[k] = v
	}
	if s.Rounds != nil {
		c.Rounds = make(map[string]*big.Int, len(s.Rounds))
		for k, v := range s.Rounds {
			c.Rounds[k] = new(big.Int).Set(v)
		}
	}
	return c
}

// Validate checks that every listed asset has a price in (0, 2^63).
func (s Snapshot) Validate(assets []string) error {
	for _, a := range assets {
		p, ok := s.Prices[a]
		if !ok {
			return &CheckError{Asset: a, Check: FailMissing, Err: errors.New("no price in snapshot")}
		}
		if p == 0 {
			return &CheckError{Asset: a, Check: FailNonPositive, Err: errors.New("price is zero")}
		}
		if p > MaxPrice {
			return &CheckError{Asset: a, Check: FailRange, Err: fmt.Errorf("price %d is above 2^63-1", p)}
		}
	}
	return nil
}

// Names of the checks a price can fail; CheckError.Check holds one of them.
const (
	FailMissing     = "missing"
	FailNonPositive = "non-positive answer"
	FailRange       = "range"
	FailStaleness   = "staleness"
	FailDeviation   = "deviation"
	FailRound       = "incomplete round"
	FailRead        = "read"
)

// CheckError says which asset's price failed which check; a cycle refuses to run on it.
type CheckError struct {
	Asset string
	Check string
	Err   error
}

func (e *CheckError) Error() string {
	return fmt.Sprintf("price of %s failed the %s check: %v", e.Asset, e.Check, e.Err)
}

func (e *CheckError) Unwrap() error { return e.Err }

// CheckDeviation refuses a price that moved more than maxBps basis points from the previous
// snapshot's price of the same asset. A large move is not necessarily wrong (a crash is real),
// but it is what a manipulated or broken feed looks like, so the operator must confirm it by
// raising the bound. Assets absent from prev are not checked.
func CheckDeviation(prev, cur Snapshot, maxBps uint64) error {
	for _, a := range cur.Assets() {
		old, ok := prev.Prices[a]
		if !ok || old == 0 {
			continue
		}
		now := cur.Prices[a]
		diff := new(big.Int).Sub(new(big.Int).SetUint64(now), new(big.Int).SetUint64(old))
		diff.Abs(diff)
		// diff * 10000 > maxBps * old, all in big integers (no overflow).
		lhs := new(big.Int).Mul(diff, big.NewInt(10000))
		rhs := new(big.Int).Mul(new(big.Int).SetUint64(maxBps), new(big.Int).SetUint64(old))
		if lhs.Cmp(rhs) > 0 {
			moved := new(big.Int).Quo(lhs, new(big.Int).SetUint64(old))
			return &CheckError{Asset: a, Check: FailDeviation,
				Err: fmt.Errorf("moved %s bps from %s to %s, bound %d bps", moved, FormatPrice(old), FormatPrice(now), maxBps)}
		}
	}
	return nil
}

// pow10 returns 10^n as a new integer.
func pow10(n int64) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(n), nil) }

// plainDecimal reports whether s is digits with at most one decimal point (and a leading minus
// when signed is true), at most 80 characters.
func plainDecimal(s string, signed bool) bool {
	if signed && strings.HasPrefix(s, "-") {
		s = s[1:]
	}
	if s == "" || len(s) > 80 {
		return false
	}
	dot := false
	digits := 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// PlainDecimal reports whether s is a plain (signed) decimal of at most 80 characters: digits
// with at most one point, no exponent. Parsers check it before handing s to a decimal library.
func PlainDecimal(s string) bool { return plainDecimal(s, true) }
