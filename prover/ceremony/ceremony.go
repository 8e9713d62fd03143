// Package ceremony runs a multi-party Groth16 trusted setup for every circuit of a profile with
// gnark's MPC (backend/groth16/bn254/mpcsetup; Bowe-Gabizon-Miers, eprint 2017/1050), and lets
// anyone re-derive the keys from its transcript (V1).
//
// One phase 1 ("powers of tau") is shared by all circuits: its domain size N is the largest
// circuit's, and each circuit's phase 2 starts from the prefix of the sealed powers that its own
// domain needs (a prefix of a size-N powers-of-tau is exactly a size-n one with the same τ, α, β).
// Then every circuit has its own phase 2. The keys are sound if at least one contributor in
// phase 1 and one in each phase 2 was honest and destroyed their randomness.
//
// A ceremony directory:
//
//	ceremony.json            manifest: profile, circuits with R1CS digests and domain sizes, N
//	circuits/<name>.r1cs     the compiled circuits (their digests are in the manifest)
//	phase1/0000.ph1          the deterministic starting point
//	phase1/0001.ph1 ...      one file per phase-1 contribution
//	phase1/seal.json         the phase-1 beacon, written when phase 2 starts
//	phase2/<name>/0000.ph2   each circuit's deterministic phase-2 starting point
//	phase2/<name>/0001.ph2   one file per phase-2 contribution, per circuit
//	final.json               the phase-2 beacon, the transcript digest and the verifying key digests
//
// Files are only ever added, each written atomically; a contribution never replaces another.
package ceremony

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"
	cs "github.com/consensys/gnark/constraint/bn254"

	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/profile"
)

// Format identifies the manifest format.
const Format = "solvency-ceremony/v1"

const (
	manifestFile = "ceremony.json"
	sealFile     = "seal.json"
	finalFile    = "final.json"
	maxIndex     = 9999 // file names carry four digits
)

// Beacon lengths accepted. A beacon is public randomness fixed after the last contribution of a
// phase (a drand round, a future block hash): 16 bytes at least, so it cannot be tiny by mistake.
const (
	MinBeaconBytes = 16
	MaxBeaconBytes = 64
)

// Manifest is ceremony.json, written once by Init.
type Manifest struct {
	Format        string          `json:"format"`
	Profile       profile.Profile `json:"profile"`
	ProfileDigest string          `json:"profile_digest"`
	// Phase1Size is N, the powers-of-tau domain size: the largest circuit domain.
	Phase1Size uint64         `json:"phase1_size"`
	Circuits   []CircuitEntry `json:"circuits"`
	Gnark      string         `json:"gnark"`
	CreatedAt  time.Time      `json:"created_at"`
}

// CircuitEntry is one circuit in the manifest.
type CircuitEntry struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	ShapeDigest string `json:"shape_digest"`
	R1CSDigest  string `json:"r1cs_digest"`
	Constraints int    `json:"constraints"`
	// Domain is the circuit's FFT domain size: the next power of two of its constraint count.
	Domain uint64 `json:"domain"`
}

// seal is phase1/seal.json.
type seal struct {
	Beacon        string `json:"beacon"`
	Contributions int    `json:"contributions"`
}

// Final is final.json.
type Final struct {
	Phase2Beacon     string            `json:"phase2_beacon"`
	TranscriptDigest string            `json:"transcript_digest"`
	VerifyingKeys    map[string]string `json:"verifying_keys"`
	FinalizedAt      time.Time         `json:"finalized_at"`
}

// Stage is where a ceremony stands.
type Stage string

const (
	StagePhase1 Stage = "phase1" // taking phase-1 contributions
	StagePhase2 Stage = "phase2" // phase 1 sealed, taking phase-2 contributions
	StageFinal  Stage = "final"  // finalized: keys derived
)

// State is a ceremony directory as found on disk.
type State struct {
	Dir      string
	Manifest Manifest
	Stage    Stage
	// Phase1 lists phase-1 contribution files (without 0000), in order.
	Phase1 []string
	// Phase2 lists each circuit's phase-2 contribution files (without 0000), in order.
	Phase2 map[string][]string
	seal   *seal
	final  *Final
}

// Progress receives human progress lines; nil discards them.
type Progress func(format string, args ...any)

func (p Progress) printf(format string, args ...any) {
	if p != nil {
		p(format, args...)
	}
}

// ParseBeacon decodes a hex beacon and checks its length.
func ParseBeacon(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), "0x"))
	if err != nil {
		return nil, fmt.Errorf("beacon must be hex: %w", err)
	}
	if len(b) < MinBeaconBytes || len(b) > MaxBeaconBytes {
		return nil, fmt.Errorf("beacon is %d bytes, want %d to %d", len(b), MinBeaconBytes, MaxBeaconBytes)
	}
	return b, nil
}

func domainOf(constraints int) uint64 {
	return max(2, ecc.NextPowerOfTwo(uint64(constraints)))
}

func phase1Name(i int) string { return fmt.Sprintf("%04d.ph1", i) }
func phase2Name(i int) string { return fmt.Sprintf("%04d.ph2", i) }

// Init creates a ceremony directory at dir for the compiled circuits of p. It refuses an
// existing dir.
func Init(dir string, p profile.Profile, compiled []*circuitcache.Compiled, progress Progress) (*Manifest, error) {
	if len(compiled) == 0 {
		return nil, errors.New("ceremony init: no circuits")
	}
	m := Manifest{Format: Format, Profile: p, ProfileDigest: p.Digest(), Gnark: circuitcache.GnarkVersion(),
		CreatedAt: time.Now().UTC()}
	for _, cc := range compiled {
		if err := profile.ValidCircuitName(cc.Name); err != nil {
			return nil, err
		}
		if _, ok := cc.CCS.(*cs.R1CS); !ok {
			return nil, fmt.Errorf("circuit %s is %T, not a BN254 R1CS", cc.Name, cc.CCS)
		}
		e := CircuitEntry{Name: cc.Name, Version: cc.Version, ShapeDigest: cc.ShapeDigest, R1CSDigest: cc.R1CSDigest,
			Constraints: cc.CCS.GetNbConstraints(), Domain: domainOf(cc.CCS.GetNbConstraints())}
		m.Circuits = append(m.Circuits, e)
		m.Phase1Size = max(m.Phase1Size, e.Domain)
	}
	if m.Phase1Size > MaxPhase1Size {
		return nil, fmt.Errorf("ceremony init: domain size %d exceeds %d", m.Phase1Size, MaxPhase1Size)
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	err := atomicfile.Dir(dir, false, func(tmp string) error {
		for _, sub := range []string{"circuits", "phase1"} {
			if err := os.Mkdir(filepath.Join(tmp, sub), 0o755); err != nil {
				return fmt.Errorf("ceremony init: %w", err)
			}
		}
		for _, cc := range compiled {
			if err := os.MkdirAll(filepath.Join(tmp, "phase2", cc.Name), 0o755); err != nil {
				return fmt.Errorf("ceremony init: %w", err)
			}
			var buf bytes.Buffer
			if _, err := cc.CCS.WriteTo(&buf); err != nil {
				return fmt.Errorf("serialize circuit %s: %w", cc.Name, err)
			}
			if digestOf(buf.Bytes()) != cc.R1CSDigest {
				return fmt.Errorf("circuit %s does not serialize to its recorded digest", cc.Name)
			}
			if err := atomicfile.WriteFile(filepath.Join(tmp, "circuits", cc.Name+".r1cs"), buf.Bytes(), 0o644); err != nil {
				return err
			}
		}
		progress.printf("phase 1: domain size %d", m.Phase1Size)
		start, err := encode(mpcsetup.NewPhase1(m.Phase1Size))
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(filepath.Join(tmp, "phase1", phase1Name(0)), start, 0o644); err != nil {
			return err
		}
		return writeJSON(filepath.Join(tmp, manifestFile), m)
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *Manifest) validate() error {
	if m.Format != Format {
		return fmt.Errorf("ceremony manifest format %q, want %q", m.Format, Format)
	}
	if err := m.Profile.Validate(); err != nil {
		return fmt.Errorf("ceremony manifest: %w", err)
	}
	if m.ProfileDigest != m.Profile.Digest() {
		return errors.New("ceremony manifest: profile digest does not match the profile")
	}
	if len(m.Circuits) == 0 {
		return errors.New("ceremony manifest: no circuits")
	}
	var n uint64
	seen := map[string]bool{}
	for _, c := range m.Circuits {
		if err := profile.ValidCircuitName(c.Name); err != nil {
			return fmt.Errorf("ceremony manifest: %w", err)
		}
		if seen[c.Name] {
			return fmt.Errorf("ceremony manifest: circuit %q listed twice", c.Name)
		}
		seen[c.Name] = true
		if c.Domain != domainOf(c.Constraints) {
			return fmt.Errorf("ceremony manifest: circuit %s domain %d does not fit %d constraints", c.Name, c.Domain, c.Constraints)
		}
		n = max(n, c.Domain)
	}
	if n != m.Phase1Size {
		return fmt.Errorf("ceremony manifest: phase-1 size %d, largest circuit domain %d", m.Phase1Size, n)
	}
	return nil
}

// ReadManifest reads and checks a ceremony directory's manifest only.
func ReadManifest(dir string) (*Manifest, error) {
	var m Manifest
	if err := readJSON(filepath.Join(dir, manifestFile), &m); err != nil {
		return nil, err
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return &m, nil
}

// Open reads a ceremony directory and works out its stage. It checks names, ordering and that
// every closed phase holds at least one contribution (V7): a phase sealed with none has secret
// values that are a public function of the beacons, so anyone could forge proofs. The phase still
// open may be empty. Verify checks the cryptography.
func Open(dir string) (*State, error) {
	s, err := open(dir)
	if err != nil {
		return nil, err
	}
	if err := s.checkClosedPhases(); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return s, nil
}

// checkClosedPhases requires a contribution in phase 1 once it is sealed, and in every circuit's
// phase 2 once the ceremony is finalized.
func (s *State) checkClosedPhases() error {
	if s.seal != nil && len(s.Phase1) == 0 {
		return errors.New("phase 1 was sealed with no contribution: its secret values are a public function of the beacon, so the keys would let anyone forge proofs")
	}
	if s.final != nil {
		for _, c := range s.Manifest.Circuits {
			if len(s.Phase2[c.Name]) == 0 {
				return fmt.Errorf("phase 2 of %s was finalized with no contribution: its secret values are a public function of the beacons, so the keys would let anyone forge proofs", c.Name)
			}
		}
	}
	return nil
}

// open is Open without the contribution counts: what the files say, checked for form only.
func open(dir string) (*State, error) {
	s := &State{Dir: dir, Phase2: map[string][]string{}}
	if err := readJSON(filepath.Join(dir, manifestFile), &s.Manifest); err != nil {
		return nil, err
	}
	if err := s.Manifest.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	var err error
	if s.Phase1, err = listContributions(filepath.Join(dir, "phase1"), ".ph1", []string{sealFile}); err != nil {
		return nil, err
	}
	s.Stage = StagePhase1
	sealPath := filepath.Join(dir, "phase1", sealFile)
	if _, err := os.Stat(sealPath); err == nil {
		s.seal = new(seal)
		if err := readJSON(sealPath, s.seal); err != nil {
			return nil, err
		}
		if _, err := ParseBeacon(s.seal.Beacon); err != nil {
			return nil, fmt.Errorf("%s: %w", sealPath, err)
		}
		if s.seal.Contributions != len(s.Phase1) {
			return nil, fmt.Errorf("phase 1 was sealed after %d contributions but %d are present", s.seal.Contributions, len(s.Phase1))
		}
		s.Stage = StagePhase2
		for _, c := range s.Manifest.Circuits {
			if s.Phase2[c.Name], err = listContributions(filepath.Join(dir, "phase2", c.Name), ".ph2", nil); err != nil {
				return nil, err
			}
		}
	}
	finalPath := filepath.Join(dir, finalFile)
	if _, err := os.Stat(finalPath); err == nil {
		if s.seal == nil {
			return nil, fmt.Errorf("%s exists but phase 1 was never sealed", finalPath)
		}
		s.final = new(Final)
		if err := readJSON(finalPath, s.final); err != nil {
			return nil, err
		}
		s.Stage = StageFinal
	}
	return s, nil
}

var contributionName = regexp.MustCompile(`^([0-9]{4})\.ph[12]$`)

// listContributions returns the contribution files 0001.. in dir, requiring 0000 to exist and the
// numbering to have no gap, so that nobody can slip a contribution out of order.
func listContributions(dir, ext string, allowed []string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list contributions: %w", err)
	}
	var idx []int
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || slices.Contains(allowed, name) {
			continue // temporary files of an interrupted atomic write
		}
		m := contributionName.FindStringSubmatch(name)
		if m == nil || !strings.HasSuffix(name, ext) || !e.Type().IsRegular() {
			return nil, fmt.Errorf("unexpected file %s in %s", name, dir)
		}
		i, _ := strconv.Atoi(m[1])
		idx = append(idx, i)
	}
	sort.Ints(idx)
	if len(idx) == 0 || idx[0] != 0 {
		return nil, fmt.Errorf("%s has no starting point 0000%s", dir, ext)
	}
	var out []string
	for k, i := range idx {
		if i != k {
			return nil, fmt.Errorf("%s: contribution %04d is missing", dir, k)
		}
		if k > 0 {
			out = append(out, filepath.Join(dir, fmt.Sprintf("%04d%s", k, ext)))
		}
	}
	return out, nil
}

// Contribute adds one contribution in the open phase: to phase 1, or in phase 2 to every circuit
// (one participant contributes to all circuits in one sitting). It returns the files written.
// The randomness lives only in this process's memory and is gone when it returns.
func Contribute(dir string, progress Progress) ([]string, error) {
	s, err := Open(dir)
	if err != nil {
		return nil, err
	}
	switch s.Stage {
	case StagePhase1:
		in := filepath.Join(dir, "phase1", phase1Name(len(s.Phase1)))
		out := filepath.Join(dir, "phase1", phase1Name(len(s.Phase1)+1))
		if len(s.Phase1)+1 > maxIndex {
			return nil, errors.New("phase 1 is full")
		}
		progress.printf("phase 1: contribution %d", len(s.Phase1)+1)
		if err := contributePhase1(in, out, s.Manifest.Phase1Size); err != nil {
			return nil, err
		}
		return []string{out}, nil
	case StagePhase2:
		var outs []string
		for _, c := range s.Manifest.Circuits {
			k := len(s.Phase2[c.Name])
			if k+1 > maxIndex {
				return nil, fmt.Errorf("phase 2 of %s is full", c.Name)
			}
			in := filepath.Join(dir, "phase2", c.Name, phase2Name(k))
			out := filepath.Join(dir, "phase2", c.Name, phase2Name(k+1))
			progress.printf("phase 2 %s: contribution %d", c.Name, k+1)
			if err := contributePhase2(in, out); err != nil {
				return nil, err
			}
			outs = append(outs, out)
		}
		return outs, nil
	default:
		return nil, errors.New("the ceremony is finalized; it takes no more contributions")
	}
}

// ContributeFile reads one contribution file (.ph1 or .ph2), adds randomness and writes the
// result to out, for participants who receive single files rather than the whole directory.
// The coordinator places out as the next numbered file of the same phase (and circuit).
func ContributeFile(in, out string) error {
	switch filepath.Ext(in) {
	case ".ph1":
		if filepath.Ext(out) != ".ph1" {
			return errors.New("a phase-1 contribution must be written to a .ph1 file")
		}
		return contributePhase1(in, out, 0)
	case ".ph2":
		if filepath.Ext(out) != ".ph2" {
			return errors.New("a phase-2 contribution must be written to a .ph2 file")
		}
		return contributePhase2(in, out)
	default:
		return fmt.Errorf("%s: expected a .ph1 or .ph2 contribution file", in)
	}
}

func contributePhase1(in, out string, n uint64) error {
	data, err := boundedfile.ReadFile(in, boundedfile.Ceremony)
	if err != nil {
		return fmt.Errorf("read previous contribution: %w", err)
	}
	p, err := parsePhase1(data, n)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if err := guard("phase-1 contribution", func() error { p.Contribute(); return nil }); err != nil {
		return err
	}
	return writeNew(out, p)
}

func contributePhase2(in, out string) error {
	data, err := boundedfile.ReadFile(in, boundedfile.Ceremony)
	if err != nil {
		return fmt.Errorf("read previous contribution: %w", err)
	}
	p, err := parsePhase2(data)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if len(p.Sigmas) > 255 {
		return fmt.Errorf("%s: %d commitments; gnark's MPC supports at most 255", in, len(p.Sigmas))
	}
	if err := guard("phase-2 contribution", func() error { p.Contribute(); return nil }); err != nil {
		return err
	}
	return writeNew(out, p)
}

// guard runs f, turning a panic inside gnark (which panics on, for example, a failing random
// source) into an error.
func guard(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s failed: %v", what, r)
		}
	}()
	return f()
}

// writeNew writes a contribution to a path that must not exist yet: a contribution is never
// replaced, since later ones chain on its hash. The file is completed under a hidden name (which
// listings ignore) and then hard-linked into place, which fails if another participant's
// contribution took the number first.
func writeNew(path string, v interface {
	WriteTo(w io.Writer) (int64, error)
}) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s already exists; contributions are never overwritten", path)
	}
	b, err := encode(v)
	if err != nil {
		return err
	}
	pending := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".pending")
	if err := atomicfile.WriteFile(pending, b, 0o644); err != nil {
		return err
	}
	defer os.Remove(pending)
	if err := os.Link(pending, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s was written by someone else meanwhile; contribute again on top of it", path)
		}
		return fmt.Errorf("place contribution %s: %w", path, err)
	}
	return nil
}
