package riskmodel

import (
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/solvency-dev/solvency/treasury/derivatives"
)

var stressNow = time.Unix(1_767_225_600, 0)

func tokenUnits(whole int64, decimals uint8) *big.Int {
	return new(big.Int).Mul(big.NewInt(whole), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil))
}

// sampleBook is the demo's shape: ETH held and hedged with a short perp, a put spread as a
// tail hedge, and an ETH/USDC pool share.
func sampleBook() Book {
	exp := stressNow.Add(45 * 24 * time.Hour).Unix()
	return Book{
		Options: []derivatives.Option{
			{ID: "put-2600", Underlying: "ETH", Right: derivatives.Put, Strike: 2600e8, Expiry: exp, Size: tokenUnits(200, 18)},
			{ID: "put-2000", Underlying: "ETH", Right: derivatives.Put, Strike: 2000e8, Expiry: exp, Size: tokenUnits(-200, 18)},
		},
		Pools: []derivatives.PoolShare{{ID: "pool", AssetA: "ETH", AssetB: "USDC", AmountA: tokenUnits(100, 18), AmountB: tokenUnits(300_000, 6)}},
		Linear: map[string]*big.Int{
			"ETH":  tokenUnits(400, 18),
			"USDC": tokenUnits(2_000_000, 6),
		},
		Decimals: map[string]uint8{"ETH": 18, "USDC": 6},
		Prices:   map[string]float64{"ETH": 3000, "USDC": 1},
		Vols:     derivatives.FlatVol(0.7),
		Now:      stressNow,
		Rate:     0.02,
	}
}

// bookGreeks is the book's net Greeks per asset: the options' and pools' from
// derivatives.Aggregate plus the linear positions' deltas.
func bookGreeks(t *testing.T, b Book) map[string]derivatives.Greeks {
	t.Helper()
	net, err := derivatives.Aggregate(b.Options, b.Pools, b.Prices, b.Decimals, b.Vols, b.Now, b.Rate)
	if err != nil {
		t.Fatal(err)
	}
	for a, amt := range b.Linear {
		f, _ := new(big.Float).Quo(new(big.Float).SetInt(amt), new(big.Float).SetInt(tokenUnits(1, b.Decimals[a]))).Float64()
		net[a] = net[a].Add(derivatives.Greeks{Delta: f})
	}
	return net
}

// For small shocks, full revaluation agrees with the Greeks' Taylor expansion: the P&L is
// delta·dS + ½·gamma·dS² + vega·dsigma up to third-order terms.
func TestRevalueStressAgreesWithDeltaGammaForSmallShocks(t *testing.T) {
	b := sampleBook()
	net := bookGreeks(t, b)
	for _, eps := range []float64{0.002, -0.002, 0.0005} {
		for _, volMove := range []float64{0, 0.01} {
			s := StressScenario{Name: "small", PriceMove: map[string]float64{"ETH": eps}, VolMove: map[string]float64{"ETH": volMove}}
			pnl, err := RevalueStress(b, []StressScenario{s})
			if err != nil {
				t.Fatal(err)
			}
			g := net["ETH"]
			dS := 3000 * eps
			linear := g.Delta*dS + g.Vega*0.7*volMove
			quad := linear + 0.5*g.Gamma*dS*dS
			// The vega-delta cross term (vanna) is second order too; bound the remainder by the
			// size of the second-order terms rather than leave it out silently.
			second := math.Abs(0.5*g.Gamma*dS*dS) + math.Abs(g.Vega*0.7*volMove)
			if err := math.Abs(pnl[0] - quad); err > 0.02*second+1e-6 {
				t.Fatalf("eps %v vol %v: full %v, delta-gamma %v (linear %v), off by %v", eps, volMove, pnl[0], quad, linear, err)
			}
			if volMove == 0 && math.Abs(pnl[0]-quad) > 0.02*math.Abs(pnl[0]-linear) {
				t.Fatalf("eps %v: gamma does not explain the curvature: full %v, delta-gamma %v, linear %v", eps, pnl[0], quad, linear)
			}
		}
	}
}

// In a crash, with or without a volatility spike, the put spread gains, the pool loses more than its holdings
// would (impermanent loss), and the grid's P&L is exactly the sum of its parts' revaluations.
func TestRevalueStressCrash(t *testing.T) {
	b := sampleBook()
	grid := StressGrid([]string{"ETH"}, []float64{-0.3, 0.3}, []float64{0, 0.5})
	if len(grid) != 4 || grid[1].Name != "price -30% vol +50%" {
		t.Fatalf("grid %+v", grid)
	}
	pnl, err := RevalueStress(b, grid)
	if err != nil {
		t.Fatal(err)
	}
	only := func(mod func(*Book)) []float64 {
		c := sampleBook()
		c.Options, c.Pools, c.Linear = nil, nil, map[string]*big.Int{}
		mod(&c)
		p, err := RevalueStress(c, grid)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	opts := only(func(c *Book) { c.Options = sampleBook().Options })
	pool := only(func(c *Book) { c.Pools = sampleBook().Pools })
	lin := only(func(c *Book) { c.Linear = sampleBook().Linear })
	for i := range grid {
		if math.Abs(pnl[i]-(opts[i]+pool[i]+lin[i])) > 1e-6*math.Abs(pnl[i]) {
			t.Fatalf("%s: %v is not the sum of its parts", grid[i].Name, pnl[i])
		}
	}
	t.Logf("crash, vol flat: options %+.0f, pool %+.0f, linear %+.0f", opts[0], pool[0], lin[0])
	t.Logf("crash, vol +50%%: options %+.0f", opts[1])
	// At 2100 the short 2000 put is near the money and the long 2600 deep in it: the spread
	// gains, but is short vega there, so the volatility spike takes a little back.
	if !(opts[0] > 0 && opts[1] > 0 && opts[1] < opts[0]) {
		t.Fatalf("put spread in a crash: %v flat vol, %v with vol up", opts[0], opts[1])
	}
	// Holding the pool's 100 ETH and 300,000 USDC would lose 100·900 = 90,000 in the crash.
	if !(pool[0] < -90_000) || !(pool[2] < 90_000) {
		t.Fatalf("pool P&L %v down, %v up: no impermanent loss", pool[0], pool[2])
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-6*math.Abs(b) }
	if !near(lin[0], -0.3*3000*400) {
		t.Fatalf("linear P&L %v", lin[0])
	}
}

// The exact one-day 99% loss of the long put (its P&L is monotone in the price, so the VaR is
// the loss at the 99% price move) set beside the delta-gamma methods.
func TestRevalueStressBesideDeltaGammaVaR(t *testing.T) {
	b := Book{Options: []derivatives.Option{{ID: "p", Underlying: "ETH", Right: derivatives.Put, Strike: 2800e8,
		Expiry: stressNow.Add(30 * 24 * time.Hour).Unix(), Size: tokenUnits(10, 18)}},
		Decimals: map[string]uint8{"ETH": 18}, Prices: map[string]float64{"ETH": 3000}, Vols: derivatives.FlatVol(0.8), Now: stressNow}
	sd := 0.8 / math.Sqrt(365)
	z := NormalQuantile(0.99)
	pnl, err := RevalueStress(b, []StressScenario{{Name: "99%", PriceMove: map[string]float64{"ETH": z * sd}}})
	if err != nil {
		t.Fatal(err)
	}
	net := bookGreeks(t, b)["ETH"]
	dg, _ := NewDeltaGamma([]float64{3000}, []float64{net.Delta}, []float64{net.Gamma})
	cov := mat.NewSymDense(1, []float64{sd * sd})
	cf, err := DeltaGammaVaR(cov, dg, 0.99, 1, CornishFisher)
	if err != nil {
		t.Fatal(err)
	}
	normal, _ := Parametric(cov, []*big.Int{ceilUSD(math.Abs(dg.Delta[0]))}, 0.99, 1)
	t.Logf("long put, one day 99%%: full revaluation %.2f, Cornish-Fisher %s, delta-normal %s", -pnl[0], usdString(cf.VaR), usdString(normal.VaR))
	// Long gamma: the true loss is below the delta-normal figure, as Cornish-Fisher says.
	if !(-pnl[0] < usdFloat(normal.VaR)) {
		t.Fatalf("full revaluation loss %v not below delta-normal %v", -pnl[0], usdFloat(normal.VaR))
	}
}

func TestRevalueStressRefusals(t *testing.T) {
	for name, c := range map[string]struct {
		mod  func(*Book)
		s    StressScenario
		want string
	}{
		"price -100%":       {func(*Book) {}, StressScenario{Name: "x", PriceMove: map[string]float64{"ETH": -1}}, "not above -100%"},
		"vol -100%":         {func(*Book) {}, StressScenario{Name: "x", VolMove: map[string]float64{"ETH": -1}}, "not above -100%"},
		"NaN move":          {func(*Book) {}, StressScenario{Name: "x", PriceMove: map[string]float64{"ETH": math.NaN()}}, "not above"},
		"unpriced asset":    {func(*Book) {}, StressScenario{Name: "x", PriceMove: map[string]float64{"BTC": -0.1}}, "BTC, which has no price"},
		"no decimals":       {func(b *Book) { delete(b.Decimals, "USDC") }, StressScenario{Name: "x"}, "no decimals for USDC"},
		"zero price":        {func(b *Book) { b.Prices["ETH"] = 0 }, StressScenario{Name: "x"}, "price of ETH"},
		"no vol source":     {func(b *Book) { b.Vols = nil }, StressScenario{Name: "x"}, "no volatility source"},
		"nil linear amount": {func(b *Book) { b.Linear["ETH"] = nil }, StressScenario{Name: "x"}, "no amount"},
	} {
		b := sampleBook()
		c.mod(&b)
		if _, err := RevalueStress(b, []StressScenario{c.s}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
}
