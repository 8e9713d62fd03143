package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/liabilities"
)

// newLiabilitiesCmd groups the liabilities snapshot commands.
func newLiabilitiesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "liabilities",
		Short: "Build the liabilities tree and serve users' inclusion proofs",
		Long: `liabilities turns a snapshot of users' balances (an accounts CSV) into the liabilities
tree: each account gets a fresh salt and a secretly shuffled leaf position, batches of 8^h
accounts are hashed with Poseidon2, a salted running-sum chain hides every sum, and the snapshot
is summarised by its liabilities commitment LC.

A snapshot directory has two parts: public/liabilities.json (publish it: root, LC and its
preimage, the tree above the batches) and private/ (keep it secret: every user's id, salt and
balances, from which 'liabilities proof' serves one user's inclusion proof at a time).`,
	}
	cmd.AddCommand(newLiabilitiesBuildCmd(), newLiabilitiesProofCmd())
	return cmd
}

type liabilitiesBuildOptions struct {
	assetsFile   string
	accountsFile string
	out          string
	epoch        uint64
	height       int
	snapshotTime int64
	force        bool
	json         bool
}

const liabilitiesBuildLong = `build parses the accounts CSV (header account_id,<SYMBOL>,...; symbols from the asset
table in any order, a missing column means zero; plain decimal amounts, rounded up into circuit
units). Any bad row is reported as FILE:LINE:COLUMN (the CSV field number) and nothing is
written (exit 2).

It then builds the tree and writes DIR: complete or not at all (built in a temporary sibling and
renamed into place). DIR must not exist unless --force is given.

  DIR/public/liabilities.json   epoch, snapshot time, asset table and assetsHash, h, B, n, D,
                                root, accFinal, LC, the top tree; nothing about any account
  DIR/private/                  the store: accounts, leaves, index, batch openings (mode 0700)

Progress goes to stderr. The build is randomised (salts, leaf order) and not reproducible, by
design.`

func newLiabilitiesBuildCmd() *cobra.Command {
	var o liabilitiesBuildOptions
	cmd := &cobra.Command{
		Use:   "build --assets FILE --accounts FILE --out DIR",
		Short: "Build a liabilities snapshot from an accounts CSV",
		Long:  liabilitiesBuildLong,
		Example: `  solvency liabilities build --assets testdata/assets.json --accounts accounts.csv --out snap
  solvency liabilities build --assets testdata/assets.json --accounts accounts.csv --out snap \
      --epoch 42 --batch-height 2 --snapshot-time 1764000000 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLiabilitiesBuild(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.assetsFile, "assets", "", "asset table JSON (required)")
	f.StringVar(&o.accountsFile, "accounts", "", "accounts CSV (required)")
	f.StringVar(&o.out, "out", "", "snapshot directory to create (required)")
	f.Uint64Var(&o.epoch, "epoch", 1, "the snapshot's epoch, bound into every commitment")
	f.IntVar(&o.height, "batch-height", liabilities.DefaultHeight, "batch height h: each batch proof covers B = 8^h accounts")
	f.Int64Var(&o.snapshotTime, "snapshot-time", 0, "unix seconds at which the balances were taken (default: now)")
	f.BoolVar(&o.force, "force", false, "replace DIR if it exists (only once the new snapshot is complete)")
	f.BoolVar(&o.json, "json", false, "print a JSON summary on stdout")
	for _, name := range []string{"assets", "accounts", "out"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

// buildSummary is `liabilities build --json`'s output. It names the number of real accounts,
// which is the operator's to know and is not in the public file.
type buildSummary struct {
	Dir            string  `json:"dir"`
	Public         string  `json:"public"`
	Epoch          uint64  `json:"epoch"`
	SnapshotTime   uint64  `json:"snapshot_time"`
	Accounts       int     `json:"accounts"`
	BatchHeight    int     `json:"batch_height"`
	BatchSize      int     `json:"batch_size"`
	Batches        int     `json:"batches"`
	Depth          int     `json:"depth"`
	AssetsHash     string  `json:"assets_hash"`
	Root           string  `json:"root"`
	AccFinal       string  `json:"acc_final"`
	LC             string  `json:"lc"`
	Seconds        float64 `json:"seconds"`
	AccountsPerSec float64 `json:"accounts_per_second"`
}

func runLiabilitiesBuild(ctx context.Context, o liabilitiesBuildOptions, stdout, stderr io.Writer) error {
	start := time.Now()
	if o.height < 1 {
		return exitError(exitBadInput, fmt.Errorf("--batch-height %d: want at least 1", o.height))
	}
	st := o.snapshotTime
	if st == 0 {
		st = start.Unix()
	}
	if st < 0 || st > liabilities.MaxSnapshotTime {
		return exitError(exitBadInput, fmt.Errorf("--snapshot-time %d: want unix seconds below 2^40", st))
	}
	// Refuse an existing DIR before the expensive work; atomicfile.Dir checks again at the end.
	if _, err := os.Stat(o.out); err == nil && !o.force {
		return exitError(exitBadInput, fmt.Errorf("%s already exists; choose another --out or pass --force", o.out))
	}
	table, err := assets.Load(o.assetsFile)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	prog := newProgressPrinter(stderr)
	prog.line("reading %s", o.accountsFile)
	accounts, err := liabilities.ReadAccounts(o.accountsFile, table)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	prog.line("%d accounts over %d assets", len(accounts), table.Len())
	snap, err := liabilities.Build(ctx, table, accounts, liabilities.BuildOptions{
		Epoch: o.epoch, SnapshotTime: uint64(st), Height: o.height, Progress: prog.update,
	})
	if err != nil {
		return exitError(exitBadInput, err)
	}
	if err := snap.WriteDir(o.out, o.force, prog.update); err != nil {
		return err
	}
	prog.done()
	sum := newBuildSummary(o.out, snap, time.Since(start))
	if o.json {
		return writeJSON(stdout, sum)
	}
	printBuildSummary(stdout, sum)
	return nil
}

func newBuildSummary(dir string, snap *liabilities.Snapshot, elapsed time.Duration) buildSummary {
	pub := snap.Public()
	return buildSummary{
		Dir:            dir,
		Public:         filepath.Join(dir, liabilities.PublicFile),
		Epoch:          pub.Epoch,
		SnapshotTime:   pub.SnapshotTime,
		Accounts:       snap.Accounts,
		BatchHeight:    pub.BatchHeight,
		BatchSize:      pub.BatchSize,
		Batches:        pub.Batches,
		Depth:          pub.Depth,
		AssetsHash:     poseidon.Hex(pub.AssetsHash.Fr()),
		Root:           poseidon.Hex(pub.Root.Fr()),
		AccFinal:       poseidon.Hex(pub.AccFinal.Fr()),
		LC:             poseidon.Hex(pub.LC.Fr()),
		Seconds:        elapsed.Seconds(),
		AccountsPerSec: float64(snap.Accounts) / elapsed.Seconds(),
	}
}

func printBuildSummary(out io.Writer, sum buildSummary) {
	fmt.Fprintf(out, "liabilities snapshot written to %s\n", sum.Dir)
	fmt.Fprintf(out, "  epoch %d, balances taken at %s\n", sum.Epoch, time.Unix(int64(sum.SnapshotTime), 0).UTC().Format(time.RFC3339))
	fmt.Fprintf(out, "  %d accounts in %d batches of %d (h=%d), tree depth %d\n", sum.Accounts, sum.Batches, sum.BatchSize, sum.BatchHeight, sum.Depth)
	fmt.Fprintf(out, "  root %s\n  LC   %s\n", sum.Root, sum.LC)
	fmt.Fprintf(out, "  publish %s; keep %s secret\n", sum.Public, filepath.Join(sum.Dir, liabilities.PrivateDir))
	fmt.Fprintf(out, "  %.1fs, %.0f accounts/s\n", sum.Seconds, sum.AccountsPerSec)
}

type liabilitiesProofOptions struct {
	dir     string
	account string
	out     string
}

func newLiabilitiesProofCmd() *cobra.Command {
	var o liabilitiesProofOptions
	cmd := &cobra.Command{
		Use:   "proof --dir DIR --account ID",
		Short: "Print one account's inclusion proof from a snapshot's private store",
		Long: `proof looks the account up in DIR's private store (a binary search, no rebuild), computes
its path and prints the inclusion proof file: the account id, salt and balances, the leaf index,
exactly D levels of 7 siblings, and everything it is checked against (epoch, snapshot time,
asset table and assetsHash, h, n, D, root, accFinal, LC). The proof is checked against the
snapshot's root before it is printed.

The file holds the account's salt and balances: give it to that user only. Exit 1 when the
account is not in the snapshot.`,
		Example: `  solvency liabilities proof --dir snap --account user-0000123
  solvency liabilities proof --dir snap --account user-0000123 --out proof.json
  solvency verify inclusion --proof proof.json --account user-0000123 --rpc URL --addresses addresses.json --keys-from pins.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLiabilitiesProof(cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dir, "dir", "", "snapshot directory written by 'liabilities build' (required)")
	f.StringVar(&o.account, "account", "", "account id, exactly as in the accounts CSV (required)")
	f.StringVar(&o.out, "out", "", "write the proof to this file (mode 0600) instead of stdout")
	for _, name := range []string{"dir", "account"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func runLiabilitiesProof(stdout io.Writer, o liabilitiesProofOptions) error {
	st, err := liabilities.Open(o.dir)
	if err != nil {
		// prove keeps its snapshot one level down, in BUNDLE.private/liabilities.
		if inner := filepath.Join(o.dir, privateLiabilities); dirExists(inner) {
			err = fmt.Errorf("%w (the snapshot 'prove' built is in %s: give --dir %s)", err, inner, inner)
		}
		return exitError(exitBadInput, err)
	}
	defer st.Close()
	p, err := st.Proof(o.account)
	if errors.Is(err, liabilities.ErrNotFound) {
		return exitError(exitInvalid, err)
	}
	if err != nil {
		return err
	}
	raw, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	raw = append(raw, '\n')
	if o.out == "" {
		_, err = stdout.Write(raw)
		return err
	}
	if err := atomicfile.WriteFile(o.out, raw, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "inclusion proof for %q written to %s\n", o.account, o.out)
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// progressPrinter shows build progress on stderr: a redrawn bar on a terminal, plain lines
// (at most one per stage every two seconds, and each stage's end) otherwise, so that logs stay
// readable.
type progressPrinter struct {
	w        io.Writer
	terminal bool
	mu       sync.Mutex
	stage    string
	last     time.Time
	start    time.Time
	drawn    bool
}

func newProgressPrinter(w io.Writer) *progressPrinter {
	p := &progressPrinter{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progressPrinter) line(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endBar()
	fmt.Fprintf(p.w, "%6.1fs  %s\n", time.Since(p.start).Seconds(), fmt.Sprintf(format, args...))
}

func (p *progressPrinter) endBar() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// update is a liabilities progress callback.
func (p *progressPrinter) update(stage string, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	newStage := stage != p.stage
	finished := done >= total
	if p.terminal {
		if !newStage && !finished && now.Sub(p.last) < 100*time.Millisecond {
			return
		}
		p.last = now
		if newStage {
			p.endBar()
			p.stage = stage
		}
		const width = 30
		fill := 0
		if total > 0 {
			fill = width * done / total
		}
		fmt.Fprintf(p.w, "\r%6.1fs  %-16s [%s%s] %d/%d", now.Sub(p.start).Seconds(), stage,
			strings.Repeat("#", fill), strings.Repeat(".", width-fill), done, total)
		p.drawn = true
		return
	}
	if newStage {
		p.stage = stage
		p.last = now
		fmt.Fprintf(p.w, "%6.1fs  %s: %d items\n", now.Sub(p.start).Seconds(), stage, total)
		return
	}
	if finished || now.Sub(p.last) >= 2*time.Second {
		p.last = now
		fmt.Fprintf(p.w, "%6.1fs  %s: %d/%d\n", now.Sub(p.start).Seconds(), stage, done, total)
	}
}

func (p *progressPrinter) done() {
	p.line("done")
}

func dirExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
