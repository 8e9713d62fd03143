package assets

import (
	"fmt"
	"math/big"
	"regexp"

	"github.com/shopspring/decimal"
)

// Rounding says which way a decimal amount is rounded into circuit units. Both modes round
// against the prover: liabilities up, reserves down (toward minus infinity, so a debt grows).
type Rounding int

const (
	RoundUp   Rounding = iota // liabilities
	RoundDown                 // reserves
)

// Only plain decimals are accepted: no exponent, no sign other than a leading '-', no spaces,
// no NaN or infinities.
var amountRE = regexp.MustCompile(`^-?[0-9]{1,40}(\.[0-9]{1,40})?$`)

var two64 = new(big.Int).Lsh(big.NewInt(1), 64)

// ParseUnits parses a plain decimal string into integer units of 10^-precision, rounded as mode
// says. With signed false a negative amount is an error. The result's magnitude is below 2^64.
func ParseUnits(s string, precision uint8, mode Rounding, signed bool) (*big.Int, error) {
	if !amountRE.MatchString(s) {
		return nil, fmt.Errorf("amount %q is not a plain decimal number (digits, an optional fraction, no exponent)", s)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return nil, fmt.Errorf("amount %q: %w", s, err)
	}
	if d.Sign() < 0 && !signed {
		return nil, fmt.Errorf("amount %q is negative", s)
	}
	scaled := d.Shift(int32(precision))
	var units decimal.Decimal
	if mode == RoundUp {
		units = scaled.Ceil()
	} else {
		units = scaled.Floor()
	}
	v := units.BigInt()
	if new(big.Int).Abs(v).Cmp(two64) >= 0 {
		return nil, fmt.Errorf("amount %q is %s units at precision %d, past the 64-bit bound", s, v, precision)
	}
	return v, nil
}

// ParseLiability parses a user balance: non-negative, rounded up, below 2^64 units.
func ParseLiability(s string, precision uint8) (uint64, error) {
	v, err := ParseUnits(s, precision, RoundUp, false)
	if err != nil {
		return 0, err
	}
	return v.Uint64(), nil
}

// FormatUnits renders integer units at precision as a plain decimal string.
func FormatUnits(v *big.Int, precision uint8) string {
	return decimal.NewFromBigInt(v, -int32(precision)).StringFixed(int32(precision))
}
