package riskmodel

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// The volatility forecasters a config may name.
const (
	ForecasterEWMA  = "ewma"
	ForecasterGARCH = "garch"
)

// ForecasterNames lists the names NewVolForecaster accepts.
func ForecasterNames() []string { return []string{ForecasterEWMA, ForecasterGARCH} }

// VolForecaster forecasts the covariance of returns from their history.
type VolForecaster interface {
	// Name is the forecaster's config name.
	Name() string
	// Covariance forecasts, from returns (rows are steps, oldest first; columns assets), the
	// average per-step covariance over the next horizon steps: horizon·Σ is the covariance of
	// the horizon-step return, so Σ goes straight into Parametric with that horizon.
	Covariance(returns [][]float64, horizon int) (*mat.SymDense, error)
}

// NewVolForecaster returns the forecaster a config names: "ewma" (or empty, the default) or
// "garch". lambda is the EWMA decay, 0 for DefaultLambda; the GARCH forecaster uses it for
// its correlations.
func NewVolForecaster(name string, lambda float64) (VolForecaster, error) {
	if lambda == 0 {
		lambda = DefaultLambda
	}
	if !(lambda > 0 && lambda < 1) {
		return nil, fmt.Errorf("volatility forecaster: EWMA decay %v outside (0,1)", lambda)
	}
	switch name {
	case "", ForecasterEWMA:
		return EWMAForecaster{Lambda: lambda}, nil
	case ForecasterGARCH:
		return GARCHForecaster{Lambda: lambda}, nil
	}
	return nil, fmt.Errorf("volatility forecaster %q: want one of %s", name, strings.Join(ForecasterNames(), ", "))
}

// EWMAForecaster is RiskMetrics: the EWMA covariance is the forecast of every step ahead (its
// term structure is flat), so the horizon does not change it.
type EWMAForecaster struct{ Lambda float64 }

// Name implements VolForecaster.
func (EWMAForecaster) Name() string { return ForecasterEWMA }

// Covariance implements VolForecaster.
func (f EWMAForecaster) Covariance(returns [][]float64, horizon int) (*mat.SymDense, error) {
	if horizon < 1 {
		return nil, fmt.Errorf("EWMA forecast over %d steps: need at least 1", horizon)
	}
	return EWMACovariance(returns, f.Lambda)
}

// GARCHForecaster fits a GARCH(1,1) to each asset's returns for its variance over the horizon
// (reverting toward the long-run level, so a spike fades over a longer horizon) and takes the
// correlations from the EWMA covariance: Σ = D·R·D, D the GARCH volatilities, R the EWMA
// correlation. R is positive semi-definite, so Σ is too. An asset whose returns are all zero
// (a price that never moved) gets zero variance, as EWMA would give it.
type GARCHForecaster struct{ Lambda float64 }

// Name implements VolForecaster.
func (GARCHForecaster) Name() string { return ForecasterGARCH }

// Covariance implements VolForecaster.
func (f GARCHForecaster) Covariance(returns [][]float64, horizon int) (*mat.SymDense, error) {
	if horizon < 1 {
		return nil, fmt.Errorf("GARCH forecast over %d steps: need at least 1", horizon)
	}
	ewma, err := EWMACovariance(returns, f.Lambda)
	if err != nil {
		return nil, err
	}
	n := ewma.SymmetricDim()
	sd := make([]float64, n)
	col := make([]float64, len(returns))
	for i := 0; i < n; i++ {
		zero := true
		for t, row := range returns {
			col[t] = row[i]
			zero = zero && row[i] == 0
		}
		if zero {
			continue
		}
		g, err := FitGARCH(col)
		if err != nil {
			return nil, fmt.Errorf("asset %d: %w", i, err)
		}
		v, err := g.HorizonVariance(horizon)
		if err != nil {
			return nil, fmt.Errorf("asset %d: %w", i, err)
		}
		sd[i] = math.Sqrt(v / float64(horizon))
	}
	out := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			ci, cj := ewma.At(i, i), ewma.At(j, j)
			if ci <= 0 || cj <= 0 {
				continue
			}
			rho := ewma.At(i, j) / math.Sqrt(ci*cj)
			if i == j {
				rho = 1
			}
			out.SetSym(i, j, rho*sd[i]*sd[j])
		}
	}
	if math.IsNaN(mat.Sum(out)) {
		return nil, errors.New("GARCH forecast: covariance is not finite")
	}
	return out, nil
}
