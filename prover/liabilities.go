package prover

import (
	"context"
	"fmt"
	"os"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/constraint"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/batch"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/liabilities"
)

// LiabilitiesProof is a liabilities snapshot with every batch proved.
type LiabilitiesProof struct {
	Public  *liabilities.Public
	Tree    bundle.Liabilities
	Batches []bundle.Batch
	Proofs  [][]byte // Proofs[i] is batch i's proof, gnark binary encoding
}

// ProveLiabilities proves every batch of the snapshot in store into proofDir, resuming from the
// proofs already there, and returns the bundle's liabilities section. The circuit keys must be
// for the store's shape. backend, if not nil, proves the batches instead of an in-process
// BatchProver (workers over a queue, say); every proof it leaves in proofDir is still read back
// and bound into the bundle here.
func ProveLiabilities(ctx context.Context, store *liabilities.Store, proofDir string, ccs constraint.ConstraintSystem, pk groth16.ProvingKey, vk groth16.VerifyingKey, provers int, progress func(done, total int), backend BatchBackend) (*LiabilitiesProof, error) {
	pub := store.Public()
	h := poseidon.NewHasher()
	n := pub.Batches
	// Digests come from the store's batch records; the witness is rebuilt and cross-checked
	// against them, so a corrupted store cannot yield proofs of something else.
	digests := make([]fr.Element, n)
	roots := make([]fr.Element, n)
	befores := make([]fr.Element, n)
	afters := make([]fr.Element, n)
	for i := range n {
		in, err := store.Batch(i)
		if err != nil {
			return nil, err
		}
		digests[i], roots[i], befores[i], afters[i] = in.Digest, in.Root, in.AccBefore, in.AccAfter
	}
	if backend == nil {
		backend = &BatchProver{CCS: ccs, PK: pk, VK: vk, Provers: provers, Progress: progress}
	}
	err := backend.Prove(ctx, proofDir, n,
		func(i int) (fr.Element, error) { return digests[i], nil },
		func(i int) (*BatchTask, error) {
			in, err := store.Batch(i)
			if err != nil {
				return nil, err
			}
			c, res, err := batch.AssignWith(h, in.Shape, in.Epoch, in.Index, in.IDHashes, in.Balances, in.Before, in.AfterSalt)
			if err != nil {
				return nil, err
			}
			if !res.Digest.Equal(&in.Digest) || !res.Root.Equal(&in.Root) || !res.After.Equal(&in.AccAfter) {
				return nil, fmt.Errorf("batch %d: the store's records do not match its accounts", i)
			}
			return &BatchTask{Index: i, Assignment: c, Digest: in.Digest}, nil
		})
	if err != nil {
		return nil, err
	}
	out := &LiabilitiesProof{Public: pub, Proofs: make([][]byte, n)}
	for i := range n {
		data, err := os.ReadFile(ProofPath(proofDir, i))
		if err != nil {
			return nil, fmt.Errorf("read batch %d proof: %w", i, err)
		}
		out.Proofs[i] = data
		out.Batches = append(out.Batches, bundle.Batch{
			Index: i, Root: el(roots[i]), Before: el(befores[i]), After: el(afters[i]), Digest: el(digests[i]),
			ProofFile: bundle.ProofFile{Path: bundle.BatchProofPath(i), SHA256: bundle.SHA256Hex(data)},
		})
	}
	top, err := batch.TopLevels(h, roots, pub.BatchHeight)
	if err != nil {
		return nil, err
	}
	if root := pub.Root.Fr(); !top[len(top)-1][0].Equal(&root) {
		return nil, fmt.Errorf("the batch roots do not recompute the snapshot's root")
	}
	out.Tree = bundle.Liabilities{
		Height: pub.BatchHeight, BatchSize: pub.BatchSize, Batches: n, Depth: pub.Depth,
		Root: el(pub.Root.Fr()), AccFinal: el(pub.AccFinal.Fr()), AssetsHash: el(pub.AssetsHash.Fr()),
	}
	for _, lv := range top {
		row := make([]poseidon.Element, len(lv))
		for i := range lv {
			row[i] = el(lv[i])
		}
		out.Tree.TopLevels = append(out.Tree.TopLevels, row)
	}
	return out, nil
}

func el(e fr.Element) poseidon.Element { return poseidon.Element{Element: e} }
