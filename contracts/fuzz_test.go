package contracts

import (
	"encoding/json"
	"testing"
)

// FuzzStatementJSON: the statement parser never panics, and whatever it accepts re-encodes to a
// document it parses back to the same public inputs (one statement, one meaning).
func FuzzStatementJSON(f *testing.F) {
	good, err := json.Marshal(sampleAttestation())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"cycle":"01"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Attestation
		if err := json.Unmarshal(data, &a); err != nil {
			return
		}
		again, err := json.Marshal(&a)
		if err != nil {
			t.Fatal(err)
		}
		var b Attestation
		if err := json.Unmarshal(again, &b); err != nil {
			t.Fatalf("re-encoded statement refused: %v", err)
		}
		wa, err1 := a.PublicInputs()
		wb, err2 := b.PublicInputs()
		if err1 != nil || err2 != nil || len(wa) != len(wb) {
			t.Fatalf("public inputs: %v %v", err1, err2)
		}
		for i := range wa {
			if wa[i].Cmp(wb[i]) != 0 {
				t.Fatalf("word %d changed across a round trip", i)
			}
		}
	})
}

// FuzzParseKey: the key parser never panics.
func FuzzParseKey(f *testing.F) {
	f.Add("0xb71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291")
	f.Add("")
	f.Add("0x" + string(make([]byte, 64)))
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseKey(s)
	})
}
