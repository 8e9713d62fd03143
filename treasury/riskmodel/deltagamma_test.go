package riskmodel

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/solvency-dev/solvency/treasury/derivatives"
)

func twoAssetCov() *mat.SymDense {
	// Daily vols 4% and 0.1%, correlation 0.3.
	return mat.NewSymDense(2, []float64{0.0016, 0.3 * 0.04 * 0.001, 0.3 * 0.04 * 0.001, 1e-6})
}

// Without gamma, both delta-gamma methods are the parametric VaR, to the unit.
func TestDeltaGammaWithoutGammaIsParametric(t *testing.T) {
	cov := twoAssetCov()
	x := []*big.Int{usd(1_500_000), usd(-400_000)}
	dg, err := NewDeltaGamma([]float64{3000, 1}, []float64{500, -400_000}, []float64{0, 0})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []float64{1, 10} {
		want, err := Parametric(cov, x, 0.99, h)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []DGMethod{DeltaGammaNormal, CornishFisher} {
			got, err := DeltaGammaVaR(cov, dg, 0.99, h, m)
			if err != nil {
				t.Fatal(err)
			}
			if got.VaR.Cmp(want.VaR) != 0 || got.ES.Cmp(want.ES) != 0 {
				t.Fatalf("%s h %v: VaR %v ES %v, parametric %v %v", m, h, got.VaR, got.ES, want.VaR, want.ES)
			}
		}
	}
	// A nil gamma is the same linear book.
	lin := DeltaGamma{Delta: dg.Delta}
	got, err := DeltaGammaVaR(cov, lin, 0.99, 1, CornishFisher)
	want, _ := Parametric(cov, x, 0.99, 1)
	if err != nil || got.VaR.Cmp(want.VaR) != 0 {
		t.Fatalf("nil gamma: %v %v, want %v", got.VaR, err, want.VaR)
	}
}

// The cumulant formulas match the sample moments of the quadratic form itself.
func TestDeltaGammaMomentsMonteCarlo(t *testing.T) {
	cov := twoAssetCov()
	dg := DeltaGamma{Delta: []float64{-2e5, 5e4}, Gamma: mat.NewSymDense(2, []float64{3e7, 1e6, 1e6, -2e8})}
	m, err := DeltaGammaMoments(cov, dg, 2)
	if err != nil {
		t.Fatal(err)
	}
	var ch mat.Cholesky
	omega := mat.NewSymDense(2, nil)
	omega.ScaleSym(2, cov)
	if !ch.Factorize(omega) {
		t.Fatal("covariance")
	}
	var l mat.TriDense
	ch.LTo(&l)
	rng := rand.New(rand.NewPCG(5, 5))
	const n = 400_000
	var s1, s2, s3, s4 float64
	samples := make([]float64, n)
	for k := range samples {
		z0, z1 := rng.NormFloat64(), rng.NormFloat64()
		r0 := l.At(0, 0) * z0
		r1 := l.At(1, 0)*z0 + l.At(1, 1)*z1
		q := dg.Delta[0]*r0 + dg.Delta[1]*r1 + 0.5*(dg.Gamma.At(0, 0)*r0*r0+2*dg.Gamma.At(0, 1)*r0*r1+dg.Gamma.At(1, 1)*r1*r1)
		samples[k] = q
		s1 += q
	}
	mean := s1 / n
	for _, q := range samples {
		d := q - mean
		s2 += d * d
		s3 += d * d * d
		s4 += d * d * d * d
	}
	v := s2 / n
	sd := math.Sqrt(v)
	skew := s3 / n / (v * sd)
	kurt := s4/n/(v*v) - 3
	t.Logf("analytic %+v; sample mean %.4g sd %.4g skew %.4f exkurt %.4f", m, mean, sd, skew, kurt)
	if math.Abs(mean-m.Mean) > 0.01*m.StdDev || math.Abs(sd/m.StdDev-1) > 0.01 ||
		math.Abs(skew-m.Skew) > 0.05 || math.Abs(kurt-m.ExcessKurtosis) > 0.1*(1+math.Abs(m.ExcessKurtosis)) {
		t.Fatalf("moments disagree with the sample")
	}
}

// A long put is long gamma: its P&L is skewed to the right, so the Cornish-Fisher VaR is below
// the delta-normal one (the parametric VaR of its dollar delta).
func TestDeltaGammaLongPutCornishFisherBelowDeltaNormal(t *testing.T) {
	// 10 ETH of 30-day puts struck at 2800 with ETH at 3000, vol 80%; daily variance 0.8²/365.
	_, g, err := derivatives.Black76(derivatives.Put, 3000, 2800, 30.0/365, 0.8, 0)
	if err != nil {
		t.Fatal(err)
	}
	g = g.Scale(10)
	cov := mat.NewSymDense(1, []float64{0.64 / 365})
	dg, err := NewDeltaGamma([]float64{3000}, []float64{g.Delta}, []float64{g.Gamma})
	if err != nil {
		t.Fatal(err)
	}
	normal, err := Parametric(cov, []*big.Int{ceilUSD(math.Abs(dg.Delta[0]))}, 0.99, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := DeltaGammaVaR(cov, dg, 0.99, 1, CornishFisher)
	if err != nil {
		t.Fatal(err)
	}
	dgn, err := DeltaGammaVaR(cov, dg, 0.99, 1, DeltaGammaNormal)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := DeltaGammaMoments(cov, dg, 1)
	t.Logf("long put: delta-normal VaR %s, delta-gamma-normal %s, Cornish-Fisher %s (skew %.3f, excess kurtosis %.3f)",
		usdString(normal.VaR), usdString(dgn.VaR), usdString(cf.VaR), m.Skew, m.ExcessKurtosis)
	if m.Skew <= 0 {
		t.Fatalf("long gamma with skew %v", m.Skew)
	}
	if cf.VaR.Cmp(normal.VaR) >= 0 {
		t.Fatalf("Cornish-Fisher VaR %v not below delta-normal %v", cf.VaR, normal.VaR)
	}
	// And a short put (the same exposure negated) is the other way round.
	short, _ := NewDeltaGamma([]float64{3000}, []float64{-g.Delta}, []float64{-g.Gamma})
	cfShort, err := DeltaGammaVaR(cov, short, 0.99, 1, CornishFisher)
	if err != nil {
		t.Fatal(err)
	}
	if cfShort.VaR.Cmp(normal.VaR) <= 0 {
		t.Fatalf("short put: Cornish-Fisher VaR %v not above delta-normal %v", cfShort.VaR, normal.VaR)
	}
}

func usdString(v *big.Int) string {
	return new(big.Float).Quo(new(big.Float).SetInt(v), big.NewFloat(1e8)).Text('f', 2)
}

// The Cornish-Fisher ES is the tail mean of the expansion's quantiles: its closed form matches
// a numerical integral of m + s·w(z) over z below the quantile.
func TestCornishFisherESIsTheTailMean(t *testing.T) {
	cov := twoAssetCov()
	dg := DeltaGamma{Delta: []float64{-1e5, 0}, Gamma: mat.NewSymDense(2, []float64{-5e7, 0, 0, 0})}
	const c = 0.975
	tail, err := DeltaGammaVaR(cov, dg, c, 1, CornishFisher)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := DeltaGammaMoments(cov, dg, 1)
	s, k := m.Skew, m.ExcessKurtosis
	w := func(x float64) float64 {
		return x + (x*x-1)*s/6 + (x*x*x-3*x)*k/24 - (2*x*x*x-5*x)*s*s/36
	}
	a := -NormalQuantile(c)
	// ∫_{-12}^{a} (m + s·w(x))·φ(x) dx by the midpoint rule.
	const steps = 200_000
	h := (a + 12) / steps
	sum := 0.0
	for i := 0; i < steps; i++ {
		x := -12 + (float64(i)+0.5)*h
		sum += (m.Mean + m.StdDev*w(x)) * math.Exp(-x*x/2) / math.Sqrt(2*math.Pi) * h
	}
	es := -sum / (1 - c)
	if got := usdFloat(tail.ES); math.Abs(got-es) > 1e-6*es {
		t.Fatalf("ES %v, numerical tail mean %v", got, es)
	}
	if !(tail.ES.Cmp(tail.VaR) > 0) {
		t.Fatalf("ES %v not above VaR %v", tail.ES, tail.VaR)
	}
}

func TestDeltaGammaRefusals(t *testing.T) {
	cov := twoAssetCov()
	good := DeltaGamma{Delta: []float64{1, 2}, Gamma: mat.NewSymDense(2, nil)}
	for name, c := range map[string]struct {
		dg     DeltaGamma
		conf   float64
		h      float64
		method DGMethod
	}{
		"delta length":   {DeltaGamma{Delta: []float64{1}}, 0.99, 1, CornishFisher},
		"gamma size":     {DeltaGamma{Delta: []float64{1, 2}, Gamma: mat.NewSymDense(3, nil)}, 0.99, 1, CornishFisher},
		"NaN delta":      {DeltaGamma{Delta: []float64{math.NaN(), 2}}, 0.99, 1, CornishFisher},
		"confidence":     {good, 0.4, 1, CornishFisher},
		"zero horizon":   {good, 0.99, 0, DeltaGammaNormal},
		"unknown method": {good, 0.99, 1, "monte-carlo"},
		"infinite gamma": {DeltaGamma{Delta: []float64{1, 2}, Gamma: mat.NewSymDense(2, []float64{math.Inf(1), 0, 0, 0})}, 0.99, 1, CornishFisher},
	} {
		if _, err := DeltaGammaVaR(cov, c.dg, c.conf, c.h, c.method); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for name, in := range map[string][3][]float64{
		"lengths":    {{1, 2}, {1}, {1, 2}},
		"zero price": {{0}, {1}, {1}},
		"NaN gamma":  {{1}, {1}, {math.NaN()}},
		"empty":      {{}, {}, {}},
	} {
		if _, err := NewDeltaGamma(in[0], in[1], in[2]); err == nil {
			t.Errorf("NewDeltaGamma %s: accepted", name)
		}
	}
}
