package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/liabilities"
	"github.com/solvency-dev/solvency/prover"
	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/profile"
	"github.com/solvency-dev/solvency/verifier"
)

// Config is one benchmark run.
type Config struct {
	Profile profile.Profile
	Users   int
	Seed    uint64
	Provers int // parallel batch provers; 0: the prover's default
	Workers int // parallel proof verifications; 0: NumCPU
	// Dir is the work directory (snapshot, proofs, bundle). Empty: a temporary directory,
	// removed at the end.
	Dir string
	// Cache is the compiled-circuit cache; the zero value compiles without caching.
	Cache circuitcache.Cache
	// Specs are the circuits to set up; nil means profile.Circuits().
	Specs []profile.CircuitSpec
	// Log, if set, receives one line per stage.
	Log func(format string, args ...any)
	// BatchProgress, if set, is called after each proved batch.
	BatchProgress func(done, total int)
	// Queue also proves the batches through NATS JetStream: in process again, then with local
	// workers on an embedded server (the queue's overhead), then, if QueueWorkers > 0, with that
	// many worker processes of WorkerCores cores each, started by SpawnWorker.
	Queue        bool
	QueueWorkers int
	WorkerCores  int
	SpawnWorker  SpawnWorker
}

// Result is what a run measured. The JSON field names are stable: docs/bench.md documents each.
type Result struct {
	Machine Machine `json:"machine"`

	Profile   string `json:"profile"`
	Trust     string `json:"trust"`
	Users     int    `json:"users"`
	Assets    int    `json:"assets"`
	BatchSize int    `json:"batch_size"`
	Batches   int    `json:"batches"`

	BatchConstraints      int     `json:"batch_constraints"`
	ConstraintsPerAccount float64 `json:"constraints_per_account"`
	SolvencyConstraints   int     `json:"solvency_constraints"`

	CompileSeconds          float64 `json:"compile_seconds"`
	SetupSeconds            float64 `json:"setup_seconds"`
	LiabilitiesBuildSeconds float64 `json:"liabilities_build_seconds"`
	BatchProveSeconds       float64 `json:"batch_prove_seconds"`
	SecondsPerBatch         float64 `json:"seconds_per_batch"`
	AccountsPerSecond       float64 `json:"accounts_per_second"`
	BatchProveCPUSeconds    float64 `json:"batch_prove_cpu_seconds"`
	AccountsPerCPUSecond    float64 `json:"accounts_per_cpu_second"`
	CPUShare                float64 `json:"batch_prove_cpu_share"`
	SolvencyProveSeconds    float64 `json:"solvency_prove_seconds"`
	VerifySeconds           float64 `json:"verify_seconds"`
	VerifySecondsPerProof   float64 `json:"verify_seconds_per_proof"`
	TotalSeconds            float64 `json:"total_seconds"`

	PeakRSSBytes int64  `json:"peak_rss_bytes"`
	GoSysBytes   uint64 `json:"go_sys_bytes"`

	Sizes Sizes `json:"sizes"`

	Queue *QueueResult `json:"queue,omitempty"`
}

// Sizes are byte sizes of the artefacts.
type Sizes struct {
	BatchProof    int64 `json:"batch_proof_bytes"`
	SolvencyProof int64 `json:"solvency_proof_bytes"`
	BatchVK       int64 `json:"batch_vk_bytes"`
	SolvencyVK    int64 `json:"solvency_vk_bytes"`
	BatchPK       int64 `json:"batch_pk_bytes"`
	SolvencyPK    int64 `json:"solvency_pk_bytes"`
	Manifest      int64 `json:"manifest_bytes"`
	Bundle        int64 `json:"bundle_bytes"`
}

// Machine describes where a run happened.
type Machine struct {
	CPUModel   string `json:"cpu_model"`
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	GoVersion  string `json:"go_version"`
	Gnark      string `json:"gnark"`
	// LoadAverage is /proc/loadavg's 1-minute figure at the start and at the end of the run: a
	// load above NumCPU means other work shared the machine and the timings are pessimistic.
	LoadAtStart string `json:"load_average_start"`
	LoadAtEnd   string `json:"load_average_end"`
}

// DescribeMachine reads the machine's description (CPU model and load from /proc on Linux).
func DescribeMachine() Machine {
	return Machine{
		CPUModel: cpuModel(), NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GoVersion: runtime.Version(),
		Gnark: circuitcache.GnarkVersion(), LoadAtStart: loadAverage(),
	}
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return ""
}

// DevKeys compiles (through cache) and sets up every circuit of specs for p with a
// single-party dev setup, and returns the keys in memory as keys.Load would.
func DevKeys(specs []profile.CircuitSpec, p profile.Profile, cache circuitcache.Cache, log func(string, ...any)) (*keys.Keys, error) {
	k, _, _, err := devKeys(specs, p, cache, log)
	return k, err
}

func devKeys(specs []profile.CircuitSpec, p profile.Profile, cache circuitcache.Cache, log func(string, ...any)) (k *keys.Keys, compileSecs, setupSecs float64, err error) {
	if len(specs) == 0 {
		return nil, 0, 0, errors.New("no circuits are registered (profile.Circuits is empty)")
	}
	t0 := time.Now()
	compiled, err := cache.GetAll(specs, p)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("compile circuits: %w", err)
	}
	compileSecs = time.Since(t0).Seconds()
	t1 := time.Now()
	circuits, err := keys.DevSetup(compiled, log)
	if err != nil {
		return nil, 0, 0, err
	}
	setupSecs = time.Since(t1).Seconds()
	meta := keys.DevMetadata(p)
	meta.ProfileDigest = p.Digest()
	meta.Format = keys.Format
	k = &keys.Keys{Meta: *meta, Circuits: map[string]*keys.Circuit{}}
	for _, c := range circuits {
		k.Meta.Circuits = append(k.Meta.Circuits, c.Info)
		k.Circuits[c.Info.Name] = c
	}
	return k, compileSecs, setupSecs, nil
}

// Pins are the verifying-key digests of k, as an auditor would pin them.
func Pins(k *keys.Keys) bundle.Pins {
	p := bundle.Pins{}
	for n, c := range k.Circuits {
		p[n] = c.Info.VKDigest
	}
	return p
}

// Run generates the data, sets up, proves and verifies, and reports what it measured.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	start := time.Now()
	logf := cfg.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	p := cfg.Profile
	specs := cfg.Specs
	if specs == nil {
		specs = profile.Circuits()
	}
	res := &Result{Machine: DescribeMachine(), Profile: p.Name, Users: cfg.Users, Assets: p.Assets, BatchSize: p.BatchSize()}

	dir, keep := cfg.Dir, cfg.Dir != ""
	if !keep {
		tmp, err := os.MkdirTemp("", "solvency-bench-")
		if err != nil {
			return nil, fmt.Errorf("bench: work directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}

	logf("generating %d accounts over %d assets (seed %d)", cfg.Users, p.Assets, cfg.Seed)
	ds, err := Generate(p, cfg.Users, cfg.Seed, Coverage)
	if err != nil {
		return nil, fmt.Errorf("bench: generate: %w", err)
	}
	rep, err := ds.Check()
	if err != nil {
		return nil, fmt.Errorf("bench: generated treasury: %w", err)
	}
	if !rep.Pass {
		return nil, fmt.Errorf("bench: the generated treasury fails its limits: %w", &prover.LimitsError{Report: rep})
	}

	logf("compiling and setting up the circuits of profile %s (single-party dev setup)", p.Name)
	k, compileSecs, setupSecs, err := devKeys(specs, p, cfg.Cache, logf)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	res.CompileSeconds, res.SetupSeconds, res.Trust = compileSecs, setupSecs, string(k.Meta.Trust)
	bk, err := k.Get(prover.BatchCircuit)
	if err != nil {
		return nil, err
	}
	sk, err := k.Get(prover.SolvencyCircuit)
	if err != nil {
		return nil, err
	}
	res.BatchConstraints = bk.Info.Constraints
	res.ConstraintsPerAccount = float64(bk.Info.Constraints) / float64(p.BatchSize())
	res.SolvencyConstraints = sk.Info.Constraints
	if res.Sizes.BatchVK, err = size(bk.VK.WriteTo); err != nil {
		return nil, err
	}
	if res.Sizes.SolvencyVK, err = size(sk.VK.WriteTo); err != nil {
		return nil, err
	}
	if res.Sizes.BatchPK, err = size(bk.PK.WriteRawTo); err != nil {
		return nil, err
	}
	if res.Sizes.SolvencyPK, err = size(sk.PK.WriteRawTo); err != nil {
		return nil, err
	}

	if keep {
		// The kept bundle can be verified later: solvency verify bundle DIR/bundle --keys-from DIR/pins.json
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		b, err := json.MarshalIndent(keys.Pins{VerifyingKeys: Pins(k)}, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "pins.json"), append(b, '\n'), 0o644); err != nil {
			return nil, fmt.Errorf("bench: write pins: %w", err)
		}
	}

	logf("building the liabilities snapshot")
	t0 := time.Now()
	snap, err := liabilities.Build(ctx, ds.Table, ds.Accounts, liabilities.BuildOptions{Epoch: 1, SnapshotTime: 1764000000, Height: p.BatchHeight})
	if err != nil {
		return nil, fmt.Errorf("bench: build liabilities: %w", err)
	}
	snapDir := filepath.Join(dir, "liabilities")
	if err := snap.WriteDir(snapDir, true, nil); err != nil {
		return nil, fmt.Errorf("bench: write liabilities: %w", err)
	}
	store, err := liabilities.Open(snapDir)
	if err != nil {
		return nil, fmt.Errorf("bench: open liabilities: %w", err)
	}
	defer store.Close()
	res.LiabilitiesBuildSeconds = time.Since(t0).Seconds()
	res.Batches = store.Public().Batches

	logf("proving %d batches of %d accounts and the solvency statement", res.Batches, p.BatchSize())
	bundleDir := filepath.Join(dir, "bundle")
	// CPU time over exactly the batch-proving window (first progress call to the last): with
	// other work on the machine, wall-clock rates understate what the prover does per core.
	var cpuStart, cpuEnd float64
	var wallStart, wallEnd time.Time
	progress := func(done, total int) {
		switch {
		case wallStart.IsZero():
			cpuStart, wallStart = cpuSeconds(), time.Now()
		case done == total:
			cpuEnd, wallEnd = cpuSeconds(), time.Now()
		}
		if cfg.BatchProgress != nil {
			cfg.BatchProgress(done, total)
		}
	}
	cr, err := prover.ProveCycle(ctx, &prover.CycleRequest{
		Keys: k, Store: store, ProofDir: filepath.Join(dir, "batch-proofs"),
		Policy: ds.Policy, Positions: ds.Positions, Prices: ds.Prices,
		Cycle: 1, ReservesBlock: 1, Out: bundleDir, Replace: true,
		Provers: cfg.Provers, BatchProgress: progress,
	})
	if err != nil {
		return nil, fmt.Errorf("bench: prove: %w", err)
	}
	res.BatchProveSeconds = cr.BatchSeconds
	res.SecondsPerBatch = cr.BatchSeconds / float64(res.Batches)
	res.AccountsPerSecond = float64(cfg.Users) / cr.BatchSeconds
	res.SolvencyProveSeconds = cr.SolvencySecs
	if cpuEnd > cpuStart && wallEnd.After(wallStart) {
		res.BatchProveCPUSeconds = cpuEnd - cpuStart
		res.AccountsPerCPUSecond = float64(cfg.Users) / res.BatchProveCPUSeconds
		res.CPUShare = res.BatchProveCPUSeconds / wallEnd.Sub(wallStart).Seconds()
	}

	logf("verifying the bundle")
	t1 := time.Now()
	vr, err := verifier.VerifyBundle(bundleDir, Pins(k), verifier.Options{Workers: cfg.Workers})
	if err != nil {
		return nil, fmt.Errorf("bench: verify: %w", err)
	}
	res.VerifySeconds = time.Since(t1).Seconds()
	if f := vr.Failed(); f != nil {
		return nil, fmt.Errorf("bench: the bundle does not verify: %s: %s", f.Name, f.Detail)
	}
	res.VerifySecondsPerProof = res.VerifySeconds / float64(res.Batches+1)

	if res.Sizes.BatchProof, err = fileSize(filepath.Join(bundleDir, filepath.FromSlash(cr.Manifest.Batches[0].Path))); err != nil {
		return nil, err
	}
	if res.Sizes.SolvencyProof, err = fileSize(filepath.Join(bundleDir, cr.Manifest.Solvency.Path)); err != nil {
		return nil, err
	}
	if res.Sizes.Manifest, err = fileSize(filepath.Join(bundleDir, "manifest.json")); err != nil {
		return nil, err
	}
	if res.Sizes.Bundle, err = dirSize(bundleDir); err != nil {
		return nil, err
	}

	if cfg.Queue || cfg.QueueWorkers > 0 {
		if res.Queue, err = runQueue(ctx, cfg, k, store, dir, logf); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
	}

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.GoSysBytes = ms.Sys
	res.PeakRSSBytes = peakRSS()
	res.Machine.LoadAtEnd = loadAverage()
	res.TotalSeconds = time.Since(start).Seconds()
	return res, nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func size(write func(io.Writer) (int64, error)) (int64, error) {
	var c countWriter
	if _, err := write(&c); err != nil {
		return 0, fmt.Errorf("bench: measure key size: %w", err)
	}
	return c.n, nil
}

func fileSize(path string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	return st.Size(), nil
}

func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("bench: bundle size: %w", err)
	}
	return total, nil
}
