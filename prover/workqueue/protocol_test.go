package workqueue_test

import (
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/prover/workqueue"
)

// Two snapshots, or one snapshot under two sets of keys, never share a job (and so never share
// tasks or stored proofs).
func TestJobID_DiffersBySnapshotAndKeys(t *testing.T) {
	var a, b fr.Element
	a.SetUint64(1)
	b.SetUint64(2)
	k1 := workqueue.KeyRef{R1CS: "aa", PK: "bb", VK: "cc"}
	k2 := workqueue.KeyRef{R1CS: "aa", PK: "bd", VK: "cc"}
	base := workqueue.JobID([]fr.Element{a, b}, k1)
	for name, other := range map[string]string{
		"reordered batches": workqueue.JobID([]fr.Element{b, a}, k1),
		"one batch fewer":   workqueue.JobID([]fr.Element{a}, k1),
		"other keys":        workqueue.JobID([]fr.Element{a, b}, k2),
	} {
		if other == base {
			t.Errorf("%s: same job id %s", name, base)
		}
	}
	if again := workqueue.JobID([]fr.Element{a, b}, k1); again != base {
		t.Fatalf("job id not deterministic: %s, %s", base, again)
	}
}
