package usercheck

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

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

// fakeChain answers the registry reads chainread.Countersigns makes: one Countersigned event of
// cycle 3 by auditor with the given RC and reserves block, confirmed by storage and counted.
type fakeChain struct {
	auditor common.Address
	rc      int64
	block   uint64
}

func (f *fakeChain) Call(_ context.Context, method string, params ...any) (json.RawMessage, error) {
	a, err := abi.JSON(strings.NewReader(chainread.ABIJSON()))
	if err != nil {
		return nil, err
	}
	switch method {
	case "eth_getLogs":
		ev := a.Events["Countersigned"]
		data, err := ev.Inputs.NonIndexed().Pack(big.NewInt(f.rc), f.block)
		if err != nil {
			return nil, err
		}
		return json.Marshal([]map[string]any{{
			"topics":          []common.Hash{ev.ID, common.BigToHash(big.NewInt(3)), common.BytesToHash(f.auditor.Bytes())},
			"data":            hexutil.Bytes(data),
			"transactionHash": common.HexToHash("0x02"),
			"blockNumber":     hexutil.Uint64(50),
		}})
	case "eth_call":
		// countersigned, countersignCount and isAuditor all answer 1 here.
		return json.Marshal(hexutil.Bytes(common.BigToHash(big.NewInt(1)).Bytes()))
	}
	return nil, errors.New("unexpected method " + method)
}

// TestR1_PageCountersignMustNameTheRecordedReserves: the page shows a countersign only when it
// names the matched record's RC and reserves block (the registry refuses any other); an endpoint
// showing another RC or block is refused, and an honest one is shown with its auditor and block.
func TestR1_PageCountersignMustNameTheRecordedReserves(t *testing.T) {
	_, rec, reg := statementPair()
	auditor := common.HexToAddress("0x00000000000000000000000000000000000000a7")
	ctx := context.Background()
	by, err := countersigners(ctx, &fakeChain{auditor: auditor, rc: 13, block: 40}, reg, rec)
	if err != nil || len(by) != 1 || by[0].Auditor != auditor.Hex() || by[0].Block != 50 || !by[0].StillAuditor {
		t.Fatalf("honest countersign: %+v, %v", by, err)
	}
	for name, f := range map[string]*fakeChain{
		"another RC":             {auditor: auditor, rc: 14, block: 40},
		"another reserves block": {auditor: auditor, rc: 13, block: 41},
	} {
		if by, err := countersigners(ctx, f, reg, rec); err == nil || !strings.Contains(err.Error(), "record has RC") {
			t.Errorf("%s: %+v, %v; want a refusal", name, by, err)
		}
	}
}
