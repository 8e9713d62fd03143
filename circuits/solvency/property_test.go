package solvency

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// randomWitness draws a random treasury and policy at the test shape. maxPositions leaves room
// for the offsetting pair of the S3 test.
func randomWitness(rng *rand.Rand, maxPositions int) *Witness {
	h := poseidon.NewHasher()
	tb := testTable()
	A := tb.Len()
	chance := func(p float64) bool { return rng.Float64() < p }
	p := &Policy{
		ChainID:          1 + rng.Uint64N(1<<40),
		Registry:         [20]byte{byte(rng.IntN(256)), 1, 2},
		AssetsHash:       tb.Hash(h),
		MinCollateralBps: uint32(BpsOne + rng.IntN(8000)),
		Assets:           make([]AssetRule, A),
		Venues:           make([]Venue, testShape.Venues),
		GroupCaps:        make([]Cap, testShape.Groups),
		Targets:          make([]Target, testShape.Buckets),
		Scenarios:        make([]Scenario, testShape.Scenarios),
		Liquidity:        Liquidity{LiquidTiers: make([]bool, testShape.Tiers)},
	}
	for a := range p.Assets {
		r := AssetRule{HaircutBps: uint32(rng.IntN(5001)), InKind: chance(0.15), Liquid: chance(0.5)}
		if chance(0.3) {
			r.Cap = Cap{true, uint32(4000 + rng.IntN(6001))}
		}
		p.Assets[a] = r
	}
	for v := range p.Venues {
		p.Venues[v] = Venue{Group: rng.IntN(testShape.Groups), Tier: rng.IntN(testShape.Tiers)}
	}
	for g := range p.GroupCaps {
		if chance(0.3) {
			p.GroupCaps[g] = Cap{true, uint32(5000 + rng.IntN(5001))}
		}
	}
	for k := range p.Targets {
		t := Target{Assets: make([]bool, A)}
		if chance(0.3) {
			t.Enabled, t.WeightBps, t.BandBps = true, uint32(rng.IntN(10001)), uint32(3000+rng.IntN(7001))
			t.Assets[rng.IntN(A)] = true
			for a := range t.Assets {
				t.Assets[a] = t.Assets[a] || chance(0.3)
			}
		}
		p.Targets[k] = t
	}
	for i := range p.Liquidity.LiquidTiers {
		p.Liquidity.LiquidTiers[i] = chance(0.6)
	}
	if chance(0.4) {
		p.Liquidity.Enabled, p.Liquidity.FloorBps = true, uint32(rng.IntN(5001))
	}
	for s := range p.Scenarios {
		sc := Scenario{ShockBps: make([]int32, A)}
		if chance(0.5) {
			sc.Enabled = true
			for a := range sc.ShockBps {
				sc.ShockBps[a] = int32(rng.IntN(10001) - 6000)
			}
		}
		p.Scenarios[s] = sc
	}
	p.VaR.L = make([][]int64, A)
	for i := range p.VaR.L {
		p.VaR.L[i] = make([]int64, i+1)
	}
	if chance(0.5) {
		p.VaR.Enabled, p.VaR.Z, p.VaR.HorizonDays = true, uint32(10000+rng.IntN(20001)), uint32(1+rng.IntN(10))
		for i := range p.VaR.L {
			for j := range p.VaR.L[i] {
				if i == j {
					p.VaR.L[i][j] = 1 + rng.Int64N(60000)
				} else {
					p.VaR.L[i][j] = rng.Int64N(40001) - 20000
				}
			}
		}
	}
	p.Derivatives.ShortChargeBps = make([]uint32, A)
	p.Derivatives.DeltaBands = make([]GreekBand, A)
	for a := range p.Derivatives.ShortChargeBps {
		p.Derivatives.ShortChargeBps[a] = uint32(rng.IntN(3001))
		if chance(0.5) {
			p.Derivatives.DeltaBands[a] = GreekBand{true, uint32(rng.IntN(10001))}
		}
	}
	if chance(0.5) {
		p.Derivatives.GammaFloor = GreekBand{true, uint32(rng.IntN(10001))}
	}
	w := &Witness{
		Inputs:      Inputs{Table: tb, Policy: p, Prices: make([]uint64, A), Liabilities: make([]*big.Int, A)},
		Slots:       testShape.Positions,
		OptionSlots: testShape.Options,
		PoolSlots:   testShape.Pools,
		Meta:        Meta{Cycle: rng.Uint64(), ReservesBlock: rng.Uint64(), SnapshotEpoch: rng.Uint64(), SnapshotTime: rng.Uint64N(1 << 40)},
		RCSalt:      poseidon.Uint64(rng.Uint64()),
		Opening: LiabilitiesOpening{Height: 1 + rng.Uint64N(4), Batches: rng.Uint64N(100), Depth: rng.Uint64N(10),
			Root: poseidon.Uint64(rng.Uint64()), AccSalt: poseidon.Uint64(rng.Uint64())},
	}
	// Amounts are drawn in value space (about 1e5..1e7 USD each) so that portfolios are mixed
	// rather than dominated by one asset, then converted at each asset's price and precision.
	units := func(a int, usd int64) *big.Int {
		v := new(big.Int).Mul(big.NewInt(usd), pow10(8+int(tb.Assets[a].Precision)))
		return v.Quo(v, new(big.Int).SetUint64(w.Prices[a]))
	}
	for a := 0; a < A; a++ {
		w.Prices[a] = uint64(1+rng.IntN(1000)) * pow10(6+rng.IntN(8)).Uint64() // 0.01 .. 1e8 USD
	}
	for a := 0; a < A; a++ {
		w.Liabilities[a] = new(big.Int)
		if chance(0.6) {
			w.Liabilities[a] = units(a, 1000+rng.Int64N(3_000_000))
		}
	}
	for j := 2 + rng.IntN(maxPositions-1); j > 0; j-- {
		a := rng.IntN(A)
		amt := units(a, 100_000+rng.Int64N(10_000_000))
		if chance(0.15) {
			amt.Neg(amt)
			amt.Quo(amt, big.NewInt(int64(1+rng.IntN(5))))
		}
		w.Positions = append(w.Positions, Position{Venue: rng.IntN(testShape.Venues), Asset: a, Amount: amt})
	}
	// Options with strikes near the price (so scenarios cross them) and pool shares.
	for j := rng.IntN(testShape.Options + 1); j > 0; j-- {
		a := rng.IntN(A)
		size := units(a, 10_000+rng.Int64N(3_000_000))
		strike := w.Prices[a] / 100 * uint64(50+rng.IntN(101)) // 50%..150% of the price
		o := OptionPosition{Venue: rng.IntN(testShape.Venues), Asset: a, Put: chance(0.5), Short: chance(0.4),
			Strike: strike, Expiry: w.Meta.SnapshotTime + 1 + rng.Uint64N(1<<26), Size: size}
		if size.Sign() == 0 {
			o = OptionPosition{Size: size} // the padding slot's one encoding
		}
		w.Options = append(w.Options, o)
	}
	for j := rng.IntN(testShape.Pools + 1); j > 0; j-- {
		a, b := rng.IntN(A), rng.IntN(A)
		usd := 100_000 + rng.Int64N(5_000_000)
		w.Pools = append(w.Pools, PoolPosition{Venue: rng.IntN(testShape.Venues), AssetA: a, AssetB: b,
			AmountA: units(a, usd), AmountB: units(b, usd)})
	}
	return w
}

// nearBoundary moves one random amount (a liability or a position) to the exact point where
// the whole report flips between pass and fail, when such a point exists in [0, 2^k], k random.
func nearBoundary(t *testing.T, rng *rand.Rand, w *Witness) (*Witness, bool) {
	for attempt := 0; attempt < 8; attempt++ {
		if out, ok := tryBoundary(t, rng, w); ok {
			return out, true
		}
	}
	return w, false
}

func tryBoundary(t *testing.T, rng *rand.Rand, w *Witness) (*Witness, bool) {
	nL, nP, nO := len(w.Liabilities), len(w.Positions), len(w.Options)
	nPar := nL + nP + 2*nO + len(w.Pools)
	k := rng.IntN(nPar)
	set := func(v *big.Int) *Witness {
		c := clone(w)
		switch {
		case k < nL:
			c.Liabilities[k] = v
		case k < nL+nP:
			c.Positions[k-nL].Amount = v
		case k < nL+nP+nO:
			// An option's size; the sign of v is its short flag.
			o := &c.Options[k-nL-nP]
			o.Size, o.Short = new(big.Int).Abs(v), v.Sign() < 0
		case k < nL+nP+2*nO:
			// An option's strike, moved across the prices and the scenario shocks.
			c.Options[k-nL-nP-nO].Strike = new(big.Int).Abs(v).Uint64()
		default:
			c.Pools[k-nL-nP-2*nO].AmountA = new(big.Int).Abs(v)
		}
		canonZero(c)
		return c
	}
	end := new(big.Int).Lsh(big.NewInt(1), uint(20+rng.IntN(43)))
	if k >= nL+nP+nO && k < nL+nP+2*nO {
		end = new(big.Int).Lsh(big.NewInt(1), uint(20+rng.IntN(43))) // strikes up to 2^62
	} else if k >= nL && k < nL+nP+nO && rng.IntN(4) == 0 {
		end.Neg(end) // a short
	}
	lo, hi := new(big.Int), end
	pl, ph := mustEval(t, set(lo)).Pass, mustEval(t, set(hi)).Pass
	if pl == ph {
		return w, false
	}
	for new(big.Int).Sub(hi, lo).CmpAbs(big.NewInt(1)) > 0 {
		mid := new(big.Int).Add(lo, hi)
		mid.Quo(mid, big.NewInt(2))
		if mustEval(t, set(mid)).Pass == pl {
			lo = mid
		} else {
			hi = mid
		}
	}
	if rng.IntN(2) == 0 {
		return set(lo), true
	}
	return set(hi), true
}

// TestCircuitMatchesTwin: over random treasuries, most pushed to the exact point where a limit
// flips, the circuit is satisfiable exactly when the twin says every limit passes.
func TestCircuitMatchesTwin(t *testing.T) {
	n := 1200
	if testing.Short() {
		n = 200
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var passes, fails, boundary int
	kinds := map[string]int{} // failing limit kinds of the boundary cases
	for i := 0; i < n; i++ {
		w := randomWitness(rng, testShape.Positions)
		moved := false
		if rng.Float64() < 0.75 {
			if w, moved = nearBoundary(t, rng, w); moved {
				boundary++
			}
		}
		rep := mustEval(t, w)
		if moved {
			for _, l := range rep.Limits {
				if !l.Pass {
					kinds[l.Kind]++
				}
			}
		}
		err := solve(t, mustAssign(t, w))
		if rep.Pass != (err == nil) {
			t.Fatalf("case %d: twin pass=%v (failing %v), circuit: %v", i, rep.Pass, failing(rep), err)
		}
		if rep.Pass {
			passes++
		} else {
			fails++
		}
	}
	t.Logf("%d cases: %d pass, %d fail, %d moved to a boundary; failing kinds there: %v", n, passes, fails, boundary, kinds)
	if passes < n/10 || fails < n/10 || boundary < n/3 {
		t.Fatalf("poor coverage: %d pass, %d fail, %d at a boundary", passes, fails, boundary)
	}
}

// TestS3_OffsettingPairNeverHelps: adding +X at one venue and -X at another (same asset) never
// raises any limit's headroom, so it never turns a failing limit into a passing one; checked on
// the twin for every case and on the circuit for a sample.
func TestS3_OffsettingPairNeverHelps(t *testing.T) {
	n := 600
	if testing.Short() {
		n = 100
	}
	rng := rand.New(rand.NewPCG(3, 4))
	circuitChecks := 0
	for i := 0; i < n; i++ {
		w := randomWitness(rng, testShape.Positions-2)
		before := mustEval(t, w)
		pair := clone(w)
		a := rng.IntN(len(pair.Prices))
		vi := rng.IntN(testShape.Venues)
		vj := (vi + 1 + rng.IntN(testShape.Venues-1)) % testShape.Venues
		x := big.NewInt(1 + rng.Int64N(1<<40))
		pair.Positions = append(pair.Positions,
			Position{Venue: vi, Asset: a, Amount: new(big.Int).Set(x)},
			Position{Venue: vj, Asset: a, Amount: new(big.Int).Neg(x)})
		after := mustEval(t, pair)
		for k, l := range before.Limits {
			m := after.Limits[k]
			if m.ID != l.ID {
				t.Fatalf("limit lists differ: %s vs %s", l.ID, m.ID)
			}
			if m.Headroom.Cmp(l.Headroom) > 0 {
				t.Fatalf("case %d: the pair raises %s headroom from %s to %s", i, l.ID, l.Headroom, m.Headroom)
			}
			if !l.Pass && m.Pass {
				t.Fatalf("case %d: the pair turns failing %s into passing", i, l.ID)
			}
		}
		if !before.Pass && circuitChecks < 40 {
			circuitChecks++
			if err := solve(t, mustAssign(t, pair)); err == nil {
				t.Fatalf("case %d: a failing treasury plus an offsetting pair proves", i)
			}
		}
	}
}
