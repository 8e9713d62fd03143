package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/frontend"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/batch"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/internal/cyclefixture"
	"github.com/solvency-dev/solvency/prover"
	"github.com/solvency-dev/solvency/prover/ceremony"
	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/profile"
	"github.com/solvency-dev/solvency/verifier"
)

// nothingBatch has the batch circuit's one public input and checks nothing about it: Zero = 0
// satisfies Digest·Zero = 0 for any digest (the product only keeps gnark from refusing an
// unconstrained input).
type nothingBatch struct {
	Digest frontend.Variable `gnark:",public"`
	Zero   frontend.Variable
}

func (c *nothingBatch) Define(api frontend.API) error {
	api.AssertIsEqual(api.Mul(c.Digest, c.Zero), 0)
	return nil
}

// nothingSolvency has the solvency circuit's public words and checks nothing about them.
type nothingSolvency struct {
	Words []frontend.Variable `gnark:",public"`
	Zero  frontend.Variable
}

func (c *nothingSolvency) Define(api frontend.API) error {
	for _, w := range c.Words {
		api.AssertIsEqual(api.Mul(w, c.Zero), 0)
	}
	return nil
}

// nothingSpecs are circuits under the real names that check nothing; words is the number of the
// solvency proof's public inputs.
func nothingSpecs(words int) []profile.CircuitSpec {
	return []profile.CircuitSpec{
		{Name: "batch", Version: "1", New: func(profile.Profile) (frontend.Circuit, error) { return &nothingBatch{}, nil }},
		{Name: "solvency", Version: "1", New: func(profile.Profile) (frontend.Circuit, error) {
			return &nothingSolvency{Words: make([]frontend.Variable, words)}, nil
		}},
	}
}

// v7World is what an operator holding the proving keys builds to attack the ceremony path: an
// honest cycle (dev keys), an honest ceremony over circuits that check nothing, and a bundle
// re-proved with its keys whose running sums commit to zero.
type v7World struct {
	fx         *cyclefixture.Fixture
	words      int
	cer        string // the ceremony over circuits that check nothing
	keysDir    string // its keys
	forged     string // bundle: same tree and users, liabilities zero, proved with those keys
	fakePins   bundle.Pins
	transcript string
}

// TestV7_CLI builds the attacker's world once (it takes a while: a proven cycle and a ceremony)
// and runs each attack against the CLI in a subtest.
func TestV7_CLI(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits or compiles contracts: run without -short")
	}
	w, err := buildV7World(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer w.fx.Store.Close()
	t.Run("CeremonyOverCircuitsThatCheckNothingRefused", func(t *testing.T) { testCeremonyOverCircuitsThatCheckNothing(t, w) })
	t.Run("ZeroContributionCeremonyRefused", func(t *testing.T) { testZeroContributionCeremony(t, w) })
	t.Run("PinsFileRelabellingDevKeysNotVerified", func(t *testing.T) { testPinsFileRelabellingDevKeys(t, w) })
}

func buildV7World(dir string) (*v7World, error) {
	fx, err := cyclefixture.New(filepath.Join(dir, "fixture"))
	if err != nil {
		return nil, err
	}
	m, _, err := bundle.ReadManifestRaw(fx.Bundle)
	if err != nil {
		return nil, err
	}
	w := &v7World{fx: fx, words: len(m.Statement.PublicInputs), cer: filepath.Join(dir, "cer"), keysDir: filepath.Join(dir, "cer-keys")}

	// The ceremony, run honestly, one contribution per phase, over circuits that check nothing.
	src := &ceremony.Source{Profile: fx.Profile}
	if src.Circuits, err = (circuitcache.Cache{}).GetAll(nothingSpecs(w.words), fx.Profile); err != nil {
		return nil, err
	}
	opts := ceremony.Options{Source: src}
	if _, err := ceremony.Init(w.cer, fx.Profile, src.Circuits, nil); err != nil {
		return nil, err
	}
	if _, err := ceremony.Contribute(w.cer, nil); err != nil {
		return nil, err
	}
	if err := ceremony.StartPhase2(w.cer, bytes.Repeat([]byte{0xab}, 32), opts); err != nil {
		return nil, err
	}
	if _, err := ceremony.Contribute(w.cer, nil); err != nil {
		return nil, err
	}
	res, err := ceremony.Finalize(w.cer, bytes.Repeat([]byte{0xcd}, 32), w.keysDir, opts)
	if err != nil {
		return nil, err
	}
	w.transcript = res.TranscriptDigest
	k, err := keys.Load(w.keysDir)
	if err != nil {
		return nil, err
	}
	w.fakePins = bundle.Pins{}
	for n, c := range k.Circuits {
		w.fakePins[n] = c.Info.VKDigest
	}
	w.forged = filepath.Join(dir, "forged")
	return w, forgeZeroLiabilities(fx.Bundle, w.forged, w.keysDir, k, res.TranscriptDigest)
}

// forgeZeroLiabilities rewrites the honest bundle in src so that every running sum commits to
// zero (the tree and its users unchanged), rebuilds the digests, LC and the statement, and
// proves it all with k, the keys of the circuits that check nothing.
func forgeZeroLiabilities(src, out, keysDir string, k *keys.Keys, transcript string) error {
	m, _, err := bundle.ReadManifestRaw(src)
	if err != nil {
		return err
	}
	h := poseidon.NewHasher()
	st, lb := &m.Statement, &m.Liabilities
	acc0 := batch.ACC0(h, st.SnapshotEpoch, m.Assets.Len())
	bk, sk := k.Circuits["batch"], k.Circuits["solvency"]
	var files prover.BundleFiles
	for i := range m.Batches {
		b := &m.Batches[i]
		b.Before.Element, b.After.Element = acc0, acc0
		b.Digest.Element = batch.Digest(h, st.SnapshotEpoch, uint64(i), b.Root.Element, acc0, acc0)
		p, err := proveNothing(bk, &nothingBatch{Digest: bigOf(b.Digest.Element), Zero: 0})
		if err != nil {
			return err
		}
		files.BatchProofs = append(files.BatchProofs, p)
	}
	lb.AccFinal.Element = acc0
	st.LC.Element = batch.LCPreimage{Epoch: st.SnapshotEpoch, SnapshotTime: st.SnapshotTime, Height: lb.Height,
		Batches: lb.Batches, Depth: lb.Depth, Root: lb.Root.Element, AccFinal: acc0, AssetsHash: lb.AssetsHash.Element}.Hash(h)
	words, err := verifier.StatementInputs(st, m.Assets.Len())
	if err != nil {
		return err
	}
	a := &nothingSolvency{Zero: 0}
	st.PublicInputs = nil
	for _, wd := range words {
		st.PublicInputs = append(st.PublicInputs, poseidon.Element{Element: wd})
		a.Words = append(a.Words, bigOf(wd))
	}
	if files.SolvencyProof, err = proveNothing(sk, a); err != nil {
		return err
	}
	if files.BatchVK, err = os.ReadFile(filepath.Join(keysDir, "batch.vk")); err != nil {
		return err
	}
	if files.SolvencyVK, err = os.ReadFile(filepath.Join(keysDir, "solvency.vk")); err != nil {
		return err
	}
	m.Trust, m.Keys.Transcript = string(keys.TrustCeremony), transcript
	return prover.WriteBundle(out, m, files, false)
}

func bigOf(e fr.Element) *big.Int { return e.BigInt(new(big.Int)) }

func proveNothing(c *keys.Circuit, assignment frontend.Circuit) ([]byte, error) {
	w, err := frontend.NewWitness(assignment, ecc.BN254.ScalarField())
	if err != nil {
		return nil, err
	}
	proof, err := groth16.Prove(c.CCS, c.PK, w)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := proof.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// runCLI runs the real CLI in-process and returns the exit code and outputs.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	root := newRootCmd()
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err != nil {
		stderr.WriteString("solvency: " + err.Error() + "\n")
	}
	return exitCode(err), stdout.String(), stderr.String()
}

// An honest ceremony over two circuits that check nothing, and a bundle whose running sums
// commit to zero proved with its keys: the auditor's documented command refuses it.
func testCeremonyOverCircuitsThatCheckNothing(t *testing.T, w *v7World) {

	// The forged bundle is otherwise perfect: with its keys pinned from its transcript (as the
	// transcript's own R1CS files derive them), every check passes, and the liabilities it
	// attests are zero.
	rep, err := verifier.VerifyBundle(w.forged, w.fakePins, verifier.Options{TranscriptDigest: w.transcript})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid {
		t.Fatalf("the forged bundle should pass every check but the ceremony's: %+v", rep.Failed())
	}
	m, _, err := bundle.ReadManifestRaw(w.forged)
	if err != nil {
		t.Fatal(err)
	}
	acc0 := batch.ACC0(poseidon.NewHasher(), m.Statement.SnapshotEpoch, m.Assets.Len())
	if !m.Liabilities.AccFinal.Equal(&acc0) {
		t.Fatal("the forged bundle's running sums do not commit to zero")
	}

	// The auditor's command: the circuits are compiled from source and the ceremony refused.
	for _, args := range [][]string{
		{"verify", "bundle", w.forged, "--keys-from", w.cer},
		{"verify", "bundle", w.forged, "--keys-from", w.cer, "--json"},
	} {
		code, stdout, stderr := runCLI(t, args...)
		t.Logf("%v: exit %d\n%s%s", args, code, stdout, stderr)
		if code == 0 || !strings.Contains(stderr, "not the one compiled from source") || strings.Contains(stdout, "bundle valid") {
			t.Fatalf("%v: exit %d\nstdout %s\nstderr %s", args, code, stdout, stderr)
		}
	}
	// verify inclusion reads its pins through the same loader: a user's proof (the forged
	// bundle keeps the tree, so the path to the root still holds) is not reported counted.
	if _, err := loadPins(w.cer, io.Discard); err == nil || !strings.Contains(err.Error(), "not the one compiled from source") {
		t.Fatalf("loadPins accepted the ceremony over circuits that check nothing: %v", err)
	}
	id := w.fx.Data.Accounts[0].ID
	proofFile := filepath.Join(t.TempDir(), "me.json")
	if code, _, stderr := runCLI(t, "liabilities", "proof", "--dir", w.fx.SnapDir, "--account", id, "--out", proofFile); code != 0 {
		t.Fatalf("liabilities proof: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runCLI(t, "verify", "inclusion", "--proof", proofFile, "--bundle", w.forged, "--keys-from", w.cer, "--account", id)
	if code == 0 || strings.Contains(stdout, "COUNTED:") || !strings.Contains(stderr, "not the one compiled from source") {
		t.Fatalf("verify inclusion: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// `ceremony verify` too compiles the real circuits.
	if code, _, stderr := runCLI(t, "ceremony", "verify", "--dir", w.cer); code != exitInvalid || !strings.Contains(stderr, "not the one compiled from source") {
		t.Fatalf("ceremony verify: exit %d: %s", code, stderr)
	}

	// With those circuits as the source (what only a build of other circuits would compile),
	// the same path accepts, says "ceremony" and prints the counts: the refusal above is the
	// comparison with the source, nothing else.
	var out, errw bytes.Buffer
	o := &verifyBundleOptions{dir: w.forged, keysFrom: w.cer, circuits: nothingSpecs(w.words)}
	if err := runVerifyBundle(context.Background(), &out, &errw, o); err != nil {
		t.Fatalf("%v\n%s", err, errw.String())
	}
	t.Logf("with the impostor circuits as the source:\n%s", out.String())
	if !strings.Contains(out.String(), "keys: ceremony: transcript "+w.transcript) ||
		!strings.Contains(out.String(), "contributions: phase 1: 1, batch phase 2: 1, solvency phase 2: 1") || strings.Contains(out.String(), "WARNING") {
		t.Fatalf("human report:\n%s", out.String())
	}
	out.Reset()
	o.json = true
	if err := runVerifyBundle(context.Background(), &out, &errw, o); err != nil {
		t.Fatal(err)
	}
	var jr verifier.Report
	if err := json.Unmarshal(out.Bytes(), &jr); err != nil {
		t.Fatal(err)
	}
	if !jr.TrustVerified || jr.Contributions["phase1"] != 1 || jr.Contributions["batch"] != 1 || jr.Contributions["solvency"] != 1 ||
		jr.KeysProfile != "test" || jr.Warning != "" {
		t.Fatalf("JSON report: %+v", jr)
	}
}

// A ceremony with no contribution in a phase is refused by verify bundle and ceremony verify.
func testZeroContributionCeremony(t *testing.T, w *v7World) {
	for _, phase := range []string{"phase1", "phase2"} {
		dir := filepath.Join(t.TempDir(), "cer")
		cyclefixture.CopyDir(t, w.cer, dir)
		if phase == "phase1" {
			// Sealed with no contribution: the contribution removed and the seal rewritten.
			if err := os.Remove(filepath.Join(dir, "phase1", "0001.ph1")); err != nil {
				t.Fatal(err)
			}
			seal := filepath.Join(dir, "phase1", "seal.json")
			b, err := os.ReadFile(seal)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(seal, bytes.Replace(b, []byte(`"contributions": 1`), []byte(`"contributions": 0`), 1), 0o644); err != nil {
				t.Fatal(err)
			}
		} else {
			for _, c := range []string{"batch", "solvency"} {
				if err := os.Remove(filepath.Join(dir, "phase2", c, "0001.ph2")); err != nil {
					t.Fatal(err)
				}
			}
		}
		code, _, stderr := runCLI(t, "verify", "bundle", w.forged, "--keys-from", dir)
		t.Logf("%s: exit %d: %s", phase, code, stderr)
		if code == 0 || !strings.Contains(stderr, "no contribution") {
			t.Fatalf("%s: verify bundle exit %d: %s", phase, code, stderr)
		}
		code, _, stderr = runCLI(t, "ceremony", "verify", "--dir", dir, "--json")
		if code != exitInvalid || !strings.Contains(stderr, "no contribution") {
			t.Fatalf("%s: ceremony verify exit %d: %s", phase, code, stderr)
		}
	}
}

// Dev keys relabelled by a pins file naming a transcript digest verify, but are reported
// "pinned, not re-verified", with the warning, in human output and JSON.
func testPinsFileRelabellingDevKeys(t *testing.T, w *v7World) {
	// The operator relabels the dev-key bundle: "ceremony", naming a real transcript.
	relabelled := filepath.Join(t.TempDir(), "bundle")
	cyclefixture.CopyDir(t, w.fx.Bundle, relabelled)
	m, _, err := bundle.ReadManifestRaw(relabelled)
	if err != nil {
		t.Fatal(err)
	}
	m.Trust, m.Keys.Transcript = string(keys.TrustCeremony), w.transcript
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(relabelled, bundle.ManifestFile), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	pins, err := json.Marshal(keys.Pins{TranscriptDigest: w.transcript, VerifyingKeys: w.fx.Pins})
	if err != nil {
		t.Fatal(err)
	}
	pinsFile := filepath.Join(t.TempDir(), "pins.json")
	if err := os.WriteFile(pinsFile, pins, 0o644); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCLI(t, "verify", "bundle", relabelled, "--keys-from", pinsFile)
	t.Logf("relabelled dev keys: exit %d\n%s", code, stdout)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "keys: pinned, not re-verified") || !strings.Contains(stdout, "forge proofs of false statements") ||
		strings.Contains(stdout, "keys: ceremony") {
		t.Fatalf("human report:\n%s", stdout)
	}
	code, stdout, _ = runCLI(t, "verify", "bundle", relabelled, "--keys-from", pinsFile, "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var jr verifier.Report
	if err := json.Unmarshal([]byte(stdout), &jr); err != nil {
		t.Fatal(err)
	}
	if jr.TrustVerified || !strings.HasPrefix(jr.Trust, ceremony.LabelPinnedNotVerified) || !strings.Contains(jr.Warning, "forge proofs") || jr.Contributions != nil {
		t.Fatalf("JSON report: %+v", jr)
	}

	// The dev keys directory itself says DEV KEYS, with the dev warning.
	code, stdout, stderr = runCLI(t, "verify", "bundle", w.fx.Bundle, "--keys-from", w.fx.KeysDir)
	if code != 0 || !strings.Contains(stdout, "keys: DEV KEYS") || !strings.Contains(stdout, keys.DevWarning) {
		t.Fatalf("dev keys directory: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
