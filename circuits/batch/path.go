package batch

import (
	"errors"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/circuits/poseidon"
)

// Siblings is one level of an inclusion path: the other seven children of the node, in child
// order with the path's own position left out.
type Siblings = [poseidon.Arity - 1]fr.Element

// PathRoot recomputes the root above leaf from its siblings, bottom level first. The direction
// at level l is the l-th base-8 digit of index (least significant first); index must have no
// digits beyond len(siblings), so one leaf has exactly one index (L7).
func PathRoot(h *poseidon.Hasher, leaf fr.Element, index uint64, siblings []Siblings) (fr.Element, error) {
	if len(siblings) == 0 {
		return fr.Element{}, errors.New("inclusion path has no levels")
	}
	if len(siblings) > 21 { // 8^21 = 2^63: deeper indices no longer fit a uint64
		return fr.Element{}, fmt.Errorf("inclusion path of %d levels is too deep", len(siblings))
	}
	if index>>(3*uint(len(siblings))) != 0 {
		return fr.Element{}, fmt.Errorf("index %d does not fit a tree of depth %d", index, len(siblings))
	}
	cur := leaf
	for _, sib := range siblings {
		d := int(index % poseidon.Arity)
		index /= poseidon.Arity
		var ch [poseidon.Arity]fr.Element
		copy(ch[:d], sib[:d])
		ch[d] = cur
		copy(ch[d+1:], sib[d:])
		cur = h.Node(&ch)
	}
	return cur, nil
}

// VerifyPath checks that leaf sits at index under root with exactly depth levels of siblings
// (L7). The caller also checks index < n*B against the LC preimage it trusts; this function only
// knows the tree's depth.
func VerifyPath(h *poseidon.Hasher, leaf fr.Element, index uint64, depth int, siblings []Siblings, root fr.Element) error {
	if len(siblings) != depth {
		return fmt.Errorf("inclusion path has %d levels; the tree has depth %d", len(siblings), depth)
	}
	got, err := PathRoot(h, leaf, index, siblings)
	if err != nil {
		return err
	}
	if !got.Equal(&root) {
		return errors.New("inclusion path does not lead to the root")
	}
	return nil
}

// PathSiblings extracts the siblings of position index from one full level-by-level tree:
// levels[0] are the leaves, levels[l] the nodes at height l, each a multiple of 8 long except the
// last (the root). It is the inverse of PathRoot, for tree builders and tests.
func PathSiblings(levels [][]fr.Element, index uint64) ([]Siblings, error) {
	if len(levels) < 2 {
		return nil, errors.New("tree has no levels above the leaves")
	}
	out := make([]Siblings, 0, len(levels)-1)
	for l := 0; l < len(levels)-1; l++ {
		lv := levels[l]
		if uint64(len(lv)) <= index {
			return nil, fmt.Errorf("index %d is outside level %d of %d nodes", index, l, len(lv))
		}
		base := index - index%poseidon.Arity
		if uint64(len(lv)) < base+poseidon.Arity {
			return nil, fmt.Errorf("level %d has %d nodes: not a full 8-ary level", l, len(lv))
		}
		d := int(index % poseidon.Arity)
		var s Siblings
		copy(s[:d], lv[base:base+uint64(d)])
		copy(s[d:], lv[base+uint64(d)+1:base+poseidon.Arity])
		out = append(out, s)
		index /= poseidon.Arity
	}
	return out, nil
}
