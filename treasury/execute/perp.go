package execute

import (
	"fmt"
	"math/big"

	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// Perp resize directions (Trade.Perp): a hedge is a short of the underlying at a perpetual
// venue; PerpShort makes it larger by Amount, PerpCover smaller.
const (
	PerpShort = "short"
	PerpCover = "cover"
)

// IsPerpResize reports whether the trade resizes a perpetual hedge rather than moving assets.
func (t Trade) IsPerpResize() bool { return t.Perp != "" }

// perpResize fills a resize of the short at a perpetual venue. The engine holds a short as a
// debt of the underlying beside margin, so a resize moves both at the oracle price: a larger
// short owes Amount more of the underlying and credits its notional to margin (as a borrow
// sold would), a cover repays Amount from margin. Only the cost (the venue's fee plus price
// impact, in USD against the oracle price) changes the position's value; it is paid from
// margin, rounded up. The resize is
// cut into tranches no larger than the maximum tranche and no larger than keeps fee plus impact
// within the slippage budget; each tranche's impact is N/depth of its own notional (the
// venue's skew is taken as rebalanced by other traders between tranches, as arbitrage
// re-centres a pool). A cover stops at a flat position: the venue holds shorts only.
func (r *run) perpResize(book *venues.Book, ps venues.Positions, t Trade) (Fill, venues.Positions, error) {
	v, ok := book.Venue(t.FromVenue)
	if !ok {
		return Fill{}, nil, fmt.Errorf("unknown venue %s", t.FromVenue)
	}
	if v.Kind != venues.KindPerp || t.ToVenue != t.FromVenue || t.FromAsset != v.Perp.Underlying || t.ToAsset != t.FromAsset {
		return Fill{}, nil, fmt.Errorf("a perp resize names one perpetual venue and its underlying, not %s", t)
	}
	if t.Perp != PerpShort && t.Perp != PerpCover {
		return Fill{}, nil, fmt.Errorf("perp resize direction %q, want %q or %q", t.Perp, PerpShort, PerpCover)
	}
	ua, ok1 := r.s.assets[v.Perp.Underlying]
	ma, ok2 := r.s.assets[v.Perp.Margin]
	if !ok1 || !ok2 {
		return Fill{}, nil, fmt.Errorf("perp %s: unknown asset %s or %s", v.ID, v.Perp.Underlying, v.Perp.Margin)
	}
	up, err := r.prices.Price(v.Perp.Underlying)
	if err != nil {
		return Fill{}, nil, err
	}
	mp, err := r.prices.Price(v.Perp.Margin)
	if err != nil {
		return Fill{}, nil, err
	}
	amount, note := new(big.Int).Set(t.Amount), ""
	if t.Perp == PerpCover {
		short := new(big.Int).Neg(ps.Get(v.ID, v.Perp.Underlying))
		if short.Sign() <= 0 {
			return refuse(t, "no short of %s at %s to cover", v.Perp.Underlying, v.ID), ps, nil
		}
		if amount.Cmp(short) > 0 {
			note = fmt.Sprintf("covered the whole short of %v, not %v", short, amount)
			amount = short
		}
	}
	budget := int64(r.s.cfg.SlippageBudgetBps)
	if v.Perp.FeeBps > budget {
		return refuse(t, "the %s fee of %d bps is above the %d bps slippage budget", v.ID, v.Perp.FeeBps, budget), ps, nil
	}
	notional := market.Value(amount, ua.Decimals, up)
	if notional.Cmp(r.s.cfg.MinTrancheUSD) < 0 {
		return refuse(t, "resize of $%s is below the minimum tranche", market.FormatUSD(notional)), ps, nil
	}
	// The largest tranche: the executor's cap, and the notional whose impact fills the budget.
	maxN := new(big.Int).Set(r.s.cfg.MaxTrancheUSD)
	if v.Perp.DepthUSD != nil {
		byBudget := new(big.Int).Mul(v.Perp.DepthUSD, big.NewInt(budget-v.Perp.FeeBps))
		byBudget.Quo(byBudget, big.NewInt(10000))
		if byBudget.Sign() == 0 {
			return refuse(t, "the %d bps slippage budget leaves no room for price impact at %s", budget, v.ID), ps, nil
		}
		maxN = minBig(maxN, byBudget)
	}
	n := new(big.Int).Add(notional, new(big.Int).Sub(maxN, big.NewInt(1)))
	n.Quo(n, maxN)
	size := new(big.Int).Quo(amount, n)
	var tranches []Tranche
	filled, costUSD := new(big.Int), new(big.Int)
	for i := int64(0); i < n.Int64(); i++ {
		in := new(big.Int).Set(size)
		if i == n.Int64()-1 {
			in.Sub(amount, filled)
		}
		tn := market.Value(in, ua.Decimals, up)
		slip := v.Perp.FeeBps
		if v.Perp.DepthUSD != nil {
			imp := new(big.Int).Mul(tn, big.NewInt(10000))
			imp.Add(imp, new(big.Int).Sub(v.Perp.DepthUSD, big.NewInt(1))) // rounded up
			slip += imp.Quo(imp, v.Perp.DepthUSD).Int64()
		}
		c := new(big.Int).Mul(tn, big.NewInt(slip))
		c.Add(c, big.NewInt(9999)) // rounded up: a cost figure should not flatter the fill
		costUSD.Add(costUSD, c.Quo(c, big.NewInt(10000)))
		tranches = append(tranches, Tranche{In: in, Out: new(big.Int).Set(in), MinOut: new(big.Int).Set(in), SlippageBps: slip})
		filled.Add(filled, in)
	}
	// Margin moves by the notional (credited floored, debited rounded up) less the cost,
	// rounded up; the margin must hold what a cover takes.
	one := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(ma.Decimals)), nil)
	mpBig := new(big.Int).SetUint64(mp)
	toMargin := func(usd *big.Int, up bool) *big.Int {
		n := new(big.Int).Mul(usd, one)
		if up {
			n.Add(n, new(big.Int).Sub(mpBig, big.NewInt(1)))
		}
		return n.Quo(n, mpBig)
	}
	notionalFilled := market.Value(filled, ua.Decimals, up)
	change, marginChange := new(big.Int).Neg(filled), toMargin(notionalFilled, false)
	if t.Perp == PerpCover {
		change.Neg(change)
		marginChange = new(big.Int).Neg(toMargin(notionalFilled, true))
	}
	marginChange.Sub(marginChange, toMargin(costUSD, true))
	if margin := ps.Get(v.ID, v.Perp.Margin); new(big.Int).Add(margin, marginChange).Sign() < 0 {
		return refuse(t, "margin of %v %s at %s does not pay for the resize (%v)", margin, v.Perp.Margin, v.ID, marginChange), ps, nil
	}
	next := ps.Add(v.ID, v.Perp.Underlying, change).Add(v.ID, v.Perp.Margin, marginChange)
	st := Filled
	if filled.Cmp(t.Amount) < 0 {
		st = Partial
	}
	return Fill{Trade: t, Status: st, In: filled, Out: new(big.Int).Set(filled), Tranches: tranches, CostUSD: costUSD, Note: note}, next, nil
}
