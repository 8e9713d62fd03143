package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/liabilities"
	"github.com/solvency-dev/solvency/verifier"
)

// runCountedInclusion is `verify inclusion` with --bundle or --rpc: the bundle behind the root
// is verified first, so "included" means "counted" (V5).
func runCountedInclusion(stdout io.Writer, o verifyInclusionOptions, res *inclusionResult, fail func(int, error) error) error {
	if o.keysFrom == "" {
		return fail(exitBadInput, errors.New("--keys-from is required: the bundle's verifying keys must be pinned outside it (V1)"))
	}
	p, err := loadInclusionProof(o.proofFile, res)
	if err != nil {
		return fail(exitBadInput, err)
	}
	ps, err := loadPins(o.keysFrom, io.Discard)
	if err != nil {
		return fail(exitBadInput, fmt.Errorf("--keys-from: %w", err))
	}

	dir := o.bundle
	var rec *contracts.Record
	if o.rpc != "" {
		if o.addresses == "" {
			return fail(exitBadInput, errors.New("--rpc needs --addresses FILE (written by 'contracts deploy' or the demo)"))
		}
		if rec, err = onChainRecord(o.rpc, o.addresses, p); err != nil {
			return fail(exitInvalid, err)
		}
		res.Cycle = rec.Cycle
		if dir == "" {
			u, err := url.Parse(rec.BundleURI)
			if err != nil || u.Scheme != "file" {
				return fail(exitInvalid, fmt.Errorf("LIABILITIES NOT VERIFIED: the attestation's bundle is at %q; fetch it and pass --bundle DIR", rec.BundleURI))
			}
			dir = u.Path
		}
	}
	inc, m, err := verifier.CheckInclusion(p, dir, ps.pins, verifier.Options{Trust: ps.trust, TranscriptDigest: ps.transcript})
	if err != nil {
		if errors.Is(err, verifier.ErrUnusable) {
			return fail(exitBadInput, err)
		}
		return fail(exitInvalid, fmt.Errorf("NOT COUNTED: %w", err))
	}
	if rec != nil {
		raw, err := boundedfile.ReadFile(filepath.Join(dir, bundle.ManifestFile), boundedfile.Manifest)
		if err != nil {
			return fail(exitBadInput, err)
		}
		// The bundle must be the one the registry recorded: its manifest digest and statement.
		if d := bundle.SHA256Hex(raw); d != strings.TrimPrefix(strings.ToLower(rec.BundleDigest.Hex()), "0x") {
			return fail(exitInvalid, fmt.Errorf("NOT COUNTED: the bundle's manifest digest %s is not the one recorded on chain (%s)", d, rec.BundleDigest.Hex()))
		}
		if d := inc.Bundle.ManifestSHA256; d != bundle.SHA256Hex(raw) {
			return fail(exitInvalid, errors.New("NOT COUNTED: the manifest changed while it was being verified"))
		}
		st := m.Statement
		if st.Cycle != rec.Cycle || !st.LC.Equal(&rec.LC) || !st.RC.Equal(&rec.RC) || !st.PolicyHash.Equal(&rec.PolicyHash) || st.SnapshotEpoch != rec.SnapshotEpoch {
			return fail(exitInvalid, errors.New("NOT COUNTED: the bundle's statement differs from the attestation on chain"))
		}
	}
	if o.account != "" {
		if err := p.CheckAccount(o.account); err != nil {
			return fail(exitInvalid, err)
		}
	}
	for _, e := range o.expect {
		sym, amt, _ := strings.Cut(e, "=")
		if err := p.CheckBalance(sym, amt); err != nil {
			return fail(exitInvalid, err)
		}
	}
	res.Valid, res.Counted, res.Balances = true, true, p.Balances
	res.Root = poseidon.Hex(m.Liabilities.Root.Element)
	res.Cycle = m.Statement.Cycle
	res.Note = "the bundle verified: your balance is in the liabilities that the solvency proof covers"
	res.Checked = []string{"bundle (every proof, chain of sums, tree, LC)", "path to root", "lc"}
	if rec != nil {
		res.Checked = append(res.Checked, "bundle digest and statement match the on-chain attestation")
	}
	if o.json {
		return writeJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "COUNTED: account %q is included in cycle %d's attested liabilities with:\n", p.AccountID, m.Statement.Cycle)
	for _, b := range p.Balances {
		if b.Units != 0 {
			fmt.Fprintf(stdout, "  %-8s %s\n", b.Symbol, b.Amount)
		}
	}
	fmt.Fprintf(stdout, "bundle %s verified (keys: %s)\n", dir, inc.Bundle.Trust)
	if rec != nil {
		fmt.Fprintf(stdout, "matches the attestation on chain: cycle %d, tx %s\n", rec.Cycle, rec.TxHash.Hex())
	}
	if o.account == "" {
		fmt.Fprintln(stdout, "Pass --account with your id to be sure the proof is yours.")
	}
	return nil
}

// onChainRecord reads every attestation (nothing about the user is sent) and returns the latest
// whose LC is the proof's.
func onChainRecord(rpc, addrFile string, p *liabilities.InclusionProof) (*contracts.Record, error) {
	ctx := context.Background()
	a, err := contracts.ReadAddresses(addrFile)
	if err != nil {
		return nil, err
	}
	cl, err := ethclient.DialContext(ctx, rpc)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", rpc, err)
	}
	defer cl.Close()
	if err := a.CheckChain(ctx, cl); err != nil {
		return nil, err
	}
	reg, err := a.Bind(cl)
	if err != nil {
		return nil, err
	}
	recs, err := reg.Records(ctx)
	if err != nil {
		return nil, err
	}
	lc := p.Snapshot.LC.Fr()
	var best *contracts.Record
	for _, r := range recs {
		if r.LC.Equal(&lc) && (best == nil || r.Cycle > best.Cycle) {
			best = r
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no attestation on chain names your snapshot's LC %s", poseidon.Hex(lc))
	}
	return best, nil
}
