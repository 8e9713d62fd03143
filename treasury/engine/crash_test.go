package engine

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/devnet"
	"github.com/solvency-dev/solvency/treasury/state"
)

// The crash child: runs the engine against a persistent devnet and SIGKILLs itself at the fault
// point named by ENGINE_CRASH_AT (its n-th occurrence, ENGINE_CRASH_N).
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("ENGINE_CRASH_DIR")
	if dir == "" {
		t.Skip("crash child: run by TestKillNineResumes")
	}
	at, n := os.Getenv("ENGINE_CRASH_AT"), 0
	if err := runEngineIn(dir, func(point string) {
		if point == at {
			n++
			if n == 2 {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
}

func runEngineIn(dir string, fault func(string)) error {
	cfgPath := filepath.Join(dir, "sample", "config.json")
	cfg, err := LoadConfig(cfgPath)
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
	evm := &EVMChain{Chain: ch, AddrFile: filepath.Join(st, "addresses.json"), DevFeeds: true, Name: "crash devnet"}
	eng, err := Open(ctx, cfg, Options{StateDir: st, Chain: evm, Log: io.Discard, Fault: fault})
	if err != nil {
		return err
	}
	defer eng.Close()
	return eng.Run(ctx, 2, nil)
}

// TestKillNineResumes kills the engine with SIGKILL in the middle of proving and right after a
// publish transaction (before the state records it), then reruns: every cycle ends published
// exactly once, and the state is complete (V6).
func TestKillNineResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits")
	}
	for _, at := range []string{"batch-proved", "published"} {
		t.Run(at, func(t *testing.T) {
			dir := t.TempDir()
			sampleConfig(t, dir, 100)
			cmd := exec.Command(os.Args[0], "-test.run", "^TestCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "ENGINE_CRASH_DIR="+dir, "ENGINE_CRASH_AT="+at)
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || !strings.Contains(ee.String(), "killed") {
				t.Fatalf("child was not killed (err %v):\n%s", err, out)
			}
			if err := runEngineIn(dir, nil); err != nil {
				t.Fatalf("rerun: %v", err)
			}
			st, err := state.Open(filepath.Join(dir, "state", "state"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			recs, err := st.Records()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 2 || !recs[0].Stage.Complete() || !recs[1].Stage.Complete() {
				t.Fatalf("state after rerun: %d records", len(recs))
			}
			// The registry recorded each cycle once: its count equals the cycles.
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
			l, err := reg.LatestAttestation(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if l.Count != 2 || l.Cycle != 2 {
				t.Fatalf("registry: count %d, latest cycle %d; want 2 and 2", l.Count, l.Cycle)
			}
		})
	}
}
