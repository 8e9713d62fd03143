// Package prover turns a cycle's inputs into a public bundle: it proves every liabilities batch
// in parallel (resumably) and the solvency statement, and writes the manifest. Keys, profiles,
// the circuit cache and the ceremony live in its subpackages.
package prover

import (
	"bytes"
	"context"

	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/internal/atomicfile"
)

// BatchTask is one batch to prove: its full assignment and the digest its proof must carry.
type BatchTask struct {
	Index      int
	Assignment frontend.Circuit
	Digest     fr.Element
}

// BatchBackend proves batches 0..n-1 into dir, resuming from the proofs already there: in this
// process (BatchProver) or on workers over a queue (package prover/workqueue). digest(i) is the
// public digest batch i's proof must carry; build(i) makes batch i's witness.
type BatchBackend interface {
	Prove(ctx context.Context, dir string, n int, digest func(i int) (fr.Element, error), build func(i int) (*BatchTask, error)) error
}

// BatchProver proves batches with one compiled circuit and its keys.
type BatchProver struct {
	CCS constraint.ConstraintSystem
	PK  groth16.ProvingKey
	VK  groth16.VerifyingKey
	// Provers is how many proofs run at once. gnark parallelises one proof across all cores, so
	// extra provers mostly overlap the serial parts; each costs about the proving key's working
	// memory. 0 picks max(1, NumCPU/2).
	Provers int
	// Progress, if set, is called after each batch with the number done and the total.
	Progress func(done, total int)
}

// ProofPath is where batch i's proof is kept in a work directory.
func ProofPath(dir string, i int) string {
	return filepath.Join(dir, fmt.Sprintf("%06d.proof", i))
}

// Prove proves batches 0..n-1 into dir, resuming: a proof already in dir that verifies against
// its batch's digest is kept, anything else is (re)proved. build(i) makes batch i's task; it runs
// on its own goroutine ahead of the provers, so witness building overlaps proving. Proof files are
// written atomically, so an interrupted run leaves only whole proofs.
func (bp *BatchProver) Prove(ctx context.Context, dir string, n int, digest func(i int) (fr.Element, error), build func(i int) (*BatchTask, error)) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create proof directory: %w", err)
	}
	// Which batches still need a proof?
	var todo []int
	for i := range n {
		d, err := digest(i)
		if err != nil {
			return err
		}
		if bp.existing(dir, i, d) {
			continue
		}
		todo = append(todo, i)
	}
	done := n - len(todo)
	if bp.Progress != nil {
		bp.Progress(done, n)
	}
	if len(todo) == 0 {
		return nil
	}
	provers := bp.Provers
	if provers <= 0 {
		provers = max(1, runtime.NumCPU()/2)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tasks := make(chan *BatchTask, provers)
	var (
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	go func() {
		defer close(tasks)
		for _, i := range todo {
			t, err := build(i)
			if err != nil {
				fail(fmt.Errorf("batch %d: build witness: %w", i, err))
				return
			}
			select {
			case tasks <- t:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range provers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range tasks {
				if ctx.Err() != nil {
					return
				}
				if err := bp.proveOne(dir, t); err != nil {
					fail(err)
					return
				}
				mu.Lock()
				done++
				d := done
				mu.Unlock()
				if bp.Progress != nil {
					bp.Progress(d, n)
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

func (bp *BatchProver) proveOne(dir string, t *BatchTask) error {
	w, err := frontend.NewWitness(t.Assignment, ecc.BN254.ScalarField())
	if err != nil {
		return fmt.Errorf("batch %d: witness: %w", t.Index, err)
	}
	proof, err := groth16.Prove(bp.CCS, bp.PK, w)
	if err != nil {
		return fmt.Errorf("batch %d: prove: %w", t.Index, err)
	}
	// A proof that does not verify against the expected digest is a bug in witness building;
	// refuse it here rather than ship it.
	pub, err := bundle.PublicWitness([]fr.Element{t.Digest})
	if err != nil {
		return err
	}
	if err := groth16.Verify(proof, bp.VK, pub); err != nil {
		return fmt.Errorf("batch %d: fresh proof does not verify against its digest: %w", t.Index, err)
	}
	var buf bytes.Buffer
	if _, err := proof.WriteTo(&buf); err != nil {
		return fmt.Errorf("batch %d: encode proof: %w", t.Index, err)
	}
	return atomicfile.WriteFile(ProofPath(dir, t.Index), buf.Bytes(), 0o644)
}

// existing reports whether dir already holds a valid proof of batch i for digest d.
func (bp *BatchProver) existing(dir string, i int, d fr.Element) bool {
	data, err := os.ReadFile(ProofPath(dir, i))
	if err != nil {
		return false
	}
	proof, err := bundle.ParseProof(data)
	if err != nil {
		return false
	}
	pub, err := bundle.PublicWitness([]fr.Element{d})
	if err != nil {
		return false
	}
	return groth16.Verify(proof, bp.VK, pub) == nil
}
