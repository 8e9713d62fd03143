package attest

import (
	"errors"
	"math/big"
	"reflect"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/poseidon"
)

func sample() *Statement {
	var ph, lc, rc fr.Element
	ph.SetUint64(11)
	lc.SetUint64(22)
	rc.SetUint64(33)
	return &Statement{
		Cycle: 3, ReservesBlock: 100, SnapshotEpoch: 2, SnapshotTime: 1764000000,
		PolicyHash: ph, LC: lc, RC: rc,
		Prices: []uint64{300000000000, 100000000}, RoundIDs: []*big.Int{big.NewInt(7), big.NewInt(9)},
		BundleDigest: [32]byte{1, 2, 3},
	}
}

func clone(s *Statement) *Statement {
	c := *s
	c.Prices = append([]uint64(nil), s.Prices...)
	c.RoundIDs = nil
	for _, r := range s.RoundIDs {
		c.RoundIDs = append(c.RoundIDs, new(big.Int).Set(r))
	}
	return &c
}

// TestV5_MatchRefusesEveryStatementField: a bundle that differs from the on-chain record in any
// one statement field (the same LC, but another policy hash, price, round, reserves block,
// snapshot time, ...) is refused, and the error names the field.
func TestV5_MatchRefusesEveryStatementField(t *testing.T) {
	rec := sample()
	if err := Match(rec, clone(rec)); err != nil {
		t.Fatalf("identical statements: %v", err)
	}
	cases := map[string]func(*Statement){
		"cycle":           func(s *Statement) { s.Cycle++ },
		"reserves block":  func(s *Statement) { s.ReservesBlock-- },
		"snapshot epoch":  func(s *Statement) { s.SnapshotEpoch++ },
		"snapshot time":   func(s *Statement) { s.SnapshotTime++ },
		"policy hash":     func(s *Statement) { s.PolicyHash.SetUint64(12) },
		"LC":              func(s *Statement) { s.LC.SetUint64(23) },
		"RC":              func(s *Statement) { s.RC.SetUint64(34) },
		"price 1":         func(s *Statement) { s.Prices[1]++ },
		"round 0":         func(s *Statement) { s.RoundIDs[0] = big.NewInt(6) },
		"prices":          func(s *Statement) { s.Prices, s.RoundIDs = s.Prices[:1], s.RoundIDs[:1] },
		"manifest digest": func(s *Statement) { s.BundleDigest[31] = 1 },
	}
	for field, mutate := range cases {
		c := clone(rec)
		mutate(c)
		err := Match(rec, c)
		var mm *Mismatch
		if !errors.As(err, &mm) || !errors.Is(err, ErrMismatch) {
			t.Errorf("%s changed: err %v; want a mismatch", field, err)
			continue
		}
		if len(mm.Fields) != 1 || len(mm.Fields[0]) < len(field) || mm.Fields[0][:len(field)] != field {
			t.Errorf("%s changed: mismatch names %q", field, mm.Fields)
		}
	}
	if err := Match(nil, rec); err == nil {
		t.Error("a missing record matched")
	}
}

// TestV5_StatementFieldsAllCompared guards the comparison against a field added to Statement and
// forgotten in Match: every field is listed in the cases above.
func TestV5_StatementFieldsAllCompared(t *testing.T) {
	if n := reflect.TypeOf(Statement{}).NumField(); n != 10 {
		t.Fatalf("Statement has %d fields; update Match and its test", n)
	}
}

// TestS6_MatchBundleChecksChainAndRegistry: the chain id and registry a manifest names are only
// accepted when they are where the record was read.
func TestS6_MatchBundleChecksChainAndRegistry(t *testing.T) {
	rec := sample()
	reg := [20]byte{0xab, 0xcd}
	m := &bundle.Manifest{Statement: bundle.Statement{
		Cycle: rec.Cycle, ReservesBlock: rec.ReservesBlock, SnapshotEpoch: rec.SnapshotEpoch, SnapshotTime: rec.SnapshotTime,
		PolicyHash: poseidon.Element{Element: rec.PolicyHash}, LC: poseidon.Element{Element: rec.LC}, RC: poseidon.Element{Element: rec.RC},
		Prices:  []bundle.Price{{Symbol: "ETH", Price: rec.Prices[0], Round: "7"}, {Symbol: "USDC", Price: rec.Prices[1], Round: "9"}},
		ChainID: 1337, Registry: "0xABCD000000000000000000000000000000000000",
	}}
	digest := "0102030000000000000000000000000000000000000000000000000000000000"
	if err := MatchBundle(rec, Location{ChainID: 1337, Registry: reg}, m, digest); err != nil {
		t.Fatalf("matching bundle: %v", err)
	}
	if err := MatchBundle(rec, Location{ChainID: 1, Registry: reg}, m, digest); !errors.Is(err, ErrMismatch) {
		t.Fatalf("another chain: %v", err)
	}
	if err := MatchBundle(rec, Location{ChainID: 1337, Registry: [20]byte{1}}, m, digest); !errors.Is(err, ErrMismatch) {
		t.Fatalf("another registry: %v", err)
	}
	m.Statement.Prices[0].Round = "8"
	if err := MatchBundle(rec, Location{ChainID: 1337, Registry: reg}, m, digest); !errors.Is(err, ErrMismatch) {
		t.Fatalf("another round: %v", err)
	}
}
