package sample

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestSampleMatchesTestdata keeps the embedded demo treasury equal to the fixtures the tests use
// (scripts/sync-sample.sh copies them), but for its own policy, venues and positions: the demo
// holds options and a pool share, which the fixtures leave out.
func TestSampleMatchesTestdata(t *testing.T) {
	src := map[string]string{}
	own := []string{"policy.json", "venues.json", "positions.json"}
	for _, f := range []string{"liabilities.json", "rebalance.json"} {
		src[f] = filepath.Join("../../testdata/treasury/scenario", f)
	}
	for _, f := range []string{"executor.json", "addressbook.json", "market.json"} {
		src[f] = filepath.Join("../../testdata/treasury", f)
	}
	names, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != len(src)+len(own)+1 { // + the sample's own files and config.json
		t.Fatalf("sample has %d files, want %d", len(names), len(src))
	}
	if _, err := Read(ConfigFile); err != nil {
		t.Fatal(err)
	}
	for name, path := range src {
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Read(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s: run scripts/sync-sample.sh", name, path)
		}
	}
}
