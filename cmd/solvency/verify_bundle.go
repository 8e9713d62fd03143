package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/consensys/gnark/logger"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/bundlefetch"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/prover/ceremony"
	"github.com/solvency-dev/solvency/prover/profile"
	"github.com/solvency-dev/solvency/treasury/policy"
	"github.com/solvency-dev/solvency/verifier"
)

type verifyBundleOptions struct {
	dir       string // a directory, or an http(s) URL
	digest    string // with a URL: the manifest's expected sha256
	rpc       string // with a URL: read the digest from the registry's record of this URL
	addresses string
	cycle     uint64 // with --rpc: the cycle whose record names the bundle
	keysFrom  string
	policy    string
	json      bool
	workers   int
	// circuits are compiled from source to check a ceremony; nil means the real circuits
	// (tests substitute others).
	circuits []profile.CircuitSpec
}

// bundleSource is where runVerifyBundle reads the bundle from.
type bundleSource struct {
	dir, url, digest string
}

const verifyBundleLong = `Checks every batch proof, the chain of running-sum commitments, the tree above the batches
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

BUNDLE may be an http(s) URL (a bundle published with --bundle-url, or served by 'solvency
serve' at /bundles/DIGEST): it is fetched with a size limit and a timeout, and its manifest must
hash to the digest you give with --digest, or to the digest the registry recorded for that URL
(--rpc URL --addresses FILE, and --cycle N when several cycles name it), before anything in it is
read. Files that do not hash to their digests are refused, naming the digest.

Exit status: 0 valid, 1 invalid (the failed check is named), 2 unusable input.`

const verifyBundleExample = `  solvency verify bundle out/bundle-1 --keys-from ceremony-dir --policy testdata/policy.json
  solvency verify bundle out/bundle-1 --keys-from pins.json --json
  solvency verify bundle solvency-demo/state/cycles/000001/bundle --keys-from solvency-demo/state/keys
  solvency verify bundle https://proofs.example.org/bundles/9f2c... --digest 9f2c... --keys-from pins.json
  solvency verify bundle http://127.0.0.1:8080/bundles/9f2c... --rpc http://127.0.0.1:8080/rpc --addresses addresses.json --keys-from pins.json`

// newVerifyBundleCmd is `solvency verify bundle`.
func newVerifyBundleCmd() *cobra.Command {
	o := &verifyBundleOptions{}
	cmd := &cobra.Command{
		Use:     "bundle BUNDLE|URL --keys-from (CEREMONY_DIR | DIGESTS | KEYS)",
		Short:   "Verify a cycle's bundle offline, with verifying keys pinned outside it",
		Long:    verifyBundleLong,
		Example: verifyBundleExample,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// gnark logs every verification to stdout, which must carry only the report (--json).
			logger.Disable()
			o.dir = args[0]
			return runVerifyBundle(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	cmd.Flags().StringVar(&o.keysFrom, "keys-from", "", "ceremony directory, digests file or keys directory to pin the verifying keys (required)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the report as JSON")
	cmd.Flags().StringVar(&o.policy, "policy", "", "governance's policy: a policy file or its hash (0x...); the bundle must be proven under it")
	cmd.Flags().IntVar(&o.workers, "workers", 0, "parallel proof verifications (default: number of CPUs)")
	cmd.Flags().StringVar(&o.digest, "digest", "", "with a URL: the sha256 of the bundle's manifest (64 hex digits), as recorded on chain")
	cmd.Flags().StringVar(&o.rpc, "rpc", "", "with a URL: JSON-RPC endpoint to read the digest recorded for it from the registry")
	cmd.Flags().StringVar(&o.addresses, "addresses", "", "with --rpc: the deployment's addresses file")
	cmd.Flags().Uint64Var(&o.cycle, "cycle", 0, "with --rpc: the cycle whose record names the bundle (default: the record whose address is the URL)")
	_ = cmd.MarkFlagRequired("keys-from")
	return cmd
}

// pinSource is what an auditor's pins establish (see ceremony.LoadPins, which reads them).
type pinSource struct {
	pins       bundle.Pins
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
	return &pinSource{pins: bundle.Pins(p.VerifyingKeys), trust: p.Trust, transcript: p.TranscriptDigest,
		verified: p.Verified, contributions: p.Contributions, profile: p.Profile, warning: p.Warning}, nil
}

// runVerifyBundle is `solvency verify bundle`: pin the keys, fetch the bundle when it is a URL,
// verify it and print the report.
func runVerifyBundle(ctx context.Context, out, errw io.Writer, o *verifyBundleOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	remote := bundlefetch.IsRemote(o.dir)
	if !remote && (o.digest != "" || o.rpc != "") {
		return exitError(exitBadInput, errors.New("--digest and --rpc go with a bundle URL; a directory is verified as it is"))
	}
	// A pins file needs no bundle and is checked before one is read. A ceremony (or keys)
	// directory is checked against the circuits compiled from source for the bundle's profile,
	// so that profile is read first. The verifier re-reads the manifest and checks it again.
	var ps *pinSource
	if st, err := os.Stat(o.keysFrom); err != nil || !st.IsDir() {
		if ps, err = loadPinsFor(o.keysFrom, "", o.circuits, errw); err != nil {
			return exitError(exitBadInput, fmt.Errorf("--keys-from: %w", err))
		}
	}
	if remote {
		dir, err := fetchBundleArg(ctx, errw, o)
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o2 := *o
		o2.dir = dir
		o = &o2
	}
	if ps == nil {
		var err error
		if ps, err = pinsForBundle(o, errw); err != nil {
			return err
		}
	}
	rep, err := verifyBundleWith(o, ps)
	if err != nil {
		return err
	}
	if o.json {
		if err := writeJSON(out, rep); err != nil {
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

// pinsForBundle reads a ceremony or keys directory's pins for the profile the bundle names.
func pinsForBundle(o *verifyBundleOptions, errw io.Writer) (*pinSource, error) {
	m, _, err := bundle.ReadManifestRaw(o.dir)
	if err != nil {
		return nil, exitError(exitBadInput, err)
	}
	ps, err := loadPinsFor(o.keysFrom, m.Profile, o.circuits, errw)
	if err != nil {
		return nil, exitError(exitBadInput, fmt.Errorf("--keys-from: %w", err))
	}
	return ps, nil
}

// verifyBundleWith verifies the bundle in o.dir under the pins and --policy; a bundle that fails a
// check gives a report, not an error.
func verifyBundleWith(o *verifyBundleOptions, ps *pinSource) (*verifier.Report, error) {
	opt := ps.options()
	opt.Workers = o.workers
	var err error
	if opt.PolicyHash, err = expectedPolicy(o.policy); err != nil {
		return nil, exitError(exitBadInput, err)
	}
	rep, err := verifier.VerifyBundle(o.dir, ps.pins, opt)
	if err != nil {
		// verifier.ErrUnusable and every other error that leaves no report: unusable input.
		return nil, exitError(exitBadInput, err)
	}
	return rep, nil
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

// fetchBundleArg downloads `verify bundle URL` into a temporary directory (the caller removes it),
// trusting no byte before the manifest hashes to the digest from --digest or from the chain.
func fetchBundleArg(ctx context.Context, errw io.Writer, o *verifyBundleOptions) (string, error) {
	shown := redactBundleURL(o.dir)
	var want string
	switch {
	case o.digest != "" && o.rpc != "":
		return "", exitError(exitBadInput, errors.New("give --digest or --rpc, not both"))
	case o.digest != "":
		d, err := bundlefetch.NormalizeDigest(o.digest)
		if err != nil {
			return "", exitError(exitBadInput, fmt.Errorf("--digest: %w", err))
		}
		want = d
	case o.rpc != "":
		if o.addresses == "" {
			return "", exitError(exitBadInput, errors.New("--rpc needs --addresses FILE"))
		}
		d, err := recordedDigest(ctx, o)
		if err != nil {
			return "", err
		}
		want = d
	default:
		return "", exitError(exitBadInput, fmt.Errorf("%s is a URL: give the digest recorded on chain (--digest HEX, or --rpc URL --addresses FILE to read it), so that what is fetched can be checked", shown))
	}
	b, dir, err := bundlefetch.FetchDir(ctx, o.dir, want, bundlefetch.Options{})
	if err != nil {
		var de *bundlefetch.DigestError
		if errors.As(err, &de) {
			return "", exitError(exitInvalid, redactBundleErr(fmt.Errorf("bundle is INVALID: not the bundle with digest %s: %w", want, err), o.dir))
		}
		return "", exitError(exitBadInput, redactBundleErr(fmt.Errorf("fetch the bundle: %w", err), o.dir))
	}
	fmt.Fprintf(errw, "fetched from %s (%d files, %d bytes; manifest sha256 %s as expected)\n", shown, len(b.Files), b.Bytes, b.ManifestSHA256)
	return dir, nil
}

// recordedDigest reads the registry's records and returns the digest of the one that names the
// URL (or of --cycle's record, whose address must then be the URL).
func recordedDigest(ctx context.Context, o *verifyBundleOptions) (string, error) {
	a, err := contracts.ReadAddresses(o.addresses)
	if err != nil {
		return "", exitError(exitBadInput, err)
	}
	cl, err := ethclient.DialContext(ctx, o.rpc)
	if err != nil {
		return "", exitError(exitBadInput, redactErr(fmt.Errorf("connect to %s: %w", redactURL(o.rpc), err), o.rpc))
	}
	defer cl.Close()
	if err := a.CheckChain(ctx, cl); err != nil {
		return "", exitError(exitInvalid, redactErr(err, o.rpc))
	}
	reg, err := a.Bind(cl)
	if err != nil {
		return "", exitError(exitBadInput, err)
	}
	recs, err := reg.Records(ctx)
	if err != nil {
		return "", redactErr(err, o.rpc)
	}
	found := contracts.RecordAtURI(recs, o.dir, o.cycle)
	if found == nil {
		if o.cycle != 0 {
			return "", exitError(exitInvalid, fmt.Errorf("the registry has no record of cycle %d at %s", o.cycle, redactBundleURL(o.dir)))
		}
		return "", exitError(exitInvalid, fmt.Errorf("no record in the registry names %s as its bundle", redactBundleURL(o.dir)))
	}
	return hex.EncodeToString(found.BundleDigest[:]), nil
}

// redactBundleURL names a bundle URL without credentials: the user info and the query (where
// hosts put access tokens) are hidden; the path, which names the digest, is kept.
func redactBundleURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "the bundle URL"
	}
	out := u.Scheme + "://" + u.Host + u.EscapedPath()
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		out += " (credentials, query hidden)"
	}
	return out
}

// redactBundleErr rewrites err's text so that the URL's user info and query do not appear in it
// (Go's HTTP client quotes the whole URL in its errors), keeping the error chain.
func redactBundleErr(err error, raw string) error {
	if err == nil {
		return nil
	}
	u, perr := url.Parse(raw)
	if perr != nil {
		return &redactedError{msg: strings.ReplaceAll(err.Error(), raw, "the bundle URL"), err: err}
	}
	var secrets []string
	if u.User != nil {
		// Go's client shows user:***@ itself; the user name is hidden too.
		secrets = append(secrets, u.User.String()+"@", u.User.Username()+":***@", u.User.String())
	}
	if u.RawQuery != "" {
		secrets = append(secrets, "?"+u.RawQuery, u.RawQuery)
	}
	if u.Fragment != "" {
		secrets = append(secrets, "#"+u.EscapedFragment())
	}
	msg := err.Error()
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "")
	}
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg + " (credentials and query hidden)", err: err}
}
