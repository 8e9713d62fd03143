package treasurychain

import (
	"math/big"

	"github.com/ethereum/go-ethereum/common"
)

// units returns whole * 10^decimals.
func units(whole int64, decimals uint8) *big.Int {
	return new(big.Int).Mul(big.NewInt(whole), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil))
}

// SampleSpec is the on-chain part of the sample treasury (treasury/sample/files/positions.json):
// ETH, stETH, WBTC and USDC in the Safe, and the lending positions as ERC-4626 vaults named
// after the sample's venues (aave-v3-usdc, compound-v3-usdc, aave-v3-dai, aave-v3-usdt), with
// Uniswap V2 pools between the stablecoins and WBTC/USDC for the rebalancer's swaps. The sample's
// perpetual position (gmx) and custodian (coinbase-prime) have no contract here: they stay off
// chain and are checked with observed balances.
func SampleSpec(owners []common.Address, threshold int) Spec {
	return Spec{
		Assets: []Asset{
			{Symbol: "ETH", Decimals: 18, Native: true},
			{Symbol: "STETH", Decimals: 18},
			{Symbol: "WBTC", Decimals: 8},
			{Symbol: "USDC", Decimals: 6},
			{Symbol: "USDT", Decimals: 6},
			{Symbol: "DAI", Decimals: 18},
		},
		Vaults: []Vault{
			{Venue: "aave-v3-usdc", Asset: "USDC"},
			{Venue: "compound-v3-usdc", Asset: "USDC"},
			{Venue: "aave-v3-dai", Asset: "DAI"},
			{Venue: "aave-v3-usdt", Asset: "USDT"},
		},
		Pools: []Pool{
			{A: "USDC", B: "DAI", ReserveA: units(50_000_000, 6), ReserveB: units(50_000_000, 18)},
			{A: "USDC", B: "USDT", ReserveA: units(50_000_000, 6), ReserveB: units(50_000_000, 6)},
			{A: "WBTC", B: "USDC", ReserveA: units(500, 8), ReserveB: units(32_500_000, 6)},
		},
		Owners:    owners,
		Threshold: threshold,
		Holdings: []Holding{
			{Venue: DefaultSafeVenue, Asset: "ETH", Amount: units(8000, 18)},
			{Venue: DefaultSafeVenue, Asset: "STETH", Amount: units(9000, 18)},
			{Venue: DefaultSafeVenue, Asset: "WBTC", Amount: units(100, 8)},
			{Venue: DefaultSafeVenue, Asset: "USDC", Amount: units(10_000_000, 6)},
			{Venue: "aave-v3-usdc", Asset: "USDC", Amount: units(12_000_000, 6)},
			{Venue: "compound-v3-usdc", Asset: "USDC", Amount: units(8_000_000, 6)},
			{Venue: "aave-v3-dai", Asset: "DAI", Amount: units(6_000_000, 18)},
			{Venue: "aave-v3-usdt", Asset: "USDT", Amount: units(4_000_000, 6)},
		},
	}
}
