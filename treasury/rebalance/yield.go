package rebalance

import (
	"fmt"
	"math/big"

	"github.com/solvency-dev/solvency/treasury/execute"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// lendPool is one lending pool the yield step may use, as seen before the step.
type lendPool struct {
	id    string
	asset string
	dec   uint8
	price uint64
	pool  *venues.LendingPool
	held  *big.Int // the treasury's supply, units
}

// rateWith is the pool's supply rate (WAD) if the treasury's supply were a units.
func (lp *lendPool) rateWith(a *big.Int) *big.Int {
	return lp.pool.SupplyRateAfter(new(big.Int).Sub(a, lp.held))
}

// marginal returns the pool's marginal supply rate at allocation a: the extra annual interest
// (WAD) the next unit earns, d(a·r(a))/da = r(a) + a·r'(a), as a finite difference over a step
// of 1/10^4 of the allocation (at least one unit). A treasury large enough to move a pool's
// utilisation is not a price taker, so this, not r(a), is what an income-maximising split
// equalises; for a small treasury the two coincide.
func (lp *lendPool) marginal(a *big.Int) *big.Int {
	d := new(big.Int).Quo(a, big.NewInt(10000))
	if d.Sign() == 0 {
		d.SetInt64(1)
	}
	hi := new(big.Int).Add(a, d)
	inc := new(big.Int).Mul(hi, lp.rateWith(hi))
	inc.Sub(inc, new(big.Int).Mul(a, lp.rateWith(a)))
	return inc.Quo(inc, d)
}

// fill returns the largest allocation in [0, max] units whose marginal rate is still >= r:
// the pool's demand at level r. The marginal rate falls as supply grows (away from the kink),
// so bisection works.
func (lp *lendPool) fill(r, max *big.Int) *big.Int {
	if lp.marginal(new(big.Int)).Cmp(r) < 0 {
		return new(big.Int)
	}
	if lp.marginal(max).Cmp(r) >= 0 {
		return new(big.Int).Set(max)
	}
	lo, hi := new(big.Int), new(big.Int).Set(max)
	// A millionth of the range is far below a tranche; finer bisection only burns time.
	tol := new(big.Int).Quo(max, big.NewInt(1_000_000))
	if tol.Sign() == 0 {
		tol.SetInt64(1)
	}
	for new(big.Int).Sub(hi, lo).Cmp(tol) > 0 {
		mid := new(big.Int).Add(lo, hi)
		mid.Rsh(mid, 1)
		if lp.marginal(mid).Cmp(r) >= 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// waterFill splits totalUSD (8 decimals) across pools so that their marginal supply rates after
// the move are equal (a water level r): the allocation that maximises the book's interest when
// each pool's rate falls with the supply added. It returns the allocation per pool in the pool's
// units. Pools whose marginal rate is below the level even at zero get nothing.
func waterFill(pools []*lendPool, totalUSD *big.Int) ([]*big.Int, error) {
	n := len(pools)
	maxUnits := make([]*big.Int, n)
	hiRate := new(big.Int)
	for i, lp := range pools {
		u, err := market.AmountFor(totalUSD, lp.dec, lp.price)
		if err != nil {
			return nil, err
		}
		maxUnits[i] = u
		if r := lp.marginal(new(big.Int)); r.Cmp(hiRate) > 0 {
			hiRate = r
		}
	}
	sumUSD := func(r *big.Int) ([]*big.Int, *big.Int) {
		al := make([]*big.Int, n)
		s := new(big.Int)
		for i, lp := range pools {
			al[i] = lp.fill(r, maxUnits[i])
			s.Add(s, market.Value(al[i], lp.dec, lp.price))
		}
		return al, s
	}
	// Demand is falling in r: find r with demand(lo) >= total > demand(hi).
	// Rates are WAD per year; a level resolution of 10^-9 a year (10^-5 bps) is exact enough.
	lo, hi := new(big.Int), new(big.Int).Add(hiRate, big.NewInt(1))
	for new(big.Int).Sub(hi, lo).Cmp(big.NewInt(1_000_000_000)) > 0 {
		mid := new(big.Int).Add(lo, hi)
		mid.Rsh(mid, 1)
		if _, s := sumUSD(mid); s.Cmp(totalUSD) >= 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	base, got := sumUSD(hi)
	upper, _ := sumUSD(lo)
	// Hand out the remainder between the two levels, pool by pool, up to the lower level.
	left := new(big.Int).Sub(totalUSD, got)
	for i, lp := range pools {
		if left.Sign() <= 0 {
			break
		}
		room := new(big.Int).Sub(upper[i], base[i])
		if room.Sign() <= 0 {
			continue
		}
		want, err := market.AmountFor(left, lp.dec, lp.price)
		if err != nil {
			return nil, err
		}
		add := minBig(room, want)
		base[i].Add(base[i], add)
		left.Sub(left, market.Value(add, lp.dec, lp.price))
	}
	return base, nil
}

// income returns Σ allocation · rate (units · WAD, valued in USD): the book's annual interest.
func income(pools []*lendPool, alloc []*big.Int) *big.Int {
	s := new(big.Int)
	for i, lp := range pools {
		v := market.Value(alloc[i], lp.dec, lp.price)
		s.Add(s, v.Mul(v, lp.rateWith(alloc[i])))
	}
	return s
}

// spreadYield spreads the stable bucket across the lending pools so that their post-move supply
// rates are equal, lending out as much wallet cash as the limits allow (the liquidity floor and
// group caps stay with the higher priorities), and skips the move when the gain is too small.
func (p *planner) spreadYield() error {
	cfg := p.r.cfg
	var pools []*lendPool
	lent := new(big.Int)
	for _, id := range cfg.Lending {
		v, ok := p.st.book.Venue(id)
		if !ok || v.Kind != venues.KindLending {
			return fmt.Errorf("yield: %s is not a lending venue", id)
		}
		a, ok := p.r.assets[v.Lending.Asset]
		if !ok || !cfg.isStable(a.Symbol) {
			continue
		}
		pr, err := p.st.pf.Prices.Price(a.Symbol)
		if err != nil {
			return err
		}
		held := p.st.pf.Positions.Get(id, a.Symbol)
		if held.Sign() < 0 {
			held = new(big.Int)
		}
		u := new(big.Int).Mul(v.Lending.Utilisation(), big.NewInt(10000))
		if u.Quo(u, venues.WAD()).Int64() > cfg.maxUtilisationBps() {
			continue // stressed pool: neither fed nor counted; its position stays where it is
		}
		pools = append(pools, &lendPool{id: id, asset: a.Symbol, dec: a.Decimals, price: pr, pool: v.Lending, held: held})
		lent.Add(lent, market.Value(held, a.Decimals, pr))
	}
	if len(pools) == 0 {
		return nil
	}
	cashHeld := p.st.pf.Positions.Get(cfg.Cash.Venue, cfg.Cash.Asset)
	cashUSD, err := p.value(cfg.Cash.Asset, cashHeld, p.st.pf.Prices)
	if err != nil {
		return err
	}
	current := make([]*big.Int, len(pools))
	for i, lp := range pools {
		current[i] = lp.held
	}
	before := income(pools, current)
	gen := func(spare *big.Int) ([]execute.Trade, error) {
		alloc, err := waterFill(pools, new(big.Int).Add(lent, spare))
		if err != nil {
			return nil, err
		}
		return p.yieldTrades(pools, alloc)
	}
	t, err := p.largest(cashUSD, gen, p.keeps)
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	after := make([]*big.Int, len(pools))
	totalAfter := new(big.Int)
	for i, lp := range pools {
		after[i] = t.pos.Get(lp.id, lp.asset)
		totalAfter.Add(totalAfter, market.Value(after[i], lp.dec, lp.price))
	}
	if totalAfter.Sign() == 0 {
		return nil
	}
	// Gain in annual bps of the lent total: (income after - before) / total / WAD * 10000.
	gain := new(big.Int).Sub(income(pools, after), before)
	gain.Mul(gain, big.NewInt(10000))
	gain.Quo(gain, new(big.Int).Mul(totalAfter, venues.WAD()))
	if gain.Int64() < cfg.MinYieldGainBps {
		p.log = append(p.log, fmt.Sprintf("yield: gain %d bps below %d, skipped", gain.Int64(), cfg.MinYieldGainBps))
		return nil
	}
	// The move must pay for its fees and price impact within the payback period.
	cost := new(big.Int)
	for _, f := range t.fills {
		cost.Add(cost, f.CostUSD)
	}
	perYear := new(big.Int).Sub(income(pools, after), before)
	perYear.Quo(perYear, venues.WAD()) // USD (8 decimals) a year
	earned := new(big.Int).Mul(perYear, big.NewInt(cfg.yieldPaybackDays()))
	if new(big.Int).Mul(cost, big.NewInt(365)).Cmp(earned) > 0 {
		p.log = append(p.log, fmt.Sprintf("yield: costs $%s not repaid within %d days, skipped", market.FormatUSD(cost), cfg.yieldPaybackDays()))
		return nil
	}
	p.commit(t, fmt.Sprintf("yield: equalise supply rates (+%d bps)", gain.Int64()))
	return nil
}

// yieldTrades moves from pools above their allocation to pools below it, then from wallet cash
// into what is still below; moves smaller than the minimum tranche are skipped as churn.
func (p *planner) yieldTrades(pools []*lendPool, alloc []*big.Int) ([]execute.Trade, error) {
	cfg := p.r.cfg
	minUSD := p.r.exec.Config().MinTrancheUSD
	type gap struct {
		i   int
		usd *big.Int
	}
	var over, under []gap
	for i, lp := range pools {
		d := new(big.Int).Sub(alloc[i], lp.held)
		usd := market.Value(new(big.Int).Abs(d), lp.dec, lp.price)
		if usd.Cmp(minUSD) < 0 || usd.Sign() == 0 {
			continue
		}
		if d.Sign() < 0 {
			over = append(over, gap{i, usd})
		} else {
			under = append(under, gap{i, usd})
		}
	}
	var out []execute.Trade
	for ui := range under {
		need := under[ui].usd
		to := pools[under[ui].i]
		for oi := range over {
			if need.Sign() <= 0 {
				break
			}
			if over[oi].usd.Sign() <= 0 {
				continue
			}
			take := minBig(need, over[oi].usd)
			from := pools[over[oi].i]
			amt, err := market.AmountFor(take, from.dec, from.price)
			if err != nil {
				return nil, err
			}
			if take.Cmp(minUSD) >= 0 && amt.Sign() > 0 {
				out = append(out, execute.Trade{FromVenue: from.id, FromAsset: from.asset, ToVenue: to.id, ToAsset: to.asset, Amount: amt, Reason: "yield: equalise supply rates"})
			}
			over[oi].usd.Sub(over[oi].usd, take)
			need.Sub(need, take)
		}
		if need.Cmp(minUSD) >= 0 {
			amt, err := p.units(cfg.Cash.Asset, need)
			if err != nil {
				return nil, err
			}
			out = append(out, execute.Trade{FromVenue: cfg.Cash.Venue, FromAsset: cfg.Cash.Asset, ToVenue: to.id, ToAsset: to.asset, Amount: amt, Reason: "yield: lend spare cash"})
		}
	}
	// What is left above allocation returns to the wallet (same asset, a withdrawal).
	for _, o := range over {
		if o.usd.Cmp(minUSD) < 0 {
			continue
		}
		from := pools[o.i]
		amt, err := market.AmountFor(o.usd, from.dec, from.price)
		if err != nil {
			return nil, err
		}
		out = append(out, execute.Trade{FromVenue: from.id, FromAsset: from.asset, ToVenue: cfg.Cash.Venue, ToAsset: from.asset, Amount: amt, Reason: "yield: withdraw above allocation"})
	}
	return out, nil
}
