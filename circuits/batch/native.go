// Package batch holds the liabilities batch circuit and its native twin: the account id hash,
// the leaf, the 8-ary subtree, the empty-subtree constants, the salted running-sum commitment,
// the batch digest and the liabilities commitment LC, exactly as docs/design.md specifies.
//
// Native API (the contract the liabilities tree, the prover and the verifier build on; h is a
// *poseidon.Hasher, which keeps no state and may be shared):
//
//	const MaxIDLen = 93; SaltBytes = 31; BalanceBits = 64; SumBits = 96; MaxHeight = 6
//	type Shape struct{ Height, Assets int }               // B = 8^Height accounts, Assets assets
//	func (s Shape) BatchSize() int; Validate() error; String() string
//	func IDHash(h, id []byte, salt fr.Element) (fr.Element, error) // Hash(ID, len, 3 x 31-byte limbs, salt)
//	func NewSalt(r io.Reader) (fr.Element, error)                  // 31 random bytes
//	func Leaf(h, idHash fr.Element, balances []uint64) fr.Element  // Hash(LEAF, idHash, 3 x 64-bit packed...)
//	func EmptyRoots(h, maxHeight int) []fr.Element                 // EMPTY_0..EMPTY_maxHeight (L4)
//	func SubtreeRoot(h, leaves []fr.Element) (fr.Element, error)   // len(leaves) a power of 8
//	func TopHeight(batches int) int                                 // max(1, ceil(log8 n))
//	type Opening struct{ Sums []*big.Int; Salt fr.Element }        // a running-sum commitment's opening
//	func ZeroOpening(assets int) Opening; (o Opening) Clone() Opening
//	func AccCommit(h, epoch uint64, o Opening) (fr.Element, error) // Hash(ACC, epoch, 2 x 96-bit packed..., salt)
//	func ACC0(h, epoch uint64, assets int) fr.Element              // AccCommit of ZeroOpening (L1)
//	func Digest(h, epoch, index uint64, root, before, after fr.Element) fr.Element // (L3)
//	type LCPreimage struct{ Epoch, SnapshotTime uint64; Height, Batches, Depth int; Root, AccFinal, AssetsHash fr.Element }
//	func (p LCPreimage) Hash(h) fr.Element; Validate() error      // D = h + TopHeight(n)
//	type Siblings = [7]fr.Element                                   // one path level, own slot left out
//	func PathRoot(h, leaf, index uint64, siblings []Siblings) (fr.Element, error)
//	func VerifyPath(h, leaf, index uint64, depth int, siblings []Siblings, root fr.Element) error // (L7)
//	func PathSiblings(levels [][]fr.Element, index uint64) ([]Siblings, error)
//	type Result struct{ Leaves []fr.Element; Root, Before, After, Digest fr.Element; AfterOpening Opening }
//	func Compute(h, s Shape, epoch, index uint64, idHashes []fr.Element, balances [][]uint64,
//	        before Opening, afterSalt fr.Element) (Result, error)   // one batch, natively
//
// Circuit API (circuit.go):
//
//	type Circuit struct{ Digest (public); Epoch, Index, IDHashes, Balances, BeforeSums, BeforeSalt, AfterSalt }
//	func NewCircuit(s Shape) *Circuit
//	func Assign(s Shape, epoch, index uint64, idHashes []fr.Element, balances [][]uint64,
//	        before Opening, afterSalt fr.Element) (*Circuit, Result, error)
//	func AssignWith(h, s, ...same...) (*Circuit, Result, error)
//	func PublicWitness(digest fr.Element) *Circuit                  // for frontend.PublicOnly()
//	func Compile(s Shape) (constraint.ConstraintSystem, error)     // R1CS over BN254
//	func Constraints(s Shape) (int, error)
//
// The batch circuit uses std/rangecheck (one BSB22 commitment): its proofs are verified off
// chain by the auditor, never by the on-chain verifier (SOUNDNESS.md S8 concerns the solvency
// circuit only).
package batch

import (
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// Limits of the encodings.
const (
	// MaxIDLen is the longest account id in bytes: three 31-byte limbs (L6).
	MaxIDLen = 93
	// idLimbBytes is one id limb: 31 bytes always sit below p.
	idLimbBytes = 31
	idLimbs     = MaxIDLen / idLimbBytes
	// SaltBytes is the size of a fresh salt: 248 random bits (L6 asks for at least 128).
	SaltBytes = 31
	// BalanceBits bounds every balance: [0, 2^64).
	BalanceBits = 64
	// SumBits bounds every running-sum limb (L2): 64 + 32, enough for 2^32 accounts at the
	// largest balance, and two limbs (192 bits) pack injectively into one element.
	SumBits = 96
	// balancesPerElement and sumsPerElement are the packing densities of design.md.
	balancesPerElement = 3
	sumsPerElement     = 2
	// MaxHeight bounds a batch's height: 8^6 = 262,144 accounts is already far past what one
	// Groth16 batch proof should hold.
	MaxHeight = 6
)

// Shape fixes one batch circuit: B = 8^Height accounts over Assets assets.
type Shape struct {
	Height int // subtree height h >= 1
	Assets int // number of assets A >= 1
}

// BatchSize is B = 8^Height.
func (s Shape) BatchSize() int {
	b := 1
	for range s.Height {
		b *= poseidon.Arity
	}
	return b
}

// Validate checks the shape is one the encodings support.
func (s Shape) Validate() error {
	if s.Height < 1 || s.Height > MaxHeight {
		return fmt.Errorf("batch height %d: want 1..%d (B = 8^h accounts)", s.Height, MaxHeight)
	}
	if s.Assets < 1 || s.Assets > assets.MaxAssets {
		return fmt.Errorf("%d assets: want 1..%d", s.Assets, assets.MaxAssets)
	}
	return nil
}

// String renders the shape for messages, e.g. "h=2 (B=64), A=8".
func (s Shape) String() string {
	return fmt.Sprintf("h=%d (B=%d), A=%d", s.Height, s.BatchSize(), s.Assets)
}

// idElements is the fixed-arity encoding of an id: len, then three 31-byte big-endian limbs of
// the id right-padded with zeros to 93 bytes. The length makes "1" and "1\x00" differ; the
// right padding makes "1" and "\x001" differ (L6).
func idElements(id []byte) ([1 + idLimbs]fr.Element, error) {
	var out [1 + idLimbs]fr.Element
	if len(id) == 0 {
		return out, errors.New("account id is empty")
	}
	if len(id) > MaxIDLen {
		return out, fmt.Errorf("account id is %d bytes; at most %d are allowed", len(id), MaxIDLen)
	}
	var padded [MaxIDLen]byte
	copy(padded[:], id)
	out[0].SetUint64(uint64(len(id)))
	for i := range idLimbs {
		// 31 bytes = 248 bits < p: SetBytes never reduces.
		out[1+i].SetBytes(padded[i*idLimbBytes : (i+1)*idLimbBytes])
	}
	return out, nil
}

// IDHash is Hash(ID, len, limb0, limb1, limb2, salt): the only form in which an account id
// enters the tree. It refuses an empty id and one longer than MaxIDLen.
func IDHash(h *poseidon.Hasher, id []byte, salt fr.Element) (fr.Element, error) {
	enc, err := idElements(id)
	if err != nil {
		return fr.Element{}, err
	}
	return h.Hash(poseidon.TagID, enc[0], enc[1], enc[2], enc[3], salt), nil
}

// NewSalt draws a uniformly random salt of SaltBytes bytes from r (crypto/rand.Reader in
// production); 248 bits always sit below p, so no reduction biases it.
func NewSalt(r io.Reader) (fr.Element, error) {
	var b [SaltBytes]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return fr.Element{}, fmt.Errorf("draw salt: %w", err)
	}
	var e fr.Element
	e.SetBytes(b[:])
	return e, nil
}

// packedBalances packs balances three per element (v0 + v1*2^64 + v2*2^128, < 2^192).
func packedBalances(balances []uint64) []fr.Element {
	out := make([]fr.Element, 0, (len(balances)+balancesPerElement-1)/balancesPerElement)
	for i := 0; i < len(balances); i += balancesPerElement {
		out = append(out, poseidon.Pack3x64(balances[i:min(i+balancesPerElement, len(balances))]))
	}
	return out
}

// Leaf is Hash(LEAF, idHash, packed_0..packed_{k-1}), k = ceil(A/3). The arity is fixed by the
// asset table, so every leaf of a tree has the same length (L6).
func Leaf(h *poseidon.Hasher, idHash fr.Element, balances []uint64) fr.Element {
	in := make([]fr.Element, 0, 1+(len(balances)+2)/3)
	in = append(in, idHash)
	in = append(in, packedBalances(balances)...)
	return h.Hash(poseidon.TagLeaf, in...)
}

// EmptyRoots returns EMPTY_0..EMPTY_maxHeight: EMPTY_0 = Hash(EMPTY) and EMPTY_l is the node of
// eight EMPTY_{l-1}. These are the public constants that fill every unused top-tree slot (L4).
func EmptyRoots(h *poseidon.Hasher, maxHeight int) []fr.Element {
	if maxHeight < 0 {
		maxHeight = 0
	}
	out := make([]fr.Element, maxHeight+1)
	out[0] = h.Hash(poseidon.TagEmpty)
	for l := 1; l <= maxHeight; l++ {
		var ch [poseidon.Arity]fr.Element
		for i := range ch {
			ch[i] = out[l-1]
		}
		out[l] = h.Node(&ch)
	}
	return out
}

// SubtreeRoot hashes a full 8-ary subtree bottom-up; len(leaves) must be a power of 8 (1 is the
// height-0 subtree, whose root is the leaf itself).
func SubtreeRoot(h *poseidon.Hasher, leaves []fr.Element) (fr.Element, error) {
	if _, ok := log8(len(leaves)); !ok {
		return fr.Element{}, fmt.Errorf("subtree of %d leaves: want a power of 8", len(leaves))
	}
	level := append([]fr.Element(nil), leaves...)
	for len(level) > 1 {
		next := make([]fr.Element, len(level)/poseidon.Arity)
		for i := range next {
			next[i] = h.Node((*[poseidon.Arity]fr.Element)(level[i*poseidon.Arity : (i+1)*poseidon.Arity]))
		}
		level = next
	}
	return level[0], nil
}

// log8 returns l with n = 8^l, if n is a power of 8.
func log8(n int) (int, bool) {
	if n < 1 {
		return 0, false
	}
	l := 0
	for n > 1 {
		if n%poseidon.Arity != 0 {
			return 0, false
		}
		n /= poseidon.Arity
		l++
	}
	return l, true
}

// TopHeight is the height of the tree above the batches: max(1, ceil(log8 n)).
func TopHeight(batches int) int {
	// Divide down rather than multiply up: a slot count multiplied past 2^63 would wrap and loop
	// forever on a crafted batch count.
	ht := 1
	for rest := (batches - 1) / poseidon.Arity; rest > 0; rest /= poseidon.Arity {
		ht++
	}
	return ht
}

// Opening is what a running-sum commitment hides: one sum per asset, each a 96-bit limb, and the
// commitment's salt.
type Opening struct {
	Sums []*big.Int
	Salt fr.Element
}

// ZeroOpening is ACC0's opening: all-zero sums and salt 0 (L1).
func ZeroOpening(assets int) Opening {
	o := Opening{Sums: make([]*big.Int, assets)}
	for i := range o.Sums {
		o.Sums[i] = new(big.Int)
	}
	return o
}

// Clone returns a deep copy of o.
func (o Opening) Clone() Opening {
	c := Opening{Sums: make([]*big.Int, len(o.Sums)), Salt: o.Salt}
	for i, s := range o.Sums {
		c.Sums[i] = new(big.Int).Set(s)
	}
	return c
}

// packedSums packs the sums two per element (s0 + s1*2^96, < 2^192), refusing any sum outside
// [0, 2^96) (L2).
func packedSums(sums []*big.Int) ([]fr.Element, error) {
	out := make([]fr.Element, 0, (len(sums)+sumsPerElement-1)/sumsPerElement)
	for i := 0; i < len(sums); i += sumsPerElement {
		pair := sums[i:min(i+sumsPerElement, len(sums))]
		for j, s := range pair {
			if s == nil {
				return nil, fmt.Errorf("running sum %d is missing", i+j)
			}
		}
		e, err := poseidon.PackLimbs(pair, SumBits)
		if err != nil {
			return nil, fmt.Errorf("running sums %d..%d: %w", i, i+len(pair)-1, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// AccCommit is Hash(ACC, epoch, sumpacked_0..sumpacked_{m-1}, salt), m = ceil(A/2), each sum a
// 96-bit limb. It refuses an empty opening and any sum outside [0, 2^96).
func AccCommit(h *poseidon.Hasher, epoch uint64, o Opening) (fr.Element, error) {
	if len(o.Sums) == 0 || len(o.Sums) > assets.MaxAssets {
		return fr.Element{}, fmt.Errorf("running-sum opening over %d assets: want 1..%d", len(o.Sums), assets.MaxAssets)
	}
	packed, err := packedSums(o.Sums)
	if err != nil {
		return fr.Element{}, err
	}
	in := make([]fr.Element, 0, 2+len(packed))
	in = append(in, poseidon.Uint64(epoch))
	in = append(in, packed...)
	in = append(in, o.Salt)
	return h.Hash(poseidon.TagAcc, in...), nil
}

// ACC0 is the public start of the running-sum chain for epoch over assets assets (L1).
func ACC0(h *poseidon.Hasher, epoch uint64, assets int) fr.Element {
	c, err := AccCommit(h, epoch, ZeroOpening(assets))
	if err != nil {
		// Only an asset count outside 1..MaxAssets fails, and no valid table has one; hash the
		// count in so a misuse can never collide with a real ACC0.
		return h.Hash(poseidon.TagAcc, poseidon.Uint64(epoch), poseidon.Uint64(uint64(assets)))
	}
	return c
}

// Digest is the batch circuit's one public input: Hash(BATCH, epoch, index, root, before, after)
// (L3).
func Digest(h *poseidon.Hasher, epoch, index uint64, root, before, after fr.Element) fr.Element {
	return h.Hash(poseidon.TagBatch, poseidon.Uint64(epoch), poseidon.Uint64(index), root, before, after)
}

// LCPreimage is everything the liabilities commitment binds (L4, L8).
type LCPreimage struct {
	Epoch, SnapshotTime uint64
	Height              int // batch height h
	Batches             int // n
	Depth               int // D = h + TopHeight(n)
	Root                fr.Element
	AccFinal            fr.Element
	AssetsHash          fr.Element
}

// Hash is LC = Hash(LC, epoch, snapshotTime, h, n, D, root, accFinal, assetsHash).
func (p LCPreimage) Hash(h *poseidon.Hasher) fr.Element {
	return h.Hash(poseidon.TagLC,
		poseidon.Uint64(p.Epoch), poseidon.Uint64(p.SnapshotTime),
		poseidon.Uint64(uint64(p.Height)), poseidon.Uint64(uint64(p.Batches)), poseidon.Uint64(uint64(p.Depth)),
		p.Root, p.AccFinal, p.AssetsHash)
}

// Validate checks the preimage's integers agree with each other: h in range, n >= 1 and
// D = h + TopHeight(n).
func (p LCPreimage) Validate() error {
	if p.Height < 1 || p.Height > MaxHeight {
		return fmt.Errorf("batch height %d: want 1..%d", p.Height, MaxHeight)
	}
	if p.Batches < 1 {
		return fmt.Errorf("%d batches: want at least 1", p.Batches)
	}
	if want := p.Height + TopHeight(p.Batches); p.Depth != want {
		return fmt.Errorf("depth %d: %d batches of height %d give depth %d", p.Depth, p.Batches, p.Height, want)
	}
	return nil
}

// TopLevels builds the tree above the batches: level 0 holds the 8^ht slots of the top tree,
// the n batch roots then the constant EMPTY_height in every padding slot (L4); each level above
// hashes eight children with Node; the last level is the root. A prefix of each level is the
// compact form that stores only the nodes over real batches.
func TopLevels(h *poseidon.Hasher, roots []fr.Element, height int) ([][]fr.Element, error) {
	if len(roots) == 0 {
		return nil, errors.New("top tree: no batches")
	}
	ht := TopHeight(len(roots))
	slots := 1
	for range ht {
		slots *= poseidon.Arity
	}
	empty := EmptyRoots(h, height)[height]
	level := make([]fr.Element, slots)
	for i := range level {
		if i < len(roots) {
			level[i] = roots[i]
		} else {
			level[i] = empty
		}
	}
	levels := [][]fr.Element{level}
	for len(level) > 1 {
		next := make([]fr.Element, len(level)/poseidon.Arity)
		for i := range next {
			next[i] = h.Node((*[poseidon.Arity]fr.Element)(level[i*poseidon.Arity : (i+1)*poseidon.Arity]))
		}
		levels = append(levels, next)
		level = next
	}
	return levels, nil
}
