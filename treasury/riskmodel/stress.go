package riskmodel

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"time"

	"github.com/solvency-dev/solvency/treasury/derivatives"
)

// Book is what full revaluation reprices: options, pool shares and linear positions, with the
// market they are valued in.
type Book struct {
	Options []derivatives.Option
	Pools   []derivatives.PoolShare
	// Linear holds signed amounts, in each asset's own units, of everything whose value moves
	// one for one with the asset's price: spot holdings, lending and staking positions,
	// perpetual futures (their P&L), and liabilities as negative amounts.
	Linear   map[string]*big.Int
	Decimals map[string]uint8
	// Prices are USD per whole token, the base every scenario moves from.
	Prices map[string]float64
	Vols   derivatives.VolSource
	Now    time.Time
	Rate   float64
}

// StressScenario moves prices and implied volatilities together, at once (no time passes).
type StressScenario struct {
	Name string
	// PriceMove is each asset's relative price move (-0.3: down 30%), > -1; an asset left out
	// does not move.
	PriceMove map[string]float64
	// VolMove is each underlying's relative implied-volatility move (0.5: up by half, the whole
	// surface of that underlying alike), > -1; an underlying left out keeps its surface.
	VolMove map[string]float64
}

// shockedVol scales an underlying's whole surface: sticky strike, each option keeps the
// volatility of its own strike and expiry, times (1 + move).
type shockedVol struct {
	base derivatives.VolSource
	move map[string]float64
}

func (s shockedVol) ImpliedVol(u string, expiry time.Time, strike float64, now time.Time) (float64, error) {
	v, err := s.base.ImpliedVol(u, expiry, strike, now)
	if err != nil {
		return 0, err
	}
	return v * (1 + s.move[u]), nil
}

// bookValue is the book's model value at prices and vols: linear positions at price, options
// by Black-76 (derivatives.ValueOption), pool shares as arbitraged pools (ValuePool).
func (b Book) bookValue(prices map[string]float64, vols derivatives.VolSource) (float64, error) {
	assets := make([]string, 0, len(b.Linear))
	for a := range b.Linear {
		assets = append(assets, a)
	}
	sort.Strings(assets) // a fixed order of summation, so a scenario's P&L is reproducible
	v := 0.0
	for _, a := range assets {
		p, d, err := b.market(prices, a)
		if err != nil {
			return 0, fmt.Errorf("linear position: %w", err)
		}
		amt := b.Linear[a]
		if amt == nil {
			return 0, fmt.Errorf("linear position in %s has no amount", a)
		}
		q := new(big.Float).SetInt(amt)
		q.Quo(q, new(big.Float).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d)), nil)))
		tok, _ := q.Float64()
		v += tok * p
	}
	for _, o := range b.Options {
		p, d, err := b.market(prices, o.Underlying)
		if err != nil {
			return 0, fmt.Errorf("option %s: %w", o.ID, err)
		}
		ov, _, err := derivatives.ValueOption(o, p, d, vols, b.Now, b.Rate)
		if err != nil {
			return 0, err
		}
		v += ov
	}
	for _, ps := range b.Pools {
		pa, da, err := b.market(prices, ps.AssetA)
		if err != nil {
			return 0, fmt.Errorf("pool share %s: %w", ps.ID, err)
		}
		pb, db, err := b.market(prices, ps.AssetB)
		if err != nil {
			return 0, fmt.Errorf("pool share %s: %w", ps.ID, err)
		}
		pv, _, _, err := derivatives.ValuePool(ps, pa, pb, da, db)
		if err != nil {
			return 0, err
		}
		v += pv
	}
	if !finite(v) {
		return 0, errors.New("book value is not finite")
	}
	return v, nil
}

func (b Book) market(prices map[string]float64, asset string) (float64, uint8, error) {
	p, ok := prices[asset]
	if !ok {
		return 0, 0, fmt.Errorf("no price for %s", asset)
	}
	d, ok := b.Decimals[asset]
	if !ok {
		return 0, 0, fmt.Errorf("no decimals for %s", asset)
	}
	return p, d, nil
}

// RevalueStress reprices the whole book in each scenario, options at the shocked price and the
// shocked implied volatility, pool shares at the shocked prices (impermanent loss included),
// linear positions at the shocked price, and returns each scenario's P&L in USD (shocked value
// less base value), in the scenarios' order. Nothing is approximated by Greeks, so a scenario
// grid catches what the delta-gamma VaR misses far from the money.
func RevalueStress(b Book, scenarios []StressScenario) ([]float64, error) {
	for a, p := range b.Prices {
		if !(p > 0) || math.IsInf(p, 0) {
			return nil, fmt.Errorf("stress: price of %s is %v", a, p)
		}
	}
	base, err := b.bookValue(b.Prices, b.Vols)
	if err != nil {
		return nil, fmt.Errorf("stress: base: %w", err)
	}
	out := make([]float64, len(scenarios))
	for i, s := range scenarios {
		prices := make(map[string]float64, len(b.Prices))
		for a, p := range b.Prices {
			prices[a] = p
		}
		for a, m := range s.PriceMove {
			p, ok := b.Prices[a]
			if !ok {
				return nil, fmt.Errorf("stress scenario %q: moves %s, which has no price", s.Name, a)
			}
			if !(m > -1) || math.IsInf(m, 0) {
				return nil, fmt.Errorf("stress scenario %q: price move %v of %s is not above -100%%", s.Name, m, a)
			}
			prices[a] = p * (1 + m)
		}
		for u, m := range s.VolMove {
			if !(m > -1) || math.IsInf(m, 0) {
				return nil, fmt.Errorf("stress scenario %q: volatility move %v of %s is not above -100%%", s.Name, m, u)
			}
		}
		vols := b.Vols
		if len(s.VolMove) > 0 && vols != nil {
			vols = shockedVol{base: b.Vols, move: s.VolMove}
		}
		v, err := b.bookValue(prices, vols)
		if err != nil {
			return nil, fmt.Errorf("stress scenario %q: %w", s.Name, err)
		}
		out[i] = v - base
	}
	return out, nil
}

// StressGrid returns the scenarios that move every listed asset's price by each of priceMoves
// and, with it, their implied volatility by each of volMoves (all pairs): the grid exchange
// margining uses to bound an options book's delta, gamma and vega together. Names read like
// "price -30% vol +50%".
func StressGrid(assets []string, priceMoves, volMoves []float64) []StressScenario {
	if len(volMoves) == 0 {
		volMoves = []float64{0}
	}
	var out []StressScenario
	for _, pm := range priceMoves {
		for _, vm := range volMoves {
			s := StressScenario{Name: fmt.Sprintf("price %+g%% vol %+g%%", pm*100, vm*100),
				PriceMove: map[string]float64{}, VolMove: map[string]float64{}}
			for _, a := range assets {
				s.PriceMove[a] = pm
				if vm != 0 {
					s.VolMove[a] = vm
				}
			}
			out = append(out, s)
		}
	}
	return out
}
