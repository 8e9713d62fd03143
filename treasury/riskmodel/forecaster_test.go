package riskmodel

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// twoAssets returns 600 rows of two correlated GARCH-like series: the second is half the first
// plus noise, then a last-day spike in the first.
func twoAssets() [][]float64 {
	a := simulateGARCH(11, 600, 2e-5, 0.1, 0.85)
	rng := rand.New(rand.NewPCG(12, 0))
	out := make([][]float64, len(a))
	for t := range a {
		out[t] = []float64{a[t], 0.5*a[t] + 0.01*rng.NormFloat64()}
	}
	out[len(out)-1][0] = -0.12
	return out
}

func TestNewVolForecaster(t *testing.T) {
	for name, want := range map[string]string{"": ForecasterEWMA, "ewma": ForecasterEWMA, "garch": ForecasterGARCH} {
		f, err := NewVolForecaster(name, 0)
		if err != nil || f.Name() != want {
			t.Fatalf("%q: %v %v", name, f, err)
		}
	}
	if f, _ := NewVolForecaster("ewma", 0); f.(EWMAForecaster).Lambda != DefaultLambda {
		t.Fatal("lambda 0 is not the default")
	}
	if _, err := NewVolForecaster("GARCH", 0); err == nil || !strings.Contains(err.Error(), "ewma, garch") {
		t.Fatalf("a name in capitals: %v", err)
	}
	for _, l := range []float64{-0.1, 1, math.NaN()} {
		if _, err := NewVolForecaster("garch", l); err == nil {
			t.Errorf("lambda %v accepted", l)
		}
	}
}

// EWMA is the EWMA covariance at every horizon.
func TestEWMAForecaster(t *testing.T) {
	r := twoAssets()
	f, _ := NewVolForecaster("ewma", 0.97)
	want, err := EWMACovariance(r, 0.97)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []int{1, 10} {
		got, err := f.Covariance(r, h)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			for j := 0; j < 2; j++ {
				if got.At(i, j) != want.At(i, j) {
					t.Fatalf("h %d (%d,%d): %g, want %g", h, i, j, got.At(i, j), want.At(i, j))
				}
			}
		}
	}
	if _, err := f.Covariance(r, 0); err == nil {
		t.Fatal("horizon 0 accepted")
	}
}

// GARCH gives each asset its fitted horizon variance and keeps the EWMA correlation; after a
// spike, the average variance over a longer horizon is lower (it reverts), where EWMA's is flat.
func TestGARCHForecaster(t *testing.T) {
	r := twoAssets()
	f, _ := NewVolForecaster("garch", 0)
	ewma, err := EWMACovariance(r, DefaultLambda)
	if err != nil {
		t.Fatal(err)
	}
	c1, err := f.Covariance(r, 1)
	if err != nil {
		t.Fatal(err)
	}
	c30, err := f.Covariance(r, 30)
	if err != nil {
		t.Fatal(err)
	}
	col := make([]float64, len(r))
	for i := 0; i < 2; i++ {
		for k, row := range r {
			col[k] = row[i]
		}
		g, err := FitGARCH(col)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			h   int
			got float64
		}{{1, c1.At(i, i)}, {30, c30.At(i, i)}} {
			hv, _ := g.HorizonVariance(c.h)
			if math.Abs(c.got-hv/float64(c.h)) > 1e-12*hv {
				t.Fatalf("asset %d h %d: variance %g, want %g", i, c.h, c.got, hv/float64(c.h))
			}
		}
	}
	rho := func(c interface{ At(i, j int) float64 }) float64 {
		return c.At(0, 1) / math.Sqrt(c.At(0, 0)*c.At(1, 1))
	}
	if math.Abs(rho(c1)-rho(ewma)) > 1e-12 || math.Abs(rho(c30)-rho(ewma)) > 1e-12 {
		t.Fatalf("correlation %v / %v, EWMA %v", rho(c1), rho(c30), rho(ewma))
	}
	if !(c30.At(0, 0) < c1.At(0, 0)) {
		t.Fatalf("after a spike the 30-step variance %g is not below the next step's %g", c30.At(0, 0), c1.At(0, 0))
	}
	t.Logf("asset 0 daily vol: next step %.4f, 30-step average %.4f, EWMA %.4f", math.Sqrt(c1.At(0, 0)), math.Sqrt(c30.At(0, 0)), math.Sqrt(ewma.At(0, 0)))
}

// A price that never moved has zero variance and no correlation; too short a history or a
// non-finite return is refused.
func TestGARCHForecasterEdges(t *testing.T) {
	r := twoAssets()
	for _, row := range r {
		row[1] = 0
	}
	f := GARCHForecaster{Lambda: DefaultLambda}
	c, err := f.Covariance(r, 1)
	if err != nil {
		t.Fatal(err)
	}
	if c.At(1, 1) != 0 || c.At(0, 1) != 0 || !(c.At(0, 0) > 0) {
		t.Fatalf("covariance with a still asset: %v", c)
	}
	if _, err := f.Covariance(r[:50], 1); err == nil || !strings.Contains(err.Error(), "need at least") {
		t.Fatalf("50 returns: %v", err)
	}
	r[300][0] = math.NaN()
	if _, err := f.Covariance(r, 1); err == nil {
		t.Fatal("NaN return accepted")
	}
	if _, err := f.Covariance(twoAssets(), 0); err == nil {
		t.Fatal("horizon 0 accepted")
	}
}
