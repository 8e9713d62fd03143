// Package execute turns a rebalancing plan into fills. The default executor simulates each swap
// against a constant-product (x·y = k) pool with a fee, in tranches bounded by a minimum size and
// a slippage budget, and moves same-asset balances between venues subject to their liquidity. A
// cycle's trades can also be exported as a Safe Transaction Builder batch for a multisig to
// execute for real.
package execute

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/solvency-dev/solvency/treasury/market"
)

// PoolSpec is a constant-product pool between two assets. Its depth is given in USD per side
// (8 decimals) rather than in token reserves, because the simulator re-centres every pool on the
// oracle price at the start of a cycle: arbitrageurs keep real pools near the oracle, and a pool
// held at a stale price would hand the simulated treasury free money or free losses.
type PoolSpec struct {
	A        string   `json:"a"`
	B        string   `json:"b"`
	DepthUSD *big.Int `json:"depthUsd"`
	FeeBps   uint32   `json:"feeBps"`
}

// pool is a pool's live reserves during one cycle.
type pool struct {
	spec   PoolSpec
	ra, rb *big.Int
}

func newPool(spec PoolSpec, assets map[string]market.Asset, prices market.Snapshot) (*pool, error) {
	if spec.DepthUSD == nil || spec.DepthUSD.Sign() <= 0 {
		return nil, fmt.Errorf("pool %s/%s has no depth", spec.A, spec.B)
	}
	if spec.FeeBps >= 10000 {
		return nil, fmt.Errorf("pool %s/%s fee %d bps is 100%% or more", spec.A, spec.B, spec.FeeBps)
	}
	reserve := func(sym string) (*big.Int, error) {
		a, ok := assets[sym]
		if !ok {
			return nil, fmt.Errorf("pool %s/%s: unknown asset %s", spec.A, spec.B, sym)
		}
		p, err := prices.Price(sym)
		if err != nil {
			return nil, err
		}
		r, err := market.AmountFor(spec.DepthUSD, a.Decimals, p)
		if err != nil {
			return nil, err
		}
		if r.Sign() <= 0 {
			return nil, fmt.Errorf("pool %s/%s: empty %s reserve", spec.A, spec.B, sym)
		}
		return r, nil
	}
	ra, err := reserve(spec.A)
	if err != nil {
		return nil, err
	}
	rb, err := reserve(spec.B)
	if err != nil {
		return nil, err
	}
	return &pool{spec: spec, ra: ra, rb: rb}, nil
}

// out returns the amount of the other asset a swap of in units of sell receives:
// out = y·in' / (x + in') with in' = in·(1 - fee), floored (the pool keeps the dust).
func (p *pool) out(sell string, in *big.Int) (*big.Int, error) {
	x, y, err := p.sides(sell)
	if err != nil {
		return nil, err
	}
	inEff := new(big.Int).Mul(in, big.NewInt(int64(10000-p.spec.FeeBps)))
	inEff.Quo(inEff, big.NewInt(10000))
	num := new(big.Int).Mul(y, inEff)
	den := new(big.Int).Add(x, inEff)
	if den.Sign() == 0 {
		return nil, errors.New("empty pool")
	}
	return num.Quo(num, den), nil
}

// apply moves the reserves by a swap of in for out.
func (p *pool) apply(sell string, in, out *big.Int) {
	if sell == p.spec.A {
		p.ra.Add(p.ra, in)
		p.rb.Sub(p.rb, out)
	} else {
		p.rb.Add(p.rb, in)
		p.ra.Sub(p.ra, out)
	}
}

func (p *pool) sides(sell string) (x, y *big.Int, err error) {
	switch sell {
	case p.spec.A:
		return p.ra, p.rb, nil
	case p.spec.B:
		return p.rb, p.ra, nil
	}
	return nil, nil, fmt.Errorf("pool %s/%s does not trade %s", p.spec.A, p.spec.B, sell)
}

func (p *pool) clone() *pool {
	return &pool{spec: p.spec, ra: new(big.Int).Set(p.ra), rb: new(big.Int).Set(p.rb)}
}

func pairKey(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return a + "/" + b
}
