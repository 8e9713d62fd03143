package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/consensys/gnark/logger"
	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/bench"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/prover/profile"
)

// benchOptions are the flags of `solvency bench`.
type benchOptions struct {
	profile  string
	users    int
	assets   int
	batch    int
	seed     uint64
	provers  int
	workers  int
	verifyW  int
	cores    int
	queue    bool
	dir      string
	cacheDir string
	noCache  bool
	gas      bool
	json     bool
}

const benchLong = `bench generates a cycle (N accounts over A assets from the liabilities generator, a policy
and positions that pass every limit it enables), then runs the whole pipeline and reports what
each step cost: the circuits' constraints (per account for the batch circuit), a single-party
setup, building the liabilities snapshot, proving every batch (accounts per second), proving the
solvency statement, verifying the bundle as an auditor does, peak memory, and proof and key sizes.

The circuit shape is --profile's with --assets and --batch (a power of 8) overriding its asset
count and batch size, so the keys are made for exactly the measured shape. The machine (CPU
model, cores, GOARCH) and its load average before and after are part of the report: compare
figures only between runs on the same machine with similar load.

--queue proves the batches four times more: in this process, twice through an embedded NATS
JetStream server with as many local workers as in-process provers, then in this process again,
and reports the queue's overhead on wall time and on CPU time (the means of like passes, so a
load that drifts during the comparison weighs on both sides). --workers N then proves them once more with N 'solvency worker' processes of
--worker-cores cores each over loopback TCP, which fetch the circuit and key from the server.

--gas also measures the gas of publishing the statement to the registry on a simulated chain
(needs solc; see 'solvency contracts').

The JSON fields are stable and documented in docs/bench.md.`

func newBenchCmd() *cobra.Command {
	o := &benchOptions{}
	cmd := &cobra.Command{
		Use:   "bench --users N --assets A --batch B",
		Short: "Measure setup, proving and verification on generated data",
		Long:  benchLong,
		Example: `  solvency bench --users 10000 --assets 8 --batch 512
  solvency bench --users 200 --assets 2 --batch 8 --profile test --json
  solvency bench --users 100000 --assets 8 --batch 512 --json > bench.json
  solvency bench --users 10000 --workers 2 --worker-cores 1   # queue overhead and 2 workers`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// gnark logs every proof to stdout, which must carry only the report (--json).
			logger.Disable()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runBench(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.profile, "profile", "production", fmt.Sprintf("base circuit profile %v", profile.Names()))
	f.IntVar(&o.users, "users", 10000, "number of generated accounts")
	f.IntVar(&o.assets, "assets", 0, "number of assets A (default: the profile's; production has 8)")
	f.IntVar(&o.batch, "batch", 0, "accounts per batch B, a power of 8 (default: the profile's; production has 512)")
	f.Uint64Var(&o.seed, "seed", 1, "seed of the generated accounts")
	f.IntVar(&o.provers, "provers", 0, "batch proofs run at once (default: half the CPUs, at least 1)")
	f.IntVar(&o.verifyW, "verify-workers", 0, "parallel proof verifications (default: number of CPUs)")
	f.BoolVar(&o.queue, "queue", false, "also prove the batches through an embedded NATS JetStream server with local workers, beside in-process proving (the queue's overhead)")
	f.IntVar(&o.workers, "workers", 0, "also prove the batches with this many 'solvency worker' processes on this machine through JetStream (implies --queue)")
	f.IntVar(&o.cores, "worker-cores", 1, "cores each worker process proves with")
	f.StringVar(&o.dir, "dir", "", "work directory to keep (default: a temporary one, removed)")
	f.StringVar(&o.cacheDir, "cache", "", "compiled-circuit cache directory (default: $SOLVENCY_CACHE/circuits or the user cache)")
	f.BoolVar(&o.noCache, "no-cache", false, "compile the circuits without reading or writing the cache")
	f.BoolVar(&o.gas, "gas", false, "also measure the registry's publish gas on a simulated chain (needs solc)")
	f.BoolVar(&o.json, "json", false, "print the report as JSON on stdout")
	return cmd
}

// benchReport is `bench --json`'s output: the measurements, plus publish gas when asked for.
type benchReport struct {
	*bench.Result
	PublishGas *contracts.GasReport `json:"publish_gas,omitempty"`
}

// benchProfile is the base profile with the asset count and batch size the flags ask for.
func benchProfile(o *benchOptions) (profile.Profile, error) {
	p, err := profile.Lookup(o.profile)
	if err != nil {
		return p, err
	}
	if o.assets != 0 {
		p.Assets = o.assets
	}
	if o.batch != 0 {
		h, b := 0, 1
		for b < o.batch {
			b *= 8
			h++
		}
		if b != o.batch || h < 1 {
			return p, fmt.Errorf("--batch %d: want a power of 8, at least 8", o.batch)
		}
		p.BatchHeight = h
	}
	if p.Positions < p.Assets {
		p.Positions = p.Assets
	}
	base, _ := profile.Lookup(o.profile)
	if p != base {
		p.Name = fmt.Sprintf("%s-a%d-b%d", base.Name, p.Assets, p.BatchSize())
		p.Description = fmt.Sprintf("bench: profile %s with %d assets and batches of %d", base.Name, p.Assets, p.BatchSize())
	}
	return p, p.Validate()
}

func runBench(ctx context.Context, o *benchOptions, stdout, stderr io.Writer) error {
	if o.workers < 0 || o.cores < 1 {
		return exitError(exitBadInput, fmt.Errorf("--workers %d --worker-cores %d: want 0 or more workers of at least 1 core", o.workers, o.cores))
	}
	if o.users < 1 {
		return exitError(exitBadInput, fmt.Errorf("--users %d: want at least 1", o.users))
	}
	p, err := benchProfile(o)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	cache, err := keysOpenCache(o.cacheDir, o.noCache)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	prog := newProgressPrinter(stderr)
	res, err := bench.Run(ctx, bench.Config{
		Profile: p, Users: o.users, Seed: o.seed, Provers: o.provers, Workers: o.verifyW,
		Queue: o.queue, QueueWorkers: o.workers, WorkerCores: o.cores, SpawnWorker: spawnWorker,
		Dir: o.dir, Cache: cache, Log: prog.line,
		BatchProgress: func(done, total int) { prog.update("proving batches", done, total) },
	})
	if err != nil {
		return err
	}
	rep := benchReport{Result: res}
	if o.gas {
		prog.line("measuring publish gas on a simulated chain")
		if rep.PublishGas, err = contracts.MeasurePublishGas(ctx, p.Assets); err != nil {
			return fmt.Errorf("publish gas: %w", err)
		}
	}
	if o.json {
		return writeJSON(stdout, rep)
	}
	printBench(stdout, &rep)
	return nil
}

// mib renders a byte count in B, KiB or MiB.
func mib(b int64) string {
	switch {
	case b < 1<<10:
		return fmt.Sprintf("%d B", b)
	case b < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
}

func printBench(w io.Writer, r *benchReport) {
	m := r.Machine
	fmt.Fprintf(w, "machine      %s, %d CPUs (GOMAXPROCS %d), %s/%s, %s, gnark %s\n", m.CPUModel, m.NumCPU, m.GOMAXPROCS, m.GOOS, m.GOARCH, m.GoVersion, m.Gnark)
	fmt.Fprintf(w, "load         %s at start, %s at end (1-minute load average; above %d means shared)\n", m.LoadAtStart, m.LoadAtEnd, m.NumCPU)
	fmt.Fprintf(w, "shape        profile %s: %d users, %d assets, %d batches of %d\n", r.Profile, r.Users, r.Assets, r.Batches, r.BatchSize)
	fmt.Fprintf(w, "constraints  batch %d (%.0f per account), solvency %d\n", r.BatchConstraints, r.ConstraintsPerAccount, r.SolvencyConstraints)
	fmt.Fprintf(w, "setup        %.1fs (compile %.1fs), single-party dev keys (%s)\n", r.SetupSeconds, r.CompileSeconds, r.Trust)
	fmt.Fprintf(w, "liabilities  snapshot built in %.2fs\n", r.LiabilitiesBuildSeconds)
	fmt.Fprintf(w, "batches      %.1fs for %d batches (%.2fs each): %.0f accounts/s\n", r.BatchProveSeconds, r.Batches, r.SecondsPerBatch, r.AccountsPerSecond)
	if r.BatchProveCPUSeconds > 0 {
		fmt.Fprintf(w, "             %.1f CPU-seconds (%.2f of %d cores on average): %.0f accounts per CPU-second\n", r.BatchProveCPUSeconds, r.CPUShare, m.NumCPU, r.AccountsPerCPUSecond)
	}
	fmt.Fprintf(w, "solvency     %.2fs\n", r.SolvencyProveSeconds)
	fmt.Fprintf(w, "verify       %.2fs for the bundle (%.1f ms per proof)\n", r.VerifySeconds, 1000*r.VerifySecondsPerProof)
	fmt.Fprintf(w, "memory       peak RSS %s, Go runtime %s\n", mib(r.PeakRSSBytes), mib(int64(r.GoSysBytes)))
	s := r.Sizes
	fmt.Fprintf(w, "sizes        proof %d B (batch) / %d B (solvency); vk %d B / %d B; pk %s / %s; bundle %s (manifest %s)\n",
		s.BatchProof, s.SolvencyProof, s.BatchVK, s.SolvencyVK, mib(s.BatchPK), mib(s.SolvencyPK), mib(s.Bundle), mib(s.Manifest))
	if g := r.PublishGas; g != nil {
		fmt.Fprintf(w, "publish gas  %d (first attestation %d), budget %d\n", g.Publish, g.FirstPublish, g.Budget)
	}
	if q := r.Queue; q != nil {
		fmt.Fprintf(w, "queue        in process %.1fs, through JetStream with %d local workers %.1fs (%.0f accounts/s): overhead %+.1f%% wall\n",
			q.InProcessSeconds, q.LocalWorkers, q.LocalSeconds, q.LocalAccountsPerSecond, q.OverheadPercent)
		fmt.Fprintf(w, "             CPU: in process %.1f CPU-s, through JetStream %.1f CPU-s: overhead %+.1f%% (means of passes run A B B A)\n",
			q.InProcessCPUSeconds, q.LocalCPUSeconds, q.OverheadCPUPercent)
		if q.Processes > 0 {
			fmt.Fprintf(w, "             %d worker processes of %d core(s): %.1fs (%.2fs per batch), %.0f accounts/s; keys uploaded in %.1fs\n",
				q.Processes, q.ProcessCores, q.ProcessSeconds, q.ProcessSecondsPerBatch, q.ProcessAccountsPerSecond, q.KeyUploadSeconds)
		}
	}
	fmt.Fprintf(w, "total        %.1fs\n", r.TotalSeconds)
}

// spawnWorker runs this binary as `solvency worker` against url.
func spawnWorker(url string, cores int, name, cacheDir string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the solvency binary: %w", err)
	}
	c := exec.Command(exe, "worker", "--nats", url, "--cores", strconv.Itoa(cores), "--name", name, "--cache", cacheDir)
	c.Stderr = io.Discard
	return c, nil
}
