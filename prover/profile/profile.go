// Package profile names the circuit shapes the prover supports. A profile is plain data: every
// circuit of a cycle is built from one, keys belong to one, and a bundle names the one it used, so
// a verifier can tell which shape a proof claims without trusting anything else in the bundle.
package profile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/consensys/gnark/frontend"

	"github.com/solvency-dev/solvency/circuits/batch"
	"github.com/solvency-dev/solvency/circuits/solvency"
)

// Profile is one circuit shape. Every field is a fixed circuit dimension: changing any of them
// changes the constraint system, so it needs new keys.
type Profile struct {
	Name        string `json:"name"`
	Description string `json:"description"`

	// BatchHeight is h: a liabilities batch is an 8-ary subtree of height h holding B = 8^h
	// accounts (design.md, "Liabilities tree").
	BatchHeight int `json:"batch_height"`
	// Assets is A, the number of asset slots in the asset table (balances per account, prices).
	Assets int `json:"assets"`
	// Positions is P, the number of (venue, asset) position slots in the reserves commitment.
	Positions int `json:"positions"`
	// Scenarios is S, the number of stress scenarios the policy can name.
	Scenarios int `json:"scenarios"`
	// Venues is V, the number of venues in the policy's venue table.
	Venues int `json:"venues"`
	// VenueGroups is G, the number of groups venues are capped by (concentration limits).
	VenueGroups int `json:"venue_groups"`
	// LiquidityTiers is T, the number of liquidity tiers (net liquidity per tier).
	LiquidityTiers int `json:"liquidity_tiers"`
	// Buckets is K, the number of target-weight buckets (0 allowed: no bucket limits).
	Buckets int `json:"buckets"`
	// Options is the number of European option slots in the reserves commitment (0 allowed).
	Options int `json:"options"`
	// Pools is the number of constant-product pool-share slots (0 allowed).
	Pools int `json:"pools"`
}

// BatchSize is B = 8^h, the number of accounts (real and padding) in one batch.
func (p Profile) BatchSize() int {
	b := 1
	for i := 0; i < p.BatchHeight; i++ {
		b *= 8
	}
	return b
}

// Limits on every dimension. They exist so that a profile read from a file cannot ask for a
// circuit that would exhaust memory before anything else fails, and so that the public-input
// packing (four prices per word, at most 16 assets: design.md) stays within its documented range.
const (
	MaxBatchHeight = 6 // 8^6 = 262,144 accounts per batch, far beyond a provable batch today
	MaxAssets      = 16
	MaxDimension   = 1024
)

// Validate reports the first dimension that is out of range.
func (p Profile) Validate() error {
	if p.Name == "" {
		return errors.New("profile has no name")
	}
	if p.BatchHeight < 1 || p.BatchHeight > MaxBatchHeight {
		return fmt.Errorf("profile %s: batch height %d out of range [1, %d]", p.Name, p.BatchHeight, MaxBatchHeight)
	}
	if p.Assets < 1 || p.Assets > MaxAssets {
		return fmt.Errorf("profile %s: assets %d out of range [1, %d]", p.Name, p.Assets, MaxAssets)
	}
	for _, d := range []struct {
		name string
		v    int
		min  int
	}{
		{"positions", p.Positions, 1}, {"venues", p.Venues, 1}, {"venue groups", p.VenueGroups, 1},
		{"liquidity tiers", p.LiquidityTiers, 1}, {"scenarios", p.Scenarios, 0}, {"buckets", p.Buckets, 0},
	} {
		if d.v < d.min || d.v > MaxDimension {
			return fmt.Errorf("profile %s: %s %d out of range [%d, %d]", p.Name, d.name, d.v, d.min, MaxDimension)
		}
	}
	if p.Options < 0 || p.Options > solvency.MaxShapeOptions {
		return fmt.Errorf("profile %s: options %d out of range [0, %d]", p.Name, p.Options, solvency.MaxShapeOptions)
	}
	if p.Pools < 0 || p.Pools > solvency.MaxShapePools {
		return fmt.Errorf("profile %s: pools %d out of range [0, %d]", p.Name, p.Pools, solvency.MaxShapePools)
	}
	return nil
}

// Digest is the sha256 of the profile's canonical JSON encoding (fields in declaration order),
// hex encoded. Keys, caches and bundles record it so that two profiles that share a name but
// differ in a dimension are never confused.
func (p Profile) Digest() string {
	b, err := json.Marshal(p)
	if err != nil {
		// A struct of strings and ints always marshals; keep the function total anyway.
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// builtins returns a fresh copy of the built-in profiles on every call, so no caller can change
// what another sees (no global mutable state).
func builtins() []Profile {
	return []Profile{
		{
			Name:        "test",
			Description: "tiny shapes for unit tests, CI and quick demos; keys set up in seconds",
			BatchHeight: 1, Assets: 2, Positions: 4, Scenarios: 2, Venues: 2, VenueGroups: 2,
			LiquidityTiers: 2, Buckets: 1, Options: 2, Pools: 1,
		},
		{
			Name: "demo",
			Description: "the sample DAO treasury (testdata/policy.json's slots) with 64 accounts per " +
				"batch: keys in seconds, 10,000 accounts proved in minutes",
			BatchHeight: 2, Assets: 8, Positions: 32, Scenarios: 8, Venues: 16, VenueGroups: 8,
			LiquidityTiers: 4, Buckets: 4, Options: 4, Pools: 2,
		},
		{
			Name:        "production",
			Description: "512 accounts per batch at 8 assets (the liabilities target shape)",
			BatchHeight: 3, Assets: 8, Positions: 64, Scenarios: 8, Venues: 16, VenueGroups: 8,
			LiquidityTiers: 4, Buckets: 4, Options: 8, Pools: 4,
		},
	}
}

// Names lists the built-in profiles, sorted.
func Names() []string {
	var names []string
	for _, p := range builtins() {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the built-in profile called name.
func Lookup(name string) (Profile, error) {
	for _, p := range builtins() {
		if p.Name == name {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("unknown profile %q (known: %v)", name, Names())
}

// CircuitSpec builds one circuit of a cycle for a profile. The circuit packages satisfy it with a
// constructor; see Circuits.
type CircuitSpec struct {
	// Name identifies the circuit in key directories, caches and bundles ("batch", "solvency").
	// It must be a short lowercase file-name-safe word.
	Name string
	// Version must change whenever the circuit's constraints change in a way the Go type of the
	// circuit struct does not show (a change inside Define). The compiled-circuit cache and the
	// keys are keyed by it together with the struct's shape, so a stale cache is rebuilt.
	Version string
	// New returns the circuit to compile for p, with every slice sized.
	New func(p Profile) (frontend.Circuit, error)
}

// Validate checks that the spec can name files and be built.
func (s CircuitSpec) Validate() error {
	if s.New == nil {
		return fmt.Errorf("circuit %q has no constructor", s.Name)
	}
	return ValidCircuitName(s.Name)
}

// ValidCircuitName checks that name can be used as a file name everywhere a circuit is named.
func ValidCircuitName(name string) error {
	if name == "" || len(name) > 32 {
		return fmt.Errorf("circuit name %q must be 1 to 32 characters", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("circuit name %q may only use a-z, 0-9, '-' and '_'", name)
		}
	}
	return nil
}

// Circuits returns the circuits every cycle proves, in the order keys are made. Both go through
// setup and the ceremony (V1).
//
// The liabilities batch circuit and the solvency circuit plug in here, one entry each
// (checked to compile against circuits/batch and circuits/solvency as of this writing):
//
//	{Name: "batch", Version: "1", New: func(p Profile) (frontend.Circuit, error) {
//		s := batch.Shape{Height: p.BatchHeight, Assets: p.Assets}
//		if err := s.Validate(); err != nil {
//			return nil, err
//		}
//		return batch.NewCircuit(s), nil
//	}},
//	{Name: "solvency", Version: "1", New: func(p Profile) (frontend.Circuit, error) {
//		s := solvency.Shape{Assets: p.Assets, Positions: p.Positions, Venues: p.Venues,
//			Groups: p.VenueGroups, Tiers: p.LiquidityTiers, Scenarios: p.Scenarios, Buckets: p.Buckets}
//		if err := s.Validate(); err != nil {
//			return nil, err
//		}
//		return solvency.NewCircuit(s), nil
//	}},
//
// Bump Version whenever a circuit's constraints change without its struct changing: the compiled
// circuit cache is keyed by it.
func Circuits() []CircuitSpec {
	return []CircuitSpec{
		{Name: "batch", Version: "1", New: func(p Profile) (frontend.Circuit, error) {
			s := batch.Shape{Height: p.BatchHeight, Assets: p.Assets}
			if err := s.Validate(); err != nil {
				return nil, err
			}
			return batch.NewCircuit(s), nil
		}},
		{Name: "solvency", Version: "3", New: func(p Profile) (frontend.Circuit, error) {
			s := p.SolvencyShape()
			if err := s.Validate(); err != nil {
				return nil, err
			}
			return solvency.NewCircuit(s), nil
		}},
	}
}

// SolvencyShape is the solvency circuit's shape for the profile.
func (p Profile) SolvencyShape() solvency.Shape {
	return solvency.Shape{Assets: p.Assets, Positions: p.Positions, Venues: p.Venues,
		Groups: p.VenueGroups, Tiers: p.LiquidityTiers, Scenarios: p.Scenarios, Buckets: p.Buckets,
		Options: p.Options, Pools: p.Pools}
}

// BatchShape is the liabilities batch circuit's shape for the profile.
func (p Profile) BatchShape() batch.Shape {
	return batch.Shape{Height: p.BatchHeight, Assets: p.Assets}
}
