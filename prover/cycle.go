package prover

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/solidity"
	"github.com/consensys/gnark/frontend"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/batch"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/liabilities"
	"github.com/solvency-dev/solvency/prover/keys"
)

// Circuit names inside a keys directory.
const (
	BatchCircuit    = bundle.BatchCircuit
	SolvencyCircuit = bundle.SolvencyCircuit
)

// ErrLimitsFail is returned when the twin says a limit fails: no bundle is written for a false
// statement.
var ErrLimitsFail = errors.New("risk limits fail")

// LimitsError carries the twin's report of what fails.
type LimitsError struct{ Report *solvency.Report }

func (e *LimitsError) Error() string {
	var failed []string
	for _, l := range e.Report.Limits {
		if !l.Pass {
			failed = append(failed, fmt.Sprintf("%s (value %s, bound %s)", l.ID, l.Value, l.Bound))
		}
	}
	return fmt.Sprintf("%v: %v", ErrLimitsFail, failed)
}
func (e *LimitsError) Unwrap() error { return ErrLimitsFail }

// CycleRequest is everything one cycle's proof needs.
type CycleRequest struct {
	Keys     *keys.Keys
	Store    *liabilities.Store // a built liabilities snapshot (private)
	ProofDir string             // batch proof cache for this snapshot (resume)

	Policy    *solvency.Policy
	Positions []solvency.Position
	Options   []solvency.OptionPosition // European options (docs/greeks.md); at most the profile's option slots
	Pools     []solvency.PoolPosition   // pool shares; at most the profile's pool slots
	Prices    []bundle.Price            // one per asset, Price normalised (USD, 8 decimals)

	Cycle         uint64
	ReservesBlock uint64
	RCSalt        *fr.Element // nil: fresh random salt

	Out        string // bundle directory (written atomically)
	PrivateOut string // where the reserves commitment's opening is written (auditors, R1); "" skips
	Replace    bool   // replace an existing bundle directory

	// ReservesChain, when set, goes into the opening: where each on-chain position is held, so
	// an auditor reads them at the reserves block (verify reserves --rpc).
	ReservesChain *bundle.ChainMap

	Provers       int
	BatchProgress func(done, total int)
	// Batches, if not nil, proves the liabilities batches instead of the in-process prover
	// (Provers and BatchProgress then apply to it, not here): workers over a JetStream queue,
	// from package prover/workqueue.
	Batches BatchBackend
}

// CycleResult reports what was proved.
type CycleResult struct {
	Manifest      *bundle.Manifest
	Report        *solvency.Report
	BatchSeconds  float64
	SolvencySecs  float64
	SolvencyProof groth16.Proof
	PublicInputs  []*big.Int
}

// ReservesOpening is the private opening of RC, for an auditor who checks reserves against
// chain state at the reserves block (R1); the verifier reads the same type.
type ReservesOpening = bundle.ReservesOpening

// OpenPosition is one opened position slot.
type OpenPosition = bundle.OpenPosition

// ProveCycle proves every liabilities batch (resuming) and the solvency statement, verifies both
// locally, and writes the public bundle. It refuses, without writing anything, when a limit fails.
func ProveCycle(ctx context.Context, req *CycleRequest) (*CycleResult, error) {
	h := poseidon.NewHasher()
	bk, err := req.Keys.Get(BatchCircuit)
	if err != nil {
		return nil, err
	}
	sk, err := req.Keys.Get(SolvencyCircuit)
	if err != nil {
		return nil, err
	}
	pub := req.Store.Public()
	table := pub.Table()
	n := pub.Batches
	last, err := req.Store.Batch(n - 1)
	if err != nil {
		return nil, err
	}
	prices := make([]uint64, len(req.Prices))
	for i, p := range req.Prices {
		if p.Symbol != table.Assets[i].Symbol {
			return nil, fmt.Errorf("price %d is for %s; asset slot %d is %s", i, p.Symbol, i, table.Assets[i].Symbol)
		}
		prices[i] = p.Price
	}
	slots := req.Keys.Meta.Profile.Positions
	w := &solvency.Witness{
		Inputs: solvency.Inputs{Table: table, Policy: req.Policy, Positions: req.Positions, Options: req.Options, Pools: req.Pools,
			Prices: prices, Liabilities: last.AfterSums},
		Slots:       slots,
		OptionSlots: req.Keys.Meta.Profile.Options,
		PoolSlots:   req.Keys.Meta.Profile.Pools,
		Meta:        solvency.Meta{Cycle: req.Cycle, ReservesBlock: req.ReservesBlock, SnapshotEpoch: pub.Epoch, SnapshotTime: pub.SnapshotTime},
		Opening: solvency.LiabilitiesOpening{
			Height: uint64(pub.BatchHeight), Batches: uint64(n), Depth: uint64(pub.Depth), Root: pub.Root.Fr(), AccSalt: last.AfterSalt,
		},
	}
	if req.RCSalt != nil {
		w.RCSalt = *req.RCSalt
	} else if w.RCSalt, err = batch.NewSalt(rand.Reader); err != nil {
		return nil, err
	}
	// The twin first: a false statement is refused before any proving.
	rep, err := solvency.Evaluate(&w.Inputs)
	if err != nil {
		return nil, fmt.Errorf("risk evaluation: %w", err)
	}
	if !rep.Pass {
		return &CycleResult{Report: rep}, &LimitsError{Report: rep}
	}
	st, err := w.Statement(h)
	if err != nil {
		return nil, err
	}
	if lc := pub.LC.Fr(); !st.LC.Equal(&lc) {
		return nil, errors.New("the liabilities opening does not reproduce the snapshot's LC")
	}

	t0 := time.Now()
	lp, err := ProveLiabilities(ctx, req.Store, req.ProofDir, bk.CCS, bk.PK, bk.VK, req.Provers, req.BatchProgress, req.Batches)
	if err != nil {
		return nil, err
	}
	batchSecs := time.Since(t0).Seconds()

	t1 := time.Now()
	assignment, err := solvency.Assign(h, w)
	if err != nil {
		return nil, fmt.Errorf("solvency witness: %w", err)
	}
	full, err := frontend.NewWitness(assignment, ecc.BN254.ScalarField())
	if err != nil {
		return nil, fmt.Errorf("solvency witness: %w", err)
	}
	// The on-chain verifier hashes commitments with keccak; the option is harmless without
	// commitments and keeps proofs valid for gnark's Solidity verifier.
	proof, err := groth16.Prove(sk.CCS, sk.PK, full, solidity.WithProverTargetSolidityVerifier(backend.GROTH16))
	if err != nil {
		return nil, fmt.Errorf("solvency proof: %w", err)
	}
	words, err := solvency.PublicInputs(st)
	if err != nil {
		return nil, fmt.Errorf("solvency public inputs: %w", err)
	}
	pubW, err := bundle.PublicWitness(toFr(words))
	if err != nil {
		return nil, err
	}
	if err := groth16.Verify(proof, sk.VK, pubW, solidity.WithVerifierTargetSolidityVerifier(backend.GROTH16)); err != nil {
		return nil, fmt.Errorf("fresh solvency proof does not verify: %w", err)
	}
	solvSecs := time.Since(t1).Seconds()

	var proofBuf, bvk, svk bytes.Buffer
	if _, err := proof.WriteTo(&proofBuf); err != nil {
		return nil, err
	}
	if _, err := bk.VK.WriteTo(&bvk); err != nil {
		return nil, err
	}
	if _, err := sk.VK.WriteTo(&svk); err != nil {
		return nil, err
	}
	m := &bundle.Manifest{
		Profile: req.Keys.Meta.Profile.Name,
		Trust:   string(req.Keys.Meta.Trust),
		Statement: bundle.Statement{
			Cycle: req.Cycle, ReservesBlock: req.ReservesBlock, SnapshotEpoch: pub.Epoch, SnapshotTime: pub.SnapshotTime,
			PolicyHash: el(st.PolicyHash), LC: el(st.LC), RC: el(st.RC), Prices: req.Prices,
			ChainID: req.Policy.ChainID, Registry: fmt.Sprintf("0x%x", req.Policy.Registry[:]),
		},
		Liabilities: lp.Tree,
		Batches:     lp.Batches,
		Created:     time.Now().UTC().Format(time.RFC3339),
		Assets:      *table,
	}
	if req.Keys.Meta.Ceremony != nil {
		m.Keys.Transcript = req.Keys.Meta.Ceremony.TranscriptDigest
	}
	for _, w := range toFr(words) {
		m.Statement.PublicInputs = append(m.Statement.PublicInputs, el(w))
	}
	// The opening first: a bundle must never exist whose RC nobody can open (R1). Interrupted
	// between the two writes, a rerun makes a new salt and overwrites the orphaned opening.
	if req.PrivateOut != "" {
		if err := writeOpening(req.PrivateOut, req, w, st); err != nil {
			return nil, err
		}
	}
	if err := WriteBundle(req.Out, m, BundleFiles{
		BatchProofs: lp.Proofs, SolvencyProof: proofBuf.Bytes(), BatchVK: bvk.Bytes(), SolvencyVK: svk.Bytes(),
	}, req.Replace); err != nil {
		return nil, err
	}
	return &CycleResult{Manifest: m, Report: rep, BatchSeconds: batchSecs, SolvencySecs: solvSecs, SolvencyProof: proof, PublicInputs: words}, nil
}

func writeOpening(dir string, req *CycleRequest, w *solvency.Witness, st *solvency.Statement) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	o := ReservesOpening{Version: 1, Cycle: req.Cycle, RC: poseidon.Hex(st.RC), Salt: poseidon.Hex(w.RCSalt), Slots: w.Slots,
		Block: req.ReservesBlock, Assets: w.Table.Assets, Venues: req.Policy.Venues, Chain: req.ReservesChain}
	for _, p := range w.Positions {
		o.Positions = append(o.Positions, OpenPosition{Venue: p.Venue, Asset: p.Asset, Amount: p.Amount.String()})
	}
	o.OptionSlots, o.PoolSlots = w.OptionSlots, w.PoolSlots
	for _, p := range w.Options {
		right := "call"
		if p.Put {
			right = "put"
		}
		o.Options = append(o.Options, bundle.OpenOption{Venue: p.Venue, Asset: p.Asset, Right: right, Short: p.Short,
			Strike: fmt.Sprint(p.Strike), Expiry: p.Expiry, Size: p.Size.String()})
	}
	for _, p := range w.Pools {
		o.Pools = append(o.Pools, bundle.OpenPool{Venue: p.Venue, AssetA: p.AssetA, AssetB: p.AssetB,
			AmountA: p.AmountA.String(), AmountB: p.AmountB.String()})
	}
	b, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, fmt.Sprintf("reserves-opening-%06d.json", req.Cycle)), append(b, '\n'), 0o600)
}

func toFr(v []*big.Int) []fr.Element {
	out := make([]fr.Element, len(v))
	for i := range v {
		out[i].SetBigInt(v[i])
	}
	return out
}
