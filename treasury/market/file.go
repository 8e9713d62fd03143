package market

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
)

// The snapshot file formats. JSON:
//
//	{"snapshots": [{"cycle": 1, "time": 1700000000, "prices": {"ETH": "3012.5", "USDC": "1"},
//	                "rounds": {"ETH": "110680464442257320247"}}]}
//
// CSV: a header "cycle,time,ASSET1,ASSET2,..." then one row per snapshot, prices as decimals.
// Prices are decimal strings (at most 8 decimals) so a file states exactly the integer proven.

type fileSnapshot struct {
	Cycle  uint64            `json:"cycle"`
	Time   int64             `json:"time"`
	Prices map[string]string `json:"prices"`
	Rounds map[string]string `json:"rounds,omitempty"`
}

type fileDoc struct {
	Snapshots []fileSnapshot `json:"snapshots"`
}

// ParseSnapshotsJSON parses the JSON snapshot format.
func ParseSnapshotsJSON(data []byte) ([]Snapshot, error) {
	return parseSnapshotsJSON("price snapshots", data)
}

// parseSnapshotsJSON decodes strictly (see jsonstrict): a price given twice, unknown keys, null
// and trailing data are errors that name the file, the place and the key.
func parseSnapshotsJSON(name string, data []byte) ([]Snapshot, error) {
	var doc fileDoc
	if err := jsonstrict.Unmarshal(name, data, &doc); err != nil {
		return nil, err
	}
	out := make([]Snapshot, 0, len(doc.Snapshots))
	for i, fs := range doc.Snapshots {
		s := Snapshot{Cycle: fs.Cycle, Time: fs.Time, Prices: map[string]uint64{}, Source: "file"}
		if len(fs.Prices) == 0 {
			return nil, fmt.Errorf("snapshot %d has no prices", i)
		}
		for a, v := range fs.Prices {
			p, err := ParsePrice(v)
			if err != nil {
				return nil, fmt.Errorf("snapshot %d, %s: %w", i, a, err)
			}
			s.Prices[a] = p
		}
		if len(fs.Rounds) > 0 {
			s.Rounds = map[string]*big.Int{}
			for a, v := range fs.Rounds {
				r, ok := new(big.Int).SetString(v, 10)
				if !ok || r.Sign() < 0 || r.BitLen() > 80 {
					return nil, fmt.Errorf("snapshot %d, %s: round %q is not a uint80", i, a, v)
				}
				s.Rounds[a] = r
			}
		}
		out = append(out, s)
	}
	return out, checkOrder(out)
}

// ParseSnapshotsCSV parses the CSV snapshot format.
func ParseSnapshotsCSV(r io.Reader) ([]Snapshot, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("parse snapshots CSV: %w", err)
	}
	if len(rows) < 1 || len(rows[0]) < 3 || rows[0][0] != "cycle" || rows[0][1] != "time" {
		return nil, errors.New("parse snapshots CSV: header must be cycle,time,ASSET,...")
	}
	head := rows[0]
	var out []Snapshot
	for i, row := range rows[1:] {
		line := i + 2
		c, err := strconv.ParseUint(row[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("snapshots CSV line %d: cycle: %w", line, err)
		}
		t, err := strconv.ParseInt(row[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("snapshots CSV line %d: time: %w", line, err)
		}
		s := Snapshot{Cycle: c, Time: t, Prices: map[string]uint64{}, Source: "file"}
		for j := 2; j < len(head); j++ {
			p, err := ParsePrice(row[j])
			if err != nil {
				return nil, fmt.Errorf("snapshots CSV line %d, %s: %w", line, head[j], err)
			}
			s.Prices[strings.TrimSpace(head[j])] = p
		}
		out = append(out, s)
	}
	return out, checkOrder(out)
}

func checkOrder(s []Snapshot) error {
	for i := 1; i < len(s); i++ {
		if s[i].Time <= s[i-1].Time {
			return fmt.Errorf("snapshot %d (time %d) is not after snapshot %d (time %d)", i, s[i].Time, i-1, s[i-1].Time)
		}
	}
	return nil
}

// WriteSnapshotsJSON writes snapshots in the JSON format, atomically.
func WriteSnapshotsJSON(path string, snaps []Snapshot) error {
	doc := fileDoc{}
	for _, s := range snaps {
		fs := fileSnapshot{Cycle: s.Cycle, Time: s.Time, Prices: map[string]string{}}
		for a, p := range s.Prices {
			fs.Prices[a] = FormatPrice(p)
		}
		if len(s.Rounds) > 0 {
			fs.Rounds = map[string]string{}
			for a, r := range s.Rounds {
				fs.Rounds[a] = r.String()
			}
		}
		doc.Snapshots = append(doc.Snapshots, fs)
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode snapshots: %w", err)
	}
	return atomicfile.WriteFile(path, append(data, '\n'), 0o644)
}

// FileSource serves snapshots read from a file; cycle c is the snapshot whose cycle field is c.
type FileSource struct {
	byCycle map[uint64]Snapshot
}

// OpenFileSource reads a .json or .csv snapshot file.
func OpenFileSource(path string) (*FileSource, error) {
	data, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return nil, fmt.Errorf("price file: %w", err)
	}
	var snaps []Snapshot
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		snaps, err = ParseSnapshotsCSV(bytes.NewReader(data))
	default:
		snaps, err = parseSnapshotsJSON(path, data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return NewFileSource(snaps)
}

// NewFileSource indexes snapshots by cycle; a repeated cycle is an error.
func NewFileSource(snaps []Snapshot) (*FileSource, error) {
	fs := &FileSource{byCycle: map[uint64]Snapshot{}}
	for _, s := range snaps {
		if _, dup := fs.byCycle[s.Cycle]; dup {
			return nil, fmt.Errorf("price file has cycle %d twice", s.Cycle)
		}
		fs.byCycle[s.Cycle] = s
	}
	return fs, nil
}

// Snapshot implements Source.
func (f *FileSource) Snapshot(_ context.Context, cycle uint64) (Snapshot, error) {
	s, ok := f.byCycle[cycle]
	if !ok {
		return Snapshot{}, fmt.Errorf("price file has no snapshot for cycle %d", cycle)
	}
	return s.Clone(), nil
}
