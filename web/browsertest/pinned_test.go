package browsertest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/solvency-dev/solvency/web/report"
)

// TestReportChartsLibraryIsThePinnedPackage: the charting library inlined into the report is
// byte for byte the one package-lock.json pins.
func TestReportChartsLibraryIsThePinnedPackage(t *testing.T) {
	requireTools(t)
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	raw, err := os.ReadFile("package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &lock); err != nil {
		t.Fatal(err)
	}
	pinned := lock.Packages["node_modules/echarts"].Version
	var pkg struct {
		Version string `json:"version"`
	}
	raw, err = os.ReadFile(filepath.Join("node_modules", "echarts", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatal(err)
	}
	if pinned == "" || pkg.Version != pinned {
		t.Fatalf("installed echarts %q, lockfile pins %q: run ./scripts/setup.sh", pkg.Version, pinned)
	}
	lib, err := os.ReadFile(filepath.Join("node_modules", "echarts", "dist", "echarts.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(lib, []byte(report.EChartsJS())) {
		t.Fatalf("web/report/assets/echarts.min.js is not echarts %s's dist/echarts.min.js: copy it from web/browsertest/node_modules", pinned)
	}
}
