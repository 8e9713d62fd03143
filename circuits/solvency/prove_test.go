package solvency

import (
	"fmt"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/frontend"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// syntheticWitness is a passing treasury filling shape s: every limit enabled, a full Cholesky
// factor, every position slot used.
func syntheticWitness(s Shape) *Witness {
	h := poseidon.NewHasher()
	tb := &assets.Table{}
	for a := 0; a < s.Assets; a++ {
		tb.Assets = append(tb.Assets, assets.Asset{Symbol: fmt.Sprintf("TOK%d", a), Decimals: 18, Precision: uint8(6 + a%3)})
	}
	p := &Policy{ChainID: 1, AssetsHash: tb.Hash(h), MinCollateralBps: 11000,
		Liquidity: Liquidity{Enabled: true, FloorBps: 500, LiquidTiers: make([]bool, s.Tiers)}}
	p.Liquidity.LiquidTiers[0] = true
	for a := 0; a < s.Assets; a++ {
		p.Assets = append(p.Assets, AssetRule{HaircutBps: 1000, InKind: a%2 == 0, Liquid: a%4 == 0, Cap: Cap{true, 5000}})
	}
	for v := 0; v < s.Venues; v++ {
		p.Venues = append(p.Venues, Venue{Group: v % s.Groups, Tier: v % s.Tiers})
	}
	for g := 0; g < s.Groups; g++ {
		p.GroupCaps = append(p.GroupCaps, Cap{true, 6000})
	}
	for k := 0; k < s.Buckets; k++ {
		t := Target{Enabled: true, Assets: make([]bool, s.Assets), WeightBps: 2500, BandBps: 2500}
		t.Assets[k%s.Assets] = true
		p.Targets = append(p.Targets, t)
	}
	for sc := 0; sc < s.Scenarios; sc++ {
		shocks := make([]int32, s.Assets)
		for a := range shocks {
			shocks[a] = int32(-(sc*400 + a*50) % 5000)
		}
		p.Scenarios = append(p.Scenarios, Scenario{Enabled: true, ShockBps: shocks})
	}
	p.VaR = VaR{Enabled: true, Z: 23263, HorizonDays: 1, L: make([][]int64, s.Assets)}
	for i := range p.VaR.L {
		p.VaR.L[i] = make([]int64, i+1)
		for j := range p.VaR.L[i] {
			p.VaR.L[i][j] = int64(1000 + 37*i + 11*j)
			if (i+j)%3 == 1 {
				p.VaR.L[i][j] = -p.VaR.L[i][j]
			}
		}
		p.VaR.L[i][i] = 30000
	}
	w := &Witness{Inputs: Inputs{Table: tb, Policy: p, Prices: make([]uint64, s.Assets), Liabilities: make([]*big.Int, s.Assets)},
		Slots: s.Positions, Meta: Meta{Cycle: 1, ReservesBlock: 2, SnapshotEpoch: 3, SnapshotTime: 4},
		RCSalt: poseidon.Uint64(5), Opening: LiabilitiesOpening{Height: 2, Batches: 3, Depth: 3, Root: poseidon.Uint64(6), AccSalt: poseidon.Uint64(7)}}
	for a := 0; a < s.Assets; a++ {
		w.Prices[a] = 100_00000000
		w.Liabilities[a] = tok(1000, int(tb.Assets[a].Precision))
	}
	for j := 0; j < s.Positions; j++ {
		a := j % s.Assets
		amt := tok(int64(4000/((s.Positions+s.Assets-1)/s.Assets)+1), int(tb.Assets[a].Precision))
		if j%7 == 3 {
			amt.Neg(amt).Quo(amt, big.NewInt(10))
		}
		w.Positions = append(w.Positions, Position{Venue: j % s.Venues, Asset: a, Amount: amt})
	}
	// Every option and pool slot used: put spreads (long above, short below the price) and
	// balanced pool shares, with a small short-option charge.
	p.Derivatives.ShortChargeBps = make([]uint32, s.Assets)
	for a := range p.Derivatives.ShortChargeBps {
		p.Derivatives.ShortChargeBps[a] = 500
	}
	w.OptionSlots, w.PoolSlots = s.Options, s.Pools
	for j := 0; j < s.Options; j++ {
		a := j % s.Assets
		strike := uint64(90_00000000)
		if j%2 == 1 {
			strike = 70_00000000
		}
		w.Options = append(w.Options, OptionPosition{Venue: j % s.Venues, Asset: a, Put: true, Short: j%2 == 1,
			Strike: strike, Expiry: 1803456000, Size: tok(10, int(tb.Assets[a].Precision))})
	}
	for j := 0; j < s.Pools; j++ {
		a, b := j%s.Assets, (j+1)%s.Assets
		w.Pools = append(w.Pools, PoolPosition{Venue: j % s.Venues, AssetA: a, AssetB: b,
			AmountA: tok(20, int(tb.Assets[a].Precision)), AmountB: tok(20, int(tb.Assets[b].Precision))})
	}
	return w
}

// TestProveTargetShape measures setup and prove at the target shape (16 assets, 64 positions,
// 8 scenarios, full 16x16 Cholesky). It takes about a minute of CPU, so it runs only with
// SOLVENCY_PROVE_TARGET=1.
func TestProveTargetShape(t *testing.T) {
	if os.Getenv("SOLVENCY_PROVE_TARGET") == "" {
		t.Skip("set SOLVENCY_PROVE_TARGET=1 to measure proving at the target shape")
	}
	w := syntheticWitness(TargetShape())
	if r := mustEval(t, w); !r.Pass {
		t.Fatalf("synthetic treasury fails %v", failing(r))
	}
	ccs, err := Compile(TargetShape())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	pk, vk, err := groth16.Setup(ccs)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d constraints, setup %v", ccs.GetNbConstraints(), time.Since(start))
	full, err := frontend.NewWitness(mustAssign(t, w), ecc.BN254.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		start = time.Now()
		proof, err := groth16.Prove(ccs, pk, full)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("prove %v", time.Since(start))
		pub, _ := full.Public()
		if err := groth16.Verify(proof, vk, pub); err != nil {
			t.Fatal(err)
		}
	}
}

// ProductionDerivativesShape is the production profile's solvency shape (prover/profile), which
// this package cannot import: 8 assets, 64 positions, 8 option and 4 pool slots.
var productionDerivativesShape = Shape{Assets: 8, Positions: 64, Venues: 16, Groups: 8, Tiers: 4, Scenarios: 8, Buckets: 4, Options: 8, Pools: 4}

// TestProveProductionDerivatives measures setup and prove at the production shape with every
// option and pool slot filled. Like TestProveTargetShape it runs only with
// SOLVENCY_PROVE_TARGET=1.
func TestProveProductionDerivatives(t *testing.T) {
	if os.Getenv("SOLVENCY_PROVE_TARGET") == "" {
		t.Skip("set SOLVENCY_PROVE_TARGET=1 to measure proving at the production shape")
	}
	for _, s := range []Shape{productionDerivativesShape, noDerivatives(productionDerivativesShape)} {
		t.Run(fmt.Sprintf("options=%d,pools=%d", s.Options, s.Pools), func(t *testing.T) { proveShape(t, s) })
	}
}

func noDerivatives(s Shape) Shape {
	s.Options, s.Pools = 0, 0
	return s
}

// proveShape runs setup and three proofs of the synthetic treasury at shape s, logging times.
func proveShape(t *testing.T, s Shape) {
	w := syntheticWitness(s)
	if r := mustEval(t, w); !r.Pass {
		t.Fatalf("synthetic treasury fails %v", failing(r))
	}
	ccs, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	pk, vk, err := groth16.Setup(ccs)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d constraints, setup %v", ccs.GetNbConstraints(), time.Since(start))
	full, err := frontend.NewWitness(mustAssign(t, w), ecc.BN254.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		start = time.Now()
		proof, err := groth16.Prove(ccs, pk, full)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("prove %v", time.Since(start))
		pub, _ := full.Public()
		if err := groth16.Verify(proof, vk, pub); err != nil {
			t.Fatal(err)
		}
	}
}

// TestProductionDerivativesShapeSolves: the production shape with every derivative slot filled
// stays within one 2^16 FFT domain and the synthetic treasury solves it.
func TestProductionDerivativesShapeSolves(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the production shape")
	}
	s := productionDerivativesShape
	w := syntheticWitness(s)
	if r := mustEval(t, w); !r.Pass {
		t.Fatalf("synthetic treasury fails %v", failing(r))
	}
	ccs, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("production shape with derivatives: %d constraints", ccs.GetNbConstraints())
	if ccs.GetNbConstraints() > 1<<16 {
		t.Fatalf("%d constraints exceed 65,536", ccs.GetNbConstraints())
	}
	full, err := frontend.NewWitness(mustAssign(t, w), ecc.BN254.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	if err := ccs.IsSolved(full); err != nil {
		t.Fatal(err)
	}
}

// TestSyntheticTargetShapeSolves checks the synthetic target-shape treasury with the R1CS solver
// (no setup), so the measured shape is known to be satisfiable.
func TestSyntheticTargetShapeSolves(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the target shape")
	}
	w := syntheticWitness(TargetShape())
	if r := mustEval(t, w); !r.Pass {
		t.Fatalf("synthetic treasury fails %v", failing(r))
	}
	ccs, err := Compile(TargetShape())
	if err != nil {
		t.Fatal(err)
	}
	full, err := frontend.NewWitness(mustAssign(t, w), ecc.BN254.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	if err := ccs.IsSolved(full); err != nil {
		t.Fatal(err)
	}
}
