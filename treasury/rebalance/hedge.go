package rebalance

import (
	"fmt"
	"math"
	"math/big"
	"sort"

	"github.com/solvency-dev/solvency/treasury/derivatives"
	"github.com/solvency-dev/solvency/treasury/execute"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// GreekLimits are governance's limits on the treasury's model Greeks, enabled ones only (the
// policy's enabled bits decide what is set here). Each is relative to reserves, the net market
// value of the holdings (options and pool shares at their model value).
//
//   - DeltaBands: per underlying, |net delta × price| <= BandBps of reserves.
//   - GammaFloorBps: the cash gamma (Σ gamma × price² / 100: the change of dollar delta for a
//     1% move) >= -GammaFloorBps of reserves: how short gamma the treasury may be.
//   - VegaCapBps: |Σ vega / 100| (dollars per volatility point) <= VegaCapBps of reserves.
//
// These are model figures, the engine's and not the proof's: the rebalancer keeps them, the
// solvency proof does not assert them.
type GreekLimits struct {
	DeltaBands    map[string]uint32 `json:"deltaBands,omitempty"`
	GammaFloorBps *uint32           `json:"gammaFloorBps,omitempty"`
	VegaCapBps    *uint32           `json:"vegaCapBps,omitempty"`
}

// GreekInput is what the plan needs to keep the Greek limits: the options' and pool shares'
// Greeks per underlying (whole tokens, at the cycle's prices and implied volatilities; they do
// not change within a plan, since the rebalancer trades neither), their model value, and the
// limits.
type GreekInput struct {
	Derivatives map[string]derivatives.Greeks
	// DerivativesValue is the options' and pool shares' model value, USD with 8 decimals.
	DerivativesValue *big.Int
	Limits           GreekLimits
}

// UnderlyingGreeks are one underlying's net Greeks: spot holdings and perpetual hedges (delta 1
// per token) less what users are owed in it (the liabilities are a short the treasury carries),
// plus options and pool shares. Delta in tokens; DeltaUSD = Delta × price; CashGamma = Gamma ×
// price² / 100 (USD per 1% move); VegaPoint = Vega / 100 (USD per volatility point); Theta USD
// per year.
type UnderlyingGreeks struct {
	Underlying string  `json:"underlying"`
	Price      float64 `json:"price"`
	Delta      float64 `json:"delta"`
	DeltaUSD   float64 `json:"deltaUsd"`
	Gamma      float64 `json:"gamma"`
	CashGamma  float64 `json:"cashGamma"`
	Vega       float64 `json:"vega"`
	VegaPoint  float64 `json:"vegaPerPoint"`
	Theta      float64 `json:"theta"`
	// BandUSD is the delta band in dollars when the underlying has one (0: none).
	BandUSD float64 `json:"bandUsd,omitempty"`
	InBand  bool    `json:"inBand"`
}

// GreekReport is the treasury's Greeks at one point of a plan.
type GreekReport struct {
	ReservesUSD float64            `json:"reservesUsd"`
	Underlyings []UnderlyingGreeks `json:"underlyings"`
	CashGamma   float64            `json:"cashGamma"`
	VegaPoint   float64            `json:"vegaPerPoint"`
	// Binding lists the Greek limits that fail, for people.
	Binding []string `json:"binding,omitempty"`
}

// Find returns the underlying's Greeks.
func (r *GreekReport) Find(u string) (UnderlyingGreeks, bool) {
	for _, g := range r.Underlyings {
		if g.Underlying == u {
			return g, true
		}
	}
	return UnderlyingGreeks{}, false
}

func tokens(v *big.Int, dec uint8) float64 {
	f, _ := new(big.Float).Quo(new(big.Float).SetInt(v), new(big.Float).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(dec)), nil))).Float64()
	return f
}

func usd(v *big.Int) float64 { return tokens(v, market.PriceDecimals) }

// NetGreeks computes the treasury's net Greeks per underlying (every asset with a position, a
// liability, a derivative exposure or a band) and checks them against the limits.
func NetGreeks(pf Portfolio, in *GreekInput, assets map[string]market.Asset) (*GreekReport, error) {
	reserves := new(big.Int)
	net := map[string]*big.Int{}
	for _, p := range pf.Positions {
		a, ok := assets[p.Asset]
		if !ok {
			return nil, fmt.Errorf("greeks: unknown asset %s", p.Asset)
		}
		pr, err := pf.Prices.Price(p.Asset)
		if err != nil {
			return nil, fmt.Errorf("greeks: %w", err)
		}
		reserves.Add(reserves, market.Value(p.Amount, a.Decimals, pr))
		if net[p.Asset] == nil {
			net[p.Asset] = new(big.Int)
		}
		net[p.Asset].Add(net[p.Asset], p.Amount)
	}
	for s, l := range pf.Liabilities {
		if net[s] == nil {
			net[s] = new(big.Int)
		}
		net[s].Sub(net[s], l)
	}
	var lim GreekLimits
	deriv := map[string]derivatives.Greeks{}
	if in != nil {
		lim = in.Limits
		deriv = in.Derivatives
		if in.DerivativesValue != nil {
			reserves.Add(reserves, in.DerivativesValue)
		}
	}
	set := map[string]bool{}
	for s := range net {
		set[s] = true
	}
	for s := range deriv {
		set[s] = true
	}
	for s := range lim.DeltaBands {
		set[s] = true
	}
	names := make([]string, 0, len(set))
	for s := range set {
		names = append(names, s)
	}
	sort.Strings(names)
	rep := &GreekReport{ReservesUSD: usd(reserves)}
	for _, s := range names {
		a, ok := assets[s]
		if !ok {
			return nil, fmt.Errorf("greeks: unknown asset %s", s)
		}
		pr, err := pf.Prices.Price(s)
		if err != nil {
			return nil, fmt.Errorf("greeks: %w", err)
		}
		price := usd(new(big.Int).SetUint64(pr))
		g := deriv[s]
		if n := net[s]; n != nil {
			g.Delta += tokens(n, a.Decimals)
		}
		u := UnderlyingGreeks{Underlying: s, Price: price, Delta: g.Delta, DeltaUSD: g.Delta * price, Gamma: g.Gamma,
			CashGamma: g.Gamma * price * price / 100, Vega: g.Vega, VegaPoint: g.Vega / 100, Theta: g.Theta, InBand: true}
		if band, ok := lim.DeltaBands[s]; ok {
			u.BandUSD = float64(band) / 10000 * rep.ReservesUSD
			if math.Abs(u.DeltaUSD) > u.BandUSD {
				u.InBand = false
				rep.Binding = append(rep.Binding, fmt.Sprintf("delta %s: $%.0f, band ±$%.0f (%d bps of reserves)", s, u.DeltaUSD, u.BandUSD, band))
			}
		}
		rep.CashGamma += u.CashGamma
		rep.VegaPoint += u.VegaPoint
		rep.Underlyings = append(rep.Underlyings, u)
	}
	if f := lim.GammaFloorBps; f != nil {
		if floor := -float64(*f) / 10000 * rep.ReservesUSD; rep.CashGamma < floor {
			rep.Binding = append(rep.Binding, fmt.Sprintf("gamma floor: cash gamma $%.0f per 1%% move, floor $%.0f (%d bps of reserves)", rep.CashGamma, floor, *f))
		}
	}
	if c := lim.VegaCapBps; c != nil {
		if cap := float64(*c) / 10000 * rep.ReservesUSD; math.Abs(rep.VegaPoint) > cap {
			rep.Binding = append(rep.Binding, fmt.Sprintf("vega cap: $%.0f per vol point, cap $%.0f (%d bps of reserves)", rep.VegaPoint, cap, *c))
		}
	}
	return rep, nil
}

// withDelta adds the delta bands to a checker's report as limits of KindDelta (headroom: the
// band less |delta|, in USD with 8 decimals, relative to the band), so that every phase keeps a
// band the hedge restored as it keeps the proof's limits: bucket targets and yield moves may
// not push delta back out. Without a GreekInput the report is returned as it is.
func (p *planner) withDelta(rep *Report, pf Portfolio) (*Report, error) {
	if p.greekIn == nil || len(p.greekIn.Limits.DeltaBands) == 0 {
		return rep, nil
	}
	g, err := NetGreeks(pf, p.greekIn, p.r.assets)
	if err != nil {
		return nil, err
	}
	out := &Report{Pass: rep.Pass, Limits: append([]Limit(nil), rep.Limits...)}
	for _, u := range g.Underlyings {
		if _, ok := p.greekIn.Limits.DeltaBands[u.Underlying]; !ok {
			continue
		}
		head, _ := new(big.Float).SetFloat64((u.BandUSD - math.Abs(u.DeltaUSD)) * 1e8).Int(nil)
		scale, _ := new(big.Float).SetFloat64(u.BandUSD * 1e8).Int(nil)
		l := Limit{ID: "delta/" + u.Underlying, Kind: KindDelta, Subject: u.Underlying, Pass: u.InBand,
			Value: fmt.Sprintf("$%.0f", u.DeltaUSD), Bound: fmt.Sprintf("|delta| <= $%.0f", u.BandUSD), Headroom: head}
		if scale.Sign() > 0 {
			l.Scale = scale
		}
		out.Limits = append(out.Limits, l)
	}
	return out, nil
}

// greeks are the plan's Greeks at the accepted state.
func (p *planner) greeks() (*GreekReport, error) {
	return NetGreeks(p.st.pf, p.greekIn, p.r.assets)
}

// perpFor returns the book's first perpetual venue hedging underlying.
func (p *planner) perpFor(underlying string) (*venues.Venue, bool) {
	for i := range p.st.book.Venues {
		v := &p.st.book.Venues[i]
		if v.Kind == venues.KindPerp && v.Perp.Underlying == underlying {
			return v, true
		}
	}
	return nil, false
}

// fixDelta brings each underlying's net delta back inside its band by resizing its perpetual
// hedge, the one trade that moves delta alone (a perp carries no gamma or vega). Where to aim:
// the band's centre (delta zero) when the resize is cheap, else the smallest resize that
// reaches the band's edge (less a margin of HedgeConfig.EdgeMarginBps of the band, for model
// and rounding error). A resize is cheap when its cost per dollar of notional is at most
// HedgeConfig.MaxCostBps: the fills' fee and price impact (within the executor's slippage
// budget) plus the funding the resize pays, or forgoes, over HedgeConfig.HorizonDays. A resize
// must keep every policy limit as the twin judges it (keeps); when even the edge cannot be
// reached so, the largest resize toward it that keeps them is made and the band is reported as
// binding.
func (p *planner) fixDelta() error {
	if p.greekIn == nil || len(p.greekIn.Limits.DeltaBands) == 0 {
		return nil
	}
	rep, err := p.greeks()
	if err != nil {
		return err
	}
	hc := p.r.cfg.hedge()
	for _, g := range rep.Underlyings {
		if g.InBand || g.BandUSD == 0 && g.DeltaUSD == 0 {
			continue
		}
		v, ok := p.perpFor(g.Underlying)
		if !ok {
			p.log = append(p.log, fmt.Sprintf("delta %s outside its band: no perpetual venue hedges it", g.Underlying))
			continue
		}
		// Tokens to add to the perp position: negative sells (a larger short).
		edge := g.BandUSD / g.Price * (1 - float64(hc.EdgeMarginBps)/10000)
		toCentre := -g.Delta
		toEdge := -(g.Delta - math.Copysign(edge, g.Delta))
		t, cost, err := p.tryResize(v, g, toCentre, hc)
		if err != nil {
			return err
		}
		what := "centre"
		if t == nil || cost > float64(hc.MaxCostBps) {
			if t != nil {
				p.log = append(p.log, fmt.Sprintf("delta %s: re-centring costs %.1f bps of notional, above %d: resizing to the band's edge", g.Underlying, cost, hc.MaxCostBps))
			}
			if t, _, err = p.tryResize(v, g, toEdge, hc); err != nil {
				return err
			}
			what = "edge"
		}
		if t == nil {
			// The edge breaks another limit, or cannot be filled: the largest resize toward it
			// that keeps every limit.
			dir, amtMax, err := p.resizeUnits(v, g, toEdge)
			if err != nil {
				return err
			}
			gen := func(u *big.Int) ([]execute.Trade, error) { return p.resizeTrade(v, dir, u), nil }
			if t, err = p.largest(amtMax, gen, p.keeps); err != nil {
				return err
			}
			what = "partial"
		}
		if t == nil {
			p.log = append(p.log, fmt.Sprintf("delta %s: no perp resize at %s keeps the policy's limits", g.Underlying, v.ID))
			continue
		}
		p.commit(t, fmt.Sprintf("hedge %s (%s)", g.Underlying, what))
	}
	return nil
}

// resizeUnits turns a change of dq tokens into a direction and a positive amount in units; a
// cover is at most the short held.
func (p *planner) resizeUnits(v *venues.Venue, g UnderlyingGreeks, dq float64) (string, *big.Int, error) {
	a := p.r.assets[g.Underlying]
	f := new(big.Float).Mul(big.NewFloat(math.Abs(dq)), new(big.Float).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(a.Decimals)), nil)))
	amt, _ := f.Int(nil)
	dir := execute.PerpShort
	if dq > 0 {
		dir = execute.PerpCover
		short := new(big.Int).Neg(p.st.pf.Positions.Get(v.ID, g.Underlying))
		if short.Sign() <= 0 {
			return dir, new(big.Int), nil
		}
		amt = minBig(amt, short)
	}
	return dir, amt, nil
}

func (p *planner) resizeTrade(v *venues.Venue, dir string, amt *big.Int) []execute.Trade {
	if amt.Sign() <= 0 {
		return nil
	}
	return []execute.Trade{{FromVenue: v.ID, FromAsset: v.Perp.Underlying, ToVenue: v.ID, ToAsset: v.Perp.Underlying,
		Amount: new(big.Int).Set(amt), Perp: dir, Reason: "delta band: resize the " + v.Perp.Underlying + " hedge"}}
}

// tryResize simulates a resize of dq tokens and returns it with its cost in bps of notional
// when it fills completely, brings the underlying inside its band and keeps every policy
// limit; nil otherwise.
func (p *planner) tryResize(v *venues.Venue, g UnderlyingGreeks, dq float64, hc HedgeConfig) (*trial, float64, error) {
	dir, amt, err := p.resizeUnits(v, g, dq)
	if err != nil || amt.Sign() == 0 {
		return nil, 0, err
	}
	t, err := p.try(p.resizeTrade(v, dir, amt))
	if err != nil || t == nil {
		return nil, 0, err
	}
	f := t.fills[0]
	if f.Status != execute.Filled || !p.keeps(t.rep) {
		return nil, 0, nil
	}
	after, err := NetGreeks(Portfolio{Positions: t.pos, Prices: p.st.pf.Prices, Liabilities: p.st.pf.Liabilities}, p.greekIn, p.r.assets)
	if err != nil {
		return nil, 0, err
	}
	if ug, _ := after.Find(g.Underlying); !ug.InBand {
		return nil, 0, nil
	}
	notional := tokens(f.In, p.r.assets[g.Underlying].Decimals) * g.Price
	if notional <= 0 {
		return nil, 0, nil
	}
	// Funding over the horizon: a short receives FundingAprBps (negative: pays). A larger
	// short gains what a cover forgoes.
	funding := notional * float64(v.Perp.FundingAprBps) / 10000 * float64(hc.HorizonDays) / 365
	if dir == execute.PerpShort {
		funding = -funding
	}
	cost := (usd(f.CostUSD) + funding) / notional * 10000
	return t, cost, nil
}

// Lines describes the report for people, one line per underlying with a delta band or with an
// option's or pool share's gamma or vega, then the treasury's cash gamma and vega against their limits' state.
func (r *GreekReport) Lines() []string {
	var out []string
	for _, u := range r.Underlyings {
		if u.Gamma == 0 && u.Vega == 0 && u.BandUSD == 0 {
			continue
		}
		band := "no band"
		if u.BandUSD > 0 {
			band = fmt.Sprintf("band ±$%.0f", u.BandUSD)
			if !u.InBand {
				band += ", OUTSIDE"
			}
		}
		out = append(out, fmt.Sprintf("%s: delta %.2f ($%.0f; %s), cash gamma $%.0f per 1%%, vega $%.0f per vol point, theta $%.0f a day",
			u.Underlying, u.Delta, u.DeltaUSD, band, u.CashGamma, u.VegaPoint, u.Theta/365))
	}
	out = append(out, fmt.Sprintf("treasury: cash gamma $%.0f per 1%%, vega $%.0f per vol point, reserves $%.0f", r.CashGamma, r.VegaPoint, r.ReservesUSD))
	return out
}
