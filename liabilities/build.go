package liabilities

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/bits"
	mrand "math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/batch"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/circuits/statement"
)

// DefaultHeight is the default batch height: B = 8^3 = 512 accounts per batch proof, about
// 250k constraints at 8 assets (just under 2^18), a few seconds to prove on two cores.
const DefaultHeight = 3

// MaxSnapshotTime bounds the snapshot time: the solvency statement packs it into 40 bits.
const MaxSnapshotTime = statement.MaxSnapshotTime

// BuildOptions parameterise a snapshot build.
type BuildOptions struct {
	Epoch        uint64 // the snapshot's epoch (the "cycle" of the running-sum chain)
	SnapshotTime uint64 // unix seconds at which the balances were taken, < 2^40
	Height       int    // batch height h (B = 8^h); 0 means DefaultHeight
	Workers      int    // hashing goroutines; 0 means GOMAXPROCS
	// Progress, when set, is called with the stage's name, the work done and the stage's total.
	// Calls never overlap, but they come from worker goroutines.
	Progress func(stage string, done, total int)
}

// Stage names passed to BuildOptions.Progress.
const (
	StageIDs     = "hashing ids"
	StageBatches = "hashing batches"
	StageWrite   = "writing store"
)

// Snapshot is a built liabilities tree: the public summary and everything the private store
// holds. Build makes one; Write puts it on disk.
type Snapshot struct {
	Table      *assets.Table
	Shape      batch.Shape
	Accounts   int // real accounts; the rest of the n*B slots are padding (L5)
	LC         batch.LCPreimage
	LCHash     fr.Element
	TopLevels  [][]fr.Element // top tree: [0] the n batch roots ... [ht] the root; missing tail entries are EMPTY_{h+l}
	Empty      []fr.Element   // EMPTY_0..EMPTY_D
	slots      []slot         // n*B, in leaf order
	batches    []batchOut     // n
	zeroAssets []uint64
}

// slot is one leaf: a real account or a padding account.
type slot struct {
	id       string
	padding  bool
	salt     fr.Element
	idHash   fr.Element
	balances []uint64 // shared with the input Account, or the shared zero row
}

// batchOut is one batch's running-sum step and subtree, as batch.Compute returned it.
type batchOut struct {
	before batch.Opening
	res    batch.Result
}

// Build assigns every account a fresh salt and a leaf position from a secret shuffle, fills the
// n*B slots left over with zero-balance padding accounts (shuffled in with the rest), and
// computes leaves, batch roots, the running-sum chain, the top tree and LC, all through
// circuits/batch's native twin (batch.Compute), the very function whose outputs the batch circuit
// reproduces. Nothing is written. The accounts are checked as ParseAccounts checks them (valid,
// unique ids, len(Balances) = table.Len()); the snapshot keeps references to their Balances, which
// must not change afterwards.
//
// The randomness (salts, padding ids, shuffle, batch salts) comes from crypto/rand and is not
// reproducible by design: a build's leaf order and salts are secret (L6, L9).
func Build(ctx context.Context, table *assets.Table, accounts []Account, opt BuildOptions) (*Snapshot, error) {
	if err := table.Validate(); err != nil {
		return nil, fmt.Errorf("build: asset table: %w", err)
	}
	if opt.Height == 0 {
		opt.Height = DefaultHeight
	}
	shape := batch.Shape{Height: opt.Height, Assets: table.Len()}
	if err := shape.Validate(); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	if len(accounts) == 0 {
		return nil, errors.New("build: no accounts")
	}
	if len(accounts) > MaxAccounts {
		return nil, fmt.Errorf("build: %d accounts; at most %d", len(accounts), MaxAccounts)
	}
	if opt.SnapshotTime > MaxSnapshotTime {
		return nil, fmt.Errorf("build: snapshot time %d does not fit 40 bits", opt.SnapshotTime)
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	progress := newProgress(opt.Progress)

	B := shape.BatchSize()
	n := (len(accounts) + B - 1) / B
	total := n * B
	s := &Snapshot{
		Table:      table,
		Shape:      shape,
		Accounts:   len(accounts),
		slots:      make([]slot, total),
		zeroAssets: make([]uint64, table.Len()),
	}

	// L9: the leaf order is a uniformly random permutation of accounts and padding, drawn from a
	// ChaCha8 stream keyed by crypto/rand. Padding is shuffled in too, so no batch stands out as
	// "the last, partly empty one".
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("build: draw shuffle key: %w", err)
	}
	perm := make([]uint32, total)
	for i := range perm {
		perm[i] = uint32(i)
	}
	mrand.New(mrand.NewChaCha8(key)).Shuffle(total, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	clear(key[:])

	// Callers other than the CSV parser reach Build too: the accounts are checked again (ids
	// valid and unique, one balance per asset), because a repeated id would make two leaves
	// answer to one user and an invalid one could pose as padding.
	seen := make(map[string]struct{}, len(accounts))
	for _, a := range accounts {
		if err := CheckID(a.ID); err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
		if _, dup := seen[a.ID]; dup {
			return nil, fmt.Errorf("build: account id %q appears twice", a.ID)
		}
		seen[a.ID] = struct{}{}
		if len(a.Balances) != table.Len() {
			return nil, fmt.Errorf("build: account %q has %d balances, want %d", a.ID, len(a.Balances), table.Len())
		}
	}
	seen = nil

	h := poseidon.NewHasher()
	for i := range s.slots {
		if it := int(perm[i]); it < len(accounts) {
			a := accounts[it]
			s.slots[i] = slot{id: a.ID, balances: a.Balances}
		} else {
			s.slots[i] = slot{padding: true, balances: s.zeroAssets}
		}
	}
	perm = nil

	// Salts, padding ids and idHashes: the bulk of the work, in chunks across workers. Each
	// worker buffers crypto/rand so that a million salts are not a million system calls.
	progress.stage(StageIDs, total)
	err := parallel(ctx, total, 1024, workers, func() func(lo, hi int) error {
		rnd := bufio.NewReaderSize(rand.Reader, 64*batch.SaltBytes)
		return func(lo, hi int) error {
			for i := lo; i < hi; i++ {
				sl := &s.slots[i]
				if sl.padding {
					id, err := paddingID(rnd)
					if err != nil {
						return err
					}
					sl.id = id
				}
				salt, err := batch.NewSalt(rnd)
				if err != nil {
					return err
				}
				sl.salt = salt
				if sl.idHash, err = batch.IDHash(h, []byte(sl.id), salt); err != nil {
					return fmt.Errorf("account %q: %w", sl.id, err)
				}
			}
			progress.add(hi - lo)
			return nil
		}
	})
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}

	// The running sums before each batch are plain prefix sums, so every batch's opening is known
	// up front and the batches can be hashed in parallel; each draws a fresh salt (L1: batch 0
	// starts from ACC0's all-zero opening with salt 0).
	befores, err := s.openings(n, B)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	s.batches = make([]batchOut, n)
	progress.stage(StageBatches, n)
	err = parallel(ctx, n, 1, workers, func() func(lo, hi int) error {
		ids := make([]fr.Element, B)
		bals := make([][]uint64, B)
		return func(lo, hi int) error {
			for b := lo; b < hi; b++ {
				for k := range B {
					ids[k] = s.slots[b*B+k].idHash
					bals[k] = s.slots[b*B+k].balances
				}
				res, err := batch.Compute(h, shape, opt.Epoch, uint64(b), ids, bals, befores[b], befores[b+1].Salt)
				if err != nil {
					return fmt.Errorf("batch %d: %w", b, err)
				}
				s.batches[b] = batchOut{before: befores[b], res: res}
			}
			progress.add(hi - lo)
			return nil
		}
	})
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	// The chain must link (L3): each batch starts where the previous one ended, from ACC0.
	acc0 := batch.ACC0(h, opt.Epoch, table.Len())
	for b := range s.batches {
		want := acc0
		if b > 0 {
			want = s.batches[b-1].res.After
		}
		if got := s.batches[b].res.Before; !got.Equal(&want) {
			return nil, fmt.Errorf("build: batch %d does not start where batch %d ended", b, b-1)
		}
	}

	s.Empty = batch.EmptyRoots(h, shape.Height+batch.TopHeight(n))
	roots := make([]fr.Element, n)
	for b := range s.batches {
		roots[b] = s.batches[b].res.Root
	}
	if s.TopLevels, err = topLevels(h, roots, shape.Height); err != nil {
		return nil, fmt.Errorf("build: top tree: %w", err)
	}
	ht := len(s.TopLevels) - 1
	s.LC = batch.LCPreimage{
		Epoch:        opt.Epoch,
		SnapshotTime: opt.SnapshotTime,
		Height:       shape.Height,
		Batches:      n,
		Depth:        shape.Height + ht,
		Root:         s.TopLevels[ht][0],
		AccFinal:     s.batches[n-1].res.After,
		AssetsHash:   table.Hash(h),
	}
	if err := s.LC.Validate(); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	s.LCHash = s.LC.Hash(h)
	return s, nil
}

// paddingID is a random id for a padding account (L5): a zero byte then 31 random bytes. The
// leading zero byte is a control character, which CheckID refuses in real ids, so a padding id
// can never equal a user's; it is hashed exactly like any other id.
func paddingID(r *bufio.Reader) (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(r, b[1:]); err != nil {
		return "", fmt.Errorf("draw padding id: %w", err)
	}
	return string(b[:]), nil
}

// openings returns the running-sum openings before each batch and after the last one:
// openings[b] opens acc_{b-1} (openings[0] is ACC0's), openings[b+1].Salt is batch b's fresh salt.
func (s *Snapshot) openings(n, B int) ([]batch.Opening, error) {
	A := s.Table.Len()
	out := make([]batch.Opening, n+1)
	out[0] = batch.ZeroOpening(A)
	lo := make([]uint64, A) // running sums as 128-bit (hi, lo) pairs; bounded by 2^94
	hi := make([]uint64, A)
	for b := range n {
		for k := b * B; k < (b+1)*B; k++ {
			for a, v := range s.slots[k].balances {
				var c uint64
				lo[a], c = bits.Add64(lo[a], v, 0)
				hi[a] += c
			}
		}
		o := batch.Opening{Sums: make([]*big.Int, A)}
		for a := range A {
			o.Sums[a] = new(big.Int).Lsh(new(big.Int).SetUint64(hi[a]), 64)
			o.Sums[a].Or(o.Sums[a], new(big.Int).SetUint64(lo[a]))
		}
		salt, err := batch.NewSalt(rand.Reader)
		if err != nil {
			return nil, err
		}
		o.Salt = salt
		out[b+1] = o
	}
	return out, nil
}

// topLevels builds the tree above the batches: level 0 holds the n batch roots, level l the
// nodes at height h+l, up to the single root. Only the prefix of each level that covers a real
// batch is stored; every later entry is the public constant EMPTY_{h+l} (L4). It is the prefix of
// batch.TopLevels, the one construction the prover and the verifier also use.
func topLevels(h *poseidon.Hasher, roots []fr.Element, height int) ([][]fr.Element, error) {
	full, err := batch.TopLevels(h, roots, height)
	if err != nil {
		return nil, err
	}
	// Keep the nodes over real batches: ceil(n / 8^l) at level l.
	n := len(roots)
	for l := range full {
		full[l] = full[l][:n]
		n = (n + poseidon.Arity - 1) / poseidon.Arity
	}
	return full, nil
}

// parallel runs work over [0, n) in chunks of chunk items on workers goroutines. newWorker is
// called once per goroutine, for per-worker state. The first error stops the others.
func parallel(ctx context.Context, n, chunk, workers int, newWorker func() func(lo, hi int) error) error {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range min(workers, (n+chunk-1)/chunk) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work := newWorker()
			for !stop.Load() {
				if err := ctx.Err(); err != nil {
					once.Do(func() { firstErr = err })
					stop.Store(true)
					return
				}
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= n {
					return
				}
				if err := work(lo, min(lo+chunk, n)); err != nil {
					once.Do(func() { firstErr = err })
					stop.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// progress serialises BuildOptions.Progress calls from workers.
type progress struct {
	fn    func(string, int, int)
	mu    sync.Mutex
	name  string
	done  int
	total int
}

func newProgress(fn func(string, int, int)) *progress { return &progress{fn: fn} }

func (p *progress) stage(name string, total int) {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.name, p.done, p.total = name, 0, total
	p.fn(name, 0, total)
}

func (p *progress) add(k int) {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += k
	p.fn(p.name, p.done, p.total)
}
