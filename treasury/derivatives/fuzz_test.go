package derivatives

import (
	"math"
	"testing"
	"time"
)

// The surface parser never panics, and a surface it accepts gives a finite volatility in
// [MinVol, MaxVol] for every live query on every underlying it lists.
func FuzzParseVolSurface(f *testing.F) {
	f.Add([]byte(eth2), int64(3*day), 3000.0)
	f.Add([]byte(`{"surfaces": {"ETH": [{"expiry": 1, "strike": "0.00000001", "vol": 10}]}}`), int64(1), 1e-9)
	f.Add([]byte(`{"surfaces": {"X": [{"expiry": 9223372036854775807, "strike": "92233720368.54775807", "vol": 1e-300}]}}`), int64(1<<62), 1e300)
	f.Fuzz(func(t *testing.T, data []byte, ahead int64, strike float64) {
		s, err := ParseVolSurface("fuzz.json", data)
		if err != nil {
			return
		}
		if !(strike > 0) || math.IsInf(strike, 0) || ahead <= 0 {
			return
		}
		now := time.Unix(t0, 0)
		for _, u := range s.Underlyings() {
			v, err := s.ImpliedVol(u, now.Add(time.Duration(ahead%(1<<33))*time.Second), strike, now)
			if err != nil {
				continue // every pillar may be past at t0
			}
			if !(v >= MinVol*(1-1e-9)) || v > MaxVol*(1+1e-9) {
				t.Fatalf("%s: vol %v from an accepted surface", u, v)
			}
		}
	})
}
