package market_test

import (
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/solvency-dev/solvency/treasury/derivatives"
	"github.com/solvency-dev/solvency/treasury/market"
)

var _ derivatives.VolSource = (*market.SynthVol)(nil)

const (
	volStart = int64(1_767_225_600)
	volDay   = 24 * time.Hour
)

// ETH with a 30% crash at step 20, and USDC held to its peg.
func crashMarket(t *testing.T, seed uint64) *market.Synthetic {
	t.Helper()
	s, err := market.NewSynthetic(market.SynthConfig{Seed: seed, Steps: 40, WarmupSteps: 60, StartTime: volStart,
		Assets: []market.SynthAsset{
			{Symbol: "ETH", Start: 3000e8, DailyVol: 0.035},
			{Symbol: "USDC", Start: 1e8, DailyVol: 0.0005, PegReversion: 0.5},
		},
		Shocks: []market.Shock{{Step: 20, Asset: "ETH", Bps: -3000}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Fatalf("%s = %.10g, want %.10g", what, got, want)
	}
}

func stepTime(step int) time.Time { return time.Unix(volStart, 0).Add(time.Duration(step) * volDay) }

func mustVol(t *testing.T, v *market.SynthVol, u string, step int, days float64, strike float64) float64 {
	t.Helper()
	now := stepTime(step)
	s, err := v.ImpliedVol(u, now.Add(time.Duration(days*float64(volDay))), strike, now)
	if err != nil {
		t.Fatal(err)
	}
	if !(s > 0) || s > 5*1.5 {
		t.Fatalf("%s step %d: vol %v", u, step, s)
	}
	return s
}

func spotAt(t *testing.T, m *market.Synthetic, u string, step int) float64 {
	t.Helper()
	snap, err := m.At(step, 0)
	if err != nil {
		t.Fatal(err)
	}
	return float64(snap.Prices[u]) / 1e8
}

// The same market config gives the same surface; another seed another one.
func TestSynthVolDeterministic(t *testing.T) {
	a, err := market.NewSynthVol(crashMarket(t, 7), market.DefaultSynthVolParams())
	if err != nil {
		t.Fatal(err)
	}
	b, err := market.NewSynthVol(crashMarket(t, 7), market.DefaultSynthVolParams())
	if err != nil {
		t.Fatal(err)
	}
	c, err := market.NewSynthVol(crashMarket(t, 8), market.DefaultSynthVolParams())
	if err != nil {
		t.Fatal(err)
	}
	differ := false
	for step := -60; step <= 40; step += 5 {
		for _, days := range []float64{1, 30, 365} {
			va, vb := mustVol(t, a, "ETH", step, days, 2800), mustVol(t, b, "ETH", step, days, 2800)
			if va != vb {
				t.Fatalf("step %d %v days: %v then %v", step, days, va, vb)
			}
			differ = differ || va != mustVol(t, c, "ETH", step, days, 2800)
		}
	}
	if !differ {
		t.Fatal("seeds 7 and 8 give the same surface")
	}
}

// The crash lifts the at-the-money volatility, inverts the term structure, and the surface has
// a put skew.
func TestSynthVolMovesWithTheScenario(t *testing.T) {
	m := crashMarket(t, 7)
	v, err := market.NewSynthVol(m, market.DefaultSynthVolParams())
	if err != nil {
		t.Fatal(err)
	}
	before, err := v.ATM("ETH", stepTime(19))
	if err != nil {
		t.Fatal(err)
	}
	after, err := v.ATM("ETH", stepTime(20))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ETH at-the-money vol: %.3f before the crash, %.3f on the day", before, after)
	if after < 1.2*before {
		t.Fatalf("a 30%% crash moved the at-the-money vol only from %.3f to %.3f", before, after)
	}
	// Known at any time within the step's day: the same state.
	if mid, err := v.ATM("ETH", stepTime(20).Add(12*time.Hour)); err != nil || mid != after {
		t.Fatalf("mid-step: %v %v", mid, err)
	}

	s := spotAt(t, m, "ETH", 20)
	short, long := mustVol(t, v, "ETH", 20, 7, s), mustVol(t, v, "ETH", 20, 365, s)
	if short <= long {
		t.Fatalf("after the crash the term structure is not inverted: 7d %.3f, 1y %.3f", short, long)
	}
	// At the money, total variance reverts from the spot level to the configured 0.035·√365
	// at rate 4 a year: sigma_T²·T = base²·T + (atm² - base²)·(1 - e^{-4T})/4.
	base := 0.035 * math.Sqrt(365)
	for _, days := range []float64{1, 30, 365, 3650} {
		T := days / 365
		want := math.Sqrt(base*base + (after*after-base*base)*(1-math.Exp(-4*T))/(4*T))
		near(t, "at-the-money term structure", mustVol(t, v, "ETH", 20, days, s), want, 1e-9*want)
	}
	// Put skew: lower strikes carry higher volatility, near the money.
	lo, atm, hi := mustVol(t, v, "ETH", 20, 30, 0.85*s), mustVol(t, v, "ETH", 20, 30, s), mustVol(t, v, "ETH", 20, 30, 1.15*s)
	if !(lo > atm && atm > hi) {
		t.Fatalf("no put skew: 85%% %.3f, 100%% %.3f, 115%% %.3f", lo, atm, hi)
	}
	// Flat beyond three standard deviations.
	if a, b := mustVol(t, v, "ETH", 20, 30, s/100), mustVol(t, v, "ETH", 20, 30, s/1000); a != b {
		t.Fatalf("deep wing not flat: %v %v", a, b)
	}
	// The stablecoin stays a low-volatility asset.
	if u := mustVol(t, v, "USDC", 20, 30, 1); u > 0.1 {
		t.Fatalf("USDC vol %.3f", u)
	}
}

// With no leverage, realised weight or noise, and no skew, the surface is flat at the
// configured level.
func TestSynthVolFlatWithoutDynamics(t *testing.T) {
	m := crashMarket(t, 7)
	v, err := market.NewSynthVol(m, market.SynthVolParams{Lambda: 0.94, MeanReversion: 4})
	if err != nil {
		t.Fatal(err)
	}
	base := 0.035 * math.Sqrt(365)
	for _, step := range []int{-60, 0, 20, 40} {
		for _, k := range []float64{100, 3000, 90000} {
			if got := mustVol(t, v, "ETH", step, 30, k); math.Abs(got-base) > 1e-12 {
				t.Fatalf("step %d strike %v: %v, want %v", step, k, got, base)
			}
		}
	}
}

// Options price off the synthetic surface through the derivatives package.
func TestSynthVolPricesOptions(t *testing.T) {
	m := crashMarket(t, 7)
	v, err := market.NewSynthVol(m, market.DefaultSynthVolParams())
	if err != nil {
		t.Fatal(err)
	}
	now := stepTime(19)
	put := derivatives.Option{ID: "tail", Underlying: "ETH", Right: derivatives.Put, Strike: 2500e8,
		Expiry: now.Add(60 * volDay).Unix(), Size: new(big.Int).Exp(big.NewInt(10), big.NewInt(19), nil)}
	calm, _, err := derivatives.ValueOption(put, spotAt(t, m, "ETH", 19), 18, v, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	crash, _, err := derivatives.ValueOption(put, spotAt(t, m, "ETH", 20), 18, v, stepTime(20), 0)
	if err != nil {
		t.Fatal(err)
	}
	if crash <= calm {
		t.Fatalf("the tail hedge lost value in the crash: %v -> %v", calm, crash)
	}
}

func TestSynthVolRefusals(t *testing.T) {
	m := crashMarket(t, 7)
	v, err := market.NewSynthVol(m, market.DefaultSynthVolParams())
	if err != nil {
		t.Fatal(err)
	}
	now := stepTime(10)
	for name, q := range map[string]struct {
		u        string
		exp, now time.Time
		k        float64
		want     string
	}{
		"unknown asset":   {"SOL", now.Add(volDay), now, 100, "no asset"},
		"expired":         {"ETH", now, now, 3000, "not after"},
		"bad strike":      {"ETH", now.Add(volDay), now, math.NaN(), "strike"},
		"before the path": {"ETH", stepTime(-61).Add(volDay), stepTime(-61), 3000, "outside"},
		"after the path":  {"ETH", stepTime(42), stepTime(41), 3000, "outside"},
	} {
		if _, err := v.ImpliedVol(q.u, q.exp, q.k, q.now); err == nil || !strings.Contains(err.Error(), q.want) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	bad := market.DefaultSynthVolParams()
	bad.Skew = -0.5
	if _, err := market.NewSynthVol(m, bad); err == nil {
		t.Error("skew -0.5 accepted")
	}
	bad = market.DefaultSynthVolParams()
	bad.Lambda = 1
	if _, err := market.NewSynthVol(m, bad); err == nil {
		t.Error("lambda 1 accepted")
	}
	if _, err := market.NewSynthVol(nil, market.DefaultSynthVolParams()); err == nil {
		t.Error("nil market accepted")
	}
}
