// Package bench measures the proving pipeline on generated data: a synthetic asset table, an
// accounts snapshot from the liabilities generator, a policy and positions that pass every limit
// it enables, setup, proving every batch and the solvency statement, and verifying the bundle.
// Tests use its generated cycles as fixtures. It sits above both prover and verifier (it runs
// the one and checks its output with the other), so the prover never imports the verifier.
package bench

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"strconv"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/liabilities"
	"github.com/solvency-dev/solvency/prover/profile"
)

// Dataset is one generated cycle's inputs, shaped for a profile.
type Dataset struct {
	Profile     profile.Profile
	Table       *assets.Table
	AccountsCSV []byte // the generator's CSV (deterministic in the seed)
	Accounts    []liabilities.Account
	Totals      []*big.Int // per-asset liability totals, circuit units
	Policy      *solvency.Policy
	Positions   []solvency.Position
	Prices      []bundle.Price
}

// A synthetic asset: symbol, on-chain decimals, circuit precision, USD price with 8 decimals.
type synthAsset struct {
	symbol    string
	decimals  uint8
	precision uint8
	usd8      uint64
}

var synthAssets = [...]synthAsset{
	{"ETH", 18, 8, 3000_00000000}, {"USDC", 6, 6, 1_00000000}, {"WBTC", 8, 8, 65000_00000000},
	{"USDT", 6, 6, 99950000}, {"DAI", 18, 6, 1_00010000}, {"LINK", 18, 6, 14_00000000},
	{"UNI", 18, 6, 8_12345678}, {"STETH", 18, 8, 2995_00000000}, {"AAVE", 18, 6, 150_00000000},
	{"MKR", 18, 6, 1500_00000000}, {"LDO", 18, 6, 2_00000000}, {"ARB", 18, 6, 1_10000000},
	{"OP", 18, 6, 2_50000000}, {"CRV", 18, 6, 50000000}, {"SNX", 18, 6, 3_00000000},
	{"COMP", 18, 6, 60_00000000},
}

// Table returns a synthetic asset table of n assets (1..16), ETH first.
func Table(n int) (*assets.Table, error) {
	if n < 1 || n > len(synthAssets) {
		return nil, fmt.Errorf("assets: %d, want 1 to %d", n, len(synthAssets))
	}
	t := &assets.Table{}
	for _, a := range synthAssets[:n] {
		t.Assets = append(t.Assets, assets.Asset{Symbol: a.symbol, Decimals: a.decimals, Precision: a.precision})
	}
	return t, t.Validate()
}

// Coverage is how many times the generated positions hold each asset's liability total: every
// enabled limit of the generated policy passes with it (collateral 110% after a 10% haircut,
// in-kind coverage per asset, a 30% crash scenario).
const Coverage = 2

// Generate makes a cycle of users accounts for profile p: the generator's accounts (seeded, so
// the same seed gives the same balances), a policy of the profile's shape, prices, and positions
// holding coverage times every asset's liability total (Coverage passes every limit; 0 makes a
// treasury that fails its collateral limit, for tests of the refusal path).
func Generate(p profile.Profile, users int, seed uint64, coverage int64) (*Dataset, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if users < 1 {
		return nil, fmt.Errorf("users: %d, want at least 1", users)
	}
	if p.Positions < p.Assets {
		return nil, fmt.Errorf("profile %s: %d position slots cannot hold one position per asset (%d)", p.Name, p.Positions, p.Assets)
	}
	table, err := Table(p.Assets)
	if err != nil {
		return nil, err
	}
	var csv bytes.Buffer
	if err := liabilities.Generate(&csv, table, liabilities.GenerateOptions{Users: users, Seed: seed}); err != nil {
		return nil, err
	}
	ds := &Dataset{Profile: p, Table: table, AccountsCSV: csv.Bytes()}
	if err := liabilities.ParseAccounts(bytes.NewReader(ds.AccountsCSV), "generated.csv", table, func(a liabilities.Account) error {
		ds.Accounts = append(ds.Accounts, a)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("parse generated accounts: %w", err)
	}
	A := table.Len()
	ds.Totals = make([]*big.Int, A)
	for a := range ds.Totals {
		ds.Totals[a] = new(big.Int)
	}
	for _, acc := range ds.Accounts {
		for a, b := range acc.Balances {
			ds.Totals[a].Add(ds.Totals[a], new(big.Int).SetUint64(b))
		}
	}
	ds.Policy = Policy(p, table)
	limit := new(big.Int).Lsh(big.NewInt(1), 64)
	for a := range A {
		amt := new(big.Int).Mul(ds.Totals[a], big.NewInt(coverage))
		if coverage > 0 {
			amt.Add(amt, big.NewInt(1)) // a zero total still gets a (tiny) holding
		}
		if amt.Cmp(limit) >= 0 {
			return nil, fmt.Errorf("asset %s: %d times the liabilities (%s units) does not fit one 64-bit position", table.Assets[a].Symbol, coverage, ds.Totals[a])
		}
		ds.Positions = append(ds.Positions, solvency.Position{Venue: a % p.Venues, Asset: a, Amount: amt})
	}
	for a, s := range synthAssets[:A] {
		ds.Prices = append(ds.Prices, bundle.Price{
			Symbol: s.symbol, Price: s.usd8, Answer: strconv.FormatUint(s.usd8, 10), FeedDecimals: 8,
			Round: strconv.Itoa(1000 + a), UpdatedAt: 1764000000,
		})
	}
	return ds, nil
}

// Policy is a canonical policy of p's shape over table: minimum collateral 110%, a 10% haircut
// and in-kind coverage for every asset, every venue in group a%G at tier 0, the first scenario a
// 30% fall of every asset (the others disabled), no caps, targets, liquidity buffer or VaR.
func Policy(p profile.Profile, table *assets.Table) *solvency.Policy {
	h := poseidon.NewHasher()
	A := table.Len()
	pol := &solvency.Policy{
		ChainID:          31337,
		Registry:         [20]byte{0x5f, 0xbd, 0xb2, 0x31, 0x56, 0x78, 0xaf, 0xec, 0xb3, 0x67, 0xf0, 0x32, 0xd9, 0x3f, 0x64, 0x2f, 0x64, 0x18, 0x0a, 0xa3},
		AssetsHash:       table.Hash(h),
		MinCollateralBps: 11000,
		Assets:           make([]solvency.AssetRule, A),
		Venues:           make([]solvency.Venue, p.Venues),
		GroupCaps:        make([]solvency.Cap, p.VenueGroups),
		Targets:          make([]solvency.Target, p.Buckets),
		Liquidity:        solvency.Liquidity{LiquidTiers: make([]bool, p.LiquidityTiers)},
		Scenarios:        make([]solvency.Scenario, p.Scenarios),
	}
	for a := range pol.Assets {
		pol.Assets[a] = solvency.AssetRule{HaircutBps: 1000, InKind: true}
	}
	for v := range pol.Venues {
		pol.Venues[v] = solvency.Venue{Group: v % p.VenueGroups}
	}
	for k := range pol.Targets {
		pol.Targets[k] = solvency.Target{Assets: make([]bool, A)}
	}
	for s := range pol.Scenarios {
		sc := solvency.Scenario{ShockBps: make([]int32, A)}
		if s == 0 {
			sc.Enabled = true
			for a := range sc.ShockBps {
				sc.ShockBps[a] = -3000
			}
		}
		pol.Scenarios[s] = sc
	}
	pol.VaR.L = make([][]int64, A)
	for i := range pol.VaR.L {
		pol.VaR.L[i] = make([]int64, i+1)
	}
	return pol
}

// Check runs the native twin on the dataset and reports whether every limit passes.
func (ds *Dataset) Check() (*solvency.Report, error) {
	if err := ds.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("generated policy: %w", err)
	}
	prices := make([]uint64, len(ds.Prices))
	for i, p := range ds.Prices {
		prices[i] = p.Price
	}
	rep, err := solvency.Evaluate(&solvency.Inputs{Table: ds.Table, Policy: ds.Policy, Positions: ds.Positions, Prices: prices, Liabilities: ds.Totals})
	if err != nil {
		return nil, err
	}
	if rep == nil {
		return nil, errors.New("the twin returned no report")
	}
	return rep, nil
}
