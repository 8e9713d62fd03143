package liabilities

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/batch"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
)

// InclusionProof is one user's inclusion proof file (KindInclusionProof, FormatVersion). It
// holds the account's id, salt and balances, its leaf index and path, and every value the path
// is checked against: the snapshot's LC preimage and the asset table.
//
// Path has exactly Depth levels, leaf level first; each level lists the seven siblings of the
// path's node in child order with the node's own position left out. The node's position at level
// l is the l-th base-8 digit of LeafIndex, least significant first.
type InclusionProof struct {
	Version   int            `json:"version"`
	Kind      string         `json:"kind"`
	AccountID string         `json:"account_id"`
	Salt      Hex            `json:"salt"`
	Balances  []ProofBalance `json:"balances"` // every asset of the table, slot order
	LeafIndex uint64         `json:"leaf_index"`
	Path      [][]Hex        `json:"path"`
	Snapshot  ProofSnapshot  `json:"snapshot"`
}

// ProofBalance is one balance: the decimal amount for people and the circuit units that are
// hashed into the leaf. Both must agree exactly.
type ProofBalance struct {
	Symbol string `json:"symbol"`
	Amount string `json:"amount"` // units at the asset's precision, as a plain decimal
	Units  Units  `json:"units"`
}

// ProofSnapshot is what an inclusion proof is checked against: LC's preimage, LC, the asset
// table and the batch size.
type ProofSnapshot struct {
	Epoch        uint64         `json:"epoch"`
	SnapshotTime uint64         `json:"snapshot_time"`
	Assets       []assets.Asset `json:"assets"`
	AssetsHash   Hex            `json:"assets_hash"`
	BatchHeight  int            `json:"batch_height"`
	BatchSize    int            `json:"batch_size"`
	Batches      int            `json:"batches"`
	Depth        int            `json:"depth"`
	Root         Hex            `json:"root"`
	AccFinal     Hex            `json:"acc_final"`
	LC           Hex            `json:"lc"`
}

// Preimage is the LC preimage the proof states.
func (s *ProofSnapshot) Preimage() batch.LCPreimage {
	return batch.LCPreimage{
		Epoch: s.Epoch, SnapshotTime: s.SnapshotTime,
		Height: s.BatchHeight, Batches: s.Batches, Depth: s.Depth,
		Root: s.Root.Fr(), AccFinal: s.AccFinal.Fr(), AssetsHash: s.AssetsHash.Fr(),
	}
}

// Units is a balance in circuit units. In JSON it is a string of decimal digits (no sign, no
// leading zeros), because 64-bit integers do not survive JavaScript's numbers.
type Units uint64

// MarshalJSON implements json.Marshaler.
func (u Units) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatUint(uint64(u), 10) + `"`), nil
}

// UnmarshalJSON implements json.Unmarshaler, canonically: "0" or digits without a leading zero,
// below 2^64.
func (u *Units) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("units: want a string of decimal digits: %w", err)
	}
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return fmt.Errorf("units %q: want decimal digits without leading zeros", s)
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return fmt.Errorf("units %q: want decimal digits", s)
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return fmt.Errorf("units %q: not below 2^64", s)
	}
	*u = Units(v)
	return nil
}

// ErrMalformed marks an inclusion proof that cannot be read at all (bad JSON, a wrong kind or
// version, a non-canonical field element); other errors mean it was read and does not hold.
var ErrMalformed = errors.New("malformed inclusion proof")

// ParseInclusionProof decodes an inclusion proof strictly: unknown, missing (a proof without
// its salt), duplicate and case-variant keys, trailing data and non-canonical field elements
// (V3) are errors wrapping ErrMalformed.
func ParseInclusionProof(r io.Reader) (*InclusionProof, error) {
	raw, err := io.ReadAll(io.LimitReader(r, boundedfile.InclusionProof.Max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) > boundedfile.InclusionProof.Max {
		return nil, fmt.Errorf("%w: larger than any inclusion proof", ErrMalformed)
	}
	return decodeInclusionProof("inclusion proof", raw)
}

// ReadInclusionProof reads a user's proof file, a regular file within the inclusion proof's
// size limit (V8), and decodes it as ParseInclusionProof does, naming the file in errors.
func ReadInclusionProof(path string) (*InclusionProof, error) {
	raw, err := boundedfile.ReadFile(path, boundedfile.InclusionProof)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return decodeInclusionProof(path, raw)
}

func decodeInclusionProof(name string, raw []byte) (*InclusionProof, error) {
	var p InclusionProof
	if err := jsonstrict.Unmarshal(name, raw, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if p.Kind != KindInclusionProof || p.Version != FormatVersion {
		return nil, fmt.Errorf("%w: kind %q version %d; want %q version %d", ErrMalformed, p.Kind, p.Version, KindInclusionProof, FormatVersion)
	}
	return &p, nil
}

// VerifyInclusion checks that the proof's account, with exactly the balances the file states,
// is a leaf of the tree whose root is root, and that everything the file says about the
// snapshot is consistent: assetsHash is the hash of the table, LC the hash of its preimage,
// the path has exactly D levels and the index is below n*B (L7).
//
// root must come from somewhere the user trusts: the on-chain attestation's LC preimage, or a
// bundle that `verify bundle` accepted (V5). Checked against a root taken from the operator's own
// file, this proves only that the file is self-consistent, not that the balance was counted.
func VerifyInclusion(p *InclusionProof, root fr.Element) error {
	if p == nil {
		return errors.New("no inclusion proof")
	}
	if p.Kind != KindInclusionProof || p.Version != FormatVersion {
		return fmt.Errorf("kind %q version %d; want %q version %d", p.Kind, p.Version, KindInclusionProof, FormatVersion)
	}
	if err := CheckID(p.AccountID); err != nil {
		return fmt.Errorf("account_id: %w", err)
	}
	h := poseidon.NewHasher()
	snap := &p.Snapshot
	table := &assets.Table{Assets: snap.Assets}
	if err := table.Validate(); err != nil {
		return fmt.Errorf("snapshot.assets: %w", err)
	}
	if ah := table.Hash(h); !snap.AssetsHash.Equal(ah) {
		return errors.New("snapshot.assets_hash is not the hash of snapshot.assets")
	}
	units, err := p.units(table)
	if err != nil {
		return err
	}
	// n is bounded before anything computes with it: each batch holds at least one account.
	if snap.Batches < 1 || snap.Batches > MaxAccounts {
		return fmt.Errorf("snapshot.batches %d: want 1..%d", snap.Batches, MaxAccounts)
	}
	pre := snap.Preimage()
	if err := pre.Validate(); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	B := batch.Shape{Height: snap.BatchHeight, Assets: table.Len()}.BatchSize()
	if snap.BatchSize != B {
		return fmt.Errorf("snapshot.batch_size %d: batch height %d gives %d", snap.BatchSize, snap.BatchHeight, B)
	}
	if lc := pre.Hash(h); !snap.LC.Equal(lc) {
		return errors.New("snapshot.lc is not the hash of the snapshot's fields (epoch, snapshot_time, batch_height, batches, depth, root, acc_final, assets_hash)")
	}
	// L7: exactly D levels, seven siblings each, and an index inside the proven batches.
	if len(p.Path) != snap.Depth {
		return fmt.Errorf("the path has %d levels; the tree has depth %d (L7)", len(p.Path), snap.Depth)
	}
	sibs := make([]batch.Siblings, len(p.Path))
	for l, lv := range p.Path {
		if len(lv) != len(sibs[l]) {
			return fmt.Errorf("path level %d has %d siblings; want %d", l, len(lv), len(sibs[l]))
		}
		for k := range lv {
			sibs[l][k] = lv[k].Fr()
		}
	}
	if limit := uint64(snap.Batches) * uint64(B); p.LeafIndex >= limit {
		return fmt.Errorf("leaf_index %d is not below n*B = %d*%d = %d: it is not in a proven batch (L7)", p.LeafIndex, snap.Batches, B, limit)
	}
	// The leaf is recomputed from the id and balances in the file, never taken from it.
	idHash, err := batch.IDHash(h, []byte(p.AccountID), p.Salt.Fr())
	if err != nil {
		return fmt.Errorf("account_id: %w", err)
	}
	leaf := batch.Leaf(h, idHash, units)
	got, err := batch.PathRoot(h, leaf, p.LeafIndex, sibs)
	if err != nil {
		return err
	}
	if !got.Equal(&root) {
		if snap.Root.Equal(got) {
			return fmt.Errorf("the proof leads to the file's root %s, not to the root you gave, %s", poseidon.Hex(got), poseidon.Hex(root))
		}
		return fmt.Errorf("the account, balances, index and path do not lead to the root %s (they lead to %s): something in the file was changed", poseidon.Hex(root), poseidon.Hex(got))
	}
	if !snap.Root.Equal(root) {
		return fmt.Errorf("snapshot.root %s is not the root you gave, %s, so LC is about another tree", poseidon.Hex(snap.Root.Fr()), poseidon.Hex(root))
	}
	return nil
}

// VerifyInclusionLC is VerifyInclusion for a user who trusts an LC rather than a root (the
// value the registry records on chain): LC binds the root, so the proof is checked against the
// root its own LC preimage names, after its LC is found equal to lc.
func VerifyInclusionLC(p *InclusionProof, lc fr.Element) error {
	if p == nil {
		return errors.New("no inclusion proof")
	}
	if err := p.CheckLC(lc); err != nil {
		return err
	}
	return VerifyInclusion(p, p.Snapshot.Root.Fr())
}

// units returns the balances in slot order after checking they cover the table exactly and that
// every amount is the exact decimal rendering of its units.
func (p *InclusionProof) units(table *assets.Table) ([]uint64, error) {
	if len(p.Balances) != table.Len() {
		return nil, fmt.Errorf("%d balances; the asset table has %d assets", len(p.Balances), table.Len())
	}
	out := make([]uint64, len(p.Balances))
	for i, b := range p.Balances {
		a := table.Assets[i]
		if b.Symbol != a.Symbol {
			return nil, fmt.Errorf("balances[%d] is %q; slot %d of the asset table is %q", i, b.Symbol, i, a.Symbol)
		}
		if want := assets.FormatUnits(new(big.Int).SetUint64(uint64(b.Units)), a.Precision); b.Amount != want {
			return nil, fmt.Errorf("balances[%d] (%s): amount %q does not match units %d (%s)", i, a.Symbol, b.Amount, b.Units, want)
		}
		out[i] = uint64(b.Units)
	}
	return out, nil
}

// CheckAccount checks that the proof is for the account id the user typed (L7: the id is never
// taken from the proof file alone). An empty or malformed id is refused, so a caller that forgot
// to ask the user cannot pass "" and accept any proof. VerifyInclusion recomputes idHash from the
// file's id; equal bytes make it the typed id's idHash.
func (p *InclusionProof) CheckAccount(id string) error {
	if id == "" {
		return errors.New("no account id given: type your own account id, the proof must be for exactly that id")
	}
	if err := CheckID(id); err != nil {
		return fmt.Errorf("account id %q: %w", id, err)
	}
	if p.AccountID != id {
		return fmt.Errorf("the proof is for account %q, not %q", p.AccountID, id)
	}
	return nil
}

// CheckBalance checks that the proof's balance in symbol is amount (a plain decimal, rounded up
// into circuit units exactly as the snapshot's CSV was).
func (p *InclusionProof) CheckBalance(symbol, amount string) error {
	table := &assets.Table{Assets: p.Snapshot.Assets}
	slot, ok := table.Index(symbol)
	if !ok || slot >= len(p.Balances) {
		return fmt.Errorf("asset %q is not in the snapshot's asset table", symbol)
	}
	want, err := assets.ParseLiability(amount, table.Assets[slot].Precision)
	if err != nil {
		return fmt.Errorf("expected %s: %w", symbol, err)
	}
	if got := uint64(p.Balances[slot].Units); got != want {
		return fmt.Errorf("the proof's %s balance is %s, not the %s you expected", symbol, p.Balances[slot].Amount, amount)
	}
	return nil
}

// CheckLC checks the proof's LC against one the user trusts (from the chain or a verified
// bundle).
func (p *InclusionProof) CheckLC(lc fr.Element) error {
	if !p.Snapshot.LC.Equal(lc) {
		return fmt.Errorf("the proof's LC %s is not the LC you gave, %s", poseidon.Hex(p.Snapshot.LC.Fr()), poseidon.Hex(lc))
	}
	return nil
}

// Proof returns the inclusion proof of account id: a lookup in the index, one batch's leaves
// (B x 32 bytes), the sibling subtrees inside the batch and the top tree from the public file.
// The proof is verified against the public root before it is returned, so a corrupt store
// cannot hand a user a proof that fails.
func (st *Store) Proof(id string) (*InclusionProof, error) {
	leaf, err := st.Lookup(id)
	if err != nil {
		return nil, err
	}
	return st.ProofAt(leaf)
}

// ProofAt returns the inclusion proof of the account at leaf index; padding slots have none.
func (st *Store) ProofAt(index uint64) (*InclusionProof, error) {
	pub := st.pub
	B := pub.BatchSize
	if index >= uint64(st.man.Slots) {
		return nil, fmt.Errorf("leaf index %d: the snapshot has %d slots", index, st.man.Slots)
	}
	b, pos := int(index)/B, int(index)%B
	recs, err := st.readAccounts(int(index), 1)
	if err != nil {
		return nil, err
	}
	acc := recs[0]
	if acc.padding {
		return nil, fmt.Errorf("leaf index %d is a padding account", index)
	}
	leaves, err := st.readLeaves(b*B, B)
	if err != nil {
		return nil, err
	}
	h := st.h
	// The record must still hash to the stored leaf.
	idHash, err := batch.IDHash(h, []byte(acc.id), acc.salt)
	if err != nil || !idHash.Equal(&acc.idHash) {
		return nil, fmt.Errorf("%s: record %d: the id and salt do not hash to the stored idHash", AccountsBin, index)
	}
	if l := batch.Leaf(h, idHash, acc.balances); !l.Equal(&leaves[pos]) {
		return nil, fmt.Errorf("%s: leaf %d does not match its account record", LeavesBin, index)
	}

	p := &InclusionProof{
		Version: FormatVersion, Kind: KindInclusionProof,
		AccountID: acc.id, Salt: Hex(acc.salt),
		LeafIndex: index,
		Snapshot: ProofSnapshot{
			Epoch: pub.Epoch, SnapshotTime: pub.SnapshotTime,
			Assets: pub.Assets, AssetsHash: pub.AssetsHash,
			BatchHeight: pub.BatchHeight, BatchSize: B, Batches: pub.Batches, Depth: pub.Depth,
			Root: pub.Root, AccFinal: pub.AccFinal, LC: pub.LC,
		},
	}
	for i, a := range pub.Assets {
		v := acc.balances[i]
		p.Balances = append(p.Balances, ProofBalance{Symbol: a.Symbol, Units: Units(v),
			Amount: assets.FormatUnits(new(big.Int).SetUint64(v), a.Precision)})
	}
	// Inside the batch: the siblings at level l are the roots of the seven other blocks of 8^l
	// leaves under the same parent; they are disjoint, so this hashes about B/7 nodes.
	block := 1
	for range pub.BatchHeight {
		parent := pos / (block * poseidon.Arity) * (block * poseidon.Arity)
		own := pos / block % poseidon.Arity
		var lv []Hex
		for c := range poseidon.Arity {
			if c == own {
				continue
			}
			start := parent + c*block
			r, err := batch.SubtreeRoot(h, leaves[start:start+block])
			if err != nil {
				return nil, err
			}
			lv = append(lv, Hex(r))
		}
		p.Path = append(p.Path, lv)
		block *= poseidon.Arity
	}
	// Above the batches: the public top tree, whose missing tail entries are EMPTY_{h+l} (L4).
	empty := batch.EmptyRoots(h, pub.Depth)
	k := b
	for l := 0; l < pub.TopHeight; l++ {
		level := pub.TopTree[l]
		base := k - k%poseidon.Arity
		var lv []Hex
		for c := range poseidon.Arity {
			if base+c == k {
				continue
			}
			if base+c < len(level) {
				lv = append(lv, level[base+c])
			} else {
				lv = append(lv, Hex(empty[pub.BatchHeight+l]))
			}
		}
		p.Path = append(p.Path, lv)
		k /= poseidon.Arity
	}
	if err := VerifyInclusion(p, pub.Root.Fr()); err != nil {
		return nil, fmt.Errorf("the store produced a proof that does not verify (corrupt store?): %w", err)
	}
	return p, nil
}
