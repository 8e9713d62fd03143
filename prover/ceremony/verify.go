package ceremony

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"
	cs "github.com/consensys/gnark/constraint/bn254"

	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/profile"
)

// Options tune verification.
type Options struct {
	// Source holds the circuits the verifier compiled itself from this binary's source (V7). It is
	// required: a ceremony is only ever checked against circuits re-derived here, never against
	// the R1CS files in its directory, which whoever ran it chose.
	Source   *Source
	Progress Progress
}

// Source is a profile and the circuits compiled for it from this binary's source.
type Source struct {
	Profile  profile.Profile
	Circuits []*circuitcache.Compiled
}

// CompileSource compiles specs from source for the built-in profile called name. It reads no
// cache: the cache is a file an operator on the same machine could have written, and the point
// of compiling here is to trust nothing compiled elsewhere.
func CompileSource(name string, specs []profile.CircuitSpec, progress Progress) (*Source, error) {
	p, err := profile.Lookup(name)
	if err != nil {
		return nil, err
	}
	src := &Source{Profile: p}
	for _, spec := range specs {
		start := time.Now()
		cc, err := circuitcache.Cache{}.Get(spec, p)
		if err != nil {
			return nil, err
		}
		progress.printf("circuit %s: %d constraints, compiled from source in %s", cc.Name, cc.CCS.GetNbConstraints(), time.Since(start).Round(time.Millisecond))
		src.Circuits = append(src.Circuits, cc)
	}
	if len(src.Circuits) == 0 {
		return nil, errors.New("no circuits to compile")
	}
	return src, nil
}

// Result is what verification established.
type Result struct {
	Manifest            Manifest
	Stage               Stage
	Phase1Contributions int
	Phase2Contributions map[string]int
	Phase1Beacon        string
	Phase2Beacon        string
	// TranscriptDigest and Circuits are set once the phase-2 beacon is known (finalize, or a
	// finalized directory): the digest of the whole transcript and the keys it derives.
	TranscriptDigest string
	Circuits         []*keys.Circuit
}

// Contributions counts the contributions per phase: "phase1", then one entry per circuit.
func (r *Result) Contributions() map[string]int {
	c := map[string]int{keys.Phase1Contributions: r.Phase1Contributions}
	for k, v := range r.Phase2Contributions {
		c[k] = v
	}
	return c
}

// Pins returns the verifying-key digests the transcript derives: what an auditor pins (V1). A
// transcript with a phase that has no contribution derives none (V7): its secret values would be
// a public function of the beacons.
func (r *Result) Pins() (*keys.Pins, error) {
	if r.TranscriptDigest == "" {
		return nil, errors.New("the ceremony is not finalized: it derives no keys yet")
	}
	names := make([]string, 0, len(r.Manifest.Circuits))
	for _, c := range r.Manifest.Circuits {
		names = append(names, c.Name)
	}
	if err := keys.CheckContributions(r.Contributions(), names); err != nil {
		return nil, err
	}
	return r.derivedPins(), nil
}

// derivedPins are the digests of the derived keys, whatever the contribution counts.
func (r *Result) derivedPins() *keys.Pins {
	p := &keys.Pins{TranscriptDigest: r.TranscriptDigest, VerifyingKeys: map[string]string{}}
	for _, c := range r.Circuits {
		p.VerifyingKeys[c.Info.Name] = c.Info.VKDigest
	}
	return p
}

// transcript accumulates the listing whose sha256 is the transcript digest: every file that
// determines the keys, in order, by digest, and both beacons.
type transcript struct{ b strings.Builder }

func (t *transcript) line(format string, args ...any) {
	fmt.Fprintf(&t.b, format, args...)
	t.b.WriteByte('\n')
}

func (t *transcript) digest() string { return digestOf([]byte(t.b.String())) }

// StartPhase2 closes phase 1: it verifies every phase-1 contribution, seals phase 1 with a
// public beacon fixed after the last contribution, and writes each circuit's phase-2 starting
// point.
func StartPhase2(dir string, beacon []byte, opts Options) error {
	if len(beacon) < MinBeaconBytes || len(beacon) > MaxBeaconBytes {
		return fmt.Errorf("beacon is %d bytes, want %d to %d", len(beacon), MinBeaconBytes, MaxBeaconBytes)
	}
	s, err := Open(dir)
	if err != nil {
		return err
	}
	if s.Stage != StagePhase1 {
		return fmt.Errorf("phase 1 is already sealed (stage %s)", s.Stage)
	}
	if len(s.Phase1) == 0 {
		return errors.New("phase 1 has no contribution yet; at least one is needed before sealing")
	}
	circuits, err := s.sourceCircuits(opts.Source)
	if err != nil {
		return err
	}
	var t transcript
	commons, err := s.verifyPhase1(beacon, &t, opts.Progress)
	if err != nil {
		return err
	}
	for i, c := range s.Manifest.Circuits {
		var p2 mpcsetup.Phase2
		if _, _, err := initPhase2(&p2, circuits[i], commons, c.Domain); err != nil {
			return fmt.Errorf("phase 2 %s: %w", c.Name, err)
		}
		b, err := encode(&p2)
		if err != nil {
			return err
		}
		// The starting point is deterministic, so rewriting it after an interrupted run is safe.
		if err := atomicfile.WriteFile(filepath.Join(dir, "phase2", c.Name, phase2Name(0)), b, 0o644); err != nil {
			return err
		}
	}
	// seal.json last: its presence is what moves the ceremony to phase 2.
	return writeJSON(filepath.Join(dir, "phase1", sealFile), seal{Beacon: hex.EncodeToString(beacon), Contributions: len(s.Phase1)})
}

// Verify re-derives everything from the transcript in dir and checks every contribution's proof
// of knowledge and its chaining to the one before, against the circuits in opts.Source (compiled
// from source, V7). A closed phase must hold at least one contribution (Open checks it). On a
// finalized ceremony it also re-derives the keys and checks final.json's transcript and key
// digests.
func Verify(dir string, opts Options) (*Result, error) {
	return verify(dir, nil, opts)
}

func verify(dir string, phase2Beacon []byte, opts Options) (*Result, error) {
	s, err := Open(dir)
	if err != nil {
		return nil, err
	}
	return s.verify(phase2Beacon, opts)
}

// verify is the cryptographic check of an opened directory.
func (s *State) verify(phase2Beacon []byte, opts Options) (*Result, error) {
	// The circuits first: comparing them with the source is cheap, the contributions are not.
	circuits, err := s.sourceCircuits(opts.Source)
	if err != nil {
		return nil, err
	}
	r := &Result{Manifest: s.Manifest, Stage: s.Stage, Phase1Contributions: len(s.Phase1), Phase2Contributions: map[string]int{}}
	if phase2Beacon == nil && s.final != nil {
		if phase2Beacon, err = ParseBeacon(s.final.Phase2Beacon); err != nil {
			return nil, fmt.Errorf("final.json: %w", err)
		}
	}
	var t transcript
	var beacon1 []byte
	if s.seal != nil {
		if beacon1, err = ParseBeacon(s.seal.Beacon); err != nil {
			return nil, err
		}
		r.Phase1Beacon = hex.EncodeToString(beacon1)
	}
	commons, err := s.verifyPhase1(beacon1, &t, opts.Progress)
	if err != nil {
		return nil, err
	}
	if s.seal == nil {
		return r, nil
	}
	var derived []*keys.Circuit
	for i, c := range s.Manifest.Circuits {
		files := s.Phase2[c.Name]
		r.Phase2Contributions[c.Name] = len(files)
		pk, vk, err := s.verifyPhase2(c, circuits[i], commons, files, phase2Beacon, &t, opts.Progress)
		if err != nil {
			return nil, err
		}
		if phase2Beacon != nil {
			kc, err := keys.NewCircuit(circuits[i], pk, vk)
			if err != nil {
				return nil, err
			}
			derived = append(derived, kc)
		}
	}
	if phase2Beacon == nil {
		return r, nil
	}
	t.line("phase2-beacon %s", hex.EncodeToString(phase2Beacon))
	r.Phase2Beacon = hex.EncodeToString(phase2Beacon)
	r.TranscriptDigest = t.digest()
	r.Circuits = derived
	if s.final != nil {
		if s.final.TranscriptDigest != r.TranscriptDigest {
			return nil, fmt.Errorf("final.json names transcript %s, the files give %s", s.final.TranscriptDigest, r.TranscriptDigest)
		}
		pins := r.derivedPins()
		if len(s.final.VerifyingKeys) != len(pins.VerifyingKeys) {
			return nil, errors.New("final.json does not list exactly the ceremony's circuits")
		}
		for name, d := range s.final.VerifyingKeys {
			if err := pins.CheckDigest(name, d); err != nil {
				return nil, fmt.Errorf("final.json: %w", err)
			}
		}
	}
	return r, nil
}

// Finalize verifies the whole transcript, applies the phase-2 beacon (public randomness fixed
// after the last phase-2 contribution), records final.json in dir and writes the keys to out.
// On an already finalized ceremony it only re-derives and writes the keys, and the beacon must
// be the recorded one.
func Finalize(dir string, beacon []byte, out string, opts Options) (*Result, error) {
	if len(beacon) < MinBeaconBytes || len(beacon) > MaxBeaconBytes {
		return nil, fmt.Errorf("beacon is %d bytes, want %d to %d", len(beacon), MinBeaconBytes, MaxBeaconBytes)
	}
	s, err := Open(dir)
	if err != nil {
		return nil, err
	}
	switch s.Stage {
	case StagePhase1:
		return nil, errors.New("phase 1 is still open: run `ceremony start-phase2` first")
	case StageFinal:
		if s.final.Phase2Beacon != hex.EncodeToString(beacon) {
			return nil, errors.New("the ceremony was finalized with another beacon")
		}
	}
	for _, c := range s.Manifest.Circuits {
		if len(s.Phase2[c.Name]) == 0 {
			return nil, fmt.Errorf("phase 2 of %s has no contribution yet", c.Name)
		}
	}
	r, err := verify(dir, beacon, opts)
	if err != nil {
		return nil, err
	}
	if s.Stage != StageFinal {
		pins, err := r.Pins()
		if err != nil {
			return nil, err
		}
		f := Final{Phase2Beacon: r.Phase2Beacon, TranscriptDigest: r.TranscriptDigest, VerifyingKeys: pins.VerifyingKeys,
			FinalizedAt: time.Now().UTC()}
		if err := writeJSON(filepath.Join(dir, finalFile), f); err != nil {
			return nil, err
		}
		r.Stage = StageFinal
	}
	contribs := r.Contributions()
	meta := &keys.Metadata{Profile: r.Manifest.Profile, Trust: keys.TrustCeremony, Ceremony: &keys.CeremonyRef{
		TranscriptDigest: r.TranscriptDigest, Phase1Beacon: r.Phase1Beacon, Phase2Beacon: r.Phase2Beacon,
		Contributions: contribs}}
	if err := keys.Save(out, meta, r.Circuits, false); err != nil {
		return nil, err
	}
	return r, nil
}

// VerifyKeys is the auditor's check: it re-derives the keys from the transcript in dir and
// requires every verifying key in k to be the derived one (V1).
func VerifyKeys(dir string, k *keys.Keys, opts Options) (*Result, error) {
	r, err := Verify(dir, opts)
	if err != nil {
		return nil, err
	}
	pins, err := r.Pins()
	if err != nil {
		return nil, err
	}
	if err := pins.CheckKeys(k); err != nil {
		return nil, err
	}
	return r, nil
}

// verifyPhase1 checks the phase-1 chain and, given a beacon, seals it and returns the powers.
func (s *State) verifyPhase1(beacon []byte, t *transcript, progress Progress) (*mpcsetup.SrsCommons, error) {
	n := s.Manifest.Phase1Size
	md, err := fileDigest(filepath.Join(s.Dir, manifestFile))
	if err != nil {
		return nil, err
	}
	t.line("solvency-ceremony-transcript/v1")
	t.line("manifest %s", md)
	prev := mpcsetup.NewPhase1(n)
	// The starting point is derived, not part of the transcript; a wrong one would only make
	// contribution 1 fail, but saying so directly is kinder to whoever debugs it.
	if err := sameAsFile(filepath.Join(s.Dir, "phase1", phase1Name(0)), prev); err != nil {
		return nil, err
	}
	for i, f := range s.Phase1 {
		data, err := boundedfile.ReadFile(f, boundedfile.Ceremony)
		if err != nil {
			return nil, fmt.Errorf("read phase-1 contribution %d: %w", i+1, err)
		}
		next, err := parsePhase1(data, n)
		if err != nil {
			return nil, fmt.Errorf("phase-1 contribution %d (%s): %w", i+1, f, err)
		}
		if err := guard("phase-1 verification", func() error { return prev.Verify(next) }); err != nil {
			return nil, fmt.Errorf("phase-1 contribution %d (%s) is invalid: %w", i+1, f, err)
		}
		progress.printf("phase 1: contribution %d verified", i+1)
		t.line("phase1 %04d %s", i+1, digestOf(data))
		prev = next
	}
	if beacon == nil {
		return nil, nil
	}
	t.line("phase1-beacon %s", hex.EncodeToString(beacon))
	commons := prev.Seal(beacon)
	return &commons, nil
}

// sourceCircuits matches the manifest's circuits with those compiled from source (V7): the same
// profile, exactly the same set of circuits (none missing, none extra, so both circuits of a
// cycle go through the ceremony), and for each the same R1CS digest. The directory's R1CS files
// are never read: they are for participants' convenience, and whoever ran the ceremony chose them.
func (s *State) sourceCircuits(src *Source) ([]*circuitcache.Compiled, error) {
	if src == nil {
		return nil, errors.New("a ceremony is verified only against circuits compiled from source, and none were given")
	}
	if d := src.Profile.Digest(); d != s.Manifest.ProfileDigest {
		return nil, fmt.Errorf("the ceremony is for profile %q (digest %s); the circuits compiled from source are for profile %q (digest %s)",
			s.Manifest.Profile.Name, s.Manifest.ProfileDigest, src.Profile.Name, d)
	}
	if len(src.Circuits) != len(s.Manifest.Circuits) {
		return nil, fmt.Errorf("the ceremony covers %d circuits; the source has %d (%s)", len(s.Manifest.Circuits), len(src.Circuits), sourceNames(src))
	}
	var out []*circuitcache.Compiled
	for _, c := range s.Manifest.Circuits {
		i := slices.IndexFunc(src.Circuits, func(x *circuitcache.Compiled) bool { return x.Name == c.Name })
		if i < 0 {
			return nil, fmt.Errorf("the ceremony covers a circuit %q that the source does not have (%s)", c.Name, sourceNames(src))
		}
		cc := src.Circuits[i]
		if cc.R1CSDigest != c.R1CSDigest {
			return nil, fmt.Errorf("the ceremony's circuit %s is not the one compiled from source: R1CS digest %s, from source %s", c.Name, c.R1CSDigest, cc.R1CSDigest)
		}
		if cc.CCS.GetNbConstraints() != c.Constraints {
			return nil, fmt.Errorf("circuit %s has %d constraints, the manifest says %d", c.Name, cc.CCS.GetNbConstraints(), c.Constraints)
		}
		out = append(out, cc)
	}
	return out, nil
}

func sourceNames(src *Source) string {
	var names []string
	for _, c := range src.Circuits {
		names = append(names, c.Name)
	}
	return strings.Join(names, ", ")
}

// truncate returns the size-n prefix of size-N powers of tau, copied so that phase 2 of one
// circuit cannot disturb another's.
func truncate(c *mpcsetup.SrsCommons, n uint64) (*mpcsetup.SrsCommons, error) {
	if n < 2 || uint64(len(c.G2.Tau)) < n {
		return nil, fmt.Errorf("domain %d does not fit the phase-1 powers of size %d", n, len(c.G2.Tau))
	}
	var t mpcsetup.SrsCommons
	t.G1.Tau = slices.Clone(c.G1.Tau[:2*n-1])
	t.G1.AlphaTau = slices.Clone(c.G1.AlphaTau[:n])
	t.G1.BetaTau = slices.Clone(c.G1.BetaTau[:n])
	t.G2.Tau = slices.Clone(c.G2.Tau[:n])
	t.G2.Beta = c.G2.Beta
	return &t, nil
}

// initPhase2 computes a circuit's deterministic phase-2 starting point. gnark panics on a circuit
// that does not fit the domain; the checks before make that unreachable, and the recover keeps a
// surprise an error rather than a crash.
func initPhase2(p *mpcsetup.Phase2, cc *circuitcache.Compiled, commons *mpcsetup.SrsCommons, domain uint64) (evals mpcsetup.Phase2Evaluations, t *mpcsetup.SrsCommons, err error) {
	r1cs, ok := cc.CCS.(*cs.R1CS)
	if !ok {
		return evals, nil, fmt.Errorf("circuit %s is %T, not a BN254 R1CS", cc.Name, cc.CCS)
	}
	if uint64(r1cs.GetNbConstraints()) > domain {
		return evals, nil, fmt.Errorf("circuit %s has %d constraints, more than its domain %d", cc.Name, r1cs.GetNbConstraints(), domain)
	}
	if t, err = truncate(commons, domain); err != nil {
		return evals, nil, err
	}
	defer func() {
		if rec := recover(); rec != nil {
			err = fmt.Errorf("phase-2 initialization of %s failed: %v", cc.Name, rec)
		}
	}()
	evals = p.Initialize(r1cs, t)
	return evals, t, nil
}

func (s *State) verifyPhase2(c CircuitEntry, cc *circuitcache.Compiled, commons *mpcsetup.SrsCommons, files []string,
	beacon []byte, t *transcript, progress Progress) (pk groth16.ProvingKey, vk groth16.VerifyingKey, err error) {
	t.line("circuit %s %s %d", c.Name, c.R1CSDigest, c.Domain)
	prev := new(mpcsetup.Phase2)
	evals, tc, err := initPhase2(prev, cc, commons, c.Domain)
	if err != nil {
		return nil, nil, err
	}
	if err := sameAsFile(filepath.Join(s.Dir, "phase2", c.Name, phase2Name(0)), prev); err != nil {
		return nil, nil, err
	}
	for i, f := range files {
		data, err := boundedfile.ReadFile(f, boundedfile.Ceremony)
		if err != nil {
			return nil, nil, fmt.Errorf("read phase-2 contribution %d of %s: %w", i+1, c.Name, err)
		}
		next, err := parsePhase2(data)
		if err != nil {
			return nil, nil, fmt.Errorf("phase-2 contribution %d of %s (%s): %w", i+1, c.Name, f, err)
		}
		if err := samePhase2Shape(prev, next); err != nil {
			return nil, nil, fmt.Errorf("phase-2 contribution %d of %s (%s) is invalid: %w", i+1, c.Name, f, err)
		}
		if err := guard("phase-2 verification", func() error { return prev.Verify(next) }); err != nil {
			return nil, nil, fmt.Errorf("phase-2 contribution %d of %s (%s) is invalid: %w", i+1, c.Name, f, err)
		}
		progress.printf("phase 2 %s: contribution %d verified", c.Name, i+1)
		t.line("phase2 %s %04d %s", c.Name, i+1, digestOf(data))
		prev = next
	}
	if beacon == nil {
		return nil, nil, nil
	}
	defer func() {
		if rec := recover(); rec != nil {
			err = fmt.Errorf("sealing phase 2 of %s failed: %v", c.Name, rec)
		}
	}()
	pk, vk = prev.Seal(tc, &evals, beacon)
	return pk, vk, nil
}

// samePhase2Shape checks every vector of next has its predecessor's length; gnark's Verify
// compares some of these lengths but not the per-commitment bases.
func samePhase2Shape(prev, next *mpcsetup.Phase2) error {
	a, b := &prev.Parameters, &next.Parameters
	if len(a.G1.PKK) != len(b.G1.PKK) || len(a.G1.Z) != len(b.G1.Z) || len(a.G2.Sigma) != len(b.G2.Sigma) ||
		len(a.G1.SigmaCKK) != len(b.G1.SigmaCKK) || len(prev.Sigmas) != len(next.Sigmas) {
		return errors.New("contribution size mismatch")
	}
	for i := range a.G1.SigmaCKK {
		if len(a.G1.SigmaCKK[i]) != len(b.G1.SigmaCKK[i]) {
			return fmt.Errorf("commitment %d basis size mismatch", i)
		}
	}
	return nil
}

// sameAsFile checks that the starting point stored at path is the one re-derived.
func sameAsFile(path string, v interface {
	WriteTo(w io.Writer) (int64, error)
}) error {
	want, err := encode(v)
	if err != nil {
		return err
	}
	got, err := boundedfile.ReadFile(path, boundedfile.Ceremony)
	if err != nil {
		return fmt.Errorf("read starting point: %w", err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("%s is not the starting point the manifest derives", path)
	}
	return nil
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func fileDigest(path string) (string, error) {
	b, err := boundedfile.ReadFile(path, boundedfile.Ceremony)
	if err != nil {
		return "", err
	}
	return digestOf(b), nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}

// readJSON reads a ceremony JSON file as a regular file within bounds, strictly (see jsonstrict).
func readJSON(path string, v any) error {
	b, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return err
	}
	return jsonstrict.Unmarshal(path, b, v)
}
