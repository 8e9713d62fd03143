package batch

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// Result is what one batch produces, computed natively: everything the prover publishes for the
// batch (Digest) and everything the next batch and the tree need.
type Result struct {
	Leaves       []fr.Element // the batch's B leaves, in slot order
	Root         fr.Element   // the batch subtree root
	Before       fr.Element   // the running-sum commitment the batch starts from
	After        fr.Element   // the commitment it produces
	Digest       fr.Element   // Hash(BATCH, epoch, index, Root, Before, After): the public input
	AfterOpening Opening      // opening of After: before sums + this batch's sums, afterSalt
}

// Compute is the native twin of the batch circuit: it checks the inputs the way the circuit's
// constraints do and returns the batch's outputs. The circuit accepts exactly the witnesses for
// which Compute returns no error (up to the hash being collision resistant).
func Compute(h *poseidon.Hasher, s Shape, epoch, index uint64, idHashes []fr.Element, balances [][]uint64,
	before Opening, afterSalt fr.Element) (Result, error) {
	if err := s.Validate(); err != nil {
		return Result{}, err
	}
	b := s.BatchSize()
	if len(idHashes) != b || len(balances) != b {
		return Result{}, fmt.Errorf("batch %s: got %d id hashes and %d balance rows, want %d of each (pad with zero-balance accounts, L5)",
			s, len(idHashes), len(balances), b)
	}
	if len(before.Sums) != s.Assets {
		return Result{}, fmt.Errorf("before opening has %d sums, want %d", len(before.Sums), s.Assets)
	}
	if index == 0 {
		// L1: batch 0 starts from ACC0's opening.
		for a, v := range before.Sums {
			if v == nil || v.Sign() != 0 {
				return Result{}, fmt.Errorf("batch 0 must start from zero sums (L1); sum %d is %v", a, v)
			}
		}
		if !before.Salt.IsZero() {
			return Result{}, errors.New("batch 0 must start from ACC0, whose salt is 0 (L1)")
		}
	}
	beforeC, err := AccCommit(h, epoch, before)
	if err != nil {
		return Result{}, fmt.Errorf("before opening: %w", err)
	}
	res := Result{Leaves: make([]fr.Element, b), Before: beforeC}
	after := Opening{Sums: make([]*big.Int, s.Assets), Salt: afterSalt}
	for a := range after.Sums {
		after.Sums[a] = new(big.Int).Set(before.Sums[a])
	}
	tmp := new(big.Int)
	for i := range b {
		if len(balances[i]) != s.Assets {
			return Result{}, fmt.Errorf("account %d has %d balances, want %d", i, len(balances[i]), s.Assets)
		}
		res.Leaves[i] = Leaf(h, idHashes[i], balances[i])
		for a, v := range balances[i] {
			after.Sums[a].Add(after.Sums[a], tmp.SetUint64(v))
		}
	}
	// AccCommit refuses an after sum past 2^96, as the circuit's range check does (L2).
	if res.After, err = AccCommit(h, epoch, after); err != nil {
		return Result{}, fmt.Errorf("after opening: %w", err)
	}
	if res.Root, err = SubtreeRoot(h, res.Leaves); err != nil {
		return Result{}, err
	}
	res.AfterOpening = after
	res.Digest = Digest(h, epoch, index, res.Root, res.Before, res.After)
	return res, nil
}
