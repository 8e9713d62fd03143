package derivatives

import (
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"
)

// units returns whole tokens in an asset's units: units(2.5, 18) = 2.5e18.
func units(whole float64, decimals uint8) *big.Int {
	f := new(big.Float).SetFloat64(whole)
	f.Mul(f, new(big.Float).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)))
	i, _ := f.Int(nil)
	return i
}

func ethOption(right Right, strike float64, days int64, size float64) Option {
	return Option{ID: "o1", Venue: "deribit", Underlying: "ETH", Right: right,
		Strike: uint64(strike * 1e8), Expiry: t0 + days*day, Size: units(size, 18)}
}

// failingVol is a source that must not be asked.
type failingVol struct{ t *testing.T }

func (f failingVol) ImpliedVol(string, time.Time, float64, time.Time) (float64, error) {
	f.t.Error("volatility source asked for an expired option")
	return 0, errors.New("asked")
}

// A position is its size in whole tokens times the per-token Black-76 figures; a short one is
// the negative of the long.
func TestValueOptionScalesBySize(t *testing.T) {
	now := time.Unix(t0, 0)
	o := ethOption(Put, 2500, 73, 2.5) // 73 days = 0.2 year
	v, g, err := ValueOption(o, 3000, 18, FlatVol(0.8), now, 0)
	if err != nil {
		t.Fatal(err)
	}
	v1, g1, err := Black76(Put, 3000, 2500, 0.2, 0.8, 0)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "value", v, 2.5*v1, 1e-9)
	if g != g1.Scale(2.5) {
		t.Fatalf("greeks %+v, want %+v", g, g1.Scale(2.5))
	}
	o.Size.Neg(o.Size)
	vs, gs, err := ValueOption(o, 3000, 18, FlatVol(0.8), now, 0)
	if err != nil {
		t.Fatal(err)
	}
	if vs != -v || gs != g.Scale(-1) {
		t.Fatalf("short %v %+v, want %v %+v", vs, gs, -v, g.Scale(-1))
	}
	if gs.Gamma >= 0 || gs.Vega >= 0 || gs.Theta <= 0 {
		t.Fatalf("short put has gamma %v, vega %v, theta %v", gs.Gamma, gs.Vega, gs.Theta)
	}
	// A 6-decimal underlying: 2.5 tokens are 2,500,000 units.
	o6 := ethOption(Put, 2500, 73, 0)
	o6.Size = big.NewInt(2_500_000)
	v6, _, err := ValueOption(o6, 3000, 6, FlatVol(0.8), now, 0)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "6-decimal value", v6, v, 1e-9)
}

// With a rate, the Greeks are with respect to spot (the forward moves as spot·e^{rT}) and theta
// is at fixed spot: each matches a central difference of ValueOption itself.
func TestValueOptionGreeksAgainstSpotDifferences(t *testing.T) {
	now := time.Unix(t0, 0)
	for _, right := range []Right{Call, Put} {
		for _, r := range []float64{0, 0.05} {
			o := ethOption(right, 2800, 120, -3)
			val := func(spot, sigma float64, at time.Time) float64 {
				v, _, err := ValueOption(o, spot, 18, FlatVol(sigma), at, r)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			v, g, err := ValueOption(o, 3000, 18, FlatVol(0.7), now, r)
			if err != nil {
				t.Fatal(err)
			}
			h := 0.3
			up, down := val(3000+h, 0.7, now), val(3000-h, 0.7, now)
			near(t, "delta", g.Delta, (up-down)/(2*h), 1e-6)
			near(t, "gamma", g.Gamma, (up-2*v+down)/(h*h), 1e-4*math.Abs(g.Gamma))
			near(t, "vega", g.Vega, (val(3000, 0.7+1e-5, now)-val(3000, 0.7-1e-5, now))/2e-5, 1e-5*math.Abs(g.Vega))
			// Theta per year from a one-hour step either side.
			dt := time.Hour
			years := 2 * dt.Seconds() / SecondsPerYear
			near(t, "theta", g.Theta, (val(3000, 0.7, now.Add(dt))-val(3000, 0.7, now.Add(-dt)))/years, 1e-4*math.Abs(g.Theta))
		}
	}
}

// An expired option is its intrinsic value times its size, with no volatility asked for.
func TestValueOptionExpiredIsIntrinsic(t *testing.T) {
	o := ethOption(Put, 2500, 10, 4)
	at := time.Unix(o.Expiry, 0)
	for _, now := range []time.Time{at, at.Add(time.Hour)} {
		v, g, err := ValueOption(o, 2000, 18, failingVol{t}, now, 0.05)
		if err != nil {
			t.Fatal(err)
		}
		if v != 4*500 || g != (Greeks{Delta: -4}) {
			t.Fatalf("expired put: %v %+v", v, g)
		}
	}
}

func TestValueOptionRefusals(t *testing.T) {
	now := time.Unix(t0, 0)
	good := ethOption(Call, 3000, 30, 1)
	cases := map[string]struct {
		mod      func(o *Option)
		spot, r  float64
		vols     VolSource
		decimals uint8
		wantErr  error
	}{
		"no size":          {func(o *Option) { o.Size = nil }, 3000, 0, FlatVol(0.5), 18, nil},
		"zero strike":      {func(o *Option) { o.Strike = 0 }, 3000, 0, FlatVol(0.5), 18, ErrInput},
		"bad right":        {func(o *Option) { o.Right = "digital" }, 3000, 0, FlatVol(0.5), 18, ErrInput},
		"zero spot":        {func(*Option) {}, 0, 0, FlatVol(0.5), 18, ErrInput},
		"NaN spot":         {func(*Option) {}, math.NaN(), 0, FlatVol(0.5), 18, ErrInput},
		"NaN rate":         {func(*Option) {}, 3000, math.NaN(), FlatVol(0.5), 18, ErrInput},
		"infinite rate":    {func(*Option) {}, 3000, math.Inf(1), FlatVol(0.5), 18, ErrInput},
		"no vol source":    {func(*Option) {}, 3000, 0, nil, 18, nil},
		"vol source fails": {func(*Option) {}, 3000, 0, FlatVol(0), 18, ErrInput},
		"decimals":         {func(*Option) {}, 3000, 0, FlatVol(0.5), 37, nil},
		"huge size":        {func(o *Option) { o.Size = new(big.Int).Lsh(big.NewInt(1), 1100) }, 3000, 0, FlatVol(0.5), 0, nil},
	}
	for name, c := range cases {
		o := good
		o.Size = new(big.Int).Set(good.Size)
		c.mod(&o)
		_, _, err := ValueOption(o, c.spot, c.decimals, c.vols, now, c.r)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if c.wantErr != nil && !errors.Is(err, c.wantErr) {
			t.Errorf("%s: err = %v, want %v", name, err, c.wantErr)
		}
		if !strings.Contains(err.Error(), "option o1") {
			t.Errorf("%s: error %q does not name the option", name, err)
		}
	}
}

func ethPool(eth, usdc float64) PoolShare {
	return PoolShare{ID: "p1", Venue: "uniswap", AssetA: "ETH", AssetB: "USDC",
		AmountA: units(eth, 18), AmountB: units(usdc, 6)}
}

func TestValuePool(t *testing.T) {
	p := ethPool(10, 30000)
	v, ga, gb, err := ValuePool(p, 3000, 1, 18, 6)
	if err != nil {
		t.Fatal(err)
	}
	// Balanced at 3000 (10 ETH · 3000 = 30000 USDC · 1): worth the reserves, delta the ETH held.
	near(t, "value", v, 60000, 1e-9)
	near(t, "ETH delta", ga.Delta, 10, 1e-12)
	near(t, "USDC delta", gb.Delta, 30000, 1e-9)
	near(t, "ETH gamma", ga.Gamma, -0.5*10/3000, 1e-15)
	// The B side's Greeks against a difference in pb.
	val := func(pb float64) float64 {
		w, _, _, err := ValuePool(p, 3000, pb, 18, 6)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	h := 1e-4
	near(t, "USDC delta by difference", gb.Delta, (val(1+h)-val(1-h))/(2*h), 1e-4)
	near(t, "USDC gamma by difference", gb.Gamma, (val(1+h)-2*v+val(1-h))/(h*h), 2e-2*math.Abs(gb.Gamma))

	bad := ethPool(10, 30000)
	bad.AmountA = big.NewInt(-1)
	if _, _, _, err := ValuePool(bad, 3000, 1, 18, 6); !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "p1") {
		t.Fatalf("negative reserve: %v", err)
	}
	same := ethPool(10, 30000)
	same.AssetB = "ETH"
	if _, _, _, err := ValuePool(same, 3000, 3000, 18, 18); !errors.Is(err, ErrInput) {
		t.Fatalf("pool of one asset: %v", err)
	}
	if _, _, _, err := ValuePool(p, 0, 1, 18, 6); !errors.Is(err, ErrInput) {
		t.Fatalf("zero price: %v", err)
	}
}

// Aggregate is the sum of the positions' Greeks, per underlying, a pool share counting on both
// of its assets.
func TestAggregate(t *testing.T) {
	now := time.Unix(t0, 0)
	vols := FlatVol(0.75)
	longPut := ethOption(Put, 2800, 60, 20)
	shortPut := ethOption(Put, 2200, 60, -20)
	shortPut.ID = "o2"
	btcCall := Option{ID: "o3", Underlying: "BTC", Right: Call, Strike: 100_000e8, Expiry: t0 + 30*day, Size: units(0.5, 8)}
	pool := ethPool(10, 30000)
	spot := map[string]float64{"ETH": 3000, "BTC": 95000, "USDC": 1}
	dec := map[string]uint8{"ETH": 18, "BTC": 8, "USDC": 6}
	net, err := Aggregate([]Option{longPut, shortPut, btcCall}, []PoolShare{pool}, spot, dec, vols, now, 0.03)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Greeks{}
	for _, o := range []Option{longPut, shortPut, btcCall} {
		_, g, err := ValueOption(o, spot[o.Underlying], dec[o.Underlying], vols, now, 0.03)
		if err != nil {
			t.Fatal(err)
		}
		want[o.Underlying] = want[o.Underlying].Add(g)
	}
	_, ga, gb, err := ValuePool(pool, 3000, 1, 18, 6)
	if err != nil {
		t.Fatal(err)
	}
	want["ETH"] = want["ETH"].Add(ga)
	want["USDC"] = want["USDC"].Add(gb)
	if len(net) != 3 {
		t.Fatalf("underlyings %v", SortedUnderlyings(net))
	}
	for u, w := range want {
		if net[u] != w {
			t.Fatalf("%s: %+v, want %+v", u, net[u], w)
		}
	}
	// The put spread is net short delta but the pool's ETH makes the ETH book long.
	if net["ETH"].Delta <= 0 || net["BTC"].Delta <= 0 {
		t.Fatalf("net deltas %+v", net)
	}
	if got := SortedUnderlyings(net); strings.Join(got, ",") != "BTC,ETH,USDC" {
		t.Fatalf("sorted %v", got)
	}

	for name, c := range map[string]struct {
		spot map[string]float64
		dec  map[string]uint8
		want string
	}{
		"no BTC price":     {map[string]float64{"ETH": 3000, "USDC": 1}, dec, "option o3: no price for BTC"},
		"no USDC decimals": {spot, map[string]uint8{"ETH": 18, "BTC": 8}, "pool share p1: no decimals for USDC"},
	} {
		if _, err := Aggregate([]Option{longPut, shortPut, btcCall}, []PoolShare{pool}, c.spot, c.dec, vols, now, 0); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := Aggregate([]Option{longPut}, nil, spot, dec, FlatVol(-1), now, 0); !errors.Is(err, ErrInput) {
		t.Errorf("a failing volatility source: %v", err)
	}
}

func TestCashGammaAndVegaPerPoint(t *testing.T) {
	g := Greeks{Gamma: -0.002, Vega: 1234}
	// -0.002 tokens per USD at 3000: a 1% move (30 USD) changes delta by -0.06 tokens, that is
	// -0.06·3000 = -180 USD of dollar delta.
	near(t, "cash gamma", CashGamma(g, 3000), -180, 1e-12)
	near(t, "vega per point", VegaPerPoint(g), 12.34, 1e-12)
}
