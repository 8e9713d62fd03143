package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/solvency-dev/solvency/bench"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/devnet"
	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/profile"
	"github.com/solvency-dev/solvency/treasury/state"
)

// crashUsers keeps every crash run small: two liabilities batches.
const crashUsers = 8

// crashCycles is how many cycles each crash run publishes.
const crashCycles = 2

// testKeysDir holds development keys for the sample's profile, made once per test binary and
// shared with the crash children through ENGINE_TEST_KEYS (making them is most of a fresh run).
var testKeysDir string

func TestMain(m *testing.M) {
	if d := os.Getenv("ENGINE_TEST_KEYS"); d != "" {
		testKeysDir = d
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "engine-keys-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	testKeysDir = filepath.Join(dir, "keys")
	os.Setenv("ENGINE_TEST_KEYS", testKeysDir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sharedKeys makes the shared keys on first use (compiled circuits come from the user's cache).
func sharedKeys(t *testing.T, profileName string) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(testKeysDir, keys.MetadataFile)); err == nil {
		return testKeysDir
	}
	p, err := profile.Lookup(profileName)
	if err != nil {
		t.Fatal(err)
	}
	cacheDir, err := circuitcache.DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	k, err := bench.DevKeys(profile.Circuits(), p, circuitcache.Cache{Dir: cacheDir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var circuits []*keys.Circuit
	for _, c := range k.Circuits {
		circuits = append(circuits, c)
	}
	if err := keys.Save(testKeysDir, keys.DevMetadata(p), circuits, false); err != nil {
		t.Fatal(err)
	}
	return testKeysDir
}

// runEngineIn runs the engine to `cycles` cycles on the embedded dev chain in dir/chain, with
// the state in dir/state, as `solvency run` does.
func runEngineIn(dir string, cycles int, fault func(string) error) error {
	cfg, err := LoadConfig(filepath.Join(dir, "sample", "config.json"))
	if err != nil {
		return err
	}
	d, err := devnet.Start(devnet.Config{DataDir: filepath.Join(dir, "chain")})
	if err != nil {
		return err
	}
	defer d.Close()
	ctx := context.Background()
	ch, err := contracts.NewChain(ctx, d.Client(), d.Key)
	if err != nil {
		return err
	}
	st := filepath.Join(dir, "state")
	evm := &EVMChain{Chain: ch, AddrFile: filepath.Join(st, "addresses.json"), DevFeeds: true, Name: "crash devnet",
		Embedded: true, Fault: fault}
	eng, err := Open(ctx, cfg, Options{StateDir: st, Keys: testKeysDir, Chain: evm, Log: io.Discard, Fault: fault})
	if err != nil {
		return err
	}
	defer eng.Close()
	return eng.Run(ctx, cycles, nil)
}

// The crash child: runs the engine and SIGKILLs itself at the n-th call of the fault point
// ENGINE_CRASH_AT (n = ENGINE_CRASH_N).
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("ENGINE_CRASH_DIR")
	if dir == "" {
		t.Skip("crash child: run by TestV6_KillNineAtEveryStage")
	}
	at := os.Getenv("ENGINE_CRASH_AT")
	want, _ := strconv.Atoi(os.Getenv("ENGINE_CRASH_N"))
	n := 0
	err := runEngineIn(dir, crashCycles, func(point string) error {
		if point == at {
			if n++; n == want {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
		return nil
	})
	t.Fatalf("the run ended without reaching %s #%d: %v", at, want, err)
}

// outcome is what a finished run leaves: the state's records and positions, and the registry.
type outcome struct {
	Positions string
	Cycles    []string // per cycle: stage, prices, trades, fills, positions after
	Count     uint64
	Latest    uint64
	Held      []bool // the registry holds cycle i+1
}

func readOutcome(t *testing.T, dir string) *outcome {
	t.Helper()
	st, err := state.Open(filepath.Join(dir, "state", "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	o := &outcome{}
	pos, err := st.Positions()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(pos.Canonical())
	o.Positions = string(b)
	recs, err := st.Records()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		b, _ := json.Marshal([]any{r.Cycle, r.Stage, r.Prices, r.Trades, r.Fills, r.PositionsAfter.Canonical()})
		o.Cycles = append(o.Cycles, string(b))
	}
	d, err := devnet.Start(devnet.Config{DataDir: filepath.Join(dir, "chain")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	a, err := contracts.ReadAddresses(filepath.Join(dir, "state", "addresses.json"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := a.Bind(d.Client())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	l, err := reg.LatestAttestation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	o.Count, o.Latest = l.Count, l.Cycle
	for c := uint64(1); c <= crashCycles; c++ {
		h, err := reg.AttestationHash(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		o.Held = append(o.Held, h != common.Hash{})
	}
	return o
}

// checkOutcome compares a run's outcome with the uninterrupted run's: the same records and
// positions, and the registry holding each cycle exactly once (cycles strictly increase in the
// registry, so a count equal to the cycles means no cycle twice).
func checkOutcome(t *testing.T, dir string, want *outcome) {
	t.Helper()
	got := readOutcome(t, dir)
	if got.Count != crashCycles || got.Latest != crashCycles {
		t.Fatalf("registry: %d attestations, latest cycle %d; want %d and %d", got.Count, got.Latest, crashCycles, crashCycles)
	}
	for i, h := range got.Held {
		if !h {
			t.Fatalf("registry does not hold cycle %d", i+1)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("final state differs from an uninterrupted run's:\n got %+v\nwant %+v", got, want)
	}
	// Nothing half-written is left behind.
	filepath.WalkDir(filepath.Join(dir, "state"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp-") {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}

// reference is the uninterrupted run's outcome, made once per test binary (tests run one at a
// time).
var reference *outcome

// referenceRun runs crashCycles cycles without interruption in a fresh directory, once.
func referenceRun(t *testing.T) *outcome {
	t.Helper()
	if reference != nil {
		return reference
	}
	dir := t.TempDir() // only the outcome, kept in memory, outlives this test
	sampleConfig(t, dir, crashUsers)
	sharedKeys(t, "demo")
	if err := runEngineIn(dir, crashCycles, nil); err != nil {
		t.Fatalf("uninterrupted run: %v", err)
	}
	checkPrivate(t, dir)
	reference = readOutcome(t, dir)
	return reference
}

// TestV6_KillNineAtEveryStage kills the engine with SIGKILL at every stage of a cycle (while the
// liabilities snapshot is written, right after the contracts are deployed, before each stage is
// recorded, between batch proofs, and right after the publish transaction is mined), the dev
// chain running in the same process, then runs again: the registry holds each cycle exactly
// once, and the final state equals an uninterrupted run's.
func TestV6_KillNineAtEveryStage(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits")
	}
	want := referenceRun(t)
	for _, at := range FaultPoints() {
		t.Run(at, func(t *testing.T) {
			// The snapshot and the deployment happen once; every other point is killed in the
			// second cycle, after the first is published.
			n := 2
			if at == "snapshot-writing" || at == "deployed" {
				n = 1
			}
			dir := t.TempDir()
			sampleConfig(t, dir, crashUsers)
			cmd := exec.Command(os.Args[0], "-test.run", "^TestCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "ENGINE_CRASH_DIR="+dir, "ENGINE_CRASH_AT="+at, "ENGINE_CRASH_N="+strconv.Itoa(n))
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || !strings.Contains(ee.String(), "killed") {
				t.Fatalf("child was not killed (err %v):\n%s", err, out)
			}
			if err := runEngineIn(dir, crashCycles, nil); err != nil {
				t.Fatalf("rerun: %v", err)
			}
			checkOutcome(t, dir, want)
		})
	}
}

// TestDiskFullAtEveryStageConverges fails the write at every stage once, as a full disk would
// (an injected ENOSPC: a real full disk cannot be made in a test here), in one state: each run
// stops with the disk error and loses nothing recorded, and the runs after it converge to an
// uninterrupted run's state.
func TestDiskFullAtEveryStageConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits")
	}
	want := referenceRun(t)
	dir := t.TempDir()
	sampleConfig(t, dir, crashUsers)
	failed := map[string]bool{}
	fails := 0
	for attempt := 0; ; attempt++ {
		if attempt > 2*len(FaultPoints())+2 {
			t.Fatal("the runs do not converge")
		}
		err := runEngineIn(dir, crashCycles, func(point string) error {
			if point == "batch-proved" || failed[point] {
				return nil
			}
			failed[point] = true
			return &os.PathError{Op: "write", Path: filepath.Join(dir, "state", point), Err: syscall.ENOSPC}
		})
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("attempt %d: %v; want the disk error", attempt, err)
		}
		fails++
	}
	if fails != len(FaultPoints())-1 {
		t.Fatalf("%d runs failed; want one per write point (%d)", fails, len(FaultPoints())-1)
	}
	checkOutcome(t, dir, want)
}

// TestV6_RepublishesWhatTheChainLacks: the embedded chain is lost after a published cycle (its
// directory reset): the rerun finds that the chain holds none of the recorded contracts,
// deploys them again, and publishes again the cycle the state recorded as published, instead of
// trusting its own record or stopping at a dead end.
func TestV6_RepublishesWhatTheChainLacks(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits")
	}
	want := referenceRun(t)
	dir := t.TempDir()
	sampleConfig(t, dir, crashUsers)
	if err := runEngineIn(dir, 1, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "chain")); err != nil {
		t.Fatal(err)
	}
	if err := runEngineIn(dir, crashCycles, nil); err != nil {
		t.Fatalf("rerun on a fresh chain: %v", err)
	}
	got := readOutcome(t, dir)
	if got.Count != crashCycles || !got.Held[0] || !got.Held[1] {
		t.Fatalf("registry after the rerun: %+v", got)
	}
	// The republished cycle was proven again at the new chain's head; trades and positions
	// are the uninterrupted run's.
	if got.Positions != want.Positions || !reflect.DeepEqual(got.Cycles, want.Cycles) {
		t.Fatalf("state differs from an uninterrupted run's:\n got %+v\nwant %+v", got, want)
	}
}

// checkPrivate: the state directory, cycle directories and Safe batches are owner-only.
func checkPrivate(t *testing.T, dir string) {
	t.Helper()
	st := filepath.Join(dir, "state")
	check := func(p string, want os.FileMode) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 || fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v; want %v", p, fi.Mode().Perm(), want)
		}
	}
	check(st, 0o700)
	check(filepath.Join(st, "state"), 0o700)
	check(filepath.Join(st, "state", state.FileName), 0o600)
	check(filepath.Join(st, "cycles"), 0o700)
	batches := 0
	for c := 1; c <= crashCycles; c++ {
		cd := filepath.Join(st, "cycles", fmt.Sprintf("%06d", c))
		check(cd, 0o700)
		if _, err := os.Stat(filepath.Join(cd, "safe-batch.json")); err == nil {
			check(filepath.Join(cd, "safe-batch.json"), 0o600)
			batches++
		}
	}
	if batches == 0 {
		t.Error("no Safe batch written; the permission check saw none")
	}
}
