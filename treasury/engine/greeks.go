package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/solvency-dev/solvency/treasury/derivatives"
	"github.com/solvency-dev/solvency/treasury/execute"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/rebalance"
	"github.com/solvency-dev/solvency/treasury/state"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// GreeksConfig says how the engine prices the options and pool shares it holds: Black-76 with
// the implied volatility of a volatility source (a surface file, or the seeded market's
// synthetic surface, which moves with its scenarios) and a continuous rate. The figures are
// the engine's model: they size the perpetual hedges and fill the reports, and the proof
// values these positions by its own conservative rules (docs/greeks.md).
type GreeksConfig struct {
	// VolSurface is a volatility surface file (treasury/derivatives' format); empty: the
	// seeded market's synthetic surface (then "market" is required).
	VolSurface string `json:"volSurface,omitempty"`
	// Rate is the continuous risk-free rate (0.04 = 4%); 0 by default, the rate the proof's
	// intrinsic-value bound assumes.
	Rate float64 `json:"rate,omitempty"`
	// Stress is the full-revaluation stress grid, price and implied-volatility moves taken
	// together; empty: DefaultStressGrid (price -30%..+30%, vol up when price falls).
	Stress []StressMove `json:"stress,omitempty"`
	// StressAssets are the assets the grid moves; empty: the options' underlyings (else the
	// pool shares' assets).
	StressAssets []string `json:"stressAssets,omitempty"`
}

// loadVols opens the volatility source when the treasury holds options: the configured surface
// file, else the seeded market's synthetic surface. A treasury with options and neither is
// refused before anything is made or sent.
func (e *Engine) loadVols(d venues.Derivatives) error {
	cfg := e.cfg
	if cfg.Greeks != nil {
		if err := validateStress(cfg.Greeks.Stress); err != nil {
			return err
		}
		for _, a := range cfg.Greeks.StressAssets {
			if _, ok := e.assets[a]; !ok {
				return fmt.Errorf("greeks: stress asset %s is not in the asset table", a)
			}
		}
	}
	if cfg.Greeks != nil && cfg.Greeks.VolSurface != "" {
		vs, err := derivatives.LoadVolSurface(cfg.Path(cfg.Greeks.VolSurface))
		if err != nil {
			return err
		}
		e.vols = vs
		return nil
	}
	if e.mkt != nil {
		sv, err := market.NewSynthVol(e.mkt, market.DefaultSynthVolParams())
		if err != nil {
			return fmt.Errorf("volatility surface: %w", err)
		}
		e.vols = sv
		return nil
	}
	if len(d.Options) > 0 {
		return errors.New(`the treasury holds options and prices come from a file: name a volatility surface ("greeks": {"volSurface": ...})`)
	}
	return nil
}

// greekLimits are the policy's enabled Greek limits, by asset symbol.
func (e *Engine) greekLimits() rebalance.GreekLimits {
	var lim rebalance.GreekLimits
	if e.checker == nil || e.checker.Canon == nil {
		return lim
	}
	d := e.checker.Canon.Derivatives
	for i, b := range d.DeltaBands {
		if b.Enabled && i < e.checker.Table.Len() {
			if lim.DeltaBands == nil {
				lim.DeltaBands = map[string]uint32{}
			}
			lim.DeltaBands[e.checker.Table.Assets[i].Symbol] = b.Bps
		}
	}
	if d.GammaFloor.Enabled {
		f := d.GammaFloor.Bps
		lim.GammaFloorBps = &f
	}
	if d.VegaCap.Enabled {
		c := d.VegaCap.Bps
		lim.VegaCapBps = &c
	}
	return lim
}

// greekInput prices the options and pool shares at the cycle's prices and time: their Greeks
// per underlying and their model value, with the policy's Greek limits. Nil when the treasury
// holds no derivative and the policy sets no Greek limit.
func (e *Engine) greekInput(d venues.Derivatives, snap market.Snapshot) (*rebalance.GreekInput, error) {
	lim := e.greekLimits()
	if d.Empty() && len(lim.DeltaBands) == 0 && lim.GammaFloorBps == nil && lim.VegaCapBps == nil {
		return nil, nil
	}
	rate := 0.0
	if e.cfg.Greeks != nil {
		rate = e.cfg.Greeks.Rate
	}
	spot := func(sym string) (float64, uint8, error) {
		a, ok := e.assets[sym]
		if !ok {
			return 0, 0, fmt.Errorf("unknown asset %s", sym)
		}
		p, err := snap.Price(sym)
		if err != nil {
			return 0, 0, err
		}
		return float64(p) / 1e8, a.Decimals, nil
	}
	now := time.Unix(snap.Time, 0)
	in := &rebalance.GreekInput{Derivatives: map[string]derivatives.Greeks{}, Limits: lim}
	value := 0.0
	for _, o := range d.Options {
		s, dec, err := spot(o.Underlying)
		if err != nil {
			return nil, fmt.Errorf("option %s: %w", o.ID, err)
		}
		v, g, err := derivatives.ValueOption(o, s, dec, e.vols, now, rate)
		if err != nil {
			return nil, err
		}
		value += v
		in.Derivatives[o.Underlying] = in.Derivatives[o.Underlying].Add(g)
	}
	for _, p := range d.Pools {
		pa, da, err := spot(p.AssetA)
		if err != nil {
			return nil, fmt.Errorf("pool share %s: %w", p.ID, err)
		}
		pb, db, err := spot(p.AssetB)
		if err != nil {
			return nil, fmt.Errorf("pool share %s: %w", p.ID, err)
		}
		v, ga, gb, err := derivatives.ValuePool(p, pa, pb, da, db)
		if err != nil {
			return nil, err
		}
		value += v
		in.Derivatives[p.AssetA] = in.Derivatives[p.AssetA].Add(ga)
		in.Derivatives[p.AssetB] = in.Derivatives[p.AssetB].Add(gb)
	}
	// Model value in USD with 8 decimals: for the Greek limits' base only, never for a proof.
	v, _ := new(big.Float).Mul(big.NewFloat(value), big.NewFloat(1e8)).Int(nil)
	in.DerivativesValue = v
	return in, nil
}

// GreekLine is one underlying's net Greeks in a cycle's summary.
type GreekLine struct {
	Underlying   string  `json:"underlying"`
	Delta        float64 `json:"delta"`        // tokens
	DeltaUSD     float64 `json:"deltaUsd"`     // USD
	BandUSD      float64 `json:"bandUsd"`      // the delta band, USD (0: none)
	InBand       bool    `json:"inBand"`       // within its band (true without one)
	CashGamma    float64 `json:"cashGamma"`    // USD of delta per 1% move
	VegaPerPoint float64 `json:"vegaPerPoint"` // USD per volatility point
	ThetaPerDay  float64 `json:"thetaPerDay"`  // USD per day
}

// GreeksSummary is the treasury's Greeks in a cycle's summary: before the plan, and after it
// (what the cycle leaves), with the Greek limits no allowed trade restores.
type GreeksSummary struct {
	Before  []GreekLine `json:"before"`
	After   []GreekLine `json:"after"`
	Binding []string    `json:"binding,omitempty"`
	// Risk is the delta-gamma VaR and the full-revaluation stress grid at the assessed
	// prices, before the plan (nil for a treasury with no option and no pool share).
	Risk *RiskFigures `json:"risk,omitempty"`
}

func greekLines(r *rebalance.GreekReport) []GreekLine {
	if r == nil {
		return nil
	}
	var out []GreekLine
	for _, u := range r.Underlyings {
		// Only the underlyings the Greeks are about: those with a delta band, or with the
		// gamma or vega of an option or a pool share (plain holdings' delta is their amount).
		if u.Gamma == 0 && u.Vega == 0 && u.BandUSD == 0 {
			continue
		}
		out = append(out, GreekLine{Underlying: u.Underlying, Delta: u.Delta, DeltaUSD: u.DeltaUSD, BandUSD: u.BandUSD, InBand: u.InBand,
			CashGamma: u.CashGamma, VegaPerPoint: u.VegaPoint, ThetaPerDay: u.Theta / 365})
	}
	return out
}

// greeksOf reads the Greek report a plan recorded (nil when the cycle had none).
func greeksOf(p *rebalance.Plan) *GreeksSummary {
	if p == nil || p.GreeksBefore == nil {
		return nil
	}
	return &GreeksSummary{Before: greekLines(p.GreeksBefore), After: greekLines(p.GreeksAfter), Binding: p.GreekBinding}
}

// recordedGreeks reads the Greek summary a cycle's record holds (nil when none).
func recordedGreeks(r *state.CycleRecord) *GreeksSummary {
	if r == nil || len(r.Greeks) == 0 {
		return nil
	}
	var g GreeksSummary
	if err := json.Unmarshal(r.Greeks, &g); err != nil {
		return nil // written by this package; a summary without Greeks rather than no summary
	}
	return &g
}

// settleExpired pays out the options expired at the snapshot's time (venues.SettleExpired: the
// intrinsic value in cash, rounded against the treasury) and returns the positions and
// derivatives after, with the effects to record them in the assessment's step (none when
// nothing expired).
func (e *Engine) settleExpired(pos venues.Positions, snap market.Snapshot) (venues.Positions, venues.Derivatives, []venues.Settlement, state.Effects, error) {
	d, err := e.st.Derivatives()
	if err != nil {
		return nil, venues.Derivatives{}, nil, state.Effects{}, err
	}
	book, err := e.st.Book()
	if err != nil {
		return nil, venues.Derivatives{}, nil, state.Effects{}, err
	}
	after, kept, settled, err := venues.SettleExpired(pos, d, snap.Time, snap, e.assets, book)
	if err != nil {
		return nil, venues.Derivatives{}, nil, state.Effects{}, err
	}
	if len(settled) == 0 {
		return pos, d, nil, state.Effects{}, nil
	}
	return after, kept, settled, state.Effects{Positions: after, Derivatives: &kept}, nil
}

func (e *Engine) settlementNotes(ss []venues.Settlement) []string {
	var out []string
	for _, s := range ss {
		amt := s.Amount.String()
		if a, ok := e.assets[s.Asset]; ok {
			amt = venues.FormatAmount(s.Amount, a)
		}
		out = append(out, fmt.Sprintf("option %s expired: settled %s %s at %s (%s at $%s)", s.Option.ID, amt, s.Asset, s.Option.Venue,
			s.Option.Underlying, market.FormatPrice(s.Price)))
	}
	return out
}

// perpLine describes a perpetual hedge resize for people.
func (e *Engine) perpLine(t execute.Trade) string {
	amt := t.Amount.String()
	if a, ok := e.assets[t.FromAsset]; ok && t.Amount != nil {
		amt = venues.FormatAmount(t.Amount, a)
	}
	verb := "sell"
	if t.Perp == execute.PerpCover {
		verb = "buy back"
	}
	line := fmt.Sprintf("%s %s %s perpetual at %s (hedge resize, not a Safe call)", verb, amt, t.FromAsset, t.FromVenue)
	if t.Reason != "" {
		line += " (" + t.Reason + ")"
	}
	return line
}

// splitPerpResizes separates the perpetual hedge resizes from the trades a Safe makes.
func splitPerpResizes(trades []execute.Trade) (perp, safe []execute.Trade) {
	for _, t := range trades {
		if t.IsPerpResize() {
			perp = append(perp, t)
		} else {
			safe = append(safe, t)
		}
	}
	return perp, safe
}

// applyPerpResizes applies a cycle's perpetual hedge resizes to positions read after the Safe
// executed (on chain): a perpetual venue is off chain, its position the engine's own record, so
// the resize is filled there as simulated (its fee and impact from margin), the same on every
// pass of a resumed cycle. The operator makes it at the venue; the auditor checks the venue's
// statement like any off-chain balance.
func (e *Engine) applyPerpResizes(book *venues.Book, pos venues.Positions, snap market.Snapshot, trades []execute.Trade) (venues.Positions, error) {
	perp, _ := splitPerpResizes(trades)
	if len(perp) == 0 {
		return pos, nil
	}
	out, fills, err := e.sim.Execute(book.Clone(), pos, snap, perp)
	if err != nil {
		return nil, fmt.Errorf("perpetual hedge resize: %w", err)
	}
	for _, f := range fills {
		if f.Status == execute.Refused {
			e.logf("perpetual hedge resize %s refused: %s", f.Trade, f.Note)
		}
	}
	return out, nil
}
