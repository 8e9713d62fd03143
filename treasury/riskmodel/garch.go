package riskmodel

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/optimize"
)

// MinGARCHReturns is the shortest series FitGARCH accepts: with fewer returns the likelihood is
// too flat in (alpha, beta) for the fit to mean much.
const MinGARCHReturns = 100

// GARCH is a fitted GARCH(1,1) model of one zero-mean return series:
//
//	r_t = sigma_t·z_t,  z_t ~ N(0,1),  sigma_t² = Omega + Alpha·r_{t-1}² + Beta·sigma_{t-1}²
//
// with Omega > 0, Alpha, Beta >= 0 and Alpha + Beta < 1 (a finite long-run variance). Variances
// are in the returns' own units (daily log returns: daily variance). The mean is taken as zero,
// as in the EWMA covariance beside it.
type GARCH struct {
	Omega, Alpha, Beta float64
	// LastVariance is sigma_T², the model's variance of the last return; LastReturn is r_T.
	LastVariance, LastReturn float64
	// LogLikelihood is the Gaussian log-likelihood of the series at the fit, N its length.
	LogLikelihood float64
	N             int
}

// garchParams maps the optimiser's unconstrained point (a, b, c) onto the constrained
// parameters of the standardised series: omega = e^a, persistence p = logistic(b) in (0,1),
// alpha = p·logistic(c), beta = p - alpha. Every point is a valid model, so the optimiser needs
// no bounds.
func garchParams(x []float64) (omega, alpha, beta, p, q float64) {
	omega = math.Exp(x[0])
	p = logistic(x[1])
	q = logistic(x[2])
	alpha = p * q
	return omega, alpha, p - alpha, p, q
}

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func logit(p float64) float64 { return math.Log(p / (1 - p)) }

// garchNLL returns the negative log-likelihood (without the constant n/2·log 2π) of the
// standardised series z under (omega, alpha, beta), starting the recursion at sigma_1² = 1 (the
// series' own second moment), and, when grad is not nil, its gradient in (a, b, c).
func garchNLL(z []float64, x []float64, grad []float64) float64 {
	omega, alpha, beta, p, q := garchParams(x)
	h := 1.0
	var dh [3]float64 // dh_t / d(omega, alpha, beta); zero at t = 1
	var g [3]float64
	nll := 0.0
	for t, zt := range z {
		if t > 0 {
			zp := z[t-1] * z[t-1]
			dh = [3]float64{1 + beta*dh[0], zp + beta*dh[1], h + beta*dh[2]}
			h = omega + alpha*zp + beta*h
		}
		if !(h > 0) || math.IsInf(h, 0) {
			return math.Inf(1)
		}
		z2 := zt * zt
		nll += 0.5 * (math.Log(h) + z2/h)
		w := 0.5 * (1/h - z2/(h*h))
		for i := range g {
			g[i] += w * dh[i]
		}
	}
	if grad != nil {
		grad[0] = g[0] * omega
		grad[1] = p * (1 - p) * (q*g[1] + (1-q)*g[2])
		grad[2] = p * q * (1 - q) * (g[1] - g[2])
	}
	return nll
}

// checkSeries refuses a series a volatility model cannot be fitted on.
func checkSeries(returns []float64, min int) (secondMoment float64, err error) {
	if len(returns) < min {
		return 0, fmt.Errorf("%d returns, need at least %d", len(returns), min)
	}
	for i, r := range returns {
		if math.IsNaN(r) || math.IsInf(r, 0) {
			return 0, fmt.Errorf("return %d is %v", i, r)
		}
		secondMoment += r * r
	}
	secondMoment /= float64(len(returns))
	if !(secondMoment > 0) || math.IsInf(secondMoment, 0) {
		return 0, fmt.Errorf("the returns' second moment is %v: nothing to fit", secondMoment)
	}
	return secondMoment, nil
}

// FitGARCH fits a GARCH(1,1) to returns (oldest first) by maximum likelihood: BFGS (gonum's
// optimize.Minimize) with the analytic gradient, over the reparameterisation of garchParams,
// on the series scaled to unit second moment so that the optimiser sees numbers near one.
func FitGARCH(returns []float64) (GARCH, error) {
	m2, err := checkSeries(returns, MinGARCHReturns)
	if err != nil {
		return GARCH{}, fmt.Errorf("GARCH fit: %w", err)
	}
	scale := math.Sqrt(m2)
	z := make([]float64, len(returns))
	for i, r := range returns {
		z[i] = r / scale
	}
	// Start at a typical daily fit, alpha 0.05 and beta 0.9, with omega targeting the sample
	// variance (1 after scaling).
	x0 := []float64{math.Log(0.05), logit(0.95), logit(0.05 / 0.95)}
	// The optimiser sees the mean negative log-likelihood per return, so that its gradient
	// threshold means the same for any series length.
	n := float64(len(returns))
	prob := optimize.Problem{
		Func: func(x []float64) float64 { return garchNLL(z, x, nil) / n },
		Grad: func(g, x []float64) {
			garchNLL(z, x, g)
			for i := range g {
				g[i] /= n
			}
		},
	}
	res, err := optimize.Minimize(prob, x0, &optimize.Settings{MajorIterations: 1000, GradientThreshold: garchGradTol}, &optimize.BFGS{})
	if res == nil {
		return GARCH{}, fmt.Errorf("GARCH fit: optimiser: %w", err)
	}
	// A line search that can no longer decrease the function at machine precision is how BFGS
	// often ends at an optimum; accept that end only where the gradient is flat.
	if err == nil {
		err = res.Status.Err()
	}
	if err != nil && !(gradNorm(res.Gradient) < garchGradAccept) {
		return GARCH{}, fmt.Errorf("GARCH fit: optimiser stopped (%v, gradient %.3g): %w", res.Status, gradNorm(res.Gradient), err)
	}
	omega, alpha, beta, _, _ := garchParams(res.X)
	if math.IsNaN(omega+alpha+beta) || math.IsInf(res.F, 0) || !(alpha+beta < 1) {
		return GARCH{}, fmt.Errorf("GARCH fit: no valid optimum (omega %v, alpha %v, beta %v)", omega, alpha, beta)
	}
	g := GARCH{Omega: omega * m2, Alpha: alpha, Beta: beta, N: len(returns), LastReturn: returns[len(returns)-1]}
	// Replay the recursion in the returns' own units for the last variance.
	h := m2
	for t := 1; t < len(returns); t++ {
		h = g.Omega + alpha*returns[t-1]*returns[t-1] + beta*h
	}
	g.LastVariance = h
	// Back from the standardised likelihood: each log h_t gains log m2.
	g.LogLikelihood = -res.F*n - 0.5*n*(math.Log(2*math.Pi)+math.Log(m2))
	return g, nil
}

// The optimiser stops at a gradient (of the mean negative log-likelihood) below garchGradTol,
// and a stop for another reason is accepted only below garchGradAccept.
const (
	garchGradTol    = 1e-9
	garchGradAccept = 1e-5
)

// gradNorm is the infinity norm, NaN for an empty or non-finite gradient.
func gradNorm(g []float64) float64 {
	if len(g) == 0 {
		return math.NaN()
	}
	m := 0.0
	for _, v := range g {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return math.NaN()
		}
		m = math.Max(m, math.Abs(v))
	}
	return m
}

// LongRunVariance is Omega/(1 - Alpha - Beta), the level forecasts revert to.
func (g GARCH) LongRunVariance() float64 { return g.Omega / (1 - g.Alpha - g.Beta) }

// Forecast returns the variance of the return h steps after the last one (h = 1: the next):
//
//	sigma²_{T+1} = Omega + Alpha·r_T² + Beta·sigma_T²
//	sigma²_{T+h} = V + (Alpha+Beta)^{h-1}·(sigma²_{T+1} - V),  V the long-run variance
func (g GARCH) Forecast(h int) (float64, error) {
	if h < 1 {
		return 0, fmt.Errorf("GARCH forecast %d steps ahead: need at least 1", h)
	}
	if !(g.Omega > 0) || !(g.Alpha >= 0) || !(g.Beta >= 0) || !(g.Alpha+g.Beta < 1) {
		return 0, errors.New("GARCH forecast: not a fitted model")
	}
	next := g.Omega + g.Alpha*g.LastReturn*g.LastReturn + g.Beta*g.LastVariance
	v := g.LongRunVariance()
	return v + math.Pow(g.Alpha+g.Beta, float64(h-1))*(next-v), nil
}

// HorizonVariance returns the variance of the sum of the next h returns (the h-step log
// return): the sum of Forecast(1..h), in closed form
//
//	h·V + (sigma²_{T+1} - V)·(1 - phi^h)/(1 - phi),  phi = Alpha + Beta
func (g GARCH) HorizonVariance(h int) (float64, error) {
	if h < 1 {
		return 0, fmt.Errorf("GARCH variance over %d steps: need at least 1", h)
	}
	next, err := g.Forecast(1)
	if err != nil {
		return 0, err
	}
	phi := g.Alpha + g.Beta
	v := g.LongRunVariance()
	return float64(h)*v + (next-v)*(1-math.Pow(phi, float64(h)))/(1-phi), nil
}
