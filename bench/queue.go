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
	// In-process proving of the batches, measured again right before the queue runs.
	InProcessSeconds float64 `json:"in_process_seconds"`
	// Local workers: an embedded server and as many worker goroutines as in-process provers.
	LocalWorkers           int     `json:"local_workers"`
	LocalSeconds           float64 `json:"local_seconds"`
	LocalAccountsPerSecond float64 `json:"local_accounts_per_second"`
	// OverheadPercent is (local - in-process) / in-process, in percent.
	OverheadPercent float64 `json:"overhead_percent"`
	// Worker processes on this machine over loopback TCP, each with ProcessCores cores; they
	// fetch the circuit and key from the server's object store (counted in ProcessSeconds).
	Processes                int     `json:"processes,omitempty"`
	ProcessCores             int     `json:"process_cores,omitempty"`
	KeyUploadSeconds         float64 `json:"key_upload_seconds,omitempty"`
	ProcessSeconds           float64 `json:"process_seconds,omitempty"`
	ProcessAccountsPerSecond float64 `json:"process_accounts_per_second,omitempty"`
	ProcessSecondsPerBatch   float64 `json:"process_seconds_per_batch,omitempty"`
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

	logf("queue overhead: the batches again in process, then through an embedded JetStream server with %d local workers", provers)
	t0 := time.Now()
	if _, err := prover.ProveLiabilities(ctx, store, filepath.Join(dir, "inproc-proofs"), bk.CCS, bk.PK, bk.VK, provers, nil, nil); err != nil {
		return nil, fmt.Errorf("in-process batches: %w", err)
	}
	q.InProcessSeconds = time.Since(t0).Seconds()

	l, err := workqueue.StartLocal(ctx, filepath.Join(dir, "jetstream-local"), bk, provers)
	if err != nil {
		return nil, err
	}
	t1 := time.Now()
	_, err = prover.ProveLiabilities(ctx, store, filepath.Join(dir, "local-queue-proofs"), bk.CCS, bk.PK, bk.VK, 0, cfg.BatchProgress, l.Coord)
	q.LocalSeconds = time.Since(t1).Seconds()
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("batches through local workers: %w", err)
	}
	q.LocalAccountsPerSecond = users / q.LocalSeconds
	q.OverheadPercent = 100 * (q.LocalSeconds - q.InProcessSeconds) / q.InProcessSeconds

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
