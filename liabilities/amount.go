package liabilities

import (
	"math/bits"

	"github.com/solvency-dev/solvency/circuits/assets"
)

// pow10 holds 10^0 .. 10^19, every power of ten that fits in a uint64.
var pow10 = func() [20]uint64 {
	var p [20]uint64
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// parseLiability is assets.ParseLiability with a fast path for the common case: a plain,
// unsigned decimal whose result fits 64 bits. A million-row snapshot holds millions of amounts,
// and the decimal/big.Int route costs microseconds each. Anything the fast path is not certain
// about (a sign, odd characters, too many digits, an overflow) goes to assets.ParseLiability,
// which stays the one definition of what an amount means and words every error.
// FuzzParseLiabilityFastPath checks the two agree on arbitrary input.
func parseLiability(s string, precision uint8) (uint64, error) {
	if v, ok := parseFast(s, precision); ok {
		return v, nil
	}
	return assets.ParseLiability(s, precision)
}

// parseFast accepts ^[0-9]{1,40}(\.[0-9]{1,40})?$ (assets' grammar, minus the sign) and returns
// the value in units of 10^-precision rounded up, when it is below 2^64. ok is false whenever
// the slow path must decide.
func parseFast(s string, precision uint8) (v uint64, ok bool) {
	if len(s) == 0 || int(precision) >= len(pow10) {
		return 0, false
	}
	i := 0
	var intPart uint64
	intDigits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if intDigits == 40 {
			return 0, false
		}
		hi, lo := bits.Mul64(intPart, 10)
		lo, carry := bits.Add64(lo, uint64(s[i]-'0'), 0)
		if hi != 0 || carry != 0 {
			return 0, false // the slow path words the overflow
		}
		intPart = lo
		intDigits++
		i++
	}
	if intDigits == 0 {
		return 0, false
	}
	var frac uint64 // the first precision fraction digits, as an integer
	fracDigits := 0
	roundUp := false
	if i < len(s) {
		if s[i] != '.' {
			return 0, false
		}
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			d := uint64(s[i] - '0')
			if fracDigits < int(precision) {
				frac = frac*10 + d // < 10^18: no overflow
				fracDigits++
			} else if d != 0 {
				roundUp = true
			}
			i++
		}
		if i != len(s) || i == start || i-start > 40 {
			return 0, false
		}
	}
	// Scale the kept fraction digits up to exactly precision digits.
	frac *= pow10[int(precision)-fracDigits]
	hi, lo := bits.Mul64(intPart, pow10[precision])
	if hi != 0 {
		return 0, false
	}
	lo, carry := bits.Add64(lo, frac, 0)
	if carry != 0 {
		return 0, false
	}
	if roundUp {
		lo, carry = bits.Add64(lo, 1, 0)
		if carry != 0 {
			return 0, false
		}
	}
	return lo, true
}
