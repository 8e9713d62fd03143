package policy

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
)

func example(t *testing.T) []byte {
	t.Helper()
	raw, err := os.ReadFile("../../testdata/policy.json")
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestExamplePolicy(t *testing.T) {
	f, err := Parse("policy.json", example(t))
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	s := p.Shape(64)
	if s.Assets != 8 || s.Venues != 16 || s.Groups != 8 || s.Tiers != 4 || s.Scenarios != 8 || s.Buckets != 4 {
		t.Fatalf("shape %+v", s)
	}
	// The example binds the repository's asset table (L8).
	tab, err := assets.Load("../../testdata/assets.json")
	if err != nil {
		t.Fatal(err)
	}
	h := poseidon.NewHasher()
	if tab.Hash(h) != p.AssetsHash {
		t.Fatal("the example policy's asset table is not testdata/assets.json")
	}
	h1, err := f.Hash()
	if err != nil {
		t.Fatal(err)
	}
	// Hash is deterministic and sensitive to every limit.
	f2, _ := Parse("policy.json", example(t))
	*f2.Groups[1].CapBps = 2999
	h2, err := f2.Hash()
	if err != nil {
		t.Fatal(err)
	}
	if h1 == h2 {
		t.Fatal("changing a group cap left the hash unchanged")
	}
	if !p.VaR.Enabled || p.VaR.Z != 23263 || !p.Liquidity.Enabled || !p.Targets[0].Enabled || p.Targets[3].Enabled {
		t.Fatalf("canonical policy is wrong: %+v", p)
	}
	if p.ChainID != 1 || p.Registry[0] != 0x5f {
		t.Fatal("chain id or registry not carried (S6)")
	}
}

// TestChainAndRegistryBound: the same limits on another chain or registry hash differently (S6).
func TestChainAndRegistryBound(t *testing.T) {
	f, _ := Parse("p", example(t))
	h1, _ := f.Hash()
	f.ChainID = 10
	h2, _ := f.Hash()
	f.ChainID = 1
	f.Registry = "0x5fbdb2315678afecb367f032d93f642f64180aa4"
	h3, _ := f.Hash()
	if h1 == h2 || h1 == h3 {
		t.Fatal("chain id or registry is not in the policy hash")
	}
}

func TestParseErrorsNameFileLineField(t *testing.T) {
	base := string(example(t))
	cases := []struct {
		name, from, to, field string
		line                  int
	}{
		{"haircut above 10000", `"haircutBps": 200,`, `"haircutBps": 10001,`, "assets[3].haircutBps", 11},
		{"unknown venue group", `"group": "gmx",`, `"group": "dydx",`, "venues[4].group", 35},
		{"shock below -100%", `"USDC": -1000}`, `"USDC": -10001}`, "scenarios[2].shocksBps", 0},
		{"unknown field", `"minCollateralBps"`, `"minCollateral"`, "minCollateral", 6},
		{"wrong type", `"chainId": 1,`, `"chainId": "one",`, "chainId", 3},
		{"non-lower-triangular", `[40000],`, `[40000, 1],`, "var.cholesky[0]", 0},
		{"min collateral below 100%", `"minCollateralBps": 11000`, `"minCollateralBps": 9000`, "minCollateralBps", 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(base, tc.from, tc.to, 1)
			if src == base {
				t.Fatalf("fixture edit %q not found", tc.from)
			}
			_, err := Parse("policy.json", []byte(src))
			// Decoding errors come from jsonstrict, validation errors from this package.
			var pe *Error
			if je := (*jsonstrict.Error)(nil); errors.As(err, &je) {
				if je.Col == 0 {
					t.Fatalf("error %q has no column", err)
				}
				pe = &Error{File: je.File, Line: je.Line, Field: je.Key}
			} else if !errors.As(err, &pe) {
				t.Fatalf("want *Error, got %v", err)
			}
			if pe.File != "policy.json" || pe.Field != tc.field {
				t.Fatalf("error %q: field %q, want %q", err, pe.Field, tc.field)
			}
			if tc.line != 0 && pe.Line != tc.line {
				t.Fatalf("error %q: line %d, want %d", err, pe.Line, tc.line)
			}
			if pe.Line == 0 {
				t.Fatalf("error %q has no line", err)
			}
		})
	}
}

// V3: a repeated key is refused, never "last one wins": a second minCollateralBps would
// otherwise lower the collateral floor that the first one states.
func TestV3_PolicyDuplicateKeyRefused(t *testing.T) {
	base := string(example(t))
	src := strings.Replace(base, `"minCollateralBps": 11000`, `"minCollateralBps": 11000, "minCollateralBps": 10000`, 1)
	if src == base {
		t.Fatal("edit not found")
	}
	_, err := Parse("policy.json", []byte(src))
	if err == nil || !strings.Contains(err.Error(), `policy.json:6:`) || !strings.Contains(err.Error(), `key "minCollateralBps": duplicate key`) {
		t.Fatalf("duplicate minCollateralBps: %v", err)
	}
	for name, doc := range map[string]string{"null": "null", "trailing garbage": base + " garbage"} {
		if _, err := Parse("policy.json", []byte(doc)); err == nil || !strings.Contains(err.Error(), "policy.json:") {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func TestCanonicalRoundTripThroughCircuitValidate(t *testing.T) {
	f, _ := Parse("p", example(t))
	p, _ := f.Canonical()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Elements(); err != nil {
		t.Fatal(err)
	}
	_ = solvency.TargetShape()
}

func FuzzParse(f *testing.F) {
	raw, err := os.ReadFile("../../testdata/policy.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"name":"x","chainId":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		pf, err := Parse("fuzz.json", b)
		if err != nil {
			return
		}
		// Whatever parses converts and hashes without error.
		if _, err := pf.Hash(); err != nil {
			t.Fatalf("parsed policy does not hash: %v", err)
		}
	})
}

// TestDerivativesBlock: the example's derivatives block converts to the canonical policy (charges
// and bands per asset slot, the gamma floor and vega cap), and every field moves the hash (S6).
func TestDerivativesBlock(t *testing.T) {
	f, err := Parse("policy.json", example(t))
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	d := p.Derivatives
	if d.ShortChargeBps[0] != 1500 || d.ShortChargeBps[3] != 0 || !d.DeltaBands[0].Enabled || d.DeltaBands[0].Bps != 500 ||
		d.DeltaBands[1].Enabled || !d.GammaFloor.Enabled || d.GammaFloor.Bps != 50 || d.VegaCap.Bps != 100 {
		t.Fatalf("derivatives %+v", d)
	}
	if b := f.DeltaBand("WBTC"); !b.Enabled || b.Bps != 300 {
		t.Fatalf("WBTC band %+v", b)
	}
	if b := f.DeltaBand("USDC"); b.Enabled {
		t.Fatalf("USDC band %+v", b)
	}
	h0, err := f.Hash()
	if err != nil {
		t.Fatal(err)
	}
	edits := map[string]func(d *Derivatives){
		"charge":       func(d *Derivatives) { d.ShortOptionChargeBps["ETH"] = 1501 },
		"new charge":   func(d *Derivatives) { d.ShortOptionChargeBps["USDC"] = 1 },
		"band bps":     func(d *Derivatives) { d.DeltaBands[0].BandBps = 501 },
		"band off":     func(d *Derivatives) { d.DeltaBands[0] = DeltaBand{Asset: "ETH"} },
		"gamma floor":  func(d *Derivatives) { d.GammaFloor.Bps = 51 },
		"vega cap off": func(d *Derivatives) { d.VegaCap = GreekLimit{} },
	}
	for name, e := range edits {
		g, _ := Parse("policy.json", example(t))
		e(g.Derivatives)
		h, err := g.Hash()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if h == h0 {
			t.Fatalf("%s left the hash unchanged", name)
		}
	}
}

// TestS6_DerivativesBlockRefused: the block is required; unknown assets, a second band for one
// asset, bps above 10000 and a disabled limit with non-zero bps are refused, naming the field.
func TestS6_DerivativesBlockRefused(t *testing.T) {
	base := string(example(t))
	cases := []struct{ name, from, to, field string }{
		{"unknown charge asset", `"UNI": 2500}`, `"UNI": 2500, "DOGE": 1}`, "derivatives.shortOptionChargeBps"},
		{"charge above 10000", `"LINK": 2500`, `"LINK": 10001`, "derivatives.shortOptionChargeBps"},
		{"unknown band asset", `{"asset": "WBTC", "enabled": true, "bandBps": 300}`, `{"asset": "DOGE", "enabled": true, "bandBps": 300}`, "derivatives.deltaBands[1].asset"},
		{"second band", `{"asset": "WBTC", "enabled": true, "bandBps": 300}`, `{"asset": "ETH", "enabled": true, "bandBps": 300}`, "derivatives.deltaBands[1].asset"},
		{"disabled band with bps", `{"asset": "WBTC", "enabled": true, "bandBps": 300}`, `{"asset": "WBTC", "enabled": false, "bandBps": 300}`, "derivatives.deltaBands[1].bandBps"},
		{"band above 10000", `"bandBps": 500`, `"bandBps": 10001`, "derivatives.deltaBands[0].bandBps"},
		{"disabled gamma with bps", `"gammaFloor": {"enabled": true, "bps": 50}`, `"gammaFloor": {"enabled": false, "bps": 50}`, "derivatives.gammaFloor"},
		{"vega above 10000", `"vegaCap": {"enabled": true, "bps": 100}`, `"vegaCap": {"enabled": true, "bps": 10001}`, "derivatives.vegaCap"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(base, tc.from, tc.to, 1)
			if src == base {
				t.Fatalf("fixture edit %q not found", tc.from)
			}
			_, err := Parse("policy.json", []byte(src))
			var pe *Error
			if !errors.As(err, &pe) || pe.Field != tc.field || pe.Line == 0 {
				t.Fatalf("want an error at %s with a line, got %v", tc.field, err)
			}
		})
	}
	i := strings.Index(base, `  "derivatives"`)
	j := strings.Index(base, `  "notes"`)
	if i < 0 || j < i {
		t.Fatal("fixture: no derivatives block before notes")
	}
	if _, err := Parse("policy.json", []byte(base[:i]+base[j:])); err == nil || !strings.Contains(err.Error(), "derivatives") {
		t.Fatalf("a policy without the derivatives block: %v", err)
	}
}
