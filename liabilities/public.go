package liabilities

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/batch"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
)

// Format identifiers: every file this package writes carries a kind and a version, and readers
// refuse any other.
const (
	FormatVersion      = 1
	KindPublic         = "solvency/liabilities-public"
	KindStore          = "solvency/liabilities-store"
	KindInclusionProof = "solvency/inclusion-proof"
)

// Paths inside a snapshot directory.
const (
	PublicDir   = "public"
	PrivateDir  = "private"
	PublicFile  = "public/liabilities.json"
	StoreFile   = "private/store.json"
	AccountsBin = "private/accounts.bin"
	LeavesBin   = "private/leaves.bin"
	IndexBin    = "private/index.bin"
	BatchesBin  = "private/batches.bin"
)

// Public is public/liabilities.json: what the snapshot publishes (V4): the asset table, the
// tree's shape, the root, the final running-sum commitment, LC and the tree above the batches.
// No account id, salt, balance, or per-batch sum: the running-sum chain hides those.
type Public struct {
	Version      int            `json:"version"`
	Kind         string         `json:"kind"`
	Epoch        uint64         `json:"epoch"`
	SnapshotTime uint64         `json:"snapshot_time"` // unix seconds
	Assets       []assets.Asset `json:"assets"`        // slot order
	AssetsHash   Hex            `json:"assets_hash"`
	BatchHeight  int            `json:"batch_height"` // h
	BatchSize    int            `json:"batch_size"`   // B = 8^h
	Batches      int            `json:"batches"`      // n
	TopHeight    int            `json:"top_height"`   // max(1, ceil(log8 n))
	Depth        int            `json:"depth"`        // D = h + top_height
	Root         Hex            `json:"root"`
	AccFinal     Hex            `json:"acc_final"`
	LC           Hex            `json:"lc"`
	TopTree      [][]Hex        `json:"top_tree"` // [0]: batch roots; [l]: nodes at height h+l; absent tail entries are EMPTY_{h+l}
}

// Public returns the snapshot's public summary.
func (s *Snapshot) Public() *Public {
	p := &Public{
		Version:      FormatVersion,
		Kind:         KindPublic,
		Epoch:        s.LC.Epoch,
		SnapshotTime: s.LC.SnapshotTime,
		Assets:       append([]assets.Asset(nil), s.Table.Assets...),
		AssetsHash:   Hex(s.LC.AssetsHash),
		BatchHeight:  s.LC.Height,
		BatchSize:    s.Shape.BatchSize(),
		Batches:      s.LC.Batches,
		TopHeight:    s.LC.Depth - s.LC.Height,
		Depth:        s.LC.Depth,
		Root:         Hex(s.LC.Root),
		AccFinal:     Hex(s.LC.AccFinal),
		LC:           Hex(s.LCHash),
	}
	for _, lv := range s.TopLevels {
		p.TopTree = append(p.TopTree, elems(lv))
	}
	return p
}

// Preimage is LC's preimage as the file states it.
func (p *Public) Preimage() batch.LCPreimage {
	return batch.LCPreimage{
		Epoch: p.Epoch, SnapshotTime: p.SnapshotTime,
		Height: p.BatchHeight, Batches: p.Batches, Depth: p.Depth,
		Root: p.Root.Fr(), AccFinal: p.AccFinal.Fr(), AssetsHash: p.AssetsHash.Fr(),
	}
}

// Table is the asset table the file states.
func (p *Public) Table() *assets.Table { return &assets.Table{Assets: p.Assets} }

// Check recomputes everything the public file derives: assetsHash from the table, the shape
// (B = 8^h, D = h + top height), LC from its preimage, and the whole top tree from the batch
// roots, with every slot at or past n the constant EMPTY_h (L4). It trusts nothing but the batch
// roots, which the batch proofs' digests bind.
func (p *Public) Check(h *poseidon.Hasher) error {
	if p.Version != FormatVersion || p.Kind != KindPublic {
		return fmt.Errorf("kind %q version %d: want %q version %d", p.Kind, p.Version, KindPublic, FormatVersion)
	}
	t := p.Table()
	if err := t.Validate(); err != nil {
		return fmt.Errorf("asset table: %w", err)
	}
	if ah := t.Hash(h); !p.AssetsHash.Equal(ah) {
		return errors.New("assets_hash does not match the asset table")
	}
	// n is bounded before anything computes with it: each batch holds at least one account.
	if p.Batches < 1 || p.Batches > MaxAccounts {
		return fmt.Errorf("batches %d: want 1..%d", p.Batches, MaxAccounts)
	}
	pre := p.Preimage()
	if err := pre.Validate(); err != nil {
		return err
	}
	shape := batch.Shape{Height: p.BatchHeight, Assets: t.Len()}
	if p.BatchSize != shape.BatchSize() {
		return fmt.Errorf("batch_size %d: height %d gives %d", p.BatchSize, p.BatchHeight, shape.BatchSize())
	}
	if p.TopHeight != p.Depth-p.BatchHeight {
		return fmt.Errorf("top_height %d: depth %d minus batch height %d is %d", p.TopHeight, p.Depth, p.BatchHeight, p.Depth-p.BatchHeight)
	}
	if lc := pre.Hash(h); !p.LC.Equal(lc) {
		return errors.New("lc does not match its preimage (epoch, snapshot_time, batch_height, batches, depth, root, acc_final, assets_hash)")
	}
	if len(p.TopTree) != p.TopHeight+1 || len(p.TopTree[0]) != p.Batches {
		return fmt.Errorf("top_tree: want %d levels starting with %d batch roots", p.TopHeight+1, p.Batches)
	}
	levels, err := topLevels(h, unelems(p.TopTree[0]), p.BatchHeight)
	if err != nil {
		return err
	}
	for l, lv := range levels {
		if len(lv) != len(p.TopTree[l]) {
			return fmt.Errorf("top_tree level %d has %d nodes; the batch roots give %d", l, len(p.TopTree[l]), len(lv))
		}
		for k := range lv {
			if !p.TopTree[l][k].Equal(lv[k]) {
				return fmt.Errorf("top_tree level %d node %d does not hash from the level below", l, k)
			}
		}
	}
	if !p.Root.Equal(levels[p.TopHeight][0]) {
		return errors.New("root does not match the top tree")
	}
	return nil
}

// ReadPublic reads and checks dir's public/liabilities.json.
func ReadPublic(dir string) (*Public, error) {
	path := filepath.Join(dir, PublicFile)
	var p Public
	if err := readStrict(path, boundedfile.Manifest, &p); err != nil {
		return nil, fmt.Errorf("liabilities summary: %w", err)
	}
	if err := p.Check(poseidon.NewHasher()); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &p, nil
}

// readStrict reads path (a regular file within kind's limit) and decodes it strictly.
func readStrict(path string, kind boundedfile.Kind, v any) error {
	raw, err := boundedfile.ReadFile(path, kind)
	if err != nil {
		return err
	}
	return jsonstrict.Unmarshal(path, raw, v)
}

func elems(v []fr.Element) []Hex {
	out := make([]Hex, len(v))
	for i := range v {
		out[i] = Hex(v[i])
	}
	return out
}

func unelems(v []Hex) []fr.Element {
	out := make([]fr.Element, len(v))
	for i := range v {
		out[i] = v[i].Fr()
	}
	return out
}

// Hex is a field element that reads and writes only its canonical form in JSON: 0x and 64
// lowercase hex digits, refusing values >= p (V3).
//
// Hex is not used for files here: it embeds fr.Element, whose pointer methods
// MarshalJSON and UnmarshalJSON are promoted and take precedence over its text methods, so an
// addressable Hex is written as a decimal, and reading accepts decimals and reduces
// values >= p modulo p.
type Hex fr.Element

// Fr is the element.
func (e Hex) Fr() fr.Element { return fr.Element(e) }

// Equal reports whether e and v are the same element.
func (e Hex) Equal(v fr.Element) bool { f := fr.Element(e); return f.Equal(&v) }

// MarshalText implements encoding.TextMarshaler.
func (e Hex) MarshalText() ([]byte, error) { return []byte(poseidon.Hex(fr.Element(e))), nil }

// UnmarshalText implements encoding.TextUnmarshaler with poseidon.ParseHex's canonical checks.
func (e *Hex) UnmarshalText(b []byte) error {
	v, err := poseidon.ParseHex(string(b))
	if err != nil {
		return err
	}
	*e = Hex(v)
	return nil
}
