// Package poseidon holds the project's one hash: a Poseidon2 sponge over BN254, natively (for
// witnesses, trees and verifiers) and as a gnark gadget (for circuits), bit-identical.
//
// Construction (docs/design.md): capacity one element (state[0]), rate t-1. The capacity starts
// at tag*2^32 + n, binding the domain tag and the exact number of inputs, so records of different
// kinds or lengths never collide without padding. Inputs are added into state[1..t-1] block by
// block with a permutation after each block (at least one, also for n = 0); the output is
// state[1]. Collision security is about 127 bits.
//
// Parameters: gnark-crypto's fixed HorizenLabs constants for BN254 at 128-bit security with the
// security margin: width 8 and width 12, 8 full and 57 partial rounds each. The width-2 default
// (6 full, 50 partial rounds) is deliberately not used.
package poseidon

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/poseidon2"
)

// Widths and round numbers; they must match gnark-crypto's constant table.
const (
	RecordWidth   = 8  // every record hash
	NodeWidth     = 12 // 8-ary tree nodes: 8 children fit one permutation
	FullRounds    = 8
	PartialRounds = 57
	Arity         = 8 // children per tree node
)

// Domain tags: the first thing in every hashed record's capacity.
const (
	TagID        uint64 = 1
	TagLeaf      uint64 = 2
	TagNode      uint64 = 3
	TagEmpty     uint64 = 4
	TagAcc       uint64 = 5
	TagBatch     uint64 = 6
	TagLC        uint64 = 7
	TagAssets    uint64 = 8
	TagPolicy    uint64 = 9
	TagRC        uint64 = 10
	TagStatement uint64 = 11
)

// capacityIV is tag*2^32 + n; n is bounded far below 2^32 by every caller.
func capacityIV(tag uint64, n int) fr.Element {
	var iv fr.Element
	iv.SetUint64(tag)
	var shift fr.Element
	shift.SetUint64(1 << 32)
	iv.Mul(&iv, &shift)
	var nn fr.Element
	nn.SetUint64(uint64(n))
	iv.Add(&iv, &nn)
	return iv
}

// Hasher holds the two permutations; it is safe for concurrent use (the permutations keep no
// state between calls).
type Hasher struct {
	record *poseidon2.Permutation
	node   *poseidon2.Permutation
}

// NewHasher builds the permutations (round constants are precomputed tables).
func NewHasher() *Hasher {
	return &Hasher{
		record: poseidon2.NewPermutation(RecordWidth, FullRounds, PartialRounds),
		node:   poseidon2.NewPermutation(NodeWidth, FullRounds, PartialRounds),
	}
}

func sponge(perm *poseidon2.Permutation, width int, tag uint64, in []fr.Element) fr.Element {
	state := make([]fr.Element, width)
	state[0] = capacityIV(tag, len(in))
	rate := width - 1
	i := 0
	for {
		for j := 0; j < rate && i < len(in); j++ {
			state[1+j].Add(&state[1+j], &in[i])
			i++
		}
		// Permutation only errors on a wrong buffer length, which sponge never passes.
		if err := perm.Permutation(state); err != nil {
			panic(fmt.Sprintf("poseidon: permutation: %v", err))
		}
		if i >= len(in) {
			break
		}
	}
	return state[1]
}

// Hash is the width-8 sponge over a tagged, fixed-arity record.
func (h *Hasher) Hash(tag uint64, in ...fr.Element) fr.Element {
	return sponge(h.record, RecordWidth, tag, in)
}

// Node hashes the 8 children of a tree node with one width-12 permutation.
func (h *Hasher) Node(children *[Arity]fr.Element) fr.Element {
	return sponge(h.node, NodeWidth, TagNode, children[:])
}

// Uint64 lifts v into the field.
func Uint64(v uint64) fr.Element {
	var e fr.Element
	e.SetUint64(v)
	return e
}

// Big lifts a non-negative integer below p into the field; it refuses anything else so that a
// negative number is never cast into the field (V3).
func Big(v *big.Int) (fr.Element, error) {
	var e fr.Element
	if v.Sign() < 0 {
		return e, fmt.Errorf("negative value %s cannot enter the field", v)
	}
	if v.Cmp(fr.Modulus()) >= 0 {
		return e, fmt.Errorf("value %s is not below the field modulus", v)
	}
	e.SetBigInt(v)
	return e, nil
}

// Pack3x64 packs up to three 64-bit values into one element: v0 + v1*2^64 + v2*2^128.
func Pack3x64(v []uint64) fr.Element {
	if len(v) > 3 {
		panic("poseidon: Pack3x64 takes at most three values")
	}
	acc := new(big.Int)
	for i := len(v) - 1; i >= 0; i-- {
		acc.Lsh(acc, 64)
		acc.Add(acc, new(big.Int).SetUint64(v[i]))
	}
	var e fr.Element
	e.SetBigInt(acc)
	return e
}

// PackLimbs packs values of width bits each, little-endian, into one element. Each value must be
// non-negative and below 2^width, and len(v)*width must stay below 253.
func PackLimbs(v []*big.Int, width int) (fr.Element, error) {
	var e fr.Element
	if len(v)*width > 253 {
		return e, fmt.Errorf("cannot pack %d limbs of %d bits into one element", len(v), width)
	}
	acc := new(big.Int)
	for i := len(v) - 1; i >= 0; i-- {
		if v[i].Sign() < 0 || v[i].BitLen() > width {
			return e, fmt.Errorf("limb %d (%s) is outside [0, 2^%d)", i, v[i], width)
		}
		acc.Lsh(acc, uint(width))
		acc.Add(acc, v[i])
	}
	e.SetBigInt(acc)
	return e, nil
}
