package prover

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/internal/atomicfile"
)

// BundleFiles is everything a bundle directory holds besides its manifest.
type BundleFiles struct {
	BatchProofs   [][]byte
	SolvencyProof []byte
	BatchVK       []byte
	SolvencyVK    []byte
}

// WriteBundle writes the public bundle at dir: built in a temporary sibling and renamed into
// place, so dir is either absent or complete. It pins every proof's digest in the manifest. With
// replace false an existing dir is an error.
func WriteBundle(dir string, m *bundle.Manifest, f BundleFiles, replace bool) error {
	if len(f.BatchProofs) != len(m.Batches) {
		return fmt.Errorf("bundle: %d batch proofs for %d batches", len(f.BatchProofs), len(m.Batches))
	}
	m.Version = bundle.Version
	for i := range m.Batches {
		m.Batches[i].Path = bundle.BatchProofPath(i)
		m.Batches[i].SHA256 = bundle.SHA256Hex(f.BatchProofs[i])
	}
	m.Solvency = bundle.ProofFile{Path: bundle.SolvencyProof, SHA256: bundle.SHA256Hex(f.SolvencyProof)}
	m.Keys.BatchVK = bundle.SHA256Hex(f.BatchVK)
	m.Keys.SolvencyVK = bundle.SHA256Hex(f.SolvencyVK)
	manifest, err := m.Encode()
	if err != nil {
		return fmt.Errorf("bundle: encode manifest: %w", err)
	}
	return atomicfile.Dir(dir, replace, func(tmp string) error {
		for _, d := range []string{bundle.BatchDir, bundle.KeysDir} {
			if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
				return err
			}
		}
		write := func(rel string, data []byte) error {
			if err := os.WriteFile(filepath.Join(tmp, filepath.FromSlash(rel)), data, 0o644); err != nil {
				return fmt.Errorf("bundle: write %s: %w", rel, err)
			}
			return nil
		}
		for i, p := range f.BatchProofs {
			if err := write(bundle.BatchProofPath(i), p); err != nil {
				return err
			}
		}
		for rel, data := range map[string][]byte{
			bundle.SolvencyProof:  f.SolvencyProof,
			bundle.BatchVKFile:    f.BatchVK,
			bundle.SolvencyVKFile: f.SolvencyVK,
			bundle.ManifestFile:   manifest,
		} {
			if err := write(rel, data); err != nil {
				return err
			}
		}
		return nil
	})
}
