package market

import (
	"fmt"
	"math"
)

// History is a daily (or per-step) price series for a fixed list of assets, oldest first. It is
// the input of the risk statistics; Prices[t][i] is asset Assets[i] at Times[t].
type History struct {
	Assets []string   `json:"assets"`
	Times  []int64    `json:"times"`
	Prices [][]uint64 `json:"prices"`
}

// NewHistory returns an empty history over assets.
func NewHistory(assets []string) *History {
	return &History{Assets: append([]string(nil), assets...)}
}

// Append adds a snapshot's prices for the history's assets; every asset must be present.
func (h *History) Append(s Snapshot) error {
	row := make([]uint64, len(h.Assets))
	for i, a := range h.Assets {
		p, ok := s.Prices[a]
		if !ok || p == 0 {
			return fmt.Errorf("append to history: snapshot at %d has no positive price for %s", s.Time, a)
		}
		row[i] = p
	}
	if n := len(h.Times); n > 0 && s.Time <= h.Times[n-1] {
		return fmt.Errorf("append to history: snapshot time %d is not after %d", s.Time, h.Times[n-1])
	}
	h.Times = append(h.Times, s.Time)
	h.Prices = append(h.Prices, row)
	return nil
}

// Len is the number of observations.
func (h *History) Len() int { return len(h.Prices) }

// Index returns the column of asset, or -1.
func (h *History) Index(asset string) int {
	for i, a := range h.Assets {
		if a == asset {
			return i
		}
	}
	return -1
}

// Tail returns the last n observations (all of them if fewer), sharing no rows with h.
func (h *History) Tail(n int) *History {
	if n > h.Len() {
		n = h.Len()
	}
	start := h.Len() - n
	out := &History{Assets: append([]string(nil), h.Assets...)}
	out.Times = append(out.Times, h.Times[start:]...)
	for _, r := range h.Prices[start:] {
		out.Prices = append(out.Prices, append([]uint64(nil), r...))
	}
	return out
}

// Snapshot returns observation t as a snapshot.
func (h *History) Snapshot(t int) (Snapshot, error) {
	if t < 0 || t >= h.Len() {
		return Snapshot{}, fmt.Errorf("history has no observation %d (length %d)", t, h.Len())
	}
	s := Snapshot{Time: h.Times[t], Prices: make(map[string]uint64, len(h.Assets))}
	for i, a := range h.Assets {
		s.Prices[a] = h.Prices[t][i]
	}
	return s, nil
}

// LogReturns returns the per-step log returns, (Len-1) rows by len(Assets) columns. Returns are
// statistics, so float64 is the right type here.
func (h *History) LogReturns() [][]float64 {
	if h.Len() < 2 {
		return nil
	}
	out := make([][]float64, h.Len()-1)
	for t := 1; t < h.Len(); t++ {
		row := make([]float64, len(h.Assets))
		for i := range h.Assets {
			row[i] = math.Log(float64(h.Prices[t][i]) / float64(h.Prices[t-1][i]))
		}
		out[t-1] = row
	}
	return out
}
