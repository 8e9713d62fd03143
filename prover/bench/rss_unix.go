//go:build linux

package bench

import "syscall"

// peakRSS is the process's maximum resident set size in bytes (getrusage; Linux reports KiB).
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return int64(ru.Maxrss) * 1024
}
