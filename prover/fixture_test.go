package prover_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/solvency-dev/solvency/liabilities"
	"github.com/solvency-dev/solvency/prover"
	"github.com/solvency-dev/solvency/prover/bench"
	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/profile"
	"github.com/solvency-dev/solvency/verifier"
)

// The fixture is made once per test binary (TestMain): dev keys for the tiny "test" profile
// (saved and loaded back, as the CLI does), a generated cycle of fixtureUsers accounts in
// batches of 8 (3 batches: enough to skip, repeat and reorder one), and its proven bundle.
const fixtureUsers = 20

type fixture struct {
	dir      string
	profile  profile.Profile
	keysDir  string
	keys     *keys.Keys
	pins     verifier.Pins
	data     *bench.Dataset
	snapDir  string
	store    *liabilities.Store
	proofs   string // batch proof cache
	bundle   string
	private  string // BUNDLE.private: the RC opening
	manifest *prover.CycleResult
}

var fx *fixture // set once by TestMain, read-only afterwards

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "prover-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	f, err := newFixture(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fixture:", err)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	fx = f
	code := m.Run()
	f.store.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

func newFixture(dir string) (*fixture, error) {
	p, err := profile.Lookup("test")
	if err != nil {
		return nil, err
	}
	f := &fixture{dir: dir, profile: p, keysDir: filepath.Join(dir, "keys")}
	k, err := bench.DevKeys(profile.Circuits(), p, circuitcache.Cache{Dir: filepath.Join(dir, "cache")}, nil)
	if err != nil {
		return nil, err
	}
	var circuits []*keys.Circuit
	for _, c := range k.Circuits {
		circuits = append(circuits, c)
	}
	if err := keys.Save(f.keysDir, keys.DevMetadata(p), circuits, false); err != nil {
		return nil, err
	}
	if f.keys, err = keys.Load(f.keysDir); err != nil {
		return nil, err
	}
	f.pins = bench.Pins(f.keys)
	if f.data, err = bench.Generate(p, fixtureUsers, 1, bench.Coverage); err != nil {
		return nil, err
	}
	snap, err := liabilities.Build(context.Background(), f.data.Table, f.data.Accounts,
		liabilities.BuildOptions{Epoch: 5, SnapshotTime: 1764000000, Height: p.BatchHeight})
	if err != nil {
		return nil, err
	}
	f.snapDir = filepath.Join(dir, "snap")
	if err := snap.WriteDir(f.snapDir, false, nil); err != nil {
		return nil, err
	}
	if f.store, err = liabilities.Open(f.snapDir); err != nil {
		return nil, err
	}
	f.proofs = filepath.Join(dir, "batch-proofs")
	f.bundle = filepath.Join(dir, "bundle")
	f.private = filepath.Join(dir, "bundle.private")
	if f.manifest, err = prover.ProveCycle(context.Background(), f.request(f.bundle, f.proofs, f.private)); err != nil {
		return nil, err
	}
	return f, nil
}

// request is a cycle request for the fixture's data, writing to out.
func (f *fixture) request(out, proofDir, privateOut string) *prover.CycleRequest {
	return &prover.CycleRequest{
		Keys: f.keys, Store: f.store, ProofDir: proofDir,
		Policy: f.data.Policy, Positions: f.data.Positions, Prices: f.data.Prices,
		Cycle: 9, ReservesBlock: 21000000, Out: out, PrivateOut: privateOut,
	}
}

// copyDir copies a directory tree (regular files only).
func copyDir(t testing.TB, src, dst string) {
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
