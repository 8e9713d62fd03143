package contracts

import (
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// RecordsForLC returns the records whose liabilities commitment is lc: the latest by cycle, and
// every one by cycle (one snapshot can serve several cycles). latest is nil when none names lc.
func RecordsForLC(recs []*Record, lc fr.Element) (latest *Record, byCycle map[uint64]*Record) {
	byCycle = map[uint64]*Record{}
	for _, r := range recs {
		if r.LC.Equal(&lc) {
			byCycle[r.Cycle] = r
			if latest == nil || r.Cycle > latest.Cycle {
				latest = r
			}
		}
	}
	return latest, byCycle
}

// RecordAtURI returns the latest record whose bundle address is uri (trailing slashes aside),
// only among cycle's records when cycle is not 0; nil when none is.
func RecordAtURI(recs []*Record, uri string, cycle uint64) *Record {
	same := func(u string) bool { return strings.TrimRight(u, "/") == strings.TrimRight(uri, "/") }
	var found *Record
	for _, r := range recs {
		if cycle != 0 && r.Cycle != cycle {
			continue
		}
		if same(r.BundleURI) && (found == nil || r.Cycle > found.Cycle) {
			found = r
		}
	}
	return found
}
