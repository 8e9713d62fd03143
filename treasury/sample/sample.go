// Package sample embeds the demo's treasury: a DAO endowment in the spirit of published
// investment policies (60/40 ETH/stables, a stablecoin runway floor, no protocol above 30%), its
// venues, holdings, rebalancer and executor settings, and a seeded market with a sharp ETH
// drawdown and a stablecoin depeg. The files are copies of testdata/ (a test keeps them equal),
// embedded so that the demo runs from an installed binary with nothing else on disk.
package sample

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/solvency-dev/solvency/internal/atomicfile"
)

//go:embed files
var files embed.FS

// ConfigFile is the engine config's name among the sample's files.
const ConfigFile = "config.json"

// Files lists the sample's file names.
func Files() ([]string, error) {
	ents, err := fs.ReadDir(files, "files")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out, nil
}

// Read returns one sample file.
func Read(name string) ([]byte, error) { return files.ReadFile("files/" + name) }

// WriteTo writes the sample into dir (created if needed), leaving files that already exist, so
// a user's edits to a demo's copy survive a rerun. It returns the config file's path. The copy
// is dated from today (Dated): the market starts at today's midnight UTC and every option's
// expiry moves by the same amount, so options that are live in the market's calendar are also
// live at the liabilities snapshot's real time, which the proof requires.
func WriteTo(dir string) (string, error) {
	return WriteToAt(dir, time.Now())
}

// WriteToAt is WriteTo dated from now.
func WriteToAt(dir string, now time.Time) (string, error) {
	names, err := Files()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, n := range names {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err == nil {
			continue
		}
		b, err := Read(n)
		if err != nil {
			return "", err
		}
		if b, err = Dated(n, b, now); err != nil {
			return "", err
		}
		if err := atomicfile.WriteFile(p, b, 0o644); err != nil {
			return "", fmt.Errorf("write sample %s: %w", n, err)
		}
	}
	return filepath.Join(dir, ConfigFile), nil
}

// SampleStart is the embedded market's start time (market.json's startTime, 2025-12-01 UTC),
// from which Dated shifts.
const SampleStart = 1764547200

var (
	startTimeRe = regexp.MustCompile(`"startTime": (\d+)`)
	expiryRe    = regexp.MustCompile(`"expiry": "([0-9TZ:-]+)"`)
)

// Dated returns the sample file name's content b shifted so that the synthetic market starts at
// now's midnight UTC: market.json's startTime, and every option expiry in positions.json by the
// same amount (so each option's time to expiry at each market step, and with it every price and
// Greek, is the same whatever the date). Other files are returned unchanged. The demo's market
// is fictional; dating it keeps its options live at the real time the liabilities snapshot is
// taken, which the proof checks (an option must expire after the snapshot).
func Dated(name string, b []byte, now time.Time) ([]byte, error) {
	y, m, d := now.UTC().Date()
	shift := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() - SampleStart
	switch name {
	case "market.json":
		locs := startTimeRe.FindAllSubmatchIndex(b, -1)
		if len(locs) != 1 || string(b[locs[0][2]:locs[0][3]]) != strconv.FormatInt(SampleStart, 10) {
			return nil, fmt.Errorf("sample %s: want one startTime of %d to date", name, SampleStart)
		}
		return startTimeRe.ReplaceAll(b, []byte(fmt.Sprintf(`"startTime": %d`, SampleStart+shift))), nil
	case "positions.json":
		var bad error
		out := expiryRe.ReplaceAllFunc(b, func(m []byte) []byte {
			sub := expiryRe.FindSubmatch(m)
			t, err := time.Parse(time.RFC3339, string(sub[1]))
			if err != nil {
				bad = fmt.Errorf("sample %s: expiry %q: %w", name, sub[1], err)
				return m
			}
			return []byte(fmt.Sprintf(`"expiry": %q`, t.Add(time.Duration(shift)*time.Second).UTC().Format(time.RFC3339)))
		})
		return out, bad
	}
	return b, nil
}
