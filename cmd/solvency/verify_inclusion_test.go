package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/devnet"
	"github.com/solvency-dev/solvency/internal/cyclefixture"
	"github.com/solvency-dev/solvency/prover"
)

// chainCycle is a test profile's registry on the embedded dev chain, and an operator who holds
// the proving keys and the snapshot: it proves bundles under any policy, prices and reserves
// block it likes, and publishes what it likes.
type chainCycle struct {
	t        *testing.T
	fx       *cyclefixture.Fixture
	dir      string
	rpc      string
	addrFile string
	chain    *contracts.Chain
	reg      *contracts.Registry
	policy   solvency.Policy // governance's: bound to this chain and registry
	prices   []bundle.Price  // the feeds' latest rounds
	salt     fr.Element      // one RC salt, so every bundle commits to the same reserves
}

func newChainCycle(t *testing.T) *chainCycle {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	fx, err := cyclefixture.New(filepath.Join(dir, "fx"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fx.Store.Close() })
	d, err := devnet.Start(devnet.Config{DataDir: filepath.Join(dir, "chain"), HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ch, err := contracts.NewChain(ctx, d.Client(), d.Key)
	if err != nil {
		t.Fatal(err)
	}
	ch.PollInterval = 20 * time.Millisecond
	sk, err := fx.Keys.Get(prover.SolvencyCircuit)
	if err != nil {
		t.Fatal(err)
	}
	_, art, err := contracts.CompileVerifier(ctx, sk.VK, fx.Profile.Assets)
	if err != nil {
		t.Fatal(err)
	}
	// The operator's key is also the one auditor, in force from deployment.
	cfg := contracts.DeployConfig{NumAssets: fx.Profile.Assets, Verifier: art, Auditors: []common.Address{ch.From()}}
	for _, p := range fx.Data.Prices {
		ans, ok := new(big.Int).SetString(p.Answer, 10)
		if !ok {
			t.Fatalf("answer %q", p.Answer)
		}
		cfg.DevFeeds = append(cfg.DevFeeds, contracts.DevFeedSpec{Description: p.Symbol + " / USD", Decimals: p.FeedDecimals, Answer: ans, Heartbeat: 86400})
	}
	addr, err := contracts.Deploy(ctx, ch, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := &chainCycle{t: t, fx: fx, dir: dir, rpc: d.HTTPEndpoint(), addrFile: filepath.Join(dir, "addresses.json"), chain: ch}
	if err := contracts.WriteAddresses(c.addrFile, addr); err != nil {
		t.Fatal(err)
	}
	if c.reg, err = addr.Bind(ch.Backend); err != nil {
		t.Fatal(err)
	}
	c.policy = *fx.Data.Policy
	c.policy.ChainID, c.policy.Registry = ch.ChainID.Uint64(), addr.Registry
	h, err := c.policy.Hash(poseidon.NewHasher())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.reg.SetPolicyHash(ctx, ch, h); err != nil {
		t.Fatal(err)
	}
	for i, p := range fx.Data.Prices {
		feed, err := contracts.NewDevFeed(addr.Feeds[i].Aggregator, ch.Backend)
		if err != nil {
			t.Fatal(err)
		}
		id, err := feed.LatestRound(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rd, err := feed.RoundData(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		p.Round, p.UpdatedAt = id.String(), rd.UpdatedAt
		c.prices = append(c.prices, p)
	}
	c.salt.SetUint64(424242)
	return c
}

func (c *chainCycle) head() uint64 {
	n, err := c.chain.Backend.BlockNumber(context.Background())
	if err != nil {
		c.t.Fatal(err)
	}
	return n
}

// prove makes a bundle of the fixture's snapshot (the same LC every time) for cycle.
func (c *chainCycle) prove(name string, cycle uint64, pol *solvency.Policy, prices []bundle.Price, block uint64) (string, *bundle.Manifest) {
	c.t.Helper()
	out := filepath.Join(c.dir, name)
	req := c.fx.Request(out, c.fx.Proofs, "")
	req.Policy, req.Prices, req.Cycle, req.ReservesBlock, req.RCSalt = pol, prices, cycle, block, &c.salt
	res, err := prover.ProveCycle(context.Background(), req)
	if err != nil {
		c.t.Fatalf("prove %s: %v", name, err)
	}
	return out, res.Manifest
}

// publish records bundle dir's statement; with other set, under other's manifest digest and URI
// (the registry cannot check a digest: it is the operator's word).
func (c *chainCycle) publish(dir string, m *bundle.Manifest, other string) {
	c.t.Helper()
	a, err := contracts.BundleAttestation(dir, m)
	if err != nil {
		c.t.Fatal(err)
	}
	if other != "" {
		raw, err := os.ReadFile(filepath.Join(other, bundle.ManifestFile))
		if err != nil {
			c.t.Fatal(err)
		}
		a.BundleDigest, a.BundleURI = sha256.Sum256(raw), "file://"+other
	}
	if _, err := c.reg.Publish(context.Background(), c.chain, a); err != nil {
		c.t.Fatalf("publish cycle %d: %v", m.Statement.Cycle, err)
	}
}

// otherPrices is what a flattering operator proves with: the first asset 5% dearer, from a
// round the feed never had.
func otherPrices(ps []bundle.Price) []bundle.Price {
	out := append([]bundle.Price(nil), ps...)
	p := &out[0]
	p.Price += p.Price / 20
	p.Answer, p.FeedDecimals, p.Round = strconv.FormatUint(p.Price, 10), 8, "987654321"
	return out
}

// verifyInclusion runs the command without a process: its stdout, and the exit code.
func verifyInclusion(t *testing.T, o verifyInclusionOptions) (string, int, error) {
	t.Helper()
	var out bytes.Buffer
	err := runVerifyInclusion(&out, o)
	code := 0
	if err != nil {
		code = exitBadInput
		var ee *exitErr
		if errors.As(err, &ee) {
			code = ee.code
		}
	}
	return out.String(), code, err
}

// TestV5_CountedOnlyWhenTheBundleIsTheOneOnChain: a bundle published on the dev chain is
// COUNTED; the same bundle, or one never published, checked without the chain is not (exit 1);
// a proof for another account is refused; and an operator who publishes bundle A and hands the
// user bundle B with the same LC but another policy, prices, rounds or reserves block is refused,
// whether B is handed over directly or its digest is what A's record names.
func TestV5_CountedOnlyWhenTheBundleIsTheOneOnChain(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits or compiles contracts: run without -short")
	}
	c := newChainCycle(t)
	acct := c.fx.Data.Accounts[0].ID
	p, err := c.fx.Store.Proof(acct)
	if err != nil {
		t.Fatal(err)
	}
	proofFile := filepath.Join(c.dir, "me.json")
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(proofFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	onChain := verifyInclusionOptions{proofFile: proofFile, account: acct, keysFrom: c.fx.KeysDir, rpc: c.rpc, addresses: c.addrFile}

	a1, m1 := c.prove("a1", 1, &c.policy, c.prices, c.head())
	c.publish(a1, m1, "")
	out, code, err := verifyInclusion(t, onChain)
	if code != 0 || !strings.HasPrefix(out, "COUNTED") {
		t.Fatalf("published bundle: exit %d (%v)\n%s", code, err, out)
	}
	t.Logf("published bundle:\n%s", out)
	j := onChain
	j.json = true
	out, code, _ = verifyInclusion(t, j)
	var res inclusionResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || !res.OK || !res.Counted || !res.OnChainMatched ||
		res.ChainID != c.chain.ChainID.String() {
		t.Fatalf("published bundle, --json: exit %d, %s", code, out)
	}

	// Without the chain, neither the published bundle nor the fixture's never-published one counts.
	for _, dir := range []string{a1, c.fx.Bundle} {
		o := verifyInclusionOptions{proofFile: proofFile, account: acct, keysFrom: c.fx.KeysDir, bundle: dir}
		out, code, _ := verifyInclusion(t, o)
		if code != exitInvalid || !strings.HasPrefix(out, verdictBundleOnly) || !strings.Contains(out, "NOT checked:") {
			t.Fatalf("--bundle %s alone: exit %d\n%s", dir, code, out)
		}
		o.json = true
		out, code, _ = verifyInclusion(t, o)
		if err := json.Unmarshal([]byte(out), &res); err != nil || code != exitInvalid || res.OK || res.Counted || !res.BundleVerified {
			t.Fatalf("--bundle %s alone, --json: exit %d, %s", dir, code, out)
		}
	}

	// Another account's valid proof.
	other := onChain
	other.account = c.fx.Data.Accounts[1].ID
	if out, code, _ := verifyInclusion(t, other); code != exitInvalid || strings.Contains(out, "COUNTED") && !strings.Contains(out, "NOT COUNTED") {
		t.Fatalf("a proof for another account: exit %d\n%s", code, out)
	}

	// B1: the same snapshot and reserves, cycle 1, proven under a laxer policy (lower minimum
	// collateral), handed to the user while A1 is what the chain records.
	lax := c.policy
	lax.MinCollateralBps = 10000
	b1, _ := c.prove("b1", 1, &lax, c.prices, c.head())
	handed := onChain
	handed.bundle = b1
	out, code, err = verifyInclusion(t, handed)
	if code != exitInvalid || err == nil || !strings.Contains(err.Error(), "policy hash") || strings.HasPrefix(out, "COUNTED") {
		t.Fatalf("bundle B1 handed over: exit %d, %v\n%s", code, err, out)
	}

	// B2: cycle 2 with the same LC, policy and RC, but a flattering price from a round the feed
	// never had and an older reserves block; the operator publishes A2's proven statement under
	// B2's manifest digest and URI, so the digest matches and only the statement can tell.
	a2, m2 := c.prove("a2", 2, &c.policy, c.prices, c.head())
	b2, mb2 := c.prove("b2", 2, &c.policy, otherPrices(c.prices), m2.Statement.ReservesBlock-1)
	if !mb2.Statement.LC.Equal(&m2.Statement.LC.Element) || !mb2.Statement.RC.Equal(&m2.Statement.RC.Element) ||
		!mb2.Statement.PolicyHash.Equal(&m2.Statement.PolicyHash.Element) {
		t.Fatal("B2 should differ from A2 only in prices, rounds and reserves block")
	}
	c.publish(a2, m2, b2)
	out, code, err = verifyInclusion(t, onChain)
	if code != exitInvalid || err == nil || strings.HasPrefix(out, "COUNTED") {
		t.Fatalf("A2 published under B2's digest: exit %d, %v\n%s", code, err, out)
	}
	t.Logf("A2 under B2's digest: %v\n%s", err, out)
	if !strings.HasPrefix(out, verdictDiffers) || !strings.Contains(out, "FAILED: NOT COUNTED") {
		t.Errorf("the report does not say what held and what failed:\n%s", out)
	}
	for _, field := range []string{"reserves block", "price 0", "round 0"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("refusal does not name the %s: %v", field, err)
		}
	}
	if strings.Contains(err.Error(), "manifest digest") {
		t.Errorf("the digests match in this attack; the refusal says otherwise: %v", err)
	}
}

// TestR1_InclusionShowsCountersign: the users' check says whether, and by which auditor, the
// matched cycle was countersigned on chain, in text and JSON; a countersign does not change the
// verdict (the balance is counted either way).
func TestR1_InclusionShowsCountersign(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits or compiles contracts: run without -short")
	}
	ctx := context.Background()
	c := newChainCycle(t)
	acct := c.fx.Data.Accounts[0].ID
	p, err := c.fx.Store.Proof(acct)
	if err != nil {
		t.Fatal(err)
	}
	proofFile := filepath.Join(c.dir, "me.json")
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(proofFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	o := verifyInclusionOptions{proofFile: proofFile, account: acct, keysFrom: c.fx.KeysDir, rpc: c.rpc, addresses: c.addrFile}
	a1, m1 := c.prove("a1", 1, &c.policy, c.prices, c.head())
	c.publish(a1, m1, "")
	out, code, err := verifyInclusion(t, o)
	if code != 0 || !strings.HasPrefix(out, "COUNTED") || !strings.Contains(out, "reserves countersigned by an auditor: no") {
		t.Fatalf("before the countersign: exit %d (%v)\n%s", code, err, out)
	}
	if _, err := c.reg.Countersign(ctx, c.chain, 1); err != nil {
		t.Fatal(err)
	}
	out, code, err = verifyInclusion(t, o)
	want := "reserves countersigned by an auditor: yes, by " + c.chain.From().Hex()
	if code != 0 || !strings.HasPrefix(out, "COUNTED") || !strings.Contains(out, want) {
		t.Fatalf("after the countersign: exit %d (%v); want %q in\n%s", code, err, want, out)
	}
	o.json = true
	out, code, _ = verifyInclusion(t, o)
	var res inclusionResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || !res.Countersigned ||
		len(res.CountersignedBy) != 1 || res.CountersignedBy[0].Auditor != c.chain.From() {
		t.Fatalf("--json after the countersign: exit %d, %s", code, out)
	}
}

// TestL7_InclusionNeedsTheTypedAccount: the account id is always typed by the user; without
// --account the command is a usage error (exit 2) before any file is read.
func TestL7_InclusionNeedsTheTypedAccount(t *testing.T) {
	root := "0x0000000000000000000000000000000000000000000000000000000000000001"
	if code := run([]string{"verify", "inclusion", "--proof", "no-such.json", "--root", root}); code != exitBadInput {
		t.Fatalf("no --account: exit %d; want %d", code, exitBadInput)
	}
	_, code, err := verifyInclusion(t, verifyInclusionOptions{proofFile: "no-such.json", root: root})
	if code != exitBadInput || err == nil || !strings.Contains(err.Error(), "--account is required") {
		t.Fatalf("run function without an account: exit %d, %v", code, err)
	}
}
