package contracts

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/solvency-dev/solvency/bundle"
)

// ReadPublishInput reads what 'solvency publish' sends: from a bundle's manifest (fromManifest)
// when path is a bundle directory, else from its statement file (path, or path/statement.json),
// whose bundle address is then baseURL's for its digest when baseURL is set.
func ReadPublishInput(path, baseURL string) (att *Attestation, fromManifest bool, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, false, err
	}
	if st.IsDir() {
		if _, err := os.Stat(filepath.Join(path, bundle.ManifestFile)); err == nil {
			// A bundle from 'solvency prove': the attestation comes from its manifest.
			m, err := bundle.ReadManifest(path)
			if err != nil {
				return nil, false, err
			}
			att, err := BundleAttestationAt(path, m, baseURL)
			return att, err == nil, err
		}
		path = filepath.Join(path, StatementFileName)
	}
	if att, err = ReadStatementFile(path); err != nil {
		return nil, false, err
	}
	if baseURL != "" {
		// The statement file names its bundle's digest; its address is the operator's.
		if att.BundleURI, err = BundleURI(baseURL, att.BundleDigest); err != nil {
			return nil, false, fmt.Errorf("--bundle-url: %w", err)
		}
	}
	return att, false, nil
}
