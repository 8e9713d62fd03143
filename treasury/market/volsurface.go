package market

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// SynthVolParams shapes the synthetic market's implied volatility surface. Start from
// DefaultSynthVolParams: a zero field means zero, not a default.
type SynthVolParams struct {
	// Lambda is the decay of the realised variance and of the mean log price the surface reacts
	// to, per step, in (0, 1).
	Lambda float64
	// RealisedWeight in [0, 1] blends the realised volatility into the asset's configured one
	// for the at-the-money level.
	RealisedWeight float64
	// Leverage scales the at-the-money volatility by exp(-Leverage·d), d the log price less its
	// moving mean: >= 0, so the volatility rises when the price falls (and eases when it rises).
	Leverage float64
	// Skew and Smile shape the smile in standardised moneyness x = ln(K/S)/(sigma·√T), clamped to
	// [-3, 3]: sigma(x) = sigma_atm·(1 + Skew·x + Smile·x²). Skew < 0 is the usual put skew.
	// |Skew| <= 0.3 and Smile in [0, 0.1] keep the factor above 0.1.
	Skew, Smile float64
	// MeanReversion (per year, > 0) is how fast forward variance returns to the configured
	// level: a spike inverts the term structure, calm makes it slope up.
	MeanReversion float64
	// VolOfVol is the standard deviation per step of a seeded AR(1) noise on log volatility
	// (>= 0), so the surface wanders a little even on a quiet path; Persistence in [0, 1) is its
	// autocorrelation.
	VolOfVol, Persistence float64
}

// DefaultSynthVolParams are the sample market's values.
func DefaultSynthVolParams() SynthVolParams {
	return SynthVolParams{Lambda: 0.94, RealisedWeight: 0.3, Leverage: 1, Skew: -0.08, Smile: 0.02,
		MeanReversion: 4, VolOfVol: 0.03, Persistence: 0.9}
}

func (p SynthVolParams) check() error {
	switch {
	case !(p.Lambda > 0 && p.Lambda < 1):
		return fmt.Errorf("lambda %v outside (0, 1)", p.Lambda)
	case !(p.RealisedWeight >= 0 && p.RealisedWeight <= 1):
		return fmt.Errorf("realised weight %v outside [0, 1]", p.RealisedWeight)
	case !(p.Leverage >= 0 && p.Leverage <= 20):
		return fmt.Errorf("leverage %v outside [0, 20]", p.Leverage)
	case !(math.Abs(p.Skew) <= 0.3):
		return fmt.Errorf("skew %v outside [-0.3, 0.3]", p.Skew)
	case !(p.Smile >= 0 && p.Smile <= 0.1):
		return fmt.Errorf("smile %v outside [0, 0.1]", p.Smile)
	case !(p.MeanReversion > 0 && p.MeanReversion <= 365):
		return fmt.Errorf("mean reversion %v outside (0, 365]", p.MeanReversion)
	case !(p.VolOfVol >= 0 && p.VolOfVol <= 1):
		return fmt.Errorf("vol of vol %v outside [0, 1]", p.VolOfVol)
	case !(p.Persistence >= 0 && p.Persistence < 1):
		return fmt.Errorf("persistence %v outside [0, 1)", p.Persistence)
	}
	return nil
}

// Bounds of the synthetic at-the-money volatility, so that no path makes it absurd.
const (
	synthMinVol = 0.001
	synthMaxVol = 5.0
	// synthYear is the year of the surface's times to expiry, as in the option pricer
	// (actual/365).
	synthYear = 365 * 86400
	// synthMaxMoneyness is where the smile goes flat, in standard deviations.
	synthMaxMoneyness = 3.0
)

// SynthVol is the implied volatility surface of a synthetic market. It moves with the path:
// at each step the short-dated at-the-money volatility of an asset is
//
//	sigma_atm = ((1-w)·sigma_0 + w·sigma_realised) · exp(-Leverage·(ln P - mean ln P) + noise)
//
// with sigma_0 the configured daily volatility annualised, sigma_realised the EWMA of squared
// log returns annualised, and noise a seeded AR(1). Across expiries, total variance reverts to
// sigma_0 at rate kappa:
//
//	w(T) = sigma_0²·T + (sigma_atm² - sigma_0²)·(1 - e^{-kappa·T})/kappa,  sigma_T = sqrt(w/T)
//
// and across strikes it has the smile of SynthVolParams. It is computed up front, deterministic
// for a market config (the noise has its own stream of the market's seed, so the price path is
// unchanged), and immutable after NewSynthVol. It implements derivatives.VolSource.
type SynthVol struct {
	mkt    *Synthetic
	p      SynthVolParams
	base   []float64   // per asset: sigma_0, annual
	atm    [][]float64 // per history row, per asset: sigma_atm
	stepYr float64     // steps per year
}

// NewSynthVol builds the surface of a synthetic market over its whole path, warm-up included.
func NewSynthVol(s *Synthetic, p SynthVolParams) (*SynthVol, error) {
	if s == nil {
		return nil, errors.New("synthetic volatility: no market")
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("synthetic volatility: %w", err)
	}
	h := s.hist
	n := len(s.cfg.Assets)
	stepYr := float64(synthYear) / float64(s.cfg.StepSeconds)
	v := &SynthVol{mkt: s, p: p, base: make([]float64, n), atm: make([][]float64, h.Len()), stepYr: stepYr}
	variance := make([]float64, n)
	meanLog := make([]float64, n)
	noise := make([]float64, n)
	for i, a := range s.cfg.Assets {
		v.base[i] = clampVol(a.DailyVol * math.Sqrt(stepYr))
		variance[i] = a.DailyVol * a.DailyVol
		meanLog[i] = math.Log(float64(h.Prices[0][i]))
	}
	// A stream of its own, so that adding the surface never changes the prices of a seed.
	rng := rand.New(rand.NewPCG(s.cfg.Seed^0x5deece66d, s.cfg.Seed^0xd1b54a32d192ed03))
	for t := 0; t < h.Len(); t++ {
		row := make([]float64, n)
		for i := range s.cfg.Assets {
			lp := math.Log(float64(h.Prices[t][i]))
			if t > 0 {
				r := lp - math.Log(float64(h.Prices[t-1][i]))
				variance[i] = p.Lambda*variance[i] + (1-p.Lambda)*r*r
				meanLog[i] = p.Lambda*meanLog[i] + (1-p.Lambda)*lp
			}
			noise[i] = p.Persistence*noise[i] + p.VolOfVol*rng.NormFloat64()
			level := (1-p.RealisedWeight)*v.base[i] + p.RealisedWeight*math.Sqrt(variance[i]*stepYr)
			row[i] = clampVol(level * math.Exp(-p.Leverage*(lp-meanLog[i])+noise[i]))
		}
		v.atm[t] = row
	}
	return v, nil
}

func clampVol(x float64) float64 {
	if !(x >= synthMinVol) {
		return synthMinVol
	}
	return math.Min(x, synthMaxVol)
}

// row returns the history row known at now: the last observation at or before it. A time
// before the path or more than a step after its end is refused.
func (v *SynthVol) row(now time.Time) (int, error) {
	h := v.mkt.hist
	u := now.Unix()
	t := sort.Search(h.Len(), func(i int) bool { return h.Times[i] > u }) - 1
	if t < 0 || u >= h.Times[h.Len()-1]+v.mkt.cfg.StepSeconds {
		return 0, fmt.Errorf("synthetic volatility: %s is outside the market's path (%s to %s)",
			now.UTC().Format(time.RFC3339), time.Unix(h.Times[0], 0).UTC().Format(time.RFC3339),
			time.Unix(h.Times[h.Len()-1], 0).UTC().Format(time.RFC3339))
	}
	return t, nil
}

// ATM returns the short-dated at-the-money volatility of underlying known at now.
func (v *SynthVol) ATM(underlying string, now time.Time) (float64, error) {
	i := v.mkt.hist.Index(underlying)
	if i < 0 {
		return 0, fmt.Errorf("synthetic volatility: no asset %q", underlying)
	}
	t, err := v.row(now)
	if err != nil {
		return 0, err
	}
	return v.atm[t][i], nil
}

// ImpliedVol implements derivatives.VolSource: moneyness is measured against the market's
// price at now.
func (v *SynthVol) ImpliedVol(underlying string, expiry time.Time, strike float64, now time.Time) (float64, error) {
	i := v.mkt.hist.Index(underlying)
	if i < 0 {
		return 0, fmt.Errorf("synthetic volatility: no asset %q", underlying)
	}
	if !(strike > 0) || math.IsInf(strike, 0) {
		return 0, fmt.Errorf("synthetic volatility: strike %v is not a positive price", strike)
	}
	T := (float64(expiry.Unix()) - float64(now.Unix()) + float64(expiry.Nanosecond()-now.Nanosecond())/1e9) / synthYear
	if !(T > 0) {
		return 0, fmt.Errorf("synthetic volatility: %s expiry %s is not after %s", underlying,
			expiry.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	t, err := v.row(now)
	if err != nil {
		return 0, err
	}
	s0, sa := v.base[i], v.atm[t][i]
	k := v.p.MeanReversion
	w := s0*s0*T + (sa*sa-s0*s0)*(-math.Expm1(-k*T))/k
	sT := math.Sqrt(w / T)
	spot := float64(v.mkt.hist.Prices[t][i]) / 1e8
	x := math.Log(strike/spot) / (sT * math.Sqrt(T))
	if math.IsNaN(x) {
		x = 0
	}
	x = math.Max(-synthMaxMoneyness, math.Min(synthMaxMoneyness, x))
	return sT * (1 + v.p.Skew*x + v.p.Smile*x*x), nil
}
