//go:build !js

package verifier

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/prover/profile"
)

// ReservesCaveat is the note that goes with every reserves result that has no balances check:
// an opening alone does not show that the treasury holds the portfolio.
const ReservesCaveat = `Without --balances this shows only that the opening is the committed portfolio: the proof
says that portfolio meets the policy, not that the treasury holds it. Compare every amount with
chain state at the reserves block (--balances) before countersigning.`

// RecordStatement is what the registry's record of a cycle says about reserves. The caller reads
// it from chain (this package does not dial nodes); Where names the chain and registry.
type RecordStatement struct {
	Where string
	RC    fr.Element
	Block uint64
}

// ReservesInput is everything CheckReserves compares. At least one of Bundle and Record is set.
type ReservesInput struct {
	Opening    *OpenedReserves
	Bundle     *bundle.Manifest  // the bundle's statement, or nil
	BundleName string            // how results name the bundle (its directory)
	Record     *RecordStatement  // the registry's record of the opening's cycle, or nil
	Slots      int               // P; 0: the opening's, else the bundle's built-in profile's
	Observed   *ObservedBalances // balances observed by the auditor's own tooling, or nil
	// Chain, when set and the opening names its chain positions, is the auditor's node: every
	// on-chain position is read from it at the reserves block (see CheckReservesOnChain).
	Chain contracts.Backend
}

// ReservesResult is the outcome of CheckReserves (and `verify reserves --json`'s document).
type ReservesResult struct {
	OK            bool                `json:"ok"`
	Malformed     bool                `json:"malformed,omitempty"`
	Reason        string              `json:"reason,omitempty"`
	Cycle         uint64              `json:"cycle"`
	RC            string              `json:"rc,omitempty"`
	ReservesBlock uint64              `json:"reserves_block"`
	Slots         int                 `json:"slots,omitempty"`
	Sources       []string            `json:"sources"`
	Checks        []Check             `json:"checks"`
	Balances      *BalanceReport      `json:"balances,omitempty"`
	ChainReads    []ChainRead         `json:"chain_reads,omitempty"`
	Countersign   *ReservesCountersig `json:"countersign,omitempty"`
	Note          string              `json:"note,omitempty"`
}

// ReservesCountersig is what an auditor signs once every check holds with balances compared.
type ReservesCountersig struct {
	Digest    string `json:"digest"` // sha256:<hex> of cycle ‖ RC ‖ block
	Statement string `json:"statement"`
}

// Failed is the first failed check, or nil.
func (r *ReservesResult) Failed() *Check {
	for i := range r.Checks {
		if !r.Checks[i].OK {
			return &r.Checks[i]
		}
	}
	return nil
}

// reservesStatement is the statement the opening is compared with first, and the RCs of the
// other sources.
type reservesStatement struct {
	rc    fr.Element
	block uint64
	chain string // names the chain and registry in the countersigned statement
	more  []fr.Element
	table []assets.Asset // the public asset table, when a bundle gives one
}

// CheckReserves checks a reserves opening against the statement(s) and, when observed balances
// are given, every opened amount against them (R1). It fills res with every check made: a failed
// check leaves res.OK false with a nil error; an error means the input is unusable (res then
// holds the checks made so far).
func CheckReserves(ctx context.Context, in ReservesInput) (*ReservesResult, error) {
	op := in.Opening
	res := &ReservesResult{Sources: []string{}, Checks: []Check{}, Cycle: op.Cycle, ReservesBlock: op.Block}
	if in.Bundle == nil && in.Record == nil {
		return res, errors.New("no statement to check the opening against")
	}
	st := collectReservesStatement(in, res)
	res.RC = poseidon.Hex(st.rc)
	res.Checks = append(res.Checks, namedCheck("the opening names the statement's reserves block",
		equalOr("the opening's reserves block", op.Block, "the statement's", st.block)))

	slots, countsCheck, err := reservesCounts(in)
	if err != nil {
		return res, err
	}
	res.Slots = slots
	res.Checks = append(res.Checks, countsCheck)
	_, err = op.Check(st.rc, slots, st.more...)
	if err != nil && !errors.Is(err, ErrReservesMismatch) {
		return res, err
	}
	rcName := "the opening recomputes to the statement's RC"
	if len(res.Sources) > 1 {
		rcName = "the opening recomputes to the bundle's and the registry's RC"
	}
	res.Checks = append(res.Checks, namedCheck(rcName, err))

	table := reservesTable(in, st, res)
	if in.Observed != nil || in.onChain() {
		if err := checkReservesBalances(ctx, in, st.block, table, res); err != nil {
			return res, err
		}
	}
	finishReserves(op, st, res)
	return res, nil
}

// collectReservesStatement reads the bundle's and the record's statement into one, recording
// each source and the checks between them.
func collectReservesStatement(in ReservesInput, res *ReservesResult) reservesStatement {
	var st reservesStatement
	if m := in.Bundle; m != nil {
		st.rc, st.block, st.table = m.Statement.RC.Element, m.Statement.ReservesBlock, m.Assets.Assets
		if m.Statement.Registry != "" {
			st.chain = fmt.Sprintf("chain %d, registry %s", m.Statement.ChainID, m.Statement.Registry)
		}
		res.Sources = append(res.Sources, "bundle "+in.BundleName)
		res.Checks = append(res.Checks, namedCheck("the opening names the bundle's cycle",
			equalOr("the opening's cycle", in.Opening.Cycle, "the bundle's", m.Statement.Cycle)))
	}
	if r := in.Record; r != nil {
		res.Sources = append(res.Sources, r.Where)
		if in.Bundle == nil {
			st.rc, st.block, st.chain = r.RC, r.Block, r.Where
		} else {
			st.more = append(st.more, r.RC)
			res.Checks = append(res.Checks, namedCheck("the registry's record names the bundle's reserves block",
				equalOr("the registry's reserves block", r.Block, "the bundle's", st.block)))
			if st.chain == "" {
				st.chain = r.Where
			}
		}
	}
	return st
}

// reservesCounts is the slot counts RC is checked with: P, the option slots O and the pool
// slots L. RC binds (P, O, L) itself (its last element when O+L > 0), so an opening with other
// counts than the proof's circuit cannot recompute to its RC; the counts are still taken from
// the statement's side where it names them, so that a wrong count is reported as such:
//
//   - P: the caller's, else the bundle's built-in profile's, else the opening's "slots" field
//     (the opening's, when it names one, must equal it: op.Check).
//   - O and L: the bundle's built-in profile's, and the opening's must equal them (a failed
//     check). Without a bundle naming a built-in profile, they are the opening's own, and the
//     check says so: RC alone then vouches for them.
func reservesCounts(in ReservesInput) (int, Check, error) {
	op := in.Opening
	prof, known := profile.Profile{}, false
	if in.Bundle != nil {
		if p, err := profile.Lookup(in.Bundle.Profile); err == nil {
			prof, known = p, true
		}
	}
	slots := in.Slots
	if slots == 0 && known {
		slots = prof.Positions
	}
	if slots == 0 {
		slots = op.Slots
	}
	if slots == 0 {
		return 0, Check{}, errors.New("the opening has no \"slots\" field and the slot count is not known from a built-in profile: give --slots P")
	}
	if !known {
		return slots, Check{Name: "the option and pool slot counts are the opening's own", OK: true,
			Detail: fmt.Sprintf("%d option and %d pool slots: no bundle names a built-in profile to compare them with; RC commits to the counts, so only the committed ones recompute to it", op.OptionSlots, op.PoolSlots)}, nil
	}
	var err error
	if op.OptionSlots != prof.Options || op.PoolSlots != prof.Pools {
		err = mismatch("the opening has %d option and %d pool slots; the bundle's profile %q has %d and %d", op.OptionSlots, op.PoolSlots, prof.Name, prof.Options, prof.Pools)
	}
	return slots, namedCheck("the opening's option and pool slot counts are the bundle profile's", err), nil
}

// reservesTable is the asset table that labels the amounts: the bundle's is public (and bound to
// LC), and the opening's own copy must agree with it; without a bundle, the opening's.
func reservesTable(in ReservesInput, st reservesStatement, res *ReservesResult) []assets.Asset {
	op := in.Opening
	if in.Bundle != nil && len(op.Assets) > 0 {
		res.Checks = append(res.Checks, namedCheck("the opening's asset table is the bundle's", sameAssetTable(op.Assets, st.table)))
	}
	if st.table != nil {
		return st.table
	}
	if in.Observed != nil {
		res.Note = "asset symbols and decimals come from the opening: give --bundle to check them against the public asset table"
	}
	return op.Assets
}

func (in ReservesInput) onChain() bool { return in.Chain != nil && in.Opening.Chain != nil }

// checkReservesBalances compares every opened amount with the balances observed at the
// statement's block: read from the chain (the opening's chain positions) and/or given by the
// auditor.
func checkReservesBalances(ctx context.Context, in ReservesInput, block uint64, table []assets.Asset, res *ReservesResult) error {
	if len(table) == 0 {
		return errors.New("no asset table to read amounts with (give --bundle)")
	}
	obs := in.Observed
	if obs != nil && obs.Block != block {
		return fmt.Errorf("--balances: observed at block %d; the statement's reserves block is %d", obs.Block, block)
	}
	// Amounts are compared at the statement's block; the opening must name it too (checked apart).
	cmp := *in.Opening
	cmp.Block = block
	var rep *BalanceReport
	var err error
	what := "observed"
	if in.onChain() {
		what = "read from the chain"
		if c, ok := offChainCovered(cmp.Chain, cmp.Positions, obs); ok {
			res.Checks = append(res.Checks, c)
		}
		var read *ChainReadReport
		rep, read, err = CheckReservesOnChain(ctx, in.Chain, &cmp, cmp.Chain, obs, table)
		if read != nil {
			res.ChainReads = read.Reads
		}
		if errors.Is(err, ErrReservesMismatch) {
			res.Checks = append(res.Checks, namedCheck("the chain positions are read through the pinned multicall build", err))
			return nil
		}
	} else {
		rep, err = CompareBalances(&cmp, obs, table)
	}
	if err != nil {
		return fmt.Errorf("balances: %w", err)
	}
	res.Balances = rep
	var bad []string
	for _, p := range rep.Failed() {
		bad = append(bad, fmt.Sprintf("(venue %d, %s) opened %s, observed %s: %s", p.Venue, p.Symbol, p.Opened, DashIfEmpty(p.Observed), p.Status))
	}
	var berr error
	if len(bad) > 0 {
		berr = errors.New(strings.Join(bad, "; "))
	}
	res.Checks = append(res.Checks, namedCheck(fmt.Sprintf("every opened amount is covered by the balance %s at block %d", what, block), berr))
	return nil
}

// offChainCovered checks that every opened position at a venue the opening names as off chain
// (no contract to read: a perpetual exchange, a custodian) has an observed balance, naming the
// venues; ok is false when the opening names none.
func offChainCovered(m *bundle.ChainMap, positions []solvency.Position, obs *ObservedBalances) (Check, bool) {
	if m == nil || len(m.OffChain) == 0 {
		return Check{}, false
	}
	seen := map[venueAsset]bool{}
	if obs != nil {
		for _, b := range obs.Balances {
			seen[venueAsset{b.Venue, b.Asset}] = true
		}
	}
	var names, missing []string
	for _, v := range m.OffChain {
		names = append(names, fmt.Sprintf("%s (venue %d)", v.Name, v.Venue))
		for _, p := range positions {
			if p.Venue == v.Venue && !seen[venueAsset{p.Venue, p.Asset}] {
				missing = append(missing, fmt.Sprintf("%s asset %d", v.Name, p.Asset))
			}
		}
	}
	var err error
	if len(missing) > 0 {
		err = fmt.Errorf("no balance given for %s: these venues have no contract on chain; give what they hold at the reserves block with --balances",
			strings.Join(missing, ", "))
	}
	return namedCheck("the venues off chain, "+strings.Join(names, ", ")+", have observed balances", err), true
}

// finishReserves sets OK and, with balances compared, the countersignature; without them, the
// caveat.
func finishReserves(op *OpenedReserves, st reservesStatement, res *ReservesResult) {
	if res.Failed() != nil {
		return
	}
	res.OK = true
	if res.Balances != nil {
		d := CountersignDigest(op.Cycle, st.rc, st.block)
		res.Countersign = &ReservesCountersig{
			Digest:    "sha256:" + hex.EncodeToString(d[:]),
			Statement: CountersignStatement(op.Cycle, st.rc, st.block, st.chain),
		}
	} else if res.Note == "" {
		res.Note = strings.Join(strings.Fields(ReservesCaveat), " ")
	}
}

// DashIfEmpty prints an absent observed amount as "-".
func DashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func namedCheck(name string, err error) Check {
	c := Check{Name: name, OK: err == nil}
	if err != nil {
		c.Detail = err.Error()
	}
	return c
}

func equalOr(what string, got uint64, other string, want uint64) error {
	if got != want {
		return fmt.Errorf("%s is %d; %s is %d", what, got, other, want)
	}
	return nil
}

func sameAssetTable(a, b []assets.Asset) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d assets in the opening, %d in the bundle", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			return fmt.Errorf("asset %d is %+v in the opening, %+v in the bundle", i, a[i], b[i])
		}
	}
	return nil
}
