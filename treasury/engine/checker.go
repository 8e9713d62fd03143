// Package engine runs the treasury's cycles: prices, assess, rebalance, execute, prove, verify,
// publish, record. Every stage is recorded in the state directory before the next begins, so a
// cycle killed at any point resumes without repeating a publish or losing a trade.
package engine

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/policy"
	"github.com/solvency-dev/solvency/treasury/rebalance"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// TwinChecker judges portfolios with the solvency circuit's native twin, so the rebalancer
// plans against exactly the rules the proof enforces.
type TwinChecker struct {
	Policy   *policy.File
	Table    *assets.Table
	Canon    *solvency.Policy
	groupIdx map[string]int
	venueOf  map[string]string // book venue id -> the policy's venue name
}

// NewTwinChecker prepares the canonical policy once. The book maps the engine's venues (one
// pool per asset) to the policy's venue names; a venue whose group or tier differs from the
// policy's is refused, since the proof takes both from the policy (S4).
func NewTwinChecker(pf *policy.File, book *venues.Book) (*TwinChecker, error) {
	canon, err := pf.Canonical()
	if err != nil {
		return nil, err
	}
	tc := &TwinChecker{Policy: pf, Table: pf.Table(), Canon: canon, groupIdx: map[string]int{}, venueOf: map[string]string{}}
	for i, g := range pf.Groups {
		tc.groupIdx[g.Name] = i
	}
	for _, v := range book.Venues {
		name := v.PolicyName()
		if _, ok := pf.VenueIndex(name); !ok {
			return nil, fmt.Errorf("venue %q (policy name %q) is not in the policy's venue table", v.ID, name)
		}
		tc.venueOf[v.ID] = name
	}
	return tc, nil
}

// ToCircuitUnits converts an on-chain amount (the asset's ERC-20 decimals) to circuit units,
// rounding toward minus infinity: reserves are never flattered, debts never shrink.
func ToCircuitUnits(amount *big.Int, a assets.Asset) *big.Int {
	d := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(a.Decimals-a.Precision)), nil)
	return new(big.Int).Div(amount, d) // Euclidean division: floor for a positive divisor
}

// FromCircuitUnits converts circuit units back to on-chain units (exact).
func FromCircuitUnits(units *big.Int, a assets.Asset) *big.Int {
	d := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(a.Decimals-a.Precision)), nil)
	return new(big.Int).Mul(units, d)
}

// Positions converts a treasury book's positions into the circuit's position slots, one per
// non-zero (venue, asset), venues and assets by their policy index (S4).
func (tc *TwinChecker) Positions(ps venues.Positions) ([]solvency.Position, error) {
	var out []solvency.Position
	for _, p := range ps.Canonical() {
		if p.Amount == nil || p.Amount.Sign() == 0 {
			continue
		}
		name, ok := tc.venueOf[p.Venue]
		if !ok {
			name = p.Venue
		}
		v, ok := tc.Policy.VenueIndex(name)
		if !ok {
			return nil, fmt.Errorf("position at venue %q: the policy has no such venue", p.Venue)
		}
		a, ok := tc.Table.Index(p.Asset)
		if !ok {
			return nil, fmt.Errorf("position in %q: the policy's asset table has no such asset", p.Asset)
		}
		units := ToCircuitUnits(p.Amount, tc.Table.Assets[a])
		if units.Sign() == 0 {
			continue
		}
		out = append(out, solvency.Position{Venue: v, Asset: a, Amount: units})
	}
	return out, nil
}

// Prices orders a snapshot's prices by asset slot.
func (tc *TwinChecker) Prices(s market.Snapshot) ([]uint64, error) {
	out := make([]uint64, tc.Table.Len())
	for i, a := range tc.Table.Assets {
		p, err := s.Price(a.Symbol)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// Inputs builds the twin's inputs; liabilities are per-asset totals in on-chain units, rounded
// up into circuit units.
func (tc *TwinChecker) Inputs(p rebalance.Portfolio) (*solvency.Inputs, error) {
	pos, err := tc.Positions(p.Positions)
	if err != nil {
		return nil, err
	}
	prices, err := tc.Prices(p.Prices)
	if err != nil {
		return nil, err
	}
	liab := make([]*big.Int, tc.Table.Len())
	for i, a := range tc.Table.Assets {
		v := p.Liabilities[a.Symbol]
		if v == nil {
			liab[i] = new(big.Int)
			continue
		}
		// Liabilities round up: ceil(v / 10^(dec-prec)).
		d := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(a.Decimals-a.Precision)), nil)
		q, r := new(big.Int).QuoRem(v, d, new(big.Int))
		if r.Sign() > 0 {
			q.Add(q, big.NewInt(1))
		}
		liab[i] = q
	}
	return &solvency.Inputs{Table: tc.Table, Policy: tc.Canon, Positions: pos, Prices: prices, Liabilities: liab}, nil
}

// Check implements rebalance.Checker.
func (tc *TwinChecker) Check(p rebalance.Portfolio) (*rebalance.Report, error) {
	in, err := tc.Inputs(p)
	if err != nil {
		return nil, err
	}
	rep, err := solvency.Evaluate(in)
	if err != nil {
		return nil, err
	}
	return tc.Convert(rep), nil
}

// Convert copies the twin's limits into the rebalancer's report, naming each limit's subject
// (the asset or group it is about) so the rebalancer knows what to move.
func (tc *TwinChecker) Convert(rep *solvency.Report) *rebalance.Report {
	out := &rebalance.Report{Pass: rep.Pass}
	for _, l := range rep.Limits {
		rl := rebalance.Limit{ID: l.ID, Kind: l.Kind, Value: l.Value, Bound: l.Bound, Pass: l.Pass, Headroom: l.Headroom}
		switch {
		case strings.HasPrefix(l.ID, "in-kind/"):
			rl.Subject = strings.TrimPrefix(l.ID, "in-kind/")
		case strings.HasPrefix(l.ID, "cap/asset/"):
			rl.Subject = strings.TrimPrefix(l.ID, "cap/asset/")
		case strings.HasPrefix(l.ID, "cap/group/"):
			var g int
			if _, err := fmt.Sscanf(l.ID, "cap/group/%d", &g); err == nil && g < len(tc.Policy.Groups) {
				rl.Subject = tc.Policy.Groups[g].Name
			}
		}
		if l.Scale != nil {
			rl.Scale = new(big.Int).Set(l.Scale)
		}
		out.Limits = append(out.Limits, rl)
	}
	return out
}
