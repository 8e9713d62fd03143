// Package bundle is the public record of one proven cycle: a versioned manifest (the statement,
// its public inputs, the batch digests, the tree above the batches, the digests of the verifying
// keys) and the proof files. The prover writes it; auditors read it with no private data (V4).
// The package also holds what both sides share, so the prover never imports the verifier: the
// circuit names and pins, the checked verifying-key and proof readers, and the reserves opening.
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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"path/filepath"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
)

// Version of the manifest format this code reads and writes.
const Version = 1

// File names inside a bundle.
const (
	ManifestFile   = "manifest.json"
	BatchDir       = "batches"
	SolvencyProof  = "solvency.proof"
	KeysDir        = "keys"
	BatchVKFile    = "keys/batch.vk"
	SolvencyVKFile = "keys/solvency.vk"
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
// exactly what it verified (the registry records sha256 of these bytes). The file is read as a
// regular file within the manifest's size limit (V8).
func ReadManifestRaw(dir string) (*Manifest, []byte, error) {
	path := filepath.Join(dir, ManifestFile)
	raw, err := boundedfile.ReadFile(path, boundedfile.Manifest)
	if err != nil {
		return nil, nil, err
	}
	m, err := decodeManifest(path, raw)
	if err != nil {
		return nil, nil, err
	}
	return m, raw, nil
}

// DecodeManifest parses a manifest strictly (V3): every field the verifier reads is required;
// unknown, duplicate and case-variant keys, null and trailing data are errors.
func DecodeManifest(raw []byte) (*Manifest, error) {
	return decodeManifest(ManifestFile, raw)
}

func decodeManifest(name string, raw []byte) (*Manifest, error) {
	var m Manifest
	if err := jsonstrict.Unmarshal(name, raw, &m); err != nil {
		return nil, err
	}
	if m.Version != Version {
		return nil, fmt.Errorf("%s: manifest version %d; this tool reads version %d", name, m.Version, Version)
	}
	if err := m.Assets.Validate(); err != nil {
		return nil, fmt.Errorf("%s: asset_table: %w", name, err)
	}
	return &m, nil
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
	b, err := boundedfile.ReadFile(filepath.Join(dir, clean), boundedfile.Proof)
	if err != nil {
		return nil, err
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
