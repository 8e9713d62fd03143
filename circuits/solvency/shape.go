package solvency

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/circuits/statement"
)

// Shape fixes a circuit's dimensions; keys are per shape. Unused position slots hold zero
// amounts; unused scenarios and limits are disabled by their enabled bits.
type Shape struct {
	Assets    int // A: asset slots (the asset table's length)
	Positions int // P: position slots
	Venues    int // V
	Groups    int // G: venue groups (protocols), each with a concentration cap
	Tiers     int // T: liquidity tiers
	Scenarios int // S: stress scenarios
	Buckets   int // K: target-weight buckets
	Options   int // O: European option slots (zero-padded like positions)
	Pools     int // L: constant-product pool-share slots (zero-padded)
}

// Limits of a shape. They keep every intermediate below its documented bit width (widths.go).
const (
	MaxShapeAssets    = 32
	MaxShapePositions = 1024
	MaxShapeVenues    = 256
	MaxShapeGroups    = 64
	MaxShapeTiers     = 16
	MaxShapeScenarios = 64
	MaxShapeBuckets   = 16
	MaxShapeOptions   = 64
	MaxShapePools     = 32
)

// TargetShape is the shape the constraint and prove-time targets are stated at.
func TargetShape() Shape {
	return Shape{Assets: 16, Positions: 64, Venues: 16, Groups: 8, Tiers: 4, Scenarios: 8, Buckets: 4}
}

// Validate checks the shape's limits.
func (s Shape) Validate() error {
	chk := func(name string, v, lo, hi int) error {
		if v < lo || v > hi {
			return fmt.Errorf("shape: %s = %d, want %d..%d", name, v, lo, hi)
		}
		return nil
	}
	return errors.Join(
		chk("assets", s.Assets, 1, MaxShapeAssets),
		chk("positions", s.Positions, 1, MaxShapePositions),
		chk("venues", s.Venues, 1, MaxShapeVenues),
		chk("groups", s.Groups, 1, MaxShapeGroups),
		chk("tiers", s.Tiers, 1, MaxShapeTiers),
		chk("scenarios", s.Scenarios, 0, MaxShapeScenarios),
		chk("buckets", s.Buckets, 0, MaxShapeBuckets),
		chk("options", s.Options, 0, MaxShapeOptions),
		chk("pools", s.Pools, 0, MaxShapePools),
	)
}

// PriceWords is the number of packed price words: ceil(A/4).
func (s Shape) PriceWords() int { return statement.NumPriceWords(s.Assets) }

// NbPublic is the number of public inputs: policyHash, LC, RC, meta, price words.
func (s Shape) NbPublic() int { return statement.FixedInputs + s.PriceWords() }

// Position is one slot: venue index, asset index and a signed amount in the asset's circuit
// units. A hedge or a borrow is negative. In circuit the amount is a 64-bit magnitude and a sign
// bit (S2); a zero amount has sign 0, and the circuit refuses sign 1 with magnitude 0.
type Position struct {
	Venue  int
	Asset  int
	Amount *big.Int
}

// Meta is the statement's scalar fields, packed into public input 3 (circuits/statement).
type Meta = statement.Meta

// LiabilitiesOpening opens LC (docs/design.md): LC = Hash(LC, epoch, time, h, n, D, root,
// accFinal, assetsHash) with accFinal = Hash(ACC, epoch, packed totals (96-bit limbs, two per
// element), salt). Epoch and time are the statement's (Meta).
type LiabilitiesOpening struct {
	Height  uint64     // h: batch subtree height
	Batches uint64     // n: proven batches
	Depth   uint64     // D: total tree depth
	Root    fr.Element // the tree root
	AccSalt fr.Element // the final running sum's salt
}

// Statement is the public statement (docs/design.md, "The solvency statement").
type Statement struct {
	PolicyHash fr.Element
	LC         fr.Element
	RC         fr.Element
	Meta       Meta
	Prices     []uint64 // USD with 8 decimals, one per asset, each < 2^63
}

// PublicInputs returns the public inputs in circuit order: policyHash, LC, RC, meta, then
// ceil(A/4) price words with price i at bit 63*(i%4) of word i/4, packed by circuits/statement,
// the one implementation the contracts and the verifier share.
func PublicInputs(st *Statement) ([]*big.Int, error) {
	return statement.PublicInputs(st.PolicyHash.BigInt(new(big.Int)), st.LC.BigInt(new(big.Int)),
		st.RC.BigInt(new(big.Int)), st.Meta, st.Prices)
}
