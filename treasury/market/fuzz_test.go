package market

import (
	"bytes"
	"testing"
)

// The parsers never panic, and whatever they accept is in range and prints back to the same
// integer.
func FuzzParsePrice(f *testing.F) {
	for _, s := range []string{"3012.5", "0.00000001", "92233720368.54775807", "1e3", "-1", "0x10", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrice(s)
		if err != nil {
			return
		}
		if p == 0 || p > MaxPrice {
			t.Fatalf("accepted out-of-range price %d from %q", p, s)
		}
		if q, err := ParsePrice(FormatPrice(p)); err != nil || q != p {
			t.Fatalf("%q -> %d -> %q -> %d, %v", s, p, FormatPrice(p), q, err)
		}
	})
}

func FuzzParseSnapshots(f *testing.F) {
	f.Add([]byte(`{"snapshots":[{"cycle":1,"time":1,"prices":{"ETH":"1"}}]}`), []byte("cycle,time,ETH\n1,1,3000\n"))
	f.Fuzz(func(t *testing.T, js, csvData []byte) {
		for _, parse := range []func() ([]Snapshot, error){
			func() ([]Snapshot, error) { return ParseSnapshotsJSON(js) },
			func() ([]Snapshot, error) { return ParseSnapshotsCSV(bytes.NewReader(csvData)) },
		} {
			snaps, err := parse()
			if err != nil {
				continue
			}
			for _, s := range snaps {
				if err := s.Validate(s.Assets()); err != nil {
					t.Fatalf("parsed an invalid snapshot: %v", err)
				}
			}
		}
	})
}
