package riskmodel

import (
	"errors"
	"fmt"
	"math"
	"math/big"

	"gonum.org/v1/gonum/mat"
)

// IntFactor is a lower-triangular Cholesky factor in scaled integers: L[i][j] ≈ Scale · ℓ_ij,
// with L[i][j] = 0 for j > i. The policy carries it so that the circuit computes
// Q = |Lᵀx|² ≥ 0 by construction (SOUNDNESS S5); a non-positive-definite covariance cannot be
// expressed this way.
type IntFactor struct {
	Scale int64     `json:"scale"`
	L     [][]int64 `json:"l"`
}

// Quadratic returns |Lᵀx|² for integer exposures x, exactly (big integers), in units of
// Scale²·x². It is the quantity the circuit bounds.
func (f IntFactor) Quadratic(x []*big.Int) (*big.Int, error) {
	n := len(f.L)
	if len(x) != n {
		return nil, fmt.Errorf("factor is %d square, exposures %d", n, len(x))
	}
	q := new(big.Int)
	for j := 0; j < n; j++ {
		// (Lᵀx)_j = Σ_i L[i][j] x_i, over i >= j.
		s := new(big.Int)
		for i := j; i < n; i++ {
			s.Add(s, new(big.Int).Mul(big.NewInt(f.L[i][j]), x[i]))
		}
		q.Add(q, s.Mul(s, s))
	}
	return q, nil
}

// ScaledCholesky factors cov and returns L scaled by scale and rounded to integers, such that
// for every exposure x the integer factor never understates risk:
//
//	|L̃ᵀx|² ≥ scale² · xᵀΣx.
//
// Rounding each entry moves Lᵀx by at most δ‖x‖ with δ = ‖L̃/scale − L‖_F ≤ n/(2·scale), which
// could shrink the quadratic. So the diagonal of Σ is first inflated by η = 2δ√λmax + δ², which
// adds η‖x‖² ≥ 2δ‖x‖·√(xᵀΣx) + δ²‖x‖² and covers the worst case. A covariance that is not
// positive definite (or only semi-definite, like two perfectly pegged stablecoins) gets a tiny
// ridge first; that only overstates risk.
func ScaledCholesky(cov *mat.SymDense, scale int64) (IntFactor, error) {
	if scale <= 0 {
		return IntFactor{}, errors.New("Cholesky scale must be positive")
	}
	n := cov.SymmetricDim()
	if n == 0 {
		return IntFactor{}, errors.New("empty covariance")
	}
	var eig mat.EigenSym
	if !eig.Factorize(cov, false) {
		return IntFactor{}, errors.New("eigen-decomposition of the covariance failed")
	}
	vals := eig.Values(nil)
	lmin, lmax := vals[0], vals[len(vals)-1]
	if lmax <= 0 || math.IsNaN(lmax) {
		return IntFactor{}, errors.New("covariance has no positive variance")
	}
	// A clearly negative eigenvalue is a broken covariance, not rounding: refuse it rather than
	// hide it under a ridge.
	if lmin < -1e-9*lmax {
		return IntFactor{}, fmt.Errorf("covariance is not positive semi-definite (eigenvalue %g)", lmin)
	}
	ridge := 0.0
	if lmin < lmax*1e-12 {
		ridge = lmax*1e-12 - lmin
	}
	delta := float64(n) / (2 * float64(scale))
	eta := 2*delta*math.Sqrt(lmax+ridge) + delta*delta
	inflated := mat.NewSymDense(n, nil)
	inflated.CopySym(cov)
	for i := 0; i < n; i++ {
		inflated.SetSym(i, i, cov.At(i, i)+ridge+eta)
	}
	var ch mat.Cholesky
	if !ch.Factorize(inflated) {
		return IntFactor{}, errors.New("covariance is not positive definite after the ridge")
	}
	var l mat.TriDense
	ch.LTo(&l)
	out := IntFactor{Scale: scale, L: make([][]int64, n)}
	for i := 0; i < n; i++ {
		out.L[i] = make([]int64, n)
		for j := 0; j <= i; j++ {
			v := math.Round(l.At(i, j) * float64(scale))
			if math.Abs(v) >= math.MaxInt64/2 {
				return IntFactor{}, fmt.Errorf("Cholesky entry (%d,%d) overflows at scale %d", i, j, scale)
			}
			out.L[i][j] = int64(v)
		}
		if out.L[i][i] <= 0 {
			return IntFactor{}, fmt.Errorf("Cholesky diagonal %d rounds to %d at scale %d; use a larger scale", i, out.L[i][i], scale)
		}
	}
	return out, nil
}
