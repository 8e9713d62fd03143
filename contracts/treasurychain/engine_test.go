package treasurychain

import (
	"context"
	"math/big"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/treasury/execute"
)

// TestEngineTradesExecuteThroughSafe: the rebalancer's trades (vault to vault across assets,
// Safe to vault, vault to Safe) become withdraw / swap / deposit steps and execute through the
// Safe with the positions checked; a trade into the perpetual venue is refused by name.
func TestEngineTradesExecuteThroughSafe(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	trades := []execute.Trade{
		{FromVenue: "aave-v3-usdc", FromAsset: "USDC", ToVenue: "aave-v3-dai", ToAsset: "DAI", Amount: units(250_000, 6)},
		{FromVenue: "safe", FromAsset: "USDC", ToVenue: "compound-v3-usdc", ToAsset: "USDC", Amount: units(50_000, 6)},
		{FromVenue: "aave-v3-usdt", FromAsset: "USDT", ToVenue: "safe", ToAsset: "USDT", Amount: units(10_000, 6)},
	}
	steps, err := EngineTrades(e.d, trades, func(t execute.Trade) *big.Int {
		// 1% below par for the stablecoin pools: USDC (6 decimals) to DAI (18).
		return new(big.Int).Mul(new(big.Int).Quo(new(big.Int).Mul(t.Amount, big.NewInt(99)), big.NewInt(100)), big.NewInt(1_000_000_000_000))
	})
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{}
	for _, s := range steps {
		kinds = append(kinds, string(s.Kind))
	}
	if got := strings.Join(kinds, ","); got != "withdraw,swap,deposit,deposit,withdraw" {
		t.Fatalf("steps %s", got)
	}
	ex, err := NewExecutor(e.chain, e.d, e.owners)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := ex.Plan(ctx, steps)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ex.Execute(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	dai := res.After.Amount("aave-v3-dai", "DAI")
	if dai.Cmp(units(6_000_000+247_000, 18)) < 0 || dai.Cmp(units(6_000_000+250_000, 18)) > 0 {
		t.Errorf("aave-v3-dai after: %s", dai)
	}
	if _, err := EngineTrades(e.d, []execute.Trade{{FromVenue: "safe", FromAsset: "USDC", ToVenue: "gmx", ToAsset: "USDC", Amount: big.NewInt(1)}}, nil); err == nil ||
		!strings.Contains(err.Error(), "venue gmx has no contract") {
		t.Errorf("perp trade: %v", err)
	}
}
