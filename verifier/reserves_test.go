package verifier_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/verifier"
)

var reservesTable = []assets.Asset{
	{Symbol: "ETH", Decimals: 18, Precision: 6},
	{Symbol: "USDC", Decimals: 6, Precision: 6},
}

// syntheticOpening is an opening of 5 positions (a short among them) in 7 slots, with its RC
// computed by the circuit package's native hash.
func syntheticOpening(t *testing.T) (*bundle.ReservesOpening, fr.Element, int) {
	t.Helper()
	const slots = 7
	var salt fr.Element
	salt.SetUint64(0x5a17)
	pos := []solvency.Position{
		{Venue: 0, Asset: 0, Amount: big.NewInt(1_500_000)},
		{Venue: 0, Asset: 1, Amount: big.NewInt(2_000_000_000)},
		{Venue: 1, Asset: 0, Amount: big.NewInt(-250_000)}, // a borrow
		{Venue: 2, Asset: 1, Amount: new(big.Int).SetUint64(1<<64 - 1)},
		{Venue: 3, Asset: 1, Amount: big.NewInt(0)},
	}
	padded := append([]solvency.Position(nil), pos...)
	for len(padded) < slots {
		padded = append(padded, solvency.Position{Amount: new(big.Int)})
	}
	rc, err := solvency.ReservesCommitment(poseidon.NewHasher(), padded, salt)
	if err != nil {
		t.Fatal(err)
	}
	o := &bundle.ReservesOpening{
		Version: 1, Cycle: 9, RC: poseidon.Hex(rc), Salt: poseidon.Hex(salt), Block: 21000000,
		Assets: reservesTable, Venues: make([]solvency.Venue, 4),
	}
	for _, p := range pos {
		o.Positions = append(o.Positions, bundle.OpenPosition{Venue: p.Venue, Asset: p.Asset, Amount: p.Amount.String()})
	}
	return o, rc, slots
}

func cloneOpening(o *bundle.ReservesOpening) *bundle.ReservesOpening {
	c := *o
	c.Positions = append([]bundle.OpenPosition(nil), o.Positions...)
	return &c
}

func TestReservesOpeningMatches(t *testing.T) {
	o, rc, slots := syntheticOpening(t)
	if err := verifier.CheckReservesOpening(o, rc, slots); err != nil {
		t.Fatalf("valid opening: %v", err)
	}
	if err := verifier.CheckReservesOpening(o, rc, slots, rc); err != nil {
		t.Fatalf("valid opening against the same on-chain RC: %v", err)
	}
	// The opening's own slots field, when present, must agree with the count asked for.
	o.Slots = slots
	if err := verifier.CheckReservesOpening(o, rc, slots); err != nil {
		t.Fatalf("valid opening with slots: %v", err)
	}
	if err := verifier.CheckReservesOpening(o, rc, slots+3); err == nil || errors.Is(err, verifier.ErrReservesMismatch) {
		t.Fatalf("slots disagreeing with the opening's: want an unusable-input error, got %v", err)
	}
}

// TestReservesOpeningOfProvenCycle checks the opening the prover wrote for the fixture's proven
// cycle against its bundle's statement, at the keys profile's slot count.
func TestReservesOpeningOfProvenCycle(t *testing.T) {
	o, err := bundle.ReadReservesOpening(filepath.Join(fx.Private, "reserves-opening-000009.json"))
	if err != nil {
		t.Fatal(err)
	}
	st := fx.Manifest.Manifest.Statement
	slots := fx.Profile.Positions
	if o.Slots != 0 {
		slots = o.Slots
	}
	if err := verifier.CheckReservesOpening(o, st.RC.Element, slots); err != nil {
		t.Fatalf("the prover's own opening: %v", err)
	}
	if o.Cycle != st.Cycle || o.Block != st.ReservesBlock {
		t.Fatalf("opening names cycle %d block %d, statement cycle %d block %d", o.Cycle, o.Block, st.Cycle, st.ReservesBlock)
	}
	var other fr.Element
	other.SetUint64(1)
	if err := verifier.CheckReservesOpening(o, st.RC.Element, slots, other); !errors.Is(err, verifier.ErrReservesMismatch) {
		t.Fatalf("a different on-chain RC: want a mismatch, got %v", err)
	}
}

func TestReservesOpeningTampered(t *testing.T) {
	base, rc, slots := syntheticOpening(t)
	cases := []struct {
		name   string
		edit   func(o *bundle.ReservesOpening)
		slots  int
		onRC   bool // compare the recomputed RC only (rewrite the opening's own rc field)
		detail string
	}{
		{name: "amount", edit: func(o *bundle.ReservesOpening) { o.Positions[0].Amount = "1500001" }},
		{name: "amount sign", edit: func(o *bundle.ReservesOpening) { o.Positions[2].Amount = "250000" }},
		{name: "venue", edit: func(o *bundle.ReservesOpening) { o.Positions[1].Venue = 3 }},
		{name: "asset", edit: func(o *bundle.ReservesOpening) { o.Positions[0].Asset = 1 }},
		{name: "salt", edit: func(o *bundle.ReservesOpening) {
			o.Salt = "0x0000000000000000000000000000000000000000000000000000000000005a18"
		}},
		{name: "dropped position", edit: func(o *bundle.ReservesOpening) { o.Positions = o.Positions[1:] }},
		{name: "dropped short", edit: func(o *bundle.ReservesOpening) {
			o.Positions = append(o.Positions[:2:2], o.Positions[3:]...)
		}},
		{name: "added position", edit: func(o *bundle.ReservesOpening) {
			o.Positions = append(o.Positions, bundle.OpenPosition{Venue: 1, Asset: 1, Amount: "1"})
		}},
		{name: "reordered positions", edit: func(o *bundle.ReservesOpening) {
			o.Positions[0], o.Positions[1] = o.Positions[1], o.Positions[0]
		}},
		{name: "more positions than slots", edit: func(o *bundle.ReservesOpening) {
			for i := 0; i < 3; i++ {
				o.Positions = append(o.Positions, bundle.OpenPosition{Venue: 0, Asset: 0, Amount: "0"})
			}
		}, detail: "8 positions"},
		{name: "fewer slots (another element count)", edit: func(*bundle.ReservesOpening) {}, slots: 10},
		{name: "opening names another RC", edit: func(o *bundle.ReservesOpening) {
			o.RC = "0x0000000000000000000000000000000000000000000000000000000000000001"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := cloneOpening(base)
			tc.edit(o)
			s := slots
			if tc.slots != 0 {
				s = tc.slots
			}
			// The opening's own rc field is rewritten to what its positions hash to (as a forger
			// would), so the statement comparison is what must catch the change.
			if tc.name != "opening names another RC" && tc.name != "more positions than slots" {
				op, err := verifier.ParseOpening(o)
				if err != nil {
					t.Fatal(err)
				}
				own, err := verifier.OpeningRC(op.Positions, op.Salt, s)
				if err != nil {
					t.Fatal(err)
				}
				o.RC = poseidon.Hex(own)
			}
			err := verifier.CheckReservesOpening(o, rc, s)
			if !errors.Is(err, verifier.ErrReservesMismatch) {
				t.Fatalf("want a mismatch, got %v", err)
			}
			if tc.detail != "" && !strings.Contains(err.Error(), tc.detail) {
				t.Fatalf("error %q does not say %q", err, tc.detail)
			}
		})
	}
	// A zero-amount (venue 0, asset 0) position is exactly a padding slot: adding or dropping
	// one within the slot count opens the same RC, and claims nothing.
	o := cloneOpening(base)
	o.Positions = append(o.Positions, bundle.OpenPosition{Venue: 0, Asset: 0, Amount: "0"})
	if err := verifier.CheckReservesOpening(o, rc, slots); err != nil {
		t.Fatalf("an explicit padding slot: %v", err)
	}
}

func TestReservesOpeningMalformed(t *testing.T) {
	base, rc, slots := syntheticOpening(t)
	amounts := []string{"+5", "05", "-0", "-05", "1e3", " 5", "5 ", "1.0", "", "0x10", "--1",
		"18446744073709551616", "-18446744073709551616", "99999999999999999999999999"}
	for _, a := range amounts {
		o := cloneOpening(base)
		o.Positions[0].Amount = a
		err := verifier.CheckReservesOpening(o, rc, slots)
		if err == nil || errors.Is(err, verifier.ErrReservesMismatch) {
			t.Errorf("amount %q: want an unusable-input error, got %v", a, err)
		}
	}
	edits := map[string]func(o *bundle.ReservesOpening){
		"uppercase rc":     func(o *bundle.ReservesOpening) { o.RC = "0x" + strings.ToUpper(o.RC[2:]) },
		"short salt":       func(o *bundle.ReservesOpening) { o.Salt = "0x5a17" },
		"salt above p":     func(o *bundle.ReservesOpening) { o.Salt = "0x" + strings.Repeat("f", 64) },
		"venue 256":        func(o *bundle.ReservesOpening) { o.Positions[0].Venue = 256 },
		"venue past table": func(o *bundle.ReservesOpening) { o.Positions[0].Venue = 4 },
		"negative asset":   func(o *bundle.ReservesOpening) { o.Positions[0].Asset = -1 },
		"asset past table": func(o *bundle.ReservesOpening) { o.Positions[0].Asset = 2 },
		"negative slots":   func(o *bundle.ReservesOpening) { o.Slots = -1 },
		"bad asset table": func(o *bundle.ReservesOpening) {
			o.Assets = []assets.Asset{{Symbol: "ETH", Decimals: 2, Precision: 6}}
		},
		"zero slots (none)": func(o *bundle.ReservesOpening) {},
	}
	for name, edit := range edits {
		o := cloneOpening(base)
		edit(o)
		s := slots
		if name == "zero slots (none)" {
			s = 0
		}
		err := verifier.CheckReservesOpening(o, rc, s)
		if err == nil || errors.Is(err, verifier.ErrReservesMismatch) {
			t.Errorf("%s: want an unusable-input error, got %v", name, err)
		}
	}
	// 2^64-1 in magnitude is the largest amount: accepted either sign.
	for _, a := range []string{"18446744073709551615", "-18446744073709551615"} {
		if _, err := verifier.ParseSignedUnits(a, 64); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}

	good, err := json.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.DecodeReservesOpening(good); err != nil {
		t.Fatalf("round trip: %v", err)
	}
	docs := map[string]string{
		"unknown field": strings.Replace(string(good), `"version":1`, `"version":1,"extra":1`, 1),
		"version 2":     strings.Replace(string(good), `"version":1`, `"version":2`, 1),
		"trailing data": string(good) + ` {}`,
		"float venue":   strings.Replace(string(good), `"venue":0`, `"venue":0.5`, 1),
		"numeric rc":    strings.Replace(string(good), `"rc":"`+base.RC+`"`, `"rc":1`, 1),
	}
	for name, doc := range docs {
		if doc == string(good) {
			t.Fatalf("%s: the edit did not apply", name)
		}
		if _, err := bundle.DecodeReservesOpening([]byte(doc)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func TestCompareBalances(t *testing.T) {
	o, _, _ := syntheticOpening(t)
	op, err := verifier.ParseOpening(o)
	if err != nil {
		t.Fatal(err)
	}
	// Opened: (0,ETH) 1.5, (0,USDC) 2000, (1,ETH) -0.25, (2,USDC) 2^64-1 units, (3,USDC) 0.
	exact := func() []verifier.ObservedBalance {
		return []verifier.ObservedBalance{
			{Venue: 0, Asset: 0, Symbol: "ETH", AmountBase: "1500000000000000000"},
			{Venue: 0, Asset: 1, AmountUnits: "2000000000"},
			{Venue: 1, Asset: 0, AmountUnits: "-250000"},
			{Venue: 2, Asset: 1, AmountUnits: "18446744073709551615"},
		}
	}
	check := func(name string, bs []verifier.ObservedBalance, wantOK bool, wantStatus map[[2]int]string) {
		t.Helper()
		rep, err := verifier.CompareBalances(op, &verifier.ObservedBalances{Version: 1, Block: op.Block, Balances: bs}, reservesTable)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if rep.OK != wantOK {
			t.Errorf("%s: ok=%v, want %v (%+v)", name, rep.OK, wantOK, rep.Positions)
		}
		for _, p := range rep.Positions {
			if want, ok := wantStatus[[2]int{p.Venue, p.Asset}]; ok && p.Status != want {
				t.Errorf("%s: (venue %d, %s) status %s, want %s", name, p.Venue, p.Symbol, p.Status, want)
			}
		}
	}
	check("exact", exact(), true, map[[2]int]string{{0, 0}: verifier.StatusMatch, {1, 0}: verifier.StatusMatch, {3, 1}: verifier.StatusMatch})

	bs := exact()
	bs[0].AmountBase = "1500000000000000001" // holds a wei more than opened: conservative
	bs[2].AmountUnits = "-249999"            // a smaller debt than opened: conservative
	check("understated", bs, true, map[[2]int]string{{0, 0}: verifier.StatusUnderstated, {1, 0}: verifier.StatusUnderstated})

	bs = exact()
	bs[0].AmountBase = "1499999999999999999" // a wei short of the opened 1.5 ETH
	check("long above balance (base units, exact)", bs, false, map[[2]int]string{{0, 0}: verifier.StatusOverstated})

	bs = exact()
	bs[1].AmountUnits = "1999999999"
	check("long above balance", bs, false, map[[2]int]string{{0, 1}: verifier.StatusOverstated})

	bs = exact()
	bs[2].AmountUnits = "-250001" // the chain shows a larger debt than the opening's borrow
	check("borrow smaller than observed debt", bs, false, map[[2]int]string{{1, 0}: verifier.StatusOverstated})

	bs = append(exact(), verifier.ObservedBalance{Venue: 5, Asset: 1, AmountUnits: "-1"})
	check("debt the opening does not show", bs, false, map[[2]int]string{{5, 1}: verifier.StatusOverstated})

	bs = append(exact(), verifier.ObservedBalance{Venue: 5, Asset: 1, AmountUnits: "7"})
	check("holding the opening does not claim", bs, true, map[[2]int]string{{5, 1}: verifier.StatusUnderstated})

	check("unobserved position", exact()[1:], false, map[[2]int]string{{0, 0}: verifier.StatusUnobserved})

	bad := map[string]func(*verifier.ObservedBalances){
		"wrong block":    func(b *verifier.ObservedBalances) { b.Block++ },
		"duplicate pair": func(b *verifier.ObservedBalances) { b.Balances = append(b.Balances, b.Balances[1]) },
		"wrong symbol":   func(b *verifier.ObservedBalances) { b.Balances[0].Symbol = "USDC" },
		"both amounts":   func(b *verifier.ObservedBalances) { b.Balances[1].AmountBase = "1" },
		"no amount":      func(b *verifier.ObservedBalances) { b.Balances[1].AmountUnits = "" },
		"bad amount":     func(b *verifier.ObservedBalances) { b.Balances[1].AmountUnits = "+1" },
		"asset past":     func(b *verifier.ObservedBalances) { b.Balances[1].Asset = 2 },
		"venue past":     func(b *verifier.ObservedBalances) { b.Balances[1].Venue = 256 },
	}
	for name, edit := range bad {
		b := &verifier.ObservedBalances{Version: 1, Block: op.Block, Balances: exact()}
		edit(b)
		if _, err := verifier.CompareBalances(op, b, reservesTable); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestCountersignDigest(t *testing.T) {
	var rc fr.Element
	rc.SetUint64(0xabcdef)
	var buf [48]byte
	binary.BigEndian.PutUint64(buf[:8], 9)
	buf[39], buf[38], buf[37] = 0xef, 0xcd, 0xab
	binary.BigEndian.PutUint64(buf[40:], 21000000)
	if got, want := verifier.CountersignDigest(9, rc, 21000000), sha256.Sum256(buf[:]); got != want {
		t.Fatalf("digest %x, want %x", got, want)
	}
	if verifier.CountersignDigest(10, rc, 21000000) == verifier.CountersignDigest(9, rc, 21000000) ||
		verifier.CountersignDigest(9, rc, 21000001) == verifier.CountersignDigest(9, rc, 21000000) {
		t.Fatal("the digest does not bind cycle and block")
	}
	s := verifier.CountersignStatement(9, rc, 21000000, "chain 1, registry 0xabc")
	for _, want := range []string{"cycle 9", "block 21000000", poseidon.Hex(rc), "chain 1, registry 0xabc", "sha256:"} {
		if !strings.Contains(s, want) {
			t.Errorf("statement %q lacks %q", s, want)
		}
	}
}
