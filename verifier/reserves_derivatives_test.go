package verifier_test

import (
	"errors"
	"math/big"
	"testing"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/verifier"
)

// derivOpening is syntheticOpening plus a long put, a short call (2 of 3 option slots) and one
// pool share (1 of 2 pool slots), with RC computed by the circuit package's native hash.
func derivOpening(t *testing.T) (*bundle.ReservesOpening, int) {
	t.Helper()
	o, _, slots := syntheticOpening(t)
	salt, err := poseidon.ParseHex(o.Salt)
	if err != nil {
		t.Fatal(err)
	}
	o.OptionSlots, o.PoolSlots = 3, 2
	o.Options = []bundle.OpenOption{
		{Venue: 1, Asset: 0, Right: "put", Strike: "280000000000", Expiry: 1803456000, Size: "20000000"},
		{Venue: 2, Asset: 0, Right: "call", Short: true, Strike: "400000000000", Expiry: 1806000000, Size: "5000000"},
	}
	o.Pools = []bundle.OpenPool{{Venue: 3, AssetA: 0, AssetB: 1, AmountA: "10000000", AmountB: "30000000000"}}
	op, err := verifier.ParseOpening(o)
	if err != nil {
		t.Fatal(err)
	}
	var pos []solvency.Position
	pos = append(pos, op.Positions...)
	w := solvency.Witness{Slots: slots, OptionSlots: 3, PoolSlots: 2,
		Inputs: solvency.Inputs{Positions: pos, Options: op.Options, Pools: op.Pools}}
	rc, err := w.ReservesCommitment(poseidon.NewHasher(), salt)
	if err != nil {
		t.Fatal(err)
	}
	o.RC = poseidon.Hex(rc)
	return o, slots
}

func cloneDerivOpening(o *bundle.ReservesOpening) *bundle.ReservesOpening {
	c := cloneOpening(o)
	c.Options = append([]bundle.OpenOption(nil), o.Options...)
	c.Pools = append([]bundle.OpenPool(nil), o.Pools...)
	return c
}

// TestR1_OpeningWithDerivativesChecked: an opening with option and pool records recomputes to
// its RC; changing any field of a record (the expiry too), dropping a record or a slot is a
// mismatch; a non-canonical record (a short of size 0, a negative amount, an unknown right, a
// strike past 2^63, more records than slots) is refused as unusable.
func TestR1_OpeningWithDerivativesChecked(t *testing.T) {
	o, slots := derivOpening(t)
	rc, err := poseidon.ParseHex(o.RC)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifier.CheckReservesOpening(o, rc, slots); err != nil {
		t.Fatalf("valid opening: %v", err)
	}
	mismatches := map[string]func(*bundle.ReservesOpening){
		"expiry":        func(o *bundle.ReservesOpening) { o.Options[0].Expiry++ },
		"strike":        func(o *bundle.ReservesOpening) { o.Options[0].Strike = "280000000001" },
		"right":         func(o *bundle.ReservesOpening) { o.Options[0].Right = "call" },
		"short flag":    func(o *bundle.ReservesOpening) { o.Options[0].Short = true },
		"size":          func(o *bundle.ReservesOpening) { o.Options[1].Size = "4999999" },
		"option asset":  func(o *bundle.ReservesOpening) { o.Options[1].Asset = 1 },
		"option venue":  func(o *bundle.ReservesOpening) { o.Options[1].Venue = 0 },
		"pool amount A": func(o *bundle.ReservesOpening) { o.Pools[0].AmountA = "10000001" },
		"pool amount B": func(o *bundle.ReservesOpening) { o.Pools[0].AmountB = "1" },
		"pool assets":   func(o *bundle.ReservesOpening) { o.Pools[0].AssetA, o.Pools[0].AssetB = 1, 0 },
		"pool venue":    func(o *bundle.ReservesOpening) { o.Pools[0].Venue = 2 },
		"option gone":   func(o *bundle.ReservesOpening) { o.Options = o.Options[:1] },
		"pool gone":     func(o *bundle.ReservesOpening) { o.Pools = nil },
		"option slots":  func(o *bundle.ReservesOpening) { o.OptionSlots = 4 },
	}
	for name, f := range mismatches {
		c := cloneDerivOpening(o)
		f(c)
		if err := verifier.CheckReservesOpening(c, rc, slots); !errors.Is(err, verifier.ErrReservesMismatch) {
			t.Errorf("%s: want a mismatch, got %v", name, err)
		}
	}
	unusable := map[string]func(*bundle.ReservesOpening){
		"short of size 0": func(o *bundle.ReservesOpening) { o.Options[1].Size = "0" },
		"negative size":   func(o *bundle.ReservesOpening) { o.Options[0].Size = "-20000000" },
		"size 2^64":       func(o *bundle.ReservesOpening) { o.Options[0].Size = new(big.Int).Lsh(big.NewInt(1), 64).String() },
		"strike 2^63":     func(o *bundle.ReservesOpening) { o.Options[0].Strike = new(big.Int).Lsh(big.NewInt(1), 63).String() },
		"right":           func(o *bundle.ReservesOpening) { o.Options[0].Right = "Put" },
		"leading zero":    func(o *bundle.ReservesOpening) { o.Pools[0].AmountB = "030000000000" },
		"negative amount": func(o *bundle.ReservesOpening) { o.Pools[0].AmountA = "-1" },
		"asset off table": func(o *bundle.ReservesOpening) { o.Pools[0].AssetB = 2 },
		"venue off table": func(o *bundle.ReservesOpening) { o.Options[0].Venue = 4 },
		"negative slots":  func(o *bundle.ReservesOpening) { o.PoolSlots = -1 },
		"too many slots":  func(o *bundle.ReservesOpening) { o.OptionSlots = solvency.MaxShapeOptions + 1 },
	}
	for name, f := range unusable {
		c := cloneDerivOpening(o)
		f(c)
		if _, err := verifier.ParseOpening(c); err == nil || errors.Is(err, verifier.ErrReservesMismatch) {
			t.Errorf("%s: want an unusable-input error, got %v", name, err)
		}
	}
	// An empty slot with any other field set has no record (the padding slot has one encoding).
	for name, f := range map[string]func(*bundle.ReservesOpening){
		"empty option with a strike": func(o *bundle.ReservesOpening) {
			o.Options = append(o.Options, bundle.OpenOption{Right: "call", Strike: "1", Size: "0"})
		},
		"empty pool at venue 1": func(o *bundle.ReservesOpening) {
			o.Pools = append(o.Pools, bundle.OpenPool{Venue: 1, AmountA: "0", AmountB: "0"})
		},
	} {
		c := cloneDerivOpening(o)
		f(c)
		if err := verifier.CheckReservesOpening(c, rc, slots); err == nil || errors.Is(err, verifier.ErrReservesMismatch) {
			t.Errorf("%s: want an unusable-input error, got %v", name, err)
		}
	}
	c := cloneDerivOpening(o)
	c.PoolSlots = 0
	if _, err := verifier.ParseOpening(c); !errors.Is(err, verifier.ErrReservesMismatch) {
		t.Errorf("more pool records than slots: want a mismatch, got %v", err)
	}
}
