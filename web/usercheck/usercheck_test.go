package usercheck

import (
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/contracts/attest"
	"github.com/solvency-dev/solvency/web/chainread"
)

func statementPair() (*bundle.Statement, *chainread.Record, common.Address) {
	reg := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	st := &bundle.Statement{Cycle: 3, ReservesBlock: 40, SnapshotEpoch: 2, SnapshotTime: 1700000000,
		Prices:  []bundle.Price{{Symbol: "ETH", Price: 300000000000, Round: "7"}, {Symbol: "USDC", Price: 100000000, Round: "9"}},
		ChainID: 1337, Registry: reg.Hex()}
	st.PolicyHash.Element.SetUint64(11)
	st.LC.Element.SetUint64(12)
	st.RC.Element.SetUint64(13)
	rec := &chainread.Record{Cycle: 3, ReservesBlock: 40, SnapshotEpoch: 2, SnapshotTime: 1700000000,
		Prices: []uint64{300000000000, 100000000}, RoundIDs: []*big.Int{big.NewInt(7), big.NewInt(9)}}
	rec.PolicyHash.SetUint64(11)
	rec.LC.SetUint64(12)
	rec.RC.SetUint64(13)
	return st, rec, reg
}

// match is the page's comparison: the record as chainread decodes it, through the one
// statement comparison (contracts/attest) the CLI uses too.
func match(st *bundle.Statement, rec *chainread.Record, reg common.Address, chainID uint64) error {
	return attest.MatchBundle(rec.Statement(), attest.Location{ChainID: chainID, Registry: reg}, &bundle.Manifest{Statement: *st}, strings.Repeat("00", 32))
}

// TestV5_StatementMustMatchTheChainInEveryField: a bundle is counted only when its whole
// statement is the on-chain record's as the page decodes it; each field changed alone is refused,
// and named.
func TestV5_StatementMustMatchTheChainInEveryField(t *testing.T) {
	st, rec, reg := statementPair()
	if err := match(st, rec, reg, 1337); err != nil {
		t.Fatalf("equal statements refused: %v", err)
	}
	var one poseidon.Element
	one.Element.SetUint64(99)
	cases := map[string]func(*bundle.Statement, *chainread.Record){
		"cycle":          func(s *bundle.Statement, r *chainread.Record) { r.Cycle++ },
		"LC":             func(s *bundle.Statement, r *chainread.Record) { s.LC = one },
		"RC":             func(s *bundle.Statement, r *chainread.Record) { s.RC = one },
		"policy hash":    func(s *bundle.Statement, r *chainread.Record) { s.PolicyHash = one },
		"snapshot epoch": func(s *bundle.Statement, r *chainread.Record) { r.SnapshotEpoch++ },
		"snapshot time":  func(s *bundle.Statement, r *chainread.Record) { r.SnapshotTime++ },
		"reserves block": func(s *bundle.Statement, r *chainread.Record) { r.ReservesBlock++ },
		"prices":         func(s *bundle.Statement, r *chainread.Record) { r.Prices = r.Prices[:1]; r.RoundIDs = r.RoundIDs[:1] },
		"price 1":        func(s *bundle.Statement, r *chainread.Record) { r.Prices[1]++ },
		"round 0":        func(s *bundle.Statement, r *chainread.Record) { r.RoundIDs[0] = big.NewInt(8) },
		"chain id":       func(s *bundle.Statement, r *chainread.Record) { s.ChainID = 1 },
		"registry": func(s *bundle.Statement, r *chainread.Record) {
			s.Registry = "0x00000000000000000000000000000000000000bb"
		},
	}
	for what, mutate := range cases {
		st, rec, reg := statementPair()
		mutate(st, rec)
		err := match(st, rec, reg, 1337)
		if err == nil || !strings.Contains(err.Error(), what) {
			t.Errorf("%s changed: %v", what, err)
		}
	}
}
