package workqueue_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/solvency-dev/solvency/prover"
	"github.com/solvency-dev/solvency/prover/workqueue"
)

// Three worker processes fetch the keys from the server by digest and prove every batch; the
// cycle's bundle verifies, and no batch was proved twice.
func TestWorkers_ThreeProcessesBundleVerifies(t *testing.T) {
	srv := startServer(t)
	ws := startWorkers(t, srv.URL(), 3)
	dir := t.TempDir()
	if _, err := prover.ProveCycle(t.Context(), fx.request(dir, coordinator(t, srv, nil))); err != nil {
		t.Fatal(err)
	}
	verifyBundle(t, filepath.Join(dir, "bundle"))
	n := fx.store.Public().Batches
	counts := proved(ws...)
	for i := range n {
		if counts[i] != 1 {
			t.Fatalf("batch %d proved %d times (%v)", i, counts[i], counts)
		}
	}
}

// A worker killed with SIGKILL in the middle of a batch: the task is redelivered after the ack
// deadline to another worker, and the bundle verifies.
func TestWorkers_KilledWorkerRedelivered(t *testing.T) {
	srv := startServer(t)
	ws := startWorkers(t, srv.URL(), 3)
	var (
		once     sync.Once
		victim   *proc
		victimAt = -1
		killed   = make(chan struct{})
	)
	for _, w := range ws {
		w.mu.Lock()
		w.onEvent = func(ev workqueue.Event) {
			if ev.Event != "started" {
				return
			}
			once.Do(func() {
				victim, victimAt = w, ev.Index
				_ = w.cmd.Process.Kill()
				close(killed)
			})
		}
		w.mu.Unlock()
	}
	var mu sync.Mutex
	acceptedBy := map[int]string{}
	c := coordinator(t, srv, func(ev workqueue.Event) {
		if ev.Event == "accepted" {
			mu.Lock()
			acceptedBy[ev.Index] = ev.Worker
			mu.Unlock()
		}
	})
	dir := t.TempDir()
	if _, err := prover.ProveCycle(t.Context(), fx.request(dir, c)); err != nil {
		t.Fatal(err)
	}
	<-killed
	verifyBundle(t, filepath.Join(dir, "bundle"))
	for _, ev := range victim.events() {
		if ev.Event == "proved" && ev.Index == victimAt {
			t.Fatalf("the worker finished batch %d before SIGKILL reached it, so nothing was redelivered (a timing race of this test)", victimAt)
		}
	}
	mu.Lock()
	by := acceptedBy[victimAt]
	mu.Unlock()
	if by == "" || by == victim.name {
		t.Fatalf("batch %d accepted from %q; want another worker than the killed %s", victimAt, by, victim.name)
	}
}

// The coordinator killed with SIGKILL mid-run, then run again: it resumes from the stored results,
// the queued tasks and the proofs directory, and no batch is proved twice.
func TestWorkers_CoordinatorKilledNoBatchProvedTwice(t *testing.T) {
	srv := startServer(t)
	ws := startWorkers(t, srv.URL(), 3)
	dir := t.TempDir()
	proofs := filepath.Join(dir, "proofs")
	coord := startProc(t, "coordinator", envRole+"=coordinator", envURL+"="+srv.URL(),
		envKeys+"="+fx.keysDir, envSnap+"="+fx.snapDir, envDir+"="+proofs)
	accepted := make(chan struct{})
	var once sync.Once
	coord.mu.Lock()
	coord.onEvent = func(ev workqueue.Event) {
		if ev.Event == "accepted" {
			once.Do(func() { _ = coord.cmd.Process.Kill(); close(accepted) })
		}
	}
	coord.mu.Unlock()
	select {
	case <-accepted:
	case <-time.After(3 * time.Minute):
		t.Fatal("the coordinator process accepted no proof in 3 minutes")
	}
	<-coord.done
	// Workers go on with the queued tasks while no coordinator runs.
	time.Sleep(time.Second)
	c := coordinator(t, srv, nil)
	if _, err := prover.ProveCycle(t.Context(), fx.request(dir, c)); err != nil {
		t.Fatal(err)
	}
	verifyBundle(t, filepath.Join(dir, "bundle"))
	counts := proved(ws...)
	for i, k := range counts {
		if k > 1 {
			t.Fatalf("batch %d proved %d times after the coordinator's restart (%v)", i, k, counts)
		}
	}
	if len(counts) != fx.store.Public().Batches {
		t.Fatalf("batches proved by workers: %v; want each of %d once", counts, fx.store.Public().Batches)
	}
}

// A worker holding other keys for the same circuit refuses the task, and proves nothing.
func TestWorkers_OtherKeysRefused(t *testing.T) {
	srv := startServer(t)
	other, err := fx.other.Get(prover.BatchCircuit)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := workqueue.KeyRefFor(other)
	if err != nil {
		t.Fatal(err)
	}
	refused := make(chan workqueue.Event, 16)
	c := coordinator(t, srv, func(ev workqueue.Event) {
		if ev.Event == "refused" {
			select {
			case refused <- ev:
			default:
			}
		}
	})
	c.UploadKeys = false
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if _, _, err := c.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	wc, err := srv.Connect("other-keys")
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	w := &workqueue.Worker{Conn: wc, Name: "other-keys", Keys: &workqueue.Circuit{Ref: ref, Circuit: other}, RefuseDelay: 200 * time.Millisecond}
	go w.Run(ctx)
	dir := t.TempDir()
	errc := make(chan error, 1)
	go func() { _, err := prover.ProveCycle(ctx, fx.request(dir, c)); errc <- err }()
	select {
	case ev := <-refused:
		if ev.Worker != "other-keys" || !bytes.Contains([]byte(ev.Detail), []byte("refused the task's keys")) {
			t.Fatalf("refusal %+v", ev)
		}
	case <-time.After(time.Minute):
		t.Fatal("no refusal within a minute")
	}
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("the cycle completed with only a worker that refuses")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "proofs", "*.proof")); len(m) != 0 {
		t.Fatalf("proofs written: %v", m)
	}
}

// A worker that fetches keys refuses a proving key whose bytes do not hash to the digest the task
// names (the bucket's object was replaced).
func TestWorkers_TamperedKeyRefused(t *testing.T) {
	srv := startServer(t)
	refused := make(chan workqueue.Event, 16)
	c := coordinator(t, srv, func(ev workqueue.Event) {
		if ev.Event == "refused" {
			select {
			case refused <- ev:
			default:
			}
		}
	})
	c.UploadKeys = false
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	js, ref, err := c.Setup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: workqueue.KeysBucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"r1cs-" + ref.R1CS, "pk-" + ref.PK, "vk-" + ref.VK} {
		if _, err := obs.PutBytes(ctx, name, []byte("not the key")); err != nil {
			t.Fatal(err)
		}
	}
	wc, err := srv.Connect("fetching")
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	w := &workqueue.Worker{Conn: wc, Name: "fetching", CacheDir: t.TempDir(), RefuseDelay: 200 * time.Millisecond}
	go w.Run(ctx)
	dir := t.TempDir()
	errc := make(chan error, 1)
	go func() { _, err := prover.ProveCycle(ctx, fx.request(dir, c)); errc <- err }()
	select {
	case ev := <-refused:
		if !bytes.Contains([]byte(ev.Detail), []byte("not the")) {
			t.Fatalf("refusal %+v", ev)
		}
	case <-time.After(time.Minute):
		t.Fatal("no refusal within a minute")
	}
	cancel()
	<-errc
}

// A worker that returns a valid proof of another batch is caught: the coordinator rejects it,
// queues the batch again, and an honest worker completes a bundle that verifies.
func TestWorkers_WrongProofCaught(t *testing.T) {
	srv := startServer(t)
	// Real proofs of every batch, from the in-process prover, to lie with.
	honest := t.TempDir()
	if _, err := prover.ProveCycle(t.Context(), fx.request(honest, nil)); err != nil {
		t.Fatal(err)
	}
	n := fx.store.Public().Batches
	rejected := make(chan workqueue.Event, 16)
	c := coordinator(t, srv, func(ev workqueue.Event) {
		if ev.Event == "rejected" {
			rejected <- ev
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	js, _, err := c.Setup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	errc := make(chan error, 1)
	go func() { _, err := prover.ProveCycle(ctx, fx.request(dir, c)); errc <- err }()

	// The liar takes one task and answers with the proof of the next batch.
	cons, err := js.Consumer(ctx, workqueue.TaskStream, workqueue.WorkerConsumer)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var task workqueue.Task
	if err := json.Unmarshal(msg.Data(), &task); err != nil {
		t.Fatal(err)
	}
	lie, err := os.ReadFile(prover.ProofPath(filepath.Join(honest, "proofs"), (task.Index+1)%n))
	if err != nil {
		t.Fatal(err)
	}
	res, _ := json.Marshal(workqueue.Result{Version: workqueue.ProtocolVersion, Job: task.Job, Index: task.Index, Digest: task.Digest, Worker: "liar", Proof: lie})
	if _, err := js.Publish(ctx, "solvency.result."+task.Job+"."+itoa(task.Index), res); err != nil {
		t.Fatal(err)
	}
	if err := msg.Ack(); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-rejected:
		if ev.Worker != "liar" || ev.Index != task.Index {
			t.Fatalf("rejection %+v", ev)
		}
	case <-time.After(time.Minute):
		t.Fatal("the wrong proof was not rejected")
	}
	// An honest worker now finishes the cycle, the lied-about batch included.
	wc, err := srv.Connect("honest")
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	w := &workqueue.Worker{Conn: wc, Name: "honest", CacheDir: t.TempDir()}
	go w.Run(ctx)
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("the cycle did not complete")
	}
	verifyBundle(t, filepath.Join(dir, "bundle"))
	if got, err := os.ReadFile(prover.ProofPath(filepath.Join(dir, "proofs"), task.Index)); err != nil || bytes.Equal(got, lie) {
		t.Fatalf("batch %d's accepted proof is the lie (err %v)", task.Index, err)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		t.Fatal("context cancelled early")
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
