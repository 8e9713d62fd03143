package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/consensys/gnark/logger"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/solvency-dev/solvency/prover"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/workqueue"
)

// workerOptions are the flags of `solvency worker`, and the connection flags `prove --workers`
// shares.
type workerOptions struct {
	nats     string
	name     string
	cores    int
	keysDir  string
	cacheDir string
	conn     workqueue.ConnectOptions
	json     bool
}

// addConnFlags adds the NATS connection flags.
func addConnFlags(cmd *cobra.Command, c *workqueue.ConnectOptions) {
	f := cmd.Flags()
	f.StringVar(&c.Creds, "creds", "", "NATS credentials file: a .creds file (user JWT and nkey seed) or lines user=NAME and password=SECRET")
	f.StringVar(&c.NKeySeed, "nkey", "", "file holding an nkey seed, for a server with nkey users")
	f.StringVar(&c.TLSCA, "tls-ca", "", "CA certificate (PEM) that signed the NATS server's certificate")
	f.StringVar(&c.TLSCert, "tls-cert", "", "client certificate (PEM), for servers that require mutual TLS")
	f.StringVar(&c.TLSKey, "tls-key", "", "client certificate's private key (PEM)")
	f.BoolVar(&c.Insecure, "insecure", false, "allow a plaintext connection without credentials to a server off this machine (tasks carry balances and salts: only on a network that is already private and encrypted)")
}

const workerLong = `worker takes batch-proving tasks from a NATS JetStream work queue, one at a time, proves each
with --cores cores, and returns the proof; 'solvency prove --workers URL' hands the tasks out and
checks every proof it gets back against the batch's digest before it accepts it.

The worker fetches the compiled batch circuit and its proving key from the server's object store
by the digests the task names, keeps them in --cache, and refuses bytes that do not hash to those
digests. With --keys DIR it proves only with that keys directory's batch circuit and refuses a task
that names any other.

A task carries one batch's witness: account balances and salts. Run workers only on the
operator's own machines. A server off this machine needs TLS (a tls:// URL or --tls-ca) and
credentials (--creds or --nkey). See docs/scale-out.md for a NATS cluster and systemd units.

Killed in the middle of a batch, the worker's task goes to another worker once its heartbeats
stop for the ack deadline. Events (started, proved, refused) go to stderr, or as JSON lines to
stdout with --json.`

const workerExample = `  solvency worker --nats nats://127.0.0.1:4222 --cores 4
  solvency worker --nats tls://nats.internal:4222 --tls-ca ca.pem --creds prover.creds --cores 32`

func newWorkerCmd() *cobra.Command {
	o := &workerOptions{}
	cmd := &cobra.Command{
		Use:     "worker --nats URL [--cores N] [--creds FILE] [--tls-ca FILE]",
		Short:   "Prove liabilities batches handed out over NATS JetStream by 'prove --workers'",
		Long:    workerLong,
		Example: workerExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger.Disable()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runWorker(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.nats, "nats", "", "NATS server URL(s), comma-separated (required)")
	f.StringVar(&o.name, "name", "", "worker name in events and results (default: host name and process id)")
	f.IntVar(&o.cores, "cores", 0, "cores one proof uses (default: all)")
	f.StringVar(&o.keysDir, "keys", "", "prove only with this keys directory's batch circuit (default: fetch by digest)")
	f.StringVar(&o.cacheDir, "cache", "", "where fetched circuits and keys are kept (default: the user cache)")
	f.BoolVar(&o.json, "json", false, "print events as JSON lines on stdout")
	addConnFlags(cmd, &o.conn)
	return cmd
}

func runWorker(ctx context.Context, o *workerOptions, stdout, stderr io.Writer) error {
	if o.nats == "" {
		return exitError(exitBadInput, fmt.Errorf("worker needs --nats URL"))
	}
	if o.cores < 0 {
		return exitError(exitBadInput, fmt.Errorf("--cores %d: want 0 (all) or more", o.cores))
	}
	if o.cores > 0 {
		// gnark spreads one proof over GOMAXPROCS threads.
		runtime.GOMAXPROCS(o.cores)
	}
	if o.name == "" {
		host, _ := os.Hostname()
		o.name = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	w := &workqueue.Worker{Name: o.name, CacheDir: o.cacheDir}
	if o.keysDir != "" {
		k, err := keys.Load(o.keysDir)
		if err != nil {
			return exitError(exitBadInput, fmt.Errorf("--keys: %w", err))
		}
		bk, err := k.Get(prover.BatchCircuit)
		if err != nil {
			return exitError(exitBadInput, err)
		}
		w.Keys = &workqueue.Circuit{Ref: workqueue.KeyRefOf(bk), Circuit: bk}
	}
	o.conn.Name = "solvency-worker " + o.name
	nc, err := workqueue.Connect(o.nats, o.conn)
	if err != nil {
		return exitError(exitBadInput, err)
	}
	defer nc.Close()
	w.Conn = nc
	var mu sync.Mutex
	enc := json.NewEncoder(stdout)
	w.Events = func(ev workqueue.Event) {
		mu.Lock()
		defer mu.Unlock()
		if o.json {
			_ = enc.Encode(ev)
			return
		}
		switch ev.Event {
		case "proved":
			fmt.Fprintf(stderr, "%s  batch %d proved in %.1fs\n", ev.Time.Format("15:04:05"), ev.Index, ev.Seconds)
		case "started":
			fmt.Fprintf(stderr, "%s  batch %d: proving\n", ev.Time.Format("15:04:05"), ev.Index)
		default:
			fmt.Fprintf(stderr, "%s  batch %d: %s %s\n", ev.Time.Format("15:04:05"), ev.Index, ev.Event, ev.Detail)
		}
	}
	fmt.Fprintf(stderr, "worker %s: connected to %s, proving with %d cores\n", o.name, nc.ConnectedUrlRedacted(), runtime.GOMAXPROCS(0))
	return w.Run(ctx)
}

// queueFlags are `prove --workers`'s options.
type queueFlags struct {
	url     string
	ackWait time.Duration
	window  int
	conn    workqueue.ConnectOptions
}

func addQueueFlags(cmd *cobra.Command, q *queueFlags) {
	f := cmd.Flags()
	f.StringVar(&q.url, "workers", "", "hand the batches to 'solvency worker' processes through this NATS JetStream server (nats://HOST:PORT or tls://...); default: prove in this process")
	f.DurationVar(&q.ackWait, "ack-wait", workqueue.DefaultAckWait, "with --workers: a batch whose worker stops sending heartbeats for this long goes to another worker")
	f.IntVar(&q.window, "queue-window", workqueue.DefaultWindow, "with --workers: tasks waiting in the queue at once (each holds a batch's witness)")
	addConnFlags(cmd, &q.conn)
}

// queueBackend connects to --workers and returns the coordinator that proves the batches there,
// reporting progress on one bar (or JSON lines) and a closer.
func queueBackend(q *queueFlags, k *keys.Keys, tmpDir string, jsonEvents bool, stderr io.Writer) (*workqueue.Coordinator, *batchProgress, func(), error) {
	bk, err := k.Get(prover.BatchCircuit)
	if err != nil {
		return nil, nil, nil, err
	}
	q.conn.Name = "solvency-coordinator"
	nc, err := workqueue.Connect(q.url, q.conn)
	if err != nil {
		return nil, nil, nil, exitError(exitBadInput, fmt.Errorf("--workers: %w", err))
	}
	bp := newBatchProgress(stderr, jsonEvents)
	c := &workqueue.Coordinator{Conn: nc, Circuit: bk, UploadKeys: true, TmpDir: tmpDir, AckWait: q.ackWait,
		Window: q.window, Progress: bp.update, Events: bp.event}
	return c, bp, nc.Close, nil
}

// batchProgress shows proving progress across workers: one bar with an ETA on a terminal, plain
// lines otherwise, or JSON lines (progress and worker events) for scripts.
type batchProgress struct {
	w        io.Writer
	json     bool
	terminal bool
	mu       sync.Mutex
	bar      *progressbar.ProgressBar
	last     time.Time
	start    time.Time
	enc      *json.Encoder
	// Resumed is the number of batches done before this run proved any.
	Resumed int
	seen    bool
}

func newBatchProgress(w io.Writer, jsonLines bool) *batchProgress {
	p := &batchProgress{w: w, json: jsonLines, enc: json.NewEncoder(w), start: time.Now(), Resumed: -1}
	if f, ok := w.(*os.File); ok && !jsonLines {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

// progressEvent is one `--json` progress line on stderr.
type progressEvent struct {
	Time    time.Time `json:"time"`
	Event   string    `json:"event"`
	Done    int       `json:"done"`
	Total   int       `json:"total"`
	Seconds float64   `json:"elapsed_seconds"`
	ETA     float64   `json:"eta_seconds,omitempty"`
}

func (p *batchProgress) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.seen {
		p.seen, p.Resumed = true, done
		p.start = time.Now()
	}
	elapsed := time.Since(p.start).Seconds()
	eta := 0.0
	if fresh := done - p.Resumed; fresh > 0 && done < total {
		eta = elapsed / float64(fresh) * float64(total-done)
	}
	switch {
	case p.json:
		_ = p.enc.Encode(progressEvent{Time: time.Now().UTC(), Event: "progress", Done: done, Total: total, Seconds: elapsed, ETA: eta})
	case p.terminal:
		if p.bar == nil {
			p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription("proving batches"),
				progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionShowElapsedTimeOnFinish(),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }))
		}
		_ = p.bar.Set(done)
	default:
		if done == total || time.Since(p.last) >= 2*time.Second {
			p.last = time.Now()
			fmt.Fprintf(p.w, "proving batches: %d/%d, %.0fs elapsed, about %.0fs left\n", done, total, elapsed, eta)
		}
	}
}

func (p *batchProgress) event(ev workqueue.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.json:
		_ = p.enc.Encode(ev)
	case ev.Event == "refused" || ev.Event == "rejected" || ev.Event == "failed":
		// Worth seeing above the bar: a worker with the wrong keys, or a wrong proof.
		if p.bar != nil {
			_ = p.bar.Clear()
		}
		fmt.Fprintf(p.w, "worker %s, batch %d: %s: %s\n", ev.Worker, ev.Index, ev.Event, ev.Detail)
	}
}
