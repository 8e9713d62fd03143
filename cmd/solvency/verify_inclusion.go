package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/liabilities"
)

type verifyInclusionOptions struct {
	proofFile string
	bundle    string
	keysFrom  string
	rpc       string
	addresses string
	root      string
	account   string
	expect    []string
	lc        string
	json      bool
}

const verifyInclusionLong = `inclusion checks that your balance was counted in a cycle's liabilities, as attested on chain.

It says COUNTED (exit 0) only when all of these hold:
  - the proof is for the account id you type with --account (required; never taken from the file);
  - the cycle's bundle verifies: every batch proof, the chain of running sums, the tree above the
    batches, LC and the solvency proof, with verifying keys pinned by --keys-from (a ceremony
    directory, a digests file or a keys directory), not by the bundle;
  - your proof's path leads to that bundle's root;
  - the bundle is the one recorded by the registry on chain (--rpc URL --addresses FILE): its
    manifest digest and its whole statement (cycle, LC, policy hash, RC, every price and its feed
    round, reserves block, snapshot epoch and time) equal the on-chain record, and the chain id
    and registry that the manifest names are the ones the record was read from.

Once matched on chain it also shows whether, and by which auditors, the cycle was countersigned:
an auditor checked the committed reserves against the chain at the reserves block. Without a
countersign the reserves are the operator's claim; your balance is counted either way.

The registry's attestations are all read (nothing about you is sent to the endpoint); the one for
your proof's LC names its bundle and its digest. An http(s) address is fetched (with a size limit
and a timeout) and its manifest must hash to the digest recorded on chain before anything in it is
read; a changed byte is refused, naming the digest. A file:// path is read on this machine.
--bundle DIR (or URL) uses another copy instead; it too must match the record on chain.

Anything less is reported as what it is, with exit 1: with --bundle DIR and no --rpc, "INCLUDED in
a bundle that verified, NOT COUNTED" (an operator can hand you a complete bundle that was never
published and attest another one that leaves you out); with --root or --lc alone, "INCLUDED in the
tree, NOT COUNTED" (a root or LC does not prove that every leaf was summed). docs/trust-model.md
explains why.

--expect SYMBOL=AMOUNT (repeatable) makes sure the proof carries the balance you expect.

Exit 0 COUNTED; 1 not counted, or a check failed (the output says which, and what was and was
not checked); 2 unusable input (a missing flag, a malformed file).`

const verifyInclusionExample = `  solvency verify inclusion --proof me.json --account user-0000123 \
      --rpc http://127.0.0.1:8545 --addresses addresses.json --keys-from pins.json --expect ETH=1.25
  solvency verify inclusion --proof me.json --account user-0000123 \
      --rpc https://rpc.example --addresses addresses.json --keys-from pins.json --bundle ./bundle-42
  solvency verify inclusion --proof me.json --account user-0000123 --bundle ./bundle-42 --keys-from pins.json   # not counted: no chain
  solvency verify inclusion --proof me.json --account user-0000123 --root 0x1c2f... --json                     # tree only`

// newVerifyInclusionCmd is `solvency verify inclusion`.
func newVerifyInclusionCmd() *cobra.Command {
	var o verifyInclusionOptions
	cmd := &cobra.Command{
		Use:     "inclusion --proof FILE --account ID --rpc URL --addresses FILE --keys-from PINS",
		Short:   "Check that your balance was counted in a cycle attested on chain",
		Long:    verifyInclusionLong,
		Example: verifyInclusionExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVerifyInclusion(cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.proofFile, "proof", "", "your inclusion proof file (required)")
	f.StringVar(&o.account, "account", "", "your account id, typed by you; the proof must be for exactly this id (required)")
	f.StringVar(&o.rpc, "rpc", "", "JSON-RPC endpoint: match the bundle with the registry's attestation on chain")
	f.StringVar(&o.addresses, "addresses", "", "with --rpc: the deployment's addresses file (which chain, which registry)")
	f.StringVar(&o.keysFrom, "keys-from", "", "where the verifying-key digests come from (ceremony dir, digests file or keys dir)")
	f.StringVar(&o.bundle, "bundle", "", "the cycle's bundle directory, or with --rpc its http(s) URL (instead of the address recorded on chain)")
	f.StringVar(&o.root, "root", "", "a liabilities root, 0x + 64 hex digits (tree inclusion only: never counted)")
	f.StringVar(&o.lc, "lc", "", "a liabilities commitment LC, 0x + 64 hex digits (binds the root; tree inclusion only: never counted)")
	f.StringArrayVar(&o.expect, "expect", nil, "SYMBOL=AMOUNT: the balance you expect (repeatable)")
	f.BoolVar(&o.json, "json", false, "print the result as JSON on stdout")
	_ = cmd.MarkFlagRequired("proof")
	_ = cmd.MarkFlagRequired("account")
	return cmd
}

// Verdicts, strongest first. Only the first is a success.
const (
	verdictCounted      = "COUNTED: included in a bundle that verified and matches the attestation on chain"
	verdictBundleOnly   = "INCLUDED in a bundle that verified, NOT COUNTED: not matched with an on-chain attestation"
	verdictTreeOnly     = "INCLUDED in the tree under the root you gave, NOT COUNTED: no bundle verified, not matched with an on-chain attestation"
	verdictNotCounted   = "NOT COUNTED"
	verdictDiffers      = "INCLUDED in a bundle that verified, NOT COUNTED: the bundle is not the one attested on chain"
	notCheckedOnChain   = "the bundle is the one attested on chain (statement, prices and rounds, reserves block, manifest digest): give --rpc URL --addresses FILE"
	notCheckedBundle    = "the liabilities behind the root were summed and proven (the bundle): give --bundle DIR or --rpc URL --addresses FILE, with --keys-from PINS"
	notCheckedChainName = "the chain id and registry the manifest names (only a record read from that registry binds them)"
)

// inclusionResult is `verify inclusion --json`'s output.
type inclusionResult struct {
	OK        bool   `json:"ok"` // COUNTED
	Verdict   string `json:"verdict"`
	Reason    string `json:"reason,omitempty"` // why it is not counted, when a check failed
	Malformed bool   `json:"malformed,omitempty"`
	// What held: the path leads to the root; the bundle behind the root verified; the bundle is
	// the one on chain. Counted is all three.
	Included       bool                       `json:"included"`
	BundleVerified bool                       `json:"bundle_verified"`
	OnChainMatched bool                       `json:"on_chain_matched"`
	Counted        bool                       `json:"counted"`
	AccountID      string                     `json:"account_id,omitempty"`
	LeafIndex      uint64                     `json:"leaf_index"`
	Epoch          uint64                     `json:"snapshot_epoch"`
	SnapshotTime   uint64                     `json:"snapshot_time"`
	Root           string                     `json:"root,omitempty"`
	LC             string                     `json:"lc,omitempty"`
	Balances       []liabilities.ProofBalance `json:"balances,omitempty"`
	Cycle          uint64                     `json:"cycle,omitempty"`
	KeysTrust      string                     `json:"keys_trust,omitempty"`
	ChainID        string                     `json:"chain_id,omitempty"` // only once matched on chain
	Registry       string                     `json:"registry,omitempty"` // only once matched on chain
	TxHash         string                     `json:"tx_hash,omitempty"`
	BundleURL      string                     `json:"bundle_url,omitempty"` // where the bundle was fetched from
	// Countersigned: once matched on chain, whether an auditor countersigned the cycle's (RC,
	// reserves block), i.e. checked on chain that the committed reserves were held; and by whom.
	// It does not change the verdict, which is about your balance being counted.
	Countersigned   bool             `json:"countersigned"`
	CountersignedBy []countersignDoc `json:"countersigned_by,omitempty"`

	Checked    []string `json:"checked"`
	NotChecked []string `json:"not_checked,omitempty"`
}

func (r *inclusionResult) check(what string) { r.Checked = append(r.Checked, what) }

// inclusionRun carries one run's result and how it ends.
type inclusionRun struct {
	o   verifyInclusionOptions
	out io.Writer
	res inclusionResult
	p   *liabilities.InclusionProof // once read
}

// fail ends the run: the JSON document (when asked) and an error with the exit code.
func (r *inclusionRun) fail(code int, err error) error {
	r.res.OK, r.res.Counted, r.res.Malformed = false, false, code == exitBadInput
	r.res.Reason = err.Error()
	if r.res.Verdict == "" || r.res.Verdict == verdictCounted {
		r.res.Verdict = verdictNotCounted
	}
	if r.o.json {
		if werr := writeJSON(r.out, r.res); werr != nil {
			return werr
		}
	} else if r.res.Included && r.p != nil {
		// What held is worth showing beside what failed.
		printInclusion(r.out, &r.res, r.p)
		fmt.Fprintf(r.out, "FAILED: %s\n", err)
	}
	return exitError(code, err)
}

func runVerifyInclusion(stdout io.Writer, o verifyInclusionOptions) error {
	r := &inclusionRun{o: o, out: stdout}
	if o.account == "" {
		return r.fail(exitBadInput, errors.New("--account is required: type your own account id; the proof must be for exactly that id"))
	}
	if o.rpc == "" && o.bundle == "" && o.root == "" && o.lc == "" {
		return r.fail(exitBadInput, errors.New("give --rpc URL --addresses FILE --keys-from PINS to check that your balance was counted (--bundle DIR, --root or --lc alone check less)"))
	}
	if err := checkExpectSyntax(o.expect); err != nil {
		return r.fail(exitBadInput, err)
	}
	if o.rpc != "" || o.bundle != "" {
		return runCountedInclusion(r)
	}
	return runTreeInclusion(r)
}

// checkExpectSyntax checks --expect's syntax (a bad flag: exit 2); the value is checked against
// the proof later, at the asset's precision (exit 1 when it differs).
func checkExpectSyntax(expect []string) error {
	for _, e := range expect {
		sym, amt, ok := strings.Cut(e, "=")
		if !ok || sym == "" || amt == "" {
			return fmt.Errorf("--expect %q: want SYMBOL=AMOUNT, e.g. ETH=1.5", e)
		}
		if _, err := assets.ParseLiability(amt, 0); err != nil {
			return fmt.Errorf("--expect %s: %w", e, err)
		}
	}
	return nil
}

// checkExpected compares each --expect with the proof's balances.
func (r *inclusionRun) checkExpected(p *liabilities.InclusionProof) error {
	for _, e := range r.o.expect {
		sym, amt, _ := strings.Cut(e, "=")
		if err := p.CheckBalance(sym, amt); err != nil {
			return err
		}
		r.res.check("balance " + sym + " is the one you expect")
	}
	return nil
}

// runTreeInclusion is --root or --lc alone: tree inclusion only, never counted.
func runTreeInclusion(r *inclusionRun) error {
	o := r.o
	var root, lc fr.Element
	var err error
	if o.root != "" {
		if root, err = poseidon.ParseHex(o.root); err != nil {
			return r.fail(exitBadInput, fmt.Errorf("--root: %w", err))
		}
	}
	if o.lc != "" {
		if lc, err = poseidon.ParseHex(o.lc); err != nil {
			return r.fail(exitBadInput, fmt.Errorf("--lc: %w", err))
		}
	}
	p, err := loadInclusionProof(o.proofFile, &r.res)
	if err != nil {
		return r.fail(exitBadInput, err)
	}
	if err := p.CheckAccount(o.account); err != nil {
		return r.fail(exitInvalid, err)
	}
	r.res.check("the proof is for the account id you typed")
	if o.lc != "" {
		if err := p.CheckLC(lc); err != nil {
			return r.fail(exitInvalid, err)
		}
		r.res.check("the proof's LC is the one you gave")
	}
	if o.root == "" {
		// Only --lc: LC binds the root, so the root named in the file is checked through it.
		root = p.Snapshot.Root.Fr()
	}
	if err := liabilities.VerifyInclusion(p, root); err != nil {
		return r.fail(exitInvalid, fmt.Errorf("%s: not included: %w", o.proofFile, err))
	}
	r.res.Root = poseidon.Hex(root)
	r.res.check("path to the root (exactly D levels, directions from the index, index below n*B), assets hash, LC preimage")
	if err := r.checkExpected(p); err != nil {
		return r.fail(exitInvalid, err)
	}
	r.res.Included, r.res.Balances = true, p.Balances
	r.res.Verdict = verdictTreeOnly
	r.res.NotChecked = []string{notCheckedBundle, notCheckedOnChain}
	return r.finish(p)
}

// finish prints the result and ends with exit 0 only when the balance was counted.
func (r *inclusionRun) finish(p *liabilities.InclusionProof) error {
	res := &r.res
	res.OK = res.Included && res.BundleVerified && res.OnChainMatched
	res.Counted = res.OK
	if r.o.json {
		if err := writeJSON(r.out, res); err != nil {
			return err
		}
	} else {
		printInclusion(r.out, res, p)
	}
	if !res.OK {
		return exitError(exitInvalid, errors.New(res.Verdict))
	}
	return nil
}

func printInclusion(out io.Writer, res *inclusionResult, p *liabilities.InclusionProof) {
	fmt.Fprintln(out, res.Verdict)
	if res.BundleURL != "" {
		fmt.Fprintf(out, "bundle fetched from %s\n", res.BundleURL)
	}
	where := ""
	if res.BundleVerified {
		where = fmt.Sprintf(" in cycle %d", res.Cycle)
	}
	fmt.Fprintf(out, "account %q%s, snapshot epoch %d (balances taken at %s), with:\n", p.AccountID, where, p.Snapshot.Epoch,
		time.Unix(int64(p.Snapshot.SnapshotTime), 0).UTC().Format(time.RFC3339))
	for _, b := range p.Balances {
		if b.Units != 0 {
			fmt.Fprintf(out, "  %-8s %s\n", b.Symbol, b.Amount)
		}
	}
	if nonzero := countNonzero(p.Balances); nonzero < len(p.Balances) {
		fmt.Fprintf(out, "  (zero in the other %d assets)\n", len(p.Balances)-nonzero)
	}
	fmt.Fprintf(out, "root %s\nLC   %s\n", res.Root, res.LC)
	if res.OnChainMatched {
		fmt.Fprintf(out, "reserves countersigned by an auditor: %s\n", describeCountersignDocs(res.CountersignedBy))
	}
	fmt.Fprintln(out, "checked:")
	for _, c := range res.Checked {
		fmt.Fprintf(out, "  - %s\n", c)
	}
	if len(res.NotChecked) > 0 {
		fmt.Fprintln(out, "NOT checked:")
		for _, c := range res.NotChecked {
			fmt.Fprintf(out, "  - %s\n", c)
		}
	}
	if res.KeysTrust != "" && !strings.HasPrefix(res.KeysTrust, "ceremony") {
		fmt.Fprintf(out, "NOTE: keys: %s. Unless the keys come from a ceremony you verified, whoever ran the setup could forge these proofs.\n", res.KeysTrust)
	}
}

func countNonzero(bs []liabilities.ProofBalance) int {
	n := 0
	for _, b := range bs {
		if b.Units != 0 {
			n++
		}
	}
	return n
}

// loadInclusionProof reads a user's proof file and fills what the result reports about it.
func loadInclusionProof(path string, res *inclusionResult) (*liabilities.InclusionProof, error) {
	p, err := liabilities.ReadInclusionProof(path)
	if err != nil {
		return nil, err
	}
	res.AccountID, res.LeafIndex = p.AccountID, p.LeafIndex
	res.Epoch, res.SnapshotTime = p.Snapshot.Epoch, p.Snapshot.SnapshotTime
	res.LC = poseidon.Hex(p.Snapshot.LC.Fr())
	return p, nil
}
