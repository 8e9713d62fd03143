package rebalance

import (
	"errors"
	"fmt"
	"math/big"

	"gonum.org/v1/gonum/mat"

	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/riskmodel"
)

// Forecast is the rebalancer's own risk budget, built from a volatility forecast (the EWMA
// covariance of recent returns) rather than from the policy's published factor: it lets the
// rebalancer de-risk when volatility spikes, before the policy's VaR limit is at stake. It is
// advisory: the proof checks only the policy's limits.
type Forecast struct {
	// Assets orders the covariance's rows.
	Assets []string
	// Cov is the daily covariance of returns (riskmodel.EWMACovariance).
	Cov        *mat.SymDense
	Confidence float64
	Horizon    float64 // days
	// MaxBps bounds the forecast VaR as a share of net equity (reserves less liabilities, at
	// market value, no haircuts).
	MaxBps int64
}

// ForecastID is the ID of the forecast limit in a report.
const ForecastID = "forecast/var"

// WithForecast returns a Checker that adds the forecast limit (kind var, so the rebalancer's
// risk phase blends toward low risk to meet it) to every report of c. Use the plain checker, not
// this one, for the final verdict before proving.
func WithForecast(c Checker, f Forecast, assets map[string]market.Asset) (Checker, error) {
	if f.Cov == nil || f.Cov.SymmetricDim() != len(f.Assets) {
		return nil, errors.New("forecast: covariance does not match its asset list")
	}
	if f.MaxBps <= 0 || f.Confidence <= 0.5 || f.Confidence >= 1 || f.Horizon <= 0 {
		return nil, errors.New("forecast: need maxBps > 0, confidence in (0.5, 1), horizon > 0")
	}
	for _, a := range f.Assets {
		if _, ok := assets[a]; !ok {
			return nil, fmt.Errorf("forecast: unknown asset %s", a)
		}
	}
	return CheckerFunc(func(p Portfolio) (*Report, error) {
		rep, err := c.Check(p)
		if err != nil {
			return nil, err
		}
		x := make([]*big.Int, len(f.Assets))
		idx := map[string]int{}
		for i, a := range f.Assets {
			x[i], idx[a] = new(big.Int), i
		}
		equity := new(big.Int)
		add := func(asset string, amount *big.Int) error {
			pr, err := p.Prices.Price(asset)
			if err != nil {
				return err
			}
			v := market.Value(amount, assets[asset].Decimals, pr)
			equity.Add(equity, v)
			if i, ok := idx[asset]; ok {
				x[i].Add(x[i], v)
			}
			return nil
		}
		for _, pos := range p.Positions {
			if _, ok := assets[pos.Asset]; !ok {
				return nil, fmt.Errorf("forecast: unknown asset %s", pos.Asset)
			}
			if err := add(pos.Asset, pos.Amount); err != nil {
				return nil, err
			}
		}
		for a, l := range p.Liabilities {
			if _, ok := assets[a]; !ok {
				return nil, fmt.Errorf("forecast: unknown asset %s", a)
			}
			if err := add(a, new(big.Int).Neg(l)); err != nil {
				return nil, err
			}
		}
		tail, err := riskmodel.Parametric(f.Cov, x, f.Confidence, f.Horizon)
		if err != nil {
			return nil, fmt.Errorf("forecast: %w", err)
		}
		budget := new(big.Int).Mul(equity, big.NewInt(f.MaxBps))
		head := new(big.Int).Sub(budget, new(big.Int).Mul(tail.VaR, big.NewInt(10000)))
		l := Limit{ID: ForecastID, Kind: KindVaR, Value: "VaR " + market.FormatUSD(tail.VaR),
			Bound:    fmt.Sprintf("<= %d bps of equity %s", f.MaxBps, market.FormatUSD(equity)),
			Headroom: head, Pass: head.Sign() >= 0 && equity.Sign() > 0}
		if budget.Sign() > 0 {
			l.Scale = budget
		}
		out := &Report{Pass: rep.Pass && l.Pass, Limits: append(append([]Limit(nil), rep.Limits...), l)}
		return out, nil
	}), nil
}
