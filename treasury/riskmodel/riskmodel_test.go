package riskmodel

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func usd(d int64) *big.Int { return new(big.Int).Mul(big.NewInt(d), big.NewInt(1e8)) }

func usdFloat(b *big.Int) float64 {
	f, _ := new(big.Float).SetInt(b).Float64()
	return f / 1e8
}

func TestEWMAByHand(t *testing.T) {
	r := [][]float64{{0.01, 0.02}, {-0.02, 0.01}}
	cov, err := EWMACovariance(r, 0.94)
	if err != nil {
		t.Fatal(err)
	}
	// Weights: newest (1-λ)/(1-λ²) = 0.06/0.1164, older λ times that.
	w1 := 0.06 / 0.1164
	w0 := 0.94 * w1
	want := [2][2]float64{
		{w1*0.0004 + w0*0.0001, w1*(-0.0002) + w0*0.0002},
		{0, w1*0.0001 + w0*0.0004},
	}
	want[1][0] = want[0][1]
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			if math.Abs(cov.At(i, j)-want[i][j]) > 1e-15 {
				t.Fatalf("cov(%d,%d) = %g, want %g", i, j, cov.At(i, j), want[i][j])
			}
		}
	}
	if _, err := EWMACovariance(r, 1); err == nil {
		t.Fatal("lambda 1 accepted")
	}
}

func TestParametricClosedForm(t *testing.T) {
	// One asset, daily sigma 2%, $1,000,000: VaR99 = z·20000 with z = 2.3263478740408408,
	// ES99 = φ(z)/0.01 · 20000 with φ(z) = 0.026652142203458 (values from tables).
	cov := mat.NewSymDense(1, []float64{0.0004})
	tail, err := Parametric(cov, []*big.Int{usd(1_000_000)}, 0.99, 1)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(usdFloat(tail.VaR)-2.3263478740408408*20000) > 1e-4 {
		t.Fatalf("VaR %v", usdFloat(tail.VaR))
	}
	if math.Abs(usdFloat(tail.ES)-0.026652142203458/0.01*20000) > 1e-2 {
		t.Fatalf("ES %v", usdFloat(tail.ES))
	}
	// Two assets: σ_p² = xᵀΣx by hand; horizon 10 days scales by sqrt(10).
	cov2 := mat.NewSymDense(2, []float64{0.0016, 0.0006, 0.0006, 0.0009})
	x := []*big.Int{usd(600), usd(-400)}
	sp := math.Sqrt(10 * (600*600*0.0016 + 2*600*(-400)*0.0006 + 400*400*0.0009))
	tail, err = Parametric(cov2, x, 0.95, 10)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(usdFloat(tail.VaR)-1.6448536269514722*sp) > 1e-6 {
		t.Fatalf("two-asset VaR %v want %v", usdFloat(tail.VaR), 1.6448536269514722*sp)
	}
}

func TestScaledCholeskyNeverUnderstates(t *testing.T) {
	// ETH, stETH (almost the same asset), USDC, DAI (almost the same asset): nearly singular.
	vol := []float64{0.04, 0.041, 0.0005, 0.0006}
	corr := [][]float64{{1, 0.995, 0, 0}, {0.995, 1, 0, 0}, {0, 0, 1, 0.99}, {0, 0, 0.99, 1}}
	cov := mat.NewSymDense(4, nil)
	for i := 0; i < 4; i++ {
		for j := 0; j <= i; j++ {
			cov.SetSym(i, j, corr[i][j]*vol[i]*vol[j])
		}
	}
	// Scale 1e9: stablecoin entries (~5e-4) keep about six significant digits.
	f, err := ScaledCholesky(cov, 1_000_000_000)
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.L {
		for j := i + 1; j < len(f.L); j++ {
			if f.L[i][j] != 0 {
				t.Fatal("factor is not lower triangular")
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 2000; trial++ {
		x := make([]*big.Int, 4)
		xf := make([]float64, 4)
		for i := range x {
			v := int64(rng.NormFloat64() * 1e6)
			if trial%3 == 0 && i%2 == 1 {
				v = -x[i-1].Int64() // hedged pairs, where rounding matters most
			}
			x[i], xf[i] = big.NewInt(v), float64(v)
		}
		q, err := f.Quadratic(x)
		if err != nil {
			t.Fatal(err)
		}
		qf, _ := new(big.Float).SetInt(q).Float64()
		want := Quadratic(cov, xf) * 1e18
		if qf < want*(1-1e-12) {
			t.Fatalf("trial %d: integer quadratic %g understates %g", trial, qf, want)
		}
		if want > 1e6 && qf > want*1.05 {
			t.Fatalf("trial %d: integer quadratic %g overstates %g by more than 5%%", trial, qf, want)
		}
	}
	if _, err := ScaledCholesky(mat.NewSymDense(2, []float64{1, 2, 2, 1}), 1000); err != nil {
		t.Logf("indefinite matrix refused: %v", err)
	} else {
		t.Fatal("an indefinite covariance was factored")
	}
}
