package rebalance

import (
	"math"
	"math/big"
	"testing"

	"gonum.org/v1/gonum/optimize"

	"github.com/solvency-dev/solvency/treasury/venues"
)

func usdc(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e6)) }

func testPools() []*lendPool {
	mk := func(id string, supply, borrows int64, m venues.RateModel) *lendPool {
		return &lendPool{id: id, asset: "USDC", dec: 6, price: 1e8, held: new(big.Int),
			pool: &venues.LendingPool{Asset: "USDC", Supply: usdc(supply), Borrows: usdc(borrows), Model: m}}
	}
	return []*lendPool{
		mk("a", 100_000_000, 85_000_000, venues.RateModel{Slope1Bps: 400, Slope2Bps: 6000, KinkBps: 9000, ReserveFactorBps: 1000}),
		mk("b", 40_000_000, 34_000_000, venues.RateModel{Slope1Bps: 500, Slope2Bps: 10000, KinkBps: 8000, ReserveFactorBps: 1500}),
		mk("c", 20_000_000, 12_000_000, venues.RateModel{Slope1Bps: 600, Slope2Bps: 7500, KinkBps: 8000, ReserveFactorBps: 1000}),
	}
}

// incomeF is the book's annual interest in USD for an allocation in dollars, as a float, for
// the independent optimiser.
func incomeF(pools []*lendPool, dollars []float64) float64 {
	s := 0.0
	for i, lp := range pools {
		a := usdc(int64(math.Max(dollars[i], 0)))
		r, _ := new(big.Float).SetInt(lp.rateWith(a)).Float64()
		s += math.Max(dollars[i], 0) * r / 1e18
	}
	return s
}

// The water-fill allocation earns at least what gonum's Nelder-Mead finds over the simplex,
// and its marginal rates are equal across the pools it uses.
func TestWaterFillMaximisesIncome(t *testing.T) {
	pools := testPools()
	const total = 30_000_000
	alloc, err := waterFill(pools, new(big.Int).Mul(big.NewInt(total), big.NewInt(1e8)))
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float64, len(pools))
	sum := 0.0
	for i, a := range alloc {
		f, _ := new(big.Float).SetInt(a).Float64()
		got[i] = f / 1e6
		sum += got[i]
	}
	if math.Abs(sum-total) > 10 {
		t.Fatalf("allocated %g of %d", sum, total)
	}
	var ms []float64
	for i, lp := range pools {
		if alloc[i].Sign() > 0 {
			m, _ := new(big.Float).SetInt(lp.marginal(alloc[i])).Float64()
			ms = append(ms, m/1e18)
		}
	}
	for _, m := range ms[1:] {
		if math.Abs(m-ms[0]) > 2e-4 {
			t.Fatalf("marginal rates not equal: %v", ms)
		}
	}
	// Independent optimum: softmax weights over the simplex, maximise income.
	obj := func(w []float64) float64 {
		ex := []float64{1, math.Exp(w[0]), math.Exp(w[1])}
		z := ex[0] + ex[1] + ex[2]
		return -incomeF(pools, []float64{total * ex[0] / z, total * ex[1] / z, total * ex[2] / z})
	}
	res, err := optimize.Minimize(optimize.Problem{Func: obj}, []float64{0, 0}, nil, &optimize.NelderMead{})
	if err != nil {
		t.Fatal(err)
	}
	best := -res.F
	mine := incomeF(pools, got)
	t.Logf("water-fill %v income %.0f; Nelder-Mead income %.0f", got, mine, best)
	if mine < best-best*1e-5 {
		t.Fatalf("water-fill income %.2f below the optimiser's %.2f", mine, best)
	}
	// Equal split is worse (sanity of the test itself).
	if eq := incomeF(pools, []float64{total / 3, total / 3, total / 3}); eq > mine {
		t.Fatalf("equal split %.0f beats water-fill %.0f", eq, mine)
	}
}
