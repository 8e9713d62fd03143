package batch

import (
	"math/big"
	mrand "math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/consensys/gnark/test"

	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// rawWitness is every private input of the circuit as a field element, so that a test can craft
// values the honest twin would refuse (p-1, 2^64, a limb shifted by 2^96) and still build a
// witness that is consistent everywhere except at the one constraint under test.
type rawWitness struct {
	s          Shape
	epoch      fr.Element
	index      fr.Element
	idHashes   []fr.Element
	balances   [][]fr.Element
	beforeSums []fr.Element
	beforeSalt fr.Element
	afterSalt  fr.Element
}

// fieldParts is the circuit's arithmetic with no range checks at all: every sum and packing is
// taken mod p, exactly as the constraints compute them. A crafted witness whose digest is
// fieldDigest satisfies every constraint except the range checks and L1: so a negative test that
// uses it fails only if one of those constraints is missing.
type fieldParts struct {
	leaves        []fr.Element
	root          fr.Element
	before, after fr.Element
	digest        fr.Element
}

func packField(v []fr.Element, width int) fr.Element {
	var acc, shift fr.Element
	shift.SetBigInt(new(big.Int).Lsh(big.NewInt(1), uint(width)))
	for i := len(v) - 1; i >= 0; i-- {
		acc.Mul(&acc, &shift)
		acc.Add(&acc, &v[i])
	}
	return acc
}

func accField(h *poseidon.Hasher, epoch fr.Element, sums []fr.Element, salt fr.Element) fr.Element {
	in := []fr.Element{epoch}
	for a := 0; a < len(sums); a += 2 {
		in = append(in, packField(sums[a:min(a+2, len(sums))], SumBits))
	}
	in = append(in, salt)
	return h.Hash(poseidon.TagAcc, in...)
}

func (w *rawWitness) field(h *poseidon.Hasher) fieldParts {
	var p fieldParts
	sums := append([]fr.Element(nil), w.beforeSums...)
	for i, row := range w.balances {
		in := []fr.Element{w.idHashes[i]}
		for a := 0; a < len(row); a += 3 {
			in = append(in, packField(row[a:min(a+3, len(row))], BalanceBits))
		}
		p.leaves = append(p.leaves, h.Hash(poseidon.TagLeaf, in...))
		for a := range row {
			sums[a].Add(&sums[a], &row[a])
		}
	}
	p.root, _ = SubtreeRoot(h, p.leaves)
	p.before = accField(h, w.epoch, w.beforeSums, w.beforeSalt)
	p.after = accField(h, w.epoch, sums, w.afterSalt)
	p.digest = h.Hash(poseidon.TagBatch, w.epoch, w.index, p.root, p.before, p.after)
	return p
}

// assignment turns the raw witness into a circuit assignment with the given public digest.
func (w *rawWitness) assignment(digest fr.Element) *Circuit {
	c := NewCircuit(w.s)
	c.Digest = digest
	c.Epoch = w.epoch
	c.Index = w.index
	for i := range w.idHashes {
		c.IDHashes[i] = w.idHashes[i]
		for a := range w.balances[i] {
			c.Balances[i][a] = w.balances[i][a]
		}
	}
	for a := range w.beforeSums {
		c.BeforeSums[a] = w.beforeSums[a]
	}
	c.BeforeSalt = w.beforeSalt
	c.AfterSalt = w.afterSalt
	return c
}

// honestInputs is one random valid batch: heavy-tailed balances, some zero rows (padding, L5).
type honestInputs struct {
	s         Shape
	epoch     uint64
	index     uint64
	idHashes  []fr.Element
	balances  [][]uint64
	before    Opening
	afterSalt fr.Element
}

func randomBatch(rng *mrand.Rand, s Shape, index uint64) honestInputs {
	in := honestInputs{s: s, epoch: rng.Uint64(), index: index}
	b := s.BatchSize()
	in.idHashes = make([]fr.Element, b)
	in.balances = make([][]uint64, b)
	for i := range b {
		in.idHashes[i].SetRandom()
		in.balances[i] = make([]uint64, s.Assets)
		if i%5 == 4 {
			continue // a padding account: zero balances, still an ordinary leaf (L5)
		}
		for a := range in.balances[i] {
			switch rng.IntN(4) {
			case 0: // zero
			case 1:
				in.balances[i][a] = rng.Uint64() // up to 2^64-1: the extreme
			default:
				in.balances[i][a] = rng.Uint64N(1_000_000)
			}
		}
	}
	in.before = ZeroOpening(s.Assets)
	if index > 0 {
		for a := range in.before.Sums {
			// A 90-bit running sum: what many earlier batches leave behind.
			v := new(big.Int).SetUint64(rng.Uint64() >> 38)
			in.before.Sums[a] = v.Lsh(v, 64).Add(v, new(big.Int).SetUint64(rng.Uint64()))
		}
		in.before.Salt.SetRandom()
	}
	in.afterSalt.SetRandom()
	return in
}

func (in honestInputs) raw() *rawWitness {
	w := &rawWitness{s: in.s, idHashes: in.idHashes, beforeSalt: in.before.Salt, afterSalt: in.afterSalt}
	w.epoch.SetUint64(in.epoch)
	w.index.SetUint64(in.index)
	w.balances = make([][]fr.Element, len(in.balances))
	for i, row := range in.balances {
		w.balances[i] = make([]fr.Element, len(row))
		for a, v := range row {
			w.balances[i][a].SetUint64(v)
		}
	}
	w.beforeSums = make([]fr.Element, len(in.before.Sums))
	for a, v := range in.before.Sums {
		w.beforeSums[a].SetBigInt(v)
	}
	return w
}

// solved runs gnark's test engine only, for honest witnesses: CheckCircuit would compile the
// R1CS of each of the seven shapes of TestTwinAgreesWithCircuit (about 10 s more on shared
// cores), while TestGroth16ProveVerify already proves an honest batch through the R1CS. The
// refusals, where a missing constraint would hide, go through CheckCircuit (mustRefuse).
func solved(s Shape, a *Circuit) error {
	return test.IsSolved(NewCircuit(s), a, ecc.BN254.ScalarField())
}

// checkBatch runs gnark's CheckCircuit at shape s: the test engine and the compiled R1CS each
// accept every valid assignment and refuse every invalid one, on BN254 with Groth16, the curve
// and backend the project proves with. The batch shapes here compile in well under a second.
func checkBatch(t *testing.T, s Shape, valid, invalid []*Circuit) {
	t.Helper()
	opts := []test.TestingOption{test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16)}
	for _, a := range valid {
		opts = append(opts, test.WithValidAssignment(a))
	}
	for _, a := range invalid {
		opts = append(opts, test.WithInvalidAssignment(a))
	}
	test.NewAssert(t).CheckCircuit(NewCircuit(s), opts...)
}

// mustRefuse checks that a crafted raw witness, whose digest is computed with the unchecked field
// arithmetic, does not satisfy the circuit (test engine and R1CS).
func mustRefuse(t *testing.T, w *rawWitness, what string) {
	t.Helper()
	t.Logf("refusing %s", what)
	checkBatch(t, w.s, nil, []*Circuit{w.assignment(w.field(poseidon.NewHasher()).digest)})
}

var small = Shape{Height: 1, Assets: 3}

// TestTwinAgreesWithCircuit: on random batches (A = 1, 2, 3, 4, 8 at B = 8, and A = 2 at B = 64
// for a two-level subtree; including 2^64-1 balances and padding rows), the native twin's digest satisfies the circuit and equals the unchecked field
// model's digest; a batch at index > 0 opens a non-zero before commitment.
func TestTwinAgreesWithCircuit(t *testing.T) {
	h := poseidon.NewHasher()
	rng := mrand.New(mrand.NewPCG(10, 11))
	for _, tc := range []struct {
		s     Shape
		index uint64
	}{{Shape{1, 1}, 0}, {Shape{1, 2}, 3}, {small, 0}, {small, 1}, {Shape{1, 4}, 7}, {Shape{1, 8}, 2}, {Shape{2, 2}, 5}} {
		in := randomBatch(rng, tc.s, tc.index)
		c, res, err := AssignWith(h, tc.s, in.epoch, in.index, in.idHashes, in.balances, in.before, in.afterSalt)
		if err != nil {
			t.Fatal(err)
		}
		if err := solved(tc.s, c); err != nil {
			t.Fatalf("%v index %d: honest witness refused: %v", tc.s, tc.index, err)
		}
		f := in.raw().field(h)
		if !f.digest.Equal(&res.Digest) || !f.root.Equal(&res.Root) || !f.after.Equal(&res.After) {
			t.Fatalf("%v: native twin and field model disagree", tc.s)
		}
		// The after opening is the next batch's before opening.
		again, err := AccCommit(h, in.epoch, res.AfterOpening)
		if err != nil || !again.Equal(&res.After) {
			t.Fatalf("%v: AfterOpening does not open After: %v", tc.s, err)
		}
		if tc.index == 0 {
			if acc0 := ACC0(h, in.epoch, tc.s.Assets); !res.Before.Equal(&acc0) {
				t.Fatal("batch 0 does not start from ACC0")
			}
		}
	}
}

// TestChainOfBatches: three batches chained through their openings all satisfy the circuit, and
// the final opening's sums are the column totals of every batch.
func TestChainOfBatches(t *testing.T) {
	h := poseidon.NewHasher()
	rng := mrand.New(mrand.NewPCG(12, 13))
	before := ZeroOpening(small.Assets)
	total := make([]*big.Int, small.Assets)
	for a := range total {
		total[a] = new(big.Int)
	}
	epoch := uint64(77)
	for idx := range uint64(3) {
		in := randomBatch(rng, small, idx)
		for _, row := range in.balances {
			for a, v := range row {
				total[a].Add(total[a], new(big.Int).SetUint64(v))
			}
		}
		c, res, err := AssignWith(h, small, epoch, idx, in.idHashes, in.balances, before, in.afterSalt)
		if err != nil {
			t.Fatal(err)
		}
		if err := solved(small, c); err != nil {
			t.Fatalf("batch %d refused: %v", idx, err)
		}
		before = res.AfterOpening
	}
	for a := range total {
		if total[a].Cmp(before.Sums[a]) != 0 {
			t.Fatalf("asset %d: chained sum %v, column total %v", a, before.Sums[a], total[a])
		}
	}
}

// honestRaw returns a valid raw witness at index and checks it solves, so that each negative
// test starts from a witness that differs only in what it tampers with.
func honestRaw(t *testing.T, seed uint64, index uint64) *rawWitness {
	t.Helper()
	rng := mrand.New(mrand.NewPCG(seed, 99))
	in := randomBatch(rng, small, index)
	// Give asset 0 of account 1 a known balance so the tests below have room to move it.
	in.balances[1][0] = 1000
	w := in.raw()
	if err := solved(small, w.assignment(w.field(poseidon.NewHasher()).digest)); err != nil {
		t.Fatalf("the honest base witness is refused: %v", err)
	}
	return w
}

// TestNegativeBalanceRefused: balance p-1 (that is, -1) in account 0; the field model keeps the
// sums and the after commitment consistent (the column sum drops by one), so only the 64-bit
// range check stands in the way.
func TestNegativeBalanceRefused(t *testing.T) {
	w := honestRaw(t, 1, 0)
	w.balances[0][0].SetInt64(-1) // p - 1
	mustRefuse(t, w, "balance p-1")
}

// TestBalance2Pow64Refused: a balance of exactly 2^64.
func TestBalance2Pow64Refused(t *testing.T) {
	w := honestRaw(t, 2, 1)
	w.balances[2][1].SetBigInt(new(big.Int).Lsh(big.NewInt(1), 64))
	mustRefuse(t, w, "balance 2^64")
}

// TestBalanceCarryIntoNextSlotRefused: balance 2^64 in slot 0 and slot 1 lowered by one pack to
// the same leaf element as (0, v1) would with v1 raised: the leaf is unchanged while the sums
// move. Only the 64-bit range check refuses it.
func TestBalanceCarryIntoNextSlotRefused(t *testing.T) {
	w := honestRaw(t, 3, 1)
	w.balances[1][1].SetUint64(5)
	before := w.field(poseidon.NewHasher()).leaves[1]
	var two64 fr.Element
	two64.SetBigInt(new(big.Int).Lsh(big.NewInt(1), 64))
	w.balances[1][0].Add(&w.balances[1][0], &two64) // 1000 + 2^64
	w.balances[1][1].SetUint64(4)                   // 5 - 1
	if after := w.field(poseidon.NewHasher()).leaves[1]; !after.Equal(&before) {
		t.Fatal("test setup: the carried leaf should be unchanged")
	}
	mustRefuse(t, w, "balance carried across packed slots")
}

// TestLeafLeftOutOfSumsRefused: the digest commits to after sums that omit account 3.
func TestLeafLeftOutOfSumsRefused(t *testing.T) {
	h := poseidon.NewHasher()
	w := honestRaw(t, 4, 1)
	f := w.field(h)
	sums := append([]fr.Element(nil), w.beforeSums...)
	for i, row := range w.balances {
		if i == 3 {
			continue
		}
		for a := range row {
			sums[a].Add(&sums[a], &row[a])
		}
	}
	lowered := accField(h, w.epoch, sums, w.afterSalt)
	if lowered.Equal(&f.after) {
		t.Fatal("test setup: account 3 must hold a non-zero balance")
	}
	digest := h.Hash(poseidon.TagBatch, w.epoch, w.index, f.root, f.before, lowered)
	if err := solved(w.s, w.assignment(digest)); err == nil {
		t.Fatal("a batch whose after sums omit one leaf was accepted")
	}
}

// TestL3_WrongRunningSumLinkRefused: the digest names a before commitment (the previous batch's
// real after) while the witness opens a different one: the link is not the opening.
func TestL3_WrongRunningSumLinkRefused(t *testing.T) {
	h := poseidon.NewHasher()
	w := honestRaw(t, 5, 2)
	f := w.field(h)
	// The real previous commitment had sums 1 higher in asset 0 than the opening the prover
	// uses now.
	prev := append([]fr.Element(nil), w.beforeSums...)
	prev[0].Add(&prev[0], new(fr.Element).SetOne())
	realBefore := accField(h, w.epoch, prev, w.beforeSalt)
	digest := h.Hash(poseidon.TagBatch, w.epoch, w.index, f.root, realBefore, f.after)
	if err := solved(w.s, w.assignment(digest)); err == nil {
		t.Fatal("a before commitment that does not match its opening was accepted")
	}
}

// TestL1_Batch0NonZeroBeforeSumRefused: batch 0 opening a before sum of p-1 (which would erase
// one unit of debt), and batch 0 opening an in-range non-zero sum or a non-zero salt: each with
// a before commitment consistent with its opening, so only the L1 constraint (and for p-1 the
// range check) stands in the way. The same in-range opening at index 1 is accepted.
func TestL1_Batch0NonZeroBeforeSumRefused(t *testing.T) {
	w := honestRaw(t, 6, 0)
	w.beforeSums[0].SetInt64(-1) // p - 1
	mustRefuse(t, w, "batch 0 with before sum p-1")

	w = honestRaw(t, 6, 0)
	w.beforeSums[1].SetUint64(5)
	mustRefuse(t, w, "batch 0 with before sum 5")

	w = honestRaw(t, 6, 0)
	w.beforeSalt.SetUint64(5)
	mustRefuse(t, w, "batch 0 with a non-zero before salt")

	w = honestRaw(t, 6, 0)
	w.beforeSums[1].SetUint64(5)
	w.index.SetUint64(1)
	if err := solved(w.s, w.assignment(w.field(poseidon.NewHasher()).digest)); err != nil {
		t.Fatalf("control: the same opening at index 1 should be accepted: %v", err)
	}
}

// TestL2_LimbShiftedOpeningRefused: before sums (S_0 - 2^96, S_1 + 1) pack to the same element as
// (S_0, S_1), so the before commitment, the after commitment and the digest are all the honest
// ones; only the 96-bit limb checks refuse it. The opposite shift (S_0 + 2^96, S_1 - 1) too.
func TestL2_LimbShiftedOpeningRefused(t *testing.T) {
	h := poseidon.NewHasher()
	var two96, one fr.Element
	two96.SetBigInt(new(big.Int).Lsh(big.NewInt(1), 96))
	one.SetOne()
	for _, sign := range []int{-1, +1} {
		w := honestRaw(t, 7, 1)
		honest := w.field(h).digest
		if sign < 0 {
			w.beforeSums[0].Sub(&w.beforeSums[0], &two96)
			w.beforeSums[1].Add(&w.beforeSums[1], &one)
		} else {
			w.beforeSums[0].Add(&w.beforeSums[0], &two96)
			w.beforeSums[1].Sub(&w.beforeSums[1], &one)
		}
		if d := w.field(h).digest; !d.Equal(&honest) {
			t.Fatal("test setup: the shifted opening should give the honest digest")
		}
		mustRefuse(t, w, "limb-shifted opening")
	}
}

// TestBatchRootMismatchRefused: the digest names a root over leaves that are not the witness's
// (one leaf computed from a different balance).
func TestBatchRootMismatchRefused(t *testing.T) {
	h := poseidon.NewHasher()
	w := honestRaw(t, 8, 1)
	f := w.field(h)
	other := *w
	other.balances = append([][]fr.Element(nil), w.balances...)
	other.balances[6] = append([]fr.Element(nil), w.balances[6]...)
	other.balances[6][2].SetUint64(123456789)
	root := other.field(h).root
	if root.Equal(&f.root) {
		t.Fatal("test setup: the roots should differ")
	}
	digest := h.Hash(poseidon.TagBatch, w.epoch, w.index, root, f.before, f.after)
	if err := solved(w.s, w.assignment(digest)); err == nil {
		t.Fatal("a root that does not match the leaves was accepted")
	}
}

// TestL3_TamperedDigestRefused: the public digest changed by one, or computed for another
// index or epoch.
func TestL3_TamperedDigestRefused(t *testing.T) {
	h := poseidon.NewHasher()
	w := honestRaw(t, 9, 1)
	f := w.field(h)
	var d fr.Element
	d.Add(&f.digest, new(fr.Element).SetOne())
	if err := solved(w.s, w.assignment(d)); err == nil {
		t.Fatal("digest + 1 was accepted")
	}
	var idx2 fr.Element
	idx2.SetUint64(2)
	d = h.Hash(poseidon.TagBatch, w.epoch, idx2, f.root, f.before, f.after)
	if err := solved(w.s, w.assignment(d)); err == nil {
		t.Fatal("a digest for another index was accepted")
	}
}

// TestL2_AfterSumOverflowRefused: the twin refuses a batch whose running sum would pass 2^96,
// and so does the circuit when the sums are assigned directly.
func TestL2_AfterSumOverflowRefused(t *testing.T) {
	h := poseidon.NewHasher()
	w := honestRaw(t, 10, 1)
	max96 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 96), big.NewInt(1))
	w.beforeSums[0].SetBigInt(max96) // + balance 1000 of account 1 passes 2^96
	mustRefuse(t, w, "after sum past 2^96")

	in := randomBatch(mrand.New(mrand.NewPCG(1, 1)), small, 1)
	in.balances[0][0] = 1
	in.before.Sums[0] = max96
	if _, _, err := AssignWith(h, small, in.epoch, in.index, in.idHashes, in.balances, in.before, in.afterSalt); err == nil {
		t.Fatal("Assign accepted a running sum past 2^96")
	}
}

func TestAssignRefusesBadInputs(t *testing.T) {
	h := poseidon.NewHasher()
	rng := mrand.New(mrand.NewPCG(5, 5))
	in := randomBatch(rng, small, 0)
	if _, _, err := AssignWith(h, small, 0, 0, in.idHashes[:7], in.balances, in.before, in.afterSalt); err == nil {
		t.Error("7 accounts accepted for B = 8")
	}
	bad := in.before.Clone()
	bad.Sums[2].SetInt64(1)
	if _, _, err := AssignWith(h, small, 0, 0, in.idHashes, in.balances, bad, in.afterSalt); err == nil {
		t.Error("batch 0 from a non-zero opening accepted (L1)")
	}
	if _, _, err := AssignWith(h, Shape{1, 4}, 0, 0, in.idHashes, in.balances, ZeroOpening(4), in.afterSalt); err == nil {
		t.Error("rows of 3 balances accepted for A = 4")
	}
}

// TestGroth16ProveVerify runs one real Groth16 setup, prove and verify at h=1, A=3, and checks
// that the proof does not verify against another digest.
func TestGroth16ProveVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("real Groth16 setup")
	}
	field := ecc.BN254.ScalarField()
	ccs, err := frontend.Compile(field, r1cs.NewBuilder, NewCircuit(small))
	if err != nil {
		t.Fatal(err)
	}
	pk, vk, err := groth16.Setup(ccs)
	if err != nil {
		t.Fatal(err)
	}
	in := randomBatch(mrand.New(mrand.NewPCG(20, 21)), small, 4)
	c, res, err := Assign(small, in.epoch, in.index, in.idHashes, in.balances, in.before, in.afterSalt)
	if err != nil {
		t.Fatal(err)
	}
	full, err := frontend.NewWitness(c, field)
	if err != nil {
		t.Fatal(err)
	}
	proof, err := groth16.Prove(ccs, pk, full)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := frontend.NewWitness(PublicWitness(res.Digest), field, frontend.PublicOnly())
	if err != nil {
		t.Fatal(err)
	}
	if err := groth16.Verify(proof, vk, pub); err != nil {
		t.Fatalf("valid proof refused: %v", err)
	}
	var other fr.Element
	other.Add(&res.Digest, new(fr.Element).SetOne())
	pub2, err := frontend.NewWitness(PublicWitness(other), field, frontend.PublicOnly())
	if err != nil {
		t.Fatal(err)
	}
	if err := groth16.Verify(proof, vk, pub2); err == nil {
		t.Fatal("proof verified against another digest")
	}
	// A witness the circuit refuses cannot be proven either.
	c.Balances[0][0] = new(big.Int).Sub(field, big.NewInt(1))
	bad, err := frontend.NewWitness(c, field)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := groth16.Prove(ccs, pk, bad); err == nil {
		t.Fatal("a proof was produced for a balance of p-1")
	}
}
