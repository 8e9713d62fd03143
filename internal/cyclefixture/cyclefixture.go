// Package cyclefixture makes one proven cycle for tests: development keys for the tiny "test"
// profile (saved and loaded back, as the CLI does), a generated snapshot in batches of 8, and its
// proven bundle. The prover's and the verifier's tests share it; making it takes seconds.
package cyclefixture

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/solvency-dev/solvency/bench"
	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/liabilities"
	"github.com/solvency-dev/solvency/prover"
	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/profile"
)

// Users is the fixture's account count: 3 batches of 8, enough to skip, repeat and reorder one.
const Users = 20

// Fixture is one proven cycle on disk.
type Fixture struct {
	Dir      string
	Profile  profile.Profile
	KeysDir  string
	Keys     *keys.Keys
	Pins     bundle.Pins
	Data     *bench.Dataset
	SnapDir  string
	Store    *liabilities.Store
	Proofs   string // batch proof cache
	Bundle   string
	Private  string // BUNDLE.private: the RC opening
	Manifest *prover.CycleResult
}

// Main makes the fixture in a temporary directory, runs the tests, and cleans up; a test
// package's TestMain calls it and reads the fixture through *fx afterwards.
func Main(m *testing.M, prefix string, fx **Fixture) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	f, err := New(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fixture:", err)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	*fx = f
	code := m.Run()
	f.Store.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// New makes the fixture in dir.
func New(dir string) (*Fixture, error) {
	p, err := profile.Lookup("test")
	if err != nil {
		return nil, err
	}
	f := &Fixture{Dir: dir, Profile: p, KeysDir: filepath.Join(dir, "keys")}
	k, err := bench.DevKeys(profile.Circuits(), p, circuitcache.Cache{Dir: filepath.Join(dir, "cache")}, nil)
	if err != nil {
		return nil, err
	}
	var circuits []*keys.Circuit
	for _, c := range k.Circuits {
		circuits = append(circuits, c)
	}
	if err := keys.Save(f.KeysDir, keys.DevMetadata(p), circuits, false); err != nil {
		return nil, err
	}
	if f.Keys, err = keys.Load(f.KeysDir); err != nil {
		return nil, err
	}
	f.Pins = bench.Pins(f.Keys)
	if f.Data, err = bench.Generate(p, Users, 1, bench.Coverage); err != nil {
		return nil, err
	}
	snap, err := liabilities.Build(context.Background(), f.Data.Table, f.Data.Accounts,
		liabilities.BuildOptions{Epoch: 5, SnapshotTime: 1764000000, Height: p.BatchHeight})
	if err != nil {
		return nil, err
	}
	f.SnapDir = filepath.Join(dir, "snap")
	if err := snap.WriteDir(f.SnapDir, false, nil); err != nil {
		return nil, err
	}
	if f.Store, err = liabilities.Open(f.SnapDir); err != nil {
		return nil, err
	}
	f.Proofs = filepath.Join(dir, "batch-proofs")
	f.Bundle = filepath.Join(dir, "bundle")
	f.Private = filepath.Join(dir, "bundle.private")
	if f.Manifest, err = prover.ProveCycle(context.Background(), f.Request(f.Bundle, f.Proofs, f.Private)); err != nil {
		return nil, err
	}
	return f, nil
}

// Request is a cycle request for the fixture's data, writing to out.
func (f *Fixture) Request(out, proofDir, privateOut string) *prover.CycleRequest {
	return &prover.CycleRequest{
		Keys: f.Keys, Store: f.Store, ProofDir: proofDir,
		Policy: f.Data.Policy, Positions: f.Data.Positions, Prices: f.Data.Prices,
		Cycle: 9, ReservesBlock: 21000000, Out: out, PrivateOut: privateOut,
	}
}

// CopyDir copies a directory tree (regular files only).
func CopyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}
