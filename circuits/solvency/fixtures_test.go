package solvency

import (
	"math/big"
	"sync"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/logger"
	"github.com/consensys/gnark/test"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// testShape is small enough that a compiled R1CS solves in milliseconds.
var testShape = Shape{Assets: 4, Positions: 8, Venues: 4, Groups: 2, Tiers: 2, Scenarios: 2, Buckets: 2, Options: 2, Pools: 1}

// Asset slots of the test table.
const (
	aETH = iota
	aUSDC
	aWBTC
	aDAI
)

func testTable() *assets.Table {
	return &assets.Table{Assets: []assets.Asset{
		{Symbol: "ETH", Decimals: 18, Precision: 8},
		{Symbol: "USDC", Decimals: 6, Precision: 6},
		{Symbol: "WBTC", Decimals: 8, Precision: 8},
		{Symbol: "DAI", Decimals: 18, Precision: 6},
	}}
}

func tok(whole int64, prec int) *big.Int {
	return new(big.Int).Mul(big.NewInt(whole), pow10(prec))
}

// basePolicy enables every limit with generous bounds: venues 0,2 are group 0 and venues 1,3
// group 1; tiers: venues 0,2,3 liquid (tier 0), venue 1 illiquid (tier 1).
func basePolicy(h *poseidon.Hasher, t *assets.Table) *Policy {
	return &Policy{
		ChainID:          31337,
		Registry:         [20]byte{0x5f, 0xbd, 0xb2},
		AssetsHash:       t.Hash(h),
		MinCollateralBps: 10500,
		Assets: []AssetRule{
			{HaircutBps: 1500, InKind: true, Cap: Cap{true, 9000}},
			{HaircutBps: 200, InKind: true, Liquid: true},
			{HaircutBps: 1500, Cap: Cap{true, 9000}},
			{HaircutBps: 300, Liquid: true},
		},
		Venues:    []Venue{{0, 0}, {1, 1}, {0, 0}, {1, 0}},
		GroupCaps: []Cap{{true, 9000}, {true, 9000}},
		Targets: []Target{
			{Enabled: true, Assets: []bool{true, false, true, false}, WeightBps: 5000, BandBps: 5000},
			{Enabled: true, Assets: []bool{false, true, false, true}, WeightBps: 5000, BandBps: 5000},
		},
		Liquidity: Liquidity{Enabled: true, FloorBps: 1000, LiquidTiers: []bool{true, false}},
		Scenarios: []Scenario{
			{Enabled: true, ShockBps: []int32{-4000, 0, -4000, 0}},
			{Enabled: true, ShockBps: []int32{0, -1000, 0, -500}},
		},
		VaR: VaR{Enabled: true, Z: 23263, HorizonDays: 1, L: [][]int64{
			{40000},
			{0, 1000},
			{25600, 0, 19189},
			{0, 720, 0, 948},
		}},
		Derivatives: DerivativesPolicy{
			ShortChargeBps: []uint32{1500, 0, 1500, 100},
			DeltaBands:     []GreekBand{{true, 500}, {}, {true, 500}, {}},
			GammaFloor:     GreekBand{true, 50},
			VegaCap:        GreekBand{true, 100},
		},
	}
}

func baseWitness(t testing.TB) *Witness {
	t.Helper()
	h := poseidon.NewHasher()
	tb := testTable()
	w := &Witness{
		Inputs: Inputs{
			Table:  tb,
			Policy: basePolicy(h, tb),
			Positions: []Position{
				{Venue: 0, Asset: aETH, Amount: tok(100, 8)},
				{Venue: 0, Asset: aUSDC, Amount: tok(500000, 6)},
				{Venue: 1, Asset: aWBTC, Amount: tok(5, 8)},
				{Venue: 1, Asset: aDAI, Amount: tok(200000, 6)},
				{Venue: 2, Asset: aETH, Amount: tok(-10, 8)},
				{Venue: 3, Asset: aUSDC, Amount: tok(100000, 6)},
			},
			Prices:      []uint64{3000_00000000, 1_00000000, 65000_00000000, 1_00000000},
			Liabilities: []*big.Int{tok(50, 8), tok(300000, 6), tok(2, 8), tok(100000, 6)},
		},
		Slots:       testShape.Positions,
		OptionSlots: testShape.Options,
		PoolSlots:   testShape.Pools,
		Meta:        Meta{Cycle: 7, ReservesBlock: 21000000, SnapshotEpoch: 3, SnapshotTime: 1764000000},
		RCSalt:      poseidon.Uint64(0xabcdef),
		Opening:     LiabilitiesOpening{Height: 1, Batches: 3, Depth: 2, Root: poseidon.Uint64(99), AccSalt: poseidon.Uint64(12345)},
	}
	return w
}

// clone deep-copies the parts of a witness that tests mutate.
func clone(w *Witness) *Witness {
	c := *w
	p := *w.Policy
	p.Assets = append([]AssetRule(nil), w.Policy.Assets...)
	p.Venues = append([]Venue(nil), w.Policy.Venues...)
	p.GroupCaps = append([]Cap(nil), w.Policy.GroupCaps...)
	p.Targets = nil
	for _, t := range w.Policy.Targets {
		t.Assets = append([]bool(nil), t.Assets...)
		p.Targets = append(p.Targets, t)
	}
	p.Liquidity.LiquidTiers = append([]bool(nil), w.Policy.Liquidity.LiquidTiers...)
	p.Scenarios = nil
	for _, s := range w.Policy.Scenarios {
		s.ShockBps = append([]int32(nil), s.ShockBps...)
		p.Scenarios = append(p.Scenarios, s)
	}
	p.VaR.L = nil
	for _, r := range w.Policy.VaR.L {
		p.VaR.L = append(p.VaR.L, append([]int64(nil), r...))
	}
	p.Derivatives.ShortChargeBps = append([]uint32(nil), w.Policy.Derivatives.ShortChargeBps...)
	p.Derivatives.DeltaBands = append([]GreekBand(nil), w.Policy.Derivatives.DeltaBands...)
	c.Policy = &p
	c.Options = nil
	for _, o := range w.Options {
		o.Size = new(big.Int).Set(o.Size)
		c.Options = append(c.Options, o)
	}
	c.Pools = nil
	for _, pl := range w.Pools {
		pl.AmountA, pl.AmountB = new(big.Int).Set(pl.AmountA), new(big.Int).Set(pl.AmountB)
		c.Pools = append(c.Pools, pl)
	}
	c.Positions = nil
	for _, ps := range w.Positions {
		c.Positions = append(c.Positions, Position{ps.Venue, ps.Asset, new(big.Int).Set(ps.Amount)})
	}
	c.Prices = append([]uint64(nil), w.Prices...)
	c.Liabilities = nil
	for _, l := range w.Liabilities {
		c.Liabilities = append(c.Liabilities, new(big.Int).Set(l))
	}
	return &c
}

// compiled caches the test shape's R1CS (compile once; every case reuses it).
// The full solvency circuit is checked with the helpers below rather than gnark's
// test.NewAssert(t).CheckCircuit, which recompiles the circuit on every call (and, under its
// default profile, for two curves and two backends; with -tags=prover_checks it also runs a
// setup and a proof per witness). Dozens of tests here craft one witness each against the same
// test shape: they share one compiled BN254 R1CS (testCCS) and run both checks CheckCircuit runs
// for Groth16 without the prover, the R1CS solver (solve) and gnark's test engine (engineSolve).
// A real Groth16 proof of the circuit is made once, in TestS8_NoCommitmentInVerifyingKey.
// Small gadgets (the VaR check, the policy hash) are cheap to compile and use CheckCircuit
// itself, through checkGadget.
var compiled = struct {
	once sync.Once
	ccs  constraint.ConstraintSystem
	err  error
}{}

func testCCS(t testing.TB) constraint.ConstraintSystem {
	t.Helper()
	compiled.once.Do(func() {
		logger.Disable()
		compiled.ccs, compiled.err = Compile(testShape)
	})
	if compiled.err != nil {
		t.Fatal(compiled.err)
	}
	return compiled.ccs
}

// solve reports whether the assignment satisfies the compiled test-shape R1CS.
func solve(t testing.TB, c *Circuit) error {
	t.Helper()
	wit, err := frontend.NewWitness(c, ecc.BN254.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	return testCCS(t).IsSolved(wit)
}

// engineSolve runs gnark's test engine (test.IsSolved): it also catches unconstrained-hint and
// overflow issues the R1CS solver would not report.
func engineSolve(s Shape, c *Circuit) error {
	return test.IsSolved(NewCircuit(s), c, ecc.BN254.ScalarField())
}

// checkGadget runs gnark's CheckCircuit on a small test circuit: gnark's test engine and the
// compiled R1CS each accept every valid assignment and refuse every invalid one, on BN254 with
// Groth16, the curve and backend the project proves with.
func checkGadget(t *testing.T, skel frontend.Circuit, valid, invalid []frontend.Circuit) {
	t.Helper()
	opts := []test.TestingOption{test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16)}
	for _, a := range valid {
		opts = append(opts, test.WithValidAssignment(a))
	}
	for _, a := range invalid {
		opts = append(opts, test.WithInvalidAssignment(a))
	}
	test.NewAssert(t).CheckCircuit(skel, opts...)
}

func mustAssign(t testing.TB, w *Witness) *Circuit {
	t.Helper()
	c, err := Assign(poseidon.NewHasher(), w)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustEval(t testing.TB, w *Witness) *Report {
	t.Helper()
	r, err := Evaluate(&w.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func failing(r *Report) []string {
	var out []string
	for _, l := range r.Limits {
		if !l.Pass {
			out = append(out, l.ID)
		}
	}
	return out
}

// modP returns v mod p as a big.Int (how a crafted "negative" value enters the field).
func modP(v *big.Int) *big.Int { return new(big.Int).Mod(v, fr.Modulus()) }
