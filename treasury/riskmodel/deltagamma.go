package riskmodel

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// DeltaGamma is a portfolio's first- and second-order exposure to its assets' returns, in USD:
// for returns r (one per asset, in the covariance's order) the P&L is approximately
//
//	dV = Deltaᵀr + ½·rᵀ·Gamma·r
//
// with Delta_i = delta_i·S_i (the dollar delta: tokens times price) and Gamma_ij =
// Gamma_ij·S_i·S_j (the dollar gamma). Returns are the covariance's log returns taken as simple
// returns (dS = S·r), as the parametric VaR does. A nil Gamma is a linear portfolio.
type DeltaGamma struct {
	Delta []float64
	Gamma *mat.SymDense
}

// NewDeltaGamma builds the dollar exposures from per-asset prices (USD per whole token), deltas
// (tokens) and gammas (tokens per USD), cross gammas taken as zero.
func NewDeltaGamma(prices, deltas, gammas []float64) (DeltaGamma, error) {
	n := len(prices)
	if len(deltas) != n || len(gammas) != n {
		return DeltaGamma{}, fmt.Errorf("delta-gamma: %d prices, %d deltas, %d gammas", n, len(deltas), len(gammas))
	}
	if n == 0 {
		return DeltaGamma{}, errors.New("delta-gamma: no assets")
	}
	dg := DeltaGamma{Delta: make([]float64, n), Gamma: mat.NewSymDense(n, nil)}
	for i := range prices {
		if !(prices[i] > 0) || math.IsInf(prices[i], 0) || !finite(deltas[i]) || !finite(gammas[i]) {
			return DeltaGamma{}, fmt.Errorf("delta-gamma: asset %d has price %v, delta %v, gamma %v", i, prices[i], deltas[i], gammas[i])
		}
		dg.Delta[i] = deltas[i] * prices[i]
		dg.Gamma.SetSym(i, i, gammas[i]*prices[i]*prices[i])
	}
	return dg, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Moments are the mean, standard deviation, skewness and excess kurtosis of a P&L.
type Moments struct {
	Mean, StdDev, Skew, ExcessKurtosis float64
}

// DeltaGammaMoments returns the exact moments of the quadratic P&L dV = Dᵀr + ½rᵀGr for
// r ~ N(0, Ω), Ω = horizonDays·cov. With A = G·Ω its cumulants are
//
//	k1 = ½·tr(A)
//	k2 = DᵀΩD + ½·tr(A²)
//	k3 = 3·DᵀΩGΩD + tr(A³)
//	k4 = 12·DᵀΩ(GΩ)²D + 3·tr(A⁴)
//
// (in general k_m = ½(m-1)!·tr(A^m) + ½·m!·DᵀΩ(GΩ)^{m-2}D for m >= 2; Mina and Ulmer, "Delta-
// gamma four ways", 1999), so skewness k3/k2^{3/2} and excess kurtosis k4/k2².
func DeltaGammaMoments(cov *mat.SymDense, dg DeltaGamma, horizonDays float64) (Moments, error) {
	n := cov.SymmetricDim()
	if len(dg.Delta) != n {
		return Moments{}, fmt.Errorf("covariance is %d square, deltas %d", n, len(dg.Delta))
	}
	if dg.Gamma != nil && dg.Gamma.SymmetricDim() != n {
		return Moments{}, fmt.Errorf("covariance is %d square, gamma %d", n, dg.Gamma.SymmetricDim())
	}
	if !(horizonDays > 0) || math.IsInf(horizonDays, 0) {
		return Moments{}, fmt.Errorf("horizon %v days is not positive", horizonDays)
	}
	for i, d := range dg.Delta {
		if !finite(d) {
			return Moments{}, fmt.Errorf("delta %d is %v", i, d)
		}
	}
	// The linear part exactly as Parametric computes it, so that without gamma the two agree
	// to the bit.
	k2 := horizonDays * Quadratic(cov, dg.Delta)
	var k1, k3, k4 float64
	if dg.Gamma != nil && n > 0 {
		omega := mat.NewDense(n, n, nil)
		omega.Scale(horizonDays, cov)
		var a, a2, a3, a4 mat.Dense
		a.Mul(dg.Gamma, omega)
		a2.Mul(&a, &a)
		a3.Mul(&a2, &a)
		a4.Mul(&a3, &a)
		d := mat.NewVecDense(n, append([]float64(nil), dg.Delta...))
		// ΩGΩD and Ω(GΩ)²D, built by alternating G and Ω on ΩD.
		var od, god, aod, gaod, a2od mat.VecDense
		od.MulVec(omega, d)
		god.MulVec(dg.Gamma, &od)
		aod.MulVec(omega, &god)
		gaod.MulVec(dg.Gamma, &aod)
		a2od.MulVec(omega, &gaod)
		k1 = 0.5 * mat.Trace(&a)
		k2 += 0.5 * mat.Trace(&a2)
		k3 = 3*mat.Dot(d, &aod) + mat.Trace(&a3)
		k4 = 12*mat.Dot(d, &a2od) + 3*mat.Trace(&a4)
	}
	if !finite(k1) || !finite(k2) || !finite(k3) || !finite(k4) || k2 < 0 {
		return Moments{}, fmt.Errorf("delta-gamma moments are not finite (%v, %v, %v, %v)", k1, k2, k3, k4)
	}
	m := Moments{Mean: k1, StdDev: math.Sqrt(k2)}
	if k2 > 0 {
		m.Skew = k3 / (k2 * m.StdDev)
		m.ExcessKurtosis = k4 / (k2 * k2)
	}
	return m, nil
}

// DGMethod names a delta-gamma VaR method.
type DGMethod string

// The delta-gamma methods.
const (
	// DeltaGammaNormal treats the quadratic P&L as normal with its exact mean and variance:
	// VaR = z·s - m, ES = φ(z)/(1-c)·s - m.
	DeltaGammaNormal DGMethod = "delta-gamma-normal"
	// CornishFisher corrects the normal quantile for the P&L's skewness S and excess kurtosis
	// K: the P&L quantile at 1-c is m + s·w(-z) with
	//
	//	w(x) = x + (x²-1)·S/6 + (x³-3x)·K/24 - (2x³-5x)·S²/36
	//
	// and ES is the same expansion's tail mean in closed form (the Hermite integrals
	// ∫_{-∞}^a He_n φ = -He_{n-1}(a)·φ(a)), with a = -z:
	//
	//	ES = -m + s/(1-c)·φ(a)·[(1 - S²/36) + a·S/6 + (a²-1)·(K/24 - S²/18)]
	//
	// The expansion is an approximation: it degrades when |S| nears 1 or K is large (deep
	// short-gamma books), where full revaluation is the figure to trust.
	CornishFisher DGMethod = "cornish-fisher"
)

// DeltaGammaVaR returns the VaR and ES of a delta-gamma portfolio at confidence c over horizon
// days, in USD with 8 decimals rounded up like Parametric's. Without gamma both methods equal
// Parametric on the dollar deltas.
func DeltaGammaVaR(cov *mat.SymDense, dg DeltaGamma, c, horizonDays float64, method DGMethod) (Tail, error) {
	if c <= 0.5 || c >= 1 {
		return Tail{}, fmt.Errorf("confidence %g outside (0.5,1)", c)
	}
	m, err := DeltaGammaMoments(cov, dg, horizonDays)
	if err != nil {
		return Tail{}, err
	}
	z := NormalQuantile(c)
	phi := math.Exp(-z*z/2) / math.Sqrt(2*math.Pi)
	switch method {
	case DeltaGammaNormal:
		return Tail{Confidence: c, VaR: ceilUSD(z*m.StdDev - m.Mean), ES: ceilUSD(phi/(1-c)*m.StdDev - m.Mean)}, nil
	case CornishFisher:
		s, k, a := m.Skew, m.ExcessKurtosis, -z
		w := a + (a*a-1)*s/6 + (a*a*a-3*a)*k/24 - (2*a*a*a-5*a)*s*s/36
		bracket := (1 - s*s/36) + a*s/6 + (a*a-1)*(k/24-s*s/18)
		return Tail{Confidence: c, VaR: ceilUSD(-(m.Mean + m.StdDev*w)), ES: ceilUSD(phi/(1-c)*m.StdDev*bracket - m.Mean)}, nil
	}
	return Tail{}, fmt.Errorf("delta-gamma method %q: want %q or %q", method, DeltaGammaNormal, CornishFisher)
}
