package prover_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/solvency-dev/solvency/bench"
	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/liabilities"
	"github.com/solvency-dev/solvency/prover"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/verifier"
)

func bigU(v uint64) *big.Int { return new(big.Int).SetUint64(v) }

func verifyOK(t *testing.T, dir string, pins bundle.Pins) *verifier.Report {
	t.Helper()
	rep, err := verifier.VerifyBundle(dir, pins, verifier.Options{})
	if err != nil {
		t.Fatalf("VerifyBundle(%s): %v", dir, err)
	}
	if f := rep.Failed(); f != nil || !rep.Valid {
		t.Fatalf("VerifyBundle(%s): invalid: %+v", dir, f)
	}
	return rep
}

// End to end: generated accounts -> snapshot -> every batch proved -> solvency proof -> bundle,
// and the bundle verifies offline against keys pinned outside it.
func TestProveCycle_EndToEnd(t *testing.T) {
	rep := verifyOK(t, fx.Bundle, fx.Pins)
	m, err := bundle.ReadManifest(fx.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	if want := (fixtureUsers + 7) / 8; rep.Batches != want || len(m.Batches) != want {
		t.Fatalf("%d batches in the report, %d in the manifest; want %d", rep.Batches, len(m.Batches), want)
	}
	// Dev keys say so in the bundle; the report shows that claim beside the trust its pins
	// establish, and never calls plain digests a ceremony (V1).
	if m.Trust != string(keys.TrustDev) || rep.ClaimedTrust != string(keys.TrustDev) || strings.HasPrefix(rep.Trust, string(keys.TrustCeremony)) {
		t.Fatalf("trust %q / claimed %q / pinned %q, want %q", m.Trust, rep.ClaimedTrust, rep.Trust, keys.TrustDev)
	}
	if m.Statement.Cycle != 9 || m.Statement.ReservesBlock != 21000000 || m.Statement.SnapshotEpoch != 5 {
		t.Fatalf("statement %+v", m.Statement)
	}
	if m.Profile != fx.Profile.Name {
		t.Fatalf("profile %q", m.Profile)
	}
	// The RC opening lives in the private directory, not in the bundle.
	if _, err := os.Stat(filepath.Join(fx.Private, "reserves-opening-000009.json")); err != nil {
		t.Fatalf("RC opening: %v", err)
	}
	// Every statement named by the solvency proof matches the twin's passing report.
	if !fx.Manifest.Report.Pass {
		t.Fatal("the fixture's twin report does not pass")
	}
}

// V4: the public bundle holds no account id, salt (account or running-sum), per-account balance
// or per-batch running sum, in any encoding we can scan for; and verification needs none of the
// private files.
func TestV4_BundleHoldsNoPrivateData(t *testing.T) {
	dir := t.TempDir()
	// A copy of everything, so that deleting the private store does not disturb other tests.
	bdir := filepath.Join(dir, "bundle")
	copyDir(t, fx.Bundle, bdir)

	var files [][]byte
	var names []string
	err := filepath.WalkDir(bdir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files, names = append(files, b), append(names, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("the bundle has only %d files", len(files))
	}
	type needle struct {
		what string
		b    []byte
	}
	var needles []needle
	addElem := func(what string, e poseidon.Element) {
		h := poseidon.Hex(e.Element)
		be := e.Element.Bytes()
		needles = append(needles,
			needle{what + " (hex)", []byte(h)},
			needle{what + " (hex, no prefix)", []byte(h[2:])},
			needle{what + " (upper hex)", []byte(strings.ToUpper(h[2:]))},
			needle{what + " (32 raw bytes)", be[:]},
		)
	}
	skippedSmall := 0
	addAmount := func(what string, units uint64, prec uint8) {
		// Short decimals (0, 7, 42) occur in any file by chance: only amounts of at least 6
		// digits are distinctive enough to scan for.
		s := strconv.FormatUint(units, 10)
		if len(s) < 6 {
			skippedSmall++
			return
		}
		needles = append(needles, needle{what, []byte(s)}, needle{what + " (formatted)", []byte(assets.FormatUnits(bigU(units), prec))})
	}
	table := fx.Data.Table
	for _, acc := range fx.Data.Accounts {
		needles = append(needles, needle{"account id " + acc.ID, []byte(acc.ID)})
		p, err := fx.Store.Proof(acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		addElem("salt of "+acc.ID, poseidon.Element{Element: p.Salt.Fr()})
		for a, b := range acc.Balances {
			addAmount("balance of "+acc.ID, b, table.Assets[a].Precision)
		}
	}
	for i := range fx.Store.Public().Batches {
		in, err := fx.Store.Batch(i)
		if err != nil {
			t.Fatal(err)
		}
		addElem("running-sum salt of batch "+strconv.Itoa(i), poseidon.Element{Element: in.AfterSalt})
		for a, s := range in.AfterSums {
			if s.IsUint64() {
				addAmount("running sum after batch "+strconv.Itoa(i), s.Uint64(), table.Assets[a].Precision)
			}
		}
	}
	// The reserves commitment's salt (R1's opening) is private too.
	opening, err := os.ReadFile(filepath.Join(fx.Private, "reserves-opening-000009.json"))
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.Index(opening, []byte(`"salt": "0x`)); i < 0 {
		t.Fatal("the RC opening names no salt")
	} else {
		rc := opening[i+len(`"salt": "`) : i+len(`"salt": "`)+66]
		needles = append(needles, needle{"RC salt", rc})
		raw, _ := hex.DecodeString(string(rc[2:]))
		needles = append(needles, needle{"RC salt (raw)", raw})
	}
	for _, n := range needles {
		for i, f := range files {
			if bytes.Contains(f, n.b) {
				t.Errorf("%s appears in %s", n.what, names[i])
			}
		}
	}
	t.Logf("scanned %d files for %d needles (%d balances under 6 digits not scannable)", len(files), len(needles), skippedSmall)

	// Verification works with every private file gone: only the copied bundle is left.
	verifyOK(t, bdir, fx.Pins)
	// The private directory sits beside the bundle, never inside it.
	if rel, err := filepath.Rel(fx.Bundle, fx.Private); err == nil && !strings.HasPrefix(rel, "..") {
		t.Fatalf("private output %s is inside the bundle %s", fx.Private, fx.Bundle)
	}
}

// Resume: with some batch proofs deleted and one corrupted, proving again re-proves exactly
// those, keeps the others byte for byte, and yields a valid bundle.
func TestProveCycle_ResumesFromProvedBatches(t *testing.T) {
	dir := t.TempDir()
	proofs := filepath.Join(dir, "batch-proofs")
	copyDir(t, fx.Proofs, proofs)
	n := fx.Store.Public().Batches
	kept, err := os.ReadFile(prover.ProofPath(proofs, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(prover.ProofPath(proofs, 1)); err != nil {
		t.Fatal(err)
	}
	corrupt, err := os.ReadFile(prover.ProofPath(proofs, 2))
	if err != nil {
		t.Fatal(err)
	}
	corrupt[10] ^= 0x40
	if err := os.WriteFile(prover.ProofPath(proofs, 2), corrupt, 0o644); err != nil {
		t.Fatal(err)
	}
	// A leftover of a write killed halfway: atomicfile's temporary, never a half proof.
	if err := os.WriteFile(filepath.Join(proofs, ".000003.proof.tmp"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex // progress may be called from several provers at once
		calls [][2]int
	)
	req := fx.Request(filepath.Join(dir, "bundle"), proofs, "")
	req.BatchProgress = func(done, total int) {
		mu.Lock()
		calls = append(calls, [2]int{done, total})
		mu.Unlock()
	}
	if _, err := prover.ProveCycle(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 || calls[0] != [2]int{n - 2, n} {
		t.Fatalf("progress calls %v: want the first to report %d of %d already proved", calls, n-2, n)
	}
	if got := len(calls) - 1; got != 2 {
		t.Fatalf("%d batches proved again, want 2 (progress %v)", got, calls)
	}
	again, err := os.ReadFile(prover.ProofPath(proofs, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, kept) {
		t.Fatal("batch 0's proof was re-made although it was valid")
	}
	fixed, err := os.ReadFile(prover.ProofPath(proofs, 2))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(fixed, corrupt) {
		t.Fatal("the corrupted proof of batch 2 was kept")
	}
	verifyOK(t, filepath.Join(dir, "bundle"), fx.Pins)

	// A third run has nothing left to prove.
	calls = nil
	req.Out = filepath.Join(dir, "bundle2")
	if _, err := prover.ProveCycle(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0] != [2]int{n, n} {
		t.Fatalf("progress calls %v on a complete cache: want one call reporting %d of %d", calls, n, n)
	}
	verifyOK(t, req.Out, fx.Pins)
}

// A treasury that fails a limit is refused with the twin's report, before any proving: no
// bundle, no private output, no batch proof is written.
func TestProveCycle_LimitFailureWritesNothing(t *testing.T) {
	bad, err := bench.Generate(fx.Profile, fixtureUsers, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	req := fx.Request(filepath.Join(dir, "bundle"), filepath.Join(dir, "proofs"), filepath.Join(dir, "private"))
	req.Positions = bad.Positions
	res, err := prover.ProveCycle(context.Background(), req)
	var le *prover.LimitsError
	if !errors.As(err, &le) || !errors.Is(err, prover.ErrLimitsFail) {
		t.Fatalf("ProveCycle with empty reserves: err %v, want a *LimitsError", err)
	}
	if le.Report == nil || le.Report.Pass || res == nil || res.Report != le.Report {
		t.Fatal("the refusal carries no failing report")
	}
	if !strings.Contains(err.Error(), "collateral") {
		t.Fatalf("the refusal does not name the failed limit: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("refused cycle wrote %s", e.Name())
	}
}

// Interrupted (the context is cancelled, as Ctrl-C does) after the first batch proof: no bundle
// is written, the proofs made so far are kept whole, and the next run resumes from them.
func TestProveCycle_InterruptedThenResumed(t *testing.T) {
	dir := t.TempDir()
	proofs := filepath.Join(dir, "batch-proofs")
	out := filepath.Join(dir, "bundle")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := fx.Request(out, proofs, "")
	req.Provers = 1
	req.BatchProgress = func(done, total int) {
		if done >= 1 {
			cancel()
		}
	}
	if _, err := prover.ProveCycle(ctx, req); err == nil {
		t.Fatal("an interrupted cycle reported success")
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("interrupted cycle left a bundle (stat: %v)", err)
	}
	entries, err := os.ReadDir(proofs)
	if err != nil {
		t.Fatal(err)
	}
	n := fx.Store.Public().Batches
	whole := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".proof") {
			whole++
		}
	}
	if whole < 1 || whole >= n {
		t.Fatalf("%d proofs kept after the interruption, want 1..%d", whole, n-1)
	}
	var first = -1
	req.BatchProgress = func(done, total int) {
		if first < 0 {
			first = done
		}
	}
	if _, err := prover.ProveCycle(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if first != whole {
		t.Fatalf("the rerun started from %d proved batches, want the %d kept", first, whole)
	}
	verifyOK(t, out, fx.Pins)
}

// V5: a user's inclusion proof from the private store verifies against the LC of a bundle that
// verify accepted (so the balance was counted); checked against any other LC it does not.
func TestV5_InclusionCountsAgainstTheVerifiedBundle(t *testing.T) {
	verifyOK(t, fx.Bundle, fx.Pins)
	m, err := bundle.ReadManifest(fx.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	for _, acc := range fx.Data.Accounts[:3] {
		p, err := fx.Store.Proof(acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := liabilities.VerifyInclusionLC(p, m.Statement.LC.Element); err != nil {
			t.Fatalf("inclusion proof of %s against the verified bundle's LC: %v", acc.ID, err)
		}
		other := m.Statement.LC.Element
		other.SetUint64(12345)
		if err := liabilities.VerifyInclusionLC(p, other); err == nil {
			t.Fatalf("inclusion proof of %s verified against an unrelated LC", acc.ID)
		}
	}
}
