package bench

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/solvency-dev/solvency/liabilities"
	"github.com/solvency-dev/solvency/prover"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/workqueue"
)

// QueueResult is what proving the same batches through NATS JetStream measured, beside the
// in-process figure of the same run. JSON field names are stable (docs/scale-out.md).
type QueueResult struct {
	// In-process proving of the batches, measured again beside the queue: the mean of two
	// passes, one right before the two queue passes and one right after (A B B A), so that a
	// load that rises or falls steadily during the comparison weighs on both sides equally.
	InProcessSeconds float64 `json:"in_process_seconds"`
	// Local workers: an embedded server and as many worker goroutines as in-process provers;
	// the mean of the two middle passes.
	LocalWorkers           int     `json:"local_workers"`
	LocalSeconds           float64 `json:"local_seconds"`
	LocalAccountsPerSecond float64 `json:"local_accounts_per_second"`
	// OverheadPercent is (local - in-process) / in-process, in percent, on wall time.
	OverheadPercent float64 `json:"overhead_percent"`
	// The same comparison on this process's CPU time (user + system; the embedded server and
	// the local workers run in this process, so their work is counted): what the queue costs in
	// work, which other jobs on a shared machine change far less than they change wall time.
	InProcessCPUSeconds float64 `json:"in_process_cpu_seconds"`
	LocalCPUSeconds     float64 `json:"local_cpu_seconds"`
	OverheadCPUPercent  float64 `json:"overhead_cpu_percent"`
	// Passes lists every pass in the order run, for judging the noise between like passes.
	Passes []QueuePass `json:"passes"`
	// Worker processes on this machine over loopback TCP, each with ProcessCores cores; they
	// fetch the circuit and key from the server's object store (counted in ProcessSeconds).
	Processes                int     `json:"processes,omitempty"`
	ProcessCores             int     `json:"process_cores,omitempty"`
	KeyUploadSeconds         float64 `json:"key_upload_seconds,omitempty"`
	ProcessSeconds           float64 `json:"process_seconds,omitempty"`
	ProcessAccountsPerSecond float64 `json:"process_accounts_per_second,omitempty"`
	ProcessSecondsPerBatch   float64 `json:"process_seconds_per_batch,omitempty"`
}

// QueuePass is one proving pass of the comparison.
type QueuePass struct {
	Mode       string  `json:"mode"` // "in-process" or "local-queue"
	Seconds    float64 `json:"seconds"`
	CPUSeconds float64 `json:"cpu_seconds"`
}

// SpawnWorker starts one worker process against url with cores cores (the CLI re-runs itself as
// `solvency worker`).
type SpawnWorker func(url string, cores int, name, cacheDir string) (*exec.Cmd, error)

func runQueue(ctx context.Context, cfg Config, k *keys.Keys, store *liabilities.Store, dir string, logf func(string, ...any)) (*QueueResult, error) {
	bk, err := k.Get(prover.BatchCircuit)
	if err != nil {
		return nil, err
	}
	users := float64(cfg.Users)
	provers := cfg.Provers
	if provers <= 0 {
		provers = max(1, runtime.NumCPU()/2)
	}
	q := &QueueResult{LocalWorkers: provers}

	logf("queue overhead: the batches four times more, in process, through an embedded JetStream server with %d local workers twice, then in process again", provers)
	inProcess := func(pass int) error {
		_, err := prover.ProveLiabilities(ctx, store, filepath.Join(dir, fmt.Sprintf("inproc-proofs-%d", pass)), bk.CCS, bk.PK, bk.VK, provers, nil, nil)
		return err
	}
	viaQueue := func(pass int) (err error) {
		l, err := workqueue.StartLocal(ctx, filepath.Join(dir, fmt.Sprintf("jetstream-local-%d", pass)), bk, provers)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := l.Close(); err == nil {
				err = cerr
			}
		}()
		_, err = prover.ProveLiabilities(ctx, store, filepath.Join(dir, fmt.Sprintf("local-queue-proofs-%d", pass)), bk.CCS, bk.PK, bk.VK, 0, cfg.BatchProgress, l.Coord)
		return err
	}
	for pass, mode := range []string{"in-process", "local-queue", "local-queue", "in-process"} {
		run := inProcess
		if mode == "local-queue" {
			run = viaQueue
		}
		c0, t0 := cpuSeconds(), time.Now()
		if err := run(pass); err != nil {
			return nil, fmt.Errorf("%s pass %d: %w", mode, pass+1, err)
		}
		qp := QueuePass{Mode: mode, Seconds: time.Since(t0).Seconds(), CPUSeconds: cpuSeconds() - c0}
		q.Passes = append(q.Passes, qp)
		logf("  pass %d, %s: %.1fs wall, %.1f CPU-seconds", pass+1, mode, qp.Seconds, qp.CPUSeconds)
		if mode == "in-process" {
			q.InProcessSeconds += qp.Seconds / 2
			q.InProcessCPUSeconds += qp.CPUSeconds / 2
		} else {
			q.LocalSeconds += qp.Seconds / 2
			q.LocalCPUSeconds += qp.CPUSeconds / 2
		}
	}
	q.LocalAccountsPerSecond = users / q.LocalSeconds
	q.OverheadPercent = 100 * (q.LocalSeconds - q.InProcessSeconds) / q.InProcessSeconds
	if q.InProcessCPUSeconds > 0 {
		q.OverheadCPUPercent = 100 * (q.LocalCPUSeconds - q.InProcessCPUSeconds) / q.InProcessCPUSeconds
	}

	if cfg.QueueWorkers <= 0 {
		return q, nil
	}
	if cfg.SpawnWorker == nil {
		return nil, fmt.Errorf("bench: %d worker processes asked for, but no way to start one", cfg.QueueWorkers)
	}
	cores := max(cfg.WorkerCores, 1)
	q.Processes, q.ProcessCores = cfg.QueueWorkers, cores
	srv, err := workqueue.StartServer(workqueue.ServerConfig{StoreDir: filepath.Join(dir, "jetstream")})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	nc, err := srv.Connect("bench-coordinator")
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	coord := &workqueue.Coordinator{Conn: nc, Circuit: bk, UploadKeys: true, TmpDir: dir}
	t2 := time.Now()
	if _, _, err := coord.Setup(ctx); err != nil {
		return nil, err
	}
	q.KeyUploadSeconds = time.Since(t2).Seconds()
	logf("%d worker processes of %d core(s) each, over loopback TCP (keys uploaded in %.1fs)", cfg.QueueWorkers, cores, q.KeyUploadSeconds)
	var cmds []*exec.Cmd
	defer func() {
		for _, c := range cmds {
			_ = c.Process.Signal(syscall.SIGTERM)
			_ = c.Wait()
		}
	}()
	for i := range cfg.QueueWorkers {
		c, err := cfg.SpawnWorker(srv.URL(), cores, fmt.Sprintf("bench-%d", i), filepath.Join(dir, fmt.Sprintf("worker-%d-cache", i)))
		if err != nil {
			return nil, err
		}
		if err := c.Start(); err != nil {
			return nil, fmt.Errorf("start worker %d: %w", i, err)
		}
		cmds = append(cmds, c)
	}
	t3 := time.Now()
	if _, err := prover.ProveLiabilities(ctx, store, filepath.Join(dir, "process-queue-proofs"), bk.CCS, bk.PK, bk.VK, 0, cfg.BatchProgress, coord); err != nil {
		return nil, fmt.Errorf("batches through worker processes: %w", err)
	}
	q.ProcessSeconds = time.Since(t3).Seconds()
	q.ProcessAccountsPerSecond = users / q.ProcessSeconds
	q.ProcessSecondsPerBatch = q.ProcessSeconds / float64(store.Public().Batches)
	return q, nil
}
