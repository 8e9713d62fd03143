package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/consensys/gnark/logger"
	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/verifier"
)

type verifyBundleOptions struct {
	dir      string
	keysFrom string
	json     bool
	workers  int
}

func newVerifyBundleCmd() *cobra.Command {
	o := &verifyBundleOptions{}
	cmd := &cobra.Command{
		Use:   "bundle BUNDLE --keys-from DIGESTS",
		Short: "Verify a cycle's bundle offline, with verifying keys pinned outside it",
		Long: `Checks every batch proof, the chain of running-sum commitments (L1, L3), the tree above
the batches and its padding constants against LC (L4), the solvency proof against the statement,
and the verifying keys against digests pinned outside the bundle (V1). It needs no private data,
no network and none of the prover's state.

--keys-from names where the key digests come from: a digests file (JSON: {"verifying_keys":
{"batch": "<sha256>", "solvency": "<sha256>"}}, e.g. published with a ceremony's result, or
written by 'solvency setup' as KEYS/pins.json) or a keys directory whose keys.json records them.

Exit status: 0 valid, 1 invalid (the failed check is named), 2 unusable input.`,
		Example: `  solvency verify bundle out/bundle-1 --keys-from keys/pins.json
  solvency verify bundle out/bundle-1 --keys-from pins.json --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// gnark logs every verification to stdout, which must carry only the report (--json).
			logger.Disable()
			o.dir = args[0]
			return runVerifyBundle(cmd.OutOrStdout(), o)
		},
	}
	cmd.Flags().StringVar(&o.keysFrom, "keys-from", "", "digests file or keys directory to pin the verifying keys (required)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the report as JSON")
	cmd.Flags().IntVar(&o.workers, "workers", 0, "parallel proof verifications (default: number of CPUs)")
	_ = cmd.MarkFlagRequired("keys-from")
	return cmd
}

// loadPins reads pinned verifying-key digests from a digests file or a keys directory.
func loadPins(path string) (verifier.Pins, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		meta, err := keys.ReadMetadata(path)
		if err != nil {
			return nil, err
		}
		pins := verifier.Pins{}
		for _, c := range meta.Circuits {
			pins[c.Name] = c.VKDigest
		}
		return pins, nil
	}
	p, err := keys.ReadPins(path)
	if err != nil {
		return nil, err
	}
	return verifier.Pins(p.VerifyingKeys), nil
}

func runVerifyBundle(out io.Writer, o *verifyBundleOptions) error {
	pins, err := loadPins(o.keysFrom)
	if err != nil {
		return exitError(exitBadInput, fmt.Errorf("--keys-from: %w", err))
	}
	rep, err := verifier.VerifyBundle(o.dir, pins, verifier.Options{Workers: o.workers})
	if err != nil {
		if errors.Is(err, verifier.ErrUnusable) {
			return exitError(exitBadInput, err)
		}
		return exitError(exitBadInput, err)
	}
	if o.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printBundleReport(out, rep)
	}
	if f := rep.Failed(); f != nil {
		return exitError(exitInvalid, fmt.Errorf("bundle is INVALID: %s: %s", f.Name, f.Detail))
	}
	return nil
}

func printBundleReport(out io.Writer, rep *verifier.Report) {
	for _, c := range rep.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(out, "  %s  %s\n", mark, c.Name)
		if !c.OK {
			fmt.Fprintf(out, "        %s\n", c.Detail)
		}
	}
	if rep.Valid {
		fmt.Fprintf(out, "bundle valid: cycle %d, snapshot epoch %d, %d batches (at most %d accounts), LC %s\n",
			rep.Cycle, rep.Epoch, rep.Batches, rep.MaxAccounts, rep.LC)
	}
	if rep.Trust != string(keys.TrustCeremony) {
		fmt.Fprintf(out, "NOTE: keys trust is %q: whoever ran the setup could forge these proofs.\n", rep.Trust)
	}
}
