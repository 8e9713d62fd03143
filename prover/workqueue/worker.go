package workqueue

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/witness"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/solvency-dev/solvency/bundle"
)

// Worker takes batch tasks from the queue one at a time, proves them and returns the proofs.
type Worker struct {
	Conn *nats.Conn
	Name string // reported with every result and event
	// Keys, if set, is the only circuit this worker proves with (from its own keys directory, or
	// a coordinator's memory for local workers): a task naming any other digest is refused.
	// Otherwise the worker fetches what the task names from the keys bucket into CacheDir.
	Keys     *Circuit
	CacheDir string
	// RefuseDelay is how long a refused task waits before the server offers it again (to
	// another worker); 0 means 5s.
	RefuseDelay time.Duration
	// Events, if set, receives what the worker does (also published for the coordinator).
	Events func(Event)
	// MaxTasks, if positive, stops the worker after that many tasks proved.
	MaxTasks int

	circuits map[KeyRef]*Circuit
	js       jetstream.JetStream
}

// Run takes tasks until ctx ends (or MaxTasks are proved). It waits for the coordinator to
// create the queue if it does not exist yet.
func (w *Worker) Run(ctx context.Context) error {
	js, err := jetstream.New(w.Conn)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	w.js = js
	w.circuits = map[KeyRef]*Circuit{}
	if w.Keys != nil {
		w.circuits[w.Keys.Ref] = w.Keys
	}
	var cons jetstream.Consumer
	for {
		cons, err = js.Consumer(ctx, TaskStream, WorkerConsumer)
		if err == nil {
			break
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("task queue: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
	}
	ackWait := cons.CachedInfo().Config.AckWait
	proved := 0
	for ctx.Err() == nil {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("fetch a task: %w", err)
		}
		for msg := range batch.Messages() {
			ok, err := w.handle(ctx, msg, ackWait)
			if err != nil {
				return err
			}
			if ok {
				proved++
			}
		}
		if w.MaxTasks > 0 && proved >= w.MaxTasks {
			return nil
		}
	}
	return nil
}

func (w *Worker) emit(ev Event) {
	ev.Time, ev.Worker = time.Now().UTC(), w.Name
	if w.Events != nil {
		w.Events(ev)
	}
	if ev.Job != "" {
		if b, err := json.Marshal(ev); err == nil {
			_ = w.Conn.Publish(eventSubject(ev.Job), b) // best effort: progress only
		}
	}
}

// handle proves one task. It returns an error only for faults that should stop the worker; a
// bad task is terminated, a refused one handed back.
func (w *Worker) handle(ctx context.Context, msg jetstream.Msg, ackWait time.Duration) (bool, error) {
	var t Task
	if len(msg.Data()) > MaxTaskBytes {
		_ = msg.TermWithReason("task too large")
		return false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(msg.Data()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil || t.Version != ProtocolVersion {
		_ = msg.TermWithReason("malformed task")
		w.emit(Event{Event: "failed", Index: -1, Detail: fmt.Sprintf("malformed task on %s", msg.Subject())})
		return false, nil
	}
	if msg.Subject() != taskSubject(t.Job, t.Index) {
		_ = msg.TermWithReason("task subject does not match its body")
		return false, nil
	}
	// Idempotent: a proof of this batch already stored (by another worker, or before a
	// redelivery) is not made again.
	if prev, err := w.storedResult(ctx, t); err == nil && prev {
		w.emit(Event{Event: "skipped", Job: t.Job, Index: t.Index, Detail: "a proof of this batch is already stored"})
		return false, msg.Ack()
	}
	c, err := w.circuit(ctx, t.Keys)
	if err != nil {
		delay := w.RefuseDelay
		if delay <= 0 {
			delay = 5 * time.Second
		}
		w.emit(Event{Event: "refused", Job: t.Job, Index: t.Index, Detail: err.Error()})
		if nerr := msg.NakWithDelay(delay); nerr != nil {
			return false, fmt.Errorf("hand back a refused task: %w", nerr)
		}
		return false, nil
	}
	w.emit(Event{Event: "started", Job: t.Job, Index: t.Index})
	start := time.Now()
	// Heartbeats keep a long proof from being redelivered; if this process dies they stop and
	// the task goes to another worker after the ack deadline.
	hbCtx, stopHB := context.WithCancel(ctx)
	defer stopHB()
	go func() {
		tick := time.NewTicker(max(ackWait/3, 100*time.Millisecond))
		defer tick.Stop()
		for {
			select {
			case <-hbCtx.Done():
				return
			case <-tick.C:
				_ = msg.InProgress()
			}
		}
	}()
	proof, err := prove(c, &t)
	stopHB()
	if err != nil {
		w.emit(Event{Event: "failed", Job: t.Job, Index: t.Index, Detail: err.Error()})
		// A witness that does not satisfy the circuit will not prove anywhere: terminate it,
		// the coordinator reports the batch as failed.
		_ = msg.TermWithReason("does not prove: " + firstLine(err.Error()))
		return false, nil
	}
	res := Result{Version: ProtocolVersion, Job: t.Job, Index: t.Index, Digest: t.Digest, Worker: w.Name, Proof: proof}
	if err := w.publishResult(ctx, &res); err != nil {
		return false, err
	}
	if err := msg.DoubleAck(ctx); err != nil {
		return false, fmt.Errorf("acknowledge batch %d: %w", t.Index, err)
	}
	w.emit(Event{Event: "proved", Job: t.Job, Index: t.Index, Seconds: time.Since(start).Seconds()})
	return true, nil
}

// publishResult stores a result; a result already stored for the batch wins (the stream keeps
// one per batch), which is not an error.
func (w *Worker) publishResult(ctx context.Context, res *Result) error {
	return publishResult(ctx, w.js, res)
}

func publishResult(ctx context.Context, js jetstream.JetStream, res *Result) error {
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = js.Publish(ctx, resultSubject(res.Job, res.Index), b)
	if err != nil && isPerSubjectFull(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("return the proof of batch %d: %w", res.Index, err)
	}
	return nil
}

func isPerSubjectFull(err error) bool {
	return strings.Contains(err.Error(), "maximum messages per subject exceeded")
}

func (w *Worker) storedResult(ctx context.Context, t Task) (bool, error) {
	s, err := w.js.Stream(ctx, ResultStream)
	if err != nil {
		return false, err
	}
	m, err := s.GetLastMsgForSubject(ctx, resultSubject(t.Job, t.Index))
	if err != nil {
		return false, err
	}
	var r Result
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return false, err
	}
	return r.Digest == t.Digest, nil
}

func (w *Worker) circuit(ctx context.Context, ref KeyRef) (*Circuit, error) {
	if c, ok := w.circuits[ref]; ok {
		return c, nil
	}
	if w.Keys != nil {
		return nil, fmt.Errorf("%w: the task names batch keys r1cs %s, pk %s, vk %s; this worker holds r1cs %s, pk %s, vk %s",
			ErrKeyRefused, short(ref.R1CS), short(ref.PK), short(ref.VK), short(w.Keys.Ref.R1CS), short(w.Keys.Ref.PK), short(w.Keys.Ref.VK))
	}
	dir := w.CacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("worker key cache: %w", err)
		}
		dir = filepath.Join(base, "solvency", "worker-keys")
	}
	c, err := fetchCircuit(ctx, w.js, ref, dir)
	if err != nil {
		return nil, err
	}
	// One circuit at a time: a proving key is large.
	clear(w.circuits)
	w.circuits[ref] = c
	return c, nil
}

func short(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// prove proves one task's witness and checks the proof against the task's digest before
// returning it (the coordinator checks again; this catches a worker-side fault early).
func prove(c *Circuit, t *Task) ([]byte, error) {
	wit, err := witness.New(ecc.BN254.ScalarField())
	if err != nil {
		return nil, err
	}
	if err := wit.UnmarshalBinary(t.Witness); err != nil {
		return nil, fmt.Errorf("batch %d: witness: %w", t.Index, err)
	}
	digest, err := parseDigest(t.Digest)
	if err != nil {
		return nil, err
	}
	proof, err := groth16.Prove(c.CCS, c.PK, wit)
	if err != nil {
		return nil, fmt.Errorf("batch %d: prove: %w", t.Index, err)
	}
	pub, err := bundle.PublicWitness([]fr.Element{digest})
	if err != nil {
		return nil, err
	}
	if err := groth16.Verify(proof, c.VK, pub); err != nil {
		return nil, fmt.Errorf("batch %d: the proof does not verify against the task's digest: %w", t.Index, err)
	}
	var buf bytes.Buffer
	if _, err := proof.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// parseDigest reads a canonical 0x-hex field element (a value >= p is refused, never reduced).
func parseDigest(s string) (fr.Element, error) {
	var e fr.Element
	if len(s) != 66 || !strings.HasPrefix(s, "0x") {
		return e, fmt.Errorf("digest %q: want 0x and 64 hex digits", s)
	}
	b, err := hex.DecodeString(s[2:])
	if err != nil {
		return e, fmt.Errorf("digest %q: %w", s, err)
	}
	if err := e.SetBytesCanonical(b); err != nil {
		return e, fmt.Errorf("digest %q: %w", s, err)
	}
	return e, nil
}
