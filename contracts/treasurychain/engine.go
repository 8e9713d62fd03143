package treasurychain

import (
	"fmt"
	"math/big"

	"github.com/solvency-dev/solvency/treasury/execute"
)

// EngineTrades turns the rebalancer's trades (treasury/execute.Trade: move Amount of FromAsset,
// in its base units, out of FromVenue and deliver what it buys of ToAsset into ToVenue) into
// the Safe's steps on this deployment: a withdrawal when the source is a vault, a swap on the
// pair when the assets differ, a deposit when the destination is a vault (of the swap's whole
// output after a swap). minOut gives each swap's least accepted output (the oracle-fair amount
// less the slippage budget); nil accepts whatever the pool pays. A venue with no contract here
// (a perpetual, a custodian) is an error naming it: such a trade is not the Safe's to make.
func EngineTrades(d *Deployment, trades []execute.Trade, minOut func(execute.Trade) *big.Int) ([]Trade, error) {
	var out []Trade
	for i, t := range trades {
		if t.Amount == nil || t.Amount.Sign() <= 0 {
			return nil, fmt.Errorf("trade %d (%s): amount must be positive", i, t)
		}
		for _, v := range []struct{ venue, asset string }{{t.FromVenue, t.FromAsset}, {t.ToVenue, t.ToAsset}} {
			if v.venue == d.SafeVenue {
				continue
			}
			vault, ok := d.Vault(v.venue)
			if !ok {
				return nil, fmt.Errorf("trade %d (%s): venue %s has no contract on chain %d; move funds there by hand", i, t, v.venue, d.ChainID)
			}
			if vault.Asset != v.asset {
				return nil, fmt.Errorf("trade %d (%s): vault %s holds %s, not %s", i, t, v.venue, vault.Asset, v.asset)
			}
		}
		swapped := t.FromAsset != t.ToAsset
		if t.FromVenue == t.ToVenue && !swapped {
			return nil, fmt.Errorf("trade %d (%s): moves nothing", i, t)
		}
		if t.FromVenue != d.SafeVenue {
			out = append(out, Trade{Kind: TradeWithdraw, Venue: t.FromVenue, Asset: t.FromAsset, Amount: new(big.Int).Set(t.Amount)})
		}
		if swapped {
			sw := Trade{Kind: TradeSwap, Asset: t.FromAsset, ToAsset: t.ToAsset, Amount: new(big.Int).Set(t.Amount)}
			if minOut != nil {
				sw.MinOut = minOut(t)
			}
			out = append(out, sw)
		}
		if t.ToVenue != d.SafeVenue {
			dep := Trade{Kind: TradeDeposit, Venue: t.ToVenue, Asset: t.ToAsset, Amount: new(big.Int).Set(t.Amount)}
			if swapped {
				dep.Amount, dep.UseSwapOut = nil, true
			}
			out = append(out, dep)
		}
	}
	return out, nil
}
