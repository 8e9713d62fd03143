package main

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/contracts"
)

// TestP2_CheckShowsRounds: `contracts check` states the round rule and, per feed, the round a
// statement published now must name and the round the latest attestation named.
func TestP2_CheckShowsRounds(t *testing.T) {
	if !strings.Contains(contracts.PriceRule, "latest round") || !strings.Contains(contracts.PriceRule, "never goes back") {
		t.Fatalf("rule text: %q", contracts.PriceRule)
	}
	for _, c := range []struct {
		r    contracts.FeedRounds
		want []string
	}{
		{contracts.FeedRounds{LatestRound: big.NewInt(12), UpdatedAt: 940, Heartbeat: 3600, LastAttested: big.NewInt(11)},
			[]string{"latest round 12 (60s old, heartbeat 3600s)", "latest attestation named round 11"}},
		{contracts.FeedRounds{LatestRound: big.NewInt(3), UpdatedAt: 1000, Heartbeat: 60, LastAttested: new(big.Int)},
			[]string{"latest round 3 (0s old", "no attestation yet"}},
		{contracts.FeedRounds{Error: "execution reverted", LastAttested: big.NewInt(5)},
			[]string{"latest round unreadable (execution reverted)", "round 5"}},
	} {
		got := describeFeedRound(c.r, 1000)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("describeFeedRound(%+v) = %q; want it to contain %q", c.r, got, w)
			}
		}
	}
}

// TestP2_PublishSupersededRoundExitsOne: publishing a bundle whose round a feed has superseded is
// a refusal (exit 1, prove again), not unusable input (exit 2).
func TestP2_PublishSupersededRoundExitsOne(t *testing.T) {
	err := ocExit(fmt.Errorf("publish cycle 3: %w (asset 0: statement round 7, latest 8)", contracts.ErrRoundSuperseded))
	var ee *exitErr
	if !errors.As(err, &ee) || ee.code != exitInvalid {
		t.Fatalf("exit for a superseded round: %v", err)
	}
}
