package engine

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/rebalance"
	"github.com/solvency-dev/solvency/treasury/riskmodel"
)

// defaultForecastWindow is how many recent returns the forecast covariance weighs by default:
// enough for the EWMA weights (0.94^120 < 0.1%) to have decayed.
const defaultForecastWindow = 120

// loadMarket opens where the cycles' prices come from (the seeded market or a price file) and
// checks the forecast configuration at cycle 0's step, so a bad one stops the run before
// anything is made or sent.
func (e *Engine) loadMarket() error {
	cfg := e.cfg
	if cfg.Prices != "" {
		fs, err := market.OpenFileSource(cfg.Path(cfg.Prices))
		if err != nil {
			return err
		}
		e.src = fs
		return nil
	}
	mcfg, err := market.LoadSynthConfig(cfg.Path(cfg.Market))
	if err != nil {
		return err
	}
	if e.mkt, err = market.NewSynthetic(mcfg); err != nil {
		return err
	}
	e.src = market.SyntheticSource{Market: e.mkt, Offset: cfg.MarketOffset}
	if cfg.Forecast != nil {
		if _, err := e.forecastChecker(0); err != nil {
			return fmt.Errorf("forecast: %w", err)
		}
	}
	return nil
}

// forecastChecker wraps the twin checker with the forecast limit of cycle c: a parametric VaR
// under the EWMA covariance of the seeded market's log returns up to the step cycle c reads
// (the volatility known that day, not after).
func (e *Engine) forecastChecker(c uint64) (rebalance.Checker, error) {
	assets, cov, err := e.forecastCovariance(c)
	if err != nil {
		return nil, err
	}
	f := e.cfg.Forecast
	return rebalance.WithForecast(e.checker, rebalance.Forecast{Assets: assets, Cov: cov,
		Confidence: f.Confidence, Horizon: f.HorizonDays, MaxBps: f.MaxBps}, e.assets)
}

// forecastCovariance is cycle c's forecast covariance (per step over the horizon) and the
// assets of its rows: the one the forecast limit and the delta-gamma VaR both use.
func (e *Engine) forecastCovariance(c uint64) ([]string, *mat.SymDense, error) {
	f := e.cfg.Forecast
	hist, err := e.mkt.HistoryUpTo(e.cfg.MarketOffset + int(c))
	if err != nil {
		return nil, nil, err
	}
	window, lambda := f.Window, f.Lambda
	if window == 0 {
		window = defaultForecastWindow
	}
	if lambda == 0 {
		lambda = riskmodel.DefaultLambda
	}
	if window < 2 {
		return nil, nil, fmt.Errorf("window %d: need at least 2 returns", window)
	}
	fc, err := riskmodel.NewVolForecaster(f.Model, lambda)
	if err != nil {
		return nil, nil, err
	}
	// The forecast covers the horizon in whole steps; the covariance is per step over it.
	steps := int(math.Ceil(f.HorizonDays))
	if steps < 1 {
		steps = 1
	}
	cov, err := fc.Covariance(hist.Tail(window+1).LogReturns(), steps)
	if err != nil {
		return nil, nil, err
	}
	return hist.Assets, cov, nil
}

// rebalancerFor is the rebalancer of cycle c: the one Open built, or, with a forecast
// configured, one whose checker adds the forecast limit of that cycle. The cycle's final
// verdict before proving is the plain twin's either way.
func (e *Engine) rebalancerFor(c uint64) (*rebalance.Rebalancer, error) {
	if e.cfg.Forecast == nil {
		return e.reb, nil
	}
	chk, err := e.forecastChecker(c)
	if err != nil {
		return nil, fmt.Errorf("cycle %d: forecast: %w", c, err)
	}
	return rebalance.New(e.rcfg, e.assets, e.sim, chk)
}
