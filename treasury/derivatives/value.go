package derivatives

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"time"
)

// maxDecimals bounds an asset's decimals, as the asset table does.
const maxDecimals = 36

// tokens converts an amount in an asset's own units into whole tokens, for the model only.
func tokens(amount *big.Int, decimals uint8) (float64, error) {
	if amount == nil {
		return 0, errors.New("amount missing")
	}
	if decimals > maxDecimals {
		return 0, fmt.Errorf("%d decimals, at most %d", decimals, maxDecimals)
	}
	q := new(big.Float).SetInt(amount)
	q.Quo(q, new(big.Float).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)))
	f, _ := q.Float64()
	if math.IsInf(f, 0) {
		return 0, fmt.Errorf("amount %s is beyond the model's range", amount)
	}
	return f, nil
}

// ValueOption values a whole option position at spot (USD per whole token of the underlying,
// whose amounts have decimals), with the implied volatility vols gives for its expiry and strike
// at now and the continuous rate r. The forward is spot·e^{rT} (no carry yield), T in years of
// SecondsPerYear; Black-76 on that forward is Black-Scholes on spot.
//
// It returns the position's value in USD and its Greeks with respect to spot, scaled by the
// size in whole tokens (a short position's are negative): Delta in tokens, Gamma in tokens per
// USD, Vega in USD per 1.00 of volatility, Theta in USD per year at fixed spot. An option at or
// past expiry is worth its intrinsic value, and vols is not asked.
func ValueOption(o Option, spot float64, decimals uint8, vols VolSource, now time.Time, r float64) (float64, Greeks, error) {
	fail := func(err error) (float64, Greeks, error) {
		return 0, Greeks{}, fmt.Errorf("option %s: %w", o.ID, err)
	}
	size, err := tokens(o.Size, decimals)
	if err != nil {
		return fail(fmt.Errorf("size: %w", err))
	}
	if o.Strike == 0 {
		return fail(fmt.Errorf("%w: zero strike", ErrInput))
	}
	if !(spot > 0) || math.IsInf(spot, 0) || math.IsNaN(r) || math.IsInf(r, 0) {
		return fail(fmt.Errorf("%w: spot %v, rate %v", ErrInput, spot, r))
	}
	K := float64(o.Strike) / 1e8
	T := YearsBetween(now, time.Unix(o.Expiry, 0))
	if T <= 0 {
		v, g, err := Black76(o.Right, spot, K, 0, 0, r)
		if err != nil {
			return fail(err)
		}
		return v * size, g.Scale(size), nil
	}
	if vols == nil {
		return fail(errors.New("no volatility source"))
	}
	sigma, err := vols.ImpliedVol(o.Underlying, time.Unix(o.Expiry, 0), K, now)
	if err != nil {
		return fail(err)
	}
	growth := math.Exp(r * T)
	F := spot * growth
	v, gf, err := Black76(o.Right, F, K, T, sigma, r)
	if err != nil {
		return fail(err)
	}
	// From the forward to spot: dF/dS = e^{rT}, and at fixed spot the forward drifts with
	// time to expiry, so theta picks up -r·F·dV/dF.
	g := Greeks{
		Delta: gf.Delta * growth,
		Gamma: gf.Gamma * growth * growth,
		Vega:  gf.Vega,
		Theta: gf.Theta - r*F*gf.Delta,
	}
	return v * size, g.Scale(size), nil
}

// ValuePool values a pool share at prices pa and pb (USD per whole token of its assets A and
// B, whose amounts have decA and decB decimals) as the arbitraged pool would hold it
// (PoolValue), and returns its value in USD and its Greeks with respect to each price. The
// cross derivative d²V/dpa·dpb = sqrt(x·y/(pa·pb))/2 belongs to neither asset and is left out.
func ValuePool(p PoolShare, pa, pb float64, decA, decB uint8) (float64, Greeks, Greeks, error) {
	fail := func(err error) (float64, Greeks, Greeks, error) {
		return 0, Greeks{}, Greeks{}, fmt.Errorf("pool share %s: %w", p.ID, err)
	}
	if p.AssetA == p.AssetB {
		return fail(fmt.Errorf("%w: both sides are %s", ErrInput, p.AssetA))
	}
	x, err := tokens(p.AmountA, decA)
	if err != nil {
		return fail(fmt.Errorf("amount of %s: %w", p.AssetA, err))
	}
	y, err := tokens(p.AmountB, decB)
	if err != nil {
		return fail(fmt.Errorf("amount of %s: %w", p.AssetB, err))
	}
	v, ga, err := PoolValue(x, y, pa, pb)
	if err != nil {
		return fail(err)
	}
	_, gb, err := PoolValue(y, x, pb, pa)
	if err != nil {
		return fail(err)
	}
	return v, ga, gb, nil
}

// Aggregate returns the net Greeks of every option and pool share per underlying (with respect
// to that underlying's price; see ValueOption and ValuePool for units). spot gives each asset's
// price (USD per whole token) and decimals its amounts' decimals. Spot and perpetual positions
// are not here: their delta (their size in tokens) is the caller's to add.
func Aggregate(opts []Option, pools []PoolShare, spot map[string]float64, decimals map[string]uint8, vols VolSource, now time.Time, r float64) (map[string]Greeks, error) {
	out := map[string]Greeks{}
	lookup := func(asset, what, id string) (float64, uint8, error) {
		s, ok := spot[asset]
		if !ok {
			return 0, 0, fmt.Errorf("%s %s: no price for %s", what, id, asset)
		}
		d, ok := decimals[asset]
		if !ok {
			return 0, 0, fmt.Errorf("%s %s: no decimals for %s", what, id, asset)
		}
		return s, d, nil
	}
	for _, o := range opts {
		s, d, err := lookup(o.Underlying, "option", o.ID)
		if err != nil {
			return nil, err
		}
		_, g, err := ValueOption(o, s, d, vols, now, r)
		if err != nil {
			return nil, err
		}
		out[o.Underlying] = out[o.Underlying].Add(g)
	}
	for _, p := range pools {
		pa, da, err := lookup(p.AssetA, "pool share", p.ID)
		if err != nil {
			return nil, err
		}
		pb, db, err := lookup(p.AssetB, "pool share", p.ID)
		if err != nil {
			return nil, err
		}
		_, ga, gb, err := ValuePool(p, pa, pb, da, db)
		if err != nil {
			return nil, err
		}
		out[p.AssetA] = out[p.AssetA].Add(ga)
		out[p.AssetB] = out[p.AssetB].Add(gb)
	}
	return out, nil
}

// CashGamma is the USD change of the dollar delta (Delta·price) for a 1% move of price:
// Gamma·price²/100. Negative when the treasury is short gamma.
func CashGamma(g Greeks, price float64) float64 { return g.Gamma * price * price / 100 }

// VegaPerPoint is the USD change of value for one volatility point (0.01): Vega/100.
func VegaPerPoint(g Greeks) float64 { return g.Vega / 100 }

// SortedUnderlyings returns the keys of an Aggregate result in order, for stable reports.
func SortedUnderlyings(net map[string]Greeks) []string {
	out := make([]string, 0, len(net))
	for u := range net {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}
