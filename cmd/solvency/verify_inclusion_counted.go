package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/bundlefetch"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/attest"
	"github.com/solvency-dev/solvency/liabilities"
	"github.com/solvency-dev/solvency/verifier"
)

// runCountedInclusion is `verify inclusion` with --bundle or --rpc: the bundle behind the root is
// verified first; with --rpc it must then be the bundle attested on chain, field by field
// (attest.MatchBundle), before the balance is called counted (V5).
func runCountedInclusion(r *inclusionRun) error {
	o := r.o
	if err := checkCountedFlags(o); err != nil {
		return r.fail(exitBadInput, err)
	}
	p, err := loadInclusionProof(o.proofFile, &r.res)
	if err != nil {
		return r.fail(exitBadInput, err)
	}
	if err := p.CheckAccount(o.account); err != nil {
		return r.fail(exitInvalid, err)
	}
	r.p = p
	r.res.check("the proof is for the account id you typed")
	ps, err := loadPins(o.keysFrom, io.Discard)
	if err != nil {
		return r.fail(exitBadInput, fmt.Errorf("--keys-from: %w", err))
	}

	loc, err := locateBundle(o, p)
	if err != nil {
		// A bundle whose bytes do not hash to the digest on chain (bundlefetch.DigestError)
		// lands here too: not counted, the digest named.
		return r.fail(exitInvalid, fmt.Errorf("NOT COUNTED: %w", err))
	}
	defer loc.cleanup()
	dir, oc := loc.dir, loc.oc
	if loc.url != "" {
		r.res.BundleURL = loc.url
		r.res.check("fetched the bundle from " + loc.url + ": its manifest hashes to the digest recorded on chain, every file to the digest the manifest pins")
	}
	inc, m, err := verifier.CheckInclusion(p, o.account, dir, ps.pins, ps.options())
	if err != nil {
		if errors.Is(err, verifier.ErrUnusable) {
			return r.fail(exitBadInput, err)
		}
		return r.fail(exitInvalid, fmt.Errorf("NOT COUNTED: %w", err))
	}
	r.res.Included, r.res.BundleVerified = true, true
	r.res.Root = poseidon.Hex(m.Liabilities.Root.Element)
	r.res.Cycle, r.res.KeysTrust = m.Statement.Cycle, inc.Bundle.Trust
	r.res.check("the bundle " + loc.name() + " verifies: every batch proof, the chain of running sums, the tree above the batches, LC, the solvency proof (keys: " + inc.Bundle.Trust + ")")
	r.res.check("path to the bundle's root (exactly D levels, directions from the index, index below n*B)")
	if err := r.checkExpected(p); err != nil {
		return r.fail(exitInvalid, err)
	}
	r.res.Balances = p.Balances
	if oc == nil {
		r.res.Verdict = verdictBundleOnly
		r.res.NotChecked = []string{notCheckedOnChain,
			fmt.Sprintf("%s: the manifest names chain %d, registry %s", notCheckedChainName, m.Statement.ChainID, m.Statement.Registry)}
		return r.finish(p)
	}
	return r.matchOnChain(p, oc, m, inc)
}

// checkCountedFlags refuses, before anything is read, flags that cannot give a counted result.
func checkCountedFlags(o verifyInclusionOptions) error {
	if o.keysFrom == "" {
		return errors.New("--keys-from is required: the bundle's verifying keys must be pinned outside it")
	}
	if o.rpc != "" && o.addresses == "" {
		return errors.New("--rpc needs --addresses FILE (written by 'contracts deploy' or the demo)")
	}
	if o.rpc == "" && bundlefetch.IsRemote(o.bundle) {
		return fmt.Errorf("--bundle %s is a URL: give --rpc URL --addresses FILE too, so that the digest recorded on chain checks what is fetched", redactBundleURL(o.bundle))
	}
	return nil
}

// located is where the bundle to verify was found.
type located struct {
	dir     string   // a directory the verifier reads
	url     string   // the URL it was fetched from (credentials hidden), when fetched
	oc      *onChain // the on-chain record, with --rpc
	cleanup func()
}

func (l *located) name() string {
	if l.url != "" {
		return l.url
	}
	return l.dir
}

// locateBundle reads the on-chain record for the proof's LC (with --rpc) and finds the bundle:
// --bundle (a directory, or with --rpc an http(s) URL), or the URI the record names: a file://
// path, or an http(s) URL fetched and checked against the digest on chain before any byte of it
// is trusted.
func locateBundle(o verifyInclusionOptions, p *liabilities.InclusionProof) (*located, error) {
	if o.rpc == "" {
		return &located{dir: o.bundle, cleanup: func() {}}, nil
	}
	oc, err := onChainRecord(o.rpc, o.addresses, p)
	if err != nil {
		return nil, redactErr(err, o.rpc)
	}
	uri := oc.rec.BundleURI
	if o.bundle != "" {
		if !bundlefetch.IsRemote(o.bundle) {
			return &located{dir: o.bundle, oc: oc, cleanup: func() {}}, nil
		}
		uri = o.bundle
	}
	if bundlefetch.IsRemote(uri) {
		// The digest comes from the chain, never from the server: a changed byte is refused.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, dir, err := bundlefetch.FetchDir(ctx, uri, oc.rec.BundleDigest.Hex(), bundlefetch.Options{})
		if err != nil {
			return nil, redactBundleErr(fmt.Errorf("fetch the bundle recorded on chain (digest %s): %w", oc.rec.BundleDigest.Hex(), err), uri)
		}
		return &located{dir: dir, url: redactBundleURL(uri), oc: oc, cleanup: func() { os.RemoveAll(dir) }}, nil
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "file" {
		return nil, fmt.Errorf("the attestation's bundle is at %q, which is neither a file:// path nor an http(s) URL; fetch it and pass --bundle DIR", redactBundleURL(uri))
	}
	return &located{dir: u.Path, oc: oc, cleanup: func() {}}, nil
}

// matchOnChain is the last step: the verified bundle must be the one on chain to count.
func (r *inclusionRun) matchOnChain(p *liabilities.InclusionProof, oc *onChain, m *bundle.Manifest, inc *verifier.Inclusion) error {
	// One snapshot can serve several cycles: match the record of the bundle's own cycle when the
	// chain has one for this LC (the latest otherwise, whose mismatch is then reported).
	if rec, ok := oc.byCycle[m.Statement.Cycle]; ok {
		oc.rec = rec
	}
	if err := attest.MatchBundle(oc.rec.Statement(), oc.at, m, inc.Bundle.ManifestSHA256); err != nil {
		r.res.Verdict = verdictDiffers
		return r.fail(exitInvalid, fmt.Errorf("NOT COUNTED: %w", err))
	}
	r.res.OnChainMatched = true
	r.res.ChainID, r.res.Registry, r.res.TxHash = fmt.Sprint(oc.at.ChainID), oc.registry, oc.rec.TxHash.Hex()
	cs := oc.signs[oc.rec.Cycle]
	r.res.Countersigned, r.res.CountersignedBy = len(cs) > 0, newCountersignDocs(cs)
	r.res.check(fmt.Sprintf("the bundle is the one attested on chain %d by registry %s (tx %s): manifest digest, cycle, LC, "+
		"policy hash, RC, every price and its round, reserves block, snapshot epoch and time, chain id and registry",
		oc.at.ChainID, oc.registry, r.res.TxHash))
	r.res.Verdict = verdictCounted
	return r.finish(p)
}

// onChain is the attestation a user's check matched, and where it was read.
type onChain struct {
	rec      *contracts.Record // the latest record for the proof's LC
	byCycle  map[uint64]*contracts.Record
	at       attest.Location
	registry string
	signs    map[uint64][]contracts.Countersign // each of byCycle's countersigns
}

// onChainRecord reads every attestation (nothing about the user is sent) and returns the latest
// whose LC is the proof's (and every record for that LC, by cycle), with the chain id the endpoint serves and the registry it came from.
func onChainRecord(rpc, addrFile string, p *liabilities.InclusionProof) (*onChain, error) {
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
	id, err := cl.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("read chain id: %w", err)
	}
	if !id.IsUint64() {
		return nil, fmt.Errorf("chain id %s does not fit 64 bits", id)
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
	oc := &onChain{at: attest.Location{ChainID: id.Uint64(), Registry: a.Registry}, registry: a.Registry.Hex()}
	oc.rec, oc.byCycle = contracts.RecordsForLC(recs, lc)
	if oc.rec == nil {
		return nil, fmt.Errorf("no attestation on chain names your snapshot's LC %s", poseidon.Hex(lc))
	}
	oc.signs = map[uint64][]contracts.Countersign{}
	for cycle := range oc.byCycle {
		if oc.signs[cycle], err = reg.Countersigns(ctx, cycle); err != nil {
			return nil, err
		}
	}
	return oc, nil
}
