package contracts

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/solvency-dev/solvency/contracts/attest"
)

// Groth16 setups and verifier compilations are cached per asset count for the whole test run:
// they are the slow part, and no test mutates them.
var (
	keysMu    sync.Mutex
	keysCache = map[int]*echoKeysOnce{}
)

type echoKeysOnce struct {
	once sync.Once
	keys *echoKeys
	err  error
}

func testKeys(t *testing.T, numAssets int) *echoKeys {
	t.Helper()
	keysMu.Lock()
	e, ok := keysCache[numAssets]
	if !ok {
		e = &echoKeysOnce{}
		keysCache[numAssets] = e
	}
	keysMu.Unlock()
	e.once.Do(func() { e.keys, e.err = newEchoKeys(context.Background(), numAssets) })
	if e.err != nil {
		t.Fatalf("test keys for %d assets: %v", numAssets, e.err)
	}
	return e.keys
}

func newTestEnv(t *testing.T, numAssets int) *simEnv {
	t.Helper()
	env, err := newSimEnv(context.Background(), testKeys(t, numAssets), MainnetRules())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close() })
	return env
}

// provenStatement builds and proves a statement for cycle over fresh rounds.
func provenStatement(t *testing.T, env *simEnv, cycle, epoch uint64) *Attestation {
	t.Helper()
	ctx := context.Background()
	if err := env.refreshRounds(ctx); err != nil {
		t.Fatal(err)
	}
	a, err := env.statement(ctx, cycle, epoch)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.prove(a); err != nil {
		t.Fatal(err)
	}
	return a
}

// rawPublish sends publish without Publish's client-side checks, so the registry's own checks
// are what the test sees.
func rawPublish(t *testing.T, env *simEnv, c *Chain, a *Attestation) error {
	t.Helper()
	data, err := env.reg.PublishCalldata(a)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.transact(context.Background(), env.reg.Address, env.reg.abi, data)
	if err != nil {
		var re *RevertError
		if errors.As(err, &re) {
			return decodeRevert(re.Err, env.reg.errABIs...)
		}
	}
	return err
}

func wantRevert(t *testing.T, err error, name string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want revert %s, got success", name)
	}
	if got := RevertName(err); got != name {
		t.Fatalf("want revert %s, got %v", name, err)
	}
}

func TestPublishValid(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t, 4)
	a := provenStatement(t, env, 1, 1)

	// The registry's own words must be the Go packing (S1, P1).
	words, err := env.reg.PublicInputs(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	goWords, err := a.PublicInputs()
	if err != nil {
		t.Fatal(err)
	}
	if len(words) != len(goWords) {
		t.Fatalf("registry built %d words, Go %d", len(words), len(goWords))
	}
	for i := range words {
		if words[i].Cmp(goWords[i]) != 0 {
			t.Fatalf("word %d: registry %x, Go %x", i, words[i], goWords[i])
		}
	}

	res, err := env.reg.Publish(ctx, env.chain, a)
	if err != nil {
		t.Fatal(err)
	}
	if res.AlreadyPublished || res.GasUsed == 0 {
		t.Fatalf("unexpected result %+v", res)
	}
	rec, err := env.reg.Record(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if attest.Match(rec.Statement(), a.Statement()) != nil || rec.Hash != res.AttestationHash {
		t.Fatalf("record %+v does not match the statement", rec)
	}
	latest, err := env.reg.LatestAttestation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if latest.Cycle != 1 || latest.Count != 1 || latest.Hash != res.AttestationHash || latest.SnapshotTime != a.SnapshotTime ||
		latest.ReservesBlock != a.ReservesBlock || latest.LC != common.Hash(a.LC.Bytes()) {
		t.Fatalf("latest %+v", latest)
	}
	if age, block, err := env.reg.ReservesAge(ctx); err != nil || block != a.ReservesBlock || age == 0 || age > 10 {
		t.Fatalf("reservesAge = %d, %d, %v", age, block, err)
	}
	if fresh, err := env.reg.IsFresh(ctx, 3600); err != nil || !fresh {
		t.Fatalf("isFresh(1h) = %v, %v", fresh, err)
	}

	// Publishing the same cycle again is a no-op that reports the existing record (V6), even
	// with a different (re-randomised) proof.
	a2 := *a
	if err := env.prove(&a2); err != nil {
		t.Fatal(err)
	}
	again, err := env.reg.Publish(ctx, env.chain, &a2)
	if err != nil {
		t.Fatal(err)
	}
	if !again.AlreadyPublished || again.AttestationHash != res.AttestationHash {
		t.Fatalf("republish: %+v", again)
	}
	// Another statement for a recorded cycle is refused before any transaction.
	a3 := *a
	a3.BundleURI = "https://elsewhere.example/bundle"
	if _, err := env.reg.Publish(ctx, env.chain, &a3); !errors.Is(err, ErrCycleConflict) {
		t.Fatalf("conflicting republish: %v", err)
	}

	// A second cycle publishes and both records are recoverable. It reuses the first cycle's
	// snapshot (same epoch, LC and time) with reserves at a later block, as the engine does.
	b := provenStatement(t, env, 2, 1)
	if b.SnapshotTime != a.SnapshotTime || !b.LC.Equal(&a.LC) || b.ReservesBlock <= a.ReservesBlock {
		t.Fatal("the second statement does not reuse the snapshot")
	}
	if _, err := env.reg.Publish(ctx, env.chain, b); err != nil {
		t.Fatal(err)
	}
	// The same reserves block again is fine too (monotone, not strictly increasing).
	c := provenStatement(t, env, 3, 1)
	c.ReservesBlock = b.ReservesBlock
	if err := env.prove(c); err != nil {
		t.Fatal(err)
	}
	if _, err := env.reg.Publish(ctx, env.chain, c); err != nil {
		t.Fatal(err)
	}
	recs, err := env.reg.Records(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0].Cycle != 1 || recs[1].Cycle != 2 || recs[2].Cycle != 3 {
		t.Fatalf("records: %d", len(recs))
	}
}

func TestPublishRejects(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t, 4)
	first := provenStatement(t, env, 5, 3)
	if _, err := env.reg.Publish(ctx, env.chain, first); err != nil {
		t.Fatal(err)
	}

	t.Run("tampered proof", func(t *testing.T) {
		a := provenStatement(t, env, 6, 3)
		a.Proof = append([]byte(nil), a.Proof...)
		a.Proof[100] ^= 1
		wantRevert(t, rawPublish(t, env, env.chain, a), "ProofInvalid")
	})
	t.Run("changed public input", func(t *testing.T) {
		a := provenStatement(t, env, 6, 3)
		a.RC.SetUint64(424242)
		wantRevert(t, rawPublish(t, env, env.chain, a), "ProofInvalid")
	})
	t.Run("changed cycle", func(t *testing.T) {
		a := provenStatement(t, env, 6, 3)
		a.Cycle = 7
		wantRevert(t, rawPublish(t, env, env.chain, a), "ProofInvalid")
	})
	t.Run("replayed cycle", func(t *testing.T) {
		wantRevert(t, rawPublish(t, env, env.chain, first), "CycleNotIncreasing")
	})
	t.Run("lower cycle", func(t *testing.T) {
		a := provenStatement(t, env, 4, 3)
		wantRevert(t, rawPublish(t, env, env.chain, a), "CycleNotIncreasing")
	})
	t.Run("older snapshot", func(t *testing.T) {
		a := provenStatement(t, env, 6, 2)
		wantRevert(t, rawPublish(t, env, env.chain, a), "SnapshotTooOld")
	})
	t.Run("price off by one unit", func(t *testing.T) {
		// The statement claims the oracle's round but a price one unit higher.
		a := provenStatement(t, env, 6, 3)
		a.Prices[2]++
		if err := env.prove(a); err != nil {
			t.Fatal(err)
		}
		wantRevert(t, rawPublish(t, env, env.chain, a), "PriceMismatch")
		// A proof made over the off-by-one price does not verify against the oracle's.
		a.Prices[2]--
		words, _ := a.PublicInputs()
		words[FixedPublicInputs].Add(words[FixedPublicInputs], new(big.Int).Lsh(big.NewInt(1), 2*PriceLimbBits))
		if a.Proof, _ = env.keys.prove(words); a.Proof == nil {
			t.Fatal("prove")
		}
		wantRevert(t, rawPublish(t, env, env.chain, a), "ProofInvalid")
	})
	t.Run("limb shift", func(t *testing.T) {
		// S1: price_1 + 2^63 with price_0 - ... cannot be expressed: the registry packs from the
		// oracle's values, so a proof over a shifted packing fails.
		a := provenStatement(t, env, 6, 3)
		words, _ := a.PublicInputs()
		w := words[FixedPublicInputs]
		w.Sub(w, new(big.Int).Lsh(big.NewInt(1), PriceLimbBits))
		w.Add(w, new(big.Int).Lsh(big.NewInt(1), 0))
		var err error
		if a.Proof, err = env.keys.prove(words); err != nil {
			t.Fatal(err)
		}
		wantRevert(t, rawPublish(t, env, env.chain, a), "ProofInvalid")
	})
	t.Run("wrong policy hash", func(t *testing.T) {
		a := provenStatement(t, env, 6, 3)
		a.PolicyHash.SetUint64(7)
		if err := env.prove(a); err != nil {
			t.Fatal(err)
		}
		wantRevert(t, rawPublish(t, env, env.chain, a), "PolicyMismatch")
	})
	t.Run("policy bound to another registry", func(t *testing.T) {
		a := provenStatement(t, env, 6, 3)
		a.PolicyHash = testPolicyHash(env.chain.ChainID, common.HexToAddress("0x00000000000000000000000000000000000000aa"), 0)
		if err := env.prove(a); err != nil {
			t.Fatal(err)
		}
		wantRevert(t, rawPublish(t, env, env.chain, a), "PolicyMismatch")
	})
	t.Run("policy bound to another chain", func(t *testing.T) {
		a := provenStatement(t, env, 6, 3)
		a.PolicyHash = testPolicyHash(big.NewInt(1), env.addrs.Registry, 0)
		if err := env.prove(a); err != nil {
			t.Fatal(err)
		}
		wantRevert(t, rawPublish(t, env, env.chain, a), "PolicyMismatch")
	})
	t.Run("another address", func(t *testing.T) {
		a := provenStatement(t, env, 6, 3)
		wantRevert(t, rawPublish(t, env, env.other, a), "NotProver")
	})
	t.Run("future reserves block", func(t *testing.T) {
		a := provenStatement(t, env, 6, 3)
		a.ReservesBlock += 1000
		if err := env.prove(a); err != nil {
			t.Fatal(err)
		}
		wantRevert(t, rawPublish(t, env, env.chain, a), "ReservesBlockInFuture")
	})
	t.Run("future snapshot", func(t *testing.T) {
		// A new epoch, so the snapshot sequence checks pass and the time check is what refuses.
		a := provenStatement(t, env, 6, 4)
		a.SnapshotTime += 3600
		if err := env.prove(a); err != nil {
			t.Fatal(err)
		}
		wantRevert(t, rawPublish(t, env, env.chain, a), "SnapshotInFuture")
	})
	t.Run("long bundle URI", func(t *testing.T) {
		a := provenStatement(t, env, 6, 3)
		a.BundleURI = strings.Repeat("x", MaxURIBytes+1)
		wantRevert(t, rawPublish(t, env, env.chain, a), "BundleUriTooLong")
	})
	t.Run("wrong asset count", func(t *testing.T) {
		a := provenStatement(t, env, 6, 3)
		a.Prices = a.Prices[:3]
		a.RoundIDs = a.RoundIDs[:3]
		wantRevert(t, rawPublish(t, env, env.chain, a), "WrongAssetCount")
	})
	t.Run("unknown round", func(t *testing.T) {
		a := provenStatement(t, env, 6, 3)
		a.RoundIDs[1] = big.NewInt(999)
		wantRevert(t, rawPublish(t, env, env.chain, a), "RoundNotLatest")
	})
	t.Run("non-positive price", func(t *testing.T) {
		a := provenStatement(t, env, 6, 3)
		round, err := env.feeds[3].UpdateAnswer(ctx, env.chain, big.NewInt(0))
		if err != nil {
			t.Fatal(err)
		}
		a.RoundIDs[3] = round
		wantRevert(t, rawPublish(t, env, env.chain, a), "NonPositivePrice")
	})
	// S7: one snapshot epoch is one snapshot.
	t.Run("same epoch, another LC", func(t *testing.T) {
		a := provenStatement(t, env, 6, 3)
		a.LC.SetUint64(4242)
		if err := env.prove(a); err != nil {
			t.Fatal(err)
		}
		wantRevert(t, rawPublish(t, env, env.chain, a), "SnapshotMismatch")
	})
	t.Run("same epoch, another snapshot time", func(t *testing.T) {
		a := provenStatement(t, env, 6, 3)
		a.SnapshotTime--
		if err := env.prove(a); err != nil {
			t.Fatal(err)
		}
		wantRevert(t, rawPublish(t, env, env.chain, a), "SnapshotMismatch")
	})
	t.Run("new epoch taken before the latest snapshot", func(t *testing.T) {
		a := provenStatement(t, env, 6, 4)
		a.SnapshotTime = first.SnapshotTime - 1
		a.LC.SetUint64(77)
		if err := env.prove(a); err != nil {
			t.Fatal(err)
		}
		wantRevert(t, rawPublish(t, env, env.chain, a), "SnapshotTimeNotIncreasing")
	})
	// R1: reserves blocks move forward and are recent.
	t.Run("reserves block before the latest", func(t *testing.T) {
		a := provenStatement(t, env, 6, 3)
		a.ReservesBlock = first.ReservesBlock - 1
		if err := env.prove(a); err != nil {
			t.Fatal(err)
		}
		wantRevert(t, rawPublish(t, env, env.chain, a), "ReservesBlockRegressed")
	})
	t.Run("reserves block too old", func(t *testing.T) {
		for i := 0; i <= testMaxReservesAge; i++ {
			env.sim.Commit()
		}
		a := provenStatement(t, env, 6, 3)
		a.ReservesBlock = first.ReservesBlock // not before the latest, but too far behind the head
		if err := env.prove(a); err != nil {
			t.Fatal(err)
		}
		wantRevert(t, rawPublish(t, env, env.chain, a), "ReservesBlockTooOld")
		if _, err := env.reg.PublicInputs(ctx, a); RevertName(err) != "ReservesBlockTooOld" {
			t.Fatalf("publicInputs view: %v", err)
		}
	})
	t.Run("heartbeat above the cap", func(t *testing.T) {
		feeds := make([]FeedConfig, len(env.feeds))
		for i, f := range env.feeds {
			feeds[i] = FeedConfig{Aggregator: f.Address, Heartbeat: 3600}
		}
		feeds[2].Heartbeat = MaxHeartbeat + 1
		wantRevert(t, env.reg.ProposeFeeds(ctx, env.chain, feeds), "HeartbeatOutOfRange")
		feeds[2].Heartbeat = 0
		wantRevert(t, env.reg.ProposeFeeds(ctx, env.chain, feeds), "HeartbeatOutOfRange")
	})
	t.Run("governance only", func(t *testing.T) {
		err := env.reg.Announce(ctx, env.other, PowerPolicyHash, PolicyValue(testPolicyHash(env.chain.ChainID, env.addrs.Registry, 1)))
		wantRevert(t, err, "NotGovernance")
	})
	// Time moves forward from here on.
	t.Run("stale round", func(t *testing.T) {
		a := provenStatement(t, env, 6, 3)
		if err := env.sim.AdjustTime(2 * time.Hour); err != nil {
			t.Fatal(err)
		}
		wantRevert(t, rawPublish(t, env, env.chain, a), "StalePrice")
		// With fresh rounds the same cycle publishes.
		b := provenStatement(t, env, 6, 3)
		if _, err := env.reg.Publish(ctx, env.chain, b); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("feed timelock", func(t *testing.T) {
		feeds := make([]FeedConfig, len(env.feeds))
		for i, f := range env.feeds {
			feeds[i] = FeedConfig{Aggregator: f.Address, Heartbeat: 7200}
		}
		if err := env.reg.ProposeFeeds(ctx, env.chain, feeds); err != nil {
			t.Fatal(err)
		}
		wantRevert(t, env.reg.ApplyFeeds(ctx, env.chain), "ChangeTimelocked")
		if err := env.sim.AdjustTime(DefaultDevDelay + time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := env.reg.ApplyFeeds(ctx, env.chain); err != nil {
			t.Fatal(err)
		}
		f, err := env.reg.Feed(ctx, 0)
		if err != nil || f.Heartbeat != 7200 {
			t.Fatalf("feed after apply: %+v %v", f, err)
		}
	})
}

func TestPublishGas(t *testing.T) {
	if testing.Short() {
		t.Skip("gas measurement compiles three verifiers")
	}
	for _, n := range []int{4, 8, 16} {
		rep, err := measurePublishGas(context.Background(), testKeys(t, n))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("publish gas at %2d assets (%d public inputs): first %d, steady %d, budget %d; "+
			"under future-fork dev rules (EIP-8037): first %d, steady %d",
			n, rep.PublicInputs, rep.FirstPublish, rep.Publish, rep.Budget, rep.FutureFirstPublish, rep.FuturePublish)
		if rep.FirstPublish > rep.Budget || rep.Publish > rep.Budget {
			t.Errorf("publish at %d assets exceeds the budget of %d gas", n, rep.Budget)
		}
	}
}

// TestRegistryConstructorRejects: the registry refuses, in its constructor, a governance delay
// above MAX_DELAY, a heartbeat above MAX_HEARTBEAT (P1), a max reserves age of zero or above
// MAX_RESERVES_AGE (R1), and a bad auditor set; its constants are the Go ones. A zero delay is
// accepted (development chains; contracts check warns about it).
func TestRegistryConstructorRejects(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t, 4)
	art, err := RegistryArtifact()
	if err != nil {
		t.Fatal(err)
	}
	rabi, err := art.ParsedABI()
	if err != nil {
		t.Fatal(err)
	}
	code, err := art.Code()
	if err != nil {
		t.Fatal(err)
	}
	aggs := make([]common.Address, len(env.addrs.Feeds))
	for i, f := range env.addrs.Feeds {
		aggs[i] = f.Aggregator
	}
	auditors := []common.Address{}
	deploy := func(heartbeat uint32, delay, maxAge uint64) error {
		hbs := []uint32{3600, 3600, heartbeat, 3600}
		args, err := rabi.Pack("", env.addrs.Verifier, big.NewInt(4), env.chain.From(), env.chain.From(), aggs, hbs,
			new(big.Int).SetUint64(delay), new(big.Int).SetUint64(maxAge), [32]byte{}, auditors)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = env.chain.deploy(ctx, "registry", code, args, rabi)
		return err
	}
	minDelay, maxDelay := uint64(DefaultDevDelay/time.Second), uint64(MaxDelay/time.Second)
	if err := deploy(MaxHeartbeat, maxDelay, MaxReservesAgeLimit); err != nil {
		t.Fatalf("the bounds themselves are refused: %v", err)
	}
	if err := deploy(3600, 0, 1); err != nil {
		t.Fatalf("a zero delay is refused: %v", err)
	}
	for _, c := range []struct {
		name      string
		heartbeat uint32
		delay     uint64
		maxAge    uint64
		want      string
	}{
		{"delay above the maximum", 3600, maxDelay + 1, 7200, "DelayOutOfRange"},
		{"heartbeat above the cap", MaxHeartbeat + 1, minDelay, 7200, "HeartbeatOutOfRange"},
		{"heartbeat zero", 0, minDelay, 7200, "HeartbeatOutOfRange"},
		{"max reserves age zero", 3600, minDelay, 0, "ReservesAgeOutOfRange"},
		{"max reserves age absurd", 3600, minDelay, MaxReservesAgeLimit + 1, "ReservesAgeOutOfRange"},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantRevert(t, deploy(c.heartbeat, c.delay, c.maxAge), c.want)
		})
	}
	for name, list := range map[string][]common.Address{
		"zero address": {{}},
		"twice":        {env.chain.From(), env.other.From(), env.chain.From()},
		"too many":     make17(),
	} {
		t.Run("auditors "+name, func(t *testing.T) {
			auditors = list
			defer func() { auditors = []common.Address{} }()
			wantRevert(t, deploy(3600, minDelay, 7200), "BadAuditorSet")
		})
	}
	// Deploy checks the same bounds before sending anything.
	for _, cfg := range []DeployConfig{
		{Delay: -time.Second},
		{Delay: MaxDelay + time.Second},
		{Delay: DefaultDevDelay + time.Millisecond},
		{Delay: time.Second, ZeroDelay: true},
		{Auditors: []common.Address{{}}},
		{MaxReservesAge: MaxReservesAgeLimit + 1},
	} {
		cfg.NumAssets, cfg.Verifier, cfg.DevFeeds = 4, env.keys.verifier, devFeedSpecs(4, 3600)
		if _, err := Deploy(ctx, env.chain, cfg); err == nil {
			t.Errorf("Deploy accepted %+v", cfg)
		}
	}
	cfg := DeployConfig{NumAssets: 4, Verifier: env.keys.verifier, DevFeeds: devFeedSpecs(4, MaxHeartbeat+1)}
	if _, err := Deploy(ctx, env.chain, cfg); err == nil {
		t.Error("Deploy accepted a heartbeat above the cap")
	}
	// The zero config gets the development delay and the default max reserves age.
	addrs, err := Deploy(ctx, env.chain, DeployConfig{NumAssets: 4, Verifier: env.keys.verifier, DevFeeds: devFeedSpecs(4, 3600)})
	if err != nil {
		t.Fatal(err)
	}
	if addrs.DelaySeconds != minDelay || addrs.MaxReservesAgeBlocks != DefaultMaxReservesAge {
		t.Fatalf("defaults: %+v", addrs)
	}
	reg, err := addrs.Bind(env.chain.Backend)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := reg.Delay(ctx); err != nil || d != DefaultDevDelay {
		t.Fatalf("delay = %v, %v", d, err)
	}
	if n, err := reg.MaxReservesAge(ctx); err != nil || n != DefaultMaxReservesAge {
		t.Fatalf("maxReservesAge = %d, %v", n, err)
	}
	for name, want := range map[string]uint64{
		"MAX_DELAY": maxDelay, "MAX_AUDITORS": MaxAuditors, "MAX_HEARTBEAT": uint64(MaxHeartbeat),
		"MAX_RESERVES_AGE": MaxReservesAgeLimit,
	} {
		vals, err := reg.call(ctx, common.Address{}, name)
		if err != nil || len(vals) != 1 {
			t.Fatalf("%s: %v", name, err)
		}
		var got uint64
		switch v := vals[0].(type) {
		case *big.Int:
			got = v.Uint64()
		case uint32:
			got = uint64(v)
		default:
			t.Fatalf("%s: %T", name, v)
		}
		if got != want {
			t.Errorf("%s = %d in Solidity, %d in Go", name, got, want)
		}
	}
}

// make17 is one auditor more than the registry takes.
func make17() []common.Address {
	out := make([]common.Address, MaxAuditors+1)
	for i := range out {
		out[i] = common.BigToAddress(big.NewInt(int64(i + 1)))
	}
	return out
}
