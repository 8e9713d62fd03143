// Package verifier checks a cycle offline: a bundle's every batch proof, the running-sum chain,
// the tree above the batches, LC, and the solvency proof against its statement, with verifying
// keys pinned outside the bundle (V1). It needs no private data, no network and none of the
// prover's state.
package verifier

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend/groth16"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/batch"
	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// UnverifiedSetupWarning is the report's warning when the caller gives none and the keys' setup
// was not re-verified.
const UnverifiedSetupWarning = "WARNING: the setup of these keys was not verified here, so treat them as dev keys: " +
	"whoever ran the setup could forge proofs of false statements."

// ErrUnusable marks input that cannot be checked at all (exit code 2), as opposed to a bundle
// that was checked and found invalid (exit code 1).
var ErrUnusable = errors.New("unusable bundle")

// Check is one named verification step.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Report is the outcome of VerifyBundle.
type Report struct {
	Valid bool `json:"valid"`
	// Trust is what the auditor's pins establish about the keys' setup ("ceremony" only when
	// the pins come from a ceremony transcript re-verified against circuits compiled from
	// source); ClaimedTrust is the operator's word in the manifest, reported but never relied on
	// (V1, V7). TrustVerified says whether the setup was re-verified; Contributions are then the
	// ceremony's counts per phase ("phase1" and one per circuit). Warning is set unless it was.
	Trust         string         `json:"trust"`
	TrustVerified bool           `json:"trust_verified"`
	Contributions map[string]int `json:"ceremony_contributions,omitempty"`
	KeysProfile   string         `json:"keys_profile,omitempty"`
	Warning       string         `json:"warning,omitempty"`
	ClaimedTrust  string         `json:"claimed_trust"`
	// What was attested, for the auditor to compare with governance's policy and the chain.
	PolicyHash     string  `json:"policy_hash"`
	RC             string  `json:"rc"`
	ReservesBlock  uint64  `json:"reserves_block"`
	ChainID        uint64  `json:"chain_id"`
	Registry       string  `json:"registry"`
	ManifestSHA256 string  `json:"manifest_sha256"` // what the registry records as the bundle digest
	Cycle          uint64  `json:"cycle"`
	Epoch          uint64  `json:"snapshot_epoch"`
	Batches        int     `json:"batches"`
	MaxAccounts    int     `json:"max_accounts"` // n*B: an upper bound on the number of accounts
	LC             string  `json:"lc"`
	Root           string  `json:"root"`
	Checks         []Check `json:"checks"`
}

func (r *Report) add(name string, err error) bool {
	c := Check{Name: name, OK: err == nil}
	if err != nil {
		c.Detail = err.Error()
		r.Valid = false
	}
	r.Checks = append(r.Checks, c)
	return err == nil
}

// Failed returns the first failed check, if any.
func (r *Report) Failed() *Check {
	for i := range r.Checks {
		if !r.Checks[i].OK {
			return &r.Checks[i]
		}
	}
	return nil
}

// Options tune VerifyBundle.
type Options struct {
	// Workers bounds parallel proof verification; 0 means the number of CPUs.
	Workers int
	// Trust is what the pins' source establishes, reported as given. Empty means "pinned
	// digests, setup not verified". TranscriptDigest names the transcript the pins come from.
	Trust            string
	TranscriptDigest string
	// TrustVerified is set only when the pins were re-derived here from a ceremony transcript
	// verified against both circuits compiled from source; Contributions then hold its counts
	// per phase ("phase1", "batch", "solvency"), each at least one (V7). Without it the report
	// carries Warning (or UnverifiedSetupWarning).
	TrustVerified bool
	Contributions map[string]int
	Warning       string
	// KeysProfile, when set, is the profile the pinned keys were derived for: the bundle must
	// name it.
	KeysProfile string
	// PolicyHash, when set, is governance's policy hash: the bundle must be proven under it.
	PolicyHash *fr.Element
}

// VerifyBundle checks the bundle in dir against pins. An error wrapping ErrUnusable means the
// bundle could not be read; otherwise the report says which checks passed.
func VerifyBundle(dir string, pins bundle.Pins, opt Options) (*Report, error) {
	rep, _, err := VerifyBundleManifest(dir, pins, opt)
	return rep, err
}

// VerifyBundleManifest is VerifyBundle that also returns the manifest it verified, read once,
// so that a caller checks that exact manifest against other sources (the chain, a user's proof).
func VerifyBundleManifest(dir string, pins bundle.Pins, opt Options) (*Report, *bundle.Manifest, error) {
	// Pins that leave a circuit out cannot check the bundle at all: unusable input, not a
	// bundle found invalid.
	for _, c := range []string{bundle.BatchCircuit, bundle.SolvencyCircuit} {
		if _, ok := pins[c]; !ok {
			return nil, nil, fmt.Errorf("%w: the pins name no digest for the %s circuit's verifying key", ErrUnusable, c)
		}
	}
	m, raw, err := bundle.ReadManifestRaw(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrUnusable, err)
	}
	if m.Liabilities.Batches < 1 || m.Liabilities.Batches > maxBatches {
		return nil, nil, fmt.Errorf("%w: %d batches is outside 1..%d", ErrUnusable, m.Liabilities.Batches, maxBatches)
	}
	h := poseidon.NewHasher()
	st := &m.Statement
	lb := &m.Liabilities
	trust := opt.Trust
	if trust == "" {
		trust = "pinned digests, setup not verified"
	}
	rep := &Report{
		Valid: true, Trust: trust, ClaimedTrust: m.Trust, Cycle: st.Cycle, Epoch: st.SnapshotEpoch,
		PolicyHash: poseidon.Hex(st.PolicyHash.Element), RC: poseidon.Hex(st.RC.Element),
		ReservesBlock: st.ReservesBlock, ChainID: st.ChainID, Registry: st.Registry,
		ManifestSHA256: bundle.SHA256Hex(raw),
		Batches:        lb.Batches, MaxAccounts: lb.Batches * lb.BatchSize,
		LC: poseidon.Hex(st.LC.Element), Root: poseidon.Hex(lb.Root.Element),
		TrustVerified: opt.TrustVerified, KeysProfile: opt.KeysProfile,
	}
	if opt.TrustVerified {
		rep.Contributions = opt.Contributions
		rep.add("the keys' ceremony has a contribution in every phase of both circuits",
			checkContributions(opt.Contributions))
	} else {
		rep.Warning = opt.Warning
		if rep.Warning == "" {
			rep.Warning = UnverifiedSetupWarning
		}
	}
	if opt.KeysProfile != "" {
		var perr error
		if m.Profile != opt.KeysProfile {
			perr = fmt.Errorf("the bundle names profile %q; the pinned keys are for profile %q", m.Profile, opt.KeysProfile)
		}
		rep.add("the pinned keys are for the profile the bundle names", perr)
	}

	// V1: keys come from the bundle but must match digests pinned outside it.
	batchVK, err := bundle.ReadPinnedVK(dir, bundle.BatchVKFile, bundle.BatchCircuit, pins, m.Keys.BatchVK)
	rep.add("batch verifying key matches its pin (V1)", err)
	solvVK, err2 := bundle.ReadPinnedVK(dir, bundle.SolvencyVKFile, bundle.SolvencyCircuit, pins, m.Keys.SolvencyVK)
	rep.add("solvency verifying key matches its pin (V1)", err2)
	if err != nil || err2 != nil {
		return rep, m, nil
	}
	if opt.TranscriptDigest != "" || m.Trust == "ceremony" {
		var terr error
		switch {
		case m.Trust == "ceremony" && opt.TranscriptDigest == "":
			terr = errors.New("the bundle claims ceremony keys, but the pins do not come from a verified transcript")
		case m.Keys.Transcript != opt.TranscriptDigest:
			terr = fmt.Errorf("the bundle names transcript %q; the pins come from transcript %q", m.Keys.Transcript, opt.TranscriptDigest)
		}
		rep.add("keys come from the pinned ceremony transcript (V1)", terr)
	}
	if opt.PolicyHash != nil {
		rep.add("proven under governance's policy", eq(st.PolicyHash.Element, *opt.PolicyHash, "the bundle's policy hash"))
	}

	if !rep.add("tree shape is consistent", checkShape(lb, len(m.Batches))) {
		return rep, m, nil
	}
	assetsHash := m.Assets.Hash(h)
	rep.add("asset table hashes to assetsHash (L8)", eq(assetsHash, lb.AssetsHash.Element, "assetsHash"))
	rep.add("batches are indexed 0..n-1 exactly once, in order (L3)", checkIndices(m.Batches))
	rep.add("running-sum chain starts at ACC0 and is unbroken to accFinal (L1, L3)",
		checkChain(h, st.SnapshotEpoch, m.Assets.Len(), m.Batches, lb.AccFinal.Element))
	rep.add("batch digests bind epoch, index, root and the commitments (L3)", checkDigests(h, st.SnapshotEpoch, m.Batches))
	rep.add("tree above the batches: padding slots are EMPTY constants and the root recomputes (L4)", checkTop(h, lb, m.Batches))
	lc := batch.LCPreimage{
		Epoch: st.SnapshotEpoch, SnapshotTime: st.SnapshotTime, Height: lb.Height, Batches: lb.Batches,
		Depth: lb.Depth, Root: lb.Root.Element, AccFinal: lb.AccFinal.Element, AssetsHash: assetsHash,
	}
	rep.add("LC opens to the tree, the final commitment and the asset table (L4, L8)", eq(lc.Hash(h), st.LC.Element, "LC"))
	rep.add("every batch proof verifies", verifyBatches(dir, batchVK, m.Batches, opt.Workers))

	rep.add("prices name the asset table's symbols and normalise from their feed answers (P1)", checkPrices(st, &m.Assets))
	words, err := StatementInputs(st, m.Assets.Len())
	if err == nil {
		err = sameWords(words, st.PublicInputs)
	}
	rep.add("statement packs to the solvency proof's public inputs (S1, S7)", err)
	if err == nil {
		rep.add("solvency proof verifies against the statement", verifyProof(dir, m.Solvency, solvVK, words))
	}
	return rep, m, nil
}

// checkContributions requires at least one contribution in phase 1 and in each circuit's phase 2.
func checkContributions(c map[string]int) error {
	for _, k := range []string{"phase1", bundle.BatchCircuit, bundle.SolvencyCircuit} {
		if c[k] < 1 {
			return fmt.Errorf("the ceremony has %d contributions in %s", c[k], k)
		}
	}
	return nil
}

// maxBatches bounds a manifest's batch count before any loop or allocation depends on it.
const maxBatches = 1 << 30

func eq(got, want fr.Element, what string) error {
	if !got.Equal(&want) {
		return fmt.Errorf("%s recomputes to %s, the bundle says %s", what, poseidon.Hex(got), poseidon.Hex(want))
	}
	return nil
}

func checkShape(lb *bundle.Liabilities, nbBatches int) error {
	s := batch.Shape{Height: lb.Height, Assets: 1}
	if err := s.Validate(); err != nil {
		return err
	}
	if lb.BatchSize != s.BatchSize() {
		return fmt.Errorf("batch size %d is not 8^%d", lb.BatchSize, lb.Height)
	}
	if lb.Batches < 1 || lb.Batches != nbBatches {
		return fmt.Errorf("the tree claims %d batches; the bundle holds %d", lb.Batches, nbBatches)
	}
	if want := lb.Height + batch.TopHeight(lb.Batches); lb.Depth != want {
		return fmt.Errorf("depth %d; h + top height is %d", lb.Depth, want)
	}
	return nil
}

func checkIndices(bs []bundle.Batch) error {
	for i, b := range bs {
		if b.Index != i {
			return fmt.Errorf("batch at position %d has index %d", i, b.Index)
		}
	}
	return nil
}

func checkChain(h *poseidon.Hasher, epoch uint64, nbAssets int, bs []bundle.Batch, accFinal fr.Element) error {
	prev := batch.ACC0(h, epoch, nbAssets)
	for i, b := range bs {
		if !b.Before.Equal(&prev) {
			if i == 0 {
				return errors.New("batch 0 does not start from the public zero commitment ACC0")
			}
			return fmt.Errorf("batch %d does not start where batch %d ended", i, i-1)
		}
		prev = b.After.Element
	}
	if !prev.Equal(&accFinal) {
		return errors.New("the last batch does not end at accFinal")
	}
	return nil
}

func checkDigests(h *poseidon.Hasher, epoch uint64, bs []bundle.Batch) error {
	for i, b := range bs {
		d := batch.Digest(h, epoch, uint64(i), b.Root.Element, b.Before.Element, b.After.Element)
		if !d.Equal(&b.Digest.Element) {
			return fmt.Errorf("batch %d: digest does not match its fields", i)
		}
	}
	return nil
}

func checkTop(h *poseidon.Hasher, lb *bundle.Liabilities, bs []bundle.Batch) error {
	roots := make([]fr.Element, len(bs))
	for i := range bs {
		roots[i] = bs[i].Root.Element
	}
	levels, err := batch.TopLevels(h, roots, lb.Height)
	if err != nil {
		return err
	}
	if len(lb.TopLevels) != len(levels) {
		return fmt.Errorf("top tree has %d levels; want %d", len(lb.TopLevels), len(levels))
	}
	for l, level := range levels {
		if len(lb.TopLevels[l]) != len(level) {
			return fmt.Errorf("top tree level %d has %d nodes; want %d", l, len(lb.TopLevels[l]), len(level))
		}
		for i := range level {
			if !lb.TopLevels[l][i].Equal(&level[i]) {
				if l == 0 && i >= len(bs) {
					return fmt.Errorf("padding slot %d is not the empty-subtree constant", i)
				}
				return fmt.Errorf("top tree level %d node %d does not recompute", l, i)
			}
		}
	}
	return eq(levels[len(levels)-1][0], lb.Root.Element, "root")
}

func verifyBatches(dir string, vk groth16.VerifyingKey, bs []bundle.Batch, workers int) error {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
		next  = make(chan int)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := verifyProof(dir, bs[i].ProofFile, vk, []fr.Element{bs[i].Digest.Element}); err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("batch %d: %w", i, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range bs {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

func verifyProof(dir string, pf bundle.ProofFile, vk groth16.VerifyingKey, public []fr.Element) error {
	data, err := bundle.ReadProof(dir, pf)
	if err != nil {
		return err
	}
	proof, err := bundle.ParseProof(data)
	if err != nil {
		return err
	}
	w, err := bundle.PublicWitness(public)
	if err != nil {
		return err
	}
	if err := groth16.Verify(proof, vk, w); err != nil {
		return fmt.Errorf("proof does not verify: %w", err)
	}
	return nil
}

func sameWords(got []fr.Element, manifest []poseidon.Element) error {
	if len(got) != len(manifest) {
		return fmt.Errorf("the statement packs to %d public inputs; the manifest lists %d", len(got), len(manifest))
	}
	for i := range got {
		if !got[i].Equal(&manifest[i].Element) {
			return fmt.Errorf("public input %d: the statement packs to %s, the manifest says %s", i, poseidon.Hex(got[i]), poseidon.Hex(manifest[i].Element))
		}
	}
	return nil
}
