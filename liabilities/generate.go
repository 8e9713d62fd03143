package liabilities

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/solvency-dev/solvency/circuits/assets"
)

// GenerateOptions shape a synthetic snapshot.
type GenerateOptions struct {
	Users int    // number of accounts, >= 1
	Seed  uint64 // the same seed, table and Users give the same file, byte for byte
}

// Generate writes a deterministic, realistic accounts CSV for table to w: ids mostly like
// user-0000123 with some uuid-like ones mixed in; in each asset most users hold nothing and the
// holders' balances are log-normal (a heavy right tail), with a few Pareto-distributed whales;
// some amounts carry more decimals than the asset's circuit precision, so parsing's rounding up
// is exercised. The randomness is a seeded PCG: test data, never anything secret.
func Generate(w io.Writer, table *assets.Table, opt GenerateOptions) error {
	if opt.Users < 1 || opt.Users > MaxAccounts {
		return fmt.Errorf("generate: --users %d: want 1 to %d", opt.Users, MaxAccounts)
	}
	if table == nil || table.Len() == 0 {
		return errors.New("generate: no asset table")
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x736f6c76656e6379)) // "solvency"
	bw := bufio.NewWriterSize(w, 1<<20)

	bw.WriteString(IDColumn)
	for _, a := range table.Assets {
		bw.WriteByte(',')
		bw.WriteString(a.Symbol)
	}
	bw.WriteByte('\n')

	A := table.Len()
	// Each asset has its own share of holders (falling with the slot: the first assets are the
	// popular ones) and its own typical size, so columns differ the way real books do.
	holdP := make([]float64, A)
	mu := make([]float64, A)
	for i := range A {
		holdP[i] = math.Max(0.05, 0.65*math.Pow(0.8, float64(i)))
		mu[i] = math.Log(2 + 40*rng.Float64()) // median holding, in whole units
	}
	width := len(strconv.Itoa(opt.Users))
	if width < 6 {
		width = 6
	}
	uuids := make(map[string]struct{})
	var line []byte
	for u := range opt.Users {
		line = line[:0]
		if rng.IntN(10) < 3 {
			line = append(line, uuidLike(rng, uuids)...)
		} else {
			line = fmt.Appendf(line, "user-%0*d", width, u)
		}
		whale := rng.IntN(2000) == 0 // about 0.05% of users
		for i, a := range table.Assets {
			line = append(line, ',')
			if rng.Float64() >= holdP[i] && !whale {
				line = append(line, '0')
				continue
			}
			// Log-normal holding in whole units; whales get a Pareto (alpha 1.2) multiplier.
			x := math.Exp(mu[i] + 2.0*rng.NormFloat64())
			if whale {
				x *= 1e3 / math.Pow(1-rng.Float64(), 1/1.2)
			}
			line = appendAmount(line, rng, x, a)
		}
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// uuidLike draws a random version-4-shaped uuid that is not in seen.
func uuidLike(rng *rand.Rand, seen map[string]struct{}) string {
	for {
		hi, lo := rng.Uint64(), rng.Uint64()
		hi = hi&^0xf000 | 0x4000 // version 4
		lo = lo&^(3<<62) | 1<<63 // variant 10
		s := fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, hi>>16&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
		if _, dup := seen[s]; !dup {
			seen[s] = struct{}{}
			return s
		}
	}
}

// appendAmount renders x whole units of a as a plain decimal. Floating point only shapes the
// random test value; the digits written are exact. The value is capped well below 2^64 circuit
// units (2^62), and one amount in ten carries extra decimals past the circuit precision (up to
// the on-chain decimals) to exercise rounding up.
func appendAmount(dst []byte, rng *rand.Rand, x float64, a assets.Asset) []byte {
	maxUnits := float64(uint64(1) << 62)
	u := x * math.Pow(10, float64(a.Precision))
	if u >= maxUnits {
		u = maxUnits - 1
	}
	units := uint64(u)
	if units == 0 {
		units = 1
	}
	s := assets.FormatUnits(new(big.Int).SetUint64(units), a.Precision)
	extra := int(a.Decimals) - int(a.Precision)
	if extra > 0 && rng.IntN(10) == 0 {
		n := 1 + rng.IntN(extra)
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
		if !strings.Contains(s, ".") {
			s += "."
		}
		s += b.String()
	}
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return append(dst, s...)
}
