package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strings"

	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/treasury/derivatives"
	"github.com/solvency-dev/solvency/treasury/engine"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// modelGreek is one underlying's model Greeks in `solvency risk`.
type modelGreek struct {
	Underlying   string  `json:"underlying"`
	Delta        float64 `json:"delta"`          // tokens, options and pool shares only
	CashGamma    float64 `json:"cash_gamma"`     // USD of delta per 1% move
	VegaPerPoint float64 `json:"vega_per_point"` // USD per volatility point
	ThetaPerDay  float64 `json:"theta_per_day"`  // USD per day
}

// riskModel is what `solvency risk --vol-surface` adds: the engine's model Greeks of the
// options and pool shares, and its delta-gamma VaR and stress grid of the whole book.
type riskModel struct {
	Greeks []modelGreek        `json:"greeks"`
	Risk   *engine.RiskFigures `json:"risk"`
}

// modelRisk prices the twin's inputs with the model: holdings, liabilities, options and pool
// shares in circuit units (the asset's proof precision, so amounts are as the proof reads
// them, rounded against the treasury), at the prices' latest update time, under the policy's
// own VaR covariance.
func modelRisk(in *solvency.Inputs, updatedAt uint64, vols derivatives.VolSource) (*riskModel, error) {
	t := in.Table
	sym := func(i int) (string, error) {
		if i < 0 || i >= len(t.Assets) {
			return "", fmt.Errorf("asset index %d outside the table", i)
		}
		return t.Assets[i].Symbol, nil
	}
	assets := map[string]market.Asset{}
	snap := market.Snapshot{Time: int64(updatedAt), Prices: map[string]uint64{}}
	var symbols []string
	for i, a := range t.Assets {
		assets[a.Symbol] = market.Asset{Symbol: a.Symbol, Decimals: a.Precision}
		snap.Prices[a.Symbol] = in.Prices[i]
		symbols = append(symbols, a.Symbol)
	}
	var pos venues.Positions
	for _, p := range in.Positions {
		s, err := sym(p.Asset)
		if err != nil {
			return nil, err
		}
		pos = append(pos, venues.Position{Venue: fmt.Sprint(p.Venue), Asset: s, Amount: p.Amount})
	}
	liab := map[string]*big.Int{}
	for i, l := range in.Liabilities {
		liab[t.Assets[i].Symbol] = l
	}
	var d venues.Derivatives
	for i, o := range in.Options {
		s, err := sym(o.Asset)
		if err != nil {
			return nil, err
		}
		right, size := derivatives.Call, new(big.Int).Set(o.Size)
		if o.Put {
			right = derivatives.Put
		}
		if o.Short {
			size.Neg(size)
		}
		d.Options = append(d.Options, derivatives.Option{ID: fmt.Sprintf("option %d", i), Underlying: s, Right: right,
			Strike: o.Strike, Expiry: int64(o.Expiry), Size: size})
	}
	for i, p := range in.Pools {
		if p.AmountA.Sign() == 0 && p.AmountB.Sign() == 0 {
			continue // a padding slot
		}
		a, err := sym(p.AssetA)
		if err != nil {
			return nil, err
		}
		b, err := sym(p.AssetB)
		if err != nil {
			return nil, err
		}
		d.Pools = append(d.Pools, derivatives.PoolShare{ID: fmt.Sprintf("pool %d", i), AssetA: a, AssetB: b, AmountA: p.AmountA, AmountB: p.AmountB})
	}
	rb, err := engine.NewRiskBook(pos, liab, d, snap, assets, vols, 0)
	if err != nil {
		return nil, err
	}
	var cm *engine.CovarianceModel
	if m, ok := engine.PolicyCovariance(in.Policy, symbols); ok {
		cm = &m
	}
	figs, err := engine.ComputeRisk(rb, cm, engine.DefaultStress(), engine.DefaultStressAssets(d))
	if err != nil {
		return nil, err
	}
	out := &riskModel{Risk: figs}
	for u, g := range rb.Greeks {
		p := rb.Book.Prices[u]
		out.Greeks = append(out.Greeks, modelGreek{Underlying: u, Delta: g.Delta, CashGamma: g.Gamma * p * p / 100,
			VegaPerPoint: g.Vega / 100, ThetaPerDay: g.Theta / 365})
	}
	sort.Slice(out.Greeks, func(i, j int) bool { return out.Greeks[i].Underlying < out.Greeks[j].Underlying })
	return out, nil
}

// loadModelRisk reads the surface and prices the book; nil without a surface.
func loadModelRisk(o *riskOptions, in *solvency.Inputs, updatedAt uint64) (*riskModel, error) {
	if o.volSurface == "" {
		return nil, nil
	}
	vs, err := derivatives.LoadVolSurface(o.volSurface)
	if err != nil {
		return nil, err
	}
	return modelRisk(in, updatedAt, vs)
}

// printModelRisk prints the model Greeks and risk figures after the limits.
func printModelRisk(out io.Writer, m *riskModel) error {
	var b strings.Builder
	b.WriteString("\nmodel Greeks of the options and pool shares (Black-76 on the volatility surface; not the proof's values)\n")
	for _, g := range m.Greeks {
		fmt.Fprintf(&b, "  %-6s delta %.4f, cash gamma $%.2f per 1%%, vega $%.2f per vol point, theta $%.2f a day\n",
			g.Underlying, g.Delta, g.CashGamma, g.VegaPerPoint, g.ThetaPerDay)
	}
	r := m.Risk
	if r.CornishFisherVaR != "" {
		fmt.Fprintf(&b, "delta-gamma VaR  %s USD Cornish-Fisher (ES %s), %s USD normal, at %.2f%% over %g day (the policy's covariance)\n",
			r.CornishFisherVaR, r.CornishFisherES, r.DeltaGammaNormalVaR, r.Confidence*100, r.HorizonDays)
	} else {
		b.WriteString("delta-gamma VaR  none: the policy sets no VaR limit, so there is no covariance\n")
	}
	if r.WorstStressScenario != "" {
		fmt.Fprintf(&b, "stress grid (full revaluation, moving %s)\n", strings.Join(r.StressAssets, ", "))
		for _, l := range r.Stress {
			fmt.Fprintf(&b, "  %-22s %s USD\n", l.Scenario, l.PnL)
		}
		fmt.Fprintf(&b, "worst revaluation %s USD at %s\n", r.WorstStressPnL, r.WorstStressScenario)
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// withModel adds the "model" key to the twin report's JSON document.
func withModel(rep *solvency.Report, m *riskModel) (any, error) {
	raw, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	mr, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	doc["model"] = mr
	return doc, nil
}
