//go:build !js

package verifier_test

import (
	"context"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/verifier"
)

// reservesCase is the synthetic opening with a bundle statement naming its RC, and the
// balances an auditor observed (exactly the opened amounts).
func reservesCase(t *testing.T) verifier.ReservesInput {
	t.Helper()
	o, rc, slots := syntheticOpening(t)
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
