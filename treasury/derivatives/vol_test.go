package derivatives

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Two ETH expiries, 30 and 90 days after t0, each with a put skew.
const (
	t0   = int64(1_767_225_600) // 2026-01-01
	day  = int64(86400)
	e30  = t0 + 30*day
	e90  = t0 + 90*day
	eth2 = `{"surfaces": {"ETH": [
		{"expiry": 1769817600, "strike": "2500", "vol": 0.80},
		{"expiry": 1769817600, "strike": "3000", "vol": 0.60},
		{"expiry": 1769817600, "strike": "3500", "vol": 0.55},
		{"expiry": 1775001600, "strike": "3000", "vol": 0.50},
		{"expiry": 1775001600, "strike": "2000", "vol": 0.70}
	], "BTC": [{"expiry": 1769817600, "strike": "90000", "vol": 0.45}]}}`
)

func TestVolSurfaceInterpolation(t *testing.T) {
	if e30 != 1769817600 || e90 != 1775001600 {
		t.Fatalf("fixture expiry %d", e30)
	}
	s, err := ParseVolSurface("vols.json", []byte(eth2))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(t0, 0)
	at := func(u string, exp int64, k float64) float64 {
		t.Helper()
		v, err := s.ImpliedVol(u, time.Unix(exp, 0), k, now)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// On the grid: the point itself.
	near(t, "30d 3000", at("ETH", e30, 3000), 0.60, 1e-15)
	// Linear in strike: halfway between 2500 (0.80) and 3000 (0.60).
	near(t, "30d 2750", at("ETH", e30, 2750), 0.70, 1e-12)
	// Flat beyond the smile's ends.
	near(t, "30d 1000", at("ETH", e30, 1000), 0.80, 0)
	near(t, "30d 9000", at("ETH", e30, 9000), 0.55, 0)
	// Flat in volatility before the first and after the last expiry.
	near(t, "7d 3000", at("ETH", t0+7*day, 3000), 0.60, 0)
	near(t, "1y 3000", at("ETH", t0+365*day, 3000), 0.50, 0)
	// 60 days, strike 3000: total variance halfway between 0.36·30/365 and 0.25·90/365:
	// w = (10.8 + 22.5)/2/365 = 16.65/365, sigma = sqrt(w / (60/365)) = sqrt(16.65/60).
	near(t, "60d 3000", at("ETH", t0+60*day, 3000), math.Sqrt(16.65/60), 1e-12)
	// 60 days, strike 2500: the 90-day smile interpolates 2000 (0.70) to 3000 (0.50) to 0.60.
	// w = (0.64·30 + 0.36·90)/2 / 365 = 25.8/365, sigma = sqrt(25.8/60).
	near(t, "60d 2500", at("ETH", t0+60*day, 2500), math.Sqrt(25.8/60), 1e-12)
	near(t, "BTC", at("BTC", e90, 1), 0.45, 0)

	// A pillar already past is ignored: 45 days on, the 30-day expiry has gone and the 90-day
	// smile rules everywhere.
	later := now.Add(45 * 24 * time.Hour)
	v, err := s.ImpliedVol("ETH", time.Unix(t0+60*day, 0), 3000, later)
	if err != nil || v != 0.50 {
		t.Fatalf("after the first expiry: %v %v", v, err)
	}
	if got := s.Underlyings(); len(got) != 2 || got[0] != "BTC" || got[1] != "ETH" {
		t.Fatalf("underlyings %v", got)
	}
}

func TestVolSurfaceNoVol(t *testing.T) {
	s, err := ParseVolSurface("vols.json", []byte(eth2))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(t0, 0)
	for name, q := range map[string]struct {
		u        string
		exp, now int64
	}{
		"unknown underlying": {"SOL", e30, t0},
		"expired option":     {"ETH", t0 - day, t0},
		"expiring now":       {"ETH", t0, t0},
		"every pillar past":  {"BTC", e90 + day, e30},
	} {
		if _, err := s.ImpliedVol(q.u, time.Unix(q.exp, 0), 3000, time.Unix(q.now, 0)); !errors.Is(err, ErrNoVol) {
			t.Errorf("%s: err = %v, want ErrNoVol", name, err)
		}
	}
	for _, k := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, err := s.ImpliedVol("ETH", time.Unix(e30, 0), k, now); !errors.Is(err, ErrInput) {
			t.Errorf("strike %v: err = %v, want ErrInput", k, err)
		}
	}
}

// Every refusal names the file and the field at fault.
func TestVolSurfaceRefusals(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{`{"surfaces": {"ETH": [{"expiry": 1769817600, "strike": "3000", "vol": 0}]}}`, `surfaces.ETH[0].vol`},
		{`{"surfaces": {"ETH": [{"expiry": 1769817600, "strike": "3000", "vol": 0.5}, {"expiry": 1769817600, "strike": "3000", "vol": 11}]}}`, `surfaces.ETH[1].vol`},
		{`{"surfaces": {"ETH": [{"expiry": 1769817600, "strike": "3000", "vol": 0.00009}]}}`, `surfaces.ETH[0].vol`},
		{`{"surfaces": {"ETH": [{"expiry": 0, "strike": "3000", "vol": 0.5}]}}`, `surfaces.ETH[0].expiry`},
		{`{"surfaces": {"ETH": [{"expiry": 1769817600, "strike": "0", "vol": 0.5}]}}`, `surfaces.ETH[0].strike`},
		{`{"surfaces": {"ETH": [{"expiry": 1769817600, "strike": "3e3", "vol": 0.5}]}}`, `surfaces.ETH[0].strike`},
		{`{"surfaces": {"ETH": [{"expiry": 1769817600, "strike": "3000.000000001", "vol": 0.5}]}}`, `surfaces.ETH[0].strike`},
		{`{"surfaces": {"ETH": [{"expiry": 1769817600, "strike": "3000", "vol": 0.5}, {"expiry": 1769817600, "strike": "3000.0", "vol": 0.6}]}}`, `surfaces.ETH[1].strike`},
		{`{"surfaces": {"ETH": []}}`, `surfaces.ETH`},
		{`{"surfaces": {}}`, `surfaces`},
		{`{"surfaces": {"": [{"expiry": 1769817600, "strike": "3000", "vol": 0.5}]}}`, `surfaces`},
		// The strict decoder's refusals name the key too.
		{`{"surfaces": {"ETH": [{"expiry": 1769817600, "strike": "3000", "vol": 0.5, "volume": 3}]}}`, `volume`},
		{`{"surfaces": {"ETH": [{"expiry": 1769817600, "strike": "3000"}]}}`, `vol`},
		{`{"surfaces": {"ETH": [{"expiry": 1769817600, "strike": 3000, "vol": 0.5}]}}`, `strike`},
		{`{"surfaces": {"ETH": [{"expiry": 1769817600, "strike": "3000", "vol": 0.5}]}, "surfaces": {}}`, `surfaces`},
		{`{"Surfaces": {}}`, `Surfaces`},
		{`null`, ``},
	} {
		_, err := ParseVolSurface("vols.json", []byte(c.doc))
		if err == nil {
			t.Errorf("accepted %s", c.doc)
			continue
		}
		if !strings.Contains(err.Error(), "vols.json") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not name the file and %q", c.doc, err, c.want)
		}
	}
}

func TestLoadVolSurface(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "vols.json")
	if err := os.WriteFile(p, []byte(eth2), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := LoadVolSurface(p)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.ImpliedVol("ETH", time.Unix(e30, 0), 3000, time.Unix(t0, 0)); err != nil || v != 0.6 {
		t.Fatalf("%v %v", v, err)
	}
	// A directory is not a surface file (the bounded reader wants a regular file).
	if _, err := LoadVolSurface(dir); err == nil {
		t.Fatal("read a directory as a surface")
	}
}

// V8: the surface file is read through the bounded reader: a link to /dev/zero and a file past
// the configuration size limit are refused before being read.
func TestV8_VolSurfaceUnboundedFileRefused(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "zero.json")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadVolSurface(link); err == nil {
		t.Fatal("read a link to /dev/zero as a surface")
	}
	big := filepath.Join(dir, "big.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	if _, err := LoadVolSurface(big); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("a 1 GiB surface file: %v", err)
	}
}

func TestFlatVol(t *testing.T) {
	if v, err := FlatVol(0.7).ImpliedVol("ETH", time.Unix(e30, 0), 1, time.Unix(t0, 0)); err != nil || v != 0.7 {
		t.Fatalf("%v %v", v, err)
	}
	for _, f := range []FlatVol{0, -1, FlatVol(math.NaN()), MaxVol + 1} {
		if _, err := f.ImpliedVol("ETH", time.Unix(e30, 0), 1, time.Unix(t0, 0)); !errors.Is(err, ErrInput) {
			t.Errorf("FlatVol(%v) accepted", float64(f))
		}
	}
}
