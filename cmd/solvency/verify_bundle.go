package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/consensys/gnark/logger"
	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/prover/ceremony"
	"github.com/solvency-dev/solvency/prover/profile"
	"github.com/solvency-dev/solvency/treasury/policy"
	"github.com/solvency-dev/solvency/verifier"
)

type verifyBundleOptions struct {
	dir      string
	keysFrom string
	policy   string
	json     bool
	workers  int
	// circuits are compiled from source to check a ceremony; nil means the real circuits
	// (tests substitute others).
	circuits []profile.CircuitSpec
}

func newVerifyBundleCmd() *cobra.Command {
	o := &verifyBundleOptions{}
	cmd := &cobra.Command{
		Use:   "bundle BUNDLE --keys-from (CEREMONY_DIR | DIGESTS | KEYS)",
		Short: "Verify a cycle's bundle offline, with verifying keys pinned outside it",
		Long: `Checks every batch proof, the chain of running-sum commitments, the tree above the batches
and its padding constants against LC, the solvency proof against the statement, and the
verifying keys against digests pinned outside the bundle. It needs no private data, no network
and none of the prover's state.

--keys-from names where the key digests come from, strongest first:
  - a ceremony directory: both circuits are compiled here from source for the profile the
    bundle names, the transcript is re-verified against them (every contribution; at least one
    in each phase of each circuit) and the keys it derives are pinned. Only this reports trust
    "ceremony", with the contribution counts;
  - a digests file (JSON: {"transcript_digest": "...", "verifying_keys": {"batch": "<sha256>",
    "solvency": "<sha256>"}}), e.g. published with a ceremony's result: reported as "pinned, not
    re-verified", since naming a transcript does not show it;
  - a keys directory, whose keys.json records the digests (its trust label is only a claim).
The report's trust comes from that source, never from the bundle's own claim. Unless the ceremony
was re-verified here, the report warns that whoever ran the setup could forge proofs. See
docs/trusted-setup.md.

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
	cmd.Flags().StringVar(&o.keysFrom, "keys-from", "", "ceremony directory, digests file or keys directory to pin the verifying keys (required)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the report as JSON")
	cmd.Flags().StringVar(&o.policy, "policy", "", "governance's policy: a policy file or its hash (0x...); the bundle must be proven under it")
	cmd.Flags().IntVar(&o.workers, "workers", 0, "parallel proof verifications (default: number of CPUs)")
	_ = cmd.MarkFlagRequired("keys-from")
	return cmd
}

// pinSource is what an auditor's pins establish (see ceremony.LoadPins, which reads them).
type pinSource struct {
	pins       verifier.Pins
	trust      string
	transcript string
	// verified: the ceremony transcript was re-verified here against both circuits compiled from
	// source, with a contribution in every phase; contributions are then its counts.
	verified      bool
	contributions map[string]int
	profile       string
	warning       string
}

// options are the verifier options these pins give.
func (ps *pinSource) options() verifier.Options {
	return verifier.Options{Trust: ps.trust, TranscriptDigest: ps.transcript, TrustVerified: ps.verified,
		Contributions: ps.contributions, Warning: ps.warning, KeysProfile: ps.profile}
}

// loadPins reads pins from a ceremony directory (re-verified against the circuits compiled from
// source for the profile the ceremony names, which must be a built-in one), a keys directory or
// a digests file.
func loadPins(path string, progress io.Writer) (*pinSource, error) {
	return loadPinsFor(path, "", nil, progress)
}

// loadPinsFor is loadPins for a bundle that names bundleProfile; specs nil means the real circuits.
func loadPinsFor(path, bundleProfile string, specs []profile.CircuitSpec, progress io.Writer) (*pinSource, error) {
	p, err := ceremony.LoadPins(path, ceremony.PinOptions{Profile: bundleProfile, Specs: specs, Progress: progress})
	if err != nil {
		return nil, err
	}
	return &pinSource{pins: verifier.Pins(p.VerifyingKeys), trust: p.Trust, transcript: p.TranscriptDigest,
		verified: p.Verified, contributions: p.Contributions, profile: p.Profile, warning: p.Warning}, nil
}

func runVerifyBundle(out, errw io.Writer, o *verifyBundleOptions) error {
	// A ceremony directory is checked against the circuits compiled from source for the
	// bundle's profile, so read that first; a pins file needs no bundle and is checked before
	// one is read. The verifier re-reads the manifest and checks the profile again.
	bundleProfile := ""
	if st, err := os.Stat(o.keysFrom); err == nil && st.IsDir() {
		m, _, err := bundle.ReadManifestRaw(o.dir)
		if err != nil {
			return exitError(exitBadInput, err)
		}
		bundleProfile = m.Profile
	}
	ps, err := loadPinsFor(o.keysFrom, bundleProfile, o.circuits, errw)
	if err != nil {
		return exitError(exitBadInput, fmt.Errorf("--keys-from: %w", err))
	}
	opt := ps.options()
	opt.Workers = o.workers
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
	fmt.Fprintf(out, "keys: %s\n", rep.Trust)
	if !rep.TrustVerified {
		fmt.Fprintf(out, "NOTE: the bundle claims %q keys; that claim was not checked.\n%s\n", rep.ClaimedTrust, rep.Warning)
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
