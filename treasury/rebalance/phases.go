package rebalance

import (
	"fmt"
	"math/big"
	"sort"

	"github.com/solvency-dev/solvency/treasury/execute"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// fixLiquidity raises cash until the liquidity floor holds: first by withdrawing stables from
// lending pools (lowest supply rate first, and only what their free liquidity allows), then by
// selling risky assets held in the wallet, then staked ones.
func (p *planner) fixLiquidity() error {
	sel := kindIs(KindLiquidity)
	if !p.needs(sel) {
		return nil
	}
	cfg := p.r.cfg
	lend, err := p.sources(func(pos venues.Position, v *venues.Venue) bool {
		return v.Kind == venues.KindLending && cfg.isStable(pos.Asset)
	})
	if err != nil {
		return err
	}
	sort.SliceStable(lend, func(i, j int) bool {
		vi, _ := p.st.book.Venue(lend[i].h.Venue)
		vj, _ := p.st.book.Venue(lend[j].h.Venue)
		return vi.Lending.SupplyRate().Cmp(vj.Lending.SupplyRate()) < 0
	})
	risky, err := p.sources(func(pos venues.Position, v *venues.Venue) bool {
		return v.Kind == venues.KindWallet && !cfg.isStable(pos.Asset)
	})
	if err != nil {
		return err
	}
	staked, err := p.sources(func(pos venues.Position, v *venues.Venue) bool {
		return v.Kind == venues.KindStaking
	})
	if err != nil {
		return err
	}
	dest := func(h Holding) Holding {
		if cfg.isStable(h.Asset) {
			return Holding{Venue: cfg.Cash.Venue, Asset: h.Asset} // a withdrawal, no swap
		}
		return cfg.Cash
	}
	// Keep only the kinds of source that raise the buffer under this policy: where the policy
	// already counts a lending pool as liquid, withdrawing from it changes nothing and would
	// only churn.
	var srcs []source
	for _, group := range [][]source{lend, risky, staked} {
		ok, err := p.helps(group, dest, sel)
		if err != nil {
			return err
		}
		if ok {
			srcs = append(srcs, group...)
		}
	}
	t, err := p.smallest(total(srcs), p.drain(srcs, dest, "liquidity floor"),
		func(rep *Report, strict bool) bool { return p.ok(rep, 0, sel, strict) }, p.step())
	if err != nil {
		return err
	}
	p.commit(t, "liquidity floor")
	return nil
}

// fixCaps brings each concentration cap and in-kind coverage back, one limit at a time, worst
// first.
func (p *planner) fixCaps() error {
	skip := map[string]bool{}
	capKinds := kindIs(KindAssetCap, KindGroupCap, KindInKind)
	for i := 0; i < p.r.cfg.maxSteps(); i++ {
		lim, found := p.worst(func(l Limit) bool { return capKinds(l) && !skip[l.ID] })
		if !found {
			return nil
		}
		sel := func(l Limit) bool { return l.ID == lim.ID }
		srcs, dest, err := p.capMoves(lim)
		if err != nil {
			return err
		}
		t, err := p.smallest(total(srcs), p.drain(srcs, dest, "limit "+lim.ID),
			func(rep *Report, strict bool) bool { return p.ok(rep, 1, sel, strict) }, p.step())
		if err != nil {
			return err
		}
		if t == nil {
			p.log = append(p.log, "no allowed trade restores "+lim.ID)
			skip[lim.ID] = true // reported as binding if it still fails at the end
			continue
		}
		p.commit(t, "limit "+lim.ID)
	}
	return nil
}

// worst returns the failing or near limit selected by sel with the least headroom.
func (p *planner) worst(sel func(Limit) bool) (Limit, bool) {
	var best Limit
	var bestH int64
	found := false
	for _, l := range p.st.rep.Limits {
		if !sel(l) {
			continue
		}
		h, known := l.HeadroomBps()
		switch {
		case !l.Pass && !known:
			h = -(1 << 62)
		case !l.Pass:
		case known && h < p.r.cfg.TriggerHeadroomBps:
		default:
			continue
		}
		if !found || h < bestH {
			best, bestH, found = l, h, true
		}
	}
	return best, found
}

// capMoves chooses what to move for one cap or coverage limit.
func (p *planner) capMoves(lim Limit) ([]source, func(Holding) Holding, error) {
	cfg := p.r.cfg
	switch lim.Kind {
	case KindInKind:
		// Buy the asset the liabilities are owed in: from its siblings in the wallet (another
		// stable for a stable), then from cash.
		bucket := p.bucketOf(lim.Subject)
		srcs, err := p.sources(func(pos venues.Position, v *venues.Venue) bool {
			return pos.Venue == cfg.Cash.Venue && pos.Asset != lim.Subject &&
				((bucket != nil && bucket[pos.Asset]) || pos.Asset == cfg.Cash.Asset)
		})
		return srcs, func(Holding) Holding { return Holding{Venue: cfg.Cash.Venue, Asset: lim.Subject} }, err
	case KindGroupCap:
		srcs, err := p.sources(func(pos venues.Position, v *venues.Venue) bool { return v.Group == lim.Subject })
		return srcs, func(h Holding) Holding {
			v, _ := p.st.book.Venue(h.Venue)
			if v.Kind == venues.KindStaking {
				return Holding{Venue: cfg.Cash.Venue, Asset: v.Staking.Underlying}
			}
			return Holding{Venue: cfg.Cash.Venue, Asset: h.Asset}
		}, err
	default: // asset cap: swap into a sibling of the same bucket, else into cash
		srcs, err := p.sources(func(pos venues.Position, v *venues.Venue) bool { return pos.Asset == lim.Subject })
		if err != nil {
			return nil, nil, err
		}
		sort.SliceStable(srcs, func(i, j int) bool { return srcs[i].h.Venue == cfg.Cash.Venue && srcs[j].h.Venue != cfg.Cash.Venue })
		to := p.sibling(lim.Subject)
		return srcs, func(Holding) Holding { return to }, nil
	}
}

// sibling is where an over-concentrated asset goes: the staked form of ETH at its staking venue,
// another asset of the same bucket in the wallet, or cash (another stable when the asset is the
// cash asset itself).
func (p *planner) sibling(asset string) Holding {
	cfg := p.r.cfg
	for _, v := range p.st.book.Venues {
		if v.Kind == venues.KindStaking && v.Staking.Underlying == asset {
			return Holding{Venue: v.ID, Asset: v.Staking.Asset}
		}
	}
	for _, b := range cfg.Buckets {
		in := false
		for _, a := range b.Assets {
			in = in || a == asset
		}
		if !in {
			continue
		}
		for _, a := range b.Assets {
			if a != asset && p.r.exec.CanSwap(asset, a) {
				return Holding{Venue: cfg.Cash.Venue, Asset: a}
			}
		}
	}
	if asset != cfg.Cash.Asset {
		return cfg.Cash
	}
	for _, s := range cfg.Stables {
		if s != asset && p.r.exec.CanSwap(asset, s) {
			return Holding{Venue: cfg.Cash.Venue, Asset: s}
		}
	}
	return cfg.Cash
}

// fixRisk blends the risky holdings toward the low-risk bucket (cash) by the smallest fraction
// that makes the VaR, stress and collateral limits hold.
func (p *planner) fixRisk() error {
	sel := kindIs(KindVaR, KindStress, KindCollateral)
	if !p.needs(sel) {
		return nil
	}
	cfg := p.r.cfg
	all, err := p.sources(func(pos venues.Position, v *venues.Venue) bool { return !cfg.isStable(pos.Asset) })
	if err != nil {
		return err
	}
	// Blend the net exposure, not the holdings: ETH held against ETH owed to users hedges it,
	// and selling it would add risk (and break in-kind coverage). So each asset contributes at
	// most its holdings less its liabilities (less any short), wallet first.
	net := p.st.pf.Positions.NetByAsset()
	for a, l := range p.st.pf.Liabilities {
		if net[a] == nil {
			net[a] = new(big.Int)
		}
		net[a].Sub(net[a], l)
	}
	left := map[string]*big.Int{}
	for a, n := range net {
		if n.Sign() <= 0 {
			left[a] = new(big.Int)
			continue
		}
		v, err := p.value(a, n, p.st.pf.Prices)
		if err != nil {
			return err
		}
		left[a] = v
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].h.Venue == cfg.Cash.Venue && all[j].h.Venue != cfg.Cash.Venue })
	var srcs []source
	for _, s := range all {
		room := left[s.h.Asset]
		if room == nil || room.Sign() <= 0 {
			continue
		}
		take := minBig(s.available, room)
		room.Sub(room, take)
		srcs = append(srcs, source{h: s.h, available: take})
	}
	gen := func(bps *big.Int) ([]execute.Trade, error) {
		var out []execute.Trade
		for _, s := range srcs {
			part := new(big.Int).Mul(s.available, bps)
			part.Quo(part, big.NewInt(10000))
			amt, err := p.units(s.h.Asset, part)
			if err != nil {
				return nil, err
			}
			if amt.Sign() > 0 {
				out = append(out, execute.Trade{FromVenue: s.h.Venue, FromAsset: s.h.Asset, ToVenue: cfg.Cash.Venue, ToAsset: cfg.Cash.Asset, Amount: amt, Reason: "risk: blend toward low risk"})
			}
		}
		return out, nil
	}
	t, err := p.smallest(big.NewInt(10000), gen, func(rep *Report, strict bool) bool { return p.ok(rep, 2, sel, strict) }, big.NewInt(5))
	if err != nil {
		return err
	}
	if t == nil {
		p.log = append(p.log, "no blend toward low risk restores VaR/stress/collateral")
		return nil
	}
	p.commit(t, "risk: blend toward low risk")
	return nil
}

// keeps says whether rep keeps every limit as it is now: a passing limit still passes with the
// headroom band it had (target, trigger, or no worse), a failing one gets no worse. Targets and
// yield moves must not spend the room the higher priorities made.
func (p *planner) keeps(rep *Report) bool {
	for _, l := range rep.Limits {
		prev, found := p.st.rep.Find(l.ID)
		if !found {
			continue
		}
		if !prev.Pass {
			// Failing and past fixing: a lower priority may not make it worse.
			if worse(l, prev) {
				return false
			}
			continue
		}
		if !l.Pass {
			return false
		}
		ph, pk := prev.HeadroomBps()
		h, k := l.HeadroomBps()
		if !pk || !k {
			continue
		}
		// Keep the room the fixes made: at the target if it was there, else at the trigger if
		// it was there, else no worse. Spending it would only trigger the next cycle again.
		switch cfg := p.r.cfg; {
		case ph >= cfg.TargetHeadroomBps:
			if h < cfg.TargetHeadroomBps {
				return false
			}
		case ph >= cfg.TriggerHeadroomBps:
			if h < cfg.TriggerHeadroomBps {
				return false
			}
		default:
			if h < ph {
				return false
			}
		}
	}
	return true
}

// fixTargets moves each bucket outside its band back toward its target, as far as the limits
// allow.
func (p *planner) fixTargets() error {
	cfg := p.r.cfg
	for _, b := range cfg.Buckets {
		w, err := p.weights(p.st.pf)
		if err != nil {
			return err
		}
		d := w[b.Name] - int64(b.TargetBps)
		if d <= int64(b.BandBps) && -d <= int64(b.BandBps) {
			continue
		}
		nr, err := p.netReserves()
		if err != nil {
			return err
		}
		usd := new(big.Int).Mul(nr, big.NewInt(d))
		usd.Quo(usd, big.NewInt(10000))
		inBucket := map[string]bool{}
		for _, a := range b.Assets {
			inBucket[a] = true
		}
		var gen func(*big.Int) ([]execute.Trade, error)
		max := new(big.Int).Abs(usd)
		if d > 0 { // overweight: sell the bucket into cash (wallet first)
			srcs, err := p.sources(func(pos venues.Position, v *venues.Venue) bool { return inBucket[pos.Asset] })
			if err != nil {
				return err
			}
			sort.SliceStable(srcs, func(i, j int) bool { return srcs[i].h.Venue == cfg.Cash.Venue && srcs[j].h.Venue != cfg.Cash.Venue })
			if inBucket[cfg.Cash.Asset] {
				continue // the cash bucket overweight is fixed by buying the others
			}
			gen = p.drain(srcs, func(Holding) Holding { return cfg.Cash }, "target "+b.Name)
		} else { // underweight: buy the bucket's first asset with cash
			if inBucket[cfg.Cash.Asset] {
				continue // fixed by selling the overweight buckets
			}
			srcs, err := p.sources(func(pos venues.Position, v *venues.Venue) bool {
				return pos.Venue == cfg.Cash.Venue && pos.Asset == cfg.Cash.Asset
			})
			if err != nil {
				return err
			}
			to := Holding{Venue: cfg.Cash.Venue, Asset: b.Assets[0]}
			gen = p.drain(srcs, func(Holding) Holding { return to }, "target "+b.Name)
			max = minBig(max, total(srcs))
		}
		t, err := p.largest(max, gen, p.keeps)
		if err != nil {
			return err
		}
		if t == nil {
			p.log = append(p.log, fmt.Sprintf("bucket %s: no move toward target keeps the limits", b.Name))
			continue
		}
		p.commit(t, "target "+b.Name)
	}
	return nil
}

func (p *planner) netReserves() (*big.Int, error) {
	nr := new(big.Int)
	for _, pos := range p.st.pf.Positions {
		v, err := p.value(pos.Asset, pos.Amount, p.st.pf.Prices)
		if err != nil {
			return nil, err
		}
		nr.Add(nr, v)
	}
	return nr, nil
}

// bucketOf returns the set of assets in asset's bucket (the stables for a stable), nil if none.
func (p *planner) bucketOf(asset string) map[string]bool {
	for _, b := range p.r.cfg.Buckets {
		for _, a := range b.Assets {
			if a == asset {
				set := map[string]bool{}
				for _, x := range b.Assets {
					set[x] = true
				}
				return set
			}
		}
	}
	if p.r.cfg.isStable(asset) {
		set := map[string]bool{}
		for _, x := range p.r.cfg.Stables {
			set[x] = true
		}
		return set
	}
	return nil
}

// helps reports whether draining a slice of srcs (a tenth, at least one step) into dest raises
// the headroom of the limits selected by sel.
func (p *planner) helps(srcs []source, dest func(Holding) Holding, sel func(Limit) bool) (bool, error) {
	tot := total(srcs)
	if tot.Sign() == 0 {
		return false, nil
	}
	probe := new(big.Int).Quo(tot, big.NewInt(10))
	if probe.Cmp(p.step()) < 0 {
		probe = minBig(tot, p.step())
	}
	t, err := p.tryAmount(probe, p.drain(srcs, dest, "probe"))
	if err != nil || t == nil {
		return false, err
	}
	for _, l := range t.rep.Limits {
		if !sel(l) {
			continue
		}
		prev, found := p.st.rep.Find(l.ID)
		if found && l.Headroom != nil && prev.Headroom != nil && l.Headroom.Cmp(prev.Headroom) > 0 {
			return true, nil
		}
	}
	return false, nil
}
