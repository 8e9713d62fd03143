package rebalance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfigCommittedFiles(t *testing.T) {
	for _, p := range []string{"../../testdata/treasury/rebalance.json", "../../testdata/treasury/scenario/rebalance.json", "../sample/files/rebalance.json"} {
		if _, err := LoadConfig(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// V3: a misspelled key used to be ignored (its setting silently at zero); it is refused, naming
// the file, the place and the field it resembles.
func TestV3_MisspelledRebalanceKeyRefused(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/treasury/rebalance.json")
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ from, to, want string }{
		"misspelled": {`"targetHeadroomBps"`, `"targetHeadroomBsp"`, `key "targetHeadroomBsp": unknown field; did you mean "targetHeadroomBps"?`},
		"wrong case": {`"minYieldGainBps"`, `"MinYieldGainBps"`, `keys are case-sensitive: did you mean "minYieldGainBps"?`},
		"missing":    {`"minYieldGainBps": 5,`, ``, `key "minYieldGainBps": required field is missing`},
		"twice":      {`"triggerHeadroomBps": 100,`, `"triggerHeadroomBps": 100, "triggerHeadroomBps": 900,`, `duplicate key`},
		"trailing":   {"\"maxUtilisationBps\": 9500\n}", "\"maxUtilisationBps\": 9500\n} {}", `trailing data`},
	} {
		t.Run(name, func(t *testing.T) {
			mut := strings.Replace(string(raw), c.from, c.to, 1)
			if mut == string(raw) {
				t.Fatal("edit not found")
			}
			p := filepath.Join(t.TempDir(), "rebalance.json")
			if err := os.WriteFile(p, []byte(mut), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadConfig(p)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p+":") {
				t.Fatalf("want an error naming %s and %q, got %v", p, c.want, err)
			}
		})
	}
}
