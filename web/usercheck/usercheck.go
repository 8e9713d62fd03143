// Package usercheck is the whole of a user's check, in one function that the users' page runs in
// WebAssembly and tests run natively: the user's own inclusion-proof file and the account id they
// typed; the attestation for the proof's snapshot read from the registry; the bundle it names
// fetched by the digest recorded on chain; the bundle verified (every batch proof, the chain of
// sums, the top tree, LC, the solvency proof) and its whole statement matched with the on-chain
// record; then the user's path. Only then is the balance "counted" (V5). The id, the salt and the
// balances never leave the process: the chain is asked only about the registry, and the bundle is
// public.
package usercheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/contracts/attest"

	"github.com/ethereum/go-ethereum/common"

	"github.com/solvency-dev/solvency/bundlefetch"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/liabilities"
	"github.com/solvency-dev/solvency/verifier"
	"github.com/solvency-dev/solvency/web/chainread"
)

// Verdicts.
const (
	Counted    = "counted"
	NotCounted = "not-counted"
	Error      = "error"
)

// Input is what the user gives, and where trust comes from.
type Input struct {
	Proof    []byte // the user's inclusion-proof file
	Account  string // typed by the user, never read from the file alone (L7)
	Registry common.Address
	ChainID  uint64 // the chain the registry is on; 0 accepts the endpoint's
	// Pins are the verifying keys' digests, from outside the bundle; Trust says where from.
	Pins       bundle.Pins
	Trust      string
	Transcript string
	Now        time.Time
	// WorkDir is an empty directory the fetched bundle is written to for the verifier.
	WorkDir string
	Fetch   bundlefetch.Options
	// Progress, when set, is told each step's name and the overall fraction done.
	Progress func(step string, frac float64)
}

// Balance is one asset's balance in the user's leaf.
type Balance struct {
	Symbol string `json:"symbol"`
	Amount string `json:"amount"`
}

// Result is the verdict and everything shown with it.
type Result struct {
	Verdict      string    `json:"verdict"`
	Reason       string    `json:"reason,omitempty"` // which check failed, in plain words
	Step         string    `json:"step,omitempty"`   // the step it failed at
	Account      string    `json:"account,omitempty"`
	Balances     []Balance `json:"balances,omitempty"`
	Cycle        uint64    `json:"cycle,omitempty"`
	SnapshotTime uint64    `json:"snapshotTime,omitempty"`
	SnapshotAge  string    `json:"snapshotAge,omitempty"`
	PolicyHash   string    `json:"policyHash,omitempty"`
	LC           string    `json:"lc,omitempty"`
	Tx           string    `json:"tx,omitempty"`
	BundleURL    string    `json:"bundleUrl,omitempty"`
	BundleDigest string    `json:"bundleDigest,omitempty"`
	Keys         string    `json:"keys,omitempty"`
	Batches      int       `json:"batches,omitempty"`
	// Countersigned is set once the bundle is matched on chain: whether an auditor countersigned
	// the cycle's (RC, reserves block) on the registry, i.e. found the committed reserves on
	// chain (nil: not read, the check stopped before). The balance is counted either way.
	Countersigned   *bool           `json:"countersigned,omitempty"`
	CountersignedBy []Countersigner `json:"countersignedBy,omitempty"`
	Checks          []string        `json:"checks,omitempty"` // the checks that passed, in order
}

// Countersigner is one auditor's countersign of the matched cycle, as the registry records it.
type Countersigner struct {
	Auditor      string `json:"auditor"`
	Block        uint64 `json:"block"`
	Tx           string `json:"tx"`
	StillAuditor bool   `json:"stillAuditor"`
}

// Check runs the user's check. It never returns a nil result: a failure is a verdict.
func Check(ctx context.Context, in Input, c chainread.Caller) *Result {
	r := &Result{Verdict: Error}
	progress := func(step string, f float64) {
		r.Step = step
		if in.Progress != nil {
			in.Progress(step, f)
		}
	}
	fail := func(verdict string, err error) *Result {
		r.Verdict, r.Reason = verdict, err.Error()
		return r
	}
	pass := func(what string) { r.Checks = append(r.Checks, what) }

	progress("reading your proof file", 0)
	p, err := liabilities.ParseInclusionProof(bytes.NewReader(in.Proof))
	if err != nil {
		return fail(Error, fmt.Errorf("your proof file cannot be read: %w", err))
	}
	if strings.TrimSpace(in.Account) == "" {
		return fail(Error, errors.New("type your account id: the proof is checked against the id you type, not the one in the file"))
	}
	if err := p.CheckAccount(in.Account); err != nil {
		return fail(NotCounted, err)
	}
	r.Account = in.Account
	pass("the proof is for the account id you typed")
	lc := p.Snapshot.LC.Fr()
	r.LC = poseidon.Hex(lc)
	if len(in.Pins) == 0 {
		return fail(Error, errors.New("no verifying-key pins: give a pins file (from an auditor or the ceremony)"))
	}

	progress("reading the registry's attestations", 0.02)
	id, err := chainread.ChainID(ctx, c)
	if err != nil {
		return fail(Error, fmt.Errorf("cannot reach the chain: %w", err))
	}
	if in.ChainID != 0 && id != in.ChainID {
		return fail(Error, fmt.Errorf("the endpoint serves chain %d; the registry is on chain %d", id, in.ChainID))
	}
	recs, err := chainread.Records(ctx, c, in.Registry)
	if err != nil {
		return fail(Error, err)
	}
	var rec *chainread.Record
	for _, x := range recs {
		if x.LC.Equal(&lc) && (rec == nil || x.Cycle > rec.Cycle) {
			rec = x
		}
	}
	if rec == nil {
		return fail(NotCounted, fmt.Errorf("no attestation on chain is for your proof's snapshot (LC %s): the proof is from another snapshot, or that snapshot was never attested", r.LC))
	}
	r.Cycle, r.Tx, r.BundleDigest = rec.Cycle, rec.TxHash.Hex(), strings.TrimPrefix(rec.BundleDigest.Hex(), "0x")
	r.PolicyHash = poseidon.Hex(rec.PolicyHash)
	pass(fmt.Sprintf("the registry attests your snapshot in cycle %d (tx %s)", rec.Cycle, r.Tx))

	progress("fetching the bundle the registry names", 0.05)
	r.BundleURL = rec.BundleURI
	if !bundlefetch.IsRemote(rec.BundleURI) {
		return fail(NotCounted, fmt.Errorf("the attestation's bundle is at %q, which cannot be fetched over http(s): the liabilities cannot be verified", rec.BundleURI))
	}
	fo := in.Fetch
	fo.Progress = func(done, total int) {
		progress("fetching the bundle the registry names", 0.05+0.35*float64(done)/float64(total))
	}
	b, err := bundlefetch.Fetch(ctx, rec.BundleURI, r.BundleDigest, fo)
	if err != nil {
		var de *bundlefetch.DigestError
		if errors.As(err, &de) {
			return fail(NotCounted, err)
		}
		return fail(Error, err)
	}
	pass("every file of the bundle matches the digest recorded on chain and those its manifest lists")
	if err := b.WriteDir(in.WorkDir); err != nil {
		return fail(Error, err)
	}

	progress("verifying the bundle (every batch proof, the sums, the tree, LC) and your path", 0.4)
	inc, m, err := verifier.CheckInclusion(p, in.Account, in.WorkDir, in.Pins, verifier.Options{Trust: in.Trust, TranscriptDigest: in.Transcript, Workers: 1})
	if inc != nil && inc.Bundle != nil {
		r.Keys, r.Batches = inc.Bundle.Trust, inc.Bundle.Batches
	}
	if err != nil {
		if errors.Is(err, verifier.ErrUnusable) {
			return fail(Error, err)
		}
		return fail(NotCounted, err)
	}
	pass(fmt.Sprintf("the bundle verifies: %d batch proofs, the chain of sums, the tree above the batches, LC and the solvency proof", inc.Bundle.Batches))
	pass("your balances are a leaf under the bundle's root (the path recomputes)")

	progress("matching the bundle's statement with the chain", 0.97)
	if inc.Bundle.ManifestSHA256 != r.BundleDigest {
		return fail(NotCounted, fmt.Errorf("the verified manifest's digest %s is not the one recorded on chain (%s)", inc.Bundle.ManifestSHA256, r.BundleDigest))
	}
	// The one comparison of a bundle with an on-chain record (the CLI's too).
	if err := attest.MatchBundle(rec.Statement(), attest.Location{ChainID: id, Registry: in.Registry}, m, inc.Bundle.ManifestSHA256); err != nil {
		return fail(NotCounted, err)
	}
	pass("the bundle's whole statement is the one recorded on chain")

	// R1: whether an auditor found the committed reserves on chain. Read like the CLI: events
	// confirmed one by one and counted against the registry's storage.
	progress("reading the cycle's countersigns", 0.98)
	by, err := countersigners(ctx, c, in.Registry, rec)
	if err != nil {
		return fail(Error, err)
	}
	signed := len(by) > 0
	r.Countersigned, r.CountersignedBy = &signed, by
	if signed {
		names := make([]string, len(by))
		for i, x := range by {
			names[i] = x.Auditor
		}
		pass(fmt.Sprintf("cycle %d's reserves were countersigned on chain by %s", rec.Cycle, strings.Join(names, ", ")))
	}

	r.SnapshotTime = p.Snapshot.SnapshotTime
	if !in.Now.IsZero() {
		r.SnapshotAge = in.Now.Sub(time.Unix(int64(p.Snapshot.SnapshotTime), 0)).Round(time.Second).String()
	}
	for _, bal := range p.Balances {
		r.Balances = append(r.Balances, Balance{Symbol: bal.Symbol, Amount: bal.Amount})
	}
	r.Verdict, r.Step = Counted, "done"
	progress("done", 1)
	return r
}

// countersigners reads rec's cycle's countersigns (chainread.Countersigns: each event confirmed
// by the registry's storage, their number by its count) and requires each to name the record's
// RC and reserves block: the registry refuses any other, so an endpoint showing one is lying.
func countersigners(ctx context.Context, c chainread.Caller, registry common.Address, rec *chainread.Record) ([]Countersigner, error) {
	cs, err := chainread.Countersigns(ctx, c, registry, rec.Cycle)
	if err != nil {
		return nil, fmt.Errorf("cannot read whether cycle %d was countersigned: %w", rec.Cycle, err)
	}
	rc := rec.RC.BigInt(new(big.Int))
	out := []Countersigner{}
	for _, x := range cs {
		if x.RC.Cmp(rc) != 0 || x.ReservesBlock != rec.ReservesBlock {
			return nil, fmt.Errorf("the chain endpoint shows %s countersigning cycle %d with RC %s at block %d; the cycle's record has RC %s at block %d",
				x.Auditor.Hex(), rec.Cycle, x.RC, x.ReservesBlock, rc, rec.ReservesBlock)
		}
		out = append(out, Countersigner{Auditor: x.Auditor.Hex(), Block: x.Block, Tx: x.TxHash.Hex(), StillAuditor: x.StillAuditor})
	}
	return out, nil
}
