package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/consensys/gnark/logger"
	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/prover/ceremony"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/treasury/policy"
	"github.com/solvency-dev/solvency/verifier"
)

type verifyBundleOptions struct {
	dir      string
	keysFrom string
	policy   string
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

--keys-from names where the key digests come from, strongest first:
  - a ceremony directory: its transcript is re-verified here and the keys it derives are pinned;
  - a digests file (JSON: {"transcript_digest": "...", "verifying_keys": {"batch": "<sha256>",
    "solvency": "<sha256>"}}), e.g. published with a ceremony's result;
  - a keys directory, whose keys.json records the digests (its trust label is only a claim).
The report's trust comes from that source, never from the bundle's own claim (V1).

--policy checks that the bundle was proven under governance's policy (a policy file, hashed here
with its chain id and registry, or the hash itself).

Exit status: 0 valid, 1 invalid (the failed check is named), 2 unusable input.`,
		Example: `  solvency verify bundle out/bundle-1 --keys-from ceremony-dir --policy testdata/policy.json
  solvency verify bundle out/bundle-1 --keys-from pins.json --json
  solvency verify bundle solvency-demo/state/cycles/000001/bundle --keys-from solvency-demo/state/keys`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// gnark logs every verification to stdout, which must carry only the report (--json).
			logger.Disable()
			o.dir = args[0]
			return runVerifyBundle(cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	cmd.Flags().StringVar(&o.keysFrom, "keys-from", "", "digests file or keys directory to pin the verifying keys (required)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the report as JSON")
	cmd.Flags().StringVar(&o.policy, "policy", "", "governance's policy: a policy file or its hash (0x...); the bundle must be proven under it")
	cmd.Flags().IntVar(&o.workers, "workers", 0, "parallel proof verifications (default: number of CPUs)")
	_ = cmd.MarkFlagRequired("keys-from")
	return cmd
}

// pinSource is what an auditor's pins establish.
type pinSource struct {
	pins       verifier.Pins
	trust      string
	transcript string
}

// loadPins reads pinned verifying-key digests from a ceremony transcript directory (re-verified
// here: the strongest source), a digests file, or a keys directory (whose trust is only claimed).
func loadPins(path string, progress io.Writer) (*pinSource, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		if _, err := os.Stat(filepath.Join(path, "ceremony.json")); err == nil {
			fmt.Fprintf(progress, "re-verifying the ceremony transcript in %s (every contribution; this takes a while)\n", path)
			res, err := ceremony.Verify(path, ceremony.Options{})
			if err != nil {
				return nil, fmt.Errorf("ceremony transcript: %w", err)
			}
			p, err := res.Pins()
			if err != nil {
				return nil, err
			}
			return &pinSource{pins: verifier.Pins(p.VerifyingKeys), trust: string(keys.TrustCeremony), transcript: p.TranscriptDigest}, nil
		}
		meta, err := keys.ReadMetadata(path)
		if err != nil {
			return nil, err
		}
		ps := &pinSource{pins: verifier.Pins{}, trust: "keys directory says " + string(meta.Trust) + " (not re-verified)"}
		for _, c := range meta.Circuits {
			ps.pins[c.Name] = c.VKDigest
		}
		if meta.Trust == keys.TrustCeremony && meta.Ceremony != nil {
			ps.transcript = meta.Ceremony.TranscriptDigest
		}
		return ps, nil
	}
	p, err := keys.ReadPins(path)
	if err != nil {
		return nil, err
	}
	ps := &pinSource{pins: verifier.Pins(p.VerifyingKeys), trust: "pinned digests (setup not verified)"}
	if p.TranscriptDigest != "" {
		// The auditor vouches for this file: it names the transcript the digests came from.
		ps.trust, ps.transcript = string(keys.TrustCeremony)+" (transcript pinned by "+path+")", p.TranscriptDigest
	}
	return ps, nil
}

func runVerifyBundle(out, errw io.Writer, o *verifyBundleOptions) error {
	ps, err := loadPins(o.keysFrom, errw)
	if err != nil {
		return exitError(exitBadInput, fmt.Errorf("--keys-from: %w", err))
	}
	opt := verifier.Options{Workers: o.workers, Trust: ps.trust, TranscriptDigest: ps.transcript}
	if opt.PolicyHash, err = expectedPolicy(o.policy); err != nil {
		return exitError(exitBadInput, err)
	}
	rep, err := verifier.VerifyBundle(o.dir, ps.pins, opt)
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
	fmt.Fprintf(out, "statement: policy %s, RC %s, reserves block %d\n", rep.PolicyHash, rep.RC, rep.ReservesBlock)
	// The chain id and registry sit inside the policy hash, which this check cannot open: they are
	// the operator's words until matched with the registry's record (verify inclusion --rpc).
	fmt.Fprintf(out, "not checked: the manifest names chain %d, registry %s (checked only against the registry's record on chain)\n",
		rep.ChainID, rep.Registry)
	fmt.Fprintf(out, "bundle digest (sha256 of manifest.json, as recorded on chain): %s\n", rep.ManifestSHA256)
	if !strings.HasPrefix(rep.Trust, string(keys.TrustCeremony)) {
		fmt.Fprintf(out, "NOTE: keys: %s; the bundle claims %q. Unless the keys come from a ceremony you verified, whoever ran the setup could forge these proofs.\n", rep.Trust, rep.ClaimedTrust)
	}
}

// expectedPolicy reads --policy: a policy file (hashed here, chain id and registry included) or
// a hash.
func expectedPolicy(arg string) (*fr.Element, error) {
	if arg == "" {
		return nil, nil
	}
	if strings.HasPrefix(arg, "0x") {
		h, err := poseidon.ParseHex(arg)
		if err != nil {
			return nil, fmt.Errorf("--policy: %w", err)
		}
		return &h, nil
	}
	pf, err := policy.Load(arg)
	if err != nil {
		return nil, fmt.Errorf("--policy: %w", err)
	}
	h, err := pf.Hash()
	if err != nil {
		return nil, fmt.Errorf("--policy: %w", err)
	}
	return &h, nil
}
