package market

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
)

// SynthAsset describes one asset of the synthetic market.
type SynthAsset struct {
	Symbol string `json:"symbol"`
	// Start is the price at step 0 (USD, 8 decimals).
	Start uint64 `json:"start"`
	// DailyVol and DailyDrift are the standard deviation and mean of the daily log return;
	// DailyDrift may be left out (default 0: no drift).
	DailyVol   float64 `json:"dailyVol"`
	DailyDrift float64 `json:"dailyDrift" jsonstrict:"optional"`
	// PegReversion in [0,1) pulls the log price back toward log(Start) by this fraction each
	// step (a stablecoin's peg); 0 is a pure geometric Brownian motion.
	PegReversion float64 `json:"pegReversion,omitempty"`
}

// Shock is a scripted move: on step Step the asset's price is multiplied by (1 + Bps/10000),
// after the random move. Shocks on several assets at the same step model one event (ETH and
// stETH falling together).
type Shock struct {
	Step  int    `json:"step"`
	Asset string `json:"asset"`
	Bps   int64  `json:"bps"`
	Note  string `json:"note,omitempty"`
}

// SynthConfig configures a seeded synthetic market. The same config always gives the same path.
type SynthConfig struct {
	// Comment is free text for the file's readers.
	Comment string       `json:"_comment,omitempty"`
	Seed    uint64       `json:"seed"`
	Assets  []SynthAsset `json:"assets"`
	// Correlation of the daily log returns, len(Assets) square, symmetric positive definite.
	// Nil means independent assets.
	Correlation [][]float64 `json:"correlation,omitempty"`
	Shocks      []Shock     `json:"shocks,omitempty"`
	// Steps is the number of steps generated after step 0 (the start prices).
	Steps int `json:"steps"`
	// WarmupSteps is the history generated before step 0 (for risk statistics); step 0 is
	// still exactly the start prices.
	WarmupSteps int `json:"warmupSteps,omitempty"`
	// StartTime (unix seconds) and StepSeconds (default one day) set the observation times.
	StartTime   int64 `json:"startTime"`
	StepSeconds int64 `json:"stepSeconds,omitempty"`
}

// Synthetic is a generated price path; it is immutable after NewSynthetic, so it is safe to
// share between goroutines.
type Synthetic struct {
	cfg  SynthConfig
	hist *History
}

// NewSynthetic generates the whole path up front: correlated normal draws through the Cholesky
// factor of the correlation matrix, applied to integer prices as integer multipliers in parts
// per billion, then the scripted shocks.
func NewSynthetic(cfg SynthConfig) (*Synthetic, error) {
	n := len(cfg.Assets)
	if n == 0 {
		return nil, errors.New("synthetic market: no assets")
	}
	if cfg.Steps <= 0 || cfg.WarmupSteps < 0 {
		return nil, errors.New("synthetic market: steps must be positive and warm-up steps not negative")
	}
	if cfg.StepSeconds == 0 {
		cfg.StepSeconds = 86400
	}
	names := make([]string, n)
	seen := map[string]bool{}
	for i, a := range cfg.Assets {
		if a.Symbol == "" || seen[a.Symbol] {
			return nil, fmt.Errorf("synthetic market: asset %d has an empty or repeated symbol %q", i, a.Symbol)
		}
		if a.Start == 0 || a.Start > MaxPrice {
			return nil, fmt.Errorf("synthetic market: %s start price %d out of range", a.Symbol, a.Start)
		}
		if a.DailyVol < 0 || a.PegReversion < 0 || a.PegReversion >= 1 {
			return nil, fmt.Errorf("synthetic market: %s has a negative vol or a peg reversion outside [0,1)", a.Symbol)
		}
		seen[a.Symbol] = true
		names[i] = a.Symbol
	}
	chol, err := correlationFactor(cfg.Correlation, n)
	if err != nil {
		return nil, fmt.Errorf("synthetic market: %w", err)
	}
	shocks := map[int][]Shock{}
	for _, s := range cfg.Shocks {
		if !seen[s.Asset] {
			return nil, fmt.Errorf("synthetic market: shock on unknown asset %s", s.Asset)
		}
		if s.Step < 1 || s.Step > cfg.Steps || s.Bps <= -10000 {
			return nil, fmt.Errorf("synthetic market: shock %+v has a step outside 1..%d or a move of -100%% or worse", s, cfg.Steps)
		}
		shocks[s.Step] = append(shocks[s.Step], s)
	}

	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	z := make([]float64, n)
	// draw returns one step's correlated log returns e = L z, scaled and drifted per asset.
	draw := func() []float64 {
		for i := range z {
			z[i] = rng.NormFloat64()
		}
		out := make([]float64, n)
		for i, a := range cfg.Assets {
			e := 0.0
			for j := 0; j <= i; j++ {
				e += chol.At(i, j) * z[j]
			}
			out[i] = a.DailyDrift + a.DailyVol*e
		}
		return out
	}
	ppbOf := func(r float64, sym string, t int) (uint64, error) {
		ppb := math.Round(math.Exp(r) * 1e9)
		if ppb < 1 || ppb > 1e12 {
			return 0, fmt.Errorf("synthetic market: %s step %d draws an implausible return %g", sym, t, r)
		}
		return uint64(ppb), nil
	}

	// Warm-up: the history before step 0, built backward from the start prices so that step 0
	// is exactly Start (p_{t-1} = p_t / exp(r_t)). Peg reversion does not apply backward.
	rows := make([][]uint64, cfg.WarmupSteps+1)
	cur := make([]uint64, n)
	for i, a := range cfg.Assets {
		cur[i] = a.Start
	}
	rows[cfg.WarmupSteps] = append([]uint64(nil), cur...)
	for k := cfg.WarmupSteps; k > 0; k-- {
		r := draw()
		for i, a := range cfg.Assets {
			ppb, err := ppbOf(r[i], a.Symbol, k-cfg.WarmupSteps)
			if err != nil {
				return nil, err
			}
			p, err := mulDiv(cur[i], 1_000_000_000, ppb)
			if err != nil {
				return nil, fmt.Errorf("synthetic market: %s warm-up step %d: %w", a.Symbol, k-cfg.WarmupSteps, err)
			}
			cur[i] = p
		}
		rows[k-1] = append([]uint64(nil), cur...)
	}
	h := NewHistory(names)
	for k, row := range rows {
		h.Times = append(h.Times, cfg.StartTime+int64(k-cfg.WarmupSteps)*cfg.StepSeconds)
		h.Prices = append(h.Prices, row)
	}
	copy(cur, rows[cfg.WarmupSteps])
	for t := 1; t <= cfg.Steps; t++ {
		r := draw()
		for i, a := range cfg.Assets {
			ri := r[i]
			if a.PegReversion > 0 {
				ri -= a.PegReversion * math.Log(float64(cur[i])/float64(a.Start))
			}
			ppb, err := ppbOf(ri, a.Symbol, t)
			if err != nil {
				return nil, err
			}
			p, err := mulDiv(cur[i], ppb, 1_000_000_000)
			if err != nil {
				return nil, fmt.Errorf("synthetic market: %s step %d: %w", a.Symbol, t, err)
			}
			cur[i] = p
		}
		for _, s := range shocks[t] {
			i := h.Index(s.Asset)
			p, err := mulDiv(cur[i], uint64(10000+s.Bps), 10000)
			if err != nil {
				return nil, fmt.Errorf("synthetic market: shock on %s at step %d: %w", s.Asset, t, err)
			}
			cur[i] = p
		}
		h.Times = append(h.Times, cfg.StartTime+int64(t)*cfg.StepSeconds)
		h.Prices = append(h.Prices, append([]uint64(nil), cur...))
	}
	return &Synthetic{cfg: cfg, hist: h}, nil
}

// mulDiv returns floor(a*m/d), refusing zero and results at or above 2^63.
func mulDiv(a, m, d uint64) (uint64, error) {
	v := new(big.Int).Mul(new(big.Int).SetUint64(a), new(big.Int).SetUint64(m))
	v.Quo(v, new(big.Int).SetUint64(d))
	if v.Sign() == 0 || !v.IsUint64() || v.Uint64() > MaxPrice {
		return 0, fmt.Errorf("price %v out of range", v)
	}
	return v.Uint64(), nil
}

func correlationFactor(c [][]float64, n int) (*mat.TriDense, error) {
	sym := mat.NewSymDense(n, nil)
	if c == nil {
		for i := 0; i < n; i++ {
			sym.SetSym(i, i, 1)
		}
	} else {
		if len(c) != n {
			return nil, fmt.Errorf("correlation has %d rows, want %d", len(c), n)
		}
		for i := range c {
			if len(c[i]) != n {
				return nil, fmt.Errorf("correlation row %d has %d entries, want %d", i, len(c[i]), n)
			}
			for j := range c[i] {
				if c[i][j] != c[j][i] {
					return nil, fmt.Errorf("correlation is not symmetric at (%d,%d)", i, j)
				}
			}
			sym.SetSym(i, i, c[i][i])
			for j := 0; j < i; j++ {
				sym.SetSym(i, j, c[i][j])
			}
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(sym) {
		return nil, errors.New("correlation matrix is not positive definite")
	}
	var l mat.TriDense
	ch.LTo(&l)
	return &l, nil
}

// History returns a copy of the whole generated path, warm-up included.
func (s *Synthetic) History() *History { return s.hist.Tail(s.hist.Len()) }

// index maps a step (negative in the warm-up) to a row of the history.
func (s *Synthetic) index(step int) (int, error) {
	i := step + s.cfg.WarmupSteps
	if i < 0 || i >= s.hist.Len() {
		return 0, fmt.Errorf("synthetic market has no step %d (%d..%d)", step, -s.cfg.WarmupSteps, s.cfg.Steps)
	}
	return i, nil
}

// HistoryUpTo returns every observation up to and including step (warm-up included): the
// history known at step.
func (s *Synthetic) HistoryUpTo(step int) (*History, error) {
	i, err := s.index(step)
	if err != nil {
		return nil, err
	}
	full := s.hist.Tail(s.hist.Len())
	full.Times = full.Times[:i+1]
	full.Prices = full.Prices[:i+1]
	return full, nil
}

// At returns the snapshot at step, labelled with cycle.
func (s *Synthetic) At(step int, cycle uint64) (Snapshot, error) {
	i, err := s.index(step)
	if err != nil {
		return Snapshot{}, err
	}
	snap, err := s.hist.Snapshot(i)
	if err != nil {
		return Snapshot{}, fmt.Errorf("synthetic market: %w", err)
	}
	snap.Cycle = cycle
	snap.Source = fmt.Sprintf("synthetic seed %d step %d", s.cfg.Seed, step)
	return snap, nil
}

// Steps is the last step of the path.
func (s *Synthetic) Steps() int { return s.cfg.Steps }

// Shocks returns the scripted shocks.
func (s *Synthetic) Shocks() []Shock { return append([]Shock(nil), s.cfg.Shocks...) }

// Source adapts a synthetic market to the cycle's price Source: cycle c reads step
// Offset + c*Stride, so a run can start after a warm-up history and skip days between cycles.
type SyntheticSource struct {
	Market *Synthetic
	Offset int
	Stride int
}

// Snapshot implements Source.
func (s SyntheticSource) Snapshot(_ context.Context, cycle uint64) (Snapshot, error) {
	stride := s.Stride
	if stride == 0 {
		stride = 1
	}
	step := s.Offset + int(cycle)*stride
	return s.Market.At(step, cycle)
}

// Source is where a cycle takes its prices from.
type Source interface {
	Snapshot(ctx context.Context, cycle uint64) (Snapshot, error)
}

// LoadSynthConfig reads a JSON synthetic-market configuration.
func LoadSynthConfig(path string) (SynthConfig, error) {
	data, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return SynthConfig{}, fmt.Errorf("market config: %w", err)
	}
	var c SynthConfig
	if err := jsonstrict.Unmarshal(path, data, &c); err != nil {
		return SynthConfig{}, fmt.Errorf("market config: %w", err)
	}
	return c, nil
}

// LoadAssets reads a JSON list of assets ([{"symbol": "ETH", "decimals": 18}, ...]) into a map.
func LoadAssets(path string) (map[string]Asset, error) {
	data, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return nil, fmt.Errorf("assets: %w", err)
	}
	var list []Asset
	if err := jsonstrict.Unmarshal(path, data, &list); err != nil {
		return nil, fmt.Errorf("assets: %w", err)
	}
	out := make(map[string]Asset, len(list))
	for _, a := range list {
		if a.Symbol == "" || a.Decimals > 36 {
			return nil, fmt.Errorf("assets %s: bad entry %+v", path, a)
		}
		if _, dup := out[a.Symbol]; dup {
			return nil, fmt.Errorf("assets %s: %s twice", path, a.Symbol)
		}
		out[a.Symbol] = a
	}
	return out, nil
}
