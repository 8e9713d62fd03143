package poseidon

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/permutation/poseidon2"
)

// Gadget is the in-circuit twin of Hasher.
type Gadget struct {
	api    frontend.API
	record *poseidon2.Permutation
	node   *poseidon2.Permutation
}

// NewGadget builds the in-circuit permutations with the same parameters as NewHasher.
func NewGadget(api frontend.API) (*Gadget, error) {
	rec, err := poseidon2.NewPoseidon2FromParameters(api, RecordWidth, FullRounds, PartialRounds)
	if err != nil {
		return nil, fmt.Errorf("poseidon: width-%d permutation: %w", RecordWidth, err)
	}
	node, err := poseidon2.NewPoseidon2FromParameters(api, NodeWidth, FullRounds, PartialRounds)
	if err != nil {
		return nil, fmt.Errorf("poseidon: width-%d permutation: %w", NodeWidth, err)
	}
	return &Gadget{api: api, record: rec, node: node}, nil
}

func (g *Gadget) sponge(perm *poseidon2.Permutation, width int, tag uint64, in []frontend.Variable) frontend.Variable {
	state := make([]frontend.Variable, width)
	iv := new(big.Int).Lsh(new(big.Int).SetUint64(tag), 32)
	iv.Add(iv, big.NewInt(int64(len(in))))
	state[0] = iv
	for j := 1; j < width; j++ {
		state[j] = 0
	}
	rate := width - 1
	i := 0
	for {
		for j := 0; j < rate && i < len(in); j++ {
			state[1+j] = g.api.Add(state[1+j], in[i])
			i++
		}
		// Permutation errors only on a wrong buffer length, which sponge never passes.
		if err := perm.Permutation(state); err != nil {
			panic(fmt.Sprintf("poseidon: permutation: %v", err))
		}
		if i >= len(in) {
			break
		}
	}
	return state[1]
}

// Hash is the in-circuit width-8 sponge; it equals Hasher.Hash on the same inputs.
func (g *Gadget) Hash(tag uint64, in ...frontend.Variable) frontend.Variable {
	return g.sponge(g.record, RecordWidth, tag, in)
}

// Node is the in-circuit 8-ary node hash; it equals Hasher.Node.
func (g *Gadget) Node(children [Arity]frontend.Variable) frontend.Variable {
	return g.sponge(g.node, NodeWidth, TagNode, children[:])
}

// PackLimbsGadget returns sum v[i] * 2^(width*i). The caller must have range-checked every limb to
// width bits, and len(v)*width must stay below 253, so the packing is injective (L2, S1).
func PackLimbsGadget(api frontend.API, v []frontend.Variable, width int) frontend.Variable {
	if len(v)*width > 253 {
		panic(fmt.Sprintf("poseidon: cannot pack %d limbs of %d bits", len(v), width))
	}
	var acc frontend.Variable = 0
	for i := len(v) - 1; i >= 0; i-- {
		acc = api.Add(api.Mul(acc, new(big.Int).Lsh(big.NewInt(1), uint(width))), v[i])
	}
	return acc
}
