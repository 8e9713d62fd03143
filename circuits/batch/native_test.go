package batch

import (
	"bytes"
	"crypto/rand"
	"math"
	"math/big"
	mrand "math/rand/v2"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// TestL6_IDHashInjective: ids that a sloppy encoding would confuse hash differently, and the
// length limit holds.
func TestL6_IDHashInjective(t *testing.T) {
	h := poseidon.NewHasher()
	var salt fr.Element
	salt.SetUint64(42)
	seen := map[fr.Element]string{}
	for _, id := range []string{"1", "01", "\x001", "1\x00", strings.Repeat("a", 31), strings.Repeat("a", 31) + "\x00", strings.Repeat("z", MaxIDLen)} {
		got, err := IDHash(h, []byte(id), salt)
		if err != nil {
			t.Fatalf("IDHash(%q): %v", id, err)
		}
		if prev, dup := seen[got]; dup {
			t.Fatalf("ids %q and %q share an idHash", prev, id)
		}
		seen[got] = id
	}
	if _, err := IDHash(h, bytes.Repeat([]byte("a"), MaxIDLen+1), salt); err == nil {
		t.Error("an id of 94 bytes was accepted")
	}
	if _, err := IDHash(h, nil, salt); err == nil {
		t.Error("an empty id was accepted")
	}
	// The salt changes the hash.
	a, _ := IDHash(h, []byte("alice"), salt)
	var salt2 fr.Element
	salt2.SetUint64(43)
	b, _ := IDHash(h, []byte("alice"), salt2)
	if a.Equal(&b) {
		t.Error("the salt does not enter idHash")
	}
}

// TestIDHashEncoding pins the preimage: Hash(ID, len, three 31-byte big-endian limbs, salt).
func TestIDHashEncoding(t *testing.T) {
	h := poseidon.NewHasher()
	var salt fr.Element
	salt.SetUint64(7)
	id := []byte(strings.Repeat("x", 40)) // limb 0 full, limb 1 holds 9 bytes, limb 2 empty
	var l0, l1 fr.Element
	l0.SetBytes(id[:31])
	l1.SetBytes(append(append([]byte{}, id[31:]...), make([]byte, 22)...))
	want := h.Hash(poseidon.TagID, poseidon.Uint64(40), l0, l1, fr.Element{}, salt)
	got, err := IDHash(h, id, salt)
	if err != nil || !got.Equal(&want) {
		t.Fatalf("IDHash encoding differs from design.md: %v", err)
	}
}

func TestNewSalt(t *testing.T) {
	a, err := NewSalt(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSalt(rand.Reader)
	if a.Equal(&b) || a.IsZero() {
		t.Error("two salts collide or a salt is zero")
	}
	if a.BigInt(new(big.Int)).BitLen() > 8*SaltBytes {
		t.Error("salt wider than 248 bits")
	}
	if _, err := NewSalt(bytes.NewReader(make([]byte, 5))); err == nil {
		t.Error("a short random source was accepted")
	}
}

// TestL4_EmptyRoots: the empty-subtree constants are the chain design.md defines, and equal the
// root of a full subtree of EMPTY_0 leaves; they are pinned so that no change slips through.
func TestL4_EmptyRoots(t *testing.T) {
	h := poseidon.NewHasher()
	e := EmptyRoots(h, 3)
	if len(e) != 4 {
		t.Fatalf("EmptyRoots(3) has %d entries", len(e))
	}
	if e0 := h.Hash(poseidon.TagEmpty); !e[0].Equal(&e0) {
		t.Fatal("EMPTY_0 is not Hash(EMPTY)")
	}
	for l := 1; l <= 3; l++ {
		leaves := make([]fr.Element, 1<<(3*l))
		for i := range leaves {
			leaves[i] = e[0]
		}
		r, err := SubtreeRoot(h, leaves)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Equal(&e[l]) {
			t.Fatalf("EMPTY_%d is not the root of 8^%d empty leaves", l, l)
		}
		if e[l].Equal(&e[l-1]) {
			t.Fatalf("EMPTY_%d equals EMPTY_%d", l, l-1)
		}
	}
	for l, want := range emptyVectors {
		if got := poseidon.Hex(e[l]); got != want {
			t.Errorf("EMPTY_%d = %s, pinned %s", l, got, want)
		}
	}
}

func TestSubtreeRootShape(t *testing.T) {
	h := poseidon.NewHasher()
	for _, n := range []int{0, 2, 7, 9, 16, 63} {
		if _, err := SubtreeRoot(h, make([]fr.Element, n)); err == nil {
			t.Errorf("SubtreeRoot accepted %d leaves", n)
		}
	}
	leaves := make([]fr.Element, 8)
	for i := range leaves {
		leaves[i].SetUint64(uint64(i))
	}
	r, _ := SubtreeRoot(h, leaves)
	if want := h.Node((*[8]fr.Element)(leaves)); !r.Equal(&want) {
		t.Error("height-1 subtree root is not Node(leaves)")
	}
}

func TestTopHeight(t *testing.T) {
	for n, want := range map[int]int{0: 1, 1: 1, 2: 1, 8: 1, 9: 2, 64: 2, 65: 3, 512: 3, 513: 4} {
		if got := TopHeight(n); got != want {
			t.Errorf("TopHeight(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestShape(t *testing.T) {
	if b := (Shape{Height: 3, Assets: 8}).BatchSize(); b != 512 {
		t.Errorf("BatchSize h=3: %d", b)
	}
	for _, s := range []Shape{{0, 8}, {MaxHeight + 1, 8}, {1, 0}, {1, 65}} {
		if s.Validate() == nil {
			t.Errorf("shape %+v accepted", s)
		}
	}
	if err := (Shape{1, 1}).Validate(); err != nil {
		t.Error(err)
	}
}

// TestL2_AccCommitRefusesOutOfRangeSums: the native commitment refuses what the circuit's range
// checks refuse: a negative sum or one of 2^96.
func TestL2_AccCommitRefusesOutOfRangeSums(t *testing.T) {
	h := poseidon.NewHasher()
	two96 := new(big.Int).Lsh(big.NewInt(1), 96)
	for _, sums := range [][]*big.Int{
		{big.NewInt(-1), big.NewInt(0)},
		{two96, big.NewInt(0)},
		{big.NewInt(0), nil},
		{},
	} {
		if _, err := AccCommit(h, 1, Opening{Sums: sums}); err == nil {
			t.Errorf("AccCommit accepted sums %v", sums)
		}
	}
	// The packing is s0 + s1*2^96, then salt; odd A leaves the last element with one limb.
	o := Opening{Sums: []*big.Int{big.NewInt(5), big.NewInt(6), big.NewInt(7)}}
	o.Salt.SetUint64(9)
	got, err := AccCommit(h, 3, o)
	if err != nil {
		t.Fatal(err)
	}
	var p0 fr.Element
	p0.SetBigInt(new(big.Int).Add(big.NewInt(5), new(big.Int).Lsh(big.NewInt(6), 96)))
	want := h.Hash(poseidon.TagAcc, poseidon.Uint64(3), p0, poseidon.Uint64(7), o.Salt)
	if !got.Equal(&want) {
		t.Error("AccCommit preimage differs from design.md")
	}
	acc0 := ACC0(h, 3, 3)
	z, _ := AccCommit(h, 3, ZeroOpening(3))
	if !acc0.Equal(&z) || acc0.Equal(&got) {
		t.Error("ACC0 is not the zero opening's commitment")
	}
	if a, b := ACC0(h, 3, 3), ACC0(h, 4, 3); a.Equal(&b) {
		t.Error("ACC0 does not bind the epoch")
	}
}

func TestLeafPacking(t *testing.T) {
	h := poseidon.NewHasher()
	var id fr.Element
	id.SetUint64(11)
	bal := []uint64{1, 2, 3, 4}
	want := h.Hash(poseidon.TagLeaf, id, poseidon.Pack3x64(bal[:3]), poseidon.Pack3x64(bal[3:]))
	if got := Leaf(h, id, bal); !got.Equal(&want) {
		t.Error("leaf preimage differs from design.md")
	}
}

func TestLCPreimage(t *testing.T) {
	h := poseidon.NewHasher()
	p := LCPreimage{Epoch: 1, SnapshotTime: 2, Height: 2, Batches: 9, Depth: 4}
	p.Root.SetUint64(5)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	want := h.Hash(poseidon.TagLC, poseidon.Uint64(1), poseidon.Uint64(2), poseidon.Uint64(2), poseidon.Uint64(9),
		poseidon.Uint64(4), p.Root, p.AccFinal, p.AssetsHash)
	if got := p.Hash(h); !got.Equal(&want) {
		t.Error("LC preimage differs from design.md")
	}
	q := p
	q.Depth = 5
	if q.Validate() == nil {
		t.Error("a depth that does not match h and n was accepted")
	}
	if a, b := p.Hash(h), q.Hash(h); a.Equal(&b) {
		t.Error("LC does not bind the depth")
	}
}

// buildTree returns every level of a full 8-ary tree over random leaves.
func buildTree(t *testing.T, h *poseidon.Hasher, depth int, rng *mrand.Rand) [][]fr.Element {
	t.Helper()
	n := 1 << (3 * depth)
	leaves := make([]fr.Element, n)
	for i := range leaves {
		leaves[i].SetUint64(rng.Uint64())
	}
	levels := [][]fr.Element{leaves}
	for len(levels[len(levels)-1]) > 1 {
		cur := levels[len(levels)-1]
		next := make([]fr.Element, len(cur)/8)
		for i := range next {
			next[i] = h.Node((*[8]fr.Element)(cur[8*i : 8*i+8]))
		}
		levels = append(levels, next)
	}
	return levels
}

// TestL7_PathExactness: a correct path verifies; one sibling level too many or too few, an index
// past the tree, a flipped direction and a changed sibling are each rejected.
func TestL7_PathExactness(t *testing.T) {
	h := poseidon.NewHasher()
	rng := mrand.New(mrand.NewPCG(3, 4))
	const depth = 2
	levels := buildTree(t, h, depth, rng)
	root := levels[depth][0]
	if r, err := SubtreeRoot(h, levels[0]); err != nil || !r.Equal(&root) {
		t.Fatalf("SubtreeRoot disagrees with the level-by-level tree: %v", err)
	}
	for _, idx := range []uint64{0, 7, 8, 37, 63} {
		sib, err := PathSiblings(levels, idx)
		if err != nil {
			t.Fatal(err)
		}
		leaf := levels[0][idx]
		if err := VerifyPath(h, leaf, idx, depth, sib, root); err != nil {
			t.Fatalf("index %d: valid path refused: %v", idx, err)
		}
		longer := append(append([]Siblings{}, sib...), Siblings{})
		if VerifyPath(h, leaf, idx, depth, longer, root) == nil {
			t.Errorf("index %d: D+1 siblings accepted", idx)
		}
		if VerifyPath(h, leaf, idx, depth, sib[:1], root) == nil {
			t.Errorf("index %d: D-1 siblings accepted", idx)
		}
		if VerifyPath(h, leaf, idx+64, depth, sib, root) == nil {
			t.Errorf("index %d: index >= 8^D accepted", idx)
		}
		if VerifyPath(h, leaf, idx^1, depth, sib, root) == nil {
			t.Errorf("index %d: flipped direction accepted", idx)
		}
		bad := append([]Siblings{}, sib...)
		bad[1][3].SetUint64(12345)
		if VerifyPath(h, leaf, idx, depth, bad, root) == nil {
			t.Errorf("index %d: changed sibling accepted", idx)
		}
	}
}

// emptyVectors pins EMPTY_0..EMPTY_3 (fixed test vectors for other implementations).
var emptyVectors = []string{
	"0x258dc81d922363b789d489259cc6c14cbe0e318843633cbce8389c12060858e6",
	"0x1f73030adbbe7c63ace68dd495c6057a869e17408119c51d53738c5303ee9e39",
	"0x0d0f5fc9a457d036fd8f470ab9e7a146422c5ae085ec32e4237bf6128904d0f3",
	"0x26be82a8596a17fc4da8b258d8d99521b446db87be644ea2ac1eb58e1736b1ac",
}

// FuzzIDHashInjective: two different valid ids never share an idHash under one salt, and the
// length limit is exact.
func FuzzIDHashInjective(f *testing.F) {
	f.Add([]byte("1"), []byte("01"))
	f.Add([]byte("\x001"), []byte("1"))
	f.Add([]byte("1"), []byte("1\x00"))
	h := poseidon.NewHasher()
	var salt fr.Element
	salt.SetUint64(1)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ha, errA := IDHash(h, a, salt)
		hb, errB := IDHash(h, b, salt)
		if (errA == nil) != (len(a) >= 1 && len(a) <= MaxIDLen) || (errB == nil) != (len(b) >= 1 && len(b) <= MaxIDLen) {
			t.Fatalf("length limit: len %d -> %v, len %d -> %v", len(a), errA, len(b), errB)
		}
		if errA == nil && errB == nil && !bytes.Equal(a, b) && ha.Equal(&hb) {
			t.Fatalf("ids %q and %q share an idHash", a, b)
		}
	})
}

// TestTopHeightHugeCountTerminates: a crafted batch count near 2^63 must not hang a verifier.
func TestTopHeightHugeCountTerminates(t *testing.T) {
	for n, want := range map[int]int{1: 1, 8: 1, 9: 2, 64: 2, 65: 3, 512: 3, 513: 4} {
		if got := TopHeight(n); got != want {
			t.Errorf("TopHeight(%d) = %d, want %d", n, got, want)
		}
	}
	if got := TopHeight(math.MaxInt); got != 21 {
		t.Errorf("TopHeight(MaxInt) = %d, want 21", got)
	}
}
