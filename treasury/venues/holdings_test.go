package venues

import (
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/treasury/derivatives"
	"github.com/solvency-dev/solvency/treasury/market"
)

func derivBook(t *testing.T) *Book {
	t.Helper()
	b, err := NewBook([]Venue{
		{ID: "safe", Kind: KindWallet, Group: "self", Tier: TierInstant},
		{ID: "derive", Kind: KindOptions, Group: "derive", Tier: TierInstant, Options: &OptionsVenue{Settlement: "USDC"}},
		{ID: "uniswap-v2", Kind: KindAMM, Group: "uniswap", Tier: TierInstant},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func derivAssets() map[string]market.Asset {
	return map[string]market.Asset{"ETH": {Symbol: "ETH", Decimals: 18}, "USDC": {Symbol: "USDC", Decimals: 6}}
}

const holdingsDoc = `{
  "positions": [{"venue": "safe", "asset": "USDC", "amount": "1000"}],
  "options": [
    {"id": "eth-put-2400", "venue": "derive", "underlying": "ETH", "right": "put", "strike": "2400", "expiry": "2026-12-31T08:00:00Z", "size": "10"},
    {"id": "eth-put-1800", "venue": "derive", "underlying": "ETH", "right": "put", "strike": "1800", "expiry": "2026-12-31T08:00:00Z", "size": "-10"}
  ],
  "pools": [{"id": "eth-usdc", "venue": "uniswap-v2", "assetA": "ETH", "assetB": "USDC", "amountA": "2.5", "amountB": "7500"}]
}`

// The positions document carries options and pool shares; the plain reader refuses such a file
// rather than drop a short option.
func TestLoadHoldingsOptionsAndPools(t *testing.T) {
	p := filepath.Join(t.TempDir(), "positions.json")
	if err := os.WriteFile(p, []byte(holdingsDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	ps, d, err := LoadHoldings(p, derivAssets(), derivBook(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || len(d.Options) != 2 || len(d.Pools) != 1 {
		t.Fatalf("got %d positions, %+v", len(ps), d)
	}
	short := d.Options[0] // sorted by id: eth-put-1800 first
	if short.ID != "eth-put-1800" || short.Strike != 180000000000 || short.Size.String() != "-10000000000000000000" || short.Expiry != 1798704000 {
		t.Fatalf("short put %+v", short)
	}
	if d.Pools[0].AmountA.String() != "2500000000000000000" || d.Pools[0].AmountB.String() != "7500000000" {
		t.Fatalf("pool %+v", d.Pools[0])
	}
	if _, err := LoadPositions(p, derivAssets(), derivBook(t)); err == nil || !strings.Contains(err.Error(), "options or pool shares") {
		t.Fatalf("plain reader: %v", err)
	}
	for name, c := range map[string]struct{ from, to, want string }{
		"option at a wallet": {`"venue": "derive", "underlying": "ETH", "right": "put", "strike": "2400"`, `"venue": "safe", "underlying": "ETH", "right": "put", "strike": "2400"`, "not an options venue"},
		"bad right":          {`"right": "put", "strike": "2400"`, `"right": "straddle", "strike": "2400"`, "right"},
		"repeated id":        {`"id": "eth-put-1800"`, `"id": "eth-put-2400"`, "repeated"},
		"pool one asset":     {`"assetB": "USDC"`, `"assetB": "ETH"`, "two distinct"},
		"negative pool":      {`"amountB": "7500"`, `"amountB": "-1"`, "non-negative"},
		"bad expiry":         {`"2026-12-31T08:00:00Z", "size": "10"`, `"tomorrow", "size": "10"`, "RFC 3339"},
		"zero size":          {`"size": "10"`, `"size": "0"`, "non-zero size"},
		"unknown key":        {`"size": "10"`, `"size": "10", "sise": "1"`, "sise"},
	} {
		doc := strings.Replace(holdingsDoc, c.from, c.to, 1)
		if doc == holdingsDoc {
			t.Fatalf("%s: replacement did not apply", name)
		}
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadHoldings(p, derivAssets(), derivBook(t)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want an error with %q, got %v", name, c.want, err)
		}
	}
}

// At expiry an option pays its intrinsic value in the venue's settlement asset: a long put in
// the money receives (floored), a short put pays (rounded up), an option out of the money pays
// nothing, and an option not yet expired stays.
func TestSettleExpiredIntrinsicInCash(t *testing.T) {
	exp := int64(1_800_000_000)
	eth := func(s string) *big.Int { v, _ := new(big.Int).SetString(s, 10); return v }
	d := Derivatives{Options: []derivatives.Option{
		{ID: "long", Venue: "derive", Underlying: "ETH", Right: derivatives.Put, Strike: 2400_00000000, Expiry: exp, Size: eth("3000000000000000001")},   // 3 ETH + 1 wei
		{ID: "short", Venue: "derive", Underlying: "ETH", Right: derivatives.Put, Strike: 1800_00000000, Expiry: exp, Size: eth("-3000000000000000001")}, // short
		{ID: "otm", Venue: "derive", Underlying: "ETH", Right: derivatives.Call, Strike: 5000_00000000, Expiry: exp, Size: eth("1000000000000000000")},
		{ID: "later", Venue: "derive", Underlying: "ETH", Right: derivatives.Put, Strike: 2400_00000000, Expiry: exp + 1, Size: eth("1000000000000000000")},
	}, Pools: []derivatives.PoolShare{{ID: "p", Venue: "uniswap-v2", AssetA: "ETH", AssetB: "USDC", AmountA: big.NewInt(1), AmountB: big.NewInt(1)}}}
	prices := market.Snapshot{Time: exp, Prices: map[string]uint64{"ETH": 1500_00000000, "USDC": 1_00000000}}
	ps, kept, done, err := SettleExpired(nil, d, exp, prices, derivAssets(), derivBook(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 3 || len(kept.Options) != 1 || kept.Options[0].ID != "later" || len(kept.Pools) != 1 {
		t.Fatalf("settled %d, kept %+v", len(done), kept)
	}
	// Long: (2400-1500) * 3.000000000000000001 = 2700.0000000000000009 USDC, floored to 2700.
	// Short: -(1800-1500) * 3.000000000000000001 = -900.0000000000000003, rounded to -900.000001.
	want := map[string]string{"long": "2700000000", "short": "-900000001", "otm": "0"}
	for _, s := range done {
		if s.Amount.String() != want[s.Option.ID] || s.Asset != "USDC" || s.Price != 1500_00000000 {
			t.Errorf("%s settled %v %s at %d, want %s", s.Option.ID, s.Amount, s.Asset, s.Price, want[s.Option.ID])
		}
	}
	if got := ps.Get("derive", "USDC"); got.String() != "1799999999" {
		t.Fatalf("derive USDC %v, want 1799999999", got)
	}
	if err := ps.Validate(derivBook(t)); err != nil {
		t.Fatal(err)
	}
}
