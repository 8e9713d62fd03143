package verifier

import (
	"errors"
	"fmt"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/liabilities"
)

// Inclusion is the outcome of checking a user's inclusion proof against a bundle. A balance in
// a bundle that verified is not yet counted (V5): the bundle must also be the one attested on
// chain (contracts/attest.MatchBundle), which this package, having no chain, cannot check.
type Inclusion struct {
	// Included: the bundle verified, and the proof's path leads to its root, so the balance is
	// in the total this bundle's solvency proof covers.
	Included bool    `json:"included_in_verified_bundle"`
	Bundle   *Report `json:"bundle"`
	Cycle    uint64  `json:"cycle"`
	Epoch    uint64  `json:"snapshot_epoch"`
	LC       string  `json:"lc"`
}

// ErrNotCounted means the inclusion path holds but the bundle it was checked against failed
// verification: the balance is in a tree, but that tree's sums were not proven.
var ErrNotCounted = errors.New("the bundle does not verify: inclusion does not mean the balance was counted")

// CheckInclusion checks that the proof is for the account id the user typed (L7), verifies the
// bundle in dir (V5: a root is only trusted once the bundle behind it verifies), then checks that
// the proof is for that bundle's snapshot (the same LC) and that its path leads to the bundle's
// root (L7). The manifest returned is the one verified, read once; match it with the chain
// before saying the balance was counted.
func CheckInclusion(p *liabilities.InclusionProof, account, dir string, pins bundle.Pins, opt Options) (*Inclusion, *bundle.Manifest, error) {
	if err := p.CheckAccount(account); err != nil {
		return nil, nil, err
	}
	rep, m, err := VerifyBundleManifest(dir, pins, opt)
	if err != nil {
		return nil, nil, err
	}
	out := &Inclusion{Bundle: rep, Cycle: rep.Cycle, Epoch: rep.Epoch, LC: rep.LC}
	if f := rep.Failed(); f != nil {
		return out, m, fmt.Errorf("%w (%s: %s)", ErrNotCounted, f.Name, f.Detail)
	}
	lc := p.Snapshot.LC.Fr()
	if !lc.Equal(&m.Statement.LC.Element) {
		return out, m, errors.New("the proof is for another liabilities snapshot (its LC differs from the bundle's)")
	}
	if err := liabilities.VerifyInclusion(p, m.Liabilities.Root.Element); err != nil {
		return out, m, err
	}
	out.Included = true
	return out, m, nil
}
