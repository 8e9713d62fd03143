package chainread

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// TestABIMatchesTheCompiledRegistry: the fragment this package decodes with is exactly the
// compiled registry's event and view, so a change to the contract cannot go unnoticed.
func TestABIMatchesTheCompiledRegistry(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "contracts", "artifacts", "SolvencyRegistry.json"))
	if err != nil {
		t.Fatal(err)
	}
	var art struct {
		ABI []map[string]any `json:"abi"`
	}
	if err := json.Unmarshal(raw, &art); err != nil {
		t.Fatal(err)
	}
	var mine []map[string]any
	if err := json.Unmarshal([]byte(registryABI), &mine); err != nil {
		t.Fatal(err)
	}
	for _, m := range mine {
		found := false
		for _, a := range art.ABI {
			if a["name"] == m["name"] && a["type"] == m["type"] {
				found = true
				if !reflect.DeepEqual(a, m) {
					t.Errorf("%s differs from the compiled registry's ABI", m["name"])
				}
			}
		}
		if !found {
			t.Errorf("the compiled registry has no %s", m["name"])
		}
	}
}

func TestDecodeRefusesErrorsAndEmptyAnswers(t *testing.T) {
	for _, body := range []string{`{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"boom"}}`, `{"jsonrpc":"2.0","id":1}`, `not json`} {
		if _, err := Decode([]byte(body)); err == nil {
			t.Errorf("%s accepted", body)
		}
	}
	if r, err := Decode([]byte(`{"jsonrpc":"2.0","id":1,"result":"0x1"}`)); err != nil || string(r) != `"0x1"` {
		t.Errorf("result: %s %v", r, err)
	}
}

// fakeRegistry answers the calls Countersigns makes: the logs it is given, and the registry's
// storage as it is given (who countersigned, and how many).
type fakeRegistry struct {
	logs   []map[string]any
	signed map[common.Address]bool
	count  int64
	still  map[common.Address]bool // the auditor set now
}

func (f *fakeRegistry) Call(_ context.Context, method string, params ...any) (json.RawMessage, error) {
	a, err := abi.JSON(strings.NewReader(registryABI))
	if err != nil {
		return nil, err
	}
	switch method {
	case "eth_getLogs":
		return json.Marshal(f.logs)
	case "eth_call":
		data := params[0].(map[string]any)["data"].(hexutil.Bytes)
		m, err := a.MethodById(data[:4])
		if err != nil {
			return nil, err
		}
		args, err := m.Inputs.Unpack(data[4:])
		if err != nil {
			return nil, err
		}
		word := new(big.Int)
		switch m.Name {
		case "countersigned":
			if f.signed[args[1].(common.Address)] {
				word.SetInt64(1)
			}
		case "countersignCount":
			word.SetInt64(f.count)
		case "isAuditor":
			if f.still[args[0].(common.Address)] {
				word.SetInt64(1)
			}
		}
		return json.Marshal(hexutil.Bytes(common.BigToHash(word).Bytes()))
	}
	return nil, errors.New("unexpected method " + method)
}

// TestR1_CountersignsConfirmedByStorage: the page's reader returns a cycle's countersigns only
// when the registry's storage confirms each one and its count; an endpoint that invents a
// countersign or hides one is refused.
func TestR1_CountersignsConfirmedByStorage(t *testing.T) {
	a, err := abi.JSON(strings.NewReader(registryABI))
	if err != nil {
		t.Fatal(err)
	}
	ev := a.Events["Countersigned"]
	auditor := common.HexToAddress("0x00000000000000000000000000000000000000a1")
	data, err := ev.Inputs.NonIndexed().Pack(big.NewInt(77), uint64(12))
	if err != nil {
		t.Fatal(err)
	}
	log := map[string]any{
		"topics":          []common.Hash{ev.ID, common.BigToHash(big.NewInt(3)), common.BytesToHash(auditor.Bytes())},
		"data":            hexutil.Bytes(data),
		"transactionHash": common.HexToHash("0x01"),
		"blockNumber":     hexutil.Uint64(21),
		"removed":         false,
	}
	reg := common.HexToAddress("0x00000000000000000000000000000000000000f0")
	ctx := context.Background()

	good := &fakeRegistry{logs: []map[string]any{log}, signed: map[common.Address]bool{auditor: true}, count: 1,
		still: map[common.Address]bool{auditor: true}}
	cs, err := Countersigns(ctx, good, reg, 3)
	if err != nil || len(cs) != 1 || cs[0].Auditor != auditor || cs[0].RC.Int64() != 77 || cs[0].ReservesBlock != 12 ||
		cs[0].Block != 21 || !cs[0].StillAuditor {
		t.Fatalf("countersigns: %+v, %v", cs, err)
	}
	// An auditor governance removed since: the countersign stays, marked as such.
	removed := &fakeRegistry{logs: []map[string]any{log}, signed: map[common.Address]bool{auditor: true}, count: 1}
	if cs, err := Countersigns(ctx, removed, reg, 3); err != nil || len(cs) != 1 || cs[0].StillAuditor {
		t.Errorf("a removed auditor's countersign: %+v, %v", cs, err)
	}
	invented := &fakeRegistry{logs: []map[string]any{log}, signed: map[common.Address]bool{}, count: 0}
	if _, err := Countersigns(ctx, invented, reg, 3); err == nil {
		t.Error("a countersign the registry does not hold was accepted")
	}
	hidden := &fakeRegistry{signed: map[common.Address]bool{auditor: true}, count: 1}
	if _, err := Countersigns(ctx, hidden, reg, 3); err == nil {
		t.Error("an endpoint hiding a countersign was believed")
	}
	none := &fakeRegistry{}
	if cs, err := Countersigns(ctx, none, reg, 3); err != nil || len(cs) != 0 {
		t.Errorf("no countersign: %+v, %v", cs, err)
	}
}
