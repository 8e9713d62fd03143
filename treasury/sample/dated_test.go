package sample

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The demo's copy is dated from the day it is written: the market starts at that midnight and
// every option keeps its time to expiry from the market's start, so it is live at the real
// snapshot time.
func TestWriteToAtDatesMarketAndOptions(t *testing.T) {
	now := time.Date(2031, 7, 9, 15, 4, 5, 0, time.UTC)
	dir := t.TempDir()
	if _, err := WriteToAt(dir, now); err != nil {
		t.Fatal(err)
	}
	var mkt struct {
		StartTime int64 `json:"startTime"`
	}
	readJSON(t, filepath.Join(dir, "market.json"), &mkt)
	if want := time.Date(2031, 7, 9, 0, 0, 0, 0, time.UTC).Unix(); mkt.StartTime != want {
		t.Fatalf("startTime %d, want %d", mkt.StartTime, want)
	}
	var orig, dated struct {
		Options []struct {
			ID     string `json:"id"`
			Expiry string `json:"expiry"`
		} `json:"options"`
	}
	raw, err := Read("positions.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &orig); err != nil {
		t.Fatal(err)
	}
	readJSON(t, filepath.Join(dir, "positions.json"), &dated)
	if len(orig.Options) == 0 || len(dated.Options) != len(orig.Options) {
		t.Fatalf("options: %d in the sample, %d dated", len(orig.Options), len(dated.Options))
	}
	for i, o := range orig.Options {
		e0, err0 := time.Parse(time.RFC3339, o.Expiry)
		e1, err1 := time.Parse(time.RFC3339, dated.Options[i].Expiry)
		if err0 != nil || err1 != nil {
			t.Fatal(err0, err1)
		}
		if e0.Unix()-SampleStart != e1.Unix()-mkt.StartTime {
			t.Errorf("%s: time to expiry from the market's start changed: %d -> %d", o.ID, e0.Unix()-SampleStart, e1.Unix()-mkt.StartTime)
		}
		if !e1.After(now) {
			t.Errorf("%s: expiry %s not after the writing time %s", o.ID, e1, now)
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
