package riskmodel

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// simulateGARCH draws n returns of a GARCH(1,1) with the given parameters after a burn-in, from
// a fixed seed.
func simulateGARCH(seed uint64, n int, omega, alpha, beta float64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 0x6a5d))
	h := omega / (1 - alpha - beta)
	r := 0.0
	out := make([]float64, 0, n)
	for t := 0; t < n+500; t++ {
		h = omega + alpha*r*r + beta*h
		r = math.Sqrt(h) * rng.NormFloat64()
		if t >= 500 {
			out = append(out, r)
		}
	}
	return out
}

// The fit recovers known parameters from a simulated series: 4000 daily returns of
// omega = 2e-5, alpha = 0.10, beta = 0.85 (long-run daily vol 2%). Tolerances: alpha within
// 0.04, beta within 0.07, the long-run variance within 25%, about three standard errors of a
// series this long (over seeds 1..40 the worst errors were 0.039, 0.061 and 17%).
func TestGARCHRecoversKnownParameters(t *testing.T) {
	const omega, alpha, beta = 2e-5, 0.10, 0.85
	for _, seed := range []uint64{1, 2, 3} {
		r := simulateGARCH(seed, 4000, omega, alpha, beta)
		g, err := FitGARCH(r)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d: omega %.3g alpha %.4f beta %.4f long-run %.3g (true 4e-4) loglik %.1f", seed, g.Omega, g.Alpha, g.Beta, g.LongRunVariance(), g.LogLikelihood)
		if math.Abs(g.Alpha-alpha) > 0.04 || math.Abs(g.Beta-beta) > 0.07 {
			t.Fatalf("seed %d: alpha %.4f beta %.4f, want %.2f %.2f", seed, g.Alpha, g.Beta, alpha, beta)
		}
		if lr := g.LongRunVariance(); math.Abs(lr/4e-4-1) > 0.25 {
			t.Fatalf("seed %d: long-run variance %.3g, want 4e-4", seed, lr)
		}
		// The fit is a maximum: the true parameters are no more likely.
		x := []float64{math.Log(omega / meanSquare(r)), logit(alpha + beta), logit(alpha / (alpha + beta))}
		if trueLL := -garchNLL(scaled(r), x, nil) - 0.5*float64(len(r))*(math.Log(2*math.Pi)+math.Log(meanSquare(r))); trueLL > g.LogLikelihood+1e-6 {
			t.Fatalf("seed %d: log-likelihood %.3f at the fit, %.3f at the truth", seed, g.LogLikelihood, trueLL)
		}
	}
}

func meanSquare(r []float64) float64 {
	s := 0.0
	for _, v := range r {
		s += v * v
	}
	return s / float64(len(r))
}

func scaled(r []float64) []float64 {
	s := math.Sqrt(meanSquare(r))
	out := make([]float64, len(r))
	for i, v := range r {
		out[i] = v / s
	}
	return out
}

// The analytic gradient the optimiser uses matches central differences of the likelihood.
func TestGARCHGradient(t *testing.T) {
	z := scaled(simulateGARCH(9, 500, 2e-5, 0.1, 0.85))
	for _, x := range [][]float64{{math.Log(0.05), logit(0.95), logit(0.05 / 0.95)}, {-1, 0.5, -0.3}, {-4, 3, 0}} {
		g := make([]float64, 3)
		garchNLL(z, x, g)
		for i := range x {
			h := 1e-6
			up := append([]float64(nil), x...)
			dn := append([]float64(nil), x...)
			up[i] += h
			dn[i] -= h
			fd := (garchNLL(z, up, nil) - garchNLL(z, dn, nil)) / (2 * h)
			if math.Abs(fd-g[i]) > 1e-5*(1+math.Abs(fd)) {
				t.Fatalf("x %v: d/dx%d = %g, difference %g", x, i, g[i], fd)
			}
		}
	}
}

// Forecasts by hand from a given state.
func TestGARCHForecast(t *testing.T) {
	g := GARCH{Omega: 1e-5, Alpha: 0.1, Beta: 0.8, LastVariance: 4e-4, LastReturn: -0.03}
	// sigma²_{T+1} = 1e-5 + 0.1·9e-4 + 0.8·4e-4 = 4.2e-4; V = 1e-4.
	f1, err := g.Forecast(1)
	if err != nil || math.Abs(f1-4.2e-4) > 1e-15 {
		t.Fatalf("one step: %v %v", f1, err)
	}
	// Three steps: V + 0.9²·(4.2e-4 - 1e-4) = 1e-4 + 0.81·3.2e-4.
	f3, err := g.Forecast(3)
	if err != nil || math.Abs(f3-(1e-4+0.81*3.2e-4)) > 1e-15 {
		t.Fatalf("three steps: %v %v", f3, err)
	}
	// The horizon variance is the sum of the step forecasts.
	sum := 0.0
	for k := 1; k <= 10; k++ {
		f, err := g.Forecast(k)
		if err != nil {
			t.Fatal(err)
		}
		sum += f
	}
	hv, err := g.HorizonVariance(10)
	if err != nil || math.Abs(hv-sum) > 1e-15 {
		t.Fatalf("10-step variance %v, sum %v, %v", hv, sum, err)
	}
	// Far ahead the forecast is the long-run variance.
	if f, _ := g.Forecast(1000); math.Abs(f-1e-4) > 1e-15 {
		t.Fatalf("far forecast %v", f)
	}
	for _, h := range []int{0, -1} {
		if _, err := g.Forecast(h); err == nil {
			t.Errorf("forecast %d steps accepted", h)
		}
		if _, err := g.HorizonVariance(h); err == nil {
			t.Errorf("horizon %d accepted", h)
		}
	}
	if _, err := (GARCH{Omega: 1e-5, Alpha: 0.5, Beta: 0.5}).Forecast(1); err == nil {
		t.Error("a unit-root model forecast")
	}
}

func TestGARCHRefusals(t *testing.T) {
	good := simulateGARCH(4, 300, 2e-5, 0.1, 0.85)
	cases := map[string]struct {
		r    []float64
		want string
	}{
		"too short":   {good[:MinGARCHReturns-1], "need at least"},
		"empty":       {nil, "need at least"},
		"NaN":         {append(append([]float64(nil), good[:150]...), math.NaN()), "return 150 is NaN"},
		"infinite":    {append([]float64{math.Inf(-1)}, good...), "return 0 is -Inf"},
		"all zero":    {make([]float64, 200), "second moment"},
		"overflowing": {append([]float64{1e300}, good...), "second moment"},
	}
	for name, c := range cases {
		if _, err := FitGARCH(c.r); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
}
