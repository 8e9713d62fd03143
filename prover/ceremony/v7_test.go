package ceremony

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"

	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/profile"
	"github.com/solvency-dev/solvency/prover/toycircuits"
)

// impostorSpecs are the toy circuits under the real circuits' names: circuits that check
// nothing a cycle needs, which an operator could run an honest ceremony over.
func impostorSpecs() []profile.CircuitSpec {
	specs := toycircuits.Specs()
	specs[0].Name, specs[1].Name = "batch", "solvency"
	return specs
}

// honestCeremony runs a complete ceremony over cc (one contribution per phase) and returns its
// directory and the keys directory it writes.
func honestCeremony(t *testing.T, p profile.Profile, cc []*circuitcache.Compiled) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cer")
	opts := Options{Source: &Source{Profile: p, Circuits: cc}}
	if _, err := Init(dir, p, cc, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Contribute(dir, nil); err != nil {
		t.Fatal(err)
	}
	if err := StartPhase2(dir, beacon(t), opts); err != nil {
		t.Fatal(err)
	}
	if _, err := Contribute(dir, nil); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "keys")
	if _, err := Finalize(dir, beacon(t), out, opts); err != nil {
		t.Fatal(err)
	}
	return dir, out
}

// An operator runs an honest ceremony over circuits that check nothing, named like the real
// ones. Everything that reports "ceremony" compiles the real circuits from source and refuses it.
func TestV7_CeremonyOverOtherCircuitsRefused(t *testing.T) {
	p := testProfile(t)
	fake, err := circuitcache.Cache{}.GetAll(impostorSpecs(), p)
	if err != nil {
		t.Fatal(err)
	}
	dir, keysDir := honestCeremony(t, p, fake)

	// The ceremony is valid for what it ran over: the attack is in the circuits, not the crypto.
	if _, err := Verify(dir, Options{Source: &Source{Profile: p, Circuits: fake}}); err != nil {
		t.Fatalf("the impostor ceremony should verify against its own circuits: %v", err)
	}

	// The auditor's path: both real circuits compiled from source for the bundle's profile.
	_, err = LoadPins(dir, PinOptions{Profile: "test"})
	if err == nil || !strings.Contains(err.Error(), "not the one compiled from source") {
		t.Fatalf("LoadPins accepted a ceremony over other circuits: %v", err)
	}
	real, err := CompileSource("test", profile.Circuits(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(dir, Options{Source: real}); err == nil {
		t.Fatal("Verify accepted a ceremony over other circuits")
	}
	k, err := keys.LoadVerifying(keysDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyKeys(dir, k, Options{Source: real}); err == nil {
		t.Fatal("VerifyKeys accepted keys of a ceremony over other circuits")
	}
	if _, err := Finalize(dir, beacon(t), filepath.Join(t.TempDir(), "k2"), Options{Source: real}); err == nil {
		t.Fatal("Finalize derived keys from a ceremony over other circuits")
	}

	// No source at all is refused: nothing falls back to the directory's R1CS files.
	if _, err := Verify(dir, Options{}); err == nil {
		t.Fatal("Verify without circuits compiled from source accepted")
	}

	// The same circuits for another profile, one circuit fewer, or one more: refused.
	demo, err := profile.Lookup("demo")
	if err != nil {
		t.Fatal(err)
	}
	fakeDemo, err := circuitcache.Cache{}.GetAll(impostorSpecs(), demo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(dir, Options{Source: &Source{Profile: demo, Circuits: fakeDemo}}); err == nil || !strings.Contains(err.Error(), "profile") {
		t.Fatalf("a ceremony for another profile accepted: %v", err)
	}
	if _, err := Verify(dir, Options{Source: &Source{Profile: p, Circuits: fake[:1]}}); err == nil {
		t.Fatal("a source without the solvency circuit accepted")
	}
	oneDir, _ := honestCeremony(t, p, fake[:1])
	if _, err := Verify(oneDir, Options{Source: &Source{Profile: p, Circuits: fake}}); err == nil {
		t.Fatal("a ceremony over the batch circuit only accepted for both circuits")
	}

	// The directory's R1CS files are never read: garbage there changes nothing.
	for _, c := range fake {
		if err := os.WriteFile(filepath.Join(dir, "circuits", c.Name+".r1cs"), []byte("garbage"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Verify(dir, Options{Source: &Source{Profile: p, Circuits: fake}}); err != nil {
		t.Fatalf("verification read the directory's R1CS files: %v", err)
	}
}

// forgeZeroContributions turns a fresh ceremony directory into a complete, finalized one with no
// contribution in phase 1 (zeroPhase1) or in phase 2, as an operator would by writing the files
// by hand: every file is the one the protocol derives, only nobody contributed.
func forgeZeroContributions(t *testing.T, dir string, zeroPhase1 bool, src *Source) {
	t.Helper()
	if !zeroPhase1 {
		if _, err := Contribute(dir, nil); err != nil {
			t.Fatal(err)
		}
	}
	s, err := open(dir)
	if err != nil {
		t.Fatal(err)
	}
	b1 := beacon(t)
	var tr transcript
	commons, err := s.verifyPhase1(b1, &tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range s.Manifest.Circuits {
		var p2 mpcsetup.Phase2
		if _, _, err := initPhase2(&p2, src.Circuits[i], commons, c.Domain); err != nil {
			t.Fatal(err)
		}
		b, err := encode(&p2)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "phase2", c.Name, phase2Name(0)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := writeJSON(filepath.Join(dir, "phase1", sealFile), seal{Beacon: hex.EncodeToString(b1), Contributions: len(s.Phase1)}); err != nil {
		t.Fatal(err)
	}
	if s, err = open(dir); err != nil {
		t.Fatal(err)
	}
	b2 := beacon(t)
	r, err := s.verify(b2, Options{Source: src})
	if err != nil {
		t.Fatalf("the forged transcript does not even pass the cryptographic checks: %v", err)
	}
	f := Final{Phase2Beacon: hex.EncodeToString(b2), TranscriptDigest: r.TranscriptDigest, VerifyingKeys: map[string]string{}}
	for _, c := range r.Circuits {
		f.VerifyingKeys[c.Info.Name] = c.Info.VKDigest
	}
	if err := writeJSON(filepath.Join(dir, finalFile), f); err != nil {
		t.Fatal(err)
	}
	// Complete and consistent: the cryptography alone accepts it, keys and all.
	if s, err = open(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := s.verify(nil, Options{Source: src}); err != nil {
		t.Fatalf("the forged finalized transcript fails the cryptographic checks: %v", err)
	}
}

// A ceremony with no contribution in a phase has setup secrets that are a public function of the
// beacons. Opening, verifying, finalizing or pinning it is refused.
func TestV7_ZeroContributionCeremonyRefused(t *testing.T) {
	p := testProfile(t)
	opts := toyOpts(t)
	for _, zeroPhase1 := range []bool{true, false} {
		name := "phase 2"
		if zeroPhase1 {
			name = "phase 1"
		}
		t.Run("no contribution in "+name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cer")
			if _, err := Init(dir, p, opts.Source.Circuits, nil); err != nil {
				t.Fatal(err)
			}
			forgeZeroContributions(t, dir, zeroPhase1, opts.Source)
			want := "no contribution"
			if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Open: %v", err)
			}
			if _, err := Verify(dir, opts); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Verify: %v", err)
			}
			if _, err := Finalize(dir, beacon(t), filepath.Join(t.TempDir(), "k"), opts); err == nil {
				t.Fatal("Finalize derived keys")
			}
			if _, err := Contribute(dir, nil); err == nil {
				t.Fatal("Contribute opened it")
			}
			if _, err := LoadPins(dir, PinOptions{Profile: "test", Specs: toycircuits.Specs()}); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("LoadPins: %v", err)
			}
			// The result of the bare cryptographic check yields no pins either.
			s, err := open(dir)
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.verify(nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Pins(); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Pins of a zero-contribution transcript: %v", err)
			}
		})
	}

	// Keys metadata claiming a ceremony with no contribution in a phase is refused on save and
	// on read.
	dev, err := keys.DevSetup(opts.Source.Circuits, nil)
	if err != nil {
		t.Fatal(err)
	}
	meta := &keys.Metadata{Profile: p, Trust: keys.TrustCeremony, Ceremony: &keys.CeremonyRef{
		TranscriptDigest: strings.Repeat("ab", 32), Contributions: map[string]int{"phase1": 2, "toybatch": 1, "toysolvency": 0}}}
	if err := keys.Save(filepath.Join(t.TempDir(), "k"), meta, dev, false); err == nil || !strings.Contains(err.Error(), "no contribution") {
		t.Fatalf("keys with a zero-contribution ceremony saved: %v", err)
	}
	good := filepath.Join(t.TempDir(), "k")
	meta.Ceremony.Contributions["toysolvency"] = 1
	if err := keys.Save(good, meta, dev, false); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(good, keys.MetadataFile))
	if err != nil {
		t.Fatal(err)
	}
	raw = []byte(strings.Replace(string(raw), `"phase1": 2`, `"phase1": 0`, 1))
	if err := os.WriteFile(filepath.Join(good, keys.MetadataFile), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.ReadMetadata(good); err == nil {
		t.Fatal("keys metadata with no phase-1 contribution read")
	}
}

// Dev keys relabelled by a pins file that names a transcript are "pinned, not re-verified", with
// the warning; only a re-verified transcript is "ceremony", with its counts.
func TestV7_PinsFileNamingTranscriptIsNotCeremony(t *testing.T) {
	p := testProfile(t)
	opts := toyOpts(t)
	dev, err := keys.DevSetup(opts.Source.Circuits, nil)
	if err != nil {
		t.Fatal(err)
	}
	devDir := filepath.Join(t.TempDir(), "dev")
	if err := keys.Save(devDir, keys.DevMetadata(p), dev, false); err != nil {
		t.Fatal(err)
	}
	cerDir, cerKeys := honestCeremony(t, p, opts.Source.Circuits)
	cerRes, err := Verify(cerDir, opts)
	if err != nil {
		t.Fatal(err)
	}

	pins := keys.Pins{TranscriptDigest: cerRes.TranscriptDigest, VerifyingKeys: map[string]string{}}
	for _, c := range dev {
		pins.VerifyingKeys[c.Info.Name] = c.Info.VKDigest
	}
	b, err := json.Marshal(pins)
	if err != nil {
		t.Fatal(err)
	}
	pinsFile := filepath.Join(t.TempDir(), "pins.json")
	if err := os.WriteFile(pinsFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ps, err := LoadPins(pinsFile, PinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ps.Verified || !strings.HasPrefix(ps.Trust, LabelPinnedNotVerified) || !strings.Contains(ps.Warning, "forge proofs") {
		t.Fatalf("relabelled dev keys: %+v", ps)
	}

	ps, err = LoadPins(devDir, PinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ps.Verified || !strings.HasPrefix(ps.Trust, LabelDev) || ps.Warning != keys.DevWarning {
		t.Fatalf("dev keys directory: %+v", ps)
	}
	ps, err = LoadPins(cerKeys, PinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ps.Verified || strings.HasPrefix(ps.Trust, string(keys.TrustCeremony)) || !strings.Contains(ps.Trust, "phase 1: 1") || ps.Warning == "" {
		t.Fatalf("a keys directory's ceremony claim: %+v", ps)
	}

	ps, err = LoadPins(cerDir, PinOptions{Profile: "test", Specs: toycircuits.Specs()})
	if err != nil {
		t.Fatal(err)
	}
	if !ps.Verified || !strings.HasPrefix(ps.Trust, string(keys.TrustCeremony)) || ps.Warning != "" ||
		!strings.Contains(ps.Trust, "contributions: phase 1: 1, toybatch phase 2: 1, toysolvency phase 2: 1") ||
		ps.Contributions["phase1"] != 1 || ps.Profile != "test" {
		t.Fatalf("re-verified ceremony: %+v", ps)
	}
}

// Everything above rests on compiling from source giving the same constraint system every time,
// and the same as a cached compile (what `ceremony init` records).
func TestV7_SourceCompileIsDeterministic(t *testing.T) {
	a, err := CompileSource("test", profile.Circuits(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cache := circuitcache.Cache{Dir: t.TempDir()}
	if _, err := cache.GetAll(profile.Circuits(), a.Profile); err != nil {
		t.Fatal(err)
	}
	cached, err := cache.GetAll(profile.Circuits(), a.Profile)
	if err != nil {
		t.Fatal(err)
	}
	b, err := CompileSource("test", profile.Circuits(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Circuits {
		if !cached[i].Cached || a.Circuits[i].R1CSDigest != b.Circuits[i].R1CSDigest || a.Circuits[i].R1CSDigest != cached[i].R1CSDigest {
			t.Fatalf("%s: digests %s, %s, cached %s", a.Circuits[i].Name, a.Circuits[i].R1CSDigest, b.Circuits[i].R1CSDigest, cached[i].R1CSDigest)
		}
	}
	if _, err := CompileSource("no-such-profile", profile.Circuits(), nil); err == nil {
		t.Fatal("a profile that is not built in compiled")
	}
}
