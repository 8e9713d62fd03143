package bench_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/solvency-dev/solvency/bench"
	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/profile"
)

// The generated treasury passes every limit its policy enables, for every built-in profile's
// shape, and fails with no reserves.
func TestGenerate_PassesItsPolicy(t *testing.T) {
	for _, name := range profile.Names() {
		p, err := profile.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		ds, err := bench.Generate(p, 300, 7, bench.Coverage)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rep, err := ds.Check()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !rep.Pass {
			t.Fatalf("%s: the generated treasury fails: %+v", name, rep.Limits)
		}
		empty, err := bench.Generate(p, 300, 7, 0)
		if err != nil {
			t.Fatal(err)
		}
		if rep, err := empty.Check(); err != nil || rep.Pass {
			t.Fatalf("%s: a treasury without reserves passes (err %v)", name, err)
		}
	}
}

// Run measures the whole pipeline at the tiny test profile and fills every field.
func TestRun_TestProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a setup")
	}
	p, err := profile.Lookup("test")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	res, err := bench.Run(context.Background(), bench.Config{
		Profile: p, Users: 20, Seed: 1, Dir: filepath.Join(dir, "work"),
		Cache: circuitcache.Cache{Dir: filepath.Join(dir, "cache")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Batches != 3 || res.BatchSize != 8 || res.Users != 20 || res.Assets != 2 {
		t.Fatalf("shape %+v", res)
	}
	if res.Trust != "dev-single-party" {
		t.Fatalf("trust %q", res.Trust)
	}
	for name, v := range map[string]float64{
		"constraints_per_account": res.ConstraintsPerAccount, "setup_seconds": res.SetupSeconds,
		"batch_prove_seconds": res.BatchProveSeconds, "accounts_per_second": res.AccountsPerSecond,
		"solvency_prove_seconds": res.SolvencyProveSeconds, "verify_seconds": res.VerifySeconds,
		"peak_rss_bytes": float64(res.PeakRSSBytes), "batch_proof_bytes": float64(res.Sizes.BatchProof),
		"solvency_pk_bytes": float64(res.Sizes.SolvencyPK), "bundle_bytes": float64(res.Sizes.Bundle),
	} {
		if !(v > 0) {
			t.Errorf("%s = %v, want > 0", name, v)
		}
	}
	if res.Machine.NumCPU < 1 || res.Machine.GOARCH == "" || res.Machine.CPUModel == "" {
		t.Errorf("machine %+v", res.Machine)
	}
	// The documented JSON field names (docs/bench.md) are the ones written.
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"machine", "profile", "trust", "users", "assets", "batch_size", "batches",
		"batch_constraints", "constraints_per_account", "solvency_constraints", "compile_seconds",
		"setup_seconds", "liabilities_build_seconds", "batch_prove_seconds", "seconds_per_batch",
		"accounts_per_second", "batch_prove_cpu_seconds", "accounts_per_cpu_second", "batch_prove_cpu_share", "solvency_prove_seconds", "verify_seconds", "verify_seconds_per_proof",
		"total_seconds", "peak_rss_bytes", "go_sys_bytes", "sizes"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON has no field %q", k)
		}
	}
}
