package chainread

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
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
