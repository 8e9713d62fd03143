package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/devnet"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/sample"
)

// sampleConfig writes the embedded sample with a small account count.
func sampleConfig(t *testing.T, dir string, users int) *Config {
	t.Helper()
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
	m["accounts"] = map[string]any{"users": users, "seed": 7, "scaleTo": "liabilities.json"}
	b, _ := json.Marshal(m)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestEngineRunsCyclesOnDevnet runs the sample treasury through three cycles on an in-process
// dev chain: each cycle is assessed, rebalanced, executed, proved, verified and published, and a
// rerun publishes nothing twice.
func TestEngineRunsCyclesOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits")
	}
	dir := t.TempDir()
	cfg := sampleConfig(t, dir, 100)
	d, err := devnet.Start(devnet.Config{DataDir: filepath.Join(dir, "chain")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	ch, err := contracts.NewChain(ctx, d.Client(), d.Key)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	state := filepath.Join(dir, "state")
	evm := &EVMChain{Chain: ch, AddrFile: filepath.Join(state, "addresses.json"), DevFeeds: true, Name: "test devnet"}
	eng, err := Open(ctx, cfg, Options{StateDir: state, Keys: sharedKeys(t, "demo"), Chain: evm, Log: &log})
	if err != nil {
		t.Fatalf("open: %v\n%s", err, log.String())
	}
	var sums []*Summary
	err = eng.Run(ctx, 3, func(s *Summary) { sums = append(sums, s) })
	t.Log(log.String())
	for _, s := range sums {
		b, _ := json.Marshal(s)
		t.Logf("%s", b)
	}
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	eng.Close()
	got, ok, err := evm.PublishedCycle(ctx)
	if err != nil || !ok || got != 3 {
		t.Fatalf("registry has cycle %d (%v, %v); want 3", got, ok, err)
	}
	// A rerun finds everything done and publishes nothing.
	eng, err = Open(ctx, cfg, Options{StateDir: state, Keys: sharedKeys(t, "demo"), Chain: evm, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	n := 0
	if err := eng.Run(ctx, 3, func(*Summary) { n++ }); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("rerun ran %d cycles", n)
	}
}

// TestOracleCheckStopsCycle: a price that fails an oracle check (here a move beyond the
// deviation bound between two cycles) stops the cycle before it is proven or published, and
// the error names the asset and the check.
func TestOracleCheckStopsCycle(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits")
	}
	dir := t.TempDir()
	cfg := sampleConfig(t, dir, 20)
	d, err := devnet.Start(devnet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	ch, err := contracts.NewChain(ctx, d.Client(), d.Key)
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	evm := &EVMChain{Chain: ch, AddrFile: filepath.Join(state, "addresses.json"), DevFeeds: true, Name: "test devnet", MaxDeviationBps: 1}
	eng, err := Open(ctx, cfg, Options{StateDir: state, Keys: sharedKeys(t, "demo"), Chain: evm})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	err = eng.Run(ctx, 2, nil)
	var ce *market.CheckError
	if !errors.As(err, &ce) || ce.Asset == "" {
		t.Fatalf("run: %v; want a price check error naming the asset", err)
	}
	if got, ok, _ := evm.PublishedCycle(ctx); !ok || got != 1 {
		t.Fatalf("registry has cycle %d (%v); want only cycle 1 published", got, ok)
	}
	t.Logf("refused: %v", err)
}
