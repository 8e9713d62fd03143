package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/liabilities"
)

// rootCaveat is printed with every inclusion result (V5): the check is only as good as the root.
const rootCaveat = `This shows your balance is in the tree under the root you gave. It shows your balance was
counted in the liabilities only if that root comes from a cycle bundle that 'solvency verify
bundle' accepted, or from the on-chain attestation. A root copied from the operator's own files
proves nothing about counting.`

type verifyInclusionOptions struct {
	proofFile string
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
		Use:   "inclusion --proof FILE --root HEX",
		Short: "Check that an account is included in a liabilities snapshot",
		Long: `inclusion checks a user's inclusion proof file against a root: it recomputes the account's
idHash from the id and salt in the file, the leaf from the balances in the file, and the path
(exactly D levels; directions from the leaf index's base-8 digits; index below n*B) up to the
root; it recomputes assetsHash from the asset table and LC from its preimage fields.

--account makes sure the proof is for the id you type; --expect SYMBOL=AMOUNT (repeatable)
makes sure the proof carries the balance you expect; --lc compares the proof's LC with one you
trust (the on-chain attestation's); given --lc alone, the root is the one LC binds.

Exit 0 when everything holds, 1 with the reason when something does not (a changed balance,
sibling, direction, index or root), 2 when the file cannot be read.

` + rootCaveat,
		Example: `  solvency verify inclusion --proof proof.json --root 0x1c2f...
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
	f.StringVar(&o.root, "root", "", "the liabilities root you trust, 0x + 64 hex digits")
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
	if o.root == "" && o.lc == "" {
		return fail(exitBadInput, errors.New("give the --root (or the --lc) you trust: from a verified bundle or the on-chain attestation"))
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
	f, err := os.Open(o.proofFile)
	if err != nil {
		return fail(exitBadInput, fmt.Errorf("open inclusion proof: %w", err))
	}
	p, err := liabilities.ParseInclusionProof(f)
	f.Close()
	if err != nil {
		return fail(exitBadInput, fmt.Errorf("%s: %w", o.proofFile, err))
	}
	res.AccountID, res.LeafIndex = p.AccountID, p.LeafIndex
	res.Epoch, res.SnapshotTime = p.Snapshot.Epoch, p.Snapshot.SnapshotTime
	res.LC = poseidon.Hex(p.Snapshot.LC.Fr())
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
	fmt.Fprintf(stdout, "OK: account %q is included with these balances:\n", p.AccountID)
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
