// Package policy reads the governance policy file: a human-readable JSON document (symbols,
// venue and group names, percentages as basis points, the VaR Cholesky factor as scaled
// integers) that converts to the circuit's canonical solvency.Policy and its hash. Parsing is
// strict: unknown fields, duplicate names and out-of-range values are errors naming the file,
// the line and the field.
package policy

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/shopspring/decimal"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
)

// File is the policy document as governance writes it.
type File struct {
	Name             string     `json:"name"`
	ChainID          uint64     `json:"chainId"`
	Registry         string     `json:"registry"` // 0x + 40 hex digits
	Slots            *Slots     `json:"slots,omitempty"`
	MinCollateralBps uint32     `json:"minCollateralBps"`
	Assets           []Asset    `json:"assets"`
	Groups           []Group    `json:"groups"`
	Tiers            []Tier     `json:"tiers"`
	Venues           []Venue    `json:"venues"`
	Liquidity        *Liquidity `json:"liquidity,omitempty"` // absent: no buffer
	Targets          []Target   `json:"targets,omitempty"`
	Scenarios        []Scenario `json:"scenarios,omitempty"`
	VaR              *VaR       `json:"var,omitempty"` // absent: no VaR limit
	// Derivatives is required: the short-option charge the proof applies and the Greek limits
	// the engine enforces (docs/greeks.md). Write {"shortOptionChargeBps": {}, "deltaBands": [],
	// "gammaFloor": {"enabled": false, "bps": 0}, "vegaCap": {"enabled": false, "bps": 0}} for none.
	Derivatives *Derivatives `json:"derivatives"`
	Notes       []string     `json:"notes,omitempty"`
	table       *assets.Table
}

// Slots pads the canonical policy to a circuit shape: unused venues, groups, tiers, scenarios
// and buckets are disabled (their hash depends on the padding, so it is part of the file).
type Slots struct {
	Venues    int `json:"venues"`
	Groups    int `json:"groups"`
	Tiers     int `json:"tiers"`
	Scenarios int `json:"scenarios"`
	Buckets   int `json:"buckets"`
}

// Asset is one asset slot: the asset table's entry and its rules.
type Asset struct {
	Symbol     string  `json:"symbol"`
	Decimals   uint8   `json:"decimals"`
	Precision  uint8   `json:"precision"`
	HaircutBps uint32  `json:"haircutBps"`
	InKind     bool    `json:"inKind"`
	Liquid     bool    `json:"liquid"`
	CapBps     *uint32 `json:"capBps,omitempty"` // absent: no cap
}

// Group is a venue group (a protocol) with an optional concentration cap.
type Group struct {
	Name   string  `json:"name"`
	CapBps *uint32 `json:"capBps,omitempty"`
}

// Tier is a liquidity tier; liquid tiers count toward the buffer.
type Tier struct {
	Name   string `json:"name"`
	Liquid bool   `json:"liquid"`
}

// Venue is a place positions sit.
type Venue struct {
	Name  string `json:"name"`
	Group string `json:"group"`
	Tier  string `json:"tier"`
}

// Liquidity is the buffer floor in bps of liabilities' value.
type Liquidity struct {
	FloorBps uint32 `json:"floorBps"`
}

// Target is a bucket of assets with a target weight and band (bps of net reserves).
type Target struct {
	Name      string   `json:"name"`
	Assets    []string `json:"assets"`
	WeightBps uint32   `json:"weightBps"`
	BandBps   uint32   `json:"bandBps"`
}

// Scenario is a stress scenario: shocks in bps per symbol (absent symbols are not shocked).
type Scenario struct {
	Name      string           `json:"name"`
	ShocksBps map[string]int32 `json:"shocksBps"`
}

// VaR is the parametric VaR limit: z as a decimal (scaled by solvency.ZScale), the horizon in
// days and the Cholesky factor of the daily return covariance in integers scaled by 10^6,
// rows in asset order, lower triangle only (row i has i+1 entries).
type VaR struct {
	Confidence  string    `json:"confidence,omitempty"` // for readers, e.g. "0.99"
	Z           string    `json:"z"`
	HorizonDays uint32    `json:"horizonDays"`
	Scale       int64     `json:"scale"`
	Cholesky    [][]int64 `json:"cholesky"`
}

// Derivatives is the policy for options and pool shares (docs/greeks.md).
//
//   - ShortOptionChargeBps maps an asset symbol to the charge, in bps of notional at the oracle
//     price, that a short option on it carries on top of its intrinsic value in the proof (its
//     stand-in for time value). Absent symbols carry no charge. At most 10000.
//   - DeltaBands: per underlying, |net delta * price| <= bandBps of net reserves. One entry per
//     asset at most; absent assets have no band.
//   - GammaFloor: cash gamma (Gamma * price^2 / 100, USD per 1% move, summed over underlyings)
//     >= -bps of net reserves: how short gamma the treasury may be.
//   - VegaCap: |vega per vol point| (USD per 1 percentage point of implied volatility) <= bps of
//     net reserves.
//
// The Greek limits are committed by the policy hash (each with its enabled bit) but enforced by
// the engine and its report, not by the proof: the model Greeks are the engine's. A disabled
// limit must have bps 0 (one policy, one hash).
type Derivatives struct {
	ShortOptionChargeBps map[string]uint32 `json:"shortOptionChargeBps"`
	DeltaBands           []DeltaBand       `json:"deltaBands"`
	GammaFloor           GreekLimit        `json:"gammaFloor"`
	VegaCap              GreekLimit        `json:"vegaCap"`
}

// DeltaBand is one underlying's delta band in bps of net reserves.
type DeltaBand struct {
	Asset   string `json:"asset"`
	Enabled bool   `json:"enabled"`
	BandBps uint32 `json:"bandBps"`
}

// GreekLimit is an optional Greek limit in bps of net reserves.
type GreekLimit struct {
	Enabled bool   `json:"enabled"`
	Bps     uint32 `json:"bps"`
}

// DeltaBand returns the delta band of an asset (disabled when the policy names none).
func (f *File) DeltaBand(symbol string) GreekLimit {
	if f.Derivatives != nil {
		for _, b := range f.Derivatives.DeltaBands {
			if b.Asset == symbol {
				return GreekLimit{Enabled: b.Enabled, Bps: b.BandBps}
			}
		}
	}
	return GreekLimit{}
}

// validateDerivatives checks the derivatives block against the asset table.
func (f *File) validateDerivatives(t *assets.Table) (string, error) {
	d := f.Derivatives
	if d == nil {
		return "derivatives", errors.New("the derivatives block is required")
	}
	syms := make([]string, 0, len(d.ShortOptionChargeBps))
	for s := range d.ShortOptionChargeBps {
		syms = append(syms, s)
	}
	sort.Strings(syms)
	for _, s := range syms {
		if _, ok := t.Index(s); !ok {
			return "derivatives.shortOptionChargeBps", fmt.Errorf("unknown asset %q", s)
		}
		if c := d.ShortOptionChargeBps[s]; c > solvency.BpsOne {
			return "derivatives.shortOptionChargeBps", fmt.Errorf("%s: %d bps is above 10000", s, c)
		}
	}
	seen := map[string]bool{}
	for i, b := range d.DeltaBands {
		p := fmt.Sprintf("derivatives.deltaBands[%d]", i)
		if _, ok := t.Index(b.Asset); !ok {
			return p + ".asset", fmt.Errorf("unknown asset %q", b.Asset)
		}
		if seen[b.Asset] {
			return p + ".asset", fmt.Errorf("asset %q has two delta bands", b.Asset)
		}
		seen[b.Asset] = true
		if err := checkLimit(GreekLimit{b.Enabled, b.BandBps}); err != nil {
			return p + ".bandBps", err
		}
	}
	if err := checkLimit(d.GammaFloor); err != nil {
		return "derivatives.gammaFloor", err
	}
	if err := checkLimit(d.VegaCap); err != nil {
		return "derivatives.vegaCap", err
	}
	return "", nil
}

func checkLimit(l GreekLimit) error {
	if l.Bps > solvency.BpsOne {
		return fmt.Errorf("%d bps is above 10000", l.Bps)
	}
	if !l.Enabled && l.Bps != 0 {
		return errors.New("a disabled limit must have 0 bps (say enabled: true to set one)")
	}
	return nil
}

// Error is a policy file error: the file, the line (0 when unknown) and the field path.
type Error struct {
	File  string
	Line  int
	Field string
	Err   error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": %s", e.Field)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Load reads and converts a policy file.
func Load(path string) (*File, error) {
	raw, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return Parse(path, raw)
}

// Parse decodes and validates a policy document; name labels errors. Decoding is strict (see
// jsonstrict): every field without omitempty is required, and unknown, duplicate (a second
// minCollateralBps) and case-variant keys, null and trailing data are errors.
func Parse(name string, raw []byte) (*File, error) {
	var f File
	if err := jsonstrict.Unmarshal(name, raw, &f); err != nil {
		return nil, err
	}
	offs := fieldOffsets(raw)
	if field, err := f.validate(); err != nil {
		return nil, &Error{File: name, Line: lineOf(raw, offs, field), Field: field, Err: err}
	}
	return &f, nil
}

// fieldOffsets maps each value's path (a.b[2].c) to its byte offset.
func fieldOffsets(raw []byte) map[string]int64 {
	out := map[string]int64{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var stack []frame
	cur := func() string {
		if len(stack) == 0 {
			return ""
		}
		f := stack[len(stack)-1]
		if f.obj {
			if f.path == "" {
				return f.key
			}
			return f.path + "." + f.key
		}
		return fmt.Sprintf("%s[%d]", f.path, f.index)
	}
	expectKey := func() bool { return len(stack) > 0 && stack[len(stack)-1].obj && stack[len(stack)-1].key == "" }
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			valueDone(stack)
			continue
		}
		if s, ok := tok.(string); ok && expectKey() {
			stack[len(stack)-1].key = s
			continue
		}
		p := cur()
		out[p] = off
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, frame{obj: d == '{', path: p})
			continue
		}
		valueDone(stack)
	}
}

type frame struct {
	obj   bool
	key   string
	index int
	path  string
}

// valueDone advances the enclosing container after one value.
func valueDone(stack []frame) {
	if len(stack) == 0 {
		return
	}
	f := &stack[len(stack)-1]
	if f.obj {
		f.key = ""
	} else {
		f.index++
	}
}

// lineOf finds the line of field (or its nearest recorded parent).
func lineOf(raw []byte, offs map[string]int64, field string) int {
	for p := field; p != ""; {
		if off, ok := offs[p]; ok {
			// The offset is where the previous token ended; skip separators to the value.
			o := int(off)
			for o < len(raw) && strings.ContainsRune(" \t\r\n:,", rune(raw[o])) {
				o++
			}
			return 1 + bytes.Count(raw[:min(o, len(raw))], []byte("\n"))
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

// Table is the asset table the policy is bound to.
func (f *File) Table() *assets.Table { return f.table }

// validate checks the document; it returns the offending field's path with the error.
func (f *File) validate() (string, error) {
	if strings.TrimSpace(f.Name) == "" {
		return "name", errors.New("a policy needs a name")
	}
	if _, err := parseAddress(f.Registry); err != nil {
		return "registry", err
	}
	if f.ChainID == 0 {
		return "chainId", errors.New("chain id must be set (S6: a proof is bound to one chain)")
	}
	t := &assets.Table{}
	for _, a := range f.Assets {
		t.Assets = append(t.Assets, assets.Asset{Symbol: a.Symbol, Decimals: a.Decimals, Precision: a.Precision})
	}
	if err := t.Validate(); err != nil {
		return "assets", err
	}
	f.table = t
	for i, a := range f.Assets {
		p := fmt.Sprintf("assets[%d]", i)
		if a.HaircutBps > solvency.BpsOne {
			return p + ".haircutBps", fmt.Errorf("%d bps is above 10000", a.HaircutBps)
		}
		if a.CapBps != nil && *a.CapBps > solvency.BpsOne {
			return p + ".capBps", fmt.Errorf("%d bps is above 10000", *a.CapBps)
		}
	}
	if f.MinCollateralBps < solvency.BpsOne || f.MinCollateralBps > 65535 {
		return "minCollateralBps", fmt.Errorf("%d: want 10000..65535 (reserves must cover liabilities)", f.MinCollateralBps)
	}
	groups, err := names("groups", len(f.Groups), func(i int) string { return f.Groups[i].Name })
	if err != nil {
		return "groups", err
	}
	for i, g := range f.Groups {
		if g.CapBps != nil && *g.CapBps > solvency.BpsOne {
			return fmt.Sprintf("groups[%d].capBps", i), fmt.Errorf("%d bps is above 10000", *g.CapBps)
		}
	}
	tiers, err := names("tiers", len(f.Tiers), func(i int) string { return f.Tiers[i].Name })
	if err != nil {
		return "tiers", err
	}
	if _, err := names("venues", len(f.Venues), func(i int) string { return f.Venues[i].Name }); err != nil {
		return "venues", err
	}
	for i, v := range f.Venues {
		if _, ok := groups[v.Group]; !ok {
			return fmt.Sprintf("venues[%d].group", i), fmt.Errorf("unknown group %q", v.Group)
		}
		if _, ok := tiers[v.Tier]; !ok {
			return fmt.Sprintf("venues[%d].tier", i), fmt.Errorf("unknown tier %q", v.Tier)
		}
	}
	if f.Liquidity != nil && f.Liquidity.FloorBps > 65535 {
		return "liquidity.floorBps", fmt.Errorf("%d: at most 65535", f.Liquidity.FloorBps)
	}
	for k, tg := range f.Targets {
		p := fmt.Sprintf("targets[%d]", k)
		if tg.WeightBps > solvency.BpsOne {
			return p + ".weightBps", fmt.Errorf("%d bps is above 10000", tg.WeightBps)
		}
		if tg.BandBps > solvency.BpsOne {
			return p + ".bandBps", fmt.Errorf("%d bps is above 10000", tg.BandBps)
		}
		if len(tg.Assets) == 0 {
			return p + ".assets", errors.New("a target bucket needs at least one asset")
		}
		seen := map[string]bool{}
		for j, s := range tg.Assets {
			if _, ok := t.Index(s); !ok {
				return fmt.Sprintf("%s.assets[%d]", p, j), fmt.Errorf("unknown asset %q", s)
			}
			if seen[s] {
				return fmt.Sprintf("%s.assets[%d]", p, j), fmt.Errorf("asset %q repeats", s)
			}
			seen[s] = true
		}
	}
	for s, sc := range f.Scenarios {
		p := fmt.Sprintf("scenarios[%d]", s)
		if strings.TrimSpace(sc.Name) == "" {
			return p + ".name", errors.New("a scenario needs a name")
		}
		for sym, sh := range sc.ShocksBps {
			if _, ok := t.Index(sym); !ok {
				return p + ".shocksBps", fmt.Errorf("unknown asset %q", sym)
			}
			if sh < -solvency.BpsOne || int64(sh)+solvency.BpsOne > 65535 {
				return p + ".shocksBps", fmt.Errorf("%s: shock %d bps: want -10000..55535", sym, sh)
			}
		}
	}
	if v := f.VaR; v != nil {
		if _, err := zScaled(v.Z); err != nil {
			return "var.z", err
		}
		if v.HorizonDays == 0 || v.HorizonDays > 1023 {
			return "var.horizonDays", fmt.Errorf("%d: want 1..1023", v.HorizonDays)
		}
		if v.Scale != solvency.CholScale {
			return "var.scale", fmt.Errorf("%d: the circuit's Cholesky scale is %d", v.Scale, solvency.CholScale)
		}
		if len(v.Cholesky) != len(f.Assets) {
			return "var.cholesky", fmt.Errorf("%d rows for %d assets", len(v.Cholesky), len(f.Assets))
		}
		for i, row := range v.Cholesky {
			if len(row) != i+1 {
				return fmt.Sprintf("var.cholesky[%d]", i), fmt.Errorf("row %d has %d entries; a lower-triangular factor has %d", i, len(row), i+1)
			}
			for j, e := range row {
				if e <= -(1<<solvency.CholBits) || e >= 1<<solvency.CholBits {
					return fmt.Sprintf("var.cholesky[%d][%d]", i, j), fmt.Errorf("%d: magnitude must be below 2^24", e)
				}
			}
			if row[i] < 0 {
				return fmt.Sprintf("var.cholesky[%d][%d]", i, i), errors.New("a Cholesky diagonal entry is not negative")
			}
		}
	}
	if field, err := f.validateDerivatives(t); err != nil {
		return field, err
	}
	sl := f.slots()
	for _, c := range []struct {
		field     string
		have, max int
	}{{"venues", len(f.Venues), sl.Venues}, {"groups", len(f.Groups), sl.Groups}, {"tiers", len(f.Tiers), sl.Tiers},
		{"scenarios", len(f.Scenarios), sl.Scenarios}, {"targets", len(f.Targets), sl.Buckets}} {
		if c.have > c.max {
			return "slots", fmt.Errorf("%d %s do not fit %d slots", c.have, c.field, c.max)
		}
	}
	if _, err := f.Canonical(); err != nil {
		return "", err
	}
	return "", nil
}

func names(kind string, n int, name func(int) string) (map[string]int, error) {
	out := map[string]int{}
	if n == 0 {
		return nil, fmt.Errorf("at least one entry in %s", kind)
	}
	for i := 0; i < n; i++ {
		s := name(i)
		if strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("%s[%d] has no name", kind, i)
		}
		if j, dup := out[s]; dup {
			return nil, fmt.Errorf("%s[%d] repeats the name %q of entry %d", kind, i, s, j)
		}
		out[s] = i
	}
	return out, nil
}

func (f *File) slots() Slots {
	s := Slots{Venues: len(f.Venues), Groups: len(f.Groups), Tiers: len(f.Tiers), Scenarios: len(f.Scenarios), Buckets: len(f.Targets)}
	if f.Slots != nil {
		s = *f.Slots
	}
	return s
}

func zScaled(s string) (uint32, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return 0, fmt.Errorf("z %q is not a decimal", s)
	}
	v := d.Shift(4)
	if !v.IsInteger() || v.Sign() <= 0 || v.IntPart() >= 1<<solvency.ZBits {
		return 0, fmt.Errorf("z %q: want a positive decimal with at most 4 fraction digits, below 6.5536", s)
	}
	return uint32(v.IntPart()), nil
}

func parseAddress(s string) ([20]byte, error) {
	var a [20]byte
	if !strings.HasPrefix(s, "0x") || len(s) != 42 {
		return a, fmt.Errorf("registry %q: want 0x followed by 40 hex digits", s)
	}
	b, err := hex.DecodeString(s[2:])
	if err != nil {
		return a, fmt.Errorf("registry %q: %w", s, err)
	}
	copy(a[:], b)
	return a, nil
}

// VenueIndex returns a venue's slot.
func (f *File) VenueIndex(name string) (int, bool) {
	for i, v := range f.Venues {
		if v.Name == name {
			return i, true
		}
	}
	return -1, false
}

// Canonical converts the document into the circuit's policy, padded to the file's slots.
func (f *File) Canonical() (*solvency.Policy, error) {
	if f.table == nil {
		return nil, errors.New("policy: not validated")
	}
	h := poseidon.NewHasher()
	sl := f.slots()
	reg, err := parseAddress(f.Registry)
	if err != nil {
		return nil, err
	}
	A := len(f.Assets)
	p := &solvency.Policy{
		ChainID:          f.ChainID,
		Registry:         reg,
		AssetsHash:       f.table.Hash(h),
		MinCollateralBps: f.MinCollateralBps,
		Assets:           make([]solvency.AssetRule, A),
		Venues:           make([]solvency.Venue, sl.Venues),
		GroupCaps:        make([]solvency.Cap, sl.Groups),
		Targets:          make([]solvency.Target, sl.Buckets),
		Scenarios:        make([]solvency.Scenario, sl.Scenarios),
		Liquidity:        solvency.Liquidity{LiquidTiers: make([]bool, sl.Tiers)},
	}
	for i, a := range f.Assets {
		r := solvency.AssetRule{HaircutBps: a.HaircutBps, InKind: a.InKind, Liquid: a.Liquid}
		if a.CapBps != nil {
			r.Cap = solvency.Cap{Enabled: true, Bps: *a.CapBps}
		}
		p.Assets[i] = r
	}
	gi := map[string]int{}
	for i, g := range f.Groups {
		gi[g.Name] = i
		if g.CapBps != nil {
			p.GroupCaps[i] = solvency.Cap{Enabled: true, Bps: *g.CapBps}
		}
	}
	ti := map[string]int{}
	for i, t := range f.Tiers {
		ti[t.Name] = i
		p.Liquidity.LiquidTiers[i] = t.Liquid
	}
	for i, v := range f.Venues {
		p.Venues[i] = solvency.Venue{Group: gi[v.Group], Tier: ti[v.Tier]}
	}
	if f.Liquidity != nil {
		p.Liquidity.Enabled, p.Liquidity.FloorBps = true, f.Liquidity.FloorBps
	}
	for k := range p.Targets {
		t := solvency.Target{Assets: make([]bool, A)}
		if k < len(f.Targets) {
			ft := f.Targets[k]
			t.Enabled, t.WeightBps, t.BandBps = true, ft.WeightBps, ft.BandBps
			for _, s := range ft.Assets {
				idx, _ := f.table.Index(s)
				t.Assets[idx] = true
			}
		}
		p.Targets[k] = t
	}
	for s := range p.Scenarios {
		sc := solvency.Scenario{ShockBps: make([]int32, A)}
		if s < len(f.Scenarios) {
			sc.Enabled = true
			for sym, sh := range f.Scenarios[s].ShocksBps {
				idx, _ := f.table.Index(sym)
				sc.ShockBps[idx] = sh
			}
		}
		p.Scenarios[s] = sc
	}
	p.VaR.L = make([][]int64, A)
	for i := range p.VaR.L {
		p.VaR.L[i] = make([]int64, i+1)
	}
	if v := f.VaR; v != nil {
		z, err := zScaled(v.Z)
		if err != nil {
			return nil, err
		}
		p.VaR.Enabled, p.VaR.Z, p.VaR.HorizonDays = true, z, v.HorizonDays
		for i, row := range v.Cholesky {
			copy(p.VaR.L[i], row)
		}
	}
	if d := f.Derivatives; d != nil {
		p.Derivatives = solvency.DerivativesPolicy{ShortChargeBps: make([]uint32, A), DeltaBands: make([]solvency.GreekBand, A),
			GammaFloor: solvency.GreekBand(d.GammaFloor), VegaCap: solvency.GreekBand(d.VegaCap)}
		for s, c := range d.ShortOptionChargeBps {
			idx, _ := f.table.Index(s)
			p.Derivatives.ShortChargeBps[idx] = c
		}
		for _, b := range d.DeltaBands {
			idx, _ := f.table.Index(b.Asset)
			p.Derivatives.DeltaBands[idx] = solvency.GreekBand{Enabled: b.Enabled, Bps: b.BandBps}
		}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// Hash is the policy hash that the registry stores and the statement's first public input.
func (f *File) Hash() (fr.Element, error) {
	p, err := f.Canonical()
	if err != nil {
		return fr.Element{}, err
	}
	return p.Hash(poseidon.NewHasher())
}

// SortedShocks lists a scenario's shocks in asset order, for display.
func (f *File) SortedShocks(s int) []string {
	var out []string
	for _, a := range f.Assets {
		if sh, ok := f.Scenarios[s].ShocksBps[a.Symbol]; ok {
			out = append(out, fmt.Sprintf("%s %s%%", a.Symbol, decimal.New(int64(sh), -2).StringFixed(2)))
		}
	}
	return out
}
