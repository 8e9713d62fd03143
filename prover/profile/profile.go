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
	// RiskFactors is the dimension of the Value-at-Risk covariance's Cholesky factor.
	RiskFactors int `json:"risk_factors"`
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
	}{
		{"positions", p.Positions}, {"scenarios", p.Scenarios}, {"venues", p.Venues},
		{"venue groups", p.VenueGroups}, {"liquidity tiers", p.LiquidityTiers},
		{"risk factors", p.RiskFactors},
	} {
		if d.v < 1 || d.v > MaxDimension {
			return fmt.Errorf("profile %s: %s %d out of range [1, %d]", p.Name, d.name, d.v, MaxDimension)
		}
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
			LiquidityTiers: 2, RiskFactors: 2,
		},
		{
			Name:        "demo",
			Description: "a small but realistic treasury for demonstrations",
			BatchHeight: 2, Assets: 4, Positions: 16, Scenarios: 4, Venues: 4, VenueGroups: 2,
			LiquidityTiers: 3, RiskFactors: 4,
		},
		{
			Name:        "production",
			Description: "512 accounts per batch at 8 assets (the liabilities target shape)",
			BatchHeight: 3, Assets: 8, Positions: 64, Scenarios: 8, Venues: 16, VenueGroups: 4,
			LiquidityTiers: 3, RiskFactors: 8,
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
	if s.Name == "" || len(s.Name) > 32 {
		return fmt.Errorf("circuit name %q must be 1 to 32 characters", s.Name)
	}
	for _, r := range s.Name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("circuit name %q may only use a-z, 0-9, '-' and '_'", s.Name)
		}
	}
	return nil
}

// Circuits returns the circuits every cycle proves, in the order keys are made. Both go through
// setup and the ceremony (V1).
//
// The liabilities batch circuit and the solvency circuit plug in here, one entry each:
//
//	{Name: "batch", Version: "1", New: func(p Profile) (frontend.Circuit, error) { return batch.NewCircuit(p.BatchHeight, p.Assets) }},
//	{Name: "solvency", Version: "1", New: func(p Profile) (frontend.Circuit, error) { return solvency.NewCircuit(...) }},
//
// Until they land the list is empty and setup and the ceremony refuse to run.
func Circuits() []CircuitSpec {
	return nil
}
