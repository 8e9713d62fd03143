package batch

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/consensys/gnark/std/rangecheck"

	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// Circuit proves one batch of B = 8^h accounts over A assets (docs/design.md, L1-L3, L5):
//
//   - every balance is in [0, 2^64);
//   - the batch subtree root is the 8-ary tree over leaf_i = Hash(LEAF, idHash_i, packed balances);
//   - the before commitment is opened: Hash(ACC, epoch, packed before sums, beforeSalt), every
//     before sum in [0, 2^96) (L2), and all zero with salt 0 when index = 0 (L1);
//   - after = Hash(ACC, epoch, packed (before + batch sums), afterSalt), every after sum in
//     [0, 2^96) (L2);
//   - the one public input is Digest = Hash(BATCH, epoch, index, root, before, after) (L3).
//
// Padding accounts are ordinary accounts (L5): there is no switch that skips a constraint.
// The shape comes from the slice lengths; build the circuit with NewCircuit. The circuit uses
// std/rangecheck, which adds one commitment: fine for a batch proof verified off chain.
type Circuit struct {
	Digest frontend.Variable `gnark:",public"`

	Epoch      frontend.Variable
	Index      frontend.Variable
	IDHashes   []frontend.Variable   // B salted id hashes
	Balances   [][]frontend.Variable // B rows of A balances
	BeforeSums []frontend.Variable   // A running sums opened from the before commitment
	BeforeSalt frontend.Variable
	AfterSalt  frontend.Variable
}

// NewCircuit allocates a circuit of shape s (for compiling, or for assigning by hand).
func NewCircuit(s Shape) *Circuit {
	b := s.BatchSize()
	c := &Circuit{
		IDHashes:   make([]frontend.Variable, b),
		Balances:   make([][]frontend.Variable, b),
		BeforeSums: make([]frontend.Variable, s.Assets),
	}
	for i := range c.Balances {
		c.Balances[i] = make([]frontend.Variable, s.Assets)
	}
	return c
}

// Shape recovers the circuit's shape from its slice lengths.
func (c *Circuit) Shape() (Shape, error) {
	h, ok := log8(len(c.IDHashes))
	if !ok {
		return Shape{}, fmt.Errorf("batch circuit: %d accounts is not a power of 8", len(c.IDHashes))
	}
	s := Shape{Height: h, Assets: len(c.BeforeSums)}
	if err := s.Validate(); err != nil {
		return Shape{}, fmt.Errorf("batch circuit: %w", err)
	}
	if len(c.Balances) != len(c.IDHashes) {
		return Shape{}, fmt.Errorf("batch circuit: %d balance rows for %d accounts", len(c.Balances), len(c.IDHashes))
	}
	for i, row := range c.Balances {
		if len(row) != s.Assets {
			return Shape{}, fmt.Errorf("batch circuit: account %d has %d balances, want %d", i, len(row), s.Assets)
		}
	}
	return s, nil
}

// Define writes the constraints.
func (c *Circuit) Define(api frontend.API) error {
	s, err := c.Shape()
	if err != nil {
		return err
	}
	g, err := poseidon.NewGadget(api)
	if err != nil {
		return err
	}
	rc := rangecheck.New(api)

	// Epoch and index enter the digest as uint64 natively; bounding them here costs two
	// checks per batch and keeps every input of the circuit bounded.
	rc.Check(c.Epoch, 64)
	rc.Check(c.Index, 64)

	// Leaves and batch sums. Every balance is range-checked to 64 bits before it is packed or
	// summed, so the packing (3 x 64 = 192 bits < 253) is injective and no sum can wrap.
	b := s.BatchSize()
	leaves := make([]frontend.Variable, b)
	batchSums := make([]frontend.Variable, s.Assets)
	for a := range batchSums {
		batchSums[a] = 0
	}
	packed := make([]frontend.Variable, 0, 1+(s.Assets+balancesPerElement-1)/balancesPerElement)
	for i := range b {
		row := c.Balances[i]
		for a, v := range row {
			rc.Check(v, BalanceBits) // v < 2^64
			// batchSums[a] < (i+1) * 2^64 <= B * 2^64 <= 2^(64+3h) <= 2^82 (h <= 6): no wrap.
			batchSums[a] = api.Add(batchSums[a], v)
		}
		packed = append(packed[:0], c.IDHashes[i])
		for a := 0; a < s.Assets; a += balancesPerElement {
			// v0 + v1*2^64 + v2*2^128 < 2^192, from range-checked limbs.
			packed = append(packed, poseidon.PackLimbsGadget(api, row[a:min(a+balancesPerElement, s.Assets)], BalanceBits))
		}
		leaves[i] = g.Hash(poseidon.TagLeaf, packed...)
	}

	// The batch subtree: h levels of 8-ary nodes, one width-12 permutation each.
	level := leaves
	for len(level) > 1 {
		next := make([]frontend.Variable, len(level)/poseidon.Arity)
		for j := range next {
			next[j] = g.Node([poseidon.Arity]frontend.Variable(level[j*poseidon.Arity : (j+1)*poseidon.Arity]))
		}
		level = next
	}
	root := level[0]

	// The before opening (L2): every opened limb is below 2^96 before it is packed, so the
	// opening of a commitment is unique and no limb can be "negative". (The after checks below
	// would already pin the opening's limbs, since after = before + batch limb by limb and the
	// after packing is injective; this check is the rule's defence in depth and costs A checks
	// per batch.)
	for _, v := range c.BeforeSums {
		rc.Check(v, SumBits) // < 2^96
	}
	// L1: batch 0 starts from ACC0's opening: all sums zero and salt zero. isFirst is 1 iff
	// index = 0; each product is then forced to zero.
	isFirst := api.IsZero(c.Index)
	for _, v := range c.BeforeSums {
		api.AssertIsEqual(api.Mul(isFirst, v), 0)
	}
	api.AssertIsEqual(api.Mul(isFirst, c.BeforeSalt), 0)
	before := accCommitGadget(api, g, c.Epoch, c.BeforeSums, c.BeforeSalt)

	// The produced sums (L2): before (< 2^96) + batch (< 2^82) < 2^97, far below p, and then
	// checked back to 96 bits so the next batch can open them.
	afterSums := make([]frontend.Variable, s.Assets)
	for a := range afterSums {
		afterSums[a] = api.Add(c.BeforeSums[a], batchSums[a])
		rc.Check(afterSums[a], SumBits) // < 2^96
	}
	after := accCommitGadget(api, g, c.Epoch, afterSums, c.AfterSalt)

	// L3: the one public input binds epoch, index, root and both commitments.
	api.AssertIsEqual(g.Hash(poseidon.TagBatch, c.Epoch, c.Index, root, before, after), c.Digest)
	return nil
}

// accCommitGadget is AccCommit in circuit. The caller has range-checked every sum to 96 bits:
// two per element is 192 bits < 253, so the packing is injective.
func accCommitGadget(api frontend.API, g *poseidon.Gadget, epoch frontend.Variable, sums []frontend.Variable, salt frontend.Variable) frontend.Variable {
	in := make([]frontend.Variable, 0, 2+(len(sums)+sumsPerElement-1)/sumsPerElement)
	in = append(in, epoch)
	for a := 0; a < len(sums); a += sumsPerElement {
		in = append(in, poseidon.PackLimbsGadget(api, sums[a:min(a+sumsPerElement, len(sums))], SumBits))
	}
	in = append(in, salt)
	return g.Hash(poseidon.TagAcc, in...)
}

// Assign computes the batch natively (Compute) and returns the full witness with the result.
// It refuses inputs the circuit would refuse: a wrong shape, a non-zero start for batch 0 (L1),
// a running sum past 2^96 (L2).
func Assign(s Shape, epoch, index uint64, idHashes []fr.Element, balances [][]uint64, before Opening, afterSalt fr.Element) (*Circuit, Result, error) {
	return AssignWith(poseidon.NewHasher(), s, epoch, index, idHashes, balances, before, afterSalt)
}

// AssignWith is Assign with a caller's hasher (it keeps no state and is safe to share).
func AssignWith(h *poseidon.Hasher, s Shape, epoch, index uint64, idHashes []fr.Element, balances [][]uint64, before Opening, afterSalt fr.Element) (*Circuit, Result, error) {
	if h == nil {
		return nil, Result{}, errors.New("batch: nil hasher")
	}
	res, err := Compute(h, s, epoch, index, idHashes, balances, before, afterSalt)
	if err != nil {
		return nil, Result{}, err
	}
	c := NewCircuit(s)
	c.Digest = res.Digest
	c.Epoch = epoch
	c.Index = index
	for i := range idHashes {
		c.IDHashes[i] = idHashes[i]
		for a, v := range balances[i] {
			c.Balances[i][a] = v
		}
	}
	for a, v := range before.Sums {
		c.BeforeSums[a] = new(big.Int).Set(v)
	}
	c.BeforeSalt = before.Salt
	c.AfterSalt = afterSalt
	return c, res, nil
}

// PublicWitness is the batch proof's public part: just the digest.
func PublicWitness(digest fr.Element) *Circuit {
	return &Circuit{Digest: digest}
}

// Compile compiles the batch circuit of shape s to a Groth16 (R1CS) constraint system over BN254.
func Compile(s Shape) (constraint.ConstraintSystem, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	cs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, NewCircuit(s))
	if err != nil {
		return nil, fmt.Errorf("compile batch circuit %v: %w", s, err)
	}
	return cs, nil
}

// Constraints compiles the batch circuit of shape s and returns its R1CS constraint count.
func Constraints(s Shape) (int, error) {
	cs, err := Compile(s)
	if err != nil {
		return 0, err
	}
	return cs.GetNbConstraints(), nil
}
