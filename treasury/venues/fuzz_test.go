package venues

import (
	"testing"

	"github.com/solvency-dev/solvency/treasury/market"
)

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"12.5", "-3", "0.000001", "1e6", "0.0000001", ""} {
		f.Add(s)
	}
	usdc := market.Asset{Symbol: "USDC", Decimals: 6}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseAmount(s, usdc)
		if err != nil {
			return
		}
		back, err := ParseAmount(FormatAmount(v, usdc), usdc)
		if err != nil || back.Cmp(v) != 0 {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, v, FormatAmount(v, usdc), back, err)
		}
	})
}
