package engine

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"time"

	"github.com/shopspring/decimal"
	"gonum.org/v1/gonum/mat"

	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/treasury/derivatives"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/riskmodel"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// StressMove is one full-revaluation stress scenario: every stressed asset's price moves by
// Price and, at once, its whole implied-volatility surface by Vol (both relative: -0.3 is down
// 30%, 0.5 is up by half).
type StressMove struct {
	Price float64 `json:"price"`
	Vol   float64 `json:"vol"`
}

// DefaultStressGrid moves price from -30% to +30% with implied volatility up when price falls
// and down a little when it rises, as crypto option markets do (the skew steepens in a crash).
var DefaultStressGrid = []StressMove{
	{-0.30, 0.50}, {-0.20, 0.30}, {-0.10, 0.15}, {-0.05, 0.05},
	{0.05, -0.05}, {0.10, -0.10}, {0.20, -0.15}, {0.30, -0.20},
}

// defaultStressGrid returns a copy of DefaultStressGrid, so no caller can change the default.
func defaultStressGrid() []StressMove { return append([]StressMove(nil), DefaultStressGrid...) }

// DefaultStress returns a copy of the default stress grid.
func DefaultStress() []StressMove { return defaultStressGrid() }

// CovarianceModel is the covariance, confidence and horizon the delta-gamma VaR uses.
type CovarianceModel struct {
	Assets      []string // the covariance's rows
	Cov         *mat.SymDense
	Confidence  float64
	HorizonDays float64
	Source      string // "policy" or "forecast"
}

// PolicyCovariance is the policy's own VaR model, the one its parametric VaR limit (and the
// proof) uses: the daily covariance L·Lᵀ from its scaled Cholesky factor, the confidence its
// z-score stands for, and its horizon. ok is false when the policy has no VaR limit.
func PolicyCovariance(p *solvency.Policy, symbols []string) (CovarianceModel, bool) {
	n := len(symbols)
	if p == nil || !p.VaR.Enabled || len(p.VaR.L) != n || n == 0 {
		return CovarianceModel{}, false
	}
	l := mat.NewDense(n, n, nil)
	for i, row := range p.VaR.L {
		for j, v := range row {
			if j <= i && j < n {
				l.Set(i, j, float64(v)/solvency.CholScale)
			}
		}
	}
	cov := mat.NewSymDense(n, nil)
	cov.SymOuterK(1, l)
	z := float64(p.VaR.Z) / solvency.ZScale
	m := CovarianceModel{Cov: cov, Confidence: 0.5 * math.Erfc(-z/math.Sqrt2), HorizonDays: float64(p.VaR.HorizonDays), Source: "policy"}
	m.Assets = append(m.Assets, symbols...)
	return m, m.Confidence > 0.5 && m.Confidence < 1 && m.HorizonDays > 0
}

// StressLine is one stress scenario's full-revaluation P&L.
type StressLine struct {
	Scenario string `json:"scenario"`
	PnL      string `json:"pnl"` // USD, decimal
}

// RiskFigures are a cycle's model risk figures beside its Greeks: the delta-gamma VaR of the
// whole book (holdings less liabilities, options, pool shares) by the normal approximation and
// by Cornish-Fisher, and a full-revaluation stress grid. The engine's model, not the proof's:
// the proof checks the policy's parametric VaR. Amounts are USD decimal strings.
type RiskFigures struct {
	CovarianceSource    string       `json:"covariance_source,omitempty"` // "policy" or "forecast"
	Confidence          float64      `json:"confidence,omitempty"`
	HorizonDays         float64      `json:"horizon_days,omitempty"`
	DeltaGammaNormalVaR string       `json:"delta_gamma_normal_var,omitempty"`
	CornishFisherVaR    string       `json:"cornish_fisher_var,omitempty"`
	CornishFisherES     string       `json:"cornish_fisher_es,omitempty"`
	StressAssets        []string     `json:"stress_assets,omitempty"`
	WorstStressPnL      string       `json:"worst_stress_pnl,omitempty"`
	WorstStressScenario string       `json:"worst_stress_scenario,omitempty"`
	Stress              []StressLine `json:"stress,omitempty"`
}

// RiskBook is what the figures are computed from: a full-revaluation book and the model Greeks
// of its options and pool shares per underlying.
type RiskBook struct {
	Book   riskmodel.Book
	Greeks map[string]derivatives.Greeks
}

// NewRiskBook builds the book from holdings (negative amounts are debts and perpetual shorts),
// liabilities, options and pool shares at the snapshot's prices, with their model Greeks.
func NewRiskBook(pos venues.Positions, liab map[string]*big.Int, d venues.Derivatives, snap market.Snapshot,
	assets map[string]market.Asset, vols derivatives.VolSource, rate float64) (RiskBook, error) {
	b := riskmodel.Book{Options: d.Options, Pools: d.Pools, Linear: map[string]*big.Int{}, Decimals: map[string]uint8{},
		Prices: map[string]float64{}, Vols: vols, Now: time.Unix(snap.Time, 0), Rate: rate}
	for sym, a := range assets {
		p, err := snap.Price(sym)
		if err != nil {
			continue // an asset the snapshot does not price is held nowhere this cycle
		}
		b.Prices[sym], b.Decimals[sym] = float64(p)/1e8, a.Decimals
	}
	add := func(asset string, amt *big.Int) error {
		if _, ok := b.Prices[asset]; !ok {
			return fmt.Errorf("risk book: no price for %s", asset)
		}
		if b.Linear[asset] == nil {
			b.Linear[asset] = new(big.Int)
		}
		b.Linear[asset].Add(b.Linear[asset], amt)
		return nil
	}
	for _, p := range pos {
		if err := add(p.Asset, p.Amount); err != nil {
			return RiskBook{}, err
		}
	}
	for a, l := range liab {
		if err := add(a, new(big.Int).Neg(l)); err != nil {
			return RiskBook{}, err
		}
	}
	rb := RiskBook{Book: b, Greeks: map[string]derivatives.Greeks{}}
	priceOf := func(a string) (float64, uint8, error) {
		p, ok := b.Prices[a]
		if !ok {
			return 0, 0, fmt.Errorf("no price for %s", a)
		}
		return p, b.Decimals[a], nil
	}
	for _, o := range d.Options {
		p, dec, err := priceOf(o.Underlying)
		if err != nil {
			return RiskBook{}, fmt.Errorf("option %s: %w", o.ID, err)
		}
		_, g, err := derivatives.ValueOption(o, p, dec, vols, b.Now, rate)
		if err != nil {
			return RiskBook{}, err
		}
		rb.Greeks[o.Underlying] = rb.Greeks[o.Underlying].Add(g)
	}
	for _, ps := range d.Pools {
		pa, da, err := priceOf(ps.AssetA)
		if err != nil {
			return RiskBook{}, fmt.Errorf("pool share %s: %w", ps.ID, err)
		}
		pb, db, err := priceOf(ps.AssetB)
		if err != nil {
			return RiskBook{}, fmt.Errorf("pool share %s: %w", ps.ID, err)
		}
		_, ga, gb, err := derivatives.ValuePool(ps, pa, pb, da, db)
		if err != nil {
			return RiskBook{}, err
		}
		rb.Greeks[ps.AssetA] = rb.Greeks[ps.AssetA].Add(ga)
		rb.Greeks[ps.AssetB] = rb.Greeks[ps.AssetB].Add(gb)
	}
	return rb, nil
}

// DeltaGamma is the book's dollar delta and gamma in the covariance's order: per asset, the
// linear holding's tokens plus the model delta of its options and pool shares, and their model
// gamma (cross gammas zero).
func (rb RiskBook) DeltaGamma(assets []string) (riskmodel.DeltaGamma, error) {
	prices, deltas, gammas := make([]float64, len(assets)), make([]float64, len(assets)), make([]float64, len(assets))
	for i, a := range assets {
		p, ok := rb.Book.Prices[a]
		if !ok {
			return riskmodel.DeltaGamma{}, fmt.Errorf("delta-gamma: no price for %s", a)
		}
		prices[i] = p
		if amt := rb.Book.Linear[a]; amt != nil {
			q := new(big.Float).SetInt(amt)
			q.Quo(q, new(big.Float).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(rb.Book.Decimals[a])), nil)))
			deltas[i], _ = q.Float64()
		}
		deltas[i] += rb.Greeks[a].Delta
		gammas[i] = rb.Greeks[a].Gamma
	}
	for a, g := range rb.Greeks {
		if (g.Delta != 0 || g.Gamma != 0) && !contains(assets, a) {
			return riskmodel.DeltaGamma{}, fmt.Errorf("delta-gamma: %s has Greeks but no row in the covariance", a)
		}
	}
	return riskmodel.NewDeltaGamma(prices, deltas, gammas)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// DefaultStressAssets are the assets the stress grid moves when none are configured.
func DefaultStressAssets(d venues.Derivatives) []string { return stressAssets(nil, d) }

// stressAssets are the assets a grid moves: the configured ones, else the options'
// underlyings (the assets that carry an implied volatility), else both legs of every pool
// share. Holdings of other assets stay at their price, so a stablecoin is not crashed with ETH.
func stressAssets(configured []string, d venues.Derivatives) []string {
	if len(configured) > 0 {
		return append([]string(nil), configured...)
	}
	set := map[string]bool{}
	for _, o := range d.Options {
		set[o.Underlying] = true
	}
	if len(set) == 0 {
		for _, p := range d.Pools {
			set[p.AssetA], set[p.AssetB] = true, true
		}
	}
	out := make([]string, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// ComputeRisk returns the book's delta-gamma VaR under the covariance model (when one is given)
// and its full-revaluation P&L in each stress move of the listed assets, with the worst.
func ComputeRisk(rb RiskBook, cm *CovarianceModel, grid []StressMove, assets []string) (*RiskFigures, error) {
	out := &RiskFigures{}
	if cm != nil {
		dg, err := rb.DeltaGamma(cm.Assets)
		if err != nil {
			return nil, err
		}
		normal, err := riskmodel.DeltaGammaVaR(cm.Cov, dg, cm.Confidence, cm.HorizonDays, riskmodel.DeltaGammaNormal)
		if err != nil {
			return nil, fmt.Errorf("delta-gamma VaR: %w", err)
		}
		cf, err := riskmodel.DeltaGammaVaR(cm.Cov, dg, cm.Confidence, cm.HorizonDays, riskmodel.CornishFisher)
		if err != nil {
			return nil, fmt.Errorf("delta-gamma VaR: %w", err)
		}
		out.CovarianceSource, out.Confidence, out.HorizonDays = cm.Source, cm.Confidence, cm.HorizonDays
		out.DeltaGammaNormalVaR, out.CornishFisherVaR, out.CornishFisherES = market.FormatUSD(normal.VaR), market.FormatUSD(cf.VaR), market.FormatUSD(cf.ES)
	}
	if len(assets) == 0 || len(grid) == 0 {
		return out, nil
	}
	scen := make([]riskmodel.StressScenario, len(grid))
	for i, m := range grid {
		s := riskmodel.StressScenario{Name: fmt.Sprintf("price %+g%% vol %+g%%", m.Price*100, m.Vol*100),
			PriceMove: map[string]float64{}, VolMove: map[string]float64{}}
		for _, a := range assets {
			s.PriceMove[a] = m.Price
			if m.Vol != 0 {
				s.VolMove[a] = m.Vol
			}
		}
		scen[i] = s
	}
	pnl, err := riskmodel.RevalueStress(rb.Book, scen)
	if err != nil {
		return nil, err
	}
	worst := 0
	for i, v := range pnl {
		out.Stress = append(out.Stress, StressLine{Scenario: scen[i].Name, PnL: decimal.NewFromFloat(v).StringFixed(2)})
		if v < pnl[worst] {
			worst = i
		}
	}
	out.StressAssets = assets
	out.WorstStressPnL, out.WorstStressScenario = out.Stress[worst].PnL, out.Stress[worst].Scenario
	return out, nil
}

// validateStress checks a configured stress grid: every move above -100%.
func validateStress(grid []StressMove) error {
	for _, m := range grid {
		if !(m.Price > -1) || !(m.Vol > -1) || math.IsInf(m.Price, 0) || math.IsInf(m.Vol, 0) {
			return fmt.Errorf("greeks: stress move %+v: price and vol moves must be finite and above -100%%", m)
		}
	}
	return nil
}

// covarianceModel is cycle c's covariance: the forecast's (the same EWMA or GARCH covariance,
// confidence and horizon the rebalancer's forecast limit uses) when one is configured, else
// the policy's VaR model; nil when there is neither.
func (e *Engine) covarianceModel(c uint64) (*CovarianceModel, error) {
	if e.cfg.Forecast != nil {
		assets, cov, err := e.forecastCovariance(c)
		if err != nil {
			return nil, err
		}
		f := e.cfg.Forecast
		return &CovarianceModel{Assets: assets, Cov: cov, Confidence: f.Confidence, HorizonDays: f.HorizonDays, Source: "forecast"}, nil
	}
	if e.checker == nil || e.checker.Table == nil {
		return nil, nil
	}
	var syms []string
	for _, a := range e.checker.Table.Assets {
		syms = append(syms, a.Symbol)
	}
	if m, ok := PolicyCovariance(e.checker.Canon, syms); ok {
		return &m, nil
	}
	return nil, nil
}

// cycleRisk computes cycle c's risk figures at the assessed prices: nil for a treasury with no
// option and no pool share (its VaR is the policy's parametric one).
func (e *Engine) cycleRisk(c uint64, pos venues.Positions, d venues.Derivatives, snap market.Snapshot) (*RiskFigures, error) {
	if d.Empty() {
		return nil, nil
	}
	if e.vols == nil && len(d.Options) > 0 {
		return nil, errors.New("risk figures: no volatility source")
	}
	cfg := GreeksConfig{}
	if e.cfg.Greeks != nil {
		cfg = *e.cfg.Greeks
	}
	rb, err := NewRiskBook(pos, e.totals, d, snap, e.assets, e.vols, cfg.Rate)
	if err != nil {
		return nil, err
	}
	cm, err := e.covarianceModel(c)
	if err != nil {
		return nil, err
	}
	grid := cfg.Stress
	if len(grid) == 0 {
		grid = defaultStressGrid()
	}
	return ComputeRisk(rb, cm, grid, stressAssets(cfg.StressAssets, d))
}
