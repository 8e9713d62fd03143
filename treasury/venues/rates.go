package venues

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/solvency-dev/solvency/treasury/market"
)

// WAD returns 10^18, the fixed-point unit of rates (per year) and exchange rates. A function,
// not a shared *big.Int, so no caller can change it by accident.
func WAD() *big.Int { return big.NewInt(1_000_000_000_000_000_000) }

// bpsToWad() returns 10^14: one basis point in WAD().
func bpsToWad() *big.Int { return big.NewInt(100_000_000_000_000) }

// RateModel is the usual two-slope ("kinked") interest-rate model of Aave and Compound: the
// borrow rate rises gently with utilisation up to the kink, then steeply, to pull utilisation
// back below the kink. All fields are annual basis points.
type RateModel struct {
	BaseBps          uint32 `json:"baseBps"`
	Slope1Bps        uint32 `json:"slope1Bps"`
	Slope2Bps        uint32 `json:"slope2Bps"`
	KinkBps          uint32 `json:"kinkBps"`
	ReserveFactorBps uint32 `json:"reserveFactorBps"`
}

// LendingPool is one asset's market at a lending protocol. Supply and Borrows are the pool's
// totals (every lender and borrower, the treasury included), in the asset's units.
type LendingPool struct {
	Asset   string    `json:"asset"`
	Supply  *big.Int  `json:"supply"`
	Borrows *big.Int  `json:"borrows"`
	Model   RateModel `json:"model"`
}

func (l *LendingPool) validate() error {
	if l.Asset == "" || l.Supply == nil || l.Borrows == nil {
		return errors.New("lending pool needs an asset, a supply and borrows")
	}
	if l.Supply.Sign() < 0 || l.Borrows.Sign() < 0 || l.Borrows.Cmp(l.Supply) > 0 {
		return fmt.Errorf("lending pool %s has borrows %v above supply %v or a negative total", l.Asset, l.Borrows, l.Supply)
	}
	m := l.Model
	if m.KinkBps == 0 || m.KinkBps >= 10000 || m.ReserveFactorBps > 10000 {
		return fmt.Errorf("lending pool %s: kink must be in (0, 10000) bps and reserve factor at most 10000", l.Asset)
	}
	return nil
}

// Available is the liquidity a lender can withdraw now: supply minus borrows. At 100%
// utilisation it is zero, however much the treasury has supplied.
func (l *LendingPool) Available() *big.Int {
	a := new(big.Int).Sub(l.Supply, l.Borrows)
	if a.Sign() < 0 {
		return new(big.Int)
	}
	return a
}

// Utilisation returns borrows/supply in WAD() (0 for an empty pool, at most WAD()).
func (l *LendingPool) Utilisation() *big.Int {
	return utilisation(l.Supply, l.Borrows)
}

func utilisation(supply, borrows *big.Int) *big.Int {
	if supply.Sign() <= 0 {
		return new(big.Int)
	}
	u := new(big.Int).Mul(borrows, WAD())
	u.Quo(u, supply)
	if u.Cmp(WAD()) > 0 {
		u.Set(WAD())
	}
	return u
}

// BorrowRate returns the annual borrow rate in WAD() at utilisation u (WAD()).
func (m RateModel) BorrowRate(u *big.Int) *big.Int {
	kink := new(big.Int).Mul(big.NewInt(int64(m.KinkBps)), bpsToWad())
	r := new(big.Int).Mul(big.NewInt(int64(m.BaseBps)), bpsToWad())
	s1 := new(big.Int).Mul(big.NewInt(int64(m.Slope1Bps)), bpsToWad())
	if u.Cmp(kink) <= 0 {
		t := new(big.Int).Mul(s1, u)
		return r.Add(r, t.Quo(t, kink))
	}
	r.Add(r, s1)
	over := new(big.Int).Sub(u, kink)
	t := new(big.Int).Mul(new(big.Int).Mul(big.NewInt(int64(m.Slope2Bps)), bpsToWad()), over)
	return r.Add(r, t.Quo(t, new(big.Int).Sub(WAD(), kink)))
}

// SupplyRate returns the annual supply rate in WAD() at utilisation u: what borrowers pay, spread
// over all supply, less the protocol's reserve factor.
func (m RateModel) SupplyRate(u *big.Int) *big.Int {
	r := new(big.Int).Mul(m.BorrowRate(u), u)
	r.Quo(r, WAD())
	r.Mul(r, big.NewInt(int64(10000-m.ReserveFactorBps)))
	return r.Quo(r, big.NewInt(10000))
}

// SupplyRate is the pool's current supply rate (WAD(), annual).
func (l *LendingPool) SupplyRate() *big.Int { return l.Model.SupplyRate(l.Utilisation()) }

// BorrowRate is the pool's current borrow rate (WAD(), annual).
func (l *LendingPool) BorrowRate() *big.Int { return l.Model.BorrowRate(l.Utilisation()) }

// SupplyRateAfter returns the supply rate once delta more is supplied (negative: withdrawn).
// The rebalancer equalises these post-move rates across pools.
func (l *LendingPool) SupplyRateAfter(delta *big.Int) *big.Int {
	s := new(big.Int).Add(l.Supply, delta)
	if s.Sign() <= 0 {
		return l.Model.SupplyRate(WAD())
	}
	return l.Model.SupplyRate(utilisation(s, l.Borrows))
}

// Deposit adds amount to the pool's supply.
func (l *LendingPool) Deposit(amount *big.Int) error {
	if amount.Sign() < 0 {
		return errors.New("deposit of a negative amount")
	}
	l.Supply.Add(l.Supply, amount)
	return nil
}

// Withdraw removes amount from supply, refusing more than the free liquidity.
func (l *LendingPool) Withdraw(amount *big.Int) error {
	if amount.Sign() < 0 {
		return errors.New("withdrawal of a negative amount")
	}
	if amount.Cmp(l.Available()) > 0 {
		return fmt.Errorf("withdraw %v %s: only %v available (utilisation %s%%)", amount, l.Asset, l.Available(), pct(l.Utilisation()))
	}
	l.Supply.Sub(l.Supply, amount)
	return nil
}

func pct(wad *big.Int) string {
	v := new(big.Int).Mul(wad, big.NewInt(10000))
	v.Quo(v, WAD())
	return fmt.Sprintf("%d.%02d", v.Int64()/100, v.Int64()%100)
}

// accrue grows borrows by the borrow interest over dt seconds and supply by the part that goes
// to lenders; it returns the supply and borrow rates used, for the treasury's own accrual.
func (l *LendingPool) accrue(dt int64) (*big.Int, *big.Int) {
	u := l.Utilisation()
	br := l.Model.BorrowRate(u)
	sr := l.Model.SupplyRate(u)
	interest := new(big.Int).Mul(l.Borrows, br)
	interest.Mul(interest, big.NewInt(dt))
	interest.Quo(interest, new(big.Int).Mul(WAD(), big.NewInt(SecondsPerYear)))
	l.Borrows.Add(l.Borrows, interest)
	toLenders := new(big.Int).Mul(interest, big.NewInt(int64(10000-l.Model.ReserveFactorBps)))
	l.Supply.Add(l.Supply, toLenders.Quo(toLenders, big.NewInt(10000)))
	return sr, br
}

// Staking is a liquid-staking venue: the treasury holds the staked token (stETH) whose value
// tracks the underlying (ETH). A rebasing token's balance grows by the yield; a non-rebasing one
// (wstETH) keeps its balance and its exchange rate grows instead.
type Staking struct {
	Asset      string `json:"asset"`
	Underlying string `json:"underlying"`
	AprBps     uint32 `json:"aprBps"`
	Rebasing   bool   `json:"rebasing"`
	// ExchangeRate is underlying per staked token, in WAD().
	ExchangeRate *big.Int `json:"exchangeRate"`
}

// Perp is a perpetual-futures venue holding a short of Underlying, margined in Margin. Funding
// is annual basis points: positive means longs pay shorts (the usual state in a bull market, and
// the yield of a hedge), negative that the short pays.
type Perp struct {
	Underlying    string `json:"underlying"`
	Margin        string `json:"margin"`
	FundingAprBps int64  `json:"fundingAprBps"`
	// FeeBps is the venue's fee on the notional a resize opens or closes, paid from margin.
	FeeBps int64 `json:"feeBps,omitempty"`
	// DepthUSD (8 decimals) sets the price impact of a resize: a tranche of notional N moves
	// the fill by N/DepthUSD (in bps, N*10000/DepthUSD). Nil: no impact beyond the fee.
	DepthUSD *big.Int `json:"depthUsd,omitempty"`
}

// OptionsVenue is where European options sit. They settle in cash: at expiry an option's
// intrinsic value is paid in Settlement (see SettleExpired).
type OptionsVenue struct {
	Settlement string `json:"settlement"`
}

// Accrual is one integer change a cycle's accrual made to a position.
type Accrual struct {
	Venue  string   `json:"venue"`
	Asset  string   `json:"asset"`
	Delta  *big.Int `json:"delta"`
	Reason string   `json:"reason"`
}

// Accrue advances the book and the positions by dt seconds: lending interest (pool totals and
// the treasury's supply), staking yield, and perpetual funding settled into margin at snapshot
// prices. Every change is floored toward minus infinity, so the treasury never credits itself
// a fraction it did not earn. It returns new positions; the book's pool state is updated in
// place.
func (b *Book) Accrue(ps Positions, dt int64, assets map[string]market.Asset, prices market.Snapshot) (Positions, []Accrual, error) {
	if dt < 0 {
		return nil, nil, errors.New("accrue over a negative time")
	}
	out := ps.Clone()
	var log []Accrual
	year := new(big.Int).Mul(WAD(), big.NewInt(SecondsPerYear))
	floorDiv := func(n, d *big.Int) *big.Int {
		return new(big.Int).Div(n, d) // Euclidean division: the floor, for a positive d
	}
	for i := range b.Venues {
		v := &b.Venues[i]
		switch v.Kind {
		case KindLending:
			sr, br := v.Lending.accrue(dt)
			for j := range out {
				p := &out[j]
				if p.Venue != v.ID || p.Asset != v.Lending.Asset || p.Amount.Sign() == 0 {
					continue
				}
				// A supply earns the supply rate; a borrow (negative) owes the borrow rate. The
				// floor toward minus infinity rounds both against the treasury.
				rate, why := sr, "supply interest"
				if p.Amount.Sign() < 0 {
					rate, why = br, "borrow interest"
				}
				d := new(big.Int).Mul(p.Amount, rate)
				d = floorDiv(d.Mul(d, big.NewInt(dt)), year)
				if d.Sign() != 0 {
					p.Amount.Add(p.Amount, d)
					log = append(log, Accrual{Venue: v.ID, Asset: p.Asset, Delta: d, Reason: why})
				}
			}
		case KindStaking:
			rate := new(big.Int).Mul(big.NewInt(int64(v.Staking.AprBps)), bpsToWad())
			if !v.Staking.Rebasing {
				g := new(big.Int).Mul(v.Staking.ExchangeRate, rate)
				v.Staking.ExchangeRate.Add(v.Staking.ExchangeRate, floorDiv(g.Mul(g, big.NewInt(dt)), year))
				continue
			}
			for j := range out {
				p := &out[j]
				if p.Venue != v.ID || p.Asset != v.Staking.Asset || p.Amount.Sign() <= 0 {
					continue
				}
				d := new(big.Int).Mul(p.Amount, rate)
				d = floorDiv(d.Mul(d, big.NewInt(dt)), year)
				if d.Sign() != 0 {
					p.Amount.Add(p.Amount, d)
					log = append(log, Accrual{Venue: v.ID, Asset: p.Asset, Delta: d, Reason: "staking rebase"})
				}
			}
		case KindPerp:
			short := out.Get(v.ID, v.Perp.Underlying)
			if short.Sign() >= 0 || v.Perp.FundingAprBps == 0 {
				continue
			}
			ua, ok1 := assets[v.Perp.Underlying]
			ma, ok2 := assets[v.Perp.Margin]
			if !ok1 || !ok2 {
				return nil, nil, fmt.Errorf("perp %s: unknown asset %s or %s", v.ID, v.Perp.Underlying, v.Perp.Margin)
			}
			up, err := prices.Price(v.Perp.Underlying)
			if err != nil {
				return nil, nil, fmt.Errorf("perp %s funding: %w", v.ID, err)
			}
			mp, err := prices.Price(v.Perp.Margin)
			if err != nil {
				return nil, nil, fmt.Errorf("perp %s funding: %w", v.ID, err)
			}
			notional := market.Value(new(big.Int).Neg(short), ua.Decimals, up) // USD 8 decimals
			// funding (USD) = notional · bps/10000 · dt/year; shorts receive positive funding.
			f := new(big.Int).Mul(notional, big.NewInt(v.Perp.FundingAprBps))
			f.Mul(f, big.NewInt(dt))
			f = floorDiv(f, big.NewInt(10000*SecondsPerYear))
			// Convert USD into margin units, floored toward minus infinity (a payment rounds up).
			amt := new(big.Int).Mul(f, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(ma.Decimals)), nil))
			amt = floorDiv(amt, new(big.Int).SetUint64(mp))
			if amt.Sign() != 0 {
				out = out.Add(v.ID, v.Perp.Margin, amt)
				log = append(log, Accrual{Venue: v.ID, Asset: v.Perp.Margin, Delta: amt, Reason: "perp funding"})
			}
		}
	}
	return out.Canonical(), log, nil
}
