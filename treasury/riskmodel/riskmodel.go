// Package riskmodel computes the treasury's market-risk statistics: an exponentially weighted
// covariance of daily returns (RiskMetrics), the parametric Value-at-Risk and expected shortfall
// under it (the engine's forecast limit), and the integer Cholesky factor the policy carries for
// the in-circuit VaR limit.
//
// Statistics are float64 (returns, covariances); anything that is money on the way out (a VaR in
// USD) is returned as an integer with 8 decimals, rounded up, since a risk figure that errs
// should err toward more risk.
package riskmodel

import (
	"errors"
	"fmt"
	"math"
	"math/big"

	"gonum.org/v1/gonum/mat"
)

// DefaultLambda is RiskMetrics' decay for daily data.
const DefaultLambda = 0.94

// usdScale is 10^8: values in USD with 8 decimals.
const usdScale = 1e8

// EWMACovariance returns the exponentially weighted covariance of returns (rows are days, oldest
// first; columns assets), zero mean as in RiskMetrics:
//
//	Σ = (1-λ)/(1-λ^T) · Σ_{k=0}^{T-1} λ^k r_{T-k} r_{T-k}ᵀ
//
// The finite-window normalisation makes the weights sum to one, so a short history is not
// biased toward zero.
func EWMACovariance(returns [][]float64, lambda float64) (*mat.SymDense, error) {
	if lambda <= 0 || lambda >= 1 {
		return nil, fmt.Errorf("EWMA decay %g outside (0,1)", lambda)
	}
	T := len(returns)
	if T == 0 {
		return nil, errors.New("EWMA covariance of an empty return series")
	}
	n := len(returns[0])
	cov := mat.NewSymDense(n, nil)
	w := (1 - lambda) / (1 - math.Pow(lambda, float64(T)))
	for k := 0; k < T; k++ {
		r := returns[T-1-k]
		if len(r) != n {
			return nil, fmt.Errorf("return row %d has %d assets, want %d", T-1-k, len(r), n)
		}
		for i := 0; i < n; i++ {
			if math.IsNaN(r[i]) || math.IsInf(r[i], 0) {
				return nil, fmt.Errorf("return row %d asset %d is %g", T-1-k, i, r[i])
			}
			for j := 0; j <= i; j++ {
				cov.SetSym(i, j, cov.At(i, j)+w*r[i]*r[j])
			}
		}
		w *= lambda
	}
	return cov, nil
}

// toFloatUSD converts USD with 8 decimals into float dollars, for statistics only.
func toFloatUSD(x []*big.Int) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		f, _ := new(big.Float).SetInt(v).Float64()
		out[i] = f / usdScale
	}
	return out
}

// ceilUSD converts float dollars into USD with 8 decimals, rounded up.
func ceilUSD(f float64) *big.Int {
	if f <= 0 || math.IsNaN(f) {
		return new(big.Int)
	}
	b, _ := new(big.Float).SetFloat64(math.Ceil(f * usdScale)).Int(nil)
	return b
}

// Tail is a loss statistic of a portfolio at a confidence level, in USD with 8 decimals.
type Tail struct {
	Confidence float64  `json:"confidence"`
	VaR        *big.Int `json:"var"`
	ES         *big.Int `json:"es"`
}

// Parametric returns the normal VaR and ES of exposures x under a daily covariance, over
// horizon days (square-root-of-time scaling): VaR = z·σ, ES = φ(z)/(1-c)·σ with σ the portfolio
// standard deviation sqrt(h·xᵀΣx).
func Parametric(cov *mat.SymDense, x []*big.Int, c float64, horizonDays float64) (Tail, error) {
	if c <= 0.5 || c >= 1 {
		return Tail{}, fmt.Errorf("confidence %g outside (0.5,1)", c)
	}
	if cov.SymmetricDim() != len(x) {
		return Tail{}, fmt.Errorf("covariance is %d square, exposures %d", cov.SymmetricDim(), len(x))
	}
	sigma := math.Sqrt(horizonDays * Quadratic(cov, toFloatUSD(x)))
	z := NormalQuantile(c)
	phi := math.Exp(-z*z/2) / math.Sqrt(2*math.Pi)
	return Tail{Confidence: c, VaR: ceilUSD(z * sigma), ES: ceilUSD(phi / (1 - c) * sigma)}, nil
}

// Quadratic returns xᵀΣx, clamped at zero against rounding.
func Quadratic(cov *mat.SymDense, x []float64) float64 {
	v := mat.NewVecDense(len(x), append([]float64(nil), x...))
	return math.Max(mat.Inner(v, cov, v), 0)
}

// NormalQuantile is the standard normal inverse CDF.
func NormalQuantile(p float64) float64 {
	return math.Sqrt2 * math.Erfinv(2*p-1)
}
