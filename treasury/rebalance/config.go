package rebalance

import (
	"errors"
	"fmt"

	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
)

// Holding names one (venue, asset) place.
type Holding struct {
	Venue string `json:"venue"`
	Asset string `json:"asset"`
}

// Bucket is a group of assets with a target weight of net reserves and a band around it
// (governance's 60/40 ETH/stables is two buckets).
type Bucket struct {
	Name      string   `json:"name"`
	Assets    []string `json:"assets"`
	TargetBps uint32   `json:"targetBps"`
	BandBps   uint32   `json:"bandBps"`
}

// Config is the rebalancer's own configuration. The limits themselves are the policy's and are
// judged by the Checker; this says how to move toward them.
type Config struct {
	// Comment is free text for the file's readers; the rebalancer ignores it.
	Comment string   `json:"_comment,omitempty"`
	Buckets []Bucket `json:"buckets"`
	// Stables are the runway assets: what the liquidity floor is met with and what the yield
	// step lends out.
	Stables []string `json:"stables"`
	// Cash is where liquidity is raised into and where blending toward low risk ends: a stable
	// in the wallet.
	Cash Holding `json:"cash"`
	// Lending lists the lending venues the yield step may spread stables across.
	Lending []string `json:"lending"`
	// TriggerHeadroomBps: a limit whose relative headroom falls below this triggers a
	// rebalance; TargetHeadroomBps is the headroom a fix aims for (at least the trigger).
	TriggerHeadroomBps int64 `json:"triggerHeadroomBps"`
	TargetHeadroomBps  int64 `json:"targetHeadroomBps"`
	// MinYieldGainBps skips the yield step when it would raise the stable book's average supply
	// rate by less than this (annual bps): not worth the gas.
	MinYieldGainBps int64 `json:"minYieldGainBps"`
	// YieldPaybackDays: the yield step's extra interest must repay its fees and price impact
	// within this many days (default 30).
	YieldPaybackDays int64 `json:"yieldPaybackDays,omitempty"`
	// MaxUtilisationBps keeps the yield step from lending into a pool whose utilisation is above
	// it (default 9500): a pool near 100% pays the most and is the one whose liquidity can vanish.
	MaxUtilisationBps uint32 `json:"maxUtilisationBps,omitempty"`
	// MaxSteps bounds the number of phase iterations, a guard against a checker that never
	// settles.
	MaxSteps int `json:"maxSteps,omitempty"`
	// Hedge says how the perpetual hedges are resized to keep delta in its bands (defaults
	// when absent; the bands themselves are the policy's).
	Hedge *HedgeConfig `json:"hedge,omitempty"`
}

// HedgeConfig prices a perpetual hedge resize. A resize whose cost per dollar of notional
// (fee, price impact, and the funding it pays or forgoes over HorizonDays) is at most
// MaxCostBps re-centres delta; a dearer one moves delta only to the band's edge, less
// EdgeMarginBps of the band.
type HedgeConfig struct {
	HorizonDays   int64 `json:"horizonDays,omitempty"`   // default 7
	MaxCostBps    int64 `json:"maxCostBps,omitempty"`    // default 15
	EdgeMarginBps int64 `json:"edgeMarginBps,omitempty"` // default: targetHeadroomBps, at least 100
}

func (c *Config) hedge() HedgeConfig {
	// The edge's margin defaults to the headroom every fix aims for, so that a resize to the
	// edge does not trigger the next cycle again.
	h := HedgeConfig{HorizonDays: 7, MaxCostBps: 15, EdgeMarginBps: max(100, c.TargetHeadroomBps)}
	if c.Hedge != nil {
		if c.Hedge.HorizonDays > 0 {
			h.HorizonDays = c.Hedge.HorizonDays
		}
		if c.Hedge.MaxCostBps > 0 {
			h.MaxCostBps = c.Hedge.MaxCostBps
		}
		if c.Hedge.EdgeMarginBps > 0 {
			h.EdgeMarginBps = c.Hedge.EdgeMarginBps
		}
	}
	return h
}

// Validate checks the configuration's internal consistency.
func (c *Config) Validate() error {
	if c.Cash.Venue == "" || c.Cash.Asset == "" {
		return errors.New("rebalance config: cash holding (venue, asset) is required")
	}
	isStable := map[string]bool{}
	for _, s := range c.Stables {
		isStable[s] = true
	}
	if !isStable[c.Cash.Asset] {
		return fmt.Errorf("rebalance config: cash asset %s is not in stables", c.Cash.Asset)
	}
	var total uint32
	seen := map[string]bool{}
	for _, b := range c.Buckets {
		if b.TargetBps > 10000 || b.BandBps > 10000 {
			return fmt.Errorf("rebalance config: bucket %s target or band above 10000 bps", b.Name)
		}
		total += b.TargetBps
		for _, a := range b.Assets {
			if seen[a] {
				return fmt.Errorf("rebalance config: asset %s is in two buckets", a)
			}
			seen[a] = true
		}
	}
	if len(c.Buckets) > 0 && total != 10000 {
		return fmt.Errorf("rebalance config: bucket targets sum to %d bps, want 10000", total)
	}
	if h := c.Hedge; h != nil && (h.HorizonDays < 0 || h.MaxCostBps < 0 || h.EdgeMarginBps < 0 || h.EdgeMarginBps >= 10000) {
		return errors.New("rebalance config: hedge needs non-negative horizonDays and maxCostBps, and edgeMarginBps in [0, 10000)")
	}
	if c.TriggerHeadroomBps < 0 || c.TargetHeadroomBps < c.TriggerHeadroomBps {
		return errors.New("rebalance config: need 0 <= triggerHeadroomBps <= targetHeadroomBps")
	}
	return nil
}

// LoadConfig reads a JSON rebalancer configuration strictly (see jsonstrict): every field is
// required but those documented with a default (yieldPaybackDays, maxUtilisationBps,
// maxSteps); a misspelled key is an error that names the field it resembles.
func LoadConfig(path string) (*Config, error) {
	data, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return nil, fmt.Errorf("rebalance config: %w", err)
	}
	var c Config
	if err := jsonstrict.Unmarshal(path, data, &c); err != nil {
		return nil, fmt.Errorf("rebalance config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) isStable(a string) bool {
	for _, s := range c.Stables {
		if s == a {
			return true
		}
	}
	return false
}

func (c *Config) yieldPaybackDays() int64 {
	if c.YieldPaybackDays > 0 {
		return c.YieldPaybackDays
	}
	return 30
}

func (c *Config) maxUtilisationBps() int64 {
	if c.MaxUtilisationBps > 0 {
		return int64(c.MaxUtilisationBps)
	}
	return 9500
}

func (c *Config) maxSteps() int {
	if c.MaxSteps > 0 {
		return c.MaxSteps
	}
	return 24
}
