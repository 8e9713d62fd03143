package assets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/circuits/poseidon"
)

func TestParseUnitsRoundsAgainstTheProver(t *testing.T) {
	cases := []struct {
		in   string
		prec uint8
		mode Rounding
		want string
	}{
		{"1.5", 0, RoundUp, "2"},
		{"1.5", 0, RoundDown, "1"},
		{"0.000000001", 8, RoundUp, "1"},
		{"0.000000001", 8, RoundDown, "0"},
		{"-1.5", 0, RoundDown, "-2"}, // a debt grows
		{"18446744073709551615", 0, RoundUp, "18446744073709551615"},
		{"123.45", 2, RoundUp, "12345"},
	}
	for _, c := range cases {
		got, err := ParseUnits(c.in, c.prec, c.mode, true)
		if err != nil || got.String() != c.want {
			t.Errorf("ParseUnits(%q,%d,%d) = %v, %v; want %s", c.in, c.prec, c.mode, got, err, c.want)
		}
	}
}

func TestParseUnitsRejects(t *testing.T) {
	for _, bad := range []string{"", "NaN", "Inf", "-Inf", "1e3", "1E-30", "+1", " 1", "1 ", "0x10", "1.", ".5", "18446744073709551616", "1,5"} {
		if _, err := ParseUnits(bad, 0, RoundUp, true); err == nil {
			t.Errorf("ParseUnits(%q) accepted", bad)
		}
	}
	if _, err := ParseLiability("-1", 2); err == nil {
		t.Error("negative liability accepted")
	}
	// 2^64 units only after scaling.
	if _, err := ParseLiability("184467440737.09551616", 8); err == nil {
		t.Error("amount past 64 bits in circuit units accepted")
	}
}

func TestTableValidationAndHash(t *testing.T) {
	good := `{"assets":[{"symbol":"ETH","decimals":18,"precision":8},{"symbol":"USDC","decimals":6,"precision":6}]}`
	tab, err := Decode(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	h := poseidon.NewHasher()
	a := tab.Hash(h)
	tab.Assets[0], tab.Assets[1] = tab.Assets[1], tab.Assets[0]
	b := tab.Hash(h)
	if a.Equal(&b) {
		t.Fatal("swapping slots does not change assetsHash (L8)")
	}
	tab.Assets[0], tab.Assets[1] = tab.Assets[1], tab.Assets[0]
	tab.Assets[0].Precision = 7
	c := tab.Hash(h)
	if a.Equal(&c) {
		t.Fatal("changing a precision does not change assetsHash (L8)")
	}
	for _, bad := range []string{
		`{"assets":[]}`,
		`{"assets":[{"symbol":"ETH","decimals":18,"precision":8},{"symbol":"ETH","decimals":18,"precision":8}]}`,
		`{"assets":[{"symbol":"E TH","decimals":18,"precision":8}]}`,
		`{"assets":[{"symbol":"ETH","decimals":6,"precision":8}]}`,
		`{"assets":[{"symbol":"ETH","decimals":18,"precision":8,"extra":1}]}`,
		"{\n\"assets\": [\n{\"symbol\": 5}]}",
	} {
		if _, err := Decode(strings.NewReader(bad)); err == nil {
			t.Errorf("Decode(%s) accepted", bad)
		}
	}
}

func FuzzParseUnits(f *testing.F) {
	for _, s := range []string{"1", "1.5", "-2.25", "1e3", "NaN", "18446744073709551615"} {
		f.Add(s, uint8(6))
	}
	f.Fuzz(func(t *testing.T, s string, prec uint8) {
		prec %= MaxPrecision + 1
		v, err := ParseUnits(s, prec, RoundUp, true)
		if err != nil {
			return
		}
		if v.BitLen() > 64 {
			t.Fatalf("%q parsed past 64 bits: %s", s, v)
		}
		// Rounding up never loses value: formatting back and re-parsing is stable.
		back := FormatUnits(v, prec)
		v2, err := ParseUnits(back, prec, RoundUp, true)
		if err != nil || v2.Cmp(v) != 0 {
			t.Fatalf("%q -> %s -> %q -> %v, %v", s, v, back, v2, err)
		}
	})
}

// V3: an asset table without precision stored 1.21 ETH as 2 (precision 0); every field is
// required, and trailing data is refused.
func TestV3_AssetsMissingPrecisionRefused(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/assets.json")
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ from, to, want string }{
		"missing precision": {`"decimals": 18, "precision": 8}`, `"decimals": 18}`, `key "assets[0].precision": required field is missing`},
		"trailing garbage":  {"", " garbage", "trailing data"},
		"precision twice":   {`"precision": 8}`, `"precision": 8, "precision": 0}`, "duplicate key"},
	} {
		t.Run(name, func(t *testing.T) {
			mut := string(raw) + c.to
			if c.from != "" {
				mut = strings.Replace(string(raw), c.from, c.to, 1)
			}
			p := filepath.Join(t.TempDir(), "assets.json")
			if err := os.WriteFile(p, []byte(mut), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(p); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p+":") {
				t.Fatalf("want %q naming %s, got %v", c.want, p, err)
			}
		})
	}
}
