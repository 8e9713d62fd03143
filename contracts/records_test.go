package contracts

import (
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

func TestRecordsForLCLatestAndByCycle(t *testing.T) {
	var a, b fr.Element
	a.SetUint64(1)
	b.SetUint64(2)
	recs := []*Record{{Cycle: 1, LC: a}, {Cycle: 3, LC: a}, {Cycle: 2, LC: b}, {Cycle: 4, LC: b}}
	latest, byCycle := RecordsForLC(recs, a)
	if latest == nil || latest.Cycle != 3 || len(byCycle) != 2 || byCycle[1] != recs[0] || byCycle[3] != recs[1] {
		t.Fatalf("latest %+v, by cycle %v", latest, byCycle)
	}
	var c fr.Element
	c.SetUint64(3)
	if latest, byCycle := RecordsForLC(recs, c); latest != nil || len(byCycle) != 0 {
		t.Fatal("an LC no record names was found")
	}
}

func TestRecordAtURILatestOrCycle(t *testing.T) {
	recs := []*Record{
		{Cycle: 1, BundleURI: "https://h/bundles/aa/"},
		{Cycle: 2, BundleURI: "https://h/bundles/aa"},
		{Cycle: 3, BundleURI: "https://h/bundles/bb"},
	}
	if r := RecordAtURI(recs, "https://h/bundles/aa", 0); r != recs[1] {
		t.Fatalf("got %+v, want cycle 2", r)
	}
	if r := RecordAtURI(recs, "https://h/bundles/aa/", 1); r != recs[0] {
		t.Fatalf("got %+v, want cycle 1", r)
	}
	if r := RecordAtURI(recs, "https://h/bundles/aa", 3); r != nil {
		t.Fatalf("cycle 3's record is at another address, got %+v", r)
	}
}
