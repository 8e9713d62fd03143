// Package statement holds the encodings of the solvency statement that the circuit, the
// registry contract's Go twin, the prover and the verifier must share bit for bit: how an
// oracle answer becomes a price (P1) and how the statement packs into public inputs (S1).
// It sits at the bottom of the import graph so that every layer calls this one implementation
// instead of keeping a copy that could drift from SolvencyRegistry's.
package statement

import (
	"fmt"
	"math/big"
)

// Layout constants (docs/design.md, "The solvency statement" and "Price normalisation").
const (
	// PriceDecimals is the number of decimals every price is normalised to (USD, 8 decimals).
	PriceDecimals = 8
	// PriceBits is the width of one packed price limb; every normalised price is below 2^63.
	PriceBits = 63
	// PricesPerWord is the number of price limbs packed into one public input (4*63 = 252 bits).
	PricesPerWord = 4
	// MaxFeedDecimals is the largest feed decimals the registry accepts.
	MaxFeedDecimals = 36
	// FixedInputs counts the public inputs before the price words: policyHash, LC, RC, meta.
	FixedInputs = 4
	// MetaTimeBits is the width of the snapshot time inside meta.
	MetaTimeBits = 40
	// MaxSnapshotTime is the largest snapshot time meta can hold.
	MaxSnapshotTime = 1<<MetaTimeBits - 1
)

// NormalisePrice converts an oracle answer with the feed's decimals into a price with 8
// decimals, exactly as SolvencyRegistry does (P1): answer * 10^(8-d) when d <= 8, else
// floor(answer / 10^(d-8)). The answer must be positive and the result in [1, 2^63); a result
// out of range is an error, never clamped.
func NormalisePrice(answer *big.Int, decimals uint8) (uint64, error) {
	if answer == nil || answer.Sign() <= 0 {
		return 0, fmt.Errorf("oracle answer %v is not positive", answer)
	}
	if decimals > MaxFeedDecimals {
		return 0, fmt.Errorf("feed has %d decimals; at most %d are supported", decimals, MaxFeedDecimals)
	}
	limit := new(big.Int).Lsh(big.NewInt(1), PriceBits)
	p := new(big.Int)
	if decimals <= PriceDecimals {
		// Checked before scaling so that a huge answer is refused without a huge product.
		if answer.Cmp(limit) >= 0 {
			return 0, fmt.Errorf("oracle answer %v does not fit 63 bits", answer)
		}
		p.Mul(answer, pow10(PriceDecimals-int(decimals)))
	} else {
		p.Quo(answer, pow10(int(decimals)-PriceDecimals))
	}
	if p.Sign() == 0 || p.Cmp(limit) >= 0 {
		return 0, fmt.Errorf("normalised price %v is outside [1, 2^63)", p)
	}
	return p.Uint64(), nil
}

// Meta is the statement's scalar fields, packed into public input 3.
type Meta struct {
	Cycle         uint64
	ReservesBlock uint64
	SnapshotEpoch uint64
	SnapshotTime  uint64 // below 2^40
}

// PackMeta is cycle + reservesBlock*2^64 + snapshotEpoch*2^128 + snapshotTime*2^192 (232 bits).
func PackMeta(m Meta) (*big.Int, error) {
	if m.SnapshotTime > MaxSnapshotTime {
		return nil, fmt.Errorf("snapshot time %d does not fit %d bits", m.SnapshotTime, MetaTimeBits)
	}
	v := new(big.Int).SetUint64(m.SnapshotTime)
	for _, x := range []uint64{m.SnapshotEpoch, m.ReservesBlock, m.Cycle} {
		v.Lsh(v, 64).Or(v, new(big.Int).SetUint64(x))
	}
	return v, nil
}

// NumPriceWords is ceil(assets/4), the number of packed price words.
func NumPriceWords(assets int) int { return (assets + PricesPerWord - 1) / PricesPerWord }

// PackPrices packs normalised prices four per word, price i at bit 63*(i%4) of word i/4. A price
// of 2^63 or more would spill into its neighbour's limb, so it is an error.
func PackPrices(prices []uint64) ([]*big.Int, error) {
	words := make([]*big.Int, NumPriceWords(len(prices)))
	for i := range words {
		words[i] = new(big.Int)
	}
	for i, p := range prices {
		if p >= 1<<PriceBits {
			return nil, fmt.Errorf("price %d (%d) does not fit %d bits", i, p, PriceBits)
		}
		limb := new(big.Int).SetUint64(p)
		limb.Lsh(limb, uint(PriceBits*(i%PricesPerWord)))
		words[i/PricesPerWord].Or(words[i/PricesPerWord], limb)
	}
	return words, nil
}

// PublicInputs returns the solvency circuit's public inputs in order, exactly the words
// SolvencyRegistry builds: policyHash, LC, RC (field elements as integers), meta, price words.
func PublicInputs(policyHash, lc, rc *big.Int, m Meta, prices []uint64) ([]*big.Int, error) {
	meta, err := PackMeta(m)
	if err != nil {
		return nil, err
	}
	words, err := PackPrices(prices)
	if err != nil {
		return nil, err
	}
	out := make([]*big.Int, 0, FixedInputs+len(words))
	out = append(out, new(big.Int).Set(policyHash), new(big.Int).Set(lc), new(big.Int).Set(rc), meta)
	return append(out, words...), nil
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }
