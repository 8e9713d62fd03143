package ceremony

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"
	"github.com/consensys/gnark/frontend"

	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/profile"
	"github.com/solvency-dev/solvency/prover/toycircuits"
)

func testProfile(t *testing.T) profile.Profile {
	t.Helper()
	p, err := profile.Lookup("test")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func compiled(t *testing.T, p profile.Profile) []*circuitcache.Compiled {
	t.Helper()
	cc, err := circuitcache.Cache{}.GetAll(toycircuits.Specs(), p)
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

// toyOpts are verification options with the toy circuits as the source, for the test profile.
func toyOpts(t testing.TB) Options {
	t.Helper()
	p, err := profile.Lookup("test")
	if err != nil {
		t.Fatal(err)
	}
	cc, err := circuitcache.Cache{}.GetAll(toycircuits.Specs(), p)
	if err != nil {
		t.Fatal(err)
	}
	return Options{Source: &Source{Profile: p, Circuits: cc}}
}

func beacon(t testing.TB) []byte {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// runCeremony runs, in dir, init, three phase-1 and three phase-2 contributions (the second of
// each through the single-file path participants use), leaving it open in phase 2.
func runCeremony(t testing.TB, dir string, p profile.Profile, cc []*circuitcache.Compiled) {
	t.Helper()
	start := time.Now()
	if _, err := Init(dir, p, cc, nil); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if i == 2 {
			in := filepath.Join(dir, "phase1", phase1Name(1))
			if err := ContributeFile(in, filepath.Join(dir, "phase1", phase1Name(2))); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := Contribute(dir, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := StartPhase2(dir, beacon(t), Options{Source: &Source{Profile: p, Circuits: cc}}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if i == 2 {
			for _, c := range cc {
				d := filepath.Join(dir, "phase2", c.Name)
				if err := ContributeFile(filepath.Join(d, phase2Name(1)), filepath.Join(d, phase2Name(2))); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		if _, err := Contribute(dir, nil); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("ceremony with 3+3 contributions: %s", time.Since(start).Round(time.Millisecond))
}

// shared is one ceremony run once for the package's tests, which each work on a copy.
var shared struct {
	once sync.Once
	dir  string
	cc   []*circuitcache.Compiled
	err  error
}

// ceremonyCopy returns a private copy of the shared three-contribution ceremony (open in
// phase 2) and the compiled circuits.
func ceremonyCopy(t *testing.T) (profile.Profile, []*circuitcache.Compiled, string) {
	t.Helper()
	p := testProfile(t)
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "ceremony-fixture-")
		if shared.err != nil {
			return
		}
		shared.cc, shared.err = circuitcache.Cache{}.GetAll(toycircuits.Specs(), p)
		if shared.err != nil {
			return
		}
		shared.dir = filepath.Join(shared.dir, "ceremony")
		// runCeremony stops this test on failure; the later ones then see this error.
		shared.err = errors.New("the shared ceremony fixture failed; see the first test's log")
		runCeremony(t, shared.dir, p, shared.cc)
		shared.err = nil
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return p, shared.cc, copyDir(t, shared.dir)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(filepath.Dir(shared.dir))
	}
	os.Exit(code)
}

func proveAndVerify(t *testing.T, k *keys.Keys, p profile.Profile) {
	t.Helper()
	for name, c := range k.Circuits {
		a, err := toycircuits.Assignment(name, p)
		if err != nil {
			t.Fatal(err)
		}
		w, err := frontend.NewWitness(a, ecc.BN254.ScalarField())
		if err != nil {
			t.Fatal(err)
		}
		proof, err := groth16.Prove(c.CCS, c.PK, w)
		if err != nil {
			t.Fatalf("prove %s: %v", name, err)
		}
		pub, err := w.Public()
		if err != nil {
			t.Fatal(err)
		}
		if err := groth16.Verify(proof, c.VK, pub); err != nil {
			t.Fatalf("verify %s: %v", name, err)
		}
	}
}

func TestCeremonyThreeContributionsEndToEnd(t *testing.T) {
	p, cc, dir := ceremonyCopy(t)

	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Stage != StagePhase2 || len(st.Phase1) != 3 || len(st.Phase2["toybatch"]) != 3 {
		t.Fatalf("unexpected state %s, %d phase-1, %v", st.Stage, len(st.Phase1), st.Phase2)
	}
	if _, err := Verify(dir, toyOpts(t)); err != nil {
		t.Fatalf("verify before finalize: %v", err)
	}

	out := filepath.Join(t.TempDir(), "keys")
	b2 := beacon(t)
	start := time.Now()
	res, err := Finalize(dir, b2, out, toyOpts(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("finalize: %s", time.Since(start).Round(time.Millisecond))
	if len(res.Circuits) != 2 || res.TranscriptDigest == "" {
		t.Fatalf("finalize derived %d circuits, transcript %q", len(res.Circuits), res.TranscriptDigest)
	}

	k, err := keys.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if k.Meta.Trust != keys.TrustCeremony || k.Meta.Ceremony.TranscriptDigest != res.TranscriptDigest {
		t.Fatalf("metadata: trust %s, ceremony %+v", k.Meta.Trust, k.Meta.Ceremony)
	}
	if c, _ := k.Get("toybatch"); c.Info.Commitments != 1 {
		t.Fatalf("toybatch should carry one commitment key, has %d", c.Info.Commitments)
	}
	proveAndVerify(t, k, p)

	// Anyone re-deriving from the transcript gets the same keys, also compiling from source.
	start = time.Now()
	r2, err := VerifyKeys(dir, k, Options{Source: &Source{Profile: p, Circuits: cc}})
	if err != nil {
		t.Fatalf("auditor check of the ceremony keys: %v", err)
	}
	t.Logf("verify (re-derive) transcript: %s", time.Since(start).Round(time.Millisecond))
	if r2.TranscriptDigest != res.TranscriptDigest {
		t.Fatalf("transcript digest %s on re-verification, %s at finalize", r2.TranscriptDigest, res.TranscriptDigest)
	}
	// Finalizing again with the recorded beacon only re-exports the same keys.
	if _, err := Finalize(dir, b2, filepath.Join(t.TempDir(), "again"), toyOpts(t)); err != nil {
		t.Fatalf("re-export: %v", err)
	}
	if _, err := Finalize(dir, beacon(t), filepath.Join(t.TempDir(), "other"), toyOpts(t)); err == nil {
		t.Fatal("finalize with a second beacon accepted")
	}
	if _, err := Contribute(dir, nil); err == nil {
		t.Fatal("contribution after finalize accepted")
	}
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func mustReject(t *testing.T, dir, what string) {
	t.Helper()
	if _, err := Verify(dir, toyOpts(t)); err == nil {
		t.Fatalf("%s: transcript accepted", what)
	} else {
		t.Logf("%s: rejected: %v", what, err)
	}
}

func TestV1_ForgedContributionRejected(t *testing.T) {
	_, _, good := ceremonyCopy(t)

	t.Run("replayed phase-1 contribution", func(t *testing.T) {
		// A "contribution" that adds nothing: the previous file again. Its proof of knowledge was
		// made against an older challenge.
		d := copyDir(t, good)
		b, _ := os.ReadFile(filepath.Join(d, "phase1", phase1Name(2)))
		os.WriteFile(filepath.Join(d, "phase1", phase1Name(3)), b, 0o644)
		mustReject(t, d, "replay")
	})
	t.Run("phase-2 contribution on a fork", func(t *testing.T) {
		// Contributed on top of 0001 instead of 0002: a valid proof, for the wrong predecessor.
		d := copyDir(t, good)
		c := filepath.Join(d, "phase2", "toybatch")
		os.Remove(filepath.Join(c, phase2Name(3)))
		if err := ContributeFile(filepath.Join(c, phase2Name(1)), filepath.Join(c, phase2Name(3))); err != nil {
			t.Fatal(err)
		}
		mustReject(t, d, "fork")
	})
	t.Run("proof of knowledge from another contribution", func(t *testing.T) {
		// Keep contribution 3's parameters but splice in contribution 2's update proof for δ:
		// the parameters no longer match a proved exponent.
		d := copyDir(t, good)
		c := filepath.Join(d, "phase2", "toysolvency")
		p2 := readP2(t, filepath.Join(c, phase2Name(2)))
		p3 := readP2(t, filepath.Join(c, phase2Name(3)))
		p3.Delta = p2.Delta
		b, err := encode(p3)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(c, phase2Name(3)), b, 0o644)
		mustReject(t, d, "spliced proof")
	})
	t.Run("tampered phase-1 byte", func(t *testing.T) {
		d := copyDir(t, good)
		f := filepath.Join(d, "phase1", phase1Name(2))
		b, _ := os.ReadFile(f)
		b[len(b)/2] ^= 0x01
		os.WriteFile(f, b, 0o644)
		mustReject(t, d, "flipped bit")
	})
	t.Run("truncated phase-2 file", func(t *testing.T) {
		d := copyDir(t, good)
		f := filepath.Join(d, "phase2", "toybatch", phase2Name(1))
		b, _ := os.ReadFile(f)
		os.WriteFile(f, b[:len(b)-40], 0o644)
		mustReject(t, d, "truncated")
	})
	t.Run("missing contribution", func(t *testing.T) {
		d := copyDir(t, good)
		os.Remove(filepath.Join(d, "phase1", phase1Name(2)))
		mustReject(t, d, "gap")
	})
	t.Run("wrong phase-2 starting point", func(t *testing.T) {
		d := copyDir(t, good)
		c := filepath.Join(d, "phase2", "toybatch")
		b, _ := os.ReadFile(filepath.Join(c, phase2Name(1)))
		os.WriteFile(filepath.Join(c, phase2Name(0)), b, 0o644)
		mustReject(t, d, "starting point")
	})
	t.Run("huge announced slice", func(t *testing.T) {
		// A file announcing 2^32-1 points must be refused before gnark's reader allocates them.
		d := copyDir(t, good)
		f := filepath.Join(d, "phase2", "toybatch", phase2Name(1))
		b, _ := os.ReadFile(f)
		copy(b[2+g1Size:], []byte{0xff, 0xff, 0xff, 0xff})
		os.WriteFile(f, b, 0o644)
		mustReject(t, d, "huge slice")
	})
}

func readP2(t *testing.T, path string) *mpcsetup.Phase2 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := parsePhase2(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestV1_KeyNotFromTranscriptRejected(t *testing.T) {
	p, cc, dir := ceremonyCopy(t)
	out := filepath.Join(t.TempDir(), "keys")
	if _, err := Finalize(dir, beacon(t), out, toyOpts(t)); err != nil {
		t.Fatal(err)
	}

	// Dev keys for the same circuits: valid keys, not derived from the transcript.
	dev, err := keys.DevSetup(cc, nil)
	if err != nil {
		t.Fatal(err)
	}
	devDir := filepath.Join(t.TempDir(), "dev")
	if err := keys.Save(devDir, keys.DevMetadata(p), dev, false); err != nil {
		t.Fatal(err)
	}
	dk, err := keys.LoadVerifying(devDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyKeys(dir, dk, toyOpts(t)); err == nil {
		t.Fatal("dev keys accepted as the ceremony's")
	} else if !strings.Contains(err.Error(), "not derived from the pinned setup") {
		t.Fatalf("unexpected error: %v", err)
	}

	// Mixing one ceremony key with one foreign key is caught too.
	ck, err := keys.LoadVerifying(out)
	if err != nil {
		t.Fatal(err)
	}
	ck.Circuits["toysolvency"].VK = dk.Circuits["toysolvency"].VK
	if _, err := VerifyKeys(dir, ck, toyOpts(t)); err == nil {
		t.Fatal("a foreign solvency key accepted")
	}

	// final.json claiming another key is caught when the transcript is re-derived.
	d := copyDir(t, dir)
	f := filepath.Join(d, finalFile)
	b, _ := os.ReadFile(f)
	digest := dk.Circuits["toybatch"].Info.VKDigest
	real := ck.Circuits["toybatch"].Info.VKDigest
	os.WriteFile(f, bytes.Replace(b, []byte(real), []byte(digest), 1), 0o644)
	mustReject(t, d, "final.json names a foreign key")

	// A tampered manifest: a profile edit breaks its digest; any other edit changes the
	// transcript digest recorded at finalization.
	d = copyDir(t, dir)
	f = filepath.Join(d, manifestFile)
	b, _ = os.ReadFile(f)
	os.WriteFile(f, bytes.Replace(b, []byte("tiny shapes"), []byte("tiny shapez"), 1), 0o644)
	mustReject(t, d, "manifest profile edited")
	d = copyDir(t, dir)
	f = filepath.Join(d, manifestFile)
	b, _ = os.ReadFile(f)
	os.WriteFile(f, bytes.Replace(b, []byte(`"created_at": "2`), []byte(`"created_at": "1`), 1), 0o644)
	mustReject(t, d, "manifest date edited")
}

func TestStageRules(t *testing.T) {
	p := testProfile(t)
	cc := compiled(t, p)
	dir := filepath.Join(t.TempDir(), "c")
	if _, err := Init(dir, p, cc, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(dir, p, cc, nil); err == nil {
		t.Fatal("init over an existing ceremony accepted")
	}
	if err := StartPhase2(dir, beacon(t), Options{Source: &Source{Profile: p, Circuits: cc}}); err == nil {
		t.Fatal("phase 1 sealed without any contribution")
	}
	if _, err := Finalize(dir, beacon(t), filepath.Join(t.TempDir(), "k"), toyOpts(t)); err == nil {
		t.Fatal("finalize during phase 1 accepted")
	}
	if err := StartPhase2(dir, []byte("short"), toyOpts(t)); err == nil {
		t.Fatal("short beacon accepted")
	}
	if _, err := Contribute(dir, nil); err != nil {
		t.Fatal(err)
	}
	if err := StartPhase2(dir, beacon(t), Options{Source: &Source{Profile: p, Circuits: cc}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Finalize(dir, beacon(t), filepath.Join(t.TempDir(), "k"), toyOpts(t)); err == nil {
		t.Fatal("finalize without phase-2 contributions accepted")
	}
	// A contribution never replaces an existing file.
	if err := ContributeFile(filepath.Join(dir, "phase1", phase1Name(0)), filepath.Join(dir, "phase1", phase1Name(1))); err == nil {
		t.Fatal("an existing contribution was overwritten")
	}
	if err := ContributeFile(filepath.Join(dir, "phase1", phase1Name(0)), filepath.Join(t.TempDir(), "x.ph2")); err == nil {
		t.Fatal("phase-1 input written as phase 2 accepted")
	}
}

func TestPhase1SizeFormula(t *testing.T) {
	for _, n := range []uint64{2, 4, 64} {
		p := mpcsetup.NewPhase1(n)
		p.Contribute()
		b, err := encode(p)
		if err != nil {
			t.Fatal(err)
		}
		if uint64(len(b)) != phase1Size(n) {
			t.Fatalf("N=%d: encoded %d bytes, formula %d", n, len(b), phase1Size(n))
		}
		if _, err := parsePhase1(b, n); err != nil {
			t.Fatal(err)
		}
		if _, err := parsePhase1(b, 2*n); err == nil {
			t.Fatal("size mismatch accepted")
		}
	}
}

// TestMeasureCeremony times one contribution per phase on a mid-sized circuit. Set
// SOLVENCY_MEASURE=1 to run it.
func TestMeasureCeremony(t *testing.T) {
	if os.Getenv("SOLVENCY_MEASURE") == "" {
		t.Skip("set SOLVENCY_MEASURE=1 to measure")
	}
	p := testProfile(t)
	p.Name, p.BatchHeight, p.Assets = "measure", 2, 16 // 1024 range-checked balances
	cc, err := circuitcache.Cache{}.GetAll(toycircuits.Specs(), p)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cc {
		t.Logf("%s: %d constraints", c.Name, c.CCS.GetNbConstraints())
	}
	dir := filepath.Join(t.TempDir(), "c")
	step := func(what string, f func() error) {
		t.Helper()
		start := time.Now()
		if err := f(); err != nil {
			t.Fatal(err)
		}
		t.Logf("%-28s %s", what, time.Since(start).Round(time.Millisecond))
	}
	step("init", func() error { _, err := Init(dir, p, cc, nil); return err })
	step("phase-1 contribution", func() error { _, err := Contribute(dir, nil); return err })
	step("start-phase2 (verify+seal)", func() error { return StartPhase2(dir, beacon(t), Options{Source: &Source{Profile: p, Circuits: cc}}) })
	step("phase-2 contribution (both)", func() error { _, err := Contribute(dir, nil); return err })
	step("finalize (verify+seal+save)", func() error {
		_, err := Finalize(dir, beacon(t), filepath.Join(t.TempDir(), "k"), Options{Source: &Source{Profile: p, Circuits: cc}})
		return err
	})
	step("verify", func() error { _, err := Verify(dir, Options{Source: &Source{Profile: p, Circuits: cc}}); return err })
	st, _ := Open(dir)
	fi, _ := os.Stat(st.Phase1[0])
	t.Logf("phase 1 N=%d, contribution file %.1f MB", st.Manifest.Phase1Size, float64(fi.Size())/1e6)
}

func testProfileF(f *testing.F) profile.Profile {
	p, err := profile.Lookup("test")
	if err != nil {
		f.Fatal(err)
	}
	return p
}
