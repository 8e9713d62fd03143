//go:build !linux

package bench

// peakRSS is not measured off Linux; 0 means unknown.
func peakRSS() int64 { return 0 }

// cpuSeconds is not measured off Linux; 0 means unknown.
func cpuSeconds() float64 { return 0 }
