package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/devnet"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/policy"
	"github.com/solvency-dev/solvency/treasury/state"
)

// untouchedChain fails the test on any use: Open must stop before it reaches the chain.
type untouchedChain struct{ t *testing.T }

func (u untouchedChain) used(what string) error {
	u.t.Errorf("the chain was used (%s) before the state lock and the inputs were checked", what)
	return errors.New("chain used")
}
func (u untouchedChain) Bind(context.Context, *policy.File) error { return u.used("bind") }
func (u untouchedChain) Prices(context.Context, market.Snapshot, *assets.Table) ([]bundle.Price, error) {
	return nil, u.used("prices")
}
func (u untouchedChain) Head(context.Context) (uint64, error) { return 0, u.used("head") }
func (u untouchedChain) PublishedCycle(context.Context) (uint64, bool, error) {
	return 0, false, u.used("published cycle")
}
func (u untouchedChain) Recorded(context.Context, uint64) (*Publication, error) {
	return nil, u.used("recorded")
}
func (u untouchedChain) Publish(context.Context, string, *bundle.Manifest) (*Publication, error) {
	return nil, u.used("publish")
}
func (u untouchedChain) Describe() string { return "untouched" }

// TestSecondRunStopsAtTheStateLock: while one run holds the state, a second stops at the lock,
// before it makes a key, builds a snapshot or touches the chain.
func TestSecondRunStopsAtTheStateLock(t *testing.T) {
	dir := t.TempDir()
	cfg := sampleConfig(t, dir, 8)
	stDir := filepath.Join(dir, "state")
	held, err := state.Open(filepath.Join(stDir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	_, err = Open(context.Background(), cfg, Options{StateDir: stDir, Chain: untouchedChain{t}})
	if err == nil || !strings.Contains(err.Error(), "in use by another run") {
		t.Fatalf("second run: %v; want the state lock's refusal", err)
	}
	for _, p := range []string{"keys", "liabilities", "addresses.json"} {
		if _, err := os.Stat(filepath.Join(stDir, p)); err == nil {
			t.Errorf("the second run created %s", p)
		}
	}
}

// TestInputsCheckedBeforeKeysOrDeploy: a bad input file stops the run before any key is made,
// any snapshot built or any contract deployed.
func TestInputsCheckedBeforeKeysOrDeploy(t *testing.T) {
	for _, file := range []string{"rebalance.json", "executor.json", "market.json", "positions.json", "liabilities.json"} {
		t.Run(file, func(t *testing.T) {
			dir := t.TempDir()
			cfg := sampleConfig(t, dir, 8)
			if err := os.WriteFile(filepath.Join(dir, "sample", file), []byte(`{"broken": `), 0o644); err != nil {
				t.Fatal(err)
			}
			stDir := filepath.Join(dir, "state")
			_, err := Open(context.Background(), cfg, Options{StateDir: stDir, Chain: untouchedChain{t}})
			if err == nil {
				t.Fatal("a broken input was accepted")
			}
			for _, p := range []string{"keys", "liabilities", "accounts.csv", "addresses.json"} {
				if _, err := os.Stat(filepath.Join(stDir, p)); err == nil {
					t.Errorf("%s was created before the inputs were checked", p)
				}
			}
		})
	}
}

// TestReadOnlyStateDirReported: a state directory that cannot be written is reported as
// read-only, with no advice to delete anything.
func TestReadOnlyStateDirReported(t *testing.T) {
	errs := []error{&os.PathError{Op: "open", Path: "/s/x", Err: syscall.EROFS}}
	if os.Geteuid() != 0 { // root writes anywhere; a real read-only directory needs a user
		dir := filepath.Join(t.TempDir(), "state")
		if err := os.MkdirAll(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		errs = append(errs, PrepareStateDir(dir))
	}
	for _, e := range errs {
		err := stateDirError("/s", e)
		if e != nil && errors.Is(e, ErrReadOnly) {
			err = e
		}
		if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), "read-only") {
			t.Fatalf("%v: not reported as read-only", err)
		}
		for _, bad := range []string{"delete", "remove", "rm "} {
			if strings.Contains(strings.ToLower(err.Error()), bad) {
				t.Fatalf("read-only error advises to %q: %v", bad, err)
			}
		}
	}
}

// TestCleanTempsOfKilledRuns: what a killed run left half-written (atomic writes' temporary
// files and directories) is removed; complete files and the chain's directory are kept.
func TestCleanTempsOfKilledRuns(t *testing.T) {
	dir := t.TempDir()
	mk := func(p string, isDir bool) string {
		p = filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(p), 0o700)
		if isDir {
			os.MkdirAll(filepath.Join(p, "private"), 0o700)
		} else {
			os.WriteFile(p, []byte("x"), 0o600)
		}
		return p
	}
	gone := []string{
		mk(".liabilities.tmp-123", true),
		mk("cycles/000001/.bundle.tmp-9", true),
		mk(".accounts.csv.tmp-77", false),
		mk("cycles/000001/.safe-batch.json.tmp-1", false),
	}
	kept := []string{mk("addresses.json", false), mk("chain/.geth.tmp-1", false), mk("cycles/000001/bundle/manifest.json", false)}
	if err := cleanTemps(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range gone {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left behind", p)
		}
	}
	for _, p := range kept {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
}

// TestMissingContractsOnExternalChainReported: an addresses file whose contracts an external
// chain does not hold stops the run with the next step to take, not an unreadable call error
// ("registry.policyHash: empty result").
func TestMissingContractsOnExternalChainReported(t *testing.T) {
	if testing.Short() {
		t.Skip("makes keys")
	}
	dir := t.TempDir()
	cfg := sampleConfig(t, dir, crashUsers)
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
	stDir := filepath.Join(dir, "state")
	addrFile := filepath.Join(stDir, "addresses.json")
	if err := os.MkdirAll(stDir, 0o700); err != nil {
		t.Fatal(err)
	}
	// A deployment record from a chain that was since reset: right chain id, no code.
	a := &contracts.Addresses{Version: contracts.AddressesVersion, ChainID: strconv.Itoa(devnet.ChainID), NumAssets: 8,
		Registry: common.HexToAddress("0x1000000000000000000000000000000000000001"),
		Verifier: common.HexToAddress("0x1000000000000000000000000000000000000002"), Feeds: []contracts.FeedInfo{}}
	if err := contracts.WriteAddresses(addrFile, a); err != nil {
		t.Fatal(err)
	}
	evm := &EVMChain{Chain: ch, AddrFile: addrFile, Name: "an external chain"}
	_, err = Open(ctx, cfg, Options{StateDir: stDir, Keys: sharedKeys(t, "demo"), Chain: evm})
	if err == nil || !strings.Contains(err.Error(), "solvency contracts deploy") || !strings.Contains(err.Error(), "no code at the registry") {
		t.Fatalf("open: %v; want the missing contracts named with the next step", err)
	}
}
