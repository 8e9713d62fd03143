package contracts

// The registry call's statement, built from a verified bundle. It lives here, beside the
// registry binding, so that publishing a bundle needs no part of the cycle engine.

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/internal/boundedfile"
)

// BundleAttestation builds the registry call's statement from a verified bundle, recording the
// bundle at a file:// URI on this machine (see BundleAttestationAt).
func BundleAttestation(bundleDir string, m *bundle.Manifest) (*Attestation, error) {
	return BundleAttestationAt(bundleDir, m, "")
}

// BundleAttestationAt builds the registry call's statement from a verified bundle. With baseURL (an
// http or https URL) the recorded bundle URI is baseURL/bundles/<sha256 of the manifest, hex>,
// the path 'solvency serve' serves it at; without, a file:// URI that only this machine can open.
func BundleAttestationAt(bundleDir string, m *bundle.Manifest, baseURL string) (*Attestation, error) {
	raw, err := boundedfile.ReadFile(filepath.Join(bundleDir, bundle.ManifestFile), boundedfile.Manifest)
	if err != nil {
		return nil, err
	}
	proofBytes, err := bundle.ReadProof(bundleDir, m.Solvency)
	if err != nil {
		return nil, err
	}
	proof, err := bundle.ParseProof(proofBytes)
	if err != nil {
		return nil, err
	}
	sol, err := SolidityProof(proof)
	if err != nil {
		return nil, err
	}
	st := m.Statement
	a := &Attestation{
		Cycle: st.Cycle, ReservesBlock: st.ReservesBlock, SnapshotEpoch: st.SnapshotEpoch, SnapshotTime: st.SnapshotTime,
		PolicyHash: st.PolicyHash.Element, LC: st.LC.Element, RC: st.RC.Element,
		BundleDigest: sha256.Sum256(raw), Proof: sol,
	}
	if baseURL != "" {
		if a.BundleURI, err = BundleURI(baseURL, a.BundleDigest); err != nil {
			return nil, err
		}
	} else {
		abs, err := filepath.Abs(bundleDir)
		if err != nil {
			return nil, err
		}
		a.BundleURI = "file://" + abs
	}
	for _, p := range st.Prices {
		r, err := bundle.ParseRound(p.Round)
		if err != nil {
			return nil, err
		}
		a.RoundIDs = append(a.RoundIDs, r)
		a.Prices = append(a.Prices, p.Price)
	}
	return a, nil
}

// CheckBundleURL checks an operator's bundle base URL: http or https, a host, no query or
// fragment (the bundle path is appended to it), and no credentials (the URL is public on chain).
func CheckBundleURL(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("bundle URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("bundle URL %q: want an https:// or http:// base URL", base)
	case u.Host == "":
		return fmt.Errorf("bundle URL %q: no host", base)
	case u.User != nil:
		return errors.New("bundle URL: it carries credentials, which would be recorded on chain for anyone to read")
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		// Not quoted: a query often carries an access token.
		return errors.New("bundle URL: no query or fragment (the bundle's path is appended to it, and the URL is public on chain)")
	}
	return nil
}

// BundleURI is where a bundle with this manifest digest is served under base.
func BundleURI(base string, digest [32]byte) (string, error) {
	if err := CheckBundleURL(base); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s/bundles/%x", strings.TrimRight(base, "/"), digest), nil
}
