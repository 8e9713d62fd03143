package contracts

import (
	"context"
	"errors"
	"math/big"
	"testing"
	"time"
)

// P2: the prover cannot choose its prices. The registry takes each feed's latest round at publish
// time and never a round id below the one the previous attestation recorded for that feed.

// TestP2_OlderRoundInsideHeartbeatRefused: the attack. A round posted minutes ago at
// three times the price is complete, positive and inside the heartbeat, but a newer round exists:
// naming it is refused, by publish and by the publicInputs view; the latest round publishes.
func TestP2_OlderRoundInsideHeartbeatRefused(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t, 4)
	if _, err := env.reg.Publish(ctx, env.chain, provenStatement(t, env, 1, 1)); err != nil {
		t.Fatal(err)
	}
	if err := env.refreshRounds(ctx); err != nil {
		t.Fatal(err)
	}
	// Feed 0 (8 decimals) posts a flattering round, then the current price again.
	better := new(big.Int).Mul(env.answers[0], big.NewInt(3))
	flattering, err := env.feeds[0].UpdateAnswer(ctx, env.chain, better)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.sim.AdjustTime(10 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := env.feeds[0].UpdateAnswer(ctx, env.chain, env.answers[0]); err != nil {
		t.Fatal(err)
	}
	honest, err := env.statement(ctx, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	cheat := *honest
	cheat.RoundIDs = append([]*big.Int(nil), honest.RoundIDs...)
	cheat.Prices = append([]uint64(nil), honest.Prices...)
	cheat.RoundIDs[0] = flattering
	if cheat.Prices[0], err = env.feeds[0].NormalisedPrice(ctx, flattering); err != nil {
		t.Fatal(err)
	}
	if cheat.Prices[0] != 3*honest.Prices[0] {
		t.Fatalf("fixture: flattering price %d, honest %d", cheat.Prices[0], honest.Prices[0])
	}
	// The round itself passes every P1 check: complete, positive, within the 1h heartbeat.
	rd, err := env.feeds[0].RoundData(ctx, flattering)
	if err != nil {
		t.Fatal(err)
	}
	head, err := env.chain.Backend.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rd.UpdatedAt == 0 || rd.AnsweredInRound.Cmp(flattering) < 0 || head.Time-rd.UpdatedAt >= 3600 {
		t.Fatalf("fixture: the older round is not complete and fresh: %+v at %d", rd, head.Time)
	}
	if err := env.prove(&cheat); err != nil {
		t.Fatal(err)
	}
	wantRevert(t, rawPublish(t, env, env.chain, &cheat), "RoundNotLatest")
	if _, err := env.reg.PublicInputs(ctx, &cheat); RevertName(err) != "RoundNotLatest" {
		t.Fatalf("publicInputs view: %v", err)
	}
	// Publish says so before sending anything, in words the engine acts on (prove again).
	if _, err := env.reg.Publish(ctx, env.chain, &cheat); !errors.Is(err, ErrRoundSuperseded) {
		t.Fatalf("Publish of a superseded round: %v", err)
	}
	if err := env.prove(honest); err != nil {
		t.Fatal(err)
	}
	if _, err := env.reg.Publish(ctx, env.chain, honest); err != nil {
		t.Fatalf("the latest rounds do not publish: %v", err)
	}
}

// TestP2_HonestLatestRoundPublishes: statements over every feed's latest round publish cycle
// after cycle, the registry records each feed's round, and a statement that names the previous
// cycle's (lower) round for a feed that has moved on is refused.
func TestP2_HonestLatestRoundPublishes(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t, 4)
	for i := range env.feeds {
		if r, err := env.reg.LastRound(ctx, i); err != nil || r.Sign() != 0 {
			t.Fatalf("lastRound(%d) before any attestation = %v, %v", i, r, err)
		}
	}
	var prev *Attestation
	for cycle := uint64(1); cycle <= 3; cycle++ {
		a := provenStatement(t, env, cycle, 1)
		if _, err := env.reg.Publish(ctx, env.chain, a); err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
		for i := range env.feeds {
			r, err := env.reg.LastRound(ctx, i)
			if err != nil || r.Cmp(a.RoundIDs[i]) != 0 {
				t.Fatalf("cycle %d: lastRound(%d) = %v, %v; want %v", cycle, i, r, err, a.RoundIDs[i])
			}
		}
		prev = a
	}
	// What `contracts check` shows: each feed's latest round, and the round last attested.
	fr, err := env.reg.FeedRounds(ctx)
	if err != nil || len(fr) != len(env.feeds) {
		t.Fatalf("FeedRounds: %v, %v", fr, err)
	}
	for i, f := range fr {
		if f.Error != "" || f.LatestRound.Cmp(prev.RoundIDs[i]) != 0 || f.LastAttested.Cmp(prev.RoundIDs[i]) != 0 ||
			f.Aggregator != env.feeds[i].Address || f.Heartbeat != 3600 || f.UpdatedAt == 0 {
			t.Fatalf("FeedRounds[%d] = %+v; want round %v", i, f, prev.RoundIDs[i])
		}
	}
	// A feed that did not update between cycles: the same round id again is fine.
	a, err := env.statement(ctx, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.RoundIDs {
		if a.RoundIDs[i].Cmp(prev.RoundIDs[i]) != 0 {
			t.Fatal("fixture: rounds moved without an update")
		}
	}
	if err := env.prove(a); err != nil {
		t.Fatal(err)
	}
	if _, err := env.reg.Publish(ctx, env.chain, a); err != nil {
		t.Fatalf("unchanged rounds: %v", err)
	}
	// TestP2_RoundBelowPreviousCycleRefused's honest-feed half: the previous cycle's round of a
	// feed that has since updated is not its latest.
	b := provenStatement(t, env, 5, 1)
	b.RoundIDs[2] = new(big.Int).Sub(b.RoundIDs[2], big.NewInt(1))
	if b.Prices[2], err = env.feeds[2].NormalisedPrice(ctx, b.RoundIDs[2]); err != nil {
		t.Fatal(err)
	}
	if err := env.prove(b); err != nil {
		t.Fatal(err)
	}
	wantRevert(t, rawPublish(t, env, env.chain, b), "RoundNotLatest")
}

// rewindFeedSource is a feed whose latest round id can be set to anything, backwards included: a
// fault an honest Chainlink feed cannot produce (its round ids only grow), so a mock is needed
// to show the registry's own guard.
const rewindFeedSource = `// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

contract RewindFeed {
    uint80 private id;
    int256 private answer;
    uint256 private updatedAt;

    function decimals() external pure returns (uint8) { return 8; }

    function set(uint80 id_, int256 answer_) external {
        id = id_;
        answer = answer_;
        updatedAt = block.timestamp;
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return (id, answer, updatedAt, updatedAt, id);
    }

    function getRoundData(uint80 r) external view returns (uint80, int256, uint256, uint256, uint80) {
        require(r == id, "No data present");
        return (id, answer, updatedAt, updatedAt, id);
    }
}
`

// TestP2_RoundBelowPreviousCycleRefused: a feed whose latest round id goes back below the round
// the previous attestation recorded for it is refused, even though the statement names that
// feed's latest round. Replacing a slot's feed (timelocked governance) starts its sequence again.
func TestP2_RoundBelowPreviousCycleRefused(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t, 4)
	if _, err := env.reg.Publish(ctx, env.chain, provenStatement(t, env, 1, 1)); err != nil {
		t.Fatal(err)
	}
	arts, err := Compile(ctx, map[string]string{"RewindFeed.sol": rewindFeedSource})
	if err != nil {
		t.Fatal(err)
	}
	art := arts["RewindFeed"]
	fabi, err := art.ParsedABI()
	if err != nil {
		t.Fatal(err)
	}
	code, err := art.Code()
	if err != nil {
		t.Fatal(err)
	}
	rewind, _, err := env.chain.deploy(ctx, "rewind feed", code, nil, fabi)
	if err != nil {
		t.Fatal(err)
	}
	set := func(id int64) {
		t.Helper()
		data, err := fabi.Pack("set", big.NewInt(id), new(big.Int).Set(env.answers[0]))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.chain.transact(ctx, rewind, fabi, data); err != nil {
			t.Fatal(err)
		}
	}
	set(10)
	feeds := make([]FeedConfig, len(env.feeds))
	for i, f := range env.feeds {
		feeds[i] = FeedConfig{Aggregator: f.Address, Heartbeat: 3600}
	}
	feeds[0].Aggregator = rewind
	if err := env.reg.ProposeFeeds(ctx, env.chain, feeds); err != nil {
		t.Fatal(err)
	}
	if err := env.sim.AdjustTime(DefaultDevDelay + time.Minute); err != nil {
		t.Fatal(err)
	}
	kept, err := env.reg.LastRound(ctx, 1)
	if err != nil || kept.Sign() == 0 {
		t.Fatalf("lastRound(1) = %v, %v", kept, err)
	}
	if err := env.reg.ApplyFeeds(ctx, env.chain); err != nil {
		t.Fatal(err)
	}
	// The replaced slot starts again; the others keep their rounds.
	if r, err := env.reg.LastRound(ctx, 0); err != nil || r.Sign() != 0 {
		t.Fatalf("lastRound(0) after replacing its feed = %v, %v", r, err)
	}
	if r, err := env.reg.LastRound(ctx, 1); err != nil || r.Cmp(kept) != 0 {
		t.Fatalf("lastRound(1) after replacing feed 0 = %v, %v; want %v", r, err, kept)
	}
	set(10) // a fresh time for round 10 after the timelock
	a := provenStatement(t, env, 2, 1)
	if a.RoundIDs[0].Int64() != 10 {
		t.Fatalf("fixture: round %v", a.RoundIDs[0])
	}
	if _, err := env.reg.Publish(ctx, env.chain, a); err != nil {
		t.Fatal(err)
	}
	set(9)
	b := provenStatement(t, env, 3, 1)
	if b.RoundIDs[0].Int64() != 9 {
		t.Fatalf("fixture: round %v", b.RoundIDs[0])
	}
	wantRevert(t, rawPublish(t, env, env.chain, b), "RoundRegressed")
	// The same round again (a feed that did not update) and a later one publish.
	set(10)
	c := provenStatement(t, env, 3, 1)
	if _, err := env.reg.Publish(ctx, env.chain, c); err != nil {
		t.Fatalf("round 10 again: %v", err)
	}
	if r, err := env.reg.LastRound(ctx, 0); err != nil || r.Int64() != 10 {
		t.Fatalf("lastRound(0) = %v, %v", r, err)
	}
}

// TestS7_NewEpochEqualSnapshotTimeRefused: a new snapshot epoch is a new snapshot, taken strictly
// later than the latest one; the same time under a new epoch is refused, one second later is not.
func TestS7_NewEpochEqualSnapshotTimeRefused(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t, 4)
	first := provenStatement(t, env, 1, 1)
	if _, err := env.reg.Publish(ctx, env.chain, first); err != nil {
		t.Fatal(err)
	}
	a := provenStatement(t, env, 2, 2)
	a.SnapshotTime = first.SnapshotTime
	a.LC.SetUint64(77)
	if err := env.prove(a); err != nil {
		t.Fatal(err)
	}
	wantRevert(t, rawPublish(t, env, env.chain, a), "SnapshotTimeNotIncreasing")
	a.SnapshotTime = first.SnapshotTime + 1
	if err := env.prove(a); err != nil {
		t.Fatal(err)
	}
	if _, err := env.reg.Publish(ctx, env.chain, a); err != nil {
		t.Fatalf("a new epoch one second later: %v", err)
	}
}
