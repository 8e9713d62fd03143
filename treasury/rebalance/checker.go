// Package rebalance plans the trades that bring a treasury back inside its policy. It is
// triggered when a limit fails, when a limit's headroom falls below a threshold, or when a
// bucket's weight leaves its band, and then works through the priorities governance set: the
// liquidity floor first, then concentration caps, then VaR and the stress scenarios (blending
// toward the low-risk bucket until they hold), then target weights, then yield (spreading the
// stable bucket across lending pools so that their supply rates after the move are equal).
//
// The rebalancer never decides on its own whether a limit holds: it asks a Checker, which in
// production is the solvency circuit's native twin, so a plan is judged by exactly the rules the
// proof enforces. Every candidate move is simulated with the executor (price impact, fees, pool
// liquidity) before it is checked.
package rebalance

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// Portfolio is what a Checker evaluates: positions (signed, in each asset's own units), the
// cycle's prices, and the liabilities per asset (in the asset's units).
type Portfolio struct {
	Positions   venues.Positions
	Prices      market.Snapshot
	Liabilities map[string]*big.Int
	// Derivatives are the options and pool shares held; the rebalancer never trades them, and
	// a checker values them by its own rules.
	Derivatives venues.Derivatives
}

// Clone deep-copies the portfolio.
func (p Portfolio) Clone() Portfolio {
	c := Portfolio{Positions: p.Positions.Clone(), Prices: p.Prices.Clone(), Liabilities: map[string]*big.Int{}, Derivatives: p.Derivatives.Clone()}
	for a, v := range p.Liabilities {
		c.Liabilities[a] = new(big.Int).Set(v)
	}
	return c
}

// Limit kinds: the solvency twin's own (circuits/solvency), so an adapter copies them through.
const (
	KindBound      = solvency.KindBound
	KindCollateral = solvency.KindCollateral
	KindInKind     = solvency.KindInKind
	KindLiquidity  = solvency.KindLiquidity
	KindAssetCap   = solvency.KindAssetCap
	KindGroupCap   = solvency.KindGroupCap
	KindTarget     = solvency.KindTarget
	KindStress     = solvency.KindStress
	KindVaR        = solvency.KindVaR
	// KindDelta is the rebalancer's own: a delta band of the policy, judged on the engine's
	// model Greeks (GreekInput), not by the proof.
	KindDelta = "delta"
)

// Limit is one checked limit.
type Limit struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Subject is what the limit is about: the asset symbol of an asset cap or in-kind limit,
	// the group name of a group cap; empty otherwise. The rebalancer uses it to pick the
	// positions to move.
	Subject string `json:"subject,omitempty"`
	// Value and Bound are for people ("31.20%", ">= 150.00%").
	Value string `json:"value"`
	Bound string `json:"bound"`
	Pass  bool   `json:"pass"`
	// Headroom is the checker's exact slack in its own units (>= 0 when passing), and Scale,
	// when set, the positive quantity that makes it relative: Headroom/Scale is the slack as a
	// fraction of the bound (of liabilities, of net reserves, ...). Without a Scale the
	// rebalancer sees only pass or fail for this limit, not "close to breaking".
	Headroom *big.Int `json:"headroom"`
	Scale    *big.Int `json:"scale,omitempty"`
}

// HeadroomBps returns the relative headroom in basis points (floored) and whether it is known.
func (l Limit) HeadroomBps() (int64, bool) {
	if l.Headroom == nil || l.Scale == nil || l.Scale.Sign() <= 0 {
		return 0, false
	}
	h := new(big.Int).Mul(l.Headroom, big.NewInt(10000))
	h.Div(h, l.Scale)
	if !h.IsInt64() {
		if h.Sign() > 0 {
			return 1 << 62, true
		}
		return -(1 << 62), true
	}
	return h.Int64(), true
}

// Report is a Checker's verdict on a portfolio.
type Report struct {
	Pass   bool    `json:"pass"`
	Limits []Limit `json:"limits"`
}

// Failing returns the limits that do not pass.
func (r *Report) Failing() []Limit {
	var out []Limit
	for _, l := range r.Limits {
		if !l.Pass {
			out = append(out, l)
		}
	}
	return out
}

// Find returns the limit with id.
func (r *Report) Find(id string) (Limit, bool) {
	for _, l := range r.Limits {
		if l.ID == id {
			return l, true
		}
	}
	return Limit{}, false
}

// Checker evaluates every policy limit of a portfolio. An error means the portfolio could not be
// evaluated at all (an unknown asset, a price out of range), not that a limit failed.
//
// The production checker (treasury/twincheck) wraps the solvency circuit's native twin
// (circuits/solvency.Evaluate) under the governance policy (treasury/policy.File):
//
//   - positions: venue slot = policy.VenueIndex(book venue's PolicyName()), asset slot =
//     table.Index(symbol); amounts scaled from on-chain decimals to the slot's circuit precision
//     with a floor toward minus infinity (a holding rounds down, a debt rounds up: against the
//     prover), positions landing on the same (slot, slot) summed;
//   - prices: the snapshot's price per table slot; liabilities: per slot, rounded up;
//   - each twin limit copied field for field (ID, Kind, Value, Bound, Pass, Headroom, Scale),
//     with Subject set to what the rebalancer matches on: the asset symbol for asset caps and
//     in-kind limits, and the policy group's name (policy.File.Groups[g].Name, which must equal
//     the book's Venue.Group) for group caps.
//
// The book's Group and Tier are then only hints; the policy's venue table is the authority (S4).
// internal/refcheck is the plain reference implementation the tests use.
type Checker interface {
	Check(p Portfolio) (*Report, error)
}

// CheckerFunc adapts a function to the Checker interface.
type CheckerFunc func(p Portfolio) (*Report, error)

// Check implements Checker.
func (f CheckerFunc) Check(p Portfolio) (*Report, error) { return f(p) }

// BindingError says which limits no allowed trade could restore; a cycle that gets one must not
// publish a passing statement.
type BindingError struct {
	Limits []Limit
}

func (e *BindingError) Error() string {
	parts := make([]string, len(e.Limits))
	for i, l := range e.Limits {
		parts[i] = fmt.Sprintf("%s (%s, bound %s)", l.ID, l.Value, l.Bound)
	}
	return "no allowed trade restores: " + strings.Join(parts, "; ")
}
