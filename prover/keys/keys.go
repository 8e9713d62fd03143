// Package keys reads and writes a profile's Groth16 keys: for every circuit of a cycle its
// compiled constraint system, proving key and verifying key, with a metadata file that says which
// profile they belong to, how they were made (a single-party development setup or a multi-party
// ceremony) and the digests that pin them.
//
// Two trust levels of reading (V3): verifying keys, which may come from an untrusted source, are
// only ever read with gnark's checked reader and must be canonically encoded; the prover's own
// proving keys are read with the fast unchecked path, guarded by the sha256 recorded in the
// metadata against corruption (not against an attacker who can write the key directory, who could
// rewrite the metadata too).
package keys

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"
	"github.com/consensys/gnark/constraint"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/profile"
)

// Format is the metadata format identifier; readers refuse any other.
const Format = "solvency-keys/v1"

// MetadataFile is the metadata's file name inside a keys directory.
const MetadataFile = "keys.json"

// Trust says how a set of keys was made.
type Trust string

const (
	// TrustDev keys come from one party's groth16.Setup: whoever ran it knows the toxic waste and
	// can forge proofs of false statements. For development and tests only.
	TrustDev Trust = "dev-single-party"
	// TrustCeremony keys come from a multi-party ceremony: sound if at least one contributor was
	// honest and destroyed their randomness.
	TrustCeremony Trust = "ceremony"
)

// DevWarning is printed by setup and recorded in the metadata of dev keys.
const DevWarning = "WARNING: these keys come from a single-party setup. Whoever ran it can forge " +
	"proofs of false statements. They are NOT fit for production; use `solvency ceremony` for keys " +
	"anyone else should rely on."

// UnverifiedWarning is printed wherever keys are used whose setup was not re-verified here: a
// digests file or a keys directory says where keys came from, but only a re-verified ceremony
// transcript shows it (V7).
const UnverifiedWarning = "WARNING: the setup of these keys was not verified here, so treat them as dev keys: " +
	"whoever ran the setup could forge proofs of false statements. Re-verify the ceremony itself " +
	"(--keys-from CEREMONY_DIR) before relying on them."

// Phase1Contributions is the key of phase 1 in a contribution count; the other keys are circuit
// names (each circuit's phase 2).
const Phase1Contributions = "phase1"

// CheckContributions requires at least one contribution in phase 1 and in the phase 2 of every
// named circuit (V7): with none, a phase's secret values are a public function of the beacons.
func CheckContributions(counts map[string]int, circuits []string) error {
	for _, k := range append([]string{Phase1Contributions}, circuits...) {
		if counts[k] < 1 {
			what := "phase 2 of " + k
			if k == Phase1Contributions {
				what = "phase 1"
			}
			return fmt.Errorf("the ceremony has no contribution in %s: its secret values are a public function of the beacons, so its keys would let anyone forge proofs", what)
		}
	}
	return nil
}

// FormatContributions writes counts for people: "phase 1: 2, batch: 1, solvency: 1".
func FormatContributions(counts map[string]int) string {
	parts := []string{fmt.Sprintf("phase 1: %d", counts[Phase1Contributions])}
	names := make([]string, 0, len(counts))
	for k := range counts {
		if k != Phase1Contributions {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("%s phase 2: %d", k, counts[k]))
	}
	return strings.Join(parts, ", ")
}

// Proving-key encodings.
const (
	// PKDump is gnark's WriteDump: raw memory of the point slices, fastest to load, valid only on
	// the architecture that wrote it (recorded as PKArch).
	PKDump = "gnark-dump"
	// PKRaw is gnark's uncompressed WriteRawTo, portable, read with UnsafeReadFrom.
	PKRaw = "gnark-raw"
)

// Metadata is keys.json.
type Metadata struct {
	Format        string          `json:"format"`
	Profile       profile.Profile `json:"profile"`
	ProfileDigest string          `json:"profile_digest"`
	Trust         Trust           `json:"trust"`
	Warning       string          `json:"warning,omitempty"`
	Ceremony      *CeremonyRef    `json:"ceremony,omitempty"`
	Circuits      []CircuitInfo   `json:"circuits"`
	Gnark         string          `json:"gnark"`
	CreatedAt     time.Time       `json:"created_at"`
}

// CeremonyRef records the transcript that ceremony keys were derived from.
type CeremonyRef struct {
	// TranscriptDigest is the sha256 over the transcript listing (see package ceremony).
	TranscriptDigest string `json:"transcript_digest"`
	Phase1Beacon     string `json:"phase1_beacon"`
	Phase2Beacon     string `json:"phase2_beacon"`
	// Contributions counts contributions per phase: "phase1" and one entry per circuit. Each is at
	// least one (V7).
	Contributions map[string]int `json:"contributions"`
}

// CircuitInfo describes one circuit's files and digests.
type CircuitInfo struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	ShapeDigest  string `json:"shape_digest"`
	R1CSDigest   string `json:"r1cs_digest"`
	Constraints  int    `json:"constraints"`
	PublicInputs int    `json:"public_inputs"`
	Commitments  int    `json:"commitments"`
	// VKDigest is the sha256 of the verifying key's canonical (compressed WriteTo) encoding: the
	// value auditors pin (V1).
	VKDigest string `json:"vk_digest"`
	PKDigest string `json:"pk_digest"`
	PKFormat string `json:"pk_format"`
	PKArch   string `json:"pk_arch,omitempty"`
	R1CSFile string `json:"r1cs_file"`
	VKFile   string `json:"vk_file"`
	PKFile   string `json:"pk_file"`
}

// TrustLine is one sentence every output made with these keys prints. For a ceremony it names
// the contribution counts (V7); it is what the keys directory says, which the keys' own user (the
// prover that ran or received the ceremony) relies on, and an auditor does not.
func (m *Metadata) TrustLine() string {
	switch m.Trust {
	case TrustCeremony:
		if m.Ceremony != nil {
			return "keys from a multi-party ceremony, transcript " + m.Ceremony.TranscriptDigest +
				" (contributions: " + FormatContributions(m.Ceremony.Contributions) + ")"
		}
		return "keys claim a ceremony but name no transcript"
	case TrustDev:
		return "DEV KEYS from a single-party setup: NOT fit for production; proofs made with them prove nothing to anyone but their maker"
	default:
		return fmt.Sprintf("keys of unknown provenance %q", m.Trust)
	}
}

// TranscriptDigest is the ceremony transcript the keys record, or "" for dev keys. A prover
// checking its own bundle passes it to the verifier, which requires a bundle that claims a
// ceremony to name the transcript its pins come from.
func (m *Metadata) TranscriptDigest() string {
	if m.Trust == TrustCeremony && m.Ceremony != nil {
		return m.Ceremony.TranscriptDigest
	}
	return ""
}

// Circuit returns the entry for name.
func (m *Metadata) Circuit(name string) (*CircuitInfo, error) {
	for i := range m.Circuits {
		if m.Circuits[i].Name == name {
			return &m.Circuits[i], nil
		}
	}
	return nil, fmt.Errorf("keys have no circuit %q", name)
}

// Validate checks the metadata's own consistency (format, trust, profile, unique safe names).
func (m *Metadata) Validate() error {
	if m.Format != Format {
		return fmt.Errorf("keys metadata format %q, want %q", m.Format, Format)
	}
	if err := m.Profile.Validate(); err != nil {
		return fmt.Errorf("keys metadata: %w", err)
	}
	if m.ProfileDigest != m.Profile.Digest() {
		return errors.New("keys metadata: profile digest does not match the profile")
	}
	switch m.Trust {
	case TrustDev:
	case TrustCeremony:
		if m.Ceremony == nil || m.Ceremony.TranscriptDigest == "" {
			return errors.New("keys metadata: ceremony keys without a transcript digest")
		}
		names := make([]string, 0, len(m.Circuits))
		for _, c := range m.Circuits {
			names = append(names, c.Name)
		}
		if err := CheckContributions(m.Ceremony.Contributions, names); err != nil {
			return fmt.Errorf("keys metadata: %w", err)
		}
	default:
		return fmt.Errorf("keys metadata: unknown trust %q", m.Trust)
	}
	if len(m.Circuits) == 0 {
		return errors.New("keys metadata: no circuits")
	}
	seen := map[string]bool{}
	for _, c := range m.Circuits {
		if err := profile.ValidCircuitName(c.Name); err != nil {
			return fmt.Errorf("keys metadata: %w", err)
		}
		if seen[c.Name] {
			return fmt.Errorf("keys metadata: circuit %q listed twice", c.Name)
		}
		seen[c.Name] = true
		for _, f := range []string{c.R1CSFile, c.VKFile, c.PKFile} {
			if f != filepath.Base(f) || f == "" || f == "." || f == ".." {
				return fmt.Errorf("keys metadata: file name %q must be a plain name inside the keys directory", f)
			}
		}
	}
	return nil
}

// Circuit is one circuit's keys in memory.
type Circuit struct {
	Info CircuitInfo
	CCS  constraint.ConstraintSystem
	PK   groth16.ProvingKey // nil when loaded for verification only
	VK   groth16.VerifyingKey
}

// Keys is a loaded keys directory.
type Keys struct {
	Meta     Metadata
	Circuits map[string]*Circuit
}

// Get returns the named circuit's keys.
func (k *Keys) Get(name string) (*Circuit, error) {
	c, ok := k.Circuits[name]
	if !ok {
		return nil, fmt.Errorf("keys have no circuit %q", name)
	}
	return c, nil
}

// NewCircuit bundles a compiled circuit with its freshly made keys and fills the digests that do
// not depend on files (Save fills the rest).
func NewCircuit(cc *circuitcache.Compiled, pk groth16.ProvingKey, vk groth16.VerifyingKey) (*Circuit, error) {
	vkd, err := VKDigest(vk)
	if err != nil {
		return nil, err
	}
	_, _, pub := cc.CCS.GetNbVariables()
	bvk, ok := vk.(*groth16bn254.VerifyingKey)
	if !ok {
		return nil, fmt.Errorf("verifying key is %T, not a BN254 key", vk)
	}
	return &Circuit{
		Info: CircuitInfo{
			Name: cc.Name, Version: cc.Version, ShapeDigest: cc.ShapeDigest, R1CSDigest: cc.R1CSDigest,
			Constraints: cc.CCS.GetNbConstraints(), PublicInputs: pub - 1, // wire 0 is the constant 1
			Commitments: len(bvk.CommitmentKeys), VKDigest: vkd,
		},
		CCS: cc.CCS, PK: pk, VK: vk,
	}, nil
}

// VKDigest is the hex sha256 of vk's canonical compressed encoding.
func VKDigest(vk groth16.VerifyingKey) (string, error) {
	h := sha256.New()
	if _, err := vk.WriteTo(h); err != nil {
		return "", fmt.Errorf("serialize verifying key: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ReadVerifyingKey parses a verifying key from an untrusted source (V3): gnark's checked reader
// (points on the curve and in the subgroup), the whole input consumed, and the encoding canonical
// (re-encoding gives the same bytes), so that one key has exactly one accepted encoding and one
// digest. It returns the key's digest.
func ReadVerifyingKey(data []byte) (groth16.VerifyingKey, string, error) {
	return bundle.ParseVerifyingKey(data)
}

// Save writes a keys directory at dir (built in a temporary sibling and renamed into place, so
// dir is either absent or complete). It fills meta's circuit entries, file names and digests.
// It refuses an existing dir unless replace is set.
func Save(dir string, meta *Metadata, circuits []*Circuit, replace bool) error {
	if len(circuits) == 0 {
		return errors.New("save keys: no circuits")
	}
	meta.Format = Format
	meta.ProfileDigest = meta.Profile.Digest()
	meta.Gnark = circuitcache.GnarkVersion()
	if meta.CreatedAt.IsZero() {
		meta.CreatedAt = time.Now().UTC()
	}
	if meta.Trust == TrustDev {
		meta.Warning = DevWarning
	}
	return atomicfile.Dir(dir, replace, func(tmp string) error {
		meta.Circuits = nil
		for _, c := range circuits {
			info := c.Info
			info.R1CSFile, info.VKFile, info.PKFile = c.Info.Name+".r1cs", c.Info.Name+".vk", c.Info.Name+".pk"
			r1csDigest, err := writeHashed(filepath.Join(tmp, info.R1CSFile), func(w io.Writer) error {
				_, err := c.CCS.WriteTo(w)
				return err
			})
			if err != nil {
				return fmt.Errorf("write %s constraint system: %w", info.Name, err)
			}
			if r1csDigest != info.R1CSDigest {
				return fmt.Errorf("circuit %s: constraint system digest %s differs from the compiled one %s", info.Name, r1csDigest, info.R1CSDigest)
			}
			vkDigest, err := writeHashed(filepath.Join(tmp, info.VKFile), func(w io.Writer) error {
				_, err := c.VK.WriteTo(w)
				return err
			})
			if err != nil {
				return fmt.Errorf("write %s verifying key: %w", info.Name, err)
			}
			if vkDigest != info.VKDigest {
				return fmt.Errorf("circuit %s: verifying key changed while saving", info.Name)
			}
			if c.PK == nil {
				return fmt.Errorf("circuit %s: no proving key to save", info.Name)
			}
			info.PKFormat, info.PKArch = PKDump, runtime.GOARCH
			info.PKDigest, err = writeHashed(filepath.Join(tmp, info.PKFile), func(w io.Writer) error {
				return writePK(w, c.PK, info.PKFormat)
			})
			if err != nil {
				return fmt.Errorf("write %s proving key: %w", info.Name, err)
			}
			meta.Circuits = append(meta.Circuits, info)
		}
		if err := meta.Validate(); err != nil {
			return err
		}
		b, err := json.MarshalIndent(meta, "", "  ")
		if err != nil {
			return fmt.Errorf("encode keys metadata: %w", err)
		}
		return atomicfile.WriteFile(filepath.Join(tmp, MetadataFile), append(b, '\n'), 0o644)
	})
}

func writePK(w io.Writer, pk groth16.ProvingKey, format string) error {
	switch format {
	case PKDump:
		bpk, ok := pk.(*groth16bn254.ProvingKey)
		if !ok {
			return fmt.Errorf("proving key is %T, not a BN254 key", pk)
		}
		return bpk.WriteDump(w)
	case PKRaw:
		_, err := pk.WriteRawTo(w)
		return err
	default:
		return fmt.Errorf("unknown proving key format %q", format)
	}
}

// writeHashed streams fill into path (atomically) and returns the hex sha256 of what was written.
func writeHashed(path string, fill func(io.Writer) error) (string, error) {
	h := sha256.New()
	err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		bw := bufio.NewWriterSize(io.MultiWriter(w, h), 1<<20)
		if err := fill(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ReadMetadata reads and validates dir's keys.json.
func ReadMetadata(dir string) (*Metadata, error) {
	path := filepath.Join(dir, MetadataFile)
	b, err := boundedfile.ReadFile(path, boundedfile.Pins)
	if err != nil {
		return nil, fmt.Errorf("read keys metadata: %w", err)
	}
	var m Metadata
	if err := jsonstrict.Unmarshal(path, b, &m); err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return &m, nil
}

// LoadVerifying reads only the metadata and the verifying keys, with the checked reader, and
// checks each key against the digest in the metadata. This is the auditor's path; the digests
// themselves must still be compared with pins from outside the directory (see Pins).
func LoadVerifying(dir string) (*Keys, error) {
	m, err := ReadMetadata(dir)
	if err != nil {
		return nil, err
	}
	k := &Keys{Meta: *m, Circuits: map[string]*Circuit{}}
	for _, info := range m.Circuits {
		vk, err := loadVK(dir, info)
		if err != nil {
			return nil, err
		}
		k.Circuits[info.Name] = &Circuit{Info: info, VK: vk}
	}
	return k, nil
}

func loadVK(dir string, info CircuitInfo) (groth16.VerifyingKey, error) {
	data, err := os.ReadFile(filepath.Join(dir, info.VKFile))
	if err != nil {
		return nil, fmt.Errorf("read %s verifying key: %w", info.Name, err)
	}
	vk, digest, err := ReadVerifyingKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s verifying key: %w", info.Name, err)
	}
	if digest != info.VKDigest {
		return nil, fmt.Errorf("%s verifying key digest %s does not match the metadata's %s", info.Name, digest, info.VKDigest)
	}
	return vk, nil
}

// Load reads everything the prover needs: constraint systems, proving keys (fast path) and
// verifying keys (checked), each checked against its digest in the metadata.
func Load(dir string) (*Keys, error) {
	k, err := LoadVerifying(dir)
	if err != nil {
		return nil, err
	}
	for _, c := range k.Circuits {
		ccs := groth16.NewCS(ecc.BN254)
		if err := readHashed(filepath.Join(dir, c.Info.R1CSFile), c.Info.R1CSDigest, func(r io.Reader) error {
			_, err := ccs.ReadFrom(r)
			return err
		}); err != nil {
			return nil, fmt.Errorf("%s constraint system: %w", c.Info.Name, err)
		}
		c.CCS = ccs
		pk, err := loadPK(dir, c.Info)
		if err != nil {
			return nil, err
		}
		c.PK = pk
	}
	return k, nil
}

func loadPK(dir string, info CircuitInfo) (groth16.ProvingKey, error) {
	pk := groth16.NewProvingKey(ecc.BN254)
	var read func(r io.Reader) error
	switch info.PKFormat {
	case PKDump:
		if info.PKArch != runtime.GOARCH {
			return nil, fmt.Errorf("%s proving key was dumped on %s and cannot be loaded on %s; run setup again on this machine", info.Name, info.PKArch, runtime.GOARCH)
		}
		bpk, ok := pk.(*groth16bn254.ProvingKey)
		if !ok {
			return nil, fmt.Errorf("proving key is %T, not a BN254 key", pk)
		}
		read = bpk.ReadDump
	case PKRaw:
		read = func(r io.Reader) error { _, err := pk.UnsafeReadFrom(r); return err }
	default:
		return nil, fmt.Errorf("%s: unknown proving key format %q", info.Name, info.PKFormat)
	}
	if err := readHashed(filepath.Join(dir, info.PKFile), info.PKDigest, read); err != nil {
		return nil, fmt.Errorf("%s proving key: %w", info.Name, err)
	}
	return pk, nil
}

// readHashed parses path with parse while hashing every byte, then requires the whole file to
// have been consumed and its digest to equal want. The parse result must be discarded on error.
func readHashed(path, want string, parse func(io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	r := io.TeeReader(bufio.NewReaderSize(f, 1<<20), h)
	if err := parse(r); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	// Hash whatever the parser left unread, so trailing bytes change the digest too.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s has digest %s, metadata says %s (damaged or replaced)", path, got, want)
	}
	return nil
}
