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
)

// PriceDecimals is the fixed precision of every normalised price: USD with 8 decimals, the
// precision of Chainlink's USD pairs (docs/design.md, "Price normalisation").
const PriceDecimals = 8

// MaxPrice is the largest normalised price: prices enter the solvency statement as 63-bit limbs
// (SOUNDNESS S1), so a price must be below 2^63.
const MaxPrice = uint64(1)<<63 - 1

var ten = big.NewInt(10)

// Normalize converts a feed answer with the feed's own decimals into a USD price with 8
// decimals: answer * 10^(8-d) when d <= 8, else floor(answer / 10^(d-8)). This is the single Go
// implementation of the rule in docs/design.md; the registry contract applies the same rule, so
// the two must stay identical. A non-positive answer, a result of zero after flooring, or a
// result of 2^63 or more is an error, never clamped.
func Normalize(answer *big.Int, decimals uint8) (uint64, error) {
	if answer == nil || answer.Sign() <= 0 {
		return 0, fmt.Errorf("feed answer %v is not positive", answer)
	}
	v := new(big.Int).Set(answer)
	if decimals <= PriceDecimals {
		v.Mul(v, new(big.Int).Exp(ten, big.NewInt(int64(PriceDecimals-decimals)), nil))
	} else {
		v.Quo(v, new(big.Int).Exp(ten, big.NewInt(int64(decimals-PriceDecimals)), nil))
	}
	if v.Sign() == 0 {
		return 0, fmt.Errorf("feed answer %v with %d decimals normalises to zero", answer, decimals)
	}
	if !v.IsUint64() || v.Uint64() > MaxPrice {
		return 0, fmt.Errorf("feed answer %v with %d decimals normalises to %v, above the 63-bit price bound", answer, decimals, v)
	}
	return v.Uint64(), nil
}

// ParsePrice parses a decimal USD price ("3012.5") into 8-decimal units. More than 8 decimals is
// an error rather than a silent rounding: a price file must state exactly what is proven.
func ParsePrice(s string) (uint64, error) {
	d, err := decimal.NewFromString(strings.TrimSpace(s))
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
	d := new(big.Int).Exp(ten, big.NewInt(int64(decimals)), nil)
	// big.Int.Div is Euclidean division; with a positive divisor that is the floor.
	return v.Div(v, d)
}

// AmountFor returns the amount of an asset worth value (USD, 8 decimals) at price, floored
// toward zero so a trade never sizes above what the value pays for.
func AmountFor(value *big.Int, decimals uint8, price uint64) (*big.Int, error) {
	if price == 0 {
		return nil, errors.New("price is zero")
	}
	a := new(big.Int).Mul(value, new(big.Int).Exp(ten, big.NewInt(int64(decimals)), nil))
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
			return &CheckError{Asset: a, Check: CheckMissing, Err: errors.New("no price in snapshot")}
		}
		if p == 0 {
			return &CheckError{Asset: a, Check: CheckNonPositive, Err: errors.New("price is zero")}
		}
		if p > MaxPrice {
			return &CheckError{Asset: a, Check: CheckRange, Err: fmt.Errorf("price %d is above 2^63-1", p)}
		}
	}
	return nil
}

// Names of the checks a price can fail; CheckError.Check holds one of them.
const (
	CheckMissing     = "missing"
	CheckNonPositive = "non-positive answer"
	CheckRange       = "range"
	CheckStaleness   = "staleness"
	CheckDeviation   = "deviation"
	CheckRound       = "incomplete round"
	CheckRead        = "read"
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
			return &CheckError{Asset: a, Check: CheckDeviation,
				Err: fmt.Errorf("moved %s bps from %s to %s, bound %d bps", moved, FormatPrice(old), FormatPrice(now), maxBps)}
		}
	}
	return nil
}
