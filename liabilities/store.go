package liabilities

// The private store: what the operator keeps, never publishes (V4), and serves one inclusion
// proof at a time from. A million accounts are a few files of fixed-size records, not a million
// loose files:
//
//	private/store.json    the store's manifest: format, shape, counts, record sizes, root and LC
//	                      (checked against public/liabilities.json on open)
//	private/accounts.bin  one record per leaf slot (n*B, leaf order, padding included):
//	                      flags u8 (bit 0: padding) | id length u8 | id [93] zero-padded |
//	                      salt [32] | idHash [32] | balances A x u64
//	private/leaves.bin    the n*B leaf hashes [32], leaf order: a path needs one batch's leaves
//	private/index.bin     one entry per real account, sorted: SHA-256(id)[:8] | leaf index u64;
//	                      lookup is a binary search (O(log n) reads), then the id in the record is
//	                      compared, so a truncated-hash collision costs one more record read
//	private/batches.bin   one record per batch: root | accBefore | accAfter | digest |
//	                      beforeSalt | afterSalt (each [32]) | beforeSums A x u128 | afterSums A x u128
//
// Every .bin file starts with a 64-byte header: magic [8] | version u32 | record size u32 |
// record count u64 | zero padding. Field elements are 32-byte big-endian canonical values (read
// back with a canonical check, V3); integers are little-endian, except the index key and leaf
// index, which are big-endian so that byte order is sort order.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"slices"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/batch"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/internal/boundedfile"
)

const (
	headerSize    = 64
	indexEntry    = 16
	leafSize      = fr.Bytes
	flagPadding   = 1
	accountsMagic = "SOLVACCT"
	leavesMagic   = "SOLVLEAF"
	indexMagic    = "SOLVINDX"
	batchesMagic  = "SOLVBTCH"
)

// accountRecordSize is the size of one accounts.bin record at A assets.
func accountRecordSize(A int) int { return 2 + MaxIDLen + 2*fr.Bytes + 8*A }

// batchRecordSize is the size of one batches.bin record at A assets.
func batchRecordSize(A int) int { return 6*fr.Bytes + 2*16*A }

// StoreManifest is private/store.json.
type StoreManifest struct {
	Version           int            `json:"version"`
	Kind              string         `json:"kind"`
	Epoch             uint64         `json:"epoch"`
	SnapshotTime      uint64         `json:"snapshot_time"`
	Assets            []assets.Asset `json:"assets"`
	BatchHeight       int            `json:"batch_height"`
	BatchSize         int            `json:"batch_size"`
	Batches           int            `json:"batches"`
	Depth             int            `json:"depth"`
	Accounts          int            `json:"accounts"` // real accounts; private: it is not in the public file
	Slots             int            `json:"slots"`    // n*B
	AccountRecordSize int            `json:"account_record_size"`
	BatchRecordSize   int            `json:"batch_record_size"`
	Root              Hex            `json:"root"`
	LC                Hex            `json:"lc"`
}

// Write puts the snapshot into dir: dir/public/liabilities.json and the private store. dir
// should be fresh; the CLI passes the temporary directory of atomicfile.Dir so that the
// snapshot directory appears complete or not at all. Every file is fsynced.
func (s *Snapshot) Write(dir string, onProgress func(stage string, done, total int)) error {
	for _, d := range []string{PublicDir, PrivateDir} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	// The private part is written owner-only: it holds every user's id, salt and balances.
	if err := os.Chmod(filepath.Join(dir, PrivateDir), 0o700); err != nil {
		return fmt.Errorf("chmod private: %w", err)
	}
	pub, err := json.MarshalIndent(s.Public(), "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, PublicFile), append(pub, '\n'), 0o644); err != nil {
		return err
	}
	p := newProgress(onProgress)
	p.stage(StageWrite, len(s.slots))
	A := s.Table.Len()
	if err := writeBin(filepath.Join(dir, AccountsBin), accountsMagic, accountRecordSize(A), len(s.slots), func(w *bufio.Writer) error {
		rec := make([]byte, accountRecordSize(A))
		for i := range s.slots {
			encodeAccount(rec, &s.slots[i])
			if _, err := w.Write(rec); err != nil {
				return err
			}
			if i%65536 == 65535 {
				p.add(65536)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	p.add(len(s.slots) % 65536)
	B := s.Shape.BatchSize()
	if err := writeBin(filepath.Join(dir, LeavesBin), leavesMagic, leafSize, len(s.slots), func(w *bufio.Writer) error {
		for b := range s.batches {
			for k := range B {
				v := s.batches[b].res.Leaves[k].Bytes()
				if _, err := w.Write(v[:]); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		return err
	}
	index := make([][indexEntry]byte, 0, s.Accounts)
	for i := range s.slots {
		if s.slots[i].padding {
			continue
		}
		var e [indexEntry]byte
		sum := sha256.Sum256([]byte(s.slots[i].id))
		copy(e[:8], sum[:8])
		binary.BigEndian.PutUint64(e[8:], uint64(i))
		index = append(index, e)
	}
	slices.SortFunc(index, func(a, b [indexEntry]byte) int { return bytes.Compare(a[:], b[:]) })
	if err := writeBin(filepath.Join(dir, IndexBin), indexMagic, indexEntry, len(index), func(w *bufio.Writer) error {
		for i := range index {
			if _, err := w.Write(index[i][:]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := writeBin(filepath.Join(dir, BatchesBin), batchesMagic, batchRecordSize(A), len(s.batches), func(w *bufio.Writer) error {
		rec := make([]byte, batchRecordSize(A))
		for b := range s.batches {
			if err := encodeBatch(rec, &s.batches[b]); err != nil {
				return fmt.Errorf("batch %d: %w", b, err)
			}
			if _, err := w.Write(rec); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	m := StoreManifest{
		Version: FormatVersion, Kind: KindStore,
		Epoch: s.LC.Epoch, SnapshotTime: s.LC.SnapshotTime,
		Assets:      append([]assets.Asset(nil), s.Table.Assets...),
		BatchHeight: s.Shape.Height, BatchSize: B, Batches: len(s.batches), Depth: s.LC.Depth,
		Accounts: s.Accounts, Slots: len(s.slots),
		AccountRecordSize: accountRecordSize(A), BatchRecordSize: batchRecordSize(A),
		Root: Hex(s.LC.Root), LC: Hex(s.LCHash),
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, StoreFile), append(mb, '\n'), 0o600)
}

func writeBin(path, magic string, recSize, count int, fill func(w *bufio.Writer) error) error {
	return atomicfile.Write(path, 0o600, func(f io.Writer) error {
		w := bufio.NewWriterSize(f, 1<<20)
		var hdr [headerSize]byte
		copy(hdr[:8], magic)
		binary.LittleEndian.PutUint32(hdr[8:], FormatVersion)
		binary.LittleEndian.PutUint32(hdr[12:], uint32(recSize))
		binary.LittleEndian.PutUint64(hdr[16:], uint64(count))
		if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
		if err := fill(w); err != nil {
			return err
		}
		return w.Flush()
	})
}

func encodeAccount(rec []byte, sl *slot) {
	clear(rec)
	if sl.padding {
		rec[0] = flagPadding
	}
	rec[1] = byte(len(sl.id))
	copy(rec[2:2+MaxIDLen], sl.id)
	off := 2 + MaxIDLen
	salt := sl.salt.Bytes()
	copy(rec[off:], salt[:])
	off += fr.Bytes
	ih := sl.idHash.Bytes()
	copy(rec[off:], ih[:])
	off += fr.Bytes
	for _, v := range sl.balances {
		binary.LittleEndian.PutUint64(rec[off:], v)
		off += 8
	}
}

func putElem(rec []byte, off *int, e fr.Element) {
	b := e.Bytes()
	copy(rec[*off:], b[:])
	*off += fr.Bytes
}

func putSums(rec []byte, off *int, sums []*big.Int) error {
	for _, v := range sums {
		if v.Sign() < 0 || v.BitLen() > 128 {
			return fmt.Errorf("running sum %s does not fit 128 bits", v)
		}
		lo := new(big.Int).And(v, new(big.Int).SetUint64(^uint64(0))).Uint64()
		hi := new(big.Int).Rsh(v, 64).Uint64()
		binary.LittleEndian.PutUint64(rec[*off:], lo)
		binary.LittleEndian.PutUint64(rec[*off+8:], hi)
		*off += 16
	}
	return nil
}

func encodeBatch(rec []byte, b *batchOut) error {
	off := 0
	putElem(rec, &off, b.res.Root)
	putElem(rec, &off, b.res.Before)
	putElem(rec, &off, b.res.After)
	putElem(rec, &off, b.res.Digest)
	putElem(rec, &off, b.before.Salt)
	putElem(rec, &off, b.res.AfterOpening.Salt)
	if err := putSums(rec, &off, b.before.Sums); err != nil {
		return err
	}
	return putSums(rec, &off, b.res.AfterOpening.Sums)
}

// Store is an open snapshot directory: its checked public summary and the private store.
// Methods are safe for concurrent use (they only ReadAt).
type Store struct {
	dir      string
	pub      *Public
	man      StoreManifest
	table    *assets.Table
	shape    batch.Shape
	h        *poseidon.Hasher
	accounts *os.File
	leaves   *os.File
	index    *os.File
	batches  *os.File
	nIndex   int
}

// Open opens the snapshot directory dir (as `solvency liabilities build` wrote it), checking
// the public summary (Public.Check), the manifest against it and every file's header.
func Open(dir string) (_ *Store, err error) {
	pub, err := ReadPublic(dir)
	if err != nil {
		return nil, err
	}
	mpath := filepath.Join(dir, StoreFile)
	var m StoreManifest
	if err := readStrict(mpath, boundedfile.Manifest, &m); err != nil {
		return nil, fmt.Errorf("private store: %w", err)
	}
	table := pub.Table()
	A := table.Len()
	switch {
	case m.Version != FormatVersion || m.Kind != KindStore:
		err = fmt.Errorf("kind %q version %d: want %q version %d", m.Kind, m.Version, KindStore, FormatVersion)
	case !m.Root.Equal(pub.Root.Fr()) || !m.LC.Equal(pub.LC.Fr()) || m.Epoch != pub.Epoch:
		err = errors.New("the private store belongs to another snapshot than public/liabilities.json (root, LC or epoch differ)")
	case m.BatchHeight != pub.BatchHeight || m.Batches != pub.Batches || m.BatchSize != pub.BatchSize || m.Depth != pub.Depth:
		err = errors.New("the private store's shape differs from public/liabilities.json")
	case !slices.Equal(m.Assets, pub.Assets):
		err = errors.New("the private store's asset table differs from public/liabilities.json")
	case m.Slots != pub.Batches*pub.BatchSize || m.Accounts < 1 || m.Accounts > m.Slots:
		err = fmt.Errorf("the private store holds %d accounts in %d slots; %d batches of %d need %d slots", m.Accounts, m.Slots, pub.Batches, pub.BatchSize, pub.Batches*pub.BatchSize)
	case m.AccountRecordSize != accountRecordSize(A) || m.BatchRecordSize != batchRecordSize(A):
		err = errors.New("the private store's record sizes do not match its asset count")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mpath, err)
	}
	st := &Store{dir: dir, pub: pub, man: m, table: table, h: poseidon.NewHasher(),
		shape: batch.Shape{Height: pub.BatchHeight, Assets: A}}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	if st.accounts, _, err = openBin(filepath.Join(dir, AccountsBin), accountsMagic, accountRecordSize(A), m.Slots); err != nil {
		return nil, err
	}
	if st.leaves, _, err = openBin(filepath.Join(dir, LeavesBin), leavesMagic, leafSize, m.Slots); err != nil {
		return nil, err
	}
	if st.index, st.nIndex, err = openBin(filepath.Join(dir, IndexBin), indexMagic, indexEntry, m.Accounts); err != nil {
		return nil, err
	}
	if st.batches, _, err = openBin(filepath.Join(dir, BatchesBin), batchesMagic, batchRecordSize(A), m.Batches); err != nil {
		return nil, err
	}
	return st, nil
}

// openBin opens a store file and checks its header and size against what the manifest says.
func openBin(path, magic string, recSize, count int) (*os.File, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("open private store: %w", err)
	}
	var hdr [headerSize]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("%s: read header: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case string(hdr[:8]) != magic:
		err = fmt.Errorf("not a %s file", magic)
	case binary.LittleEndian.Uint32(hdr[8:]) != FormatVersion:
		err = fmt.Errorf("format version %d, want %d", binary.LittleEndian.Uint32(hdr[8:]), FormatVersion)
	case binary.LittleEndian.Uint32(hdr[12:]) != uint32(recSize):
		err = fmt.Errorf("record size %d, want %d", binary.LittleEndian.Uint32(hdr[12:]), recSize)
	case binary.LittleEndian.Uint64(hdr[16:]) != uint64(count):
		err = fmt.Errorf("%d records, the manifest says %d", binary.LittleEndian.Uint64(hdr[16:]), count)
	case fi.Size() != int64(headerSize+recSize*count):
		err = fmt.Errorf("size %d bytes, want %d: truncated or corrupt", fi.Size(), headerSize+recSize*count)
	}
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	return f, count, nil
}

// Close releases the store's files.
func (st *Store) Close() error {
	var errs []error
	for _, f := range []*os.File{st.accounts, st.leaves, st.index, st.batches} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	return errors.Join(errs...)
}

// Public is the snapshot's checked public summary.
func (st *Store) Public() *Public { return st.pub }

// Shape is the batch circuit shape of this snapshot.
func (st *Store) Shape() batch.Shape { return st.shape }

// Accounts is the number of real accounts (private).
func (st *Store) Accounts() int { return st.man.Accounts }

// storedAccount is one decoded accounts.bin record.
type storedAccount struct {
	padding  bool
	id       string
	salt     fr.Element
	idHash   fr.Element
	balances []uint64
}

func (st *Store) readAccounts(first, count int) ([]storedAccount, error) {
	A := st.table.Len()
	size := accountRecordSize(A)
	buf := make([]byte, size*count)
	if _, err := st.accounts.ReadAt(buf, int64(headerSize+size*first)); err != nil {
		return nil, fmt.Errorf("%s: read records %d..%d: %w", AccountsBin, first, first+count-1, err)
	}
	out := make([]storedAccount, count)
	bal := make([]uint64, A*count)
	for i := range out {
		rec := buf[i*size : (i+1)*size]
		a := &out[i]
		a.padding = rec[0]&flagPadding != 0
		n := int(rec[1])
		if n < 1 || n > MaxIDLen {
			return nil, fmt.Errorf("%s: record %d: id length %d", AccountsBin, first+i, n)
		}
		a.id = string(rec[2 : 2+n])
		off := 2 + MaxIDLen
		var err error
		if a.salt, err = readElem(rec, &off); err != nil {
			return nil, fmt.Errorf("%s: record %d: salt: %w", AccountsBin, first+i, err)
		}
		if a.idHash, err = readElem(rec, &off); err != nil {
			return nil, fmt.Errorf("%s: record %d: idHash: %w", AccountsBin, first+i, err)
		}
		a.balances = bal[i*A : (i+1)*A : (i+1)*A]
		for k := range A {
			a.balances[k] = binary.LittleEndian.Uint64(rec[off:])
			off += 8
		}
	}
	return out, nil
}

// readElem reads a canonical 32-byte big-endian field element (V3: never reduced).
func readElem(rec []byte, off *int) (fr.Element, error) {
	var e fr.Element
	err := e.SetBytesCanonical(rec[*off : *off+fr.Bytes])
	*off += fr.Bytes
	return e, err
}

func (st *Store) readLeaves(first, count int) ([]fr.Element, error) {
	buf := make([]byte, leafSize*count)
	if _, err := st.leaves.ReadAt(buf, int64(headerSize+leafSize*first)); err != nil {
		return nil, fmt.Errorf("%s: read leaves %d..%d: %w", LeavesBin, first, first+count-1, err)
	}
	out := make([]fr.Element, count)
	for i := range out {
		off := i * leafSize
		var err error
		if out[i], err = readElem(buf, &off); err != nil {
			return nil, fmt.Errorf("%s: leaf %d: %w", LeavesBin, first+i, err)
		}
	}
	return out, nil
}

// ErrNotFound is returned when an account id is not in the snapshot.
var ErrNotFound = errors.New("account not found in this snapshot")

// Lookup returns the leaf index of account id: a binary search of index.bin (about log2(N)
// reads of 16 bytes), then a check of the id stored in the record.
func (st *Store) Lookup(id string) (uint64, error) {
	sum := sha256.Sum256([]byte(id))
	key := sum[:8]
	var e [indexEntry]byte
	read := func(i int) error {
		_, err := st.index.ReadAt(e[:], int64(headerSize+indexEntry*i))
		if err != nil {
			return fmt.Errorf("%s: read entry %d: %w", IndexBin, i, err)
		}
		return nil
	}
	lo, hi := 0, st.nIndex
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if err := read(mid); err != nil {
			return 0, err
		}
		if bytes.Compare(e[:8], key) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	for i := lo; i < st.nIndex; i++ {
		if err := read(i); err != nil {
			return 0, err
		}
		if !bytes.Equal(e[:8], key) {
			break
		}
		leaf := binary.BigEndian.Uint64(e[8:])
		if leaf >= uint64(st.man.Slots) {
			return 0, fmt.Errorf("%s: entry %d points past the last slot", IndexBin, i)
		}
		recs, err := st.readAccounts(int(leaf), 1)
		if err != nil {
			return 0, err
		}
		if !recs[0].padding && recs[0].id == id {
			return leaf, nil
		}
	}
	return 0, fmt.Errorf("%q: %w", id, ErrNotFound)
}

// BatchInput is everything the prover needs to prove batch Index, read from the store, and the
// outputs the build computed for it (to cross-check batch.Compute / batch.Assign):
//
//	circuit, res, err := batch.Assign(in.Shape, in.Epoch, in.Index, in.IDHashes, in.Balances, in.Before, in.AfterSalt)
//	// res.Root == in.Root, res.Before == in.AccBefore, res.After == in.AccAfter, res.Digest == in.Digest
type BatchInput struct {
	Shape     batch.Shape
	Epoch     uint64
	Index     uint64
	IDHashes  []fr.Element  // B, leaf order (padding included)
	Balances  [][]uint64    // B rows of A balances, circuit units
	Before    batch.Opening // opening of AccBefore: running sums before this batch and their salt (batch 0: zero sums, salt 0)
	AfterSalt fr.Element    // this batch's fresh salt for AccAfter
	AfterSums []*big.Int    // running sums after this batch (Before.Sums plus the batch's sums)

	Root      fr.Element // batch subtree root
	AccBefore fr.Element
	AccAfter  fr.Element
	Digest    fr.Element // the batch proof's public input
}

// Batch reads batch i's input for the prover (one contiguous read of B records).
func (st *Store) Batch(i int) (*BatchInput, error) {
	if i < 0 || i >= st.pub.Batches {
		return nil, fmt.Errorf("batch %d: the snapshot has batches 0..%d", i, st.pub.Batches-1)
	}
	B := st.pub.BatchSize
	A := st.table.Len()
	recs, err := st.readAccounts(i*B, B)
	if err != nil {
		return nil, err
	}
	in := &BatchInput{Shape: st.shape, Epoch: st.pub.Epoch, Index: uint64(i),
		IDHashes: make([]fr.Element, B), Balances: make([][]uint64, B)}
	for k := range recs {
		in.IDHashes[k] = recs[k].idHash
		in.Balances[k] = recs[k].balances
	}
	rec := make([]byte, batchRecordSize(A))
	if _, err := st.batches.ReadAt(rec, int64(headerSize+len(rec)*i)); err != nil {
		return nil, fmt.Errorf("%s: read batch %d: %w", BatchesBin, i, err)
	}
	off := 0
	var fields [6]fr.Element
	for f := range fields {
		if fields[f], err = readElem(rec, &off); err != nil {
			return nil, fmt.Errorf("%s: batch %d: %w", BatchesBin, i, err)
		}
	}
	in.Root, in.AccBefore, in.AccAfter, in.Digest = fields[0], fields[1], fields[2], fields[3]
	in.Before = batch.Opening{Salt: fields[4], Sums: readSums(rec, &off, A)}
	in.AfterSalt = fields[5]
	in.AfterSums = readSums(rec, &off, A)
	return in, nil
}

func readSums(rec []byte, off *int, A int) []*big.Int {
	out := make([]*big.Int, A)
	for a := range out {
		lo := binary.LittleEndian.Uint64(rec[*off:])
		hi := binary.LittleEndian.Uint64(rec[*off+8:])
		out[a] = new(big.Int).Lsh(new(big.Int).SetUint64(hi), 64)
		out[a].Or(out[a], new(big.Int).SetUint64(lo))
		*off += 16
	}
	return out
}

// OpenBatch is Open(dir) then Batch(i), for a caller that needs one batch; a prover looping over
// every batch should Open once.
func OpenBatch(dir string, i int) (*BatchInput, error) {
	st, err := Open(dir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return st.Batch(i)
}

// WriteDir writes the snapshot to path atomically (atomicfile.Dir): path is complete or absent,
// never half-written. An existing path is an error unless replace is true, in which case it is
// replaced only once the new snapshot is complete.
func (s *Snapshot) WriteDir(path string, replace bool, onProgress func(stage string, done, total int)) error {
	return atomicfile.Dir(path, replace, func(tmp string) error {
		return s.Write(tmp, onProgress)
	})
}

// Exists reports whether a snapshot directory is at dir. OpenOrBuild writes one only whole (a
// temporary directory renamed into place), so one that exists is complete.
func Exists(dir string) bool {
	_, err := os.Stat(dir)
	return err == nil
}

// OpenOrBuild opens the snapshot at dir, or, when there is none, builds it with build, writes it
// atomically (complete or absent, never half-written, whatever kills the process) and opens it.
// written, when not nil, is called with the temporary directory once the snapshot is written
// there and before it takes its name (a crash test kills the process there). The boolean
// reports whether the snapshot was built.
func OpenOrBuild(dir string, build func() (*Snapshot, error), written func(tmp string) error) (*Store, bool, error) {
	if Exists(dir) {
		st, err := Open(dir)
		if err != nil {
			return nil, false, fmt.Errorf("liabilities snapshot %s is damaged (%w); it was not written by this version's atomic write: "+
				"restore it from a backup (a rebuilt snapshot has a new commitment, which the registry refuses for the same epoch)", dir, err)
		}
		return st, false, nil
	}
	snap, err := build()
	if err != nil {
		return nil, false, err
	}
	err = atomicfile.Dir(dir, false, func(tmp string) error {
		if err := snap.Write(tmp, nil); err != nil {
			return err
		}
		if written != nil {
			return written(tmp)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("write liabilities snapshot %s: %w", dir, err)
	}
	st, err := Open(dir)
	if err != nil {
		return nil, false, err
	}
	return st, true, nil
}
