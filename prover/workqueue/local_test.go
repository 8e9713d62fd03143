package workqueue_test

import (
	"path/filepath"
	"testing"

	"github.com/solvency-dev/solvency/prover"
	"github.com/solvency-dev/solvency/prover/workqueue"
)

// The single-machine queue: an embedded server with local workers on goroutines proves a cycle
// whose bundle verifies.
func TestLocalWorkers_BundleVerifies(t *testing.T) {
	l, err := workqueue.StartLocal(t.Context(), t.TempDir(), fx.batchKey, 2)
	if err != nil {
		t.Fatal(err)
	}
	l.Coord.Events = func(ev workqueue.Event) { t.Logf("%s %d %s %s", ev.Event, ev.Index, ev.Worker, ev.Detail) }
	dir := t.TempDir()
	if _, err := prover.ProveCycle(t.Context(), fx.request(dir, l.Coord)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	verifyBundle(t, filepath.Join(dir, "bundle"))
}
