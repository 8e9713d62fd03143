package derivatives

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
	"github.com/solvency-dev/solvency/treasury/market"
)

// SecondsPerYear is the year of every time to expiry here (actual/365): volatilities are annual
// on this calendar.
const SecondsPerYear = 365 * 86400

// MinVol and MaxVol bound any implied volatility a source may give (0.01% and 1000% a year):
// outside them the number is a typo, not a market, and squares of it stay far from underflow.
const (
	MinVol = 1e-4
	MaxVol = 10.0
)

// VolSource gives the implied volatility (annual, 0.8 = 80%) of an option on underlying expiring
// at expiry with strike (USD per whole token), as known at now.
type VolSource interface {
	ImpliedVol(underlying string, expiry time.Time, strike float64, now time.Time) (float64, error)
}

// YearsBetween returns the time from now to expiry in years of SecondsPerYear, negative when
// expiry is past. It works in float seconds so that no expiry, however far, overflows.
func YearsBetween(now, expiry time.Time) float64 {
	s := float64(expiry.Unix()) - float64(now.Unix()) + float64(expiry.Nanosecond()-now.Nanosecond())/1e9
	return s / SecondsPerYear
}

// FlatVol is one volatility for every underlying, expiry and strike: a test fixture and a
// fallback an operator may configure on purpose.
type FlatVol float64

// ImpliedVol implements VolSource.
func (f FlatVol) ImpliedVol(underlying string, _ time.Time, _ float64, _ time.Time) (float64, error) {
	v := float64(f)
	if !(v >= MinVol) || v > MaxVol {
		return 0, fmt.Errorf("%w: flat volatility %v for %s outside [%v, %v]", ErrInput, v, underlying, MinVol, MaxVol)
	}
	return v, nil
}

// The volatility surface file:
//
//	{"surfaces": {"ETH": [{"expiry": 1767225600, "strike": "3000", "vol": 0.62}, ...]}}
//
// Per underlying, a list of points: expiry (unix seconds), strike (USD per whole token as a
// decimal string with at most 8 decimals, like a price) and implied volatility (annual, within
// [MinVol, MaxVol]). Points of one expiry form a smile; a (expiry, strike) pair appears once.
type volFile struct {
	// Comment is free text for the file's readers.
	Comment  string                    `json:"_comment,omitempty"`
	Surfaces map[string][]volFilePoint `json:"surfaces"`
}

type volFilePoint struct {
	Expiry int64   `json:"expiry"`
	Strike string  `json:"strike"`
	Vol    float64 `json:"vol"`
}

// pillar is one expiry's smile: strikes ascending, a volatility each.
type pillar struct {
	expiry  int64
	strikes []float64
	vols    []float64
}

// VolSurface is a volatility surface read from a file (LoadVolSurface). It interpolates linearly
// in strike within an expiry and linearly in total variance (sigma²·T) across expiries, and
// extrapolates flat in volatility beyond the outermost strikes and expiries. It is immutable, so
// safe to share between goroutines.
type VolSurface struct {
	name string
	by   map[string][]pillar // expiries ascending
}

// LoadVolSurface reads a volatility surface file through the bounded reader.
func LoadVolSurface(path string) (*VolSurface, error) {
	data, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return nil, fmt.Errorf("volatility surface: %w", err)
	}
	return ParseVolSurface(path, data)
}

// ParseVolSurface parses a volatility surface file's content strictly; name labels errors.
func ParseVolSurface(name string, data []byte) (*VolSurface, error) {
	var f volFile
	if err := jsonstrict.Unmarshal(name, data, &f); err != nil {
		return nil, fmt.Errorf("volatility surface: %w", err)
	}
	if len(f.Surfaces) == 0 {
		return nil, fmt.Errorf("volatility surface %s: key %q: no underlying", name, "surfaces")
	}
	s := &VolSurface{name: name, by: make(map[string][]pillar, len(f.Surfaces))}
	for u, pts := range f.Surfaces {
		key := func(i int, field string) string { return fmt.Sprintf("surfaces.%s[%d].%s", u, i, field) }
		if u == "" {
			return nil, fmt.Errorf("volatility surface %s: key %q: empty underlying", name, "surfaces")
		}
		if len(pts) == 0 {
			return nil, fmt.Errorf("volatility surface %s: key %s: no points", name, jsonstrict.Quote("surfaces."+u))
		}
		byExp := map[int64]*pillar{}
		seen := map[[2]uint64]bool{}
		for i, p := range pts {
			if p.Expiry <= 0 {
				return nil, fmt.Errorf("volatility surface %s: key %s: expiry %d is not a positive unix time", name, jsonstrict.Quote(key(i, "expiry")), p.Expiry)
			}
			k, err := market.ParsePrice(p.Strike)
			if err != nil {
				return nil, fmt.Errorf("volatility surface %s: key %s: %w", name, jsonstrict.Quote(key(i, "strike")), err)
			}
			if !(p.Vol >= MinVol) || p.Vol > MaxVol {
				return nil, fmt.Errorf("volatility surface %s: key %s: %v outside [%v, %v]", name, jsonstrict.Quote(key(i, "vol")), p.Vol, MinVol, MaxVol)
			}
			id := [2]uint64{uint64(p.Expiry), k}
			if seen[id] {
				return nil, fmt.Errorf("volatility surface %s: key %s: expiry %d strike %s given twice", name, jsonstrict.Quote(key(i, "strike")), p.Expiry, p.Strike)
			}
			seen[id] = true
			pl := byExp[p.Expiry]
			if pl == nil {
				pl = &pillar{expiry: p.Expiry}
				byExp[p.Expiry] = pl
			}
			pl.strikes = append(pl.strikes, float64(k)/1e8)
			pl.vols = append(pl.vols, p.Vol)
		}
		list := make([]pillar, 0, len(byExp))
		for _, pl := range byExp {
			sort.Sort(smile{pl})
			list = append(list, *pl)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].expiry < list[j].expiry })
		s.by[u] = list
	}
	return s, nil
}

// smile sorts a pillar's strikes ascending, keeping each vol with its strike.
type smile struct{ p *pillar }

func (s smile) Len() int           { return len(s.p.strikes) }
func (s smile) Less(i, j int) bool { return s.p.strikes[i] < s.p.strikes[j] }
func (s smile) Swap(i, j int) {
	s.p.strikes[i], s.p.strikes[j] = s.p.strikes[j], s.p.strikes[i]
	s.p.vols[i], s.p.vols[j] = s.p.vols[j], s.p.vols[i]
}

// at interpolates the smile linearly in strike, flat beyond its ends.
func (p pillar) at(k float64) float64 {
	n := len(p.strikes)
	if k <= p.strikes[0] {
		return p.vols[0]
	}
	if k >= p.strikes[n-1] {
		return p.vols[n-1]
	}
	i := sort.SearchFloat64s(p.strikes, k) // strikes[i-1] < k <= strikes[i]
	w := (k - p.strikes[i-1]) / (p.strikes[i] - p.strikes[i-1])
	return p.vols[i-1] + w*(p.vols[i]-p.vols[i-1])
}

// Underlyings returns the underlyings the surface covers, sorted.
func (s *VolSurface) Underlyings() []string {
	out := make([]string, 0, len(s.by))
	for u := range s.by {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// ErrNoVol is returned when a source has no volatility for a query (an unknown underlying, an
// expiry already past, every pillar of the surface past).
var ErrNoVol = errors.New("no implied volatility")

// ImpliedVol implements VolSource. Pillars already expired at now are ignored.
func (s *VolSurface) ImpliedVol(underlying string, expiry time.Time, strike float64, now time.Time) (float64, error) {
	if !(strike > 0) || math.IsInf(strike, 0) {
		return 0, fmt.Errorf("%w: strike %v", ErrInput, strike)
	}
	T := YearsBetween(now, expiry)
	if !(T > 0) {
		return 0, fmt.Errorf("%w for %s: expiry %s is not after %s", ErrNoVol, underlying, expiry.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	all, ok := s.by[underlying]
	if !ok {
		return 0, fmt.Errorf("%w: surface %s has no underlying %q", ErrNoVol, s.name, underlying)
	}
	live := all
	for len(live) > 0 && YearsBetween(now, time.Unix(live[0].expiry, 0)) <= 0 {
		live = live[1:]
	}
	if len(live) == 0 {
		return 0, fmt.Errorf("%w: every %s expiry on surface %s is past at %s", ErrNoVol, underlying, s.name, now.UTC().Format(time.RFC3339))
	}
	e := float64(expiry.Unix()) + float64(expiry.Nanosecond())/1e9
	first, last := live[0], live[len(live)-1]
	switch {
	case e <= float64(first.expiry):
		return first.at(strike), nil
	case e >= float64(last.expiry):
		return last.at(strike), nil
	}
	i := sort.Search(len(live), func(i int) bool { return float64(live[i].expiry) >= e }) // live[i-1] < e <= live[i]
	a, b := live[i-1], live[i]
	ta, tb := YearsBetween(now, time.Unix(a.expiry, 0)), YearsBetween(now, time.Unix(b.expiry, 0))
	wa, wb := a.at(strike)*a.at(strike)*ta, b.at(strike)*b.at(strike)*tb
	w := wa + (wb-wa)*(T-ta)/(tb-ta)
	return math.Sqrt(w / T), nil
}
