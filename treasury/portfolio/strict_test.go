package portfolio

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/circuits/assets"
)

// edited writes src with from replaced by to (or src+to when from is empty) and returns its path.
func edited(t *testing.T, src, from, to string) string {
	t.Helper()
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	mut := string(raw) + to
	if from != "" {
		mut = strings.Replace(string(raw), from, to, 1)
		if mut == string(raw) {
			t.Fatalf("edit %q not found in %s", from, src)
		}
	}
	p := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.WriteFile(p, []byte(mut), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func wantErr(t *testing.T, err error, path, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path+":") {
		t.Fatalf("want an error naming %s and %q, got %v", path, want, err)
	}
}

// V3: liability totals with "ETH" twice used to keep the last one; null meant zero liabilities.
func TestV3_LiabilityTotalsDuplicateAndNullRefused(t *testing.T) {
	tab, err := assets.Load("../../testdata/assets.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadLiabilityTotals("../../testdata/liabilities.json", tab); err != nil {
		t.Fatal(err)
	}
	p := edited(t, "../../testdata/liabilities.json", `"ETH": "1500",`, `"ETH": "1500", "ETH": "1",`)
	_, err = LoadLiabilityTotals(p, tab)
	wantErr(t, err, p, `key "ETH": duplicate key`)
	p = edited(t, "../../testdata/liabilities.json", `"ETH": "1500",`, `"ETH": "1500", "eth": "1",`)
	_, err = LoadLiabilityTotals(p, tab)
	wantErr(t, err, p, `differs from key "ETH" only in case`)
	p = filepath.Join(t.TempDir(), "null.json")
	os.WriteFile(p, []byte("null\n"), 0o644)
	_, err = LoadLiabilityTotals(p, tab)
	wantErr(t, err, p, "the document is null")
	p = edited(t, "../../testdata/liabilities.json", "", " garbage")
	_, err = LoadLiabilityTotals(p, tab)
	wantErr(t, err, p, "trailing data")
}

// V3: a price's answer given twice used to keep the last one (and a bundle was written).
func TestV3_PriceAnswerTwiceRefused(t *testing.T) {
	tab, err := assets.Load("../../testdata/assets.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPrices("../../testdata/prices.json", tab); err != nil {
		t.Fatal(err)
	}
	p := edited(t, "../../testdata/prices.json", `"answer": "300000000000",`, `"answer": "300000000000", "answer": "900000000000",`)
	_, err = LoadPrices(p, tab)
	wantErr(t, err, p, `key "prices[0].answer": duplicate key`)
	p = edited(t, "../../testdata/prices.json", `"updatedAt": 1764000000}`, `"updatedat": 1764000000}`)
	_, err = LoadPrices(p, tab)
	wantErr(t, err, p, `did you mean "updatedAt"`)
}

// V3: positions and prices followed by garbage were accepted.
func TestV3_PositionsAndPricesTrailingDataRefused(t *testing.T) {
	pol := loadPolicy(t)
	p := edited(t, "../../testdata/positions.json", "", " garbage")
	_, err := LoadPositions(p, pol)
	wantErr(t, err, p, "trailing data")
	p = edited(t, "../../testdata/prices.json", "", "{}")
	_, err = LoadPrices(p, pol.Table())
	wantErr(t, err, p, "trailing data")
	p = filepath.Join(t.TempDir(), "positions.json")
	os.WriteFile(p, []byte("null"), 0o644)
	_, err = LoadPositions(p, pol)
	wantErr(t, err, p, "null")
}
