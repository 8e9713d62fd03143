// Package derivatives holds the treasury's European options and constant-product liquidity
// positions and prices them off chain: Black-76 values and Greeks for options, the
// arbitrage-free value and Greeks of a pool share. Model figures are the engine's, never the
// proof's: the solvency circuit values these positions conservatively by its own rules
// (docs/greeks.md).
package derivatives

import (
	"errors"
	"fmt"
	"math"
	"math/big"
)

// Right is an option's right: a call or a put.
type Right string

// The rights.
const (
	Call Right = "call"
	Put  Right = "put"
)

// Option is a European option on one asset of the table, held at a venue. Size is signed in the
// underlying's own units (10^decimals per whole token): positive long, negative short. Strike is
// USD with 8 decimals per whole token, like the oracle prices. Expiry is a unix time (seconds).
type Option struct {
	ID         string   `json:"id"`
	Venue      string   `json:"venue"`
	Underlying string   `json:"underlying"`
	Right      Right    `json:"right"`
	Strike     uint64   `json:"strike"`
	Expiry     int64    `json:"expiry"`
	Size       *big.Int `json:"size"`
}

// PoolShare is a share of a constant-product pool of two assets of the table: the holder's
// pro-rata claim on each reserve, in each asset's own units (LP balance / LP supply * reserve).
// A pool share is always long liquidity, and so short gamma.
type PoolShare struct {
	ID      string   `json:"id"`
	Venue   string   `json:"venue"`
	AssetA  string   `json:"assetA"`
	AssetB  string   `json:"assetB"`
	AmountA *big.Int `json:"amountA"`
	AmountB *big.Int `json:"amountB"`
}

// Greeks are first and second order sensitivities, per whole token of underlying for an
// option unit, or of the whole position once scaled. Delta is d value / d price (tokens),
// Gamma d2 value / d price2 (tokens per USD), Vega d value / d sigma (USD per 1.00 of
// volatility), Theta d value / d time (USD per year, negative for a long option).
type Greeks struct {
	Delta, Gamma, Vega, Theta float64
}

// Add returns g + o.
func (g Greeks) Add(o Greeks) Greeks {
	return Greeks{g.Delta + o.Delta, g.Gamma + o.Gamma, g.Vega + o.Vega, g.Theta + o.Theta}
}

// Scale returns g * k.
func (g Greeks) Scale(k float64) Greeks {
	return Greeks{g.Delta * k, g.Gamma * k, g.Vega * k, g.Theta * k}
}

// ErrInput is returned for inputs the model is not defined on.
var ErrInput = errors.New("derivatives: input out of the model's domain")

func normCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
func normPDF(x float64) float64 { return math.Exp(-0.5*x*x) / math.Sqrt(2*math.Pi) }

// Black76 prices one option on one whole token of underlying with forward F, strike K (both
// USD), T years to expiry, volatility sigma (annual, 0.8 = 80%) and rate r (continuous), and
// returns its value and Greeks with respect to F. At or past expiry (T <= 0) it returns the
// intrinsic value with delta 0 or ±1 and no gamma, vega or theta.
func Black76(right Right, F, K, T, sigma, r float64) (float64, Greeks, error) {
	if right != Call && right != Put {
		return 0, Greeks{}, fmt.Errorf("%w: right %q", ErrInput, right)
	}
	if !(F > 0) || !(K > 0) || math.IsInf(F, 0) || math.IsInf(K, 0) || math.IsNaN(T) || math.IsNaN(r) {
		return 0, Greeks{}, fmt.Errorf("%w: F=%v K=%v T=%v r=%v", ErrInput, F, K, T, r)
	}
	if T <= 0 {
		switch {
		case right == Call && F > K:
			return F - K, Greeks{Delta: 1}, nil
		case right == Put && K > F:
			return K - F, Greeks{Delta: -1}, nil
		}
		return 0, Greeks{}, nil
	}
	if !(sigma > 0) || math.IsInf(sigma, 0) {
		return 0, Greeks{}, fmt.Errorf("%w: sigma=%v", ErrInput, sigma)
	}
	sq := sigma * math.Sqrt(T)
	d1 := (math.Log(F/K) + 0.5*sigma*sigma*T) / sq
	d2 := d1 - sq
	df := math.Exp(-r * T)
	var price, delta float64
	if right == Call {
		price = df * (F*normCDF(d1) - K*normCDF(d2))
		delta = df * normCDF(d1)
	} else {
		price = df * (K*normCDF(-d2) - F*normCDF(-d1))
		delta = -df * normCDF(-d1)
	}
	gamma := df * normPDF(d1) / (F * sq)
	vega := df * F * normPDF(d1) * math.Sqrt(T)
	// dV/dt (calendar time) = -dV/dT: the decay of the option's time value plus the discounting.
	theta := -df*F*normPDF(d1)*sigma/(2*math.Sqrt(T)) + r*price
	return price, Greeks{Delta: delta, Gamma: gamma, Vega: vega, Theta: theta}, nil
}

// PoolValue values a constant-product pool claim of x tokens of A and y tokens of B at prices
// pa and pb (USD per token) as if arbitrage had moved the pool to those prices:
// V = 2*sqrt(x*y*pa*pb) <= x*pa + y*pb. It returns V and the Greeks with respect to pa
// (those for pb follow by symmetry); a pool share has no vega or theta.
func PoolValue(x, y, pa, pb float64) (float64, Greeks, error) {
	if !(x >= 0) || !(y >= 0) || !(pa > 0) || !(pb > 0) || math.IsInf(x*y*pa*pb, 0) {
		return 0, Greeks{}, fmt.Errorf("%w: pool x=%v y=%v pa=%v pb=%v", ErrInput, x, y, pa, pb)
	}
	v := 2 * math.Sqrt(x*y*pa*pb)
	delta := math.Sqrt(x * y * pb / pa) // tokens of A held once arbitraged to pa
	gamma := -0.5 * delta / pa
	return v, Greeks{Delta: delta, Gamma: gamma}, nil
}
