package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/prover"
	"github.com/solvency-dev/solvency/treasury/execute"
	"github.com/solvency-dev/solvency/treasury/rebalance"
	"github.com/solvency-dev/solvency/treasury/state"
	"github.com/solvency-dev/solvency/treasury/venues"
	"github.com/solvency-dev/solvency/verifier"
)

// cycleRun is one pass of a cycle through its stages. Each stage reads what it needs from the
// record (what earlier stages recorded, in this run or a killed one) and the fields below, and
// writes its outputs to the record through Engine.advance; RunCycle reads the record again after
// every stage.
type cycleRun struct {
	c   uint64
	rec *state.CycleRecord // the record as the last stage left it
	// Outputs of the check, which runs on every pass (a resumed cycle is checked again).
	atCheck *state.CycleRecord // the record the check judged: trades, notes, positions after
	after   *solvency.Inputs   // the twin's inputs after execution (prove replaces the prices)
	report  *solvency.Report   // the twin's verdict on them, at the snapshot's prices
	binding []string           // the limits that fail, for people
}

// stage is one named step of a cycle. A stage with a marker is skipped once the record holds
// that marker (a crash-safe resume); a stage without one (StageNone) runs on every pass.
type stage struct {
	name   string
	marker state.Stage
	run    func(e *Engine, ctx context.Context, cr *cycleRun) error
}

// cycleStages are a cycle's stages in order; each recorded stage is recorded before the next
// begins (FaultPoints lists the markers, where a crash test kills the process).
var cycleStages = []stage{
	{"assess", state.StageAssessed, (*Engine).assess},
	{"rebalance", state.StageRebalanced, (*Engine).planTrades},
	{"execute", state.StageExecuted, (*Engine).executeTrades},
	{"check", state.StageNone, (*Engine).check},
	{"revalidate", state.StageNone, (*Engine).revalidate},
	{"prove", state.StageProved, (*Engine).prove},
	{"verify", state.StageVerified, (*Engine).verify},
	{"publish", state.StagePublished, (*Engine).publishCycle},
}

// cycleFailure marks an error that is the cycle's own outcome (a limit binds; the proof, its
// verification or its publication fails): RunCycle returns the summary so far with it. Any other
// error (reading or recording state, reaching the chain) comes back with no summary.
type cycleFailure struct{ err error }

func (f *cycleFailure) Error() string { return f.err.Error() }
func (f *cycleFailure) Unwrap() error { return f.err }

func failure(err error) error { return &cycleFailure{err} }

// errProveAgain sends the cycle through its stages once more: its proof was forgotten
// (state.Store.Reprove) and is made again.
var errProveAgain = errors.New("prove the cycle again")

// RunCycle runs (or resumes) cycle c through every stage.
func (e *Engine) RunCycle(ctx context.Context, c uint64) (*Summary, error) {
	for {
		cr, err := e.startCycle(c)
		if err != nil {
			return nil, err
		}
		err = e.runStages(ctx, cr)
		var f *cycleFailure
		switch {
		case errors.Is(err, errProveAgain):
			continue
		case errors.As(err, &f):
			return e.summary(cr, false), f.err
		case err != nil:
			return nil, err
		}
		return e.summary(cr, true), nil
	}
}

// startCycle reads cycle c's record, beginning one for a new cycle (an earlier cycle reopened
// by reconciliation has its record), and makes the cycle's directory.
func (e *Engine) startCycle(c uint64) (*cycleRun, error) {
	if _, err := e.st.Record(c); err != nil {
		if _, err := e.st.Begin(c); err != nil {
			return nil, err
		}
	}
	// The cycle's directory (bundle, Safe batch) is owner-only, like the rest of the state.
	if err := os.MkdirAll(e.cycleDir(c), 0o700); err != nil {
		return nil, fmt.Errorf("cycle %d: %w", c, err)
	}
	rec, err := e.st.Record(c)
	if err != nil {
		return nil, err
	}
	return &cycleRun{c: c, rec: rec}, nil
}

// runStages runs every stage the record does not yet hold, reading the record after each.
func (e *Engine) runStages(ctx context.Context, cr *cycleRun) error {
	for _, s := range cycleStages {
		if s.marker != state.StageNone && cr.rec.Stage >= s.marker {
			continue
		}
		if err := s.run(e, ctx, cr); err != nil {
			return err
		}
		rec, err := e.st.Record(cr.c)
		if err != nil {
			return err
		}
		cr.rec = rec
	}
	return nil
}

// advance records stage `to` of cycle c with its outputs, after the fault point of the same
// name. A stage already recorded (by a run killed after recording it) is not an error.
func (e *Engine) advance(c uint64, to state.Stage, update func(*state.CycleRecord) error, eff state.Effects) error {
	if err := e.fault(to.String()); err != nil {
		return fmt.Errorf("record %s: %w", to, err)
	}
	err := e.st.Advance(c, to, update, eff)
	if errors.Is(err, state.ErrStageDone) {
		return nil
	}
	return err
}

// assess takes the cycle's prices and the twin's view of the current positions. Options that
// expired by the cycle's time settle first, in cash at the cycle's price (settleExpired), in the
// same step.
func (e *Engine) assess(ctx context.Context, cr *cycleRun) error {
	c := cr.c
	snap, err := e.src.Snapshot(ctx, c)
	if err != nil {
		return fmt.Errorf("cycle %d: prices: %w", c, err)
	}
	pos, err := e.positionsNow(ctx)
	if err != nil {
		return err
	}
	pos, derivs, settled, eff, err := e.settleExpired(pos, snap)
	if err != nil {
		return fmt.Errorf("cycle %d: %w", c, err)
	}
	risk, err := e.checker.Check(e.portfolio(pos, derivs, snap))
	if err != nil {
		return fmt.Errorf("cycle %d: assess: %w", c, err)
	}
	riskJSON, _ := json.Marshal(risk)
	if err := e.advance(c, state.StageAssessed, func(r *state.CycleRecord) error {
		r.Prices, r.PositionsBefore, r.Risk = snap, pos, riskJSON
		r.DerivativesBefore, r.Settlements = &derivs, settled
		r.Notes = append(r.Notes, e.settlementNotes(settled)...)
		return nil
	}, eff); err != nil {
		return err
	}
	e.logf("cycle %d: assessed at %s prices (%s)", c, snap.Source, passFail(risk.Pass))
	return nil
}

// planTrades plans the cycle's trades, each judged by the twin.
func (e *Engine) planTrades(_ context.Context, cr *cycleRun) error {
	c := cr.c
	book, err := e.st.Book()
	if err != nil {
		return err
	}
	pos, err := e.planPositions(cr)
	if err != nil {
		return err
	}
	reb, err := e.rebalancerFor(c)
	if err != nil {
		return err
	}
	derivs := cr.rec.Derivatives()
	gin, err := e.greekInput(derivs, cr.rec.Prices)
	if err != nil {
		return fmt.Errorf("cycle %d: greeks: %w", c, err)
	}
	plan, err := reb.Plan(rebalance.Input{Book: book, Portfolio: e.portfolio(pos, derivs, cr.rec.Prices), Greeks: gin})
	if err != nil {
		return fmt.Errorf("cycle %d: rebalance: %w", c, err)
	}
	// The model risk figures at the assessed prices and holdings, beside the Greeks.
	// They are advisory (the proof checks the policy's parametric VaR): one that cannot be
	// computed is noted, not a reason to stop the cycle.
	risk, err := e.cycleRisk(c, cr.rec.PositionsBefore, derivs, cr.rec.Prices)
	var riskNote string
	if err != nil {
		riskNote = "model risk figures not computed: " + err.Error()
		e.logf("cycle %d: %s", c, riskNote)
	}
	planJSON, _ := json.Marshal(plan)
	gsum := greeksOf(plan)
	if gsum == nil && risk != nil {
		gsum = &GreeksSummary{}
	}
	if gsum != nil {
		gsum.Risk = risk
	}
	greeksJSON, _ := json.Marshal(gsum)
	if err := e.advance(c, state.StageRebalanced, func(r *state.CycleRecord) error {
		r.Plan, r.Trades = planJSON, plan.Trades
		r.Notes = append(r.Notes, plan.Reasons...)
		if riskNote != "" {
			r.Notes = append(r.Notes, riskNote)
		}
		if gsum != nil {
			r.Greeks = greeksJSON
			for _, b := range plan.GreekBinding {
				r.Notes = append(r.Notes, "Greek limit binds, no allowed trade restores it: "+b)
			}
		}
		return nil
	}, state.Effects{}); err != nil {
		return err
	}
	e.logf("cycle %d: rebalance planned %d trades", c, len(plan.Trades))
	return nil
}

// executeTrades fills the planned trades (simulated) and records the new positions and pools in one
// step, with the Safe batch that would make them when an address book is configured.
func (e *Engine) executeTrades(ctx context.Context, cr *cycleRun) error {
	if e.onchain != nil {
		return e.executeOnchain(ctx, cr)
	}
	c, snap := cr.c, cr.rec.Prices
	book, err := e.st.Book()
	if err != nil {
		return err
	}
	pos, err := e.st.Positions()
	if err != nil {
		return err
	}
	newPos, fills, err := e.sim.Execute(book, pos, snap, cr.rec.Trades)
	if err != nil {
		return fmt.Errorf("cycle %d: execute: %w", c, err)
	}
	safePath := ""
	if e.book != nil && len(fills) > 0 {
		desc := "Trades planned by the solvency engine; simulated fills attached."
		if d := cr.rec.Derivatives(); !d.Empty() {
			desc += " " + execute.DerivativesNote
		}
		b, err := execute.SafeBatch(book, *e.book, fills, fmt.Sprintf("Solvency cycle %d rebalance", c),
			desc, time.Unix(snap.Time, 0).UTC())
		if err != nil {
			return fmt.Errorf("cycle %d: safe batch: %w", c, err)
		}
		if err := os.MkdirAll(e.cycleDir(c), 0o700); err != nil {
			return err
		}
		safePath = filepath.Join(e.cycleDir(c), "safe-batch.json")
		if err := execute.WriteSafeBatch(safePath, b); err != nil {
			return err
		}
	}
	return e.advance(c, state.StageExecuted, func(r *state.CycleRecord) error {
		r.Fills, r.PositionsAfter, r.SafeBatchPath = fills, newPos, safePath
		return nil
	}, state.Effects{Positions: newPos, Book: book})
}

// check judges the positions after execution by the policy again: a cycle whose limits do not
// hold publishes nothing.
func (e *Engine) check(_ context.Context, cr *cycleRun) error {
	after, err := e.checker.Inputs(e.portfolio(cr.rec.PositionsAfter, cr.rec.Derivatives(), cr.rec.Prices))
	if err != nil {
		return err
	}
	rep, err := solvency.Evaluate(after)
	if err != nil {
		return err
	}
	cr.atCheck, cr.after, cr.report = cr.rec, after, rep
	if rep.Pass {
		return nil
	}
	for _, l := range rep.Limits {
		if !l.Pass {
			cr.binding = append(cr.binding, fmt.Sprintf("%s: %s (bound %s)", l.ID, l.Value, l.Bound))
		}
	}
	return failure(fmt.Errorf("cycle %d: %w: %v", cr.c, ErrBinding, cr.binding))
}

// revalidate forgets a proof whose reserves block the chain no longer has (a reorg, or a dev
// chain that lost its last blocks in a crash), or whose bundle is gone: such a proof cannot be
// published, so the cycle is proven again at the current head.
func (e *Engine) revalidate(ctx context.Context, cr *cycleRun) error {
	c, rec := cr.c, cr.rec
	if rec.Stage < state.StageProved || rec.Stage >= state.StagePublished {
		return nil
	}
	head, err := e.opt.Chain.Head(ctx)
	if err != nil {
		return err
	}
	onChain, err := e.opt.Chain.Recorded(ctx, c)
	if err != nil {
		return err
	}
	_, manErr := os.Stat(filepath.Join(e.cycleDir(c), "bundle", bundle.ManifestFile))
	var note string
	switch {
	case onChain != nil:
		return nil
	case manErr != nil:
		note = "the bundle is missing: proving again"
	case head < rec.ReservesBlock:
		note = fmt.Sprintf("chain head %d is below the reserves block %d: proving again", head, rec.ReservesBlock)
	default:
		return nil
	}
	e.logf("cycle %d: %s", c, note)
	return e.st.Reprove(c, note)
}

// prove proves the cycle at the oracle's prices and the chain's head block.
func (e *Engine) prove(ctx context.Context, cr *cycleRun) error {
	c := cr.c
	prices, err := e.opt.Chain.Prices(ctx, cr.rec.Prices, e.pol.Table())
	if err != nil {
		return fmt.Errorf("cycle %d: oracle prices: %w", c, err)
	}
	// The proof uses the oracle's prices exactly (P1); re-check the limits at them.
	for i := range prices {
		cr.after.Prices[i] = prices[i].Price
	}
	rep, err := solvency.Evaluate(cr.after)
	if err != nil {
		return err
	}
	if !rep.Pass {
		return failure(fmt.Errorf("cycle %d: %w at the oracle's prices", c, ErrBinding))
	}
	head, err := e.reservesBlock(ctx, cr)
	if err != nil {
		return err
	}
	t0 := time.Now()
	res, err := prover.ProveCycle(ctx, &prover.CycleRequest{
		Keys: e.keys, Store: e.liab, ProofDir: filepath.Join(e.opt.StateDir, "liabilities-proofs"),
		Policy: e.checker.Canon, Positions: cr.after.Positions, Options: cr.after.Options, Pools: cr.after.Pools, Prices: prices,
		Cycle: c, ReservesBlock: head,
		Out: e.bundleDir(c), PrivateOut: filepath.Join(e.cycleDir(c), "private"), Replace: true, ReservesChain: e.reservesChain(),
		Provers: e.opt.Provers, BatchProgress: e.batchProgress(c), Batches: e.batches,
	})
	if err != nil {
		return failure(fmt.Errorf("cycle %d: prove: %w", c, err))
	}
	secs := time.Since(t0).Seconds()
	if err := e.advance(c, state.StageProved, func(r *state.CycleRecord) error {
		r.ReservesBlock, r.BundlePath = head, e.bundleDir(c)
		r.ProveSeconds = fmt.Sprintf("%.2f", secs)
		return nil
	}, state.Effects{}); err != nil {
		return err
	}
	e.logf("cycle %d: proved in %.1fs (batches %.1fs, solvency %.2fs)", c, secs, res.BatchSeconds, res.SolvencySecs)
	return nil
}

// batchProgress logs every tenth of the liabilities batches proved.
func (e *Engine) batchProgress(c uint64) func(done, total int) {
	lastPct := -1
	return func(done, total int) {
		_ = e.fault("batch-proved") // a kill point only: a batch proof is a cache entry
		if pct := done * 100 / total; pct/10 != lastPct/10 {
			lastPct = pct
			e.logf("cycle %d: liabilities batches %d/%d proved", c, done, total)
		}
	}
}

// verify checks the bundle as an auditor would: keys pinned from the keys' metadata, not the
// bundle.
func (e *Engine) verify(_ context.Context, cr *cycleRun) error {
	c := cr.c
	pins := bundle.Pins{}
	for _, ci := range e.keys.Meta.Circuits {
		pins[ci.Name] = ci.VKDigest
	}
	vr, err := verifier.VerifyBundle(e.bundleDir(c), pins, verifier.Options{TranscriptDigest: e.keys.Meta.TranscriptDigest()})
	if err != nil {
		return failure(fmt.Errorf("cycle %d: verify: %w", c, err))
	}
	if f := vr.Failed(); f != nil {
		return failure(fmt.Errorf("cycle %d: bundle does not verify: %s: %s", c, f.Name, f.Detail))
	}
	return e.advance(c, state.StageVerified, func(r *state.CycleRecord) error { r.Verified = true; return nil }, state.Effects{})
}

// publishCycle publishes the attestation, idempotently: the registry says which cycle it has
// (V6). A statement the registry refuses as it stands is proven again, once per run.
func (e *Engine) publishCycle(ctx context.Context, cr *cycleRun) error {
	c, dir := cr.c, e.bundleDir(cr.c)
	m, err := bundle.ReadManifest(dir)
	if err != nil {
		return failure(err)
	}
	pub, err := e.publish(ctx, c, dir, m)
	var stale *staleError
	if errors.As(err, &stale) && !e.reproved[c] {
		// The registry refuses the statement as it stands (its reserves block or price rounds
		// are gone or too old after the chain lost blocks): prove it again, once.
		e.reproved[c] = true
		note := "the registry refused the statement (" + stale.Error() + "): proving again"
		e.logf("cycle %d: %s", c, note)
		if err := e.st.Reprove(c, note); err != nil {
			return failure(err)
		}
		return errProveAgain
	}
	if errors.Is(err, ErrPricesSuperseded) {
		// P2: the registry takes only each feed's latest round; Run proves again at it.
		note := "a price feed posted a newer round before the attestation was sent: proving again"
		e.logf("cycle %d: %s", c, note)
		if rerr := e.st.Reprove(c, note); rerr != nil {
			return failure(errors.Join(err, rerr))
		}
	}
	if err != nil {
		return failure(err)
	}
	return e.advance(c, state.StagePublished, func(r *state.CycleRecord) error {
		r.PublishTx, r.PublishBlock, r.GasUsed = pub.Tx, pub.Block, pub.GasUsed
		return nil
	}, state.Effects{})
}

func (e *Engine) bundleDir(c uint64) string { return filepath.Join(e.cycleDir(c), "bundle") }

// summary fills the cycle's summary once, from what its stages left: the record the check
// judged (trades, reasons, Safe batch), the twin's report, the proof and publication recorded
// since. A cycle stopped before its check has no summary.
func (e *Engine) summary(cr *cycleRun, published bool) *Summary {
	at := cr.atCheck
	if at == nil {
		return nil
	}
	sum := &Summary{Cycle: cr.c, Trades: len(at.Trades), Reasons: at.Notes, TradeList: e.tradeList(at.Trades),
		SafeBatch: at.SafeBatchPath, Binding: cr.binding, Greeks: recordedGreeks(at)}
	fillSummary(sum, cr.report)
	if cr.binding != nil {
		sum.Stage = at.Stage.String()
		return sum
	}
	fmt.Sscanf(cr.rec.ProveSeconds, "%f", &sum.ProveSeconds)
	sum.Bundle = cr.rec.BundlePath
	if published {
		sum.Tx, sum.Block, sum.GasUsed, sum.Published = cr.rec.PublishTx, cr.rec.PublishBlock, cr.rec.GasUsed, true
		sum.Stage = cr.rec.Stage.String()
	}
	return sum
}

// tradeList describes trades for people: amount, route and reason.
func (e *Engine) tradeList(trades []execute.Trade) []string {
	var out []string
	for _, t := range trades {
		if t.IsPerpResize() {
			out = append(out, e.perpLine(t))
			continue
		}
		amt := t.Amount.String()
		if a, ok := e.assets[t.FromAsset]; ok && t.Amount != nil {
			amt = venues.FormatAmount(t.Amount, a)
		}
		line := fmt.Sprintf("%s %s from %s into %s at %s", amt, t.FromAsset, t.FromVenue, t.ToAsset, t.ToVenue)
		if t.Reason != "" {
			line += " (" + t.Reason + ")"
		}
		out = append(out, line)
	}
	return out
}
