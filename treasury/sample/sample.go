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
// a user's edits to a demo's copy survive a rerun. It returns the config file's path.
func WriteTo(dir string) (string, error) {
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
		if err := atomicfile.WriteFile(p, b, 0o644); err != nil {
			return "", fmt.Errorf("write sample %s: %w", n, err)
		}
	}
	return filepath.Join(dir, ConfigFile), nil
}
