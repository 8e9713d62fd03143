package rebalance

import (
	"errors"
	"fmt"
	"math/big"
	"sort"

	"github.com/solvency-dev/solvency/treasury/execute"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// Rebalancer plans trades; it holds no state between cycles.
type Rebalancer struct {
	cfg    Config
	assets map[string]market.Asset
	exec   *execute.Simulator
	check  Checker
}

// New returns a rebalancer. exec simulates every candidate move (impact, fees, liquidity) and
// check judges the result.
func New(cfg Config, assets map[string]market.Asset, exec *execute.Simulator, check Checker) (*Rebalancer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if exec == nil || check == nil {
		return nil, errors.New("rebalancer needs an executor and a checker")
	}
	for _, a := range append(append([]string{}, cfg.Stables...), cfg.Cash.Asset) {
		if _, ok := assets[a]; !ok {
			return nil, fmt.Errorf("rebalance config names unknown asset %s", a)
		}
	}
	return &Rebalancer{cfg: cfg, assets: assets, exec: exec, check: check}, nil
}

// Plan is a cycle's rebalancing decision.
type Plan struct {
	// Triggered says why a rebalance was needed; an untriggered plan has no trades.
	Triggered bool     `json:"triggered"`
	Reasons   []string `json:"reasons,omitempty"`
	// Trades are the parent trades in execution order; Fills their simulated execution
	// (tranches, slippage, partial fills), from which Expected follows.
	Trades   []execute.Trade  `json:"trades"`
	Fills    []execute.Fill   `json:"fills"`
	Expected venues.Positions `json:"expected"`
	Before   *Report          `json:"before"`
	After    *Report          `json:"after"`
	// Binding lists the limits still failing after every allowed trade; empty when restored.
	Binding []Limit `json:"binding,omitempty"`
	// Steps records what each phase did, for the cycle record.
	Steps []string `json:"steps,omitempty"`
	// GreeksBefore and GreeksAfter are the net Greeks before and after the plan (with a
	// GreekInput); GreekBinding the Greek limits still failing after it. Gamma and vega are
	// only reported: the rebalancer trades perpetual hedges alone, which carry neither.
	GreeksBefore *GreekReport `json:"greeksBefore,omitempty"`
	GreeksAfter  *GreekReport `json:"greeksAfter,omitempty"`
	GreekBinding []string     `json:"greekBinding,omitempty"`
}

// Err returns a *BindingError when some limit could not be restored, nil otherwise.
func (p *Plan) Err() error {
	if len(p.Binding) == 0 {
		return nil
	}
	return &BindingError{Limits: p.Binding}
}

// Input is the state a plan starts from. The book is not modified.
type Input struct {
	Book      *venues.Book
	Portfolio Portfolio
	// Greeks, when set, makes the plan keep the Greek limits (delta bands by perp resizes) and
	// report its Greeks.
	Greeks *GreekInput
}

// state is the simulated treasury after the trades accepted so far.
type state struct {
	book   *venues.Book
	pf     Portfolio
	trades []execute.Trade
	fills  []execute.Fill
	rep    *Report
}

type trial struct {
	book  *venues.Book
	pos   venues.Positions
	fills []execute.Fill
	rep   *Report
	tr    []execute.Trade
}

type planner struct {
	r       *Rebalancer
	st      *state
	log     []string
	greekIn *GreekInput
}

// priority ranks limit kinds: lower is fixed first and protected from later phases.
func priority(kind string) int {
	switch kind {
	case KindLiquidity:
		return 0
	case KindAssetCap, KindGroupCap, KindInKind:
		return 1
	case KindStress, KindVaR, KindCollateral:
		return 2
	case KindTarget, KindDelta:
		return 3
	}
	return 4
}

// Plan computes the trades for one cycle.
func (r *Rebalancer) Plan(in Input) (*Plan, error) {
	if in.Book == nil {
		return nil, errors.New("plan: no venue book")
	}
	if err := in.Portfolio.Positions.Validate(in.Book); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	p := &planner{r: r, greekIn: in.Greeks}
	before, err := r.check.Check(in.Portfolio)
	if err == nil {
		before, err = p.withDelta(before, in.Portfolio)
	}
	if err != nil {
		return nil, fmt.Errorf("plan: check current portfolio: %w", err)
	}
	p.st = &state{book: in.Book.Clone(), pf: in.Portfolio.Clone(), rep: before}
	plan := &Plan{Before: before, After: before, Expected: in.Portfolio.Positions.Clone()}
	plan.Reasons, err = p.triggers()
	if err != nil {
		return nil, err
	}
	if in.Greeks != nil {
		if plan.GreeksBefore, err = p.greeks(); err != nil {
			return nil, err
		}
		plan.GreeksAfter, plan.GreekBinding = plan.GreeksBefore, plan.GreeksBefore.Binding
	}
	if len(plan.Reasons) == 0 {
		return plan, nil
	}
	plan.Triggered = true

	phases := []struct {
		name string
		run  func() error
	}{
		{"liquidity", p.fixLiquidity},
		{"caps", p.fixCaps},
		{"risk", p.fixRisk},
		{"hedge", p.fixDelta},
		{"targets", p.fixTargets},
		{"yield", p.spreadYield},
	}
	for _, ph := range phases {
		if err := ph.run(); err != nil {
			return nil, fmt.Errorf("plan, %s phase: %w", ph.name, err)
		}
	}
	plan.Trades, plan.Fills, plan.Expected = p.st.trades, p.st.fills, p.st.pf.Positions
	plan.After = p.st.rep
	for _, l := range p.st.rep.Failing() {
		plan.Binding = append(plan.Binding, l)
	}
	sort.SliceStable(plan.Binding, func(i, j int) bool { return priority(plan.Binding[i].Kind) < priority(plan.Binding[j].Kind) })
	if in.Greeks != nil {
		if plan.GreeksAfter, err = p.greeks(); err != nil {
			return nil, err
		}
		plan.GreekBinding = plan.GreeksAfter.Binding
	}
	plan.Steps = p.log
	return plan, nil
}

// triggers lists why a rebalance is needed.
func (p *planner) triggers() ([]string, error) {
	var out []string
	for _, l := range p.st.rep.Limits {
		if !l.Pass {
			out = append(out, fmt.Sprintf("%s fails: %s, bound %s", l.ID, l.Value, l.Bound))
			continue
		}
		if h, ok := l.HeadroomBps(); ok && h < p.r.cfg.TriggerHeadroomBps {
			out = append(out, fmt.Sprintf("%s is close to its bound: headroom %d bps < %d", l.ID, h, p.r.cfg.TriggerHeadroomBps))
		}
	}
	w, err := p.weights(p.st.pf)
	if err != nil {
		return nil, err
	}
	for _, b := range p.r.cfg.Buckets {
		if d := w[b.Name] - int64(b.TargetBps); d > int64(b.BandBps) || -d > int64(b.BandBps) {
			out = append(out, fmt.Sprintf("bucket %s at %d bps, target %d ± %d", b.Name, w[b.Name], b.TargetBps, b.BandBps))
		}
	}
	return out, nil
}

// value returns a position's value in USD with 8 decimals.
func (p *planner) value(asset string, amount *big.Int, prices market.Snapshot) (*big.Int, error) {
	a, ok := p.r.assets[asset]
	if !ok {
		return nil, fmt.Errorf("unknown asset %s", asset)
	}
	pr, err := prices.Price(asset)
	if err != nil {
		return nil, err
	}
	return market.Value(amount, a.Decimals, pr), nil
}

// units converts a USD value into units of asset, floored.
func (p *planner) units(asset string, usd *big.Int) (*big.Int, error) {
	a, ok := p.r.assets[asset]
	if !ok {
		return nil, fmt.Errorf("unknown asset %s", asset)
	}
	pr, err := p.st.pf.Prices.Price(asset)
	if err != nil {
		return nil, err
	}
	return market.AmountFor(usd, a.Decimals, pr)
}

// weights returns each bucket's net value in bps of net reserves.
func (p *planner) weights(pf Portfolio) (map[string]int64, error) {
	nr := new(big.Int)
	byAsset := map[string]*big.Int{}
	for _, pos := range pf.Positions {
		v, err := p.value(pos.Asset, pos.Amount, pf.Prices)
		if err != nil {
			return nil, err
		}
		nr.Add(nr, v)
		if byAsset[pos.Asset] == nil {
			byAsset[pos.Asset] = new(big.Int)
		}
		byAsset[pos.Asset].Add(byAsset[pos.Asset], v)
	}
	out := map[string]int64{}
	if nr.Sign() <= 0 {
		return out, nil
	}
	for _, b := range p.r.cfg.Buckets {
		s := new(big.Int)
		for _, a := range b.Assets {
			if v := byAsset[a]; v != nil {
				s.Add(s, v)
			}
		}
		s.Mul(s, big.NewInt(10000))
		out[b.Name] = s.Quo(s, nr).Int64()
	}
	return out, nil
}

// try simulates trades on top of the accepted state.
func (p *planner) try(trades []execute.Trade) (*trial, error) {
	book := p.st.book.Clone()
	pos, fills, err := p.r.exec.Execute(book, p.st.pf.Positions, p.st.pf.Prices, trades)
	if err != nil {
		return nil, err
	}
	// A refused trade changes nothing; keep it out of the plan.
	kept, keptFills := trades[:0:0], fills[:0:0]
	for i, f := range fills {
		if f.Status != execute.Refused {
			kept, keptFills = append(kept, trades[i]), append(keptFills, f)
		}
	}
	if len(kept) == 0 {
		return nil, nil
	}
	trades, fills = kept, keptFills
	pf := Portfolio{Positions: pos, Prices: p.st.pf.Prices, Liabilities: p.st.pf.Liabilities, Derivatives: p.st.pf.Derivatives}
	rep, err := p.r.check.Check(pf)
	if err == nil {
		rep, err = p.withDelta(rep, pf)
	}
	if err != nil {
		return nil, fmt.Errorf("check simulated portfolio: %w", err)
	}
	return &trial{book: book, pos: pos, fills: fills, rep: rep, tr: trades}, nil
}

func (p *planner) commit(t *trial, what string) {
	if t == nil || len(t.tr) == 0 {
		return
	}
	p.st.book = t.book
	p.st.pf.Positions = t.pos
	p.st.trades = append(p.st.trades, t.tr...)
	p.st.fills = append(p.st.fills, t.fills...)
	p.st.rep = t.rep
	p.log = append(p.log, fmt.Sprintf("%s: %d trades", what, len(t.tr)))
}

// ok says whether limits selected by sel hold in rep: passing, and with the target headroom
// when strict and the headroom is known. Limits not selected must not newly fail: any limit of
// higher priority than rank that passes in the accepted state must still pass.
func (p *planner) ok(rep *Report, rank int, sel func(Limit) bool, strict bool) bool {
	for _, l := range rep.Limits {
		if sel(l) {
			if !l.Pass {
				return false
			}
			if strict {
				if h, known := l.HeadroomBps(); known && h < p.r.cfg.TargetHeadroomBps {
					return false
				}
			}
			continue
		}
		if priority(l.Kind) <= rank {
			prev, found := p.st.rep.Find(l.ID)
			if !found {
				continue
			}
			if prev.Pass && !l.Pass {
				return false
			}
			// A limit that already fails and is not being fixed now must not get worse.
			if !prev.Pass && worse(l, prev) {
				return false
			}
		}
	}
	return true
}

func (p *planner) needs(sel func(Limit) bool) bool {
	for _, l := range p.st.rep.Limits {
		if !sel(l) {
			continue
		}
		if !l.Pass {
			return true
		}
		if h, known := l.HeadroomBps(); known && h < p.r.cfg.TriggerHeadroomBps {
			return true
		}
	}
	return false
}

// step is the resolution of the amount searches: the executor's minimum tranche, at least $1.
func (p *planner) step() *big.Int {
	s := new(big.Int).Set(p.r.exec.Config().MinTrancheUSD)
	if s.Cmp(big.NewInt(1e8)) < 0 {
		s.SetInt64(1e8)
	}
	return s
}

// smallest finds, to within step, the smallest amount in (0, max] whose trades make good hold,
// first aiming for the target headroom and then settling for a pass; nil if none does. Moving
// too much can break another limit (selling all the ETH breaks in-kind ETH coverage), so the
// first good amount is located on a coarse grid before bisecting below it.
func (p *planner) smallest(max *big.Int, gen func(*big.Int) ([]execute.Trade, error), good func(*Report, bool) bool, step *big.Int) (*trial, error) {
	if max.Sign() <= 0 {
		return nil, nil
	}
	const grid = 16
	for _, strict := range []bool{true, false} {
		lo := new(big.Int)
		var hi *big.Int
		var best *trial
		for k := int64(1); k <= grid; k++ {
			amt := new(big.Int).Mul(max, big.NewInt(k))
			amt.Quo(amt, big.NewInt(grid))
			t, err := p.tryAmount(amt, gen)
			if err != nil {
				return nil, err
			}
			if t != nil && good(t.rep, strict) {
				hi, best = amt, t
				break
			}
			lo = amt
		}
		if best == nil {
			continue
		}
		for new(big.Int).Sub(hi, lo).Cmp(step) > 0 {
			mid := new(big.Int).Add(lo, hi)
			mid.Rsh(mid, 1)
			t, err := p.tryAmount(mid, gen)
			if err != nil {
				return nil, err
			}
			if t != nil && good(t.rep, strict) {
				hi, best = mid, t
			} else {
				lo = mid
			}
		}
		return best, nil
	}
	return nil, nil
}

// largest finds the largest USD amount in [0, max] whose trades keep good; nil if none.
func (p *planner) largest(max *big.Int, gen func(*big.Int) ([]execute.Trade, error), good func(*Report) bool) (*trial, error) {
	if max.Sign() <= 0 {
		return nil, nil
	}
	t, err := p.tryAmount(max, gen)
	if err != nil {
		return nil, err
	}
	if t != nil && good(t.rep) {
		return t, nil
	}
	lo, hi := new(big.Int), new(big.Int).Set(max)
	var best *trial
	for new(big.Int).Sub(hi, lo).Cmp(p.step()) > 0 {
		mid := new(big.Int).Add(lo, hi)
		mid.Rsh(mid, 1)
		t, err := p.tryAmount(mid, gen)
		if err != nil {
			return nil, err
		}
		if t != nil && good(t.rep) {
			lo, best = mid, t
		} else {
			hi = mid
		}
	}
	return best, nil
}

func (p *planner) tryAmount(usd *big.Int, gen func(*big.Int) ([]execute.Trade, error)) (*trial, error) {
	trades, err := gen(usd)
	if err != nil {
		return nil, err
	}
	if len(trades) == 0 {
		return nil, nil
	}
	return p.try(trades)
}

// source is a holding the planner may draw from, with the USD value that can leave it now.
type source struct {
	h         Holding
	available *big.Int // USD
}

// sources lists positive holdings matching keep, with what can leave each now: the wallet all
// of it, a lending pool its free liquidity, staking all of it (sold through a pool).
func (p *planner) sources(keep func(pos venues.Position, v *venues.Venue) bool) ([]source, error) {
	var out []source
	for _, pos := range p.st.pf.Positions {
		if pos.Amount.Sign() <= 0 {
			continue
		}
		v, ok := p.st.book.Venue(pos.Venue)
		if !ok || v.Kind == venues.KindPerp || !keep(pos, v) {
			continue
		}
		amt := pos.Amount
		if v.Kind != venues.KindStaking {
			w, err := p.st.book.Withdrawable(pos.Venue, pos.Asset, pos.Amount)
			if err != nil {
				return nil, err
			}
			amt = w
		}
		val, err := p.value(pos.Asset, amt, p.st.pf.Prices)
		if err != nil {
			return nil, err
		}
		if val.Sign() > 0 {
			out = append(out, source{h: Holding{Venue: pos.Venue, Asset: pos.Asset}, available: val})
		}
	}
	return out, nil
}

func total(srcs []source) *big.Int {
	t := new(big.Int)
	for _, s := range srcs {
		t.Add(t, s.available)
	}
	return t
}

// drain returns a generator that takes usd from srcs in order into dest.
func (p *planner) drain(srcs []source, dest func(Holding) Holding, reason string) func(*big.Int) ([]execute.Trade, error) {
	return func(usd *big.Int) ([]execute.Trade, error) {
		left := new(big.Int).Set(usd)
		var out []execute.Trade
		for _, s := range srcs {
			if left.Sign() <= 0 {
				break
			}
			take := minBig(left, s.available)
			amt, err := p.units(s.h.Asset, take)
			if err != nil {
				return nil, err
			}
			if amt.Sign() <= 0 {
				continue
			}
			d := dest(s.h)
			out = append(out, execute.Trade{FromVenue: s.h.Venue, FromAsset: s.h.Asset, ToVenue: d.Venue, ToAsset: d.Asset, Amount: amt, Reason: reason})
			left.Sub(left, take)
		}
		return out, nil
	}
}

func minBig(a, b *big.Int) *big.Int {
	if a.Cmp(b) <= 0 {
		return new(big.Int).Set(a)
	}
	return new(big.Int).Set(b)
}

func kindIs(kinds ...string) func(Limit) bool {
	return func(l Limit) bool {
		for _, k := range kinds {
			if l.Kind == k {
				return true
			}
		}
		return false
	}
}

// worse reports whether l has less headroom than prev; a checker that leaves Headroom unset
// gives no gradient, so only a pass turning into a fail counts as worse then.
func worse(l, prev Limit) bool {
	if l.Headroom == nil || prev.Headroom == nil {
		return prev.Pass && !l.Pass
	}
	return l.Headroom.Cmp(prev.Headroom) < 0
}
