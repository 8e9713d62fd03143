// Package attest decides whether a bundle is the one a registry recorded on chain (V5): one
// comparison of every statement field, shared by the command line, the engine's publisher and
// the users' page. It imports no chain client, so it also builds for WebAssembly; callers read
// the record from chain themselves (contracts.Record.Statement) and pass it in.
package attest

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// Statement is what a registry records about one attestation and what a bundle names: every
// field the solvency proof and the registry bind, plus the digest of the bundle's manifest. It
// leaves out the proof (malleable, not recorded) and the bundle's URI (where to fetch it, not what
// it says: the digest binds what it says).
type Statement struct {
	Cycle         uint64
	ReservesBlock uint64
	SnapshotEpoch uint64
	SnapshotTime  uint64
	PolicyHash    fr.Element
	LC            fr.Element
	RC            fr.Element
	Prices        []uint64   // normalised, one per asset slot
	RoundIDs      []*big.Int // the feed round each price comes from
	BundleDigest  [32]byte   // sha256 of the bundle's manifest.json bytes
}

// Location is where a record was read: the chain the endpoint serves and the registry's address.
type Location struct {
	ChainID  uint64
	Registry [20]byte
}

// ErrMismatch marks a statement that differs from the record on chain.
var ErrMismatch = errors.New("the bundle is not the one recorded on chain")

// Mismatch lists every field in which a bundle differs from the on-chain record.
type Mismatch struct {
	Fields []string // e.g. "policy hash: bundle 0x.., on chain 0x.."
}

func (m *Mismatch) Error() string {
	return ErrMismatch.Error() + ": " + strings.Join(m.Fields, "; ")
}

// Unwrap lets errors.Is(err, ErrMismatch) find it.
func (m *Mismatch) Unwrap() error { return ErrMismatch }

// FromManifest is the statement a bundle names. manifestSHA256 is the hex sha256 of the manifest
// bytes m was parsed from (the verifier's report carries it, from the same single read).
func FromManifest(m *bundle.Manifest, manifestSHA256 string) (*Statement, error) {
	d, err := hex.DecodeString(manifestSHA256)
	if err != nil || len(d) != 32 {
		return nil, fmt.Errorf("manifest digest %q is not 32 bytes of hex", manifestSHA256)
	}
	st := &m.Statement
	out := &Statement{
		Cycle: st.Cycle, ReservesBlock: st.ReservesBlock, SnapshotEpoch: st.SnapshotEpoch, SnapshotTime: st.SnapshotTime,
		PolicyHash: st.PolicyHash.Element, LC: st.LC.Element, RC: st.RC.Element,
		BundleDigest: [32]byte(d),
	}
	for _, p := range st.Prices {
		r, err := bundle.ParseRound(p.Round)
		if err != nil {
			return nil, fmt.Errorf("price of %s: %w", p.Symbol, err)
		}
		out.Prices = append(out.Prices, p.Price)
		out.RoundIDs = append(out.RoundIDs, r)
	}
	return out, nil
}

// Match decides whether claimed is the statement recorded on chain: nil when every field is
// equal, otherwise a *Mismatch naming each field that differs. It is the only comparison of a
// statement with a record in this repository.
func Match(onChain, claimed *Statement) error {
	if onChain == nil || claimed == nil {
		return fmt.Errorf("%w: nothing to compare", ErrMismatch)
	}
	var diffs []string
	num := func(name string, b, c uint64) {
		if b != c {
			diffs = append(diffs, fmt.Sprintf("%s: bundle %d, on chain %d", name, b, c))
		}
	}
	elem := func(name string, b, c fr.Element) {
		if !b.Equal(&c) {
			diffs = append(diffs, fmt.Sprintf("%s: bundle %s, on chain %s", name, poseidon.Hex(b), poseidon.Hex(c)))
		}
	}
	num("cycle", claimed.Cycle, onChain.Cycle)
	num("reserves block", claimed.ReservesBlock, onChain.ReservesBlock)
	num("snapshot epoch", claimed.SnapshotEpoch, onChain.SnapshotEpoch)
	num("snapshot time", claimed.SnapshotTime, onChain.SnapshotTime)
	elem("policy hash", claimed.PolicyHash, onChain.PolicyHash)
	elem("LC", claimed.LC, onChain.LC)
	elem("RC", claimed.RC, onChain.RC)
	if len(claimed.Prices) != len(onChain.Prices) || len(claimed.RoundIDs) != len(onChain.RoundIDs) ||
		len(claimed.Prices) != len(claimed.RoundIDs) {
		diffs = append(diffs, fmt.Sprintf("prices: bundle has %d prices and %d rounds, on chain %d and %d",
			len(claimed.Prices), len(claimed.RoundIDs), len(onChain.Prices), len(onChain.RoundIDs)))
	} else {
		for i := range claimed.Prices {
			num(fmt.Sprintf("price %d", i), claimed.Prices[i], onChain.Prices[i])
			if b, c := claimed.RoundIDs[i], onChain.RoundIDs[i]; b == nil || c == nil || b.Cmp(c) != 0 {
				diffs = append(diffs, fmt.Sprintf("round %d: bundle %v, on chain %v", i, b, c))
			}
		}
	}
	if claimed.BundleDigest != onChain.BundleDigest {
		diffs = append(diffs, fmt.Sprintf("manifest digest: bundle %x, on chain %x", claimed.BundleDigest, onChain.BundleDigest))
	}
	if len(diffs) > 0 {
		return &Mismatch{Fields: diffs}
	}
	return nil
}

// MatchBundle decides "is this bundle the one on chain?": the bundle's statement and manifest
// digest equal the record read at `at` in every field (Match), and the chain id and registry the
// manifest names are the ones the record was read from. Those two sit inside the policy preimage
// (S6), which a user cannot open; the registry only records statements under its governance's
// policy hash, so a record read from this registry on this chain binds them, and a manifest
// naming another chain or registry is refused.
func MatchBundle(onChain *Statement, at Location, m *bundle.Manifest, manifestSHA256 string) error {
	claimed, err := FromManifest(m, manifestSHA256)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMismatch, err)
	}
	err = Match(onChain, claimed)
	var diffs []string
	var mm *Mismatch
	if errors.As(err, &mm) {
		diffs = mm.Fields
	} else if err != nil {
		return err
	}
	if m.Statement.ChainID != at.ChainID {
		diffs = append(diffs, fmt.Sprintf("chain id: manifest %d, record read from chain %d", m.Statement.ChainID, at.ChainID))
	}
	if reg, ok := parseAddress(m.Statement.Registry); !ok || reg != at.Registry {
		diffs = append(diffs, fmt.Sprintf("registry: manifest %q, record read from 0x%x", m.Statement.Registry, at.Registry))
	}
	if len(diffs) > 0 {
		return &Mismatch{Fields: diffs}
	}
	return nil
}

// parseAddress reads 0x + 40 hex digits (either case; checksums are a display convention).
func parseAddress(s string) ([20]byte, bool) {
	var a [20]byte
	if len(s) != 42 || !strings.HasPrefix(s, "0x") {
		return a, false
	}
	b, err := hex.DecodeString(s[2:])
	if err != nil {
		return a, false
	}
	copy(a[:], b)
	return a, true
}
