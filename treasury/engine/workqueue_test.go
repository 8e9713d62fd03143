package engine

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/devnet"
	"github.com/solvency-dev/solvency/prover"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/workqueue"
)

// countingBackend records that the engine handed its batches to the backend it was given.
type countingBackend struct {
	inner prover.BatchBackend
	calls int
}

func (c *countingBackend) Prove(ctx context.Context, dir string, n int, digest func(int) (fr.Element, error), build func(int) (*prover.BatchTask, error)) error {
	c.calls++
	return c.inner.Prove(ctx, dir, n, digest, build)
}

// TestEngineProvesBatchesOnWorkQueue: with Options.Batches the cycle's liabilities batches go
// through a NATS JetStream work queue (an embedded server and one local worker here), and the
// cycle still verifies and publishes.
func TestEngineProvesBatchesOnWorkQueue(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits")
	}
	dir := t.TempDir()
	cfg := sampleConfig(t, dir, 100)
	d, err := devnet.Start(devnet.Config{DataDir: filepath.Join(dir, "chain")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	ch, err := contracts.NewChain(ctx, d.Client(), d.Key)
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	evm := &EVMChain{Chain: ch, AddrFile: filepath.Join(state, "addresses.json"), DevFeeds: true, Name: "test devnet"}
	var backend *countingBackend
	batches := func(k *keys.Keys) (prover.BatchBackend, func(), error) {
		bk, err := k.Get(prover.BatchCircuit)
		if err != nil {
			return nil, nil, err
		}
		l, err := workqueue.StartLocal(ctx, filepath.Join(dir, "jetstream"), bk, 1)
		if err != nil {
			return nil, nil, err
		}
		backend = &countingBackend{inner: l.Coord}
		return backend, func() { l.Close() }, nil
	}
	var log bytes.Buffer
	eng, err := Open(ctx, cfg, Options{StateDir: state, Keys: sharedKeys(t, "demo"), Chain: evm, Log: &log, Batches: batches})
	if err != nil {
		t.Fatalf("open: %v\n%s", err, log.String())
	}
	defer eng.Close()
	if err := eng.Run(ctx, 1, nil); err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	if backend == nil || backend.calls == 0 {
		t.Fatalf("the batches were not handed to the work queue")
	}
	if got, ok, err := evm.PublishedCycle(ctx); err != nil || !ok || got != 1 {
		t.Fatalf("registry has cycle %d (%v, %v); want 1", got, ok, err)
	}
}
