// Package bundle is the public record of one proven cycle: a versioned manifest (the statement,
// its public inputs, the batch digests, the tree above the batches, the digests of the verifying
// keys) and the proof files. The prover writes it; auditors read it with no private data (V4).
//
// Layout of a bundle directory:
//
//	manifest.json
//	batches/NNNNNN.proof   one Groth16 proof per liabilities batch (gnark binary, compressed)
//	solvency.proof         the solvency proof (verified on chain)
//	keys/batch.vk          verifying keys, for convenience only: an auditor pins their digests
//	keys/solvency.vk       outside the bundle (V1)
package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// Version of the manifest format this code reads and writes.
const Version = 1

// File names inside a bundle.
const (
	ManifestFile    = "manifest.json"
	BatchDir        = "batches"
	SolvencyProof   = "solvency.proof"
	KeysDir         = "keys"
	BatchVKFile     = "keys/batch.vk"
	SolvencyVKFile  = "keys/solvency.vk"
	maxManifestSize = 64 << 20
)

// Manifest is the bundle's index. Every field is public.
type Manifest struct {
	Version     int          `json:"version"`
	Profile     string       `json:"profile"`
	Trust       string       `json:"trust"` // "dev-single-party" or "ceremony"
	Keys        KeyDigests   `json:"keys"`
	Statement   Statement    `json:"statement"`
	Liabilities Liabilities  `json:"liabilities"`
	Batches     []Batch      `json:"batches"`
	Solvency    ProofFile    `json:"solvency"`
	Created     string       `json:"created"` // RFC 3339
	Assets      assets.Table `json:"asset_table"`
}

// KeyDigests are sha256 digests of the verifying keys' canonical serialisation, and of the setup
// transcript when the keys come from a ceremony.
type KeyDigests struct {
	BatchVK    string `json:"batch_vk_sha256"`
	SolvencyVK string `json:"solvency_vk_sha256"`
	Transcript string `json:"transcript_sha256,omitempty"`
}

// Statement is what the solvency proof and the registry attest.
type Statement struct {
	Cycle         uint64             `json:"cycle"`
	ReservesBlock uint64             `json:"reserves_block"`
	SnapshotEpoch uint64             `json:"snapshot_epoch"`
	SnapshotTime  uint64             `json:"snapshot_time"`
	PolicyHash    poseidon.Element   `json:"policy_hash"`
	LC            poseidon.Element   `json:"lc"`
	RC            poseidon.Element   `json:"rc"`
	Prices        []Price            `json:"prices"`
	PublicInputs  []poseidon.Element `json:"public_inputs"` // the solvency proof's public words, in order
	ChainID       uint64             `json:"chain_id"`
	Registry      string             `json:"registry"`
}

// Price is one asset's oracle price as used in the statement.
type Price struct {
	Symbol       string `json:"symbol"`
	Price        uint64 `json:"price"`         // USD with 8 decimals, after normalisation
	Answer       string `json:"answer"`        // the feed's raw answer
	FeedDecimals uint8  `json:"feed_decimals"` // the feed's decimals()
	Round        string `json:"round"`         // Chainlink round id (uint80, decimal)
	UpdatedAt    uint64 `json:"updated_at"`
}

// Liabilities is the public part of the liabilities snapshot: the tree above the batches and the
// preimage of LC.
type Liabilities struct {
	Height     int                  `json:"height"` // batch subtree height h; B = 8^h
	BatchSize  int                  `json:"batch_size"`
	Batches    int                  `json:"batches"` // n
	Depth      int                  `json:"depth"`   // D
	Root       poseidon.Element     `json:"root"`
	AccFinal   poseidon.Element     `json:"acc_final"`
	AssetsHash poseidon.Element     `json:"assets_hash"`
	TopLevels  [][]poseidon.Element `json:"top_levels"` // level 0: the 8^ht batch slots; last: [root]
}

// Batch is one proven liabilities batch. Its proof's single public input is Digest.
type Batch struct {
	Index  int              `json:"index"`
	Root   poseidon.Element `json:"root"`
	Before poseidon.Element `json:"acc_before"`
	After  poseidon.Element `json:"acc_after"`
	Digest poseidon.Element `json:"digest"`
	ProofFile
}

// ProofFile names a proof inside the bundle and pins its bytes.
type ProofFile struct {
	Path   string `json:"proof"`
	SHA256 string `json:"proof_sha256"`
}

// BatchProofPath is the relative path of batch i's proof.
func BatchProofPath(i int) string {
	return filepath.ToSlash(filepath.Join(BatchDir, fmt.Sprintf("%06d.proof", i)))
}

// SHA256Hex is the lowercase hex sha256 of b.
func SHA256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// ReadManifest reads dir/manifest.json strictly: unknown fields, trailing data, a wrong version
// and non-canonical field elements (V3) are errors.
func ReadManifest(dir string) (*Manifest, error) {
	m, _, err := ReadManifestRaw(dir)
	return m, err
}

// ReadManifestRaw is ReadManifest that also returns the manifest's bytes, so a caller can digest
// exactly what it verified (the registry records sha256 of these bytes).
func ReadManifestRaw(dir string) (*Manifest, []byte, error) {
	path := filepath.Join(dir, ManifestFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open manifest: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxManifestSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(raw) > maxManifestSize {
		return nil, nil, fmt.Errorf("%s is larger than any manifest", path)
	}
	m, err := DecodeManifest(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, raw, nil
}

// DecodeManifest parses a manifest strictly.
func DecodeManifest(raw []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, jsonErr(raw, err)
	}
	if dec.More() {
		return nil, errors.New("trailing data after the manifest")
	}
	if m.Version != Version {
		return nil, fmt.Errorf("manifest version %d; this tool reads version %d", m.Version, Version)
	}
	if err := m.Assets.Validate(); err != nil {
		return nil, fmt.Errorf("asset_table: %w", err)
	}
	return &m, nil
}

func jsonErr(raw []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("line %d: %w", 1+bytes.Count(raw[:se.Offset], []byte("\n")), err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("line %d: field %s: %w", 1+bytes.Count(raw[:te.Offset], []byte("\n")), te.Field, err)
	}
	return err
}

// Encode renders the manifest as indented JSON.
func (m *Manifest) Encode() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ReadProof reads a proof file named by the manifest and checks its pinned digest. The path must
// stay inside the bundle.
func ReadProof(dir string, p ProofFile) ([]byte, error) {
	clean := filepath.Clean(filepath.FromSlash(p.Path))
	if filepath.IsAbs(clean) || clean == ".." || len(clean) >= 3 && clean[:3] == ".."+string(filepath.Separator) {
		return nil, fmt.Errorf("proof path %q leaves the bundle", p.Path)
	}
	b, err := os.ReadFile(filepath.Join(dir, clean))
	if err != nil {
		return nil, fmt.Errorf("read proof: %w", err)
	}
	if got := SHA256Hex(b); got != p.SHA256 {
		return nil, fmt.Errorf("proof %s: sha256 %s, manifest pins %s", p.Path, got, p.SHA256)
	}
	return b, nil
}

// ParseRound parses a Chainlink round id (uint80) written in decimal.
func ParseRound(s string) (*big.Int, error) {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok || len(s) > 25 || v.Sign() < 0 || v.BitLen() > 80 || v.String() != s {
		return nil, fmt.Errorf("round %q: want a canonical decimal uint80", s)
	}
	return v, nil
}
