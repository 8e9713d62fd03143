package derivatives

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Fatalf("%s = %.10g, want %.10g (tolerance %g)", what, got, want, tol)
	}
}

// Hull, Options, Futures, and Other Derivatives, the futures-option example of Black's model:
// a European put on a futures, F = K = 20, r = 9%, T = 4 months, sigma = 25%.
//
//	d1 = (ln(F/K) + sigma²T/2) / (sigma√T) = (0 + 0.0625/6) / 0.1443376 = 0.0721688
//	d2 = d1 - sigma√T = -0.0721688
//	N(-d2) = 0.5287662, N(-d1) = 0.4712338, e^{-rT} = e^{-0.03} = 0.9704455
//	P = 0.9704455 · 20 · (0.5287662 - 0.4712338) = 1.116641   (Hull rounds to $1.12)
func TestBlack76HullFuturesPut(t *testing.T) {
	p, _, err := Black76(Put, 20, 20, 4.0/12, 0.25, 0.09)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "put", p, 1.1166415, 1e-6)
	// At the money the call and put on a futures are worth the same (parity with F = K).
	c, _, err := Black76(Call, 20, 20, 4.0/12, 0.25, 0.09)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "call", c, p, 1e-12)
}

// Hull's Black-Scholes example: S = 42, K = 40, r = 10%, sigma = 20%, T = 0.5; Black-76 on the
// forward F = S·e^{rT} = 44.153386 is the same model.
//
//	d1 = (ln(44.153386/40) + 0.02·0.5) / (0.2·√0.5) = 0.7692626
//	d2 = d1 - 0.1414214 = 0.6278413
//	N(d1) = 0.7791313, N(d2) = 0.7349460, e^{-rT} = 0.9512294
//	C = 0.9512294·(44.153386·0.7791313 - 40·0.7349460) = 4.759422   (Hull: 4.76)
//	P = 0.9512294·(40·0.2650540 - 44.153386·0.2208687) = 0.808599   (Hull: 0.81)
func TestBlack76HullStockOption(t *testing.T) {
	F := 42 * math.Exp(0.1*0.5)
	c, g, err := Black76(Call, F, 40, 0.5, 0.2, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "call", c, 4.759422, 1e-6)
	// Delta with respect to F is e^{-rT}·N(d1).
	near(t, "call delta", g.Delta, 0.9512294*0.7791313, 1e-6)
	p, _, err := Black76(Put, F, 40, 0.5, 0.2, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "put", p, 0.808599, 1e-6)
}

// Put-call parity for options on a forward: C - P = e^{-rT}(F - K), on random inputs.
func TestBlack76PutCallParity(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 1))
	for i := 0; i < 2000; i++ {
		F := math.Exp(rng.Float64()*12 - 4) // 0.02 .. 3000
		K := F * math.Exp(rng.NormFloat64()*0.5)
		T := rng.Float64() * 3
		sigma := 0.05 + rng.Float64()*2
		r := rng.Float64()*0.2 - 0.05
		c, gc, err := Black76(Call, F, K, T, sigma, r)
		if err != nil {
			t.Fatal(err)
		}
		p, gp, err := Black76(Put, F, K, T, sigma, r)
		if err != nil {
			t.Fatal(err)
		}
		df := math.Exp(-r * T)
		near(t, "C-P", c-p, df*(F-K), 1e-9*(F+K))
		// The Greeks of C - P are those of the forward: delta df, no gamma or vega.
		near(t, "delta(C)-delta(P)", gc.Delta-gp.Delta, df, 1e-12)
		near(t, "gamma(C)-gamma(P)", gc.Gamma-gp.Gamma, 0, 1e-12*gc.Gamma+1e-300)
		near(t, "vega(C)-vega(P)", gc.Vega-gp.Vega, 0, 1e-12*(1+gc.Vega))
		if c < 0 || p < 0 {
			t.Fatalf("negative price C=%g P=%g", c, p)
		}
	}
}

// Every Greek matches a central finite difference of the price.
func TestBlack76GreeksFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 2))
	for i := 0; i < 300; i++ {
		F := 100 + rng.Float64()*4000
		K := F * math.Exp(rng.NormFloat64()*0.3)
		T := 0.02 + rng.Float64()*2
		sigma := 0.1 + rng.Float64()*1.2
		r := rng.Float64() * 0.08
		for _, right := range []Right{Call, Put} {
			v, g, err := Black76(right, F, K, T, sigma, r)
			if err != nil {
				t.Fatal(err)
			}
			price := func(F, T, sigma float64) float64 {
				p, _, err := Black76(right, F, K, T, sigma, r)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			hF := F * 1e-4
			up, down := price(F+hF, T, sigma), price(F-hF, T, sigma)
			near(t, "delta", g.Delta, (up-down)/(2*hF), 1e-6)
			near(t, "gamma", g.Gamma, (up-2*v+down)/(hF*hF), 1e-4*g.Gamma+1e-8)
			hs := 1e-5
			near(t, "vega", g.Vega, (price(F, T, sigma+hs)-price(F, T, sigma-hs))/(2*hs), 1e-5*(1+g.Vega))
			hT := 1e-6
			// Theta is per calendar year: minus the derivative in time to expiry.
			near(t, "theta", g.Theta, -(price(F, T+hT, sigma)-price(F, T-hT, sigma))/(2*hT), 1e-4*(1+math.Abs(g.Theta)))
		}
	}
}

// At or past expiry an option is its intrinsic value, whatever the volatility.
func TestBlack76ExpiredIsIntrinsic(t *testing.T) {
	cases := []struct {
		right      Right
		F, K, T    float64
		want, delt float64
	}{
		{Call, 120, 100, 0, 20, 1},
		{Call, 80, 100, 0, 0, 0},
		{Put, 80, 100, -1, 20, -1},
		{Put, 120, 100, 0, 0, 0},
		{Call, 100, 100, 0, 0, 0},
	}
	for _, c := range cases {
		for _, sigma := range []float64{0.5, 0, math.NaN()} {
			v, g, err := Black76(c.right, c.F, c.K, c.T, sigma, 0.05)
			if err != nil {
				t.Fatalf("%+v sigma %v: %v", c, sigma, err)
			}
			if v != c.want || g != (Greeks{Delta: c.delt}) {
				t.Fatalf("%+v sigma %v: got %v %+v", c, sigma, v, g)
			}
		}
	}
}

func TestBlack76RefusesBadInputs(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		name              string
		right             Right
		F, K, T, sigma, r float64
	}{
		{"bad right", "straddle", 100, 100, 1, 0.5, 0},
		{"NaN forward", Call, nan, 100, 1, 0.5, 0},
		{"zero forward", Call, 0, 100, 1, 0.5, 0},
		{"infinite forward", Put, inf, 100, 1, 0.5, 0},
		{"zero strike", Call, 100, 0, 1, 0.5, 0},
		{"negative strike", Put, 100, -5, 1, 0.5, 0},
		{"NaN strike", Put, 100, nan, 1, 0.5, 0},
		{"NaN time", Call, 100, 100, nan, 0.5, 0},
		{"zero sigma", Call, 100, 100, 1, 0, 0},
		{"negative sigma", Put, 100, 100, 1, -0.2, 0},
		{"NaN sigma", Put, 100, 100, 1, nan, 0},
		{"infinite sigma", Put, 100, 100, 1, inf, 0},
		{"NaN rate", Call, 100, 100, 1, 0.5, nan},
	}
	for _, c := range cases {
		if _, _, err := Black76(c.right, c.F, c.K, c.T, c.sigma, c.r); !errors.Is(err, ErrInput) {
			t.Errorf("%s: err = %v, want ErrInput", c.name, err)
		}
	}
}

// A pool share is worth at most its reserves at market (AM-GM), with equality exactly when the
// pool's own price y/x·(pb) matches pa, i.e. when x·pa == y·pb.
func TestPoolValueAMGM(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 3))
	for i := 0; i < 2000; i++ {
		x := math.Exp(rng.Float64()*10 - 2)
		y := math.Exp(rng.Float64()*14 - 2)
		pa := math.Exp(rng.Float64()*10 - 3)
		pb := math.Exp(rng.Float64()*4 - 2)
		v, _, err := PoolValue(x, y, pa, pb)
		if err != nil {
			t.Fatal(err)
		}
		if hold := x*pa + y*pb; v > hold*(1+1e-12) {
			t.Fatalf("pool value %g above the held reserves %g", v, hold)
		}
		// Balanced at these prices: y = x·pa/pb.
		yb := x * pa / pb
		vb, _, err := PoolValue(x, yb, pa, pb)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "balanced pool", vb, x*pa+yb*pb, 1e-12*vb)
	}
	if v, g, err := PoolValue(0, 5, 10, 1); err != nil || v != 0 || g != (Greeks{}) {
		t.Fatalf("empty side: %v %+v %v", v, g, err)
	}
}

func TestPoolValueGreeksFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 4))
	for i := 0; i < 300; i++ {
		x := 1 + rng.Float64()*100
		y := 1000 + rng.Float64()*300000
		pa := 500 + rng.Float64()*4000
		pb := 0.9 + rng.Float64()*0.2
		v, g, err := PoolValue(x, y, pa, pb)
		if err != nil {
			t.Fatal(err)
		}
		val := func(pa float64) float64 {
			w, _, err := PoolValue(x, y, pa, pb)
			if err != nil {
				t.Fatal(err)
			}
			return w
		}
		h := pa * 1e-4
		up, down := val(pa+h), val(pa-h)
		near(t, "pool delta", g.Delta, (up-down)/(2*h), 1e-7*(1+g.Delta))
		near(t, "pool gamma", g.Gamma, (up-2*v+down)/(h*h), 1e-4*math.Abs(g.Gamma)+1e-9)
		if g.Gamma >= 0 {
			t.Fatalf("pool gamma %g: a liquidity position is short gamma", g.Gamma)
		}
		if g.Vega != 0 || g.Theta != 0 {
			t.Fatalf("pool has vega or theta: %+v", g)
		}
	}
}

func TestPoolValueRefusesBadInputs(t *testing.T) {
	nan := math.NaN()
	for _, c := range [][4]float64{
		{-1, 1, 1, 1}, {1, -1, 1, 1}, {1, 1, 0, 1}, {1, 1, 1, -1},
		{nan, 1, 1, 1}, {1, 1, nan, 1}, {1e300, 1e300, 1e300, 1}, {1, 1, math.Inf(1), 1},
	} {
		if _, _, err := PoolValue(c[0], c[1], c[2], c[3]); !errors.Is(err, ErrInput) {
			t.Errorf("PoolValue%v: err = %v, want ErrInput", c, err)
		}
	}
}
