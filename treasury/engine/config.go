package engine

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
)

// Config names a treasury's files; relative paths are relative to the config file's directory.
type Config struct {
	Profile     string `json:"profile"`               // circuit profile (keys belong to it)
	Policy      string `json:"policy"`                // governance policy (treasury/policy format)
	Venues      string `json:"venues"`                // venue book (treasury/venues)
	Positions   string `json:"positions"`             // initial holdings
	Rebalance   string `json:"rebalance"`             // rebalancer configuration
	Executor    string `json:"executor"`              // simulated executor configuration
	AddressBook string `json:"addressBook,omitempty"` // for the Safe batch export
	Market      string `json:"market,omitempty"`      // seeded synthetic market
	// Prices, instead of Market, is a price file (treasury/market's JSON or CSV snapshot
	// format): cycle c takes the snapshot whose cycle is c.
	Prices   string         `json:"prices,omitempty"`
	Accounts AccountsConfig `json:"accounts"`
	// Forecast, when set, gives the rebalancer a risk budget of its own, from the seeded
	// market's predictive volatility. It is advisory: the proof checks only the policy.
	Forecast *ForecastConfig `json:"forecast,omitempty"`
	// Greeks prices the options and pool shares (see GreeksConfig); nil: defaults.
	Greeks *GreeksConfig `json:"greeks,omitempty"`
	// MarketOffset is the market step of cycle 0; cycle c reads step MarketOffset + c.
	MarketOffset int `json:"marketOffset,omitempty"`
	// SnapshotEpoch is the liabilities snapshot's epoch (one snapshot serves every cycle of a run).
	SnapshotEpoch uint64 `json:"snapshotEpoch"`
	// BundleURL is the http(s) base URL the bundles are served under (BundleURL/bundles/DIGEST/,
	// as 'solvency serve' serves them); the registry records each bundle there. Empty: a file://
	// URI, which only this machine can open.
	BundleURL string `json:"bundleUrl,omitempty"`
	// Onchain, when set, names the on-chain configuration (OnchainFile): the treasury's reserves
	// are then read from the chain and its trades executed through its Safe.
	Onchain string `json:"onchain,omitempty"`

	dir string
}

// AccountsConfig says where the liabilities snapshot's accounts come from: a CSV file, or a
// seeded generator.
type AccountsConfig struct {
	CSV   string `json:"csv,omitempty"`
	Users int    `json:"users,omitempty"`
	Seed  uint64 `json:"seed,omitempty"`
	// ScaleTo, with Users, names a liability totals file (symbol -> decimal amount): generated
	// balances are scaled so that each asset's total comes to (at most) that amount, sizing the
	// generated users' claims to the sample treasury.
	ScaleTo string `json:"scaleTo,omitempty"`
}

// ForecastConfig bounds the forecast Value-at-Risk of the treasury's net equity (reserves less
// liabilities, at market value): a parametric VaR under the EWMA covariance of the log returns
// the seeded market has shown up to the cycle's step. When volatility spikes the rebalancer
// blends toward low risk before the policy's own VaR limit is at stake.
type ForecastConfig struct {
	Confidence  float64 `json:"confidence"`  // in (0.5, 1), e.g. 0.99
	HorizonDays float64 `json:"horizonDays"` // > 0
	MaxBps      int64   `json:"maxBps"`      // the VaR budget, basis points of net equity
	// Window is how many recent returns the covariance weighs (default 120); Lambda its
	// decay (default 0.94, RiskMetrics' daily value).
	Window int     `json:"window,omitempty"`
	Lambda float64 `json:"lambda,omitempty"`
	// Model is the volatility forecast: "ewma" (the default: the EWMA covariance) or "garch"
	// (a GARCH(1,1) per asset, fitted by maximum likelihood, over the horizon, with EWMA
	// correlations).
	Model string `json:"model,omitempty"`
}

// LoadConfig reads a config file strictly (see jsonstrict): fields marked omitempty may be left
// out (their zero value is their default); unknown, duplicate and case-variant keys, null and
// trailing data are errors.
func LoadConfig(path string) (*Config, error) {
	raw, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return nil, fmt.Errorf("run config: %w", err)
	}
	var c Config
	if err := jsonstrict.Unmarshal(path, raw, &c); err != nil {
		return nil, fmt.Errorf("run config: %w", err)
	}
	c.dir = filepath.Dir(path)
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

// Validate checks that every required file is named.
func (c *Config) Validate() error {
	for name, v := range map[string]string{"profile": c.Profile, "policy": c.Policy, "venues": c.Venues,
		"positions": c.Positions, "rebalance": c.Rebalance, "executor": c.Executor} {
		if v == "" {
			return fmt.Errorf("field %q is required", name)
		}
	}
	if (c.Market == "") == (c.Prices == "") {
		return errors.New(`give either "market" (a seeded market) or "prices" (a price file)`)
	}
	if c.Forecast != nil && c.Market == "" {
		return errors.New(`field "forecast" reads the seeded market's history: it needs "market", not "prices"`)
	}
	if c.BundleURL != "" {
		if err := contracts.CheckBundleURL(c.BundleURL); err != nil {
			return fmt.Errorf(`field "bundleUrl": %w`, err)
		}
	}
	if (c.Accounts.CSV == "") == (c.Accounts.Users == 0) {
		return errors.New(`field "accounts": give either "csv" or "users"`)
	}
	return nil
}

// Path resolves a config-relative path.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}
