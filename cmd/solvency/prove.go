package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/consensys/gnark/logger"
	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/liabilities"
	"github.com/solvency-dev/solvency/prover"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/profile"
	"github.com/solvency-dev/solvency/treasury/policy"
	"github.com/solvency-dev/solvency/treasury/portfolio"
	"github.com/solvency-dev/solvency/verifier"
)

// proveOptions are the flags of `solvency prove`.
type proveOptions struct {
	profile        string
	keysDir        string
	assetsFile     string
	accountsFile   string
	liabilitiesDir string
	positionsFile  string
	pricesFile     string
	policyFile     string
	cycle          uint64
	cycleSet       bool
	reservesBlock  uint64
	epoch          uint64
	epochSet       bool
	snapshotTime   int64
	out            string
	force          bool
	provers        int
	noVerify       bool
	json           bool
	queue          queueFlags
}

// Names inside BUNDLE.private (the private directory beside the bundle).
const (
	privateSuffix      = ".private"
	privateLiabilities = "liabilities"        // the snapshot built from --accounts
	privateInputs      = "liabilities.inputs" // digests of what it was built from (reuse on rerun)
	privateProofs      = "batch-proofs"       // batch proof cache (resume)
)
const proveLong = `prove makes one cycle's public bundle. It checks the treasury against the policy with the
native twin first: if any risk limit fails it prints the twin's report, proves nothing, writes no
bundle and exits 1 (a bundle is never written for a false statement; a snapshot built from
--accounts stays in BUNDLE.private for the next run). Otherwise it proves every liabilities batch
(in parallel, resumably), proves the solvency statement, verifies both, and writes BUNDLE
atomically: the manifest (statement, public inputs, batch digests, the tree above the batches,
key digests), the proofs and the verifying keys. BUNDLE holds nothing private.

Private outputs go to BUNDLE.private, beside the bundle and never inside it (mode 0700):

  BUNDLE.private/liabilities/            the snapshot built from --accounts: users' ids, salts and
                                         balances, from which 'liabilities proof' serves each
                                         user's inclusion proof
  BUNDLE.private/liabilities.inputs      digests of the accounts file and build parameters: a rerun
                                         with the same inputs reuses the snapshot
  BUNDLE.private/batch-proofs/           batch proofs as they are made: interrupted (Ctrl-C, kill
                                         -9) and run again with the same arguments, prove resumes
                                         from the batches already proved
  BUNDLE.private/reserves-opening-N.json the opening of the reserves commitment RC, for an auditor
                                         who checks reserves against chain state

With --workers URL the batches are proved by 'solvency worker' processes (on this machine or
others) through a NATS JetStream server: prove queues one task per batch, uploads the batch circuit
and proving key for the workers to fetch by digest, checks every returned proof against its batch
digest before accepting it, and resumes after a crash from what the server and
BUNDLE.private/batch-proofs hold. Tasks carry balances and salts: see docs/scale-out.md.

With --liabilities DIR an existing snapshot (from 'liabilities build') is used as it is.

Keys come from 'solvency setup' (single-party, development only: every output says so) or from a
ceremony ('solvency ceremony finalize'). --profile, when given, must be the keys' profile.

Progress goes to stderr (a bar on a terminal, plain lines otherwise). Exit status: 0 bundle
written, 1 a risk limit fails (no bundle), 2 unusable input or an error.`
const proveExample = `  solvency setup --profile test --out keys
  solvency prove --profile test --keys keys --accounts accounts.csv \
      --policy policy.json --positions positions.json --prices prices.json \
      --cycle 1 --reserves-block 21000000 --out out/cycle-1
  solvency verify bundle out/cycle-1 --keys-from keys     # auditors: pins from outside

  # batches proved by workers ('solvency worker --nats nats://127.0.0.1:4222' on each machine)
  solvency prove --keys keys --liabilities snap --policy policy.json --positions positions.json \
      --prices prices.json --cycle 3 --out out/cycle-3 --workers nats://127.0.0.1:4222

  # reuse a snapshot built by 'liabilities build', JSON summary on stdout
  solvency prove --keys keys --liabilities snap --policy policy.json \
      --positions positions.json --prices prices.json --cycle 2 --out out/cycle-2 --json`

func newProveCmd() *cobra.Command {
	o := &proveOptions{}
	cmd := &cobra.Command{
		Use:     "prove --keys KEYS --policy F --positions F --prices F (--accounts CSV | --liabilities DIR) --cycle N --out BUNDLE",
		Short:   "Prove a cycle: every liabilities batch and the solvency statement, into a public bundle",
		Long:    proveLong,
		Example: proveExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// gnark logs every proof to stdout, which must carry only the result (--json).
			logger.Disable()
			o.cycleSet = cmd.Flags().Changed("cycle")
			o.epochSet = cmd.Flags().Changed("epoch")
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runProve(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.profile, "profile", "", fmt.Sprintf("circuit profile %v; must match the keys (default: the keys' profile)", profile.Names()))
	f.StringVar(&o.keysDir, "keys", "", "keys directory from 'setup' or a ceremony (required)")
	f.StringVar(&o.assetsFile, "assets", "", "asset table JSON (optional: the policy carries the table; when given, it must be the same)")
	f.StringVar(&o.accountsFile, "accounts", "", "accounts CSV: the liabilities snapshot is built from it into BUNDLE.private")
	f.StringVar(&o.liabilitiesDir, "liabilities", "", "an existing snapshot directory from 'liabilities build' (instead of --accounts)")
	f.StringVar(&o.positionsFile, "positions", "", "treasury positions file (required)")
	f.StringVar(&o.pricesFile, "prices", "", "oracle prices file (required)")
	f.StringVar(&o.policyFile, "policy", "", "governance policy file (required)")
	f.Uint64Var(&o.cycle, "cycle", 0, "the cycle number the statement attests (required)")
	f.Uint64Var(&o.reservesBlock, "reserves-block", 0, "the block at which the reserves are claimed")
	f.Uint64Var(&o.epoch, "epoch", 0, "the snapshot's epoch when building from --accounts (default: the cycle)")
	f.Int64Var(&o.snapshotTime, "snapshot-time", 0, "unix seconds at which the balances were taken, when building from --accounts (default: now, kept on rerun)")
	f.StringVar(&o.out, "out", "", "bundle directory to create (required)")
	f.BoolVar(&o.force, "force", false, "replace BUNDLE if it exists (once the new one is complete)")
	f.IntVar(&o.provers, "provers", 0, "batch proofs run at once (default: half the CPUs, at least 1)")
	f.BoolVar(&o.noVerify, "no-verify", false, "skip verifying the written bundle (each proof is still checked as it is made)")
	f.BoolVar(&o.json, "json", false, "print a JSON summary on stdout (and, with --workers, progress as JSON lines on stderr)")
	addQueueFlags(cmd, &o.queue)
	return cmd
}

// proveResult is `prove --json`'s output. Field names are stable.
type proveResult struct {
	Bundle         string           `json:"bundle"`
	Private        string           `json:"private"`
	Profile        string           `json:"profile"`
	Trust          string           `json:"trust"`
	TrustLine      string           `json:"trust_line"`
	Warning        string           `json:"warning,omitempty"`
	Cycle          uint64           `json:"cycle"`
	ReservesBlock  uint64           `json:"reserves_block"`
	SnapshotEpoch  uint64           `json:"snapshot_epoch"`
	SnapshotTime   uint64           `json:"snapshot_time"`
	SnapshotReused bool             `json:"snapshot_reused"`
	Batches        int              `json:"batches"`
	BatchSize      int              `json:"batch_size"`
	BatchesResumed int              `json:"batches_resumed"`
	PolicyHash     string           `json:"policy_hash"`
	LC             string           `json:"lc"`
	RC             string           `json:"rc"`
	Verified       bool             `json:"verified"`
	BatchSeconds   float64          `json:"batch_seconds"`
	SolvencySecs   float64          `json:"solvency_seconds"`
	Seconds        float64          `json:"seconds"`
	Report         *solvency.Report `json:"report"`
}

// proveRefusal is `prove --json`'s output when a limit fails.
type proveRefusal struct {
	Refused bool             `json:"refused"`
	Reason  string           `json:"reason"`
	Report  *solvency.Report `json:"report"`
}

// proveInputs records what a snapshot in BUNDLE.private was built from.
type proveInputs struct {
	AccountsSHA256 string `json:"accounts_sha256"`
	AssetsHash     string `json:"assets_hash"`
	Epoch          uint64 `json:"epoch"`
	BatchHeight    int    `json:"batch_height"`
	SnapshotTime   uint64 `json:"snapshot_time"`
}

func runProve(ctx context.Context, o *proveOptions, stdout, stderr io.Writer) error {
	start := time.Now()
	out, private, err := o.paths()
	if err != nil {
		return exitError(exitBadInput, err)
	}
	prog := newProgressPrinter(stderr)
	k, err := loadProveKeys(o, stderr, prog)
	if err != nil {
		return err
	}
	prof := k.Meta.Profile
	tr, err := portfolio.LoadTreasury(portfolio.TreasuryFiles{Policy: o.policyFile, Positions: o.positionsFile, Prices: o.pricesFile, Assets: o.assetsFile}, &prof)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	store, reused, err := openProveLiabilities(ctx, o, prof, tr.Table, private, prog)
	if err != nil {
		return err
	}
	defer store.Close()

	resumed := -1
	req := newCycleRequest(o, k, store, tr, out, private, prog, &resumed)
	bp, closeConn, err := proveQueue(o, k, req, private, stderr, prog)
	if err != nil {
		return err
	}
	defer closeConn()
	pub := store.Public()
	prog.line("checking every limit with the twin, then proving %d batches of %d accounts and the solvency statement (cycle %d)", pub.Batches, pub.BatchSize, o.cycle)
	res, err := prover.ProveCycle(ctx, req)
	var le *prover.LimitsError
	switch {
	case errors.As(err, &le):
		return proveRefused(stdout, o, tr.Policy, le)
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("interrupted; batches proved so far are kept in %s: run the same command again to resume", filepath.Join(private, privateProofs))
	case err != nil:
		return fmt.Errorf("prove: %w", err)
	}
	if bp != nil {
		resumed = bp.Resumed
	}
	prog.line("bundle written to %s", out)
	verified, err := verifyProvedBundle(o, k, out, prog)
	if err != nil {
		return err
	}
	r := newProveResult(o, k, res, pub, out, private, reused, resumed, verified, start)
	if k.Meta.Trust != keys.TrustCeremony {
		fmt.Fprintln(stderr, keys.DevWarning)
	}
	if o.json {
		return writeJSON(stdout, r)
	}
	printProveResult(stdout, o, &r)
	return nil
}

// paths validates the options and returns the bundle and private directories, refusing an
// existing bundle before any work (WriteBundle checks again at the end).
func (o *proveOptions) paths() (out, private string, err error) {
	if err := o.validate(); err != nil {
		return "", "", err
	}
	out = filepath.Clean(o.out)
	if _, err := os.Stat(out); err == nil && !o.force {
		return "", "", fmt.Errorf("%s already exists; choose another --out or pass --force", out)
	}
	return out, out + privateSuffix, nil
}

// proveQueue sends the batches to workers when --workers is given; closeConn is always set.
func proveQueue(o *proveOptions, k *keys.Keys, req *prover.CycleRequest, private string, stderr io.Writer, prog *progressPrinter) (*batchProgress, func(), error) {
	if o.queue.url == "" {
		return nil, func() {}, nil
	}
	coord, bp, closeConn, err := queueBackend(&o.queue, k, private, o.json, stderr)
	if err != nil {
		return nil, nil, err
	}
	req.Batches = coord
	prog.line("batches go to workers through %s", o.queue.url)
	return bp, closeConn, nil
}

// loadProveKeys loads the keys, checks --profile against them and warns about development keys.
func loadProveKeys(o *proveOptions, stderr io.Writer, prog *progressPrinter) (*keys.Keys, error) {
	k, err := keys.Load(o.keysDir)
	if err != nil {
		return nil, exitError(exitBadInput, fmt.Errorf("--keys: %w (make keys with 'solvency setup --profile NAME --out DIR', or use a ceremony's)", err))
	}
	prof := k.Meta.Profile
	if o.profile != "" && o.profile != prof.Name {
		return nil, exitError(exitBadInput, fmt.Errorf("--profile %s, but the keys in %s are for profile %s (leave --profile out: the keys say it)", o.profile, o.keysDir, prof.Name))
	}
	if k.Meta.Trust != keys.TrustCeremony {
		fmt.Fprintln(stderr, keys.DevWarning)
	}
	prog.line("keys: profile %s; %s", prof.Name, k.Meta.TrustLine())
	return k, nil
}

// newCycleRequest is the prover's request; *resumed records how many batches were proved before
// this run (the first progress report).
func newCycleRequest(o *proveOptions, k *keys.Keys, store *liabilities.Store, tr *portfolio.Treasury, out, private string, prog *progressPrinter, resumed *int) *prover.CycleRequest {
	req := &prover.CycleRequest{
		Keys: k, Store: store, ProofDir: filepath.Join(private, privateProofs),
		Policy: tr.Canonical, Positions: tr.Positions, Prices: tr.StatementPrices(),
		Cycle: o.cycle, ReservesBlock: o.reservesBlock,
		Out: out, PrivateOut: private, Replace: o.force, Provers: o.provers,
		BatchProgress: func(done, total int) {
			if *resumed < 0 {
				*resumed = done
				if done > 0 {
					prog.line("resuming: %d of %d batches already proved in %s", done, total, filepath.Join(private, privateProofs))
				}
			}
			prog.update("proving batches", done, total)
		},
	}
	if tr.Derivatives != nil {
		req.Options, req.Pools = tr.Derivatives.Options, tr.Derivatives.Pools
	}
	return req
}

// verifyProvedBundle verifies the written bundle against the keys' own digests (unless
// --no-verify); a failure here is a bug, not bad input.
func verifyProvedBundle(o *proveOptions, k *keys.Keys, out string, prog *progressPrinter) (bool, error) {
	if o.noVerify {
		return false, nil
	}
	pins := bundle.Pins{}
	for name, c := range k.Circuits {
		pins[name] = c.Info.VKDigest
	}
	rep, err := verifier.VerifyBundle(out, pins, verifier.Options{TranscriptDigest: k.Meta.TranscriptDigest()})
	if err != nil {
		return false, fmt.Errorf("verify the written bundle: %w", err)
	}
	if f := rep.Failed(); f != nil {
		return false, fmt.Errorf("the written bundle does not verify (a bug): %s: %s", f.Name, f.Detail)
	}
	prog.line("bundle verified against the keys' own digests")
	return true, nil
}

func newProveResult(o *proveOptions, k *keys.Keys, res *prover.CycleResult, pub *liabilities.Public, out, private string, reused bool, resumed int, verified bool, start time.Time) proveResult {
	st := res.Manifest.Statement
	r := proveResult{
		Bundle: out, Private: private, Profile: k.Meta.Profile.Name, Trust: string(k.Meta.Trust), TrustLine: k.Meta.TrustLine(),
		Cycle: st.Cycle, ReservesBlock: st.ReservesBlock, SnapshotEpoch: st.SnapshotEpoch, SnapshotTime: st.SnapshotTime,
		SnapshotReused: reused, Batches: pub.Batches, BatchSize: pub.BatchSize, BatchesResumed: max(resumed, 0),
		PolicyHash: poseidon.Hex(st.PolicyHash.Element), LC: poseidon.Hex(st.LC.Element), RC: poseidon.Hex(st.RC.Element),
		Verified: verified, BatchSeconds: res.BatchSeconds, SolvencySecs: res.SolvencySecs,
		Seconds: time.Since(start).Seconds(), Report: res.Report,
	}
	if k.Meta.Trust != keys.TrustCeremony {
		r.Warning = keys.DevWarning
	}
	return r
}

func printProveResult(stdout io.Writer, o *proveOptions, r *proveResult) {
	fmt.Fprintf(stdout, "cycle %d proved: bundle %s\n", r.Cycle, r.Bundle)
	fmt.Fprintf(stdout, "  keys        profile %s: %s\n", r.Profile, r.TrustLine)
	fmt.Fprintf(stdout, "  liabilities %d batches of %d (epoch %d, %d proved earlier), snapshot %s\n",
		r.Batches, r.BatchSize, r.SnapshotEpoch, r.BatchesResumed, snapshotHow(o, r.SnapshotReused))
	fmt.Fprintf(stdout, "  policy      %s\n  LC          %s\n  RC          %s\n", r.PolicyHash, r.LC, r.RC)
	fmt.Fprintf(stdout, "  time        %.1fs (batches %.1fs, solvency %.1fs)\n", r.Seconds, r.BatchSeconds, r.SolvencySecs)
	if r.Verified {
		fmt.Fprintf(stdout, "  verified    yes, against the keys' own digests; auditors pin digests from outside the bundle\n")
	}
	fmt.Fprintf(stdout, "  private     %s (keep secret: users' proofs, the RC opening; never publish)\n", r.Private)
	if r.Warning != "" {
		fmt.Fprintf(stdout, "%s\n", r.Warning)
	}
}

func snapshotHow(o *proveOptions, reused bool) string {
	switch {
	case o.liabilitiesDir != "":
		return "from " + o.liabilitiesDir
	case reused:
		return "reused from an earlier run"
	default:
		return "built from " + o.accountsFile
	}
}

func (o *proveOptions) validate() error {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"--keys", o.keysDir}, {"--policy", o.policyFile}, {"--positions", o.positionsFile},
		{"--prices", o.pricesFile}, {"--out", o.out},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if !o.cycleSet {
		missing = append(missing, "--cycle")
	}
	if len(missing) > 0 {
		return fmt.Errorf("prove needs %s", strings.Join(missing, ", "))
	}
	switch {
	case o.accountsFile == "" && o.liabilitiesDir == "":
		return errors.New("prove needs --accounts CSV or --liabilities DIR")
	case o.accountsFile != "" && o.liabilitiesDir != "":
		return errors.New("give one of --accounts and --liabilities")
	case o.liabilitiesDir != "" && (o.epochSet || o.snapshotTime != 0):
		return errors.New("--epoch and --snapshot-time apply to a snapshot built from --accounts; --liabilities DIR has its own")
	case o.snapshotTime < 0 || o.snapshotTime > liabilities.MaxSnapshotTime:
		return fmt.Errorf("--snapshot-time %d: want unix seconds below 2^40", o.snapshotTime)
	case o.provers < 0:
		return fmt.Errorf("--provers %d: want 0 (automatic) or more", o.provers)
	}
	if !o.epochSet {
		o.epoch = o.cycle
	}
	// The private directory sits beside the bundle; a bundle inside another bundle's private
	// directory (or the reverse) would mix public and private files.
	clean := filepath.Clean(o.out)
	if clean == "." || clean == "/" || strings.HasSuffix(clean, privateSuffix) {
		return fmt.Errorf("--out %q: name a new bundle directory (not ending in %s)", o.out, privateSuffix)
	}
	return nil
}

// openProveLiabilities opens the snapshot: --liabilities as given, or the one built from
// --accounts in BUNDLE.private, reused when its recorded inputs match.
func openProveLiabilities(ctx context.Context, o *proveOptions, prof profile.Profile, table *assets.Table, private string, prog *progressPrinter) (*liabilities.Store, bool, error) {
	if o.liabilitiesDir != "" {
		st, err := liabilities.Open(o.liabilitiesDir)
		if err != nil {
			return nil, false, exitError(exitBadInput, fmt.Errorf("--liabilities: %w", err))
		}
		if err := checkProveSnapshot(st, o.liabilitiesDir, prof, table); err != nil {
			st.Close()
			return nil, false, err
		}
		return st, false, nil
	}
	csv, err := boundedfile.ReadFile(o.accountsFile, boundedfile.CSV)
	if err != nil {
		return nil, false, exitError(exitBadInput, fmt.Errorf("--accounts: %w", err))
	}
	sum := sha256.Sum256(csv)
	want := proveInputs{AccountsSHA256: hex.EncodeToString(sum[:]), AssetsHash: poseidon.Hex(table.Hash(poseidon.NewHasher())),
		Epoch: o.epoch, BatchHeight: prof.BatchHeight, SnapshotTime: uint64(o.snapshotTime)}
	if err := os.MkdirAll(private, 0o700); err != nil {
		return nil, false, fmt.Errorf("create private directory: %w", err)
	}
	st, err := reuseProveSnapshot(private, &want, prof, table, prog)
	if st != nil || err != nil {
		return st, st != nil, err
	}
	if want.SnapshotTime == 0 {
		want.SnapshotTime = uint64(time.Now().Unix())
	}
	st, err = buildProveSnapshot(ctx, o.accountsFile, private, want, table, prog)
	return st, false, err
}

// checkProveSnapshot refuses a snapshot of another asset table or batch height than the proof's.
func checkProveSnapshot(st *liabilities.Store, dir string, prof profile.Profile, table *assets.Table) error {
	h := poseidon.NewHasher()
	pub := st.Public()
	if pub.Table().Hash(h) != table.Hash(h) {
		return exitError(exitBadInput, fmt.Errorf("%s uses another asset table than the policy", dir))
	}
	if pub.BatchHeight != prof.BatchHeight {
		return exitError(exitBadInput, fmt.Errorf("%s has batches of height %d; profile %s proves height %d (B = %d)", dir, pub.BatchHeight, prof.Name, prof.BatchHeight, prof.BatchSize()))
	}
	return nil
}

// reuseProveSnapshot opens the snapshot in private when it was built from the same inputs (nil
// when there is none to reuse). An unset snapshot time in want takes the first build's.
func reuseProveSnapshot(private string, want *proveInputs, prof profile.Profile, table *assets.Table, prog *progressPrinter) (*liabilities.Store, error) {
	prev, ok := readProveInputs(filepath.Join(private, privateInputs))
	if !ok {
		return nil, nil
	}
	if want.SnapshotTime == 0 {
		want.SnapshotTime = prev.SnapshotTime // default "now" means: the time of the first build
	}
	if prev != *want {
		return nil, nil
	}
	snapDir := filepath.Join(private, privateLiabilities)
	st, err := liabilities.Open(snapDir)
	if err != nil {
		return nil, nil // unreadable: built again
	}
	if err := checkProveSnapshot(st, snapDir, prof, table); err != nil {
		st.Close()
		return nil, err
	}
	prog.line("reusing the liabilities snapshot in %s (same accounts and parameters)", snapDir)
	return st, nil
}

// buildProveSnapshot builds the snapshot from the accounts CSV into private, clears batch proofs
// of an older snapshot, and records the inputs it was built from.
func buildProveSnapshot(ctx context.Context, accountsFile, private string, want proveInputs, table *assets.Table, prog *progressPrinter) (*liabilities.Store, error) {
	prog.line("reading %s", accountsFile)
	accounts, err := liabilities.ReadAccounts(accountsFile, table)
	if err != nil {
		return nil, exitError(exitBadInput, err)
	}
	prog.line("building the liabilities snapshot: %d accounts over %d assets", len(accounts), table.Len())
	snap, err := liabilities.Build(ctx, table, accounts, liabilities.BuildOptions{
		Epoch: want.Epoch, SnapshotTime: want.SnapshotTime, Height: want.BatchHeight, Progress: prog.update,
	})
	if err != nil {
		return nil, exitError(exitBadInput, fmt.Errorf("build liabilities: %w", err))
	}
	// A new snapshot has new salts and digests: proofs cached for an older one are useless.
	if err := os.RemoveAll(filepath.Join(private, privateProofs)); err != nil {
		return nil, fmt.Errorf("clear stale batch proofs: %w", err)
	}
	inputsPath := filepath.Join(private, privateInputs)
	if err := os.Remove(inputsPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	snapDir := filepath.Join(private, privateLiabilities)
	if err := snap.WriteDir(snapDir, true, prog.update); err != nil {
		return nil, fmt.Errorf("write liabilities snapshot: %w", err)
	}
	b, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(inputsPath, append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	st, err := liabilities.Open(snapDir)
	if err != nil {
		return nil, fmt.Errorf("open the new snapshot: %w", err)
	}
	return st, nil
}

func readProveInputs(path string) (proveInputs, bool) {
	var in proveInputs
	b, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return in, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, false
	}
	return in, true
}

// proveRefused prints the twin's report of a failing treasury and exits 1.
func proveRefused(stdout io.Writer, o *proveOptions, pf *policy.File, le *prover.LimitsError) error {
	failed := failedLimits(le.Report)
	reason := fmt.Sprintf("%d risk limit(s) fail: %s; no bundle written, nothing proved", len(failed), strings.Join(failed, ", "))
	if o.json {
		if err := writeJSON(stdout, proveRefusal{Refused: true, Reason: reason, Report: le.Report}); err != nil {
			return err
		}
	} else if err := printRisk(stdout, pf, le.Report); err != nil {
		return err
	}
	return exitError(exitInvalid, errors.New(reason))
}
