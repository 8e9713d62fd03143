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

// rootCaveat is printed with every inclusion result (V5): the check is only as good as the root.
const rootCaveat = `LIABILITIES NOT VERIFIED: this shows your balance is in the tree under the root (or LC) you
gave, not that it was counted. An LC, even the one on chain, does not prove that every leaf of
its tree was summed into the liabilities; only the batch proofs of a verified bundle do (V5).
Check with --bundle DIR --keys-from PINS, or --rpc URL --addresses FILE --keys-from PINS.`

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

// newVerifyInclusionCmd is `solvency verify inclusion`.
func newVerifyInclusionCmd() *cobra.Command {
	var o verifyInclusionOptions
	cmd := &cobra.Command{
		Use:   "inclusion --proof FILE (--bundle DIR | --rpc URL --addresses FILE) --keys-from PINS",
		Short: "Check that an account is included in a liabilities snapshot",
		Long: `inclusion checks that your balance was counted in a cycle's attested liabilities.

With --bundle DIR --keys-from PINS it first verifies the cycle's bundle (every batch proof, the
chain of running sums, the tree above the batches, LC, the solvency proof; keys pinned by PINS:
a ceremony directory, a digests file or a keys directory), then checks your proof against that
bundle's root. With --rpc URL --addresses FILE it reads the registry's attestations (all of
them: nothing about you is sent to the endpoint), picks the one for your proof's LC, fetches the
bundle it names (file:// URIs; otherwise fetch it yourself and use --bundle), checks the bundle's
digest against the one recorded on chain, and verifies it the same way. Only then does it say
your balance was counted (V5).

With --root or --lc alone it checks tree inclusion only and says plainly that the liabilities
were not verified.

The inclusion check itself recomputes the account's
idHash from the id and salt in the file, the leaf from the balances in the file, and the path
(exactly D levels; directions from the leaf index's base-8 digits; index below n*B) up to the
root; it recomputes assetsHash from the asset table and LC from its preimage fields.

--account makes sure the proof is for the id you type; --expect SYMBOL=AMOUNT (repeatable)
makes sure the proof carries the balance you expect; --lc compares the proof's LC with one you
trust (the on-chain attestation's); given --lc alone, the root is the one LC binds.

Exit 0 when everything holds, 1 with the reason when something does not (a changed balance,
sibling, direction, index or root), 2 when the file cannot be read.

` + rootCaveat,
		Example: `  solvency verify inclusion --proof me.json --bundle bundle --keys-from pins.json --account user-0000123
  solvency verify inclusion --proof me.json --rpc http://127.0.0.1:8545 --addresses addresses.json \
      --keys-from solvency-demo/state/keys --expect ETH=1.25
  solvency verify inclusion --proof proof.json --root 0x1c2f...
  solvency verify inclusion --proof proof.json --root 0x1c2f... --account user-0000123 \
      --expect ETH=1.25 --expect USDC=300 --lc 0x0a7e...
  solvency verify inclusion --proof proof.json --lc 0x0a7e...        # LC from the registry
  solvency verify inclusion --proof proof.json --root 0x1c2f... --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVerifyInclusion(cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.proofFile, "proof", "", "inclusion proof file (required)")
	f.StringVar(&o.bundle, "bundle", "", "the cycle's bundle directory: verified, then your proof is checked against it")
	f.StringVar(&o.keysFrom, "keys-from", "", "where the verifying-key digests come from (ceremony dir, digests file or keys dir)")
	f.StringVar(&o.rpc, "rpc", "", "JSON-RPC endpoint: find the attestation for your snapshot on chain")
	f.StringVar(&o.addresses, "addresses", "", "with --rpc: the deployment's addresses file")
	f.StringVar(&o.root, "root", "", "the liabilities root you trust, 0x + 64 hex digits (tree inclusion only)")
	f.StringVar(&o.account, "account", "", "your account id; the proof must be for exactly this id")
	f.StringArrayVar(&o.expect, "expect", nil, "SYMBOL=AMOUNT: the balance you expect (repeatable)")
	f.StringVar(&o.lc, "lc", "", "the liabilities commitment LC you trust, 0x + 64 hex digits (enough without --root: LC binds the root)")
	f.BoolVar(&o.json, "json", false, "print the result as JSON on stdout")
	_ = cmd.MarkFlagRequired("proof")
	return cmd
}

// inclusionResult is `verify inclusion --json`'s output.
type inclusionResult struct {
	Valid        bool                       `json:"valid"`
	Malformed    bool                       `json:"malformed,omitempty"`
	Reason       string                     `json:"reason,omitempty"`
	AccountID    string                     `json:"account_id,omitempty"`
	LeafIndex    uint64                     `json:"leaf_index"`
	Epoch        uint64                     `json:"epoch"`
	SnapshotTime uint64                     `json:"snapshot_time"`
	Root         string                     `json:"root,omitempty"`
	LC           string                     `json:"lc,omitempty"`
	Balances     []liabilities.ProofBalance `json:"balances,omitempty"`
	Checked      []string                   `json:"checked,omitempty"`
	Counted      bool                       `json:"counted"` // the bundle behind the root verified (V5)
	Cycle        uint64                     `json:"cycle,omitempty"`
	Note         string                     `json:"note"`
}

func runVerifyInclusion(stdout io.Writer, o verifyInclusionOptions) error {
	res := inclusionResult{Note: strings.Join(strings.Fields(rootCaveat), " ")}
	fail := func(code int, err error) error {
		if o.json {
			res.Valid, res.Reason, res.Malformed = false, err.Error(), code == exitBadInput
			if werr := writeJSON(stdout, res); werr != nil {
				return werr
			}
		}
		return exitError(code, err)
	}
	if o.bundle != "" || o.rpc != "" {
		return runCountedInclusion(stdout, o, &res, fail)
	}
	if o.root == "" && o.lc == "" {
		return fail(exitBadInput, errors.New("give --bundle DIR --keys-from PINS (or --rpc URL --addresses FILE --keys-from PINS); --root or --lc alone checks tree inclusion only"))
	}
	var root fr.Element
	var err error
	if o.root != "" {
		if root, err = poseidon.ParseHex(o.root); err != nil {
			return fail(exitBadInput, fmt.Errorf("--root: %w", err))
		}
	}
	type expectation struct{ symbol, amount string }
	var expects []expectation
	for _, e := range o.expect {
		sym, amt, ok := strings.Cut(e, "=")
		if !ok || sym == "" || amt == "" {
			return fail(exitBadInput, fmt.Errorf("--expect %q: want SYMBOL=AMOUNT, e.g. ETH=1.5", e))
		}
		// The syntax is checked here (a bad flag, exit 2); the value against the proof later, at
		// the asset's precision (exit 1 when it differs).
		if _, err := assets.ParseLiability(amt, 0); err != nil {
			return fail(exitBadInput, fmt.Errorf("--expect %s: %w", e, err))
		}
		expects = append(expects, expectation{sym, amt})
	}
	var lc fr.Element
	if o.lc != "" {
		if lc, err = poseidon.ParseHex(o.lc); err != nil {
			return fail(exitBadInput, fmt.Errorf("--lc: %w", err))
		}
	}
	p, err := loadInclusionProof(o.proofFile, &res)
	if err != nil {
		return fail(exitBadInput, err)
	}
	if o.root == "" {
		// Only --lc: LC binds the root, so the root named in the file is checked through it.
		if err := liabilities.VerifyInclusionLC(p, lc); err != nil {
			return fail(exitInvalid, fmt.Errorf("%s: not included: %w", o.proofFile, err))
		}
		root = p.Snapshot.Root.Fr()
	} else if err := liabilities.VerifyInclusion(p, root); err != nil {
		return fail(exitInvalid, fmt.Errorf("%s: not included: %w", o.proofFile, err))
	}
	res.Root = poseidon.Hex(root)
	res.Checked = append(res.Checked, "path to root", "assets_hash", "lc preimage")
	if o.account != "" {
		if err := p.CheckAccount(o.account); err != nil {
			return fail(exitInvalid, err)
		}
		res.Checked = append(res.Checked, "account id")
	}
	for _, e := range expects {
		if err := p.CheckBalance(e.symbol, e.amount); err != nil {
			return fail(exitInvalid, err)
		}
		res.Checked = append(res.Checked, "balance "+e.symbol)
	}
	if o.lc != "" {
		if err := p.CheckLC(lc); err != nil {
			return fail(exitInvalid, err)
		}
		res.Checked = append(res.Checked, "lc")
	}
	res.Valid = true
	res.Balances = p.Balances
	if o.json {
		return writeJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "OK (tree inclusion only): account %q is in the tree with these balances:\n", p.AccountID)
	for _, b := range p.Balances {
		if b.Units != 0 {
			fmt.Fprintf(stdout, "  %-8s %s\n", b.Symbol, b.Amount)
		}
	}
	if nonzero := countNonzero(p.Balances); nonzero < len(p.Balances) {
		fmt.Fprintf(stdout, "  (zero in the other %d assets)\n", len(p.Balances)-nonzero)
	}
	fmt.Fprintf(stdout, "snapshot epoch %d, balances taken at %s\n", p.Snapshot.Epoch,
		time.Unix(int64(p.Snapshot.SnapshotTime), 0).UTC().Format(time.RFC3339))
	fmt.Fprintf(stdout, "root %s\nLC   %s", res.Root, res.LC)
	if o.lc != "" {
		fmt.Fprint(stdout, " (matches --lc)")
	}
	fmt.Fprintln(stdout)
	if o.account == "" {
		fmt.Fprintln(stdout, "Pass --account with your id to be sure the proof is yours.")
	}
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, rootCaveat)
	return nil
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
