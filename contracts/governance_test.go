package contracts

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// waitDelay moves the simulated clock past the registry's delay.
func waitDelay(t *testing.T, env *simEnv) {
	t.Helper()
	if err := env.sim.AdjustTime(DefaultDevDelay + time.Minute); err != nil {
		t.Fatal(err)
	}
}

// announceAndWait announces a change, checks that applying it inside the delay is refused, then
// moves the clock past the delay.
func announceAndWait(t *testing.T, env *simEnv, p Power, value []byte) {
	t.Helper()
	ctx := context.Background()
	if err := env.reg.Announce(ctx, env.chain, p, value); err != nil {
		t.Fatalf("announce %s: %v", p, err)
	}
	pc, err := env.reg.Pending(ctx, p)
	if err != nil || pc == nil || string(pc.Value) != string(value) {
		t.Fatalf("pending %s = %+v, %v", p, pc, err)
	}
	head, err := env.chain.Backend.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pc.ETA < head.Time+uint64(DefaultDevDelay/time.Second)-5 {
		t.Fatalf("%s ETA %d is not a delay after %d", p, pc.ETA, head.Time)
	}
	wantRevert(t, env.reg.ApplyChange(ctx, env.chain, p, value), "ChangeTimelocked")
	waitDelay(t, env)
}

// TestGovernance_PolicyWaitsForDelay: a new policy announced is refused before its delay, is
// not in force (a proof made under it is refused by publish) until applied, and applies after
// the delay; then the old policy's proofs are refused.
func TestGovernance_PolicyWaitsForDelay(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t, 4)
	old, err := env.reg.PolicyHash(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next := testPolicyHash(env.chain.ChainID, env.addrs.Registry, 9)
	// The first policy is in force: setting another one at once is refused, by the Go side
	// before anything is sent and by the registry itself.
	if err := env.reg.SetPolicyHash(ctx, env.chain, next); err == nil {
		t.Fatal("a second policy was set at once")
	}
	wantRevert(t, env.reg.send(ctx, env.chain, "setInitialPolicyHash", [32]byte(next.Bytes())), "PolicyInForce")

	announceAndWaitNoClock(t, env, PowerPolicyHash, PolicyValue(next))
	// Announced, not in force: a proof under the announced policy is refused.
	a := provenUnder(t, env, 1, next.Bytes())
	wantRevert(t, rawPublish(t, env, env.chain, a), "PolicyMismatch")
	if cur, _ := env.reg.PolicyHash(ctx); cur != old {
		t.Fatalf("policy changed before apply: %s", cur.Hex())
	}
	waitDelay(t, env)
	// Another value than the announced one is refused.
	wantRevert(t, env.reg.ApplyChange(ctx, env.chain, PowerPolicyHash, PolicyValue(testPolicyHash(env.chain.ChainID, env.addrs.Registry, 10))), "ChangeMismatch")
	if _, err := env.reg.ApplyPending(ctx, env.chain, PowerPolicyHash); err != nil {
		t.Fatal(err)
	}
	if cur, _ := env.reg.PolicyHash(ctx); cur != common.Hash(next.Bytes()) {
		t.Fatalf("policy after apply: %s", cur.Hex())
	}
	if pc, err := env.reg.Pending(ctx, PowerPolicyHash); err != nil || pc != nil {
		t.Fatalf("still pending after apply: %+v %v", pc, err)
	}
	wantRevert(t, rawPublish(t, env, env.chain, provenUnder(t, env, 1, old)), "PolicyMismatch")
	if _, err := env.reg.Publish(ctx, env.chain, provenUnder(t, env, 1, next.Bytes())); err != nil {
		t.Fatal(err)
	}
}

// announceAndWaitNoClock announces and checks the refusal inside the delay, leaving the clock.
func announceAndWaitNoClock(t *testing.T, env *simEnv, p Power, value []byte) {
	t.Helper()
	ctx := context.Background()
	if err := env.reg.Announce(ctx, env.chain, p, value); err != nil {
		t.Fatalf("announce %s: %v", p, err)
	}
	wantRevert(t, env.reg.ApplyChange(ctx, env.chain, p, value), "ChangeTimelocked")
}

// provenUnder is provenStatement with another policy hash in the statement (and its proof).
func provenUnder(t *testing.T, env *simEnv, cycle uint64, policy [32]byte) *Attestation {
	t.Helper()
	ctx := context.Background()
	if err := env.refreshRounds(ctx); err != nil {
		t.Fatal(err)
	}
	a, err := env.statement(ctx, cycle, 1)
	if err != nil {
		t.Fatal(err)
	}
	a.PolicyHash.SetBytes(policy[:])
	if err := env.prove(a); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestGovernance_CancelWithdraws: a cancelled announcement can no longer be applied, even after
// the delay; cancelling nothing and cancelling by another key are refused.
func TestGovernance_CancelWithdraws(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t, 4)
	v := AddressValue(env.other.From())
	wantRevert(t, env.reg.CancelChange(ctx, env.chain, PowerProver), "NoPendingChange")
	if err := env.reg.Announce(ctx, env.chain, PowerProver, v); err != nil {
		t.Fatal(err)
	}
	wantRevert(t, env.reg.CancelChange(ctx, env.other, PowerProver), "NotGovernance")
	if err := env.reg.CancelChange(ctx, env.chain, PowerProver); err != nil {
		t.Fatal(err)
	}
	if pc, err := env.reg.Pending(ctx, PowerProver); err != nil || pc != nil {
		t.Fatalf("pending after cancel: %+v %v", pc, err)
	}
	waitDelay(t, env)
	wantRevert(t, env.reg.ApplyChange(ctx, env.chain, PowerProver, v), "NoPendingChange")
	if p, _ := env.reg.Prover(ctx); p != env.chain.From() {
		t.Fatalf("prover changed: %s", p.Hex())
	}
}

// TestGovernance_ProverWaitsForDelay: a new prover takes over only after the delay; until then
// the old one publishes and the new one is refused.
func TestGovernance_ProverWaitsForDelay(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t, 4)
	wantRevert(t, env.reg.Announce(ctx, env.other, PowerProver, AddressValue(env.other.From())), "NotGovernance")
	announceAndWaitNoClock(t, env, PowerProver, AddressValue(env.other.From()))
	wantRevert(t, rawPublish(t, env, env.other, provenStatement(t, env, 1, 1)), "NotProver")
	waitDelay(t, env)
	if _, err := env.reg.ApplyPending(ctx, env.chain, PowerProver); err != nil {
		t.Fatal(err)
	}
	wantRevert(t, rawPublish(t, env, env.chain, provenStatement(t, env, 1, 1)), "NotProver")
	if _, err := env.reg.Publish(ctx, env.other, provenStatement(t, env, 1, 1)); err != nil {
		t.Fatal(err)
	}
}

// TestP1_FeedsWaitForDelay: a feed change applies only after the delay (P1).
func TestP1_FeedsWaitForDelay(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t, 4)
	feeds := make([]FeedConfig, len(env.feeds))
	for i, f := range env.feeds {
		feeds[i] = FeedConfig{Aggregator: f.Address, Heartbeat: 1800}
	}
	announceAndWait(t, env, PowerFeeds, FeedsValue(feeds))
	if f, _ := env.reg.Feed(ctx, 0); f.Heartbeat != 3600 {
		t.Fatalf("feed changed before apply: %+v", f)
	}
	if err := env.reg.ApplyFeeds(ctx, env.chain); err != nil {
		t.Fatal(err)
	}
	if f, _ := env.reg.Feed(ctx, 3); f.Heartbeat != 1800 {
		t.Fatalf("feed after apply: %+v", f)
	}
}

// TestGovernance_AuditorsWaitForDelay: the auditor set changes only after the delay, and a bad
// set is refused when announced.
func TestGovernance_AuditorsWaitForDelay(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t, 4)
	wantRevert(t, env.reg.Announce(ctx, env.chain, PowerAuditors, AuditorsValue([]common.Address{env.other.From(), env.other.From()})), "BadAuditorSet")
	announceAndWait(t, env, PowerAuditors, AuditorsValue([]common.Address{env.other.From()}))
	if ok, _ := env.reg.IsAuditor(ctx, env.other.From()); ok {
		t.Fatal("auditor before apply")
	}
	if _, err := env.reg.ApplyPending(ctx, env.chain, PowerAuditors); err != nil {
		t.Fatal(err)
	}
	list, err := env.reg.Auditors(ctx)
	if err != nil || len(list) != 1 || list[0] != env.other.From() {
		t.Fatalf("auditors = %v, %v", list, err)
	}
	// Replacing the set removes the old members.
	announceAndWait(t, env, PowerAuditors, AuditorsValue(nil))
	if _, err := env.reg.ApplyPending(ctx, env.chain, PowerAuditors); err != nil {
		t.Fatal(err)
	}
	if ok, _ := env.reg.IsAuditor(ctx, env.other.From()); ok {
		t.Fatal("removed auditor is still one")
	}
}

// TestGovernance_GovernanceWaitsForDelay: governance itself changes only after the delay, and
// only the announced new governance can apply its appointment; the old one then loses every
// power.
func TestGovernance_GovernanceWaitsForDelay(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t, 4)
	v := AddressValue(env.other.From())
	if err := env.reg.Announce(ctx, env.chain, PowerGovernance, v); err != nil {
		t.Fatal(err)
	}
	wantRevert(t, env.reg.ApplyChange(ctx, env.other, PowerGovernance, v), "ChangeTimelocked")
	waitDelay(t, env)
	wantRevert(t, env.reg.ApplyChange(ctx, env.chain, PowerGovernance, v), "NotNewGovernance")
	if err := env.reg.ApplyChange(ctx, env.other, PowerGovernance, v); err != nil {
		t.Fatal(err)
	}
	if g, _ := env.reg.Governance(ctx); g != env.other.From() {
		t.Fatalf("governance = %s", g.Hex())
	}
	wantRevert(t, env.reg.Announce(ctx, env.chain, PowerProver, AddressValue(env.chain.From())), "NotGovernance")
}

// TestR1_CountersignRefusals: only an auditor countersigns, only the recorded (cycle, RC,
// reserves block), with the recorded attestation, once per auditor; the countersign is
// recorded with its auditor and read back from its event.
func TestR1_CountersignRefusals(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t, 4)
	announceAndWait(t, env, PowerAuditors, AuditorsValue([]common.Address{env.other.From()}))
	if _, err := env.reg.ApplyPending(ctx, env.chain, PowerAuditors); err != nil {
		t.Fatal(err)
	}
	a := provenStatement(t, env, 1, 1)
	if _, err := env.reg.Publish(ctx, env.chain, a); err != nil {
		t.Fatal(err)
	}
	rec, err := env.reg.Record(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	rc := rec.RC.BigInt(new(big.Int))
	send := func(c *Chain, r *Record, rc *big.Int, block uint64) error {
		data, err := env.reg.CountersignCalldata(r, rc, block)
		if err != nil {
			t.Fatal(err)
		}
		return env.reg.SendCountersign(ctx, c, data)
	}
	wantRevert(t, send(env.chain, rec, rc, rec.ReservesBlock), "NotAuditor")
	wantRevert(t, send(env.other, rec, new(big.Int).Add(rc, big.NewInt(1)), rec.ReservesBlock), "CountersignMismatch")
	wantRevert(t, send(env.other, rec, rc, rec.ReservesBlock+1), "CountersignMismatch")
	forged := *rec
	forged.BundleURI = "https://example.org/elsewhere"
	wantRevert(t, send(env.other, &forged, rc, rec.ReservesBlock), "RecordMismatch")
	missing := *rec
	missing.Cycle = 2
	wantRevert(t, send(env.other, &missing, rc, rec.ReservesBlock), "NoAttestation")
	if cs, err := env.reg.Countersigns(ctx, 1); err != nil || len(cs) != 0 {
		t.Fatalf("countersigns before: %v %v", cs, err)
	}

	res, err := env.reg.Countersign(ctx, env.other, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.AlreadySigned || res.CountersignsCount != 1 || res.Auditor != env.other.From() {
		t.Fatalf("countersign result %+v", res)
	}
	t.Logf("countersign gas: %d", res.GasUsed)
	wantRevert(t, send(env.other, rec, rc, rec.ReservesBlock), "AlreadyCountersigned")
	// Countersign again is idempotent: nothing sent.
	again, err := env.reg.Countersign(ctx, env.other, 1)
	if err != nil || !again.AlreadySigned || again.TxHash != (common.Hash{}) {
		t.Fatalf("second countersign: %+v %v", again, err)
	}
	cs, err := env.reg.Countersigns(ctx, 1)
	if err != nil || len(cs) != 1 {
		t.Fatalf("countersigns: %v %v", cs, err)
	}
	if cs[0].Auditor != env.other.From() || cs[0].RC != common.BigToHash(rc) || cs[0].ReservesBlock != rec.ReservesBlock || !cs[0].StillAuditor {
		t.Fatalf("countersign read back: %+v", cs[0])
	}
	if cs[0].TxHash != res.TxHash {
		t.Fatalf("countersign tx %s, sent %s", cs[0].TxHash.Hex(), res.TxHash.Hex())
	}
}
