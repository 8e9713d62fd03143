package solvency

import (
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/frontend"

	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// Issue 15, item 7: a signed value is a sign bit and a magnitude; (sign 1, magnitude 0) is a
// second encoding of zero. The native side (signed *big.Int) has one zero and Assign derives the
// sign as "amount < 0"; the circuit must refuse "-0" wherever the encoding appears.

// TestS2_NegativeZeroPositionRefused: a zero position with its sign bit set, with RC recomputed
// over that record as a cheating prover would, does not prove; the same slot with sign 0 does.
func TestS2_NegativeZeroPositionRefused(t *testing.T) {
	w := baseWitness(t)
	slot := len(w.Positions) // the first padding slot: amount 0
	c := mustAssign(t, w)
	if bi(c.Positions[slot].Mag).Sign() != 0 || bi(c.Positions[slot].Neg).Sign() != 0 {
		t.Fatalf("Assign encodes a zero amount as (neg %v, mag %v); want (0, 0)", c.Positions[slot].Neg, c.Positions[slot].Mag)
	}
	// Control: the raw RC over the honest records is RC, and the witness solves.
	if rawRC(c).Cmp(bi(c.RC)) != 0 {
		t.Fatal("rawRC differs from the assigned RC")
	}
	if err := solve(t, c); err != nil {
		t.Fatalf("honest witness: %v", err)
	}
	// A zero padding slot and a real position set to zero, each as "-0".
	for _, j := range []int{slot, 4} {
		c := mustAssign(t, w)
		c.Positions[j].Mag = 0
		c.Positions[j].Neg = 1
		c.RC = rawRC(c)
		mustNotSolve(t, c)
	}
}

// TestS5_NegativeZeroExposureRefused: a zero net exposure (XQ = XR = 0) with its sign bit set
// does not prove; with sign 0 it does.
func TestS5_NegativeZeroExposureRefused(t *testing.T) {
	mk := func(neg int) *varCircuit {
		w := newVarCircuit()
		w.Enabled, w.Z, w.Horizon, w.Surplus, w.SurQ, w.SurR = 1, 23263, 1, 0, 0, 0
		w.L = []frontend.Variable{40000, 0, 1000}
		w.X = []frontend.Variable{0, 0}
		w.XNeg = []frontend.Variable{neg, 0}
		w.XQ = []frontend.Variable{0, 0}
		w.XR = []frontend.Variable{0, 0}
		return w
	}
	checkGadget(t, newVarCircuit(), []frontend.Circuit{mk(0)}, []frontend.Circuit{mk(1)})
}

// TestS6_NegativeZeroCholeskyRefused: a policy whose zero Cholesky entry carries sign 1, with the
// policy hash recomputed over that encoding, does not prove; the canonical encoding (sign 0) of
// the same entry is what the Go policy hash and Assign produce.
func TestS6_NegativeZeroCholeskyRefused(t *testing.T) {
	w := baseWitness(t)
	if w.Policy.VaR.L[1][0] != 0 {
		t.Fatal("fixture: L[1][0] should be 0")
	}
	const entry = 1 // L[1][0], row by row
	c := mustAssign(t, w)
	if bi(c.Policy.LNeg[entry]).Sign() != 0 || bi(c.Policy.LMag[entry]).Sign() != 0 {
		t.Fatal("Assign encodes a zero Cholesky entry with sign 1")
	}
	fs := w.Policy.fields()
	nL := len(c.Policy.LMag)
	nD := 3*len(w.Policy.Assets) + 4           // the derivatives block follows the Cholesky factor
	signField := len(fs) - nD - 2*nL + 2*entry // each entry is (sign bit, magnitude)
	if fs[signField].width != 1 || fs[signField+1].v.Sign() != 0 {
		t.Fatal("fixture: the layout's Cholesky fields are not where this test expects")
	}
	if got := rawPolicyHashFields(fs, w.Policy.AssetsHash); got.Cmp(bi(c.PolicyHash)) != 0 {
		t.Fatal("control: raw policy hash differs from the assigned one")
	}
	fs[signField].v = big.NewInt(1)
	c.Policy.LNeg[entry] = 1
	c.PolicyHash = rawPolicyHashFields(fs, w.Policy.AssetsHash)
	mustNotSolve(t, c)
}

// rawPolicyHashFields hashes a policy layout as given, without validation.
func rawPolicyHashFields(fs []field, assetsHash fr.Element) *big.Int {
	widths := make([]int, len(fs))
	for i, f := range fs {
		widths[i] = f.width
	}
	el, off, n := packLayout(widths)
	acc := make([]*big.Int, n)
	for i := range acc {
		acc[i] = new(big.Int)
	}
	for i, f := range fs {
		acc[el[i]].Add(acc[el[i]], new(big.Int).Lsh(f.v, uint(off[i])))
	}
	in := []fr.Element{assetsHash}
	for _, a := range acc {
		in = append(in, elem(a))
	}
	e := poseidon.NewHasher().Hash(poseidon.TagPolicy, in...)
	return e.BigInt(new(big.Int))
}
