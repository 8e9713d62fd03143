package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Config names a treasury's files; relative paths are relative to the config file's directory.
type Config struct {
	Profile     string         `json:"profile"`               // circuit profile (keys belong to it)
	Policy      string         `json:"policy"`                // governance policy (treasury/policy format)
	Venues      string         `json:"venues"`                // venue book (treasury/venues)
	Positions   string         `json:"positions"`             // initial holdings
	Rebalance   string         `json:"rebalance"`             // rebalancer configuration
	Executor    string         `json:"executor"`              // simulated executor configuration
	AddressBook string         `json:"addressBook,omitempty"` // for the Safe batch export
	Market      string         `json:"market"`                // seeded synthetic market
	Accounts    AccountsConfig `json:"accounts"`
	// MarketOffset is the market step of cycle 0; cycle c reads step MarketOffset + c.
	MarketOffset int `json:"marketOffset,omitempty"`
	// SnapshotEpoch is the liabilities snapshot's epoch (one snapshot serves every cycle of a run).
	SnapshotEpoch uint64 `json:"snapshotEpoch"`
	// BundleURL is the http(s) base URL the bundles are served under (BundleURL/bundles/DIGEST/,
	// as 'solvency serve' serves them); the registry records each bundle there. Empty: a file://
	// URI, which only this machine can open.
	BundleURL string `json:"bundleUrl,omitempty"`

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

// LoadConfig reads a config file strictly.
func LoadConfig(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
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
		"positions": c.Positions, "rebalance": c.Rebalance, "executor": c.Executor, "market": c.Market} {
		if v == "" {
			return fmt.Errorf("field %q is required", name)
		}
	}
	if c.BundleURL != "" {
		if err := CheckBundleURL(c.BundleURL); err != nil {
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
