package solvency

import (
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"
	"github.com/consensys/gnark/frontend"

	"github.com/solvency-dev/solvency/circuits/batch"
	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// TestS8_NoCommitmentInVerifyingKey runs a Groth16 setup at the test shape, checks that the
// verifying key carries no BSB22 commitment, and proves and verifies a real witness with the
// public inputs built by PublicInputs.
func TestS8_NoCommitmentInVerifyingKey(t *testing.T) {
	if testing.Short() {
		t.Skip("setup and prove take a few seconds")
	}
	ccs := testCCS(t)
	pk, vk, err := groth16.Setup(ccs)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := vk.NbPublicWitness(), testShape.NbPublic(); got != want {
		t.Fatalf("verifying key has %d public inputs, want %d", got, want)
	}
	bvk, ok := vk.(*groth16bn254.VerifyingKey)
	if !ok {
		t.Fatalf("verifying key is %T", vk)
	}
	if len(bvk.CommitmentKeys) != 0 || len(bvk.PublicAndCommitmentCommitted) != 0 {
		t.Fatalf("verifying key has %d commitment keys (S8)", len(bvk.CommitmentKeys))
	}

	w := derivWitness(t) // options and a pool share: the proof covers the derivative slots
	c := mustAssign(t, w)
	full, err := frontend.NewWitness(c, ecc.BN254.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	proof, err := groth16.Prove(ccs, pk, full)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d constraints, prove %v", ccs.GetNbConstraints(), time.Since(start))
	// The public witness the contract would build: exactly PublicInputs(statement).
	st, err := w.Statement(poseidon.NewHasher())
	if err != nil {
		t.Fatal(err)
	}
	pubVals, err := PublicInputs(st)
	if err != nil {
		t.Fatal(err)
	}
	pubCircuit, err := PublicAssignment(testShape, st)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := frontend.NewWitness(pubCircuit, ecc.BN254.ScalarField(), frontend.PublicOnly())
	if err != nil {
		t.Fatal(err)
	}
	if err := groth16.Verify(proof, vk, pub); err != nil {
		t.Fatalf("verify: %v", err)
	}
	// Another cycle number does not verify with this proof.
	pubCircuit.Meta = new(big.Int).Add(pubVals[3], big.NewInt(1))
	bad, _ := frontend.NewWitness(pubCircuit, ecc.BN254.ScalarField(), frontend.PublicOnly())
	if err := groth16.Verify(proof, vk, bad); err == nil {
		t.Fatal("a proof verified against another statement")
	}
}

// TestLiabilitiesOpeningMatchesBatch cross-checks accFinal and LC against circuits/batch's
// native functions (the liabilities side's own implementation of docs/design.md).
func TestLiabilitiesOpeningMatchesBatch(t *testing.T) {
	h := poseidon.NewHasher()
	w := baseWitness(t)
	for _, A := range []int{1, 2, 3, 4} {
		sums := w.Liabilities[:A]
		mine, err := AccCommit(h, 9, sums, w.Opening.AccSalt)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := batch.AccCommit(h, 9, batch.Opening{Sums: sums, Salt: w.Opening.AccSalt})
		if err != nil {
			t.Fatal(err)
		}
		if mine != theirs {
			t.Fatalf("accFinal differs from circuits/batch at %d assets", A)
		}
	}
	acc, _ := AccCommit(h, 9, w.Liabilities, w.Opening.AccSalt)
	ah := w.Table.Hash(h)
	o := w.Opening
	mine := LiabilitiesCommitment(h, 9, 1764000000, o, acc, ah)
	theirs := batch.LCPreimage{Epoch: 9, SnapshotTime: 1764000000, Height: int(o.Height), Batches: int(o.Batches),
		Depth: int(o.Depth), Root: o.Root, AccFinal: acc, AssetsHash: ah}.Hash(h)
	if mine != theirs {
		t.Fatal("LC differs from circuits/batch")
	}
}

// TestTargetShapeConstraintCount compiles the target shape: at most 65,536 R1CS
// constraints (one FFT domain of 2^16) and 4 + ceil(16/4) = 8 public inputs.
func TestTargetShapeConstraintCount(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the target shape")
	}
	n, pub, err := Info(TargetShape())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("target shape %+v: %d constraints, %d public inputs", TargetShape(), n, pub)
	if n > 1<<16 {
		t.Fatalf("%d constraints exceed 65,536", n)
	}
	if pub != 8 {
		t.Fatalf("%d public inputs, want 8", pub)
	}
}

// policyHashCircuit computes the policy hash alone.
type policyHashCircuit struct {
	Policy           PolicyVars
	AssetsHash, Want frontend.Variable
	shape            Shape
}

func (c *policyHashCircuit) Define(api frontend.API) error {
	g, err := poseidon.NewGadget(api)
	if err != nil {
		return err
	}
	h, err := policyHashGadget(api, g, c.shape, &c.Policy, c.AssetsHash)
	if err != nil {
		return err
	}
	api.AssertIsEqual(h, c.Want)
	return nil
}

// TestPolicyHashGoEqualsCircuit: Policy.Hash in Go equals the circuit's hash on random policies.
func TestPolicyHashGoEqualsCircuit(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var valid, invalid []frontend.Circuit
	for i := 0; i < 10; i++ {
		w := randomWitness(rng, testShape.Positions)
		want, err := w.Policy.Hash(poseidon.NewHasher())
		if err != nil {
			t.Fatal(err)
		}
		a := &policyHashCircuit{Policy: NewCircuit(testShape).Policy, shape: testShape,
			AssetsHash: w.Policy.AssetsHash.BigInt(new(big.Int)), Want: want.BigInt(new(big.Int))}
		assignPolicy(&a.Policy, w.Policy)
		valid = append(valid, a)
		// The same policy with a wrong hash.
		b := *a
		b.Want = new(big.Int).Add(want.BigInt(new(big.Int)), big.NewInt(1))
		invalid = append(invalid, &b)
	}
	checkGadget(t, &policyHashCircuit{Policy: NewCircuit(testShape).Policy, shape: testShape}, valid, invalid)
}
