package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

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

// TestCheckWarnsAboutGovernance: `contracts check` warns plainly about development feeds, a zero
// (or short) delay, one key holding both prover and governance, and no auditor; a deployment with
// real feeds, a long delay, separate keys and an auditor gets no warning. Every power is listed
// with its holder and the delay.
func TestCheckWarnsAboutGovernance(t *testing.T) {
	op := common.HexToAddress("0x00000000000000000000000000000000000000a1")
	gov := common.HexToAddress("0x00000000000000000000000000000000000000a2")
	aud := common.HexToAddress("0x00000000000000000000000000000000000000a3")
	feeds := []contracts.FeedConfig{{Heartbeat: 3600}, {Heartbeat: 3600}}
	demo := &registryState{prv: op, governance: op, feeds: feeds, devFeeds: []int{0, 1}}
	got := strings.Join(demo.warnings(), "\n")
	for _, w := range []string{"2 of 2 price feeds are development feeds", "the governance delay is zero",
		"is both the prover and governance", "no auditor is set"} {
		if !strings.Contains(got, w) {
			t.Errorf("demo-like deployment: no warning %q in\n%s", w, got)
		}
	}
	short := &registryState{prv: op, governance: gov, feeds: feeds, delay: time.Hour, auditors: []common.Address{aud}}
	if w := short.warnings(); len(w) != 1 || !strings.Contains(w[0], "less than a day") {
		t.Errorf("one-hour delay: %q", w)
	}
	good := &registryState{prv: op, governance: gov, feeds: feeds, delay: 48 * time.Hour, auditors: []common.Address{aud}}
	if w := good.warnings(); len(w) != 0 {
		t.Errorf("a sound deployment warned: %q", w)
	}
	powers := good.powers()
	var names []string
	for _, p := range powers {
		names = append(names, p.Power)
		if p.DelaySeconds != "172800" || !strings.Contains(p.ChangedBy, gov.Hex()) {
			t.Errorf("power %+v: want governance %s and a 172800s delay", p, gov.Hex())
		}
	}
	if strings.Join(names, ",") != "policy,prover,auditors,feeds,governance" {
		t.Errorf("powers listed: %v", names)
	}
	var out bytes.Buffer
	good.reg = &contracts.Registry{}
	printCheck(&out, good, nil)
	for _, w := range []string{"delay       48h0m0s (172800s)", "  auditors   auditors " + aud.Hex(), "pending     no announced change"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("check output lacks %q:\n%s", w, out.String())
		}
	}
}
