package execute

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// Trade moves Amount of FromAsset (in its units, positive) out of FromVenue and delivers what it
// buys of ToAsset into ToVenue. Same asset: a transfer, deposit or withdrawal. Different assets:
// a swap through the pools. Into a staking venue from its underlying: a stake at the exchange
// rate.
type Trade struct {
	FromVenue string   `json:"fromVenue"`
	FromAsset string   `json:"fromAsset"`
	ToVenue   string   `json:"toVenue"`
	ToAsset   string   `json:"toAsset"`
	Amount    *big.Int `json:"amount"`
	// Reason says which priority of the rebalancer asked for the trade.
	Reason string `json:"reason,omitempty"`
	// Perp, when set (PerpShort or PerpCover), makes the trade a resize of the short hedge at
	// the perpetual venue FromVenue (= ToVenue) in its underlying (FromAsset = ToAsset) by
	// Amount, not a move of assets.
	Perp string `json:"perp,omitempty"`
}

func (t Trade) String() string {
	if t.Perp != "" {
		return fmt.Sprintf("%s %s %s@%s", t.Perp, t.Amount, t.FromAsset, t.FromVenue)
	}
	return fmt.Sprintf("%s %s@%s -> %s@%s", t.Amount, t.FromAsset, t.FromVenue, t.ToAsset, t.ToVenue)
}

// Status of a fill.
type Status string

// Fill statuses.
const (
	Filled  Status = "filled"
	Partial Status = "partial"
	Refused Status = "refused"
)

// Tranche is one executed slice of a trade.
type Tranche struct {
	In  *big.Int `json:"in"`
	Out *big.Int `json:"out"`
	// MinOut is what the tranche accepts at worst: the oracle-fair amount less the slippage
	// budget. It is the amountOutMin of an exported swap.
	MinOut      *big.Int `json:"minOut"`
	SlippageBps int64    `json:"slippageBps"`
}

// Fill is what happened to one trade.
type Fill struct {
	Trade  Trade    `json:"trade"`
	Status Status   `json:"status"`
	In     *big.Int `json:"in"`
	Out    *big.Int `json:"out"`
	// Path is the swap route (assets, first to last); empty when no swap happened.
	Path     []string  `json:"path,omitempty"`
	Tranches []Tranche `json:"tranches,omitempty"`
	// CostUSD is the value lost to fees and price impact against oracle prices (8 decimals).
	CostUSD *big.Int `json:"costUsd"`
	Note    string   `json:"note,omitempty"`
}

// Config sets the simulated market's pools and the execution limits.
type Config struct {
	Pools []PoolSpec `json:"pools"`
	// Hubs route a swap with no direct pool through two pools (A->Hub->B), tried in order:
	// usually USDC, then ETH.
	Hubs []string `json:"hubs,omitempty"`
	// MinTrancheUSD is the smallest tranche worth a transaction; MaxTrancheUSD the largest one.
	MinTrancheUSD *big.Int `json:"minTrancheUsd"`
	MaxTrancheUSD *big.Int `json:"maxTrancheUsd"`
	// SlippageBudgetBps bounds each tranche's loss against the oracle price (fee included).
	SlippageBudgetBps uint32 `json:"slippageBudgetBps"`
	// Arbitrage re-centres pools on the oracle price between tranches (arbitrageurs close the
	// gap between transactions); without it every tranche walks further down the curve.
	Arbitrage bool `json:"arbitrage"`
}

// Simulator executes trades against constant-product pools.
type Simulator struct {
	cfg    Config
	assets map[string]market.Asset
	specs  map[string]PoolSpec
}

// NewSimulator validates cfg against the asset table.
func NewSimulator(cfg Config, assets map[string]market.Asset) (*Simulator, error) {
	if cfg.MinTrancheUSD == nil || cfg.MaxTrancheUSD == nil || cfg.MinTrancheUSD.Sign() < 0 || cfg.MaxTrancheUSD.Cmp(cfg.MinTrancheUSD) < 0 || cfg.MaxTrancheUSD.Sign() <= 0 {
		return nil, errors.New("executor: need 0 <= minTrancheUsd <= maxTrancheUsd, maxTrancheUsd > 0")
	}
	if cfg.SlippageBudgetBps == 0 || cfg.SlippageBudgetBps >= 10000 {
		return nil, errors.New("executor: slippage budget must be in (0, 10000) bps")
	}
	s := &Simulator{cfg: cfg, assets: assets, specs: map[string]PoolSpec{}}
	for _, p := range cfg.Pools {
		for _, a := range []string{p.A, p.B} {
			if _, ok := assets[a]; !ok {
				return nil, fmt.Errorf("executor: pool %s/%s names unknown asset %s", p.A, p.B, a)
			}
		}
		k := pairKey(p.A, p.B)
		if _, dup := s.specs[k]; dup || p.A == p.B {
			return nil, fmt.Errorf("executor: pool %s repeated or trading an asset against itself", k)
		}
		s.specs[k] = p
	}
	return s, nil
}

// Config returns the executor's configuration.
func (s *Simulator) Config() Config { return s.cfg }

// CanSwap reports whether a route exists between two assets.
func (s *Simulator) CanSwap(a, b string) bool {
	_, err := s.route(a, b)
	return err == nil
}

func (s *Simulator) route(a, b string) ([]string, error) {
	if _, ok := s.specs[pairKey(a, b)]; ok {
		return []string{a, b}, nil
	}
	for _, h := range s.cfg.Hubs {
		if h == a || h == b {
			continue
		}
		_, ok1 := s.specs[pairKey(a, h)]
		_, ok2 := s.specs[pairKey(h, b)]
		if ok1 && ok2 {
			return []string{a, h, b}, nil
		}
	}
	return nil, fmt.Errorf("no pool route from %s to %s", a, b)
}

// run is the state of one Execute call: live pools and their cycle-start reserves.
type run struct {
	s      *Simulator
	prices market.Snapshot
	pools  map[string]*pool
	start  map[string]*pool
}

func (r *run) pool(a, b string) (*pool, error) {
	k := pairKey(a, b)
	if p, ok := r.pools[k]; ok {
		return p, nil
	}
	p, err := newPool(r.s.specs[k], r.s.assets, r.prices)
	if err != nil {
		return nil, err
	}
	r.pools[k], r.start[k] = p, p.clone()
	return p, nil
}

// swapOut quotes (and, if apply, executes) a swap along path.
func (r *run) swapOut(path []string, in *big.Int, apply bool) (*big.Int, error) {
	amt := new(big.Int).Set(in)
	for i := 0; i+1 < len(path); i++ {
		p, err := r.pool(path[i], path[i+1])
		if err != nil {
			return nil, err
		}
		out, err := p.out(path[i], amt)
		if err != nil {
			return nil, err
		}
		if apply {
			p.apply(path[i], amt, out)
		}
		amt = out
	}
	return amt, nil
}

// fair converts in units of a into b at oracle prices.
func (r *run) fair(a, b string, in *big.Int) (*big.Int, error) {
	pa, err := r.prices.Price(a)
	if err != nil {
		return nil, err
	}
	pb, err := r.prices.Price(b)
	if err != nil {
		return nil, err
	}
	return market.AmountFor(market.Value(in, r.s.assets[a].Decimals, pa), r.s.assets[b].Decimals, pb)
}

func slippageBps(fair, out *big.Int) int64 {
	if fair.Sign() <= 0 {
		return 0
	}
	d := new(big.Int).Sub(fair, out)
	d.Mul(d, big.NewInt(10000))
	// Round up: a slippage figure should not flatter the fill.
	d.Add(d, new(big.Int).Sub(fair, big.NewInt(1)))
	return d.Quo(d, fair).Int64()
}

// maxInWithinBudget finds the largest input whose slippage stays within budget, by bisection
// (slippage grows with size on a constant-product curve).
func (r *run) maxInWithinBudget(path []string, hi *big.Int) (*big.Int, error) {
	ok := func(in *big.Int) (bool, error) {
		out, err := r.swapOut(path, in, false)
		if err != nil {
			return false, err
		}
		f, err := r.fair(path[0], path[len(path)-1], in)
		if err != nil {
			return false, err
		}
		return slippageBps(f, out) <= int64(r.s.cfg.SlippageBudgetBps), nil
	}
	if good, err := ok(hi); err != nil || good {
		return hi, err
	}
	lo, top := new(big.Int), new(big.Int).Set(hi)
	// To a millionth of the size: the budget is a bound, not a target to hit to the unit.
	tol := new(big.Int).Quo(hi, big.NewInt(1_000_000))
	if tol.Sign() == 0 {
		tol.SetInt64(1)
	}
	for new(big.Int).Sub(top, lo).Cmp(tol) > 0 {
		mid := new(big.Int).Add(lo, top)
		mid.Rsh(mid, 1)
		good, err := ok(mid)
		if err != nil {
			return nil, err
		}
		if good {
			lo = mid
		} else {
			top = mid
		}
	}
	return lo, nil
}

// Execute fills trades in order against the book and positions and returns the new positions
// and one fill per trade. Market conditions (no liquidity, slippage beyond budget, a tranche
// below the minimum) give partial or refused fills, not errors; an error means the inputs are
// inconsistent (unknown venue or asset, missing price). The book's lending pools are updated in
// place (deposits and withdrawals change their supply), so pass a clone for a what-if.
func (s *Simulator) Execute(book *venues.Book, ps venues.Positions, prices market.Snapshot, trades []Trade) (venues.Positions, []Fill, error) {
	r := &run{s: s, prices: prices, pools: map[string]*pool{}, start: map[string]*pool{}}
	cur := ps.Clone()
	fills := make([]Fill, 0, len(trades))
	for _, t := range trades {
		f, next, err := r.one(book, cur, t)
		if err != nil {
			return nil, nil, fmt.Errorf("execute %s: %w", t, err)
		}
		cur = next
		fills = append(fills, f)
	}
	return cur, fills, nil
}

func refuse(t Trade, why string, args ...any) Fill {
	return Fill{Trade: t, Status: Refused, In: new(big.Int), Out: new(big.Int), CostUSD: new(big.Int), Note: fmt.Sprintf(why, args...)}
}

func (r *run) one(book *venues.Book, ps venues.Positions, t Trade) (Fill, venues.Positions, error) {
	if t.Amount == nil || t.Amount.Sign() <= 0 {
		return Fill{}, nil, errors.New("trade amount must be positive")
	}
	if t.IsPerpResize() {
		return r.perpResize(book, ps, t)
	}
	from, ok := book.Venue(t.FromVenue)
	if !ok {
		return Fill{}, nil, fmt.Errorf("unknown venue %s", t.FromVenue)
	}
	to, ok := book.Venue(t.ToVenue)
	if !ok {
		return Fill{}, nil, fmt.Errorf("unknown venue %s", t.ToVenue)
	}
	for _, a := range []string{t.FromAsset, t.ToAsset} {
		if _, ok := r.s.assets[a]; !ok {
			return Fill{}, nil, fmt.Errorf("unknown asset %s", a)
		}
	}
	if !to.Holds(t.ToAsset) {
		return refuse(t, "venue %s cannot hold %s", t.ToVenue, t.ToAsset), ps, nil
	}
	held := ps.Get(t.FromVenue, t.FromAsset)
	// How much can leave the source venue now.
	exitable := new(big.Int)
	switch from.Kind {
	case venues.KindStaking:
		if t.ToAsset == t.FromAsset {
			return refuse(t, "%s leaves %s through its withdrawal queue (tier %d), not in this cycle; sell it through a pool instead", t.FromAsset, t.FromVenue, from.Tier), ps, nil
		}
		if held.Sign() > 0 {
			exitable.Set(held)
		}
	default:
		w, err := book.Withdrawable(t.FromVenue, t.FromAsset, held)
		if err != nil {
			return Fill{}, nil, err
		}
		exitable = w
	}
	amount := new(big.Int).Set(t.Amount)
	note := ""
	if amount.Cmp(exitable) > 0 {
		if exitable.Sign() == 0 {
			return refuse(t, "nothing withdrawable of %s at %s (held %v)%s", t.FromAsset, t.FromVenue, held, liquidityNote(from)), ps, nil
		}
		note = fmt.Sprintf("only %v of %v withdrawable%s", exitable, amount, liquidityNote(from))
		amount = exitable
	}

	var tranches []Tranche
	var route []string
	out := new(big.Int)
	switch {
	case t.FromAsset == t.ToAsset:
		out.Set(amount)
	case to.Kind == venues.KindStaking && t.FromAsset == to.Staking.Underlying && t.ToAsset == to.Staking.Asset:
		// Stake at the exchange rate: shares = underlying / rate.
		out.Mul(amount, venues.WAD())
		out.Quo(out, to.Staking.ExchangeRate)
	default:
		path, err := r.s.route(t.FromAsset, t.ToAsset)
		if err != nil {
			return refuse(t, "%v", err), ps, nil
		}
		route = path
		var filled *big.Int
		tranches, filled, out, note, err = r.tranches(path, amount, note)
		if err != nil {
			return Fill{}, nil, err
		}
		amount = filled
		if amount.Sign() == 0 {
			return refuse(t, "%s", note), ps, nil
		}
	}
	// Move the balances and the pools' supply.
	if from.Kind == venues.KindLending {
		if err := from.Lending.Withdraw(amount); err != nil {
			return Fill{}, nil, err
		}
	}
	if to.Kind == venues.KindLending {
		if err := to.Lending.Deposit(out); err != nil {
			return Fill{}, nil, err
		}
	}
	next := ps.Add(t.FromVenue, t.FromAsset, new(big.Int).Neg(amount)).Add(t.ToVenue, t.ToAsset, out)
	cost, err := r.cost(t.FromAsset, amount, t.ToAsset, out)
	if err != nil {
		return Fill{}, nil, err
	}
	st := Filled
	if amount.Cmp(t.Amount) < 0 {
		st = Partial
	}
	return Fill{Trade: t, Status: st, In: amount, Out: out, Path: route, Tranches: tranches, CostUSD: cost, Note: note}, next, nil
}

func liquidityNote(v *venues.Venue) string {
	if v.Kind == venues.KindLending {
		return fmt.Sprintf(" (pool liquidity %v, utilisation %s)", v.Lending.Available(), utilPct(v.Lending))
	}
	return ""
}

func utilPct(l *venues.LendingPool) string {
	u := new(big.Int).Mul(l.Utilisation(), big.NewInt(10000))
	u.Quo(u, venues.WAD())
	return fmt.Sprintf("%d.%02d%%", u.Int64()/100, u.Int64()%100)
}

func (r *run) cost(a string, in *big.Int, b string, out *big.Int) (*big.Int, error) {
	pa, err := r.prices.Price(a)
	if err != nil {
		return nil, err
	}
	pb, err := r.prices.Price(b)
	if err != nil {
		return nil, err
	}
	c := market.Value(in, r.s.assets[a].Decimals, pa)
	return c.Sub(c, market.Value(out, r.s.assets[b].Decimals, pb)), nil
}

// tranches fills amount along path in equal tranches no larger than the USD cap and the
// slippage budget allow, each at least the minimum size; it stops early (a partial fill) when a
// tranche would break the budget.
func (r *run) tranches(path []string, amount *big.Int, note string) ([]Tranche, *big.Int, *big.Int, string, error) {
	a := path[0]
	pa, err := r.prices.Price(a)
	if err != nil {
		return nil, nil, nil, "", err
	}
	dec := r.s.assets[a].Decimals
	capUnits, err := market.AmountFor(r.s.cfg.MaxTrancheUSD, dec, pa)
	if err != nil {
		return nil, nil, nil, "", err
	}
	budgetCap, err := r.maxInWithinBudget(path, minBig(amount, capUnits))
	if err != nil {
		return nil, nil, nil, "", err
	}
	minUnits, err := market.AmountFor(r.s.cfg.MinTrancheUSD, dec, pa)
	if err != nil {
		return nil, nil, nil, "", err
	}
	if budgetCap.Sign() == 0 || (budgetCap.Cmp(minUnits) < 0 && budgetCap.Cmp(amount) < 0) {
		return nil, new(big.Int), new(big.Int), fmt.Sprintf("the %d bps slippage budget allows no tranche of at least the minimum size through %v", r.s.cfg.SlippageBudgetBps, path), nil
	}
	if amount.Cmp(minUnits) < 0 {
		return nil, new(big.Int), new(big.Int), fmt.Sprintf("trade of %v %s is below the minimum tranche (%v)", amount, a, minUnits), nil
	}
	n := new(big.Int).Add(amount, new(big.Int).Sub(budgetCap, big.NewInt(1)))
	n.Quo(n, budgetCap)
	size := new(big.Int).Quo(amount, n)
	filled, total := new(big.Int), new(big.Int)
	var out []Tranche
	last := path[len(path)-1]
	for i := int64(0); i < n.Int64(); i++ {
		in := new(big.Int).Set(size)
		if i == n.Int64()-1 {
			in.Sub(amount, filled) // the remainder of the equal split
		}
		got, err := r.swapOut(path, in, false)
		if err != nil {
			return nil, nil, nil, "", err
		}
		fair, err := r.fair(a, last, in)
		if err != nil {
			return nil, nil, nil, "", err
		}
		slip := slippageBps(fair, got)
		if slip > int64(r.s.cfg.SlippageBudgetBps) {
			note = joinNote(note, fmt.Sprintf("stopped after %d of %v tranches: next would slip %d bps, budget %d", i, n, slip, r.s.cfg.SlippageBudgetBps))
			break
		}
		if _, err := r.swapOut(path, in, true); err != nil {
			return nil, nil, nil, "", err
		}
		minOut := new(big.Int).Mul(fair, big.NewInt(int64(10000-r.s.cfg.SlippageBudgetBps)))
		minOut.Quo(minOut, big.NewInt(10000))
		out = append(out, Tranche{In: in, Out: got, MinOut: minOut, SlippageBps: slip})
		filled.Add(filled, in)
		total.Add(total, got)
		if r.s.cfg.Arbitrage {
			for k, p := range r.start {
				r.pools[k] = p.clone()
			}
		}
	}
	return out, filled, total, note, nil
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func minBig(a, b *big.Int) *big.Int {
	if a.Cmp(b) <= 0 {
		return new(big.Int).Set(a)
	}
	return new(big.Int).Set(b)
}

// LoadConfig reads a JSON executor configuration (big amounts as JSON numbers) strictly (see
// jsonstrict): unknown keys are errors, every field but hubs is required.
func LoadConfig(path string) (Config, error) {
	data, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return Config{}, fmt.Errorf("executor config: %w", err)
	}
	var c Config
	if err := jsonstrict.Unmarshal(path, data, &c); err != nil {
		return Config{}, fmt.Errorf("executor config: %w", err)
	}
	return c, nil
}
