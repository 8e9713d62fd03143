// Package engine runs the treasury's cycles: prices, assess, rebalance, execute, prove, verify,
// publish, record. Every stage is recorded in the state directory before the next begins, so a
// cycle killed at any point resumes without repeating a publish or losing a trade.
package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/liabilities"
	"github.com/solvency-dev/solvency/prover"
	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/profile"
	"github.com/solvency-dev/solvency/treasury/derivatives"
	"github.com/solvency-dev/solvency/treasury/execute"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/policy"
	"github.com/solvency-dev/solvency/treasury/portfolio"
	"github.com/solvency-dev/solvency/treasury/rebalance"
	"github.com/solvency-dev/solvency/treasury/state"
	"github.com/solvency-dev/solvency/treasury/twincheck"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// Chain is where attestations go and where prices come from: the embedded dev chain (with dev
// price feeds the engine sets) or any JSON-RPC endpoint.
type Chain interface {
	// Bind attaches to (or deploys) the registry, binds the policy to this chain and registry
	// (S6: it sets the file's chain id and registry address) and makes sure the registry holds
	// the policy's hash.
	Bind(ctx context.Context, pf *policy.File) error
	// Prices returns the cycle's prices as the oracle feeds state them (round, answer,
	// decimals, normalised price), one per asset slot. On a dev chain it first sets the feeds to
	// the snapshot's prices.
	Prices(ctx context.Context, snap market.Snapshot, table *assets.Table) ([]bundle.Price, error)
	// Head is the latest block number: the block at which reserves are claimed.
	Head(ctx context.Context) (uint64, error)
	// PublishedCycle is the last cycle the registry recorded (0 and false if none).
	PublishedCycle(ctx context.Context) (uint64, bool, error)
	// Recorded reads the registry's record of cycle c: nil when the registry does not hold it;
	// else the publication (its transaction, when the node still serves the event).
	Recorded(ctx context.Context, c uint64) (*Publication, error)
	// Publish sends the bundle's attestation; the bundle was verified first.
	Publish(ctx context.Context, bundleDir string, m *bundle.Manifest) (*Publication, error)
	// Describe names the chain for people ("embedded dev chain", an RPC URL).
	Describe() string
}

// Publication is a recorded publish transaction.
type Publication struct {
	Tx      string
	Block   uint64
	GasUsed uint64
}

// Options configure an engine run.
type Options struct {
	StateDir string
	Keys     string // keys directory; "" makes development keys in StateDir/keys (said loudly)
	Chain    Chain
	Log      io.Writer // progress lines (stderr)
	Provers  int
	// Store is the state store already opened (and so locked) by the caller, which then starts
	// its chain knowing no other run uses this state; nil: Open opens it. Close closes it either
	// way.
	Store *state.Store
	// Fault, when set, is called at named points (see FaultPoints) so a crash test can kill the
	// process where a real crash would hurt most, or return an error as the write at that point
	// would on a full disk. Production code leaves it nil.
	Fault func(point string) error
	// Batches, when set, makes the backend that proves the liabilities batches once the keys
	// are loaded (workers on a NATS JetStream queue: prover/workqueue) and the function that
	// releases it; nil proves them in this process.
	Batches func(k *keys.Keys) (prover.BatchBackend, func(), error)
}

// FaultPoints are the points Options.Fault is called at, in the order a fresh run meets them.
func FaultPoints() []string {
	return []string{"snapshot-writing", "deployed", "assessed", "rebalanced", "executed", "batch-proved",
		"proved", "verified", "published"}
}

// OnchainFaultPoints are the further points of the on-chain mode: the Safe transaction recorded
// and not yet sent, and its receipt in before the positions are read again.
func OnchainFaultPoints() []string {
	return []string{"safe-recorded", "safe-mined"}
}

func (e *Engine) fault(point string) error {
	if e.opt.Fault != nil {
		return e.opt.Fault(point)
	}
	return nil
}

// Engine is an opened treasury.
type Engine struct {
	// batches proves the liabilities batches (Options.Batches); nil: in this process.
	batches      prover.BatchBackend
	closeBatches func()

	cfg     *Config
	opt     Options
	prof    profile.Profile
	pol     *policy.File
	checker *twincheck.Checker
	assets  map[string]market.Asset
	reb     *rebalance.Rebalancer
	rcfg    rebalance.Config
	sim     *execute.Simulator
	vols    derivatives.VolSource // implied volatilities of the options held; nil with none
	src     market.Source         // the cycles' prices: the seeded market or a price file
	mkt     *market.Synthetic     // the seeded market; nil when prices come from a file
	book    *execute.AddressBook
	st      *state.Store
	keys    *keys.Keys
	liab    *liabilities.Store
	liabDir string
	totals  map[string]*big.Int // liabilities per asset, on-chain units
	onchain *onchain            // reserves on chain (Config.Onchain); nil: positions are the state's
	// reproved holds the cycles this run proved again after the registry refused them, so a
	// statement refused twice is reported instead of proved forever.
	reproved map[uint64]bool
}

func (e *Engine) logf(format string, args ...any) {
	if e.opt.Log != nil {
		fmt.Fprintf(e.opt.Log, format+"\n", args...)
	}
}

// Open loads the treasury, binds its policy to the chain, and makes sure keys and the
// liabilities snapshot exist (creating them once; later runs reuse them). The order matters for
// crash safety: the state lock first (a second run stops before it sends any transaction), then
// every config and input file read and checked (a bad file stops the run before a key is made or
// a contract deployed), then keys, the chain, and a reconciliation of the state with the
// registry (the chain is the truth about what was published, V6).
func Open(ctx context.Context, cfg *Config, opt Options) (_ *Engine, err error) {
	if opt.Chain == nil {
		return nil, errors.New("engine: no chain")
	}
	if err := PrepareStateDir(opt.StateDir); err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, opt: opt, reproved: map[uint64]bool{}}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	if e.st = opt.Store; e.st == nil {
		if e.st, err = state.Open(filepath.Join(opt.StateDir, "state")); err != nil {
			return nil, err
		}
	}
	if err := cleanTemps(opt.StateDir); err != nil {
		return nil, err
	}
	in, err := e.loadInputs()
	if err != nil {
		return nil, err
	}
	if err := e.openLiabilities(ctx, in); err != nil {
		return nil, err
	}
	// Keys next: a fresh chain's verifier is compiled from the solvency verifying key.
	if err := e.openKeys(); err != nil {
		return nil, err
	}
	if kc, ok := opt.Chain.(interface{ UseKeys(*keys.Keys) error }); ok {
		if err := kc.UseKeys(e.keys); err != nil {
			return nil, err
		}
	}
	if err := opt.Chain.Bind(ctx, e.pol); err != nil {
		return nil, fmt.Errorf("bind policy to %s: %w", opt.Chain.Describe(), err)
	}
	// The checker and the rebalancer again, with the policy now bound to this chain (S6).
	if e.checker, err = twincheck.New(e.pol, in.book); err != nil {
		return nil, err
	}
	if e.reb, err = rebalance.New(e.rcfg, e.assets, e.sim, e.checker); err != nil {
		return nil, err
	}
	if _, err := e.st.Init(in.positions, in.book); err != nil {
		return nil, err
	}
	if _, err := e.st.InitDerivatives(in.derivs); err != nil {
		return nil, err
	}
	if err := e.connectOnchain(ctx); err != nil {
		return nil, err
	}
	if err := e.Reconcile(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// inputs are the treasury's files, read and checked.
type inputs struct {
	book      *venues.Book
	positions venues.Positions
	derivs    venues.Derivatives    // options and pool shares
	accounts  []liabilities.Account // nil when the snapshot already exists
	csv       string
}

// loadInputs reads and checks every config and input file. Nothing is created or sent.
func (e *Engine) loadInputs() (*inputs, error) {
	if err := e.loadPolicy(); err != nil {
		return nil, err
	}
	in := &inputs{}
	if err := e.loadTreasury(in); err != nil {
		return nil, err
	}
	if err := e.loadMarket(); err != nil {
		return nil, err
	}
	if err := e.loadVols(in.derivs); err != nil {
		return nil, err
	}
	if err := e.loadOnchain(in); err != nil {
		return nil, err
	}
	// The accounts, unless the snapshot is already built from them.
	e.liabDir = filepath.Join(e.opt.StateDir, "liabilities")
	if liabilities.Exists(e.liabDir) {
		return in, nil
	}
	if err := e.loadAccounts(in); err != nil {
		return nil, err
	}
	return in, nil
}

// loadPolicy reads the profile and the policy, whose asset table must fill the profile's slots.
func (e *Engine) loadPolicy() error {
	cfg := e.cfg
	var err error
	if e.prof, err = profile.Lookup(cfg.Profile); err != nil {
		return err
	}
	if e.pol, err = policy.Load(cfg.Path(cfg.Policy)); err != nil {
		return err
	}
	table := e.pol.Table()
	if table.Len() != e.prof.Assets {
		return fmt.Errorf("profile %s has %d asset slots; the policy's table has %d", e.prof.Name, e.prof.Assets, table.Len())
	}
	e.assets = map[string]market.Asset{}
	for _, a := range table.Assets {
		e.assets[a.Symbol] = market.Asset{Symbol: a.Symbol, Decimals: a.Decimals}
	}
	return nil
}

// loadTreasury reads the venue book, the positions, the executor's and the rebalancer's
// configurations and the optional address book, and builds the checker and the rebalancer.
func (e *Engine) loadTreasury(in *inputs) error {
	cfg := e.cfg
	var err error
	if in.book, err = venues.LoadBook(cfg.Path(cfg.Venues)); err != nil {
		return err
	}
	if in.positions, in.derivs, err = venues.LoadHoldings(cfg.Path(cfg.Positions), e.assets, in.book); err != nil {
		return err
	}
	if e.checker, err = twincheck.New(e.pol, in.book); err != nil {
		return err
	}
	execCfg, err := execute.LoadConfig(cfg.Path(cfg.Executor))
	if err != nil {
		return err
	}
	if e.sim, err = execute.NewSimulator(execCfg, e.assets); err != nil {
		return err
	}
	rcfg, err := rebalance.LoadConfig(cfg.Path(cfg.Rebalance))
	if err != nil {
		return err
	}
	e.rcfg = *rcfg
	if e.reb, err = rebalance.New(e.rcfg, e.assets, e.sim, e.checker); err != nil {
		return err
	}
	if cfg.AddressBook != "" {
		ab, err := execute.LoadAddressBook(cfg.Path(cfg.AddressBook))
		if err != nil {
			return err
		}
		e.book = &ab
	}
	return nil
}

// loadAccounts reads the accounts the liabilities snapshot is built from, or generates them.
func (e *Engine) loadAccounts(in *inputs) error {
	cfg, table := e.cfg, e.pol.Table()
	var err error
	if cfg.Accounts.Users <= 0 {
		in.accounts, err = liabilities.ReadAccounts(cfg.Path(cfg.Accounts.CSV), table)
		return err
	}
	var targets []*big.Int
	if cfg.Accounts.ScaleTo != "" {
		if targets, err = portfolio.LoadLiabilityTotals(cfg.Path(cfg.Accounts.ScaleTo), table); err != nil {
			return err
		}
	}
	// Generated in memory: the CSV is kept beside the snapshot, written with it.
	var buf bytes.Buffer
	if err := liabilities.Generate(&buf, table, liabilities.GenerateOptions{Users: cfg.Accounts.Users, Seed: cfg.Accounts.Seed}); err != nil {
		return err
	}
	if err := liabilities.ParseAccounts(&buf, "generated accounts", table, func(a liabilities.Account) error {
		in.accounts = append(in.accounts, a)
		return nil
	}); err != nil {
		return err
	}
	if targets != nil {
		scaleBalances(in.accounts, targets)
	}
	in.csv = filepath.Join(e.opt.StateDir, "accounts.csv")
	return nil
}

// Close releases the state store and the liabilities store.
func (e *Engine) Close() error {
	var errs []error
	if e.closeBatches != nil {
		e.closeBatches()
		e.closeBatches = nil
	}
	if e.liab != nil {
		errs = append(errs, e.liab.Close())
	}
	if e.st != nil {
		errs = append(errs, e.st.Close())
	}
	return errors.Join(errs...)
}

// Keys returns the loaded keys.
func (e *Engine) Keys() *keys.Keys { return e.keys }

// LiabilitiesDir is the snapshot's directory (its private part holds users' inclusion proofs).
func (e *Engine) LiabilitiesDir() string { return e.liabDir }

func (e *Engine) openKeys() error {
	dir := e.opt.Keys
	if dir == "" {
		dir = filepath.Join(e.opt.StateDir, "keys")
		if _, err := os.Stat(filepath.Join(dir, keys.MetadataFile)); errors.Is(err, os.ErrNotExist) {
			e.logf("keys: none given; making development keys for profile %s (single party, NOT for production)", e.prof.Name)
			cache := circuitcache.Cache{Dir: filepath.Join(e.opt.StateDir, "circuit-cache")}
			compiled, err := cache.GetAll(profile.Circuits(), e.prof)
			if err != nil {
				return err
			}
			circuits, err := keys.DevSetup(compiled, func(f string, a ...any) { e.logf("keys: "+f, a...) })
			if err != nil {
				return err
			}
			if err := keys.Save(dir, keys.DevMetadata(e.prof), circuits, false); err != nil {
				return err
			}
		}
	}
	k, err := keys.Load(dir)
	if err != nil {
		return err
	}
	if k.Meta.Profile.Digest() != e.prof.Digest() {
		return fmt.Errorf("keys in %s are for profile %s, not %s", dir, k.Meta.Profile.Name, e.prof.Name)
	}
	e.keys = k
	if e.opt.Batches != nil {
		if e.batches, e.closeBatches, err = e.opt.Batches(k); err != nil {
			return fmt.Errorf("batch provers: %w", err)
		}
	}
	return nil
}

// openLiabilities opens the snapshot, building it first when there is none. The snapshot is
// written as a whole (a temporary directory renamed into place), so a run killed while writing
// it leaves no snapshot, and the next run builds it again.
func (e *Engine) openLiabilities(ctx context.Context, in *inputs) error {
	table := e.pol.Table()
	st, built, err := liabilities.OpenOrBuild(e.liabDir, func() (*liabilities.Snapshot, error) {
		if in.accounts == nil {
			return nil, fmt.Errorf("liabilities snapshot %s vanished while the run started", e.liabDir)
		}
		if in.csv != "" {
			// The generated accounts, kept for people (verify inclusion takes an id from it).
			if err := writeAccountsCSV(in.csv, table, in.accounts); err != nil {
				return nil, err
			}
		}
		return liabilities.Build(ctx, table, in.accounts, liabilities.BuildOptions{
			Epoch: e.cfg.SnapshotEpoch, SnapshotTime: uint64(time.Now().Unix()), Height: e.prof.BatchHeight,
		})
	}, func(string) error { return e.fault("snapshot-writing") })
	if err != nil {
		return err
	}
	if built {
		e.logf("liabilities: %d accounts in %d batches of %d", len(in.accounts), st.Public().Batches, e.prof.BatchSize())
	}
	e.liab = st
	last, err := st.Batch(st.Public().Batches - 1)
	if err != nil {
		return err
	}
	e.totals = map[string]*big.Int{}
	for i, a := range table.Assets {
		e.totals[a.Symbol] = twincheck.FromCircuitUnits(last.AfterSums[i], a)
	}
	return nil
}

// Summary is one cycle's outcome for people and scripts.
type Summary struct {
	Cycle           uint64   `json:"cycle"`
	Stage           string   `json:"stage"`
	CollateralRatio string   `json:"collateralRatio"`
	VaR             string   `json:"var"`
	WorstStress     string   `json:"worstStressSurplus"`
	Trades          int      `json:"trades"`
	Reasons         []string `json:"rebalanceReasons,omitempty"`
	TradeList       []string `json:"tradeList,omitempty"`
	Binding         []string `json:"binding,omitempty"`
	ProveSeconds    float64  `json:"proveSeconds"`
	Bundle          string   `json:"bundle,omitempty"`
	Tx              string   `json:"tx,omitempty"`
	Block           uint64   `json:"block,omitempty"`
	GasUsed         uint64   `json:"gasUsed,omitempty"`
	Published       bool     `json:"published"`
	SafeBatch       string   `json:"safeBatch,omitempty"`
	// Greeks are the treasury's net Greeks per underlying before and after the cycle's plan
	// (the engine's model, not the proof's); nil for a treasury with no derivative and no
	// Greek limit.
	Greeks *GreeksSummary `json:"greeks,omitempty"`
}

// maxPriceReproves bounds how often Run proves one cycle again because a price feed posted a newer
// round before the attestation was sent.
const maxPriceReproves = 3

// ErrBinding means a cycle's limits could not be restored; nothing was published for it.
var ErrBinding = errors.New("a limit binds: no allowed trade restores it")

// Run runs cycles until `cycles` cycles are published in this state directory, resuming an
// interrupted cycle first.
func (e *Engine) Run(ctx context.Context, cycles int, each func(*Summary)) error {
	reproved := map[uint64]int{}
	for {
		c, stage, _, err := e.st.Resume()
		if err != nil {
			return err
		}
		if c > uint64(cycles) || (c == uint64(cycles) && stage.Complete()) {
			return nil
		}
		sum, err := e.RunCycle(ctx, c)
		// P2: a feed moved on after the cycle was proven; RunCycle set it back to be proven at
		// the new rounds. A feed that keeps moving stops the run after a few tries.
		if errors.Is(err, ErrPricesSuperseded) && reproved[c] < maxPriceReproves {
			reproved[c]++
			continue
		}
		if sum != nil && each != nil {
			each(sum)
		}
		if err != nil {
			return err
		}
	}
}

func (e *Engine) cycleDir(c uint64) string {
	return filepath.Join(e.opt.StateDir, "cycles", fmt.Sprintf("%06d", c))
}

func (e *Engine) portfolio(pos venues.Positions, d venues.Derivatives, snap market.Snapshot) rebalance.Portfolio {
	liab := map[string]*big.Int{}
	for k, v := range e.totals {
		liab[k] = new(big.Int).Set(v)
	}
	return rebalance.Portfolio{Positions: pos, Prices: snap, Liabilities: liab, Derivatives: d}
}

func fillSummary(s *Summary, rep *solvency.Report) {
	for _, l := range rep.Limits {
		switch l.ID {
		case "collateral":
			s.CollateralRatio = l.Value
		}
	}
	if rep.VaRValue != nil {
		s.VaR = "$" + solvency.FormatFine(rep.VaRValue)
	}
	s.WorstStress = "$" + solvency.FormatFine(rep.WorstStress)
}

func passFail(ok bool) string {
	if ok {
		return "every limit holds"
	}
	return "some limits fail"
}

// staleError is a publish the registry refused while it does not hold the cycle.
type staleError struct{ err error }

func (s *staleError) Error() string { return s.err.Error() }
func (s *staleError) Unwrap() error { return s.err }

// publish sends cycle c's attestation unless the registry already holds that cycle (V6:
// idempotent by cycle, never keyed on proof bytes or a transaction hash, since Groth16 proofs
// are malleable), and returns only once the registry is seen to hold it: the engine marks a
// cycle done on the chain's word, not on its own.
func (e *Engine) publish(ctx context.Context, c uint64, bundleDir string, m *bundle.Manifest) (*Publication, error) {
	if pub, err := e.opt.Chain.Recorded(ctx, c); err != nil {
		return nil, fmt.Errorf("cycle %d: read the registry: %w", c, err)
	} else if pub != nil {
		e.logf("cycle %d: already recorded on chain; not publishing again", c)
		return pub, nil
	}
	if latest, ok, err := e.opt.Chain.PublishedCycle(ctx); err != nil {
		return nil, fmt.Errorf("cycle %d: read the registry: %w", c, err)
	} else if ok && latest > c {
		return nil, fmt.Errorf("cycle %d: the registry on %s holds cycle %d but not %d, and takes no cycle older than its latest: "+
			"cycle %d's attestation cannot be published there; its bundle stays in %s", c, e.opt.Chain.Describe(), latest, c, c, bundleDir)
	}
	pub, err := e.opt.Chain.Publish(ctx, bundleDir, m)
	if errors.Is(err, ErrPricesSuperseded) {
		return nil, fmt.Errorf("cycle %d: publish: %w", c, err)
	}
	var re *contracts.RevertError
	if errors.As(err, &re) {
		return nil, &staleError{fmt.Errorf("cycle %d: publish: %w", c, err)}
	}
	if err != nil {
		return nil, fmt.Errorf("cycle %d: publish: %w", c, err)
	}
	got, err := e.opt.Chain.Recorded(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("cycle %d: read the registry after publishing: %w", c, err)
	}
	if got == nil {
		return nil, fmt.Errorf("cycle %d: publish transaction %s was mined but the registry does not hold the cycle; run again to publish it", c, pub.Tx)
	}
	return pub, nil
}

// Reconcile checks every cycle the state records as published against the registry (the chain
// is the truth, V6) and reopens each one the registry does not hold, so that Run publishes it
// again, in order. Open calls it on every start.
func (e *Engine) Reconcile(ctx context.Context) error {
	recs, err := e.st.Records()
	if err != nil {
		return err
	}
	latest, any, err := e.opt.Chain.PublishedCycle(ctx)
	if err != nil {
		return fmt.Errorf("read the registry on %s: %w", e.opt.Chain.Describe(), err)
	}
	// What a chain loses is its last blocks, and the registry takes cycles in increasing order:
	// so the cycles it lacks are the newest ones. Walk back from the newest to the first cycle
	// the registry holds (one read per lost cycle, not one per cycle ever run).
	var lost []*state.CycleRecord
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if !r.Stage.Complete() {
			continue
		}
		pub, err := e.opt.Chain.Recorded(ctx, r.Cycle)
		if err != nil {
			return fmt.Errorf("cycle %d: read the registry on %s: %w", r.Cycle, e.opt.Chain.Describe(), err)
		}
		if pub != nil {
			break
		}
		if any && latest > r.Cycle {
			return fmt.Errorf("cycle %d is recorded as published, but the registry on %s holds cycle %d and not %d, and takes no older cycle: "+
				"the attestation of cycle %d is not on chain and cannot be put there; its bundle stays in %s",
				r.Cycle, e.opt.Chain.Describe(), latest, r.Cycle, r.Cycle, r.BundlePath)
		}
		lost = append(lost, r)
	}
	for i := len(lost) - 1; i >= 0; i-- {
		r := lost[i]
		note := fmt.Sprintf("recorded as published (tx %s), but the registry does not hold it: publishing again", r.PublishTx)
		e.logf("cycle %d: %s", r.Cycle, note)
		if err := e.st.Unpublish(r.Cycle, note); err != nil {
			return err
		}
	}
	return nil
}

// PrepareStateDir creates the state directory private to its owner (it holds the positions,
// trades and Safe batches) and checks that it is writable, so a read-only directory is reported
// as such before anything else happens.
func PrepareStateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return stateDirError(dir, err)
	}
	// A state directory an older version made 0755 is tightened; a directory that holds no
	// state yet may be the user's own (--state .) and keeps its mode.
	if _, err := os.Stat(filepath.Join(dir, "state", state.FileName)); err == nil {
		if err := os.Chmod(dir, 0o700); err != nil {
			return stateDirError(dir, err)
		}
	}
	f, err := os.CreateTemp(dir, ".write-check.tmp-*")
	if err != nil {
		return stateDirError(dir, err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return stateDirError(dir, err)
	}
	return nil
}

// ErrReadOnly marks a state directory this process cannot write.
var ErrReadOnly = errors.New("state directory is not writable")

func stateDirError(dir string, err error) error {
	if errors.Is(err, syscall.EROFS) || errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("%w: %s is read-only or not writable by this user (%v); make it writable, or pass a writable --state: "+
			"nothing in it was changed", ErrReadOnly, dir, err)
	}
	return fmt.Errorf("state directory %s: %w", dir, err)
}

// cleanTemps removes what killed runs left half-written: the temporary files and directories
// of atomic writes (".NAME.tmp-*"), never complete under their final name. The embedded chain's
// directory is go-ethereum's and is left alone. It runs with the state lock held, so no live
// run's temporary file is removed.
func cleanTemps(stateDir string) error {
	return filepath.WalkDir(stateDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == stateDir {
			return nil
		}
		if d.IsDir() && path == filepath.Join(stateDir, "chain") {
			return filepath.SkipDir
		}
		name := d.Name()
		if !strings.HasPrefix(name, ".") || !strings.Contains(name, ".tmp-") {
			return nil
		}
		if err := os.RemoveAll(path); err != nil {
			return fmt.Errorf("remove %s left by an interrupted run: %w", path, err)
		}
		if d.IsDir() {
			return filepath.SkipDir
		}
		return nil
	})
}
