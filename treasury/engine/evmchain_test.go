package engine

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/devnet"
	"github.com/solvency-dev/solvency/treasury/state"
)

// TestP2_FeedMovesOnBeforePublishReproves: a feed posts a newer round after the engine read the
// prices and while it proves. The registry takes only the latest round, so the engine does not
// send the stale statement: it proves the cycle again at the new round and publishes that, and
// the record names every feed's latest round.
func TestP2_FeedMovesOnBeforePublishReproves(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits")
	}
	dir := t.TempDir()
	cfg := sampleConfig(t, dir, 20)
	d, err := devnet.Start(devnet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	ch, err := contracts.NewChain(ctx, d.Client(), d.Key)
	if err != nil {
		t.Fatal(err)
	}
	stateDir := filepath.Join(dir, "state")
	evm := &EVMChain{Chain: ch, AddrFile: filepath.Join(stateDir, "addresses.json"), DevFeeds: true, Name: "test devnet"}
	var log bytes.Buffer
	moved := 0
	var moveErr error
	fault := func(point string) error {
		if point != "batch-proved" || moved > 0 {
			return nil
		}
		moved++
		// Another round of feed 0 at its current answer, posted mid-proof.
		feed, err := contracts.NewDevFeed(evm.Addresses().Feeds[0].Aggregator, ch.Backend)
		if err != nil {
			moveErr = err
			return nil
		}
		r, err := feed.LatestRound(ctx)
		if err != nil {
			moveErr = err
			return nil
		}
		rd, err := feed.RoundData(ctx, r)
		if err != nil {
			moveErr = err
			return nil
		}
		_, moveErr = feed.UpdateAnswer(ctx, ch, rd.Answer)
		return nil
	}
	eng, err := Open(ctx, cfg, Options{StateDir: stateDir, Chain: evm, Log: &log, Fault: fault})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if err := eng.Run(ctx, 1, nil); err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	if moveErr != nil || moved != 1 {
		t.Fatalf("moving the feed: %d, %v", moved, moveErr)
	}
	if !strings.Contains(log.String(), "newer round") {
		t.Fatalf("the engine did not prove again:\n%s", log.String())
	}
	rec, err := evm.Registry().Record(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := evm.Registry().LatestPrices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range latest {
		if rec.RoundIDs[i].Cmp(p.RoundID) != 0 {
			t.Fatalf("asset %d: recorded round %v, latest %v", i, rec.RoundIDs[i], p.RoundID)
		}
	}
	eng.Close()
	st, err := state.Open(filepath.Join(stateDir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := st.Record(1)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Stage.Complete() || !strings.Contains(strings.Join(r.Notes, "\n"), "newer round") {
		t.Fatalf("cycle 1: stage %s, notes %q", r.Stage, r.Notes)
	}
}
