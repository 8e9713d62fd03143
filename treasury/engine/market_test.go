package engine

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/rebalance"
	"github.com/solvency-dev/solvency/treasury/sample"
)

// editedSample writes the embedded sample with its config edited by edit, and loads it.
func editedSample(t *testing.T, edit func(dir string, m map[string]any)) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	path, err := sample.WriteTo(filepath.Join(dir, "sample"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["accounts"] = map[string]any{"users": 10, "seed": 7, "scaleTo": "liabilities.json"}
	edit(filepath.Dir(path), m)
	b, _ := json.Marshal(m)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return LoadConfig(path)
}

// loadedEngine reads and checks a config's inputs as Open does, without keys or a chain.
func loadedEngine(t *testing.T, cfg *Config) (*Engine, *inputs, error) {
	t.Helper()
	e := &Engine{cfg: cfg, opt: Options{StateDir: t.TempDir()}}
	in, err := e.loadInputs()
	return e, in, err
}

// planCycle plans cycle c from the sample's initial positions at that cycle's prices.
func planCycle(t *testing.T, e *Engine, in *inputs, c uint64) *rebalance.Plan {
	t.Helper()
	snap, err := e.src.Snapshot(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	reb, err := e.rebalancerFor(c)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := reb.Plan(rebalance.Input{Book: in.book, Portfolio: e.portfolio(in.positions, in.derivs, snap)})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// TestForecastConfigDrivesRebalancer: a forecast in the engine's config adds the forecast VaR
// limit to the rebalancer's reports, from the seeded market's volatility up to the cycle's
// step: the sample market's crash (step 1) raises the forecast against the day before, and a
// budget the crash breaks makes the rebalancer de-risk until it holds.
func TestForecastConfigDrivesRebalancer(t *testing.T) {
	withForecast := func(maxBps int64) (*Engine, *inputs) {
		cfg, err := editedSample(t, func(_ string, m map[string]any) {
			m["forecast"] = map[string]any{"confidence": 0.99, "horizonDays": 1, "maxBps": maxBps}
		})
		if err != nil {
			t.Fatal(err)
		}
		e, in, err := loadedEngine(t, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return e, in
	}
	e, in := withForecast(10000)
	// With the whole equity as budget, the headroom's complement is the forecast VaR as a share
	// of equity (bps): the same positions at each day's prices.
	share := func(c uint64) float64 {
		l, ok := planCycle(t, e, in, c).Before.Find(rebalance.ForecastID)
		if !ok {
			t.Fatalf("cycle %d: no forecast limit in the rebalancer's report", c)
		}
		h, _ := l.HeadroomBps()
		return float64(10000 - h)
	}
	calm, crash := share(0), share(1)
	t.Logf("forecast VaR: %.0f bps of equity on cycle 0, %.0f bps on cycle 1", calm, crash)
	if crash <= 2*calm {
		t.Fatalf("the crash did not raise the forecast: %.0f bps then %.0f bps", calm, crash)
	}

	// A budget between the two: the calm day holds it, the crash day breaks it and the plan
	// restores it.
	budget := int64((calm + crash) / 2)
	e, in = withForecast(budget)
	if l, _ := planCycle(t, e, in, 0).Before.Find(rebalance.ForecastID); !l.Pass {
		t.Fatalf("cycle 0 breaks a %d bps budget: %s %s", budget, l.Value, l.Bound)
	}
	p := planCycle(t, e, in, 1)
	if l, _ := p.Before.Find(rebalance.ForecastID); l.Pass {
		t.Fatalf("cycle 1 holds a %d bps budget: %s %s", budget, l.Value, l.Bound)
	}
	if l, _ := p.After.Find(rebalance.ForecastID); !l.Pass || len(p.Trades) == 0 {
		t.Fatalf("plan did not restore the forecast budget: %s %s, %d trades", l.Value, l.Bound, len(p.Trades))
	}

	// Without a forecast the reports hold no forecast limit.
	plain, err := editedSample(t, func(string, map[string]any) {})
	if err != nil {
		t.Fatal(err)
	}
	e, in, err = loadedEngine(t, plain)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := planCycle(t, e, in, 1).Before.Find(rebalance.ForecastID); ok {
		t.Fatal("a forecast limit without a forecast configured")
	}
}

// TestBadForecastConfigRefusedBeforeAnything: a forecast the risk model cannot use, or one
// without a seeded market to read, stops the run while inputs are read.
func TestBadForecastConfigRefusedBeforeAnything(t *testing.T) {
	for name, c := range map[string]struct {
		edit func(dir string, m map[string]any)
		want string
	}{
		"confidence": {func(_ string, m map[string]any) {
			m["forecast"] = map[string]any{"confidence": 1.5, "horizonDays": 1, "maxBps": 100}
		}, "confidence"},
		"window": {func(_ string, m map[string]any) {
			m["forecast"] = map[string]any{"confidence": 0.99, "horizonDays": 1, "maxBps": 100, "window": 1}
		}, "window"},
		"no market": {func(dir string, m map[string]any) {
			m["forecast"] = map[string]any{"confidence": 0.99, "horizonDays": 1, "maxBps": 100}
			delete(m, "market")
			m["prices"] = "prices.json"
		}, `needs "market"`},
	} {
		cfg, err := editedSample(t, c.edit)
		if err == nil {
			_, _, err = loadedEngine(t, cfg)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v; want one naming %q", name, err, c.want)
		}
	}
}

// TestPriceFileFeedsCycles: a config naming a price file instead of the seeded market gives
// each cycle the file's snapshot of that cycle, and refuses a cycle the file lacks.
func TestPriceFileFeedsCycles(t *testing.T) {
	base, err := editedSample(t, func(string, map[string]any) {})
	if err != nil {
		t.Fatal(err)
	}
	seeded, _, err := loadedEngine(t, base)
	if err != nil {
		t.Fatal(err)
	}
	var snaps []market.Snapshot
	for c := uint64(0); c < 2; c++ {
		s, err := seeded.src.Snapshot(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		s.Prices["ETH"] = 2000_00000000 + c // a price the seeded market does not have
		snaps = append(snaps, s)
	}
	withPrices := func(dir string, m map[string]any) {
		if err := market.WriteSnapshotsJSON(filepath.Join(dir, "prices.json"), snaps); err != nil {
			t.Fatal(err)
		}
		delete(m, "market")
		m["prices"] = "prices.json"
	}
	// The sample holds options: with prices from a file, their volatilities must come from a
	// surface file too.
	noVols, err := editedSample(t, withPrices)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadedEngine(t, noVols); err == nil || !strings.Contains(err.Error(), "volatility surface") {
		t.Fatalf("options priced without a volatility source: %v", err)
	}
	cfg, err := editedSample(t, func(dir string, m map[string]any) {
		withPrices(dir, m)
		vols := `{"surfaces": {"ETH": [{"expiry": 1774598400, "strike": "1800", "vol": 0.9}, {"expiry": 1774598400, "strike": "2400", "vol": 0.8}]}}`
		if err := os.WriteFile(filepath.Join(dir, "vols.json"), []byte(vols), 0o644); err != nil {
			t.Fatal(err)
		}
		m["greeks"] = map[string]any{"volSurface": "vols.json"}
	})
	if err != nil {
		t.Fatal(err)
	}
	e, _, err := loadedEngine(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.src.Snapshot(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Source != "file" || got.Prices["ETH"] != 2000_00000001 || got.Time != snaps[1].Time {
		t.Fatalf("cycle 1 read %+v; want the file's snapshot", got)
	}
	if _, err := e.src.Snapshot(context.Background(), 2); err == nil {
		t.Fatal("a cycle the price file lacks was served")
	}
	if _, err := editedSample(t, func(_ string, m map[string]any) { m["prices"] = "prices.json" }); err == nil {
		t.Fatal("a config with both a market and a price file was accepted")
	}
}
