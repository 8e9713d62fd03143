package venues

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/treasury/market"
)

// The committed treasury files read strictly; liability totals with a symbol twice, null (which
// read as no liabilities) and trailing garbage are refused, naming the file and the key.
func TestV3_TreasuryFilesStrict(t *testing.T) {
	assets, err := market.LoadAssets("../../testdata/treasury/assets.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"../../testdata/treasury", "../sample/files"} {
		book, err := LoadBook(filepath.Join(dir, "venues.json"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := market.LoadSynthConfig(filepath.Join(dir, "market.json")); err != nil {
			t.Fatal(err)
		}
		pos := filepath.Join(dir, "positions.json")
		if _, err := os.Stat(pos); err != nil {
			pos = filepath.Join(dir, "scenario/positions.json")
		}
		if _, _, err := LoadHoldings(pos, assets, book); err != nil {
			t.Fatal(err)
		}
	}
	totals := "../../testdata/treasury/scenario/liabilities.json"
	if _, err := LoadAmounts(totals, assets); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(totals)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ doc, want string }{
		"ETH twice":        {strings.Replace(string(raw), `"ETH":`, `"ETH": "0", "ETH":`, 1), `key "ETH": duplicate key`},
		"null":             {"null", "the document is null"},
		"trailing garbage": {string(raw) + " garbage", "trailing data"},
	} {
		p := filepath.Join(t.TempDir(), "liabilities.json")
		if err := os.WriteFile(p, []byte(c.doc), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadAmounts(p, assets); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p+":") {
			t.Errorf("%s: want %q naming %s, got %v", name, c.want, p, err)
		}
	}
}
