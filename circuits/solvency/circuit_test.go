package solvency

import (
	"math/big"
	"slices"
	"testing"

	"github.com/solvency-dev/solvency/circuits/poseidon"
)

func TestValidWitnessSolves(t *testing.T) {
	w := baseWitness(t)
	rep := mustEval(t, w)
	if !rep.Pass {
		t.Fatalf("base treasury fails %v", failing(rep))
	}
	c := mustAssign(t, w)
	if err := engineSolve(testShape, c); err != nil {
		t.Fatalf("test engine: %v", err)
	}
	if err := solve(t, c); err != nil {
		t.Fatalf("R1CS: %v", err)
	}
}

// TestPublicInputsLayout pins the public witness to docs/design.md's table: what PublicInputs
// returns is exactly the vector gnark derives from the circuit's public fields.
func TestPublicInputsLayout(t *testing.T) {
	w := baseWitness(t)
	st, err := w.Statement(poseidon.NewHasher())
	if err != nil {
		t.Fatal(err)
	}
	pub, err := PublicInputs(st)
	if err != nil {
		t.Fatal(err)
	}
	if len(pub) != testShape.NbPublic() {
		t.Fatalf("%d public inputs, want %d", len(pub), testShape.NbPublic())
	}
	c := mustAssign(t, w)
	got := []any{c.PolicyHash, c.LC, c.RC, c.Meta}
	for _, x := range c.PriceWords {
		got = append(got, x)
	}
	for i := range pub {
		if got[i].(*big.Int).Cmp(pub[i]) != 0 {
			t.Fatalf("public input %d differs", i)
		}
	}
	// The packing vectors themselves are pinned in circuits/statement (TestS1_PackingVectors).
}

// boundaryCase moves one integer parameter of a treasury until one limit flips.
type boundaryCase struct {
	name   string
	limit  string                       // the limit that must be the only one failing
	policy func(p *Policy)              // tighten the limit under test, disable interfering ones
	set    func(w *Witness, v *big.Int) // apply the parameter
	pass   *big.Int                     // a value where everything passes
	fail   *big.Int                     // a value where the limit fails
}

func disableAll(p *Policy) {
	p.MinCollateralBps = BpsOne
	for i := range p.Assets {
		p.Assets[i].InKind = false
		p.Assets[i].Cap = Cap{}
	}
	for i := range p.GroupCaps {
		p.GroupCaps[i] = Cap{}
	}
	for i := range p.Targets {
		p.Targets[i] = Target{Assets: make([]bool, len(p.Assets))}
	}
	p.Liquidity.Enabled, p.Liquidity.FloorBps = false, 0
	for i := range p.Scenarios {
		p.Scenarios[i] = Scenario{ShockBps: make([]int32, len(p.Assets))}
	}
	for i := range p.VaR.L {
		for j := range p.VaR.L[i] {
			p.VaR.L[i][j] = 0
		}
	}
	p.VaR.Enabled, p.VaR.Z, p.VaR.HorizonDays = false, 0, 0
}

func setLiability(a int) func(w *Witness, v *big.Int) {
	return func(w *Witness, v *big.Int) { w.Liabilities[a] = new(big.Int).Set(v) }
}

func setPosition(j int) func(w *Witness, v *big.Int) {
	return func(w *Witness, v *big.Int) { w.Positions[j].Amount = new(big.Int).Set(v) }
}

// findBoundary bisects between a passing and a failing value to two values one unit apart.
func findBoundary(t *testing.T, base *Witness, bc boundaryCase) (pass, fail *Witness) {
	t.Helper()
	at := func(v *big.Int) (*Witness, *Report) {
		w := clone(base)
		bc.set(w, v)
		return w, mustEval(t, w)
	}
	lo, hi := new(big.Int).Set(bc.pass), new(big.Int).Set(bc.fail)
	if _, r := at(lo); !r.Pass {
		t.Fatalf("%s: start value fails %v", bc.name, failing(r))
	}
	if _, r := at(hi); r.Pass {
		t.Fatalf("%s: end value passes", bc.name)
	}
	one := big.NewInt(1)
	for new(big.Int).Sub(hi, lo).CmpAbs(one) > 0 {
		mid := new(big.Int).Add(lo, hi)
		mid.Rsh(mid, 1)
		if _, r := at(mid); r.Pass {
			lo = mid
		} else {
			hi = mid
		}
	}
	pass, _ = at(lo)
	fail, r := at(hi)
	if f := failing(r); !slices.Equal(f, []string{bc.limit}) {
		t.Fatalf("%s: one unit past the boundary fails %v, want only %s", bc.name, f, bc.limit)
	}
	return pass, fail
}

// TestEachLimitExactBoundary: for every limit, a treasury that meets it exactly proves and the
// same treasury moved by the smallest unit (one circuit unit of one amount) does not.
func TestEachLimitExactBoundary(t *testing.T) {
	huge := func(whole int64, prec int) *big.Int { return tok(whole, prec) }
	cases := []boundaryCase{
		{name: "collateral", limit: "collateral",
			policy: func(p *Policy) { disableAll(p); p.MinCollateralBps = 15000 },
			set:    setLiability(aDAI), pass: big.NewInt(0), fail: huge(2000000, 6)},
		{name: "in-kind", limit: "in-kind/ETH",
			policy: func(p *Policy) { disableAll(p); p.Assets[aETH].InKind = true },
			set:    setLiability(aETH), pass: big.NewInt(0), fail: huge(91, 8)},
		{name: "liquidity", limit: "liquidity",
			policy: func(p *Policy) { disableAll(p); p.Liquidity.Enabled, p.Liquidity.FloorBps = true, 20000 },
			set:    setPosition(1), pass: huge(5000000, 6), fail: big.NewInt(0)},
		{name: "asset cap", limit: "cap/asset/ETH",
			policy: func(p *Policy) { disableAll(p); p.Assets[aETH].Cap = Cap{true, 3000} },
			set:    setPosition(0), pass: big.NewInt(0), fail: huge(1000, 8)},
		{name: "group cap", limit: "cap/group/1",
			policy: func(p *Policy) { disableAll(p); p.GroupCaps[1] = Cap{true, 4000} },
			set:    setPosition(2), pass: big.NewInt(0), fail: huge(100, 8)},
		{name: "target low", limit: "target/0/low",
			policy: func(p *Policy) {
				disableAll(p)
				p.Targets[0] = Target{Enabled: true, Assets: []bool{true, false, true, false}, WeightBps: 4000, BandBps: 1000}
			},
			set: setPosition(0), pass: huge(150, 8), fail: huge(10, 8)},
		{name: "target high", limit: "target/0/high",
			policy: func(p *Policy) {
				disableAll(p)
				p.Targets[0] = Target{Enabled: true, Assets: []bool{true, false, true, false}, WeightBps: 4000, BandBps: 1000}
			},
			set: setPosition(0), pass: huge(150, 8), fail: huge(1000, 8)},
		{name: "stress", limit: "stress/0",
			policy: func(p *Policy) {
				disableAll(p)
				p.Scenarios[0] = Scenario{Enabled: true, ShockBps: []int32{-9000, 0, -9000, 0}}
			},
			set: setLiability(aUSDC), pass: big.NewInt(0), fail: huge(1000000, 6)},
		{name: "VaR", limit: "var",
			policy: func(p *Policy) {
				disableAll(p)
				p.VaR = basePolicy(poseidon.NewHasher(), testTable()).VaR
			},
			set: setPosition(4), pass: big.NewInt(0), fail: huge(-1000, 8)},
	}
	for _, bc := range cases {
		t.Run(bc.name, func(t *testing.T) {
			base := baseWitness(t)
			bc.policy(base.Policy)
			pass, fail := findBoundary(t, base, bc)
			cp, cf := mustAssign(t, pass), mustAssign(t, fail)
			if err := solve(t, cp); err != nil {
				t.Fatalf("meeting %s exactly does not satisfy the R1CS: %v", bc.limit, err)
			}
			if err := engineSolve(testShape, cp); err != nil {
				t.Fatalf("meeting %s exactly does not satisfy the test engine: %v", bc.limit, err)
			}
			if err := solve(t, cf); err == nil {
				t.Fatalf("breaking %s by one unit still satisfies the R1CS", bc.limit)
			}
			if err := engineSolve(testShape, cf); err == nil {
				t.Fatalf("breaking %s by one unit still satisfies the test engine", bc.limit)
			}
		})
	}
}
