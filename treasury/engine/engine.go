package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/liabilities"
	"github.com/solvency-dev/solvency/prover"
	"github.com/solvency-dev/solvency/prover/circuitcache"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/prover/profile"
	"github.com/solvency-dev/solvency/treasury/execute"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/policy"
	"github.com/solvency-dev/solvency/treasury/portfolio"
	"github.com/solvency-dev/solvency/treasury/rebalance"
	"github.com/solvency-dev/solvency/treasury/state"
	"github.com/solvency-dev/solvency/treasury/venues"
	"github.com/solvency-dev/solvency/verifier"
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
	// Fault, when set, is called at named points ("batch-proved", "published") so a crash test
	// can kill the process where a real crash would hurt most. Production code leaves it nil.
	Fault func(point string)
}

func (e *Engine) fault(point string) {
	if e.opt.Fault != nil {
		e.opt.Fault(point)
	}
}

// Engine is an opened treasury.
type Engine struct {
	cfg     *Config
	opt     Options
	prof    profile.Profile
	pol     *policy.File
	checker *TwinChecker
	assets  map[string]market.Asset
	reb     *rebalance.Rebalancer
	sim     *execute.Simulator
	src     market.SyntheticSource
	book    *execute.AddressBook
	st      *state.Store
	keys    *keys.Keys
	liab    *liabilities.Store
	liabDir string
	totals  map[string]*big.Int // liabilities per asset, on-chain units
}

func (e *Engine) logf(format string, args ...any) {
	if e.opt.Log != nil {
		fmt.Fprintf(e.opt.Log, format+"\n", args...)
	}
}

// Open loads the treasury, binds its policy to the chain, and makes sure keys and the
// liabilities snapshot exist (creating them once; later runs reuse them).
func Open(ctx context.Context, cfg *Config, opt Options) (*Engine, error) {
	if opt.Chain == nil {
		return nil, errors.New("engine: no chain")
	}
	if err := os.MkdirAll(opt.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	e := &Engine{cfg: cfg, opt: opt}
	var err error
	if e.prof, err = profile.Lookup(cfg.Profile); err != nil {
		return nil, err
	}
	if e.pol, err = policy.Load(cfg.Path(cfg.Policy)); err != nil {
		return nil, err
	}
	// Keys first: a fresh chain's verifier is compiled from the solvency verifying key.
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
	table := e.pol.Table()
	if table.Len() != e.prof.Assets {
		return nil, fmt.Errorf("profile %s has %d asset slots; the policy's table has %d", e.prof.Name, e.prof.Assets, table.Len())
	}
	e.assets = map[string]market.Asset{}
	for _, a := range table.Assets {
		e.assets[a.Symbol] = market.Asset{Symbol: a.Symbol, Decimals: a.Decimals}
	}
	book, err := venues.LoadBook(cfg.Path(cfg.Venues))
	if err != nil {
		return nil, err
	}
	positions, err := venues.LoadPositions(cfg.Path(cfg.Positions), e.assets, book)
	if err != nil {
		return nil, err
	}
	if e.checker, err = NewTwinChecker(e.pol, book); err != nil {
		return nil, err
	}
	execCfg, err := execute.LoadConfig(cfg.Path(cfg.Executor))
	if err != nil {
		return nil, err
	}
	if e.sim, err = execute.NewSimulator(execCfg, e.assets); err != nil {
		return nil, err
	}
	rcfg, err := rebalance.LoadConfig(cfg.Path(cfg.Rebalance))
	if err != nil {
		return nil, err
	}
	if e.reb, err = rebalance.New(*rcfg, e.assets, e.sim, e.checker); err != nil {
		return nil, err
	}
	if cfg.AddressBook != "" {
		ab, err := execute.LoadAddressBook(cfg.Path(cfg.AddressBook))
		if err != nil {
			return nil, err
		}
		e.book = &ab
	}
	mcfg, err := market.LoadSynthConfig(cfg.Path(cfg.Market))
	if err != nil {
		return nil, err
	}
	mkt, err := market.NewSynthetic(mcfg)
	if err != nil {
		return nil, err
	}
	e.src = market.SyntheticSource{Market: mkt, Offset: cfg.MarketOffset}

	if e.st, err = state.Open(filepath.Join(opt.StateDir, "state")); err != nil {
		return nil, err
	}
	if _, err := e.st.Init(positions, book); err != nil {
		return nil, err
	}
	if err := e.openLiabilities(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// Close releases the state store and the liabilities store.
func (e *Engine) Close() error {
	var errs []error
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
	return nil
}

func (e *Engine) openLiabilities(ctx context.Context) error {
	e.liabDir = filepath.Join(e.opt.StateDir, "liabilities")
	table := e.pol.Table()
	if _, err := os.Stat(e.liabDir); errors.Is(err, os.ErrNotExist) {
		csv := e.cfg.Path(e.cfg.Accounts.CSV)
		if e.cfg.Accounts.Users > 0 {
			csv = filepath.Join(e.opt.StateDir, "accounts.csv")
			if err := atomicfile.Write(csv, 0o600, func(w io.Writer) error {
				return liabilities.Generate(w, table, liabilities.GenerateOptions{Users: e.cfg.Accounts.Users, Seed: e.cfg.Accounts.Seed})
			}); err != nil {
				return err
			}
		}
		accts, err := liabilities.ReadAccounts(csv, table)
		if err != nil {
			return err
		}
		if e.cfg.Accounts.Users > 0 && e.cfg.Accounts.ScaleTo != "" {
			targets, err := portfolio.LoadLiabilityTotals(e.cfg.Path(e.cfg.Accounts.ScaleTo), table)
			if err != nil {
				return err
			}
			scaleBalances(accts, targets)
			if err := writeAccountsCSV(csv, table, accts); err != nil {
				return err
			}
		}
		t0 := time.Now()
		snap, err := liabilities.Build(ctx, table, accts, liabilities.BuildOptions{
			Epoch: e.cfg.SnapshotEpoch, SnapshotTime: uint64(time.Now().Unix()), Height: e.prof.BatchHeight,
		})
		if err != nil {
			return err
		}
		if err := snap.Write(e.liabDir, nil); err != nil {
			return err
		}
		e.logf("liabilities: %d accounts in %d batches of %d, built in %.1fs", len(accts), snap.LC.Batches, e.prof.BatchSize(), time.Since(t0).Seconds())
	}
	st, err := liabilities.Open(e.liabDir)
	if err != nil {
		return err
	}
	e.liab = st
	last, err := st.Batch(st.Public().Batches - 1)
	if err != nil {
		return err
	}
	e.totals = map[string]*big.Int{}
	for i, a := range table.Assets {
		e.totals[a.Symbol] = FromCircuitUnits(last.AfterSums[i], a)
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
}

// ErrBinding means a cycle's limits could not be restored; nothing was published for it.
var ErrBinding = errors.New("a limit binds: no allowed trade restores it")

// Run runs cycles until `cycles` cycles are published in this state directory, resuming an
// interrupted cycle first.
func (e *Engine) Run(ctx context.Context, cycles int, each func(*Summary)) error {
	for {
		c, stage, _, err := e.st.Resume()
		if err != nil {
			return err
		}
		if c > uint64(cycles) || (c == uint64(cycles) && stage.Complete()) {
			return nil
		}
		sum, err := e.RunCycle(ctx, c)
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

func (e *Engine) portfolio(pos venues.Positions, snap market.Snapshot) rebalance.Portfolio {
	liab := map[string]*big.Int{}
	for k, v := range e.totals {
		liab[k] = new(big.Int).Set(v)
	}
	return rebalance.Portfolio{Positions: pos, Prices: snap, Liabilities: liab}
}

// RunCycle runs (or resumes) cycle c through every stage.
func (e *Engine) RunCycle(ctx context.Context, c uint64) (*Summary, error) {
	rec, err := e.st.Begin(c)
	if err != nil {
		return nil, err
	}
	sum := &Summary{Cycle: c}
	advance := func(to state.Stage, update func(*state.CycleRecord) error, eff state.Effects) error {
		err := e.st.Advance(c, to, update, eff)
		if errors.Is(err, state.ErrStageDone) {
			return nil
		}
		return err
	}
	if rec, err = e.st.Record(c); err != nil {
		return nil, err
	}

	// Assess: prices, then the twin's view of the current positions.
	if rec.Stage < state.StageAssessed {
		snap, err := e.src.Snapshot(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("cycle %d: prices: %w", c, err)
		}
		pos, err := e.st.Positions()
		if err != nil {
			return nil, err
		}
		risk, err := e.checker.Check(e.portfolio(pos, snap))
		if err != nil {
			return nil, fmt.Errorf("cycle %d: assess: %w", c, err)
		}
		riskJSON, _ := json.Marshal(risk)
		if err := advance(state.StageAssessed, func(r *state.CycleRecord) error {
			r.Prices, r.PositionsBefore, r.Risk = snap, pos, riskJSON
			return nil
		}, state.Effects{}); err != nil {
			return nil, err
		}
		e.logf("cycle %d: assessed at %s prices (%s)", c, snap.Source, passFail(risk.Pass))
	}
	if rec, err = e.st.Record(c); err != nil {
		return nil, err
	}
	snap := rec.Prices

	// Rebalance: a plan judged by the twin.
	if rec.Stage < state.StageRebalanced {
		book, err := e.st.Book()
		if err != nil {
			return nil, err
		}
		pos, err := e.st.Positions()
		if err != nil {
			return nil, err
		}
		plan, err := e.reb.Plan(rebalance.Input{Book: book, Portfolio: e.portfolio(pos, snap)})
		if err != nil {
			return nil, fmt.Errorf("cycle %d: rebalance: %w", c, err)
		}
		planJSON, _ := json.Marshal(plan)
		if err := advance(state.StageRebalanced, func(r *state.CycleRecord) error {
			r.Plan, r.Trades = planJSON, plan.Trades
			r.Notes = append(r.Notes, plan.Reasons...)
			return nil
		}, state.Effects{}); err != nil {
			return nil, err
		}
		e.logf("cycle %d: rebalance planned %d trades", c, len(plan.Trades))
	}
	if rec, err = e.st.Record(c); err != nil {
		return nil, err
	}
	sum.Trades = len(rec.Trades)
	sum.Reasons = rec.Notes
	for _, t := range rec.Trades {
		amt := t.Amount.String()
		if a, ok := e.assets[t.FromAsset]; ok && t.Amount != nil {
			amt = venues.FormatAmount(t.Amount, a)
		}
		line := fmt.Sprintf("%s %s from %s into %s at %s", amt, t.FromAsset, t.FromVenue, t.ToAsset, t.ToVenue)
		if t.Reason != "" {
			line += " (" + t.Reason + ")"
		}
		sum.TradeList = append(sum.TradeList, line)
	}

	// Execute: simulated fills update positions and pools in one recorded step.
	if rec.Stage < state.StageExecuted {
		book, err := e.st.Book()
		if err != nil {
			return nil, err
		}
		pos, err := e.st.Positions()
		if err != nil {
			return nil, err
		}
		newPos, fills, err := e.sim.Execute(book, pos, snap, rec.Trades)
		if err != nil {
			return nil, fmt.Errorf("cycle %d: execute: %w", c, err)
		}
		safePath := ""
		if e.book != nil && len(fills) > 0 {
			b, err := execute.SafeBatch(book, *e.book, fills, fmt.Sprintf("Solvency cycle %d rebalance", c),
				"Trades planned by the solvency engine; simulated fills attached.", time.Unix(snap.Time, 0).UTC())
			if err != nil {
				return nil, fmt.Errorf("cycle %d: safe batch: %w", c, err)
			}
			if err := os.MkdirAll(e.cycleDir(c), 0o755); err != nil {
				return nil, err
			}
			safePath = filepath.Join(e.cycleDir(c), "safe-batch.json")
			if err := execute.WriteSafeBatch(safePath, b); err != nil {
				return nil, err
			}
		}
		if err := advance(state.StageExecuted, func(r *state.CycleRecord) error {
			r.Fills, r.PositionsAfter, r.SafeBatchPath = fills, newPos, safePath
			return nil
		}, state.Effects{Positions: newPos, Book: book}); err != nil {
			return nil, err
		}
	}
	if rec, err = e.st.Record(c); err != nil {
		return nil, err
	}
	sum.SafeBatch = rec.SafeBatchPath

	// The policy again, after execution: a cycle whose limits do not hold publishes nothing.
	after, err := e.checker.Inputs(e.portfolio(rec.PositionsAfter, snap))
	if err != nil {
		return nil, err
	}
	rep, err := solvency.Evaluate(after)
	if err != nil {
		return nil, err
	}
	fillSummary(sum, rep)
	if !rep.Pass {
		for _, l := range rep.Limits {
			if !l.Pass {
				sum.Binding = append(sum.Binding, fmt.Sprintf("%s: %s (bound %s)", l.ID, l.Value, l.Bound))
			}
		}
		sum.Stage = rec.Stage.String()
		return sum, fmt.Errorf("cycle %d: %w: %v", c, ErrBinding, sum.Binding)
	}

	// A proof whose reserves block the chain no longer has (a reorg, or a dev chain that lost
	// its last blocks in a crash) cannot be published: prove again at the current head.
	if rec.Stage >= state.StageProved && rec.Stage < state.StagePublished {
		head, err := e.opt.Chain.Head(ctx)
		if err != nil {
			return nil, err
		}
		published, ok, err := e.opt.Chain.PublishedCycle(ctx)
		if err != nil {
			return nil, err
		}
		if head < rec.ReservesBlock && !(ok && published >= c) {
			note := fmt.Sprintf("chain head %d is below the reserves block %d: proving again", head, rec.ReservesBlock)
			e.logf("cycle %d: %s", c, note)
			if err := e.st.Reprove(c, note); err != nil {
				return nil, err
			}
			if rec, err = e.st.Record(c); err != nil {
				return nil, err
			}
		}
	}

	// Prove.
	bundleDir := filepath.Join(e.cycleDir(c), "bundle")
	if rec.Stage < state.StageProved {
		prices, err := e.opt.Chain.Prices(ctx, snap, e.pol.Table())
		if err != nil {
			return nil, fmt.Errorf("cycle %d: oracle prices: %w", c, err)
		}
		// The proof uses the oracle's prices exactly (P1); re-check the limits at them.
		for i := range prices {
			after.Prices[i] = prices[i].Price
		}
		if rep, err = solvency.Evaluate(after); err != nil {
			return nil, err
		}
		if !rep.Pass {
			return sum, fmt.Errorf("cycle %d: %w at the oracle's prices", c, ErrBinding)
		}
		head, err := e.opt.Chain.Head(ctx)
		if err != nil {
			return nil, err
		}
		t0 := time.Now()
		lastPct := -1
		res, err := prover.ProveCycle(ctx, &prover.CycleRequest{
			Keys: e.keys, Store: e.liab, ProofDir: filepath.Join(e.opt.StateDir, "liabilities-proofs"),
			Policy: e.checker.Canon, Positions: after.Positions, Prices: prices,
			Cycle: c, ReservesBlock: head,
			Out: bundleDir, PrivateOut: filepath.Join(e.cycleDir(c), "private"), Replace: true,
			Provers: e.opt.Provers,
			BatchProgress: func(done, total int) {
				e.fault("batch-proved")
				if pct := done * 100 / total; pct/10 != lastPct/10 {
					lastPct = pct
					e.logf("cycle %d: liabilities batches %d/%d proved", c, done, total)
				}
			},
		})
		if err != nil {
			return sum, fmt.Errorf("cycle %d: prove: %w", c, err)
		}
		secs := time.Since(t0).Seconds()
		if err := advance(state.StageProved, func(r *state.CycleRecord) error {
			r.ReservesBlock, r.BundlePath = head, bundleDir
			r.ProveSeconds = fmt.Sprintf("%.2f", secs)
			return nil
		}, state.Effects{}); err != nil {
			return nil, err
		}
		e.logf("cycle %d: proved in %.1fs (batches %.1fs, solvency %.2fs)", c, secs, res.BatchSeconds, res.SolvencySecs)
	}
	if rec, err = e.st.Record(c); err != nil {
		return nil, err
	}
	fmt.Sscanf(rec.ProveSeconds, "%f", &sum.ProveSeconds)
	sum.Bundle = rec.BundlePath

	// Verify, as an auditor would: keys pinned from the keys' metadata, not the bundle.
	if rec.Stage < state.StageVerified {
		pins := verifier.Pins{}
		for _, ci := range e.keys.Meta.Circuits {
			pins[ci.Name] = ci.VKDigest
		}
		vr, err := verifier.VerifyBundle(bundleDir, pins, verifier.Options{TranscriptDigest: e.keys.Meta.TranscriptDigest()})
		if err != nil {
			return sum, fmt.Errorf("cycle %d: verify: %w", c, err)
		}
		if f := vr.Failed(); f != nil {
			return sum, fmt.Errorf("cycle %d: bundle does not verify: %s: %s", c, f.Name, f.Detail)
		}
		if err := advance(state.StageVerified, func(r *state.CycleRecord) error { r.Verified = true; return nil }, state.Effects{}); err != nil {
			return nil, err
		}
	}

	// Publish, idempotently: the registry says which cycle it has (V6).
	if rec, err = e.st.Record(c); err != nil {
		return nil, err
	}
	if rec.Stage < state.StagePublished {
		m, err := bundle.ReadManifest(bundleDir)
		if err != nil {
			return sum, err
		}
		var pub *Publication
		if got, ok, err := e.opt.Chain.PublishedCycle(ctx); err != nil {
			return sum, err
		} else if ok && got >= c {
			e.logf("cycle %d: already recorded on chain; not publishing again", c)
			pub = &Publication{}
		} else if pub, err = e.opt.Chain.Publish(ctx, bundleDir, m); err != nil {
			return sum, fmt.Errorf("cycle %d: publish: %w", c, err)
		}
		e.fault("published")
		if err := advance(state.StagePublished, func(r *state.CycleRecord) error {
			r.PublishTx, r.PublishBlock, r.GasUsed = pub.Tx, pub.Block, pub.GasUsed
			return nil
		}, state.Effects{}); err != nil {
			return nil, err
		}
	}
	if rec, err = e.st.Record(c); err != nil {
		return nil, err
	}
	sum.Tx, sum.Block, sum.GasUsed, sum.Published = rec.PublishTx, rec.PublishBlock, rec.GasUsed, true
	sum.Stage = rec.Stage.String()
	return sum, nil
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
