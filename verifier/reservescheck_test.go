//go:build !js

package verifier_test

import (
	"context"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/prover/profile"
	"github.com/solvency-dev/solvency/verifier"
)

// openingRC recomputes the RC of o (its positions padded to slots, its option and pool records
// to its slot counts) with the circuit package's native hash, and writes it into o.
func openingRC(t *testing.T, o *bundle.ReservesOpening, slots int) fr.Element {
	t.Helper()
	op, err := verifier.ParseOpening(o)
	if err != nil {
		t.Fatal(err)
	}
	w := solvency.Witness{Slots: slots, OptionSlots: op.OptionSlots, PoolSlots: op.PoolSlots,
		Inputs: solvency.Inputs{Positions: op.Positions, Options: op.Options, Pools: op.Pools}}
	rc, err := w.ReservesCommitment(poseidon.NewHasher(), op.Salt)
	if err != nil {
		t.Fatal(err)
	}
	o.RC = poseidon.Hex(rc)
	return rc
}

// reservesCase is the synthetic opening, with the test profile's (empty) option and pool slots,
// a bundle statement of that profile naming its RC, and the balances an auditor observed
// (exactly the opened amounts).
func reservesCase(t *testing.T) verifier.ReservesInput {
	t.Helper()
	o, _, slots := syntheticOpening(t)
	prof, err := profile.Lookup("test")
	if err != nil {
		t.Fatal(err)
	}
	o.OptionSlots, o.PoolSlots = prof.Options, prof.Pools
	rc := openingRC(t, o, slots)
	op, err := verifier.ParseOpening(o)
	if err != nil {
		t.Fatal(err)
	}
	m := &bundle.Manifest{Profile: "test", Assets: assets.Table{Assets: reservesTable}}
	m.Statement.Cycle, m.Statement.ReservesBlock, m.Statement.RC = 9, 21000000, poseidon.Element{Element: rc}
	obs := &verifier.ObservedBalances{Version: 1, Block: 21000000, Balances: []verifier.ObservedBalance{
		{Venue: 0, Asset: 0, AmountUnits: "1500000"},
		{Venue: 0, Asset: 1, AmountUnits: "2000000000"},
		{Venue: 1, Asset: 0, AmountUnits: "-250000"},
		{Venue: 2, Asset: 1, AmountUnits: "18446744073709551615"},
	}}
	return verifier.ReservesInput{Opening: op, Bundle: m, BundleName: "b", Slots: slots, Observed: obs}
}

func TestR1_CheckReservesCountersignsOnlyWithBalances(t *testing.T) {
	in := reservesCase(t)
	res, err := verifier.CheckReserves(context.Background(), in)
	if err != nil || !res.OK || res.Countersign == nil {
		t.Fatalf("ok=%v err=%v countersign=%v checks=%+v", res.OK, err, res.Countersign, res.Checks)
	}
	in.Observed = nil
	res, err = verifier.CheckReserves(context.Background(), in)
	if err != nil || !res.OK || res.Countersign != nil || !strings.Contains(res.Note, "Without --balances") {
		t.Fatalf("without balances: ok=%v err=%v countersign=%v note=%q", res.OK, err, res.Countersign, res.Note)
	}
}

func TestR1_CheckReservesRefused(t *testing.T) {
	other := reservesCase(t).Opening.RC
	other.SetUint64(7)
	for name, spoil := range map[string]func(*verifier.ReservesInput){
		"another cycle": func(in *verifier.ReservesInput) { in.Bundle.Statement.Cycle = 8 },
		"another block": func(in *verifier.ReservesInput) { in.Bundle.Statement.ReservesBlock, in.Observed = 1, nil },
		"another RC on chain": func(in *verifier.ReservesInput) {
			in.Record = &verifier.RecordStatement{Where: "r", RC: other, Block: 21000000}
		},
		"another asset table":   func(in *verifier.ReservesInput) { in.Bundle.Assets.Assets, in.Observed = reservesTable[:1], nil },
		"a debt the chain sees": func(in *verifier.ReservesInput) { in.Observed.Balances[2].AmountUnits = "-250001" },
	} {
		in := reservesCase(t)
		spoil(&in)
		res, err := verifier.CheckReserves(context.Background(), in)
		if err != nil {
			t.Errorf("%s: unusable (%v), want a failed check", name, err)
			continue
		}
		if res.OK || res.Failed() == nil || res.Countersign != nil {
			t.Errorf("%s: ok=%v, want a failed check and no countersignature", name, res.OK)
		}
	}
}

func TestCheckReservesUnusableInput(t *testing.T) {
	for name, spoil := range map[string]func(*verifier.ReservesInput){
		"no statement":              func(in *verifier.ReservesInput) { in.Bundle = nil },
		"balances at another block": func(in *verifier.ReservesInput) { in.Observed.Block = 5 },
		"no slot count":             func(in *verifier.ReservesInput) { in.Slots, in.Bundle.Profile = 0, "none" },
	} {
		in := reservesCase(t)
		spoil(&in)
		if _, err := verifier.CheckReserves(context.Background(), in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestR1_OpeningSlotCountsAreTheProfiles: RC's split between option and pool records is the
// circuit's, so the verifier takes the counts from the bundle's profile, not from the opening.
// An opening of the same portfolio with other counts (here none: the positions-only commitment,
// the bundle statement naming that RC) is a failed check; so is one that moves a slot from
// options to pools, which no longer recomputes to the RC either (RC binds the counts). Without a
// bundle the opening's own counts are used, and the result says so.
func TestR1_OpeningSlotCountsAreTheProfiles(t *testing.T) {
	in := reservesCase(t)
	if res, err := verifier.CheckReserves(context.Background(), in); err != nil || !res.OK {
		t.Fatalf("control: ok=%v err=%v", res.OK, err)
	}
	o, rc, slots := syntheticOpening(t) // no option or pool slots: the positions' RC
	op, err := verifier.ParseOpening(o)
	if err != nil {
		t.Fatal(err)
	}
	in.Opening = op
	in.Bundle.Statement.RC = poseidon.Element{Element: rc}
	res, err := verifier.CheckReserves(context.Background(), in)
	if err != nil || res.OK || res.Failed() == nil || !strings.Contains(res.Failed().Name, "slot counts") {
		t.Fatalf("an opening with 0 and 0 derivative slots against the test profile: ok=%v err=%v failed=%+v", res.OK, err, res.Failed())
	}
	// One slot moved from options to pools, RC recomputed by the operator: the counts check
	// fails, and the bundle's RC (over the profile's counts) is not recomputed.
	in = reservesCase(t)
	raw, _, _ := syntheticOpening(t)
	raw.OptionSlots, raw.PoolSlots = in.Opening.OptionSlots-1, in.Opening.PoolSlots+1
	moved := openingRC(t, raw, slots)
	if moved.Equal(&in.Opening.RC) {
		t.Fatal("R1: the same RC opens with the records split differently")
	}
	if in.Opening, err = verifier.ParseOpening(raw); err != nil {
		t.Fatal(err)
	}
	res, err = verifier.CheckReserves(context.Background(), in)
	if err != nil || res.OK {
		t.Fatalf("a re-split opening: ok=%v err=%v", res.OK, err)
	}
	for _, c := range res.Checks {
		if strings.Contains(c.Name, "recomputes") && c.OK {
			t.Error("a re-split opening recomputes to the bundle's RC")
		}
	}
	// The opening's own "slots" field must be the profile's P when the caller gives none.
	in = reservesCase(t)
	in.Slots, in.Opening.Slots = 0, slots
	if _, err = verifier.CheckReserves(context.Background(), in); err == nil {
		t.Error("an opening whose slots field is not the profile's P is accepted")
	}
	// Without a bundle: the registry's record only; the opening's counts, said so.
	in = reservesCase(t)
	in.Record = &verifier.RecordStatement{Where: "r", RC: in.Opening.RC, Block: in.Bundle.Statement.ReservesBlock}
	in.Bundle = nil
	res, err = verifier.CheckReserves(context.Background(), in)
	if err != nil || !res.OK {
		t.Fatalf("record only: ok=%v err=%v checks=%+v", res.OK, err, res.Checks)
	}
	said := false
	for _, c := range res.Checks {
		said = said || strings.Contains(c.Name, "the opening's own")
	}
	if !said {
		t.Errorf("record only: the result does not say the slot counts are the opening's: %+v", res.Checks)
	}
}
