package bundle_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/bundle"
)

// The opening is read strictly: unknown, duplicate or case-variant keys, trailing data and
// another version are refused; a well-formed opening reads back as written.
func TestReservesOpeningReadStrictly(t *testing.T) {
	good := `{"version":1,"cycle":3,"rc":"0x01","salt":"0x02","reserves_block":7,"slots":2,` +
		`"positions":[{"venue":0,"asset":1,"amount_units":"-5"}],"assets":[],"venues":[],` +
		`"chain":{"version":1,"chain_id":1337,"multicall":"0xab","positions":[{"venue":0,"asset":1,"kind":"debt","holder":"0xcd","contract":"0xef"}]}}`
	path := filepath.Join(t.TempDir(), "reserves-opening-000003.json")
	if err := os.WriteFile(path, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := bundle.ReadReservesOpening(path)
	if err != nil {
		t.Fatal(err)
	}
	if o.Cycle != 3 || o.Block != 7 || o.Slots != 2 || len(o.Positions) != 1 || o.Positions[0].Amount != "-5" ||
		o.Chain == nil || o.Chain.ChainID != 1337 || o.Chain.Positions[0].Kind != "debt" {
		t.Fatalf("read back %+v", o)
	}
	for name, doc := range map[string]string{
		"unknown field":  strings.Replace(good, `"cycle":3`, `"cycle":3,"extra":1`, 1),
		"duplicate key":  strings.Replace(good, `"cycle":3`, `"cycle":3,"cycle":4`, 1),
		"case variant":   strings.Replace(good, `"cycle":3`, `"Cycle":3`, 1),
		"trailing data":  good + "{}",
		"other version":  strings.Replace(good, `"version":1,"cycle"`, `"version":2,"cycle"`, 1),
		"not an opening": `[]`,
	} {
		if _, err := bundle.DecodeReservesOpening([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
