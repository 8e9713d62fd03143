// Package twincheck judges treasury portfolios with the solvency circuit's native twin
// (circuits/solvency.Evaluate) under the governance policy, so the rebalancer plans against
// exactly the rules the proof enforces and the engine checks a cycle before it proves it. It
// also names each twin limit's subject by the policy's names (a group, a target bucket, a
// stress scenario), from the limit's kind and subject fields.
package twincheck

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/treasury/derivatives"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/policy"
	"github.com/solvency-dev/solvency/treasury/rebalance"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// Checker judges portfolios with the solvency circuit's native twin, so the rebalancer
// plans against exactly the rules the proof enforces.
type Checker struct {
	Policy   *policy.File
	Table    *assets.Table
	Canon    *solvency.Policy
	groupIdx map[string]int
	venueOf  map[string]string // book venue id -> the policy's venue name
}

// New prepares the canonical policy once. The book maps the engine's venues (one
// pool per asset) to the policy's venue names; a venue whose group or tier differs from the
// policy's is refused, since the proof takes both from the policy (S4).
func New(pf *policy.File, book *venues.Book) (*Checker, error) {
	canon, err := pf.Canonical()
	if err != nil {
		return nil, err
	}
	tc := &Checker{Policy: pf, Table: pf.Table(), Canon: canon, groupIdx: map[string]int{}, venueOf: map[string]string{}}
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
func (tc *Checker) Positions(ps venues.Positions) ([]solvency.Position, error) {
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

// venueIndex is the policy's index of a book venue.
func (tc *Checker) venueIndex(id string) (int, error) {
	name, ok := tc.venueOf[id]
	if !ok {
		name = id
	}
	v, ok := tc.Policy.VenueIndex(name)
	if !ok {
		return 0, fmt.Errorf("venue %q: the policy has no such venue", id)
	}
	return v, nil
}

// Derivatives converts options and pool shares into the circuit's option and pool slots,
// venues and assets by their policy index (S4), sizes in circuit units rounded against the
// prover: a long option's size and a pool share's claims round down (a holding is never
// flattered), a short option's size rounds up (an obligation never shrinks). A long option or
// a pool leg that rounds to nothing is left out (it adds nothing); a short never rounds to
// nothing.
func (tc *Checker) Derivatives(d venues.Derivatives) ([]solvency.OptionPosition, []solvency.PoolPosition, error) {
	var opts []solvency.OptionPosition
	for _, o := range d.Canonical().Options {
		if o.Size == nil || o.Size.Sign() == 0 {
			continue
		}
		v, err := tc.venueIndex(o.Venue)
		if err != nil {
			return nil, nil, fmt.Errorf("option %s: %w", o.ID, err)
		}
		a, ok := tc.Table.Index(o.Underlying)
		if !ok {
			return nil, nil, fmt.Errorf("option %s: the policy's asset table has no asset %q", o.ID, o.Underlying)
		}
		if o.Expiry < 0 {
			return nil, nil, fmt.Errorf("option %s: negative expiry", o.ID)
		}
		short := o.Size.Sign() < 0
		// floor(-x) = -ceil(x): the short's magnitude rounded up.
		units := new(big.Int).Abs(ToCircuitUnits(o.Size, tc.Table.Assets[a]))
		if units.Sign() == 0 {
			continue
		}
		opts = append(opts, solvency.OptionPosition{Venue: v, Asset: a, Put: o.Right == derivatives.Put, Short: short,
			Strike: o.Strike, Expiry: uint64(o.Expiry), Size: units})
	}
	var pools []solvency.PoolPosition
	for _, p := range d.Canonical().Pools {
		v, err := tc.venueIndex(p.Venue)
		if err != nil {
			return nil, nil, fmt.Errorf("pool share %s: %w", p.ID, err)
		}
		a, okA := tc.Table.Index(p.AssetA)
		b, okB := tc.Table.Index(p.AssetB)
		if !okA || !okB {
			return nil, nil, fmt.Errorf("pool share %s: the policy's asset table lacks %q or %q", p.ID, p.AssetA, p.AssetB)
		}
		if p.AmountA == nil || p.AmountB == nil || p.AmountA.Sign() < 0 || p.AmountB.Sign() < 0 {
			return nil, nil, fmt.Errorf("pool share %s: amounts must be non-negative", p.ID)
		}
		x, y := ToCircuitUnits(p.AmountA, tc.Table.Assets[a]), ToCircuitUnits(p.AmountB, tc.Table.Assets[b])
		if x.Sign() == 0 && y.Sign() == 0 {
			continue
		}
		pools = append(pools, solvency.PoolPosition{Venue: v, AssetA: a, AssetB: b, AmountA: x, AmountB: y})
	}
	return opts, pools, nil
}

// Prices orders a snapshot's prices by asset slot.
func (tc *Checker) Prices(s market.Snapshot) ([]uint64, error) {
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
func (tc *Checker) Inputs(p rebalance.Portfolio) (*solvency.Inputs, error) {
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
	opts, pools, err := tc.Derivatives(p.Derivatives)
	if err != nil {
		return nil, err
	}
	return &solvency.Inputs{Table: tc.Table, Policy: tc.Canon, Positions: pos, Options: opts, Pools: pools, Prices: prices, Liabilities: liab}, nil
}

// Check implements rebalance.Checker.
func (tc *Checker) Check(p rebalance.Portfolio) (*rebalance.Report, error) {
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

// Convert copies the twin's limits into the rebalancer's report, with each cap's and in-kind
// limit's subject (the asset symbol, or the policy group's name, which the book's venues carry
// as their group) so the rebalancer knows what to move. Other kinds keep no subject: the
// rebalancer moves toward those by its own buckets.
func (tc *Checker) Convert(rep *solvency.Report) *rebalance.Report {
	out := &rebalance.Report{Pass: rep.Pass}
	for _, l := range rep.Limits {
		rl := rebalance.Limit{ID: l.ID, Kind: l.Kind, Value: l.Value, Bound: l.Bound, Pass: l.Pass, Headroom: l.Headroom}
		switch l.Kind {
		case solvency.KindInKind, solvency.KindAssetCap, solvency.KindGroupCap:
			rl.Subject = SubjectName(tc.Policy, l)
		}
		if l.Scale != nil {
			rl.Scale = new(big.Int).Set(l.Scale)
		}
		out.Limits = append(out.Limits, rl)
	}
	return out
}

// indexedPrefix is the id prefix of each limit kind whose subject is an index into one of the
// policy's lists (the twin writes the index; people and the rebalancer want the name).
var indexedPrefix = map[string]string{
	solvency.KindGroupCap: "cap/group/",
	solvency.KindTarget:   "target/",
	solvency.KindStress:   "stress/",
}

// SubjectName is the policy's name for what a twin limit is about: the asset symbol of an
// in-kind limit or asset cap, the group of a group cap, the bucket of a target band, the
// scenario of a stress limit; "" for a limit about no one thing, or an index the policy lacks.
func SubjectName(pf *policy.File, l solvency.Limit) string {
	if _, ok := indexedPrefix[l.Kind]; !ok {
		return l.Subject
	}
	k, err := strconv.Atoi(l.Subject)
	if err != nil || k < 0 {
		return ""
	}
	switch l.Kind {
	case solvency.KindGroupCap:
		if k < len(pf.Groups) {
			return pf.Groups[k].Name
		}
	case solvency.KindTarget:
		if k < len(pf.Targets) {
			return pf.Targets[k].Name
		}
	case solvency.KindStress:
		if k < len(pf.Scenarios) {
			return pf.Scenarios[k].Name
		}
	}
	return ""
}

// Label is a limit's id for people: the twin's id with a group's, bucket's or scenario's index
// replaced by its policy name ("cap/group/aave", "target/stables/low", "stress/eth crash").
func Label(pf *policy.File, l solvency.Limit) string {
	prefix, ok := indexedPrefix[l.Kind]
	name := SubjectName(pf, l)
	rest, found := strings.CutPrefix(l.ID, prefix+l.Subject)
	if !ok || name == "" || !found || (rest != "" && rest[0] != '/') {
		return l.ID
	}
	return prefix + name + rest
}
