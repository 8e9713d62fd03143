package workqueue

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/frontend"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/prover"
	"github.com/solvency-dev/solvency/prover/keys"
)

// Coordinator proves batches on workers through JetStream. It is a prover.BatchBackend: set it
// as CycleRequest.Batches (the CLI's `prove --workers`, or the engine's cycle).
type Coordinator struct {
	Conn *nats.Conn
	// Circuit is the batch circuit: its verifying key checks every returned proof; its
	// constraint system and proving key are uploaded for workers when UploadKeys is set.
	Circuit *keys.Circuit
	// UploadKeys puts the circuit and keys into the keys bucket for workers that fetch them
	// (remote workers). Local workers given the circuit in memory do not need it.
	UploadKeys bool
	TmpDir     string // for encoding keys before upload; "" is the system's
	// AckWait is the workers' ack deadline: a task whose worker sends no heartbeat for this
	// long is redelivered. 0 means DefaultAckWait.
	AckWait time.Duration
	// Window is how many tasks may wait in the queue at once (each holds a witness); 0 means
	// DefaultWindow.
	Window int
	// Replicas of the streams in a NATS cluster (1 for a single server).
	Replicas int
	// MaxRejects is how many wrong proofs of one batch end the run; 0 means 3.
	MaxRejects int
	Progress   func(done, total int)
	Events     func(Event)

	ref *KeyRef
}

var _ prover.BatchBackend = (*Coordinator)(nil)

// Setup creates (or updates) the streams, the workers' consumer and the keys bucket, and uploads
// the keys if asked. Prove calls it; workers wait for it.
func (c *Coordinator) Setup(ctx context.Context) (jetstream.JetStream, KeyRef, error) {
	js, err := jetstream.New(c.Conn)
	if err != nil {
		return nil, KeyRef{}, fmt.Errorf("jetstream: %w", err)
	}
	if err := EnsureStreams(ctx, js, c.Replicas, c.ackWait()); err != nil {
		return nil, KeyRef{}, err
	}
	if c.ref == nil {
		var ref KeyRef
		if c.UploadKeys {
			ref, err = PublishKeys(ctx, js, c.Circuit, c.TmpDir)
		} else {
			ref, err = KeyRefFor(c.Circuit)
		}
		if err != nil {
			return nil, KeyRef{}, err
		}
		c.ref = &ref
	}
	return js, *c.ref, nil
}

func (c *Coordinator) ackWait() time.Duration {
	if c.AckWait > 0 {
		return c.AckWait
	}
	return DefaultAckWait
}

// EnsureStreams creates or updates the task and result streams and the workers' consumer.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, replicas int, ackWait time.Duration) error {
	replicas = max(replicas, 1)
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: TaskStream, Description: "solvency batch-proving tasks (witnesses: private)",
		Subjects: []string{taskPrefix + ">"}, Retention: jetstream.WorkQueuePolicy,
		Storage: jetstream.FileStorage, Replicas: replicas, MaxMsgSize: MaxTaskBytes,
		Duplicates: 10 * time.Minute,
	}); err != nil {
		return fmt.Errorf("task stream: %w", err)
	}
	// One stored result per batch: a second proof of the same batch is refused by the server.
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: ResultStream, Description: "solvency batch proofs returned by workers",
		Subjects: []string{resultPrefix + ">"}, Retention: jetstream.LimitsPolicy,
		Storage: jetstream.FileStorage, Replicas: replicas, MaxMsgSize: MaxResultBytes,
		MaxMsgsPerSubject: 1, Discard: jetstream.DiscardNew, DiscardNewPerSubject: true,
	}); err != nil {
		return fmt.Errorf("result stream: %w", err)
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, TaskStream, jetstream.ConsumerConfig{
		Durable: WorkerConsumer, Description: "solvency provers",
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: ackWait, MaxDeliver: -1,
		MaxAckPending: -1,
	}); err != nil {
		return fmt.Errorf("workers' consumer: %w", err)
	}
	return nil
}

type runState struct {
	c       *Coordinator
	js      jetstream.JetStream
	tasks   jetstream.Stream
	results jetstream.Stream
	job     string
	ref     KeyRef
	dir     string
	n       int
	digests []fr.Element
	build   func(int) (*prover.BatchTask, error)
	nonce   string

	// buildMu serialises build: a backend's build need not be safe for concurrent use (the
	// prover's shares one hasher), and a rejected batch is rebuilt beside the publisher.
	buildMu sync.Mutex

	mu       sync.Mutex
	accepted []bool
	rejects  []int
	done     int
}

// Prove proves batches 0..n-1 into dir on workers, resuming: proofs already in dir that verify
// are kept, results already stored are checked and accepted, tasks already queued are not
// published again.
func (c *Coordinator) Prove(ctx context.Context, dir string, n int, digest func(i int) (fr.Element, error), build func(i int) (*prover.BatchTask, error)) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create proof directory: %w", err)
	}
	js, ref, err := c.Setup(ctx)
	if err != nil {
		return err
	}
	r := &runState{c: c, js: js, ref: ref, dir: dir, n: n, build: build,
		digests: make([]fr.Element, n), accepted: make([]bool, n), rejects: make([]int, n)}
	for i := range n {
		if r.digests[i], err = digest(i); err != nil {
			return err
		}
	}
	r.job = JobID(r.digests, ref)
	var nb [8]byte
	if _, err := rand.Read(nb[:]); err != nil {
		return err
	}
	r.nonce = hex.EncodeToString(nb[:])
	if r.tasks, err = js.Stream(ctx, TaskStream); err != nil {
		return fmt.Errorf("task stream: %w", err)
	}
	if r.results, err = js.Stream(ctx, ResultStream); err != nil {
		return fmt.Errorf("result stream: %w", err)
	}
	var todo []int
	for i := range n {
		if r.existing(i) {
			r.accepted[i] = true
			r.done++
			continue
		}
		todo = append(todo, i)
	}
	c.emit(Event{Event: "resumed", Job: r.job, Index: -1, Detail: fmt.Sprintf("%d of %d batches already proved in %s", r.done, n, dir)})
	if c.Progress != nil {
		c.Progress(r.done, n)
	}
	if len(todo) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// Workers' events are forwarded as they come. A batch whose witness does not prove is
	// terminated by its worker (it would fail anywhere): that ends the run.
	sub, err := c.Conn.Subscribe(eventSubject(r.job), func(m *nats.Msg) {
		var ev Event
		if json.Unmarshal(m.Data, &ev) != nil {
			return
		}
		if c.Events != nil {
			c.Events(ev)
		}
		if ev.Event == "failed" && ev.Index >= 0 && ev.Index < n {
			cancel(fmt.Errorf("batch %d failed on worker %q: %s", ev.Index, ev.Worker, ev.Detail))
		}
	})
	if err != nil {
		return fmt.Errorf("subscribe to worker events: %w", err)
	}
	defer sub.Unsubscribe()

	// Results, from the first stored (including those returned while no coordinator ran).
	cons, err := js.OrderedConsumer(ctx, ResultStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{resultPrefix + r.job + ".>"},
	})
	if err != nil {
		return fmt.Errorf("read results: %w", err)
	}
	results := make(chan jetstream.Msg, 16)
	go func() {
		defer close(results)
		for ctx.Err() == nil {
			m, err := cons.Next(jetstream.FetchMaxWait(time.Second))
			if err != nil {
				if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrNoMessages) {
					continue
				}
				if ctx.Err() == nil {
					cancel(fmt.Errorf("read results: %w", err))
				}
				return
			}
			select {
			case results <- m:
			case <-ctx.Done():
				return
			}
		}
	}()

	// Publisher: at most Window tasks outstanding; a slot frees when a batch is accepted.
	window := c.Window
	if window <= 0 {
		window = DefaultWindow
	}
	slots := make(chan struct{}, window)
	go func() {
		for _, i := range todo {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			if err := r.ensureTask(ctx, i, 0); err != nil {
				cancel(err)
				return
			}
		}
	}()

	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case m, ok := <-results:
			if !ok {
				return context.Cause(ctx)
			}
			accepted, err := r.take(ctx, m)
			if err != nil {
				return err
			}
			if !accepted {
				continue
			}
			<-slots
			r.mu.Lock()
			finished := r.done == n
			r.mu.Unlock()
			if finished {
				// Everything is in dir: the stored results (and any stray task) are no longer
				// needed, and tasks hold private witnesses.
				_ = r.results.Purge(ctx, jetstream.WithPurgeSubject(resultPrefix+r.job+".>"))
				_ = r.tasks.Purge(ctx, jetstream.WithPurgeSubject(taskPrefix+r.job+".>"))
				return nil
			}
		}
	}
}

func (c *Coordinator) emit(ev Event) {
	if c.Events != nil {
		ev.Time = time.Now().UTC()
		c.Events(ev)
	}
}

// ensureTask publishes batch i's task unless a result or a task for it is already stored.
func (r *runState) ensureTask(ctx context.Context, i, attempt int) error {
	if attempt == 0 {
		if _, err := r.results.GetLastMsgForSubject(ctx, resultSubject(r.job, i)); err == nil {
			return nil // the result consumer will see it
		} else if !errors.Is(err, jetstream.ErrMsgNotFound) {
			return fmt.Errorf("batch %d: look up a stored result: %w", i, err)
		}
		if _, err := r.tasks.GetLastMsgForSubject(ctx, taskSubject(r.job, i)); err == nil {
			r.c.emit(Event{Event: "queued", Job: r.job, Index: i, Detail: "already in the queue"})
			return nil
		} else if !errors.Is(err, jetstream.ErrMsgNotFound) {
			return fmt.Errorf("batch %d: look up a queued task: %w", i, err)
		}
	}
	r.buildMu.Lock()
	bt, err := r.build(i)
	r.buildMu.Unlock()
	if err != nil {
		return fmt.Errorf("batch %d: build witness: %w", i, err)
	}
	if bt.Index != i || !bt.Digest.Equal(&r.digests[i]) {
		return fmt.Errorf("batch %d: the witness built is for batch %d with another digest", i, bt.Index)
	}
	w, err := frontend.NewWitness(bt.Assignment, ecc.BN254.ScalarField())
	if err != nil {
		return fmt.Errorf("batch %d: witness: %w", i, err)
	}
	wb, err := w.MarshalBinary()
	if err != nil {
		return fmt.Errorf("batch %d: encode witness: %w", i, err)
	}
	d := hexFr(r.digests[i])
	body, err := json.Marshal(Task{Version: ProtocolVersion, Job: r.job, Index: i, Digest: d, Keys: r.ref, Witness: wb})
	if err != nil {
		return err
	}
	if len(body) > MaxTaskBytes {
		return fmt.Errorf("batch %d: task of %d bytes exceeds %d", i, len(body), MaxTaskBytes)
	}
	// The message id de-duplicates a retried publish within this run; across runs the look-ups
	// above keep a batch from being queued twice.
	if _, err := r.js.Publish(ctx, taskSubject(r.job, i), body, jetstream.WithMsgID(taskMsgID(r.job, i, d, attempt)+"."+r.nonce)); err != nil {
		return fmt.Errorf("batch %d: publish task: %w", i, err)
	}
	r.c.emit(Event{Event: "queued", Job: r.job, Index: i})
	return nil
}

// take checks one stored result. A worker is not trusted: the proof must verify against the
// digest this coordinator expects for that batch index, whatever the result claims.
func (r *runState) take(ctx context.Context, m jetstream.Msg) (bool, error) {
	meta, err := m.Metadata()
	if err != nil {
		return false, fmt.Errorf("result metadata: %w", err)
	}
	var res Result
	bad := func(i int, worker, why string) (bool, error) {
		r.c.emit(Event{Event: "rejected", Job: r.job, Index: i, Worker: worker, Detail: why})
		// Free the batch's result slot and queue the batch again.
		if err := r.results.DeleteMsg(ctx, meta.Sequence.Stream); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return false, fmt.Errorf("delete a rejected result: %w", err)
		}
		if i < 0 {
			return false, nil
		}
		r.mu.Lock()
		r.rejects[i]++
		k := r.rejects[i]
		r.mu.Unlock()
		limit := r.c.MaxRejects
		if limit <= 0 {
			limit = 3
		}
		if k >= limit {
			return false, fmt.Errorf("batch %d: %d wrong proofs returned (last from worker %q: %s); check the workers", i, k, worker, why)
		}
		return false, r.ensureTask(ctx, i, k)
	}
	idx := -1
	if len(m.Data()) > MaxResultBytes {
		return bad(idx, "", "result too large")
	}
	dec := json.NewDecoder(bytes.NewReader(m.Data()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil || res.Version != ProtocolVersion || res.Job != r.job {
		return bad(idx, "", "malformed result")
	}
	if res.Index < 0 || res.Index >= r.n || m.Subject() != resultSubject(r.job, res.Index) {
		return bad(idx, res.Worker, "result for no batch of this job")
	}
	i := res.Index
	r.mu.Lock()
	already := r.accepted[i]
	r.mu.Unlock()
	if already {
		return false, nil
	}
	if res.Digest != hexFr(r.digests[i]) {
		return bad(i, res.Worker, fmt.Sprintf("result names digest %s, batch %d's is %s", res.Digest, i, hexFr(r.digests[i])))
	}
	if err := checkProof(r.c.Circuit.VK, res.Proof, r.digests[i]); err != nil {
		return bad(i, res.Worker, err.Error())
	}
	if err := atomicfile.WriteFile(prover.ProofPath(r.dir, i), res.Proof, 0o644); err != nil {
		return false, fmt.Errorf("batch %d: write proof: %w", i, err)
	}
	r.mu.Lock()
	r.accepted[i] = true
	r.done++
	done := r.done
	r.mu.Unlock()
	r.c.emit(Event{Event: "accepted", Job: r.job, Index: i, Worker: res.Worker})
	if r.c.Progress != nil {
		r.c.Progress(done, r.n)
	}
	return true, nil
}

// checkProof reads a proof with the checked reader and verifies it against digest.
func checkProof(vk groth16.VerifyingKey, data []byte, digest fr.Element) error {
	proof, err := bundle.ParseProof(data)
	if err != nil {
		return err
	}
	pub, err := bundle.PublicWitness([]fr.Element{digest})
	if err != nil {
		return err
	}
	if err := groth16.Verify(proof, vk, pub); err != nil {
		return fmt.Errorf("the proof does not verify against the batch digest: %w", err)
	}
	return nil
}

// existing reports whether dir already holds a proof of batch i that verifies.
func (r *runState) existing(i int) bool {
	data, err := os.ReadFile(prover.ProofPath(r.dir, i))
	if err != nil {
		return false
	}
	return checkProof(r.c.Circuit.VK, data, r.digests[i]) == nil
}
