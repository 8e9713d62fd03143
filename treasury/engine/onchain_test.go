package engine

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/devnet"
	"github.com/solvency-dev/solvency/contracts/treasurychain"
	"github.com/solvency-dev/solvency/treasury/execute"
	"github.com/solvency-dev/solvency/treasury/state"
	"github.com/solvency-dev/solvency/verifier"
)

// onchainTreasury is the set-up every on-chain test shares: the sample's config (its Onchain
// file set), the embedded chain in dir/chain and the sample treasury's contracts deployed there
// once (dir/treasury), with a Safe of 3 owners, 2 of whom sign.
type onchainTreasury struct {
	cfg *Config
	dn  *devnet.Devnet
	ch  *contracts.Chain
	dt  *DevTreasury
}

// startOnchainTreasury starts it; the caller closes dn.
func startOnchainTreasury(dir string) (*onchainTreasury, error) {
	cfg, err := LoadConfig(filepath.Join(dir, "sample", "config.json"))
	if err != nil {
		return nil, err
	}
	dn, err := devnet.Start(devnet.Config{DataDir: filepath.Join(dir, "chain")})
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	ch, err := contracts.NewChain(ctx, dn.Client(), dn.Key)
	if err != nil {
		dn.Close()
		return nil, err
	}
	dt, err := DeployDevTreasury(ctx, ch, cfg, filepath.Join(dir, "treasury"), 3, 2)
	if err != nil {
		dn.Close()
		return nil, err
	}
	cfg.Onchain = dt.Onchain
	return &onchainTreasury{cfg: cfg, dn: dn, ch: ch, dt: dt}, nil
}

// runOnchainIn runs the engine to `cycles` cycles with its reserves on the embedded chain in
// dir/chain: the sample treasury's contracts deployed there once (dir/treasury), the Safe's
// owners signing (2 of 3), the state in dir/state.
func runOnchainIn(dir string, cycles int, fault func(string) error, log io.Writer) error {
	ot, err := startOnchainTreasury(dir)
	if err != nil {
		return err
	}
	defer ot.dn.Close()
	ctx, cfg, ch := context.Background(), ot.cfg, ot.ch
	st := filepath.Join(dir, "state")
	evm := &EVMChain{Chain: ch, AddrFile: filepath.Join(st, "addresses.json"), DevFeeds: true, Name: "onchain devnet",
		Embedded: true, Fault: fault}
	if log == nil {
		log = io.Discard
	}
	eng, err := Open(ctx, cfg, Options{StateDir: st, Keys: testKeysDir, Chain: evm, Log: log, Fault: fault})
	if err != nil {
		return err
	}
	defer eng.Close()
	return eng.Run(ctx, cycles, nil)
}

// onchainOutcome is what an on-chain run leaves: the Safe's nonce and executions, the
// registry's count, and each cycle's record.
type onchainOutcome struct {
	Nonce      uint64
	Executions []common.Hash // transactions that emitted the Safe's ExecutionSuccess
	Count      uint64
	Latest     uint64
	Records    []*state.CycleRecord
	Deployment *treasurychain.Deployment
}

func readOnchainOutcome(t *testing.T, dir string) *onchainOutcome {
	t.Helper()
	st, err := state.Open(filepath.Join(dir, "state", "state"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := st.Records()
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	dn, err := devnet.Start(devnet.Config{DataDir: filepath.Join(dir, "chain")})
	if err != nil {
		t.Fatal(err)
	}
	defer dn.Close()
	ctx := context.Background()
	cl := dn.Client()
	d, err := treasurychain.ReadDeployment(filepath.Join(dir, "treasury", "treasury-deployment.json"))
	if err != nil {
		t.Fatal(err)
	}
	o := &onchainOutcome{Records: recs, Deployment: d}
	sst, err := treasurychain.ReadSafe(ctx, cl, d.Safe)
	if err != nil {
		t.Fatal(err)
	}
	o.Nonce = sst.Nonce.Uint64()
	art, err := treasurychain.LoadArtifact(treasurychain.ArtSafe)
	if err != nil {
		t.Fatal(err)
	}
	sabi, err := art.ParsedABI()
	if err != nil {
		t.Fatal(err)
	}
	logs, err := cl.FilterLogs(ctx, ethereum.FilterQuery{FromBlock: big.NewInt(0), Addresses: []common.Address{d.Safe},
		Topics: [][]common.Hash{{sabi.Events["ExecutionSuccess"].ID}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range logs {
		o.Executions = append(o.Executions, l.TxHash)
	}
	a, err := contracts.ReadAddresses(filepath.Join(dir, "state", "addresses.json"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := a.Bind(cl)
	if err != nil {
		t.Fatal(err)
	}
	l, err := reg.LatestAttestation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	o.Count, o.Latest = l.Count, l.Cycle
	return o
}

// checkExecutedOnce: every cycle published once, the trading cycle executed through the Safe
// exactly once, and its record names that execution and reads its reserves at that block.
func checkExecutedOnce(t *testing.T, o *onchainOutcome, cycles int) {
	t.Helper()
	if o.Count != uint64(cycles) || o.Latest != uint64(cycles) {
		t.Fatalf("registry: %d attestations, latest %d; want %d each", o.Count, o.Latest, cycles)
	}
	traded := 0
	for _, r := range o.Records {
		if !r.Stage.Complete() || r.Chain == nil || r.Chain.ReadBlock == 0 || r.ReservesBlock != r.Chain.ReadBlock {
			t.Fatalf("cycle %d: stage %s, chain record %+v, reserves block %d", r.Cycle, r.Stage, r.Chain, r.ReservesBlock)
		}
		if len(r.Trades) == 0 {
			continue
		}
		traded++
		if r.Chain.SafeTx == nil || r.Chain.ExecTx == "" || r.Chain.GasUsed == 0 {
			t.Fatalf("cycle %d traded but records no Safe execution: %+v", r.Cycle, r.Chain)
		}
		if len(o.Executions) == 0 || o.Executions[traded-1].Hex() != r.Chain.ExecTx {
			t.Fatalf("cycle %d records execution %s; the Safe's executions are %v", r.Cycle, r.Chain.ExecTx, o.Executions)
		}
	}
	if traded == 0 {
		t.Fatal("no cycle traded: the test exercises no Safe execution")
	}
	if int(o.Nonce) != traded || len(o.Executions) != traded {
		t.Fatalf("Safe nonce %d, %d executions; want %d (one per trading cycle)", o.Nonce, len(o.Executions), traded)
	}
}

// onchainRef is the uninterrupted on-chain run (made once per test binary).
var onchainRef *onchainOutcome

func onchainReference(t *testing.T) *onchainOutcome {
	t.Helper()
	if onchainRef != nil {
		return onchainRef
	}
	dir := t.TempDir()
	sampleConfig(t, dir, crashUsers)
	sharedKeys(t, "demo")
	var log bytes.Buffer
	if err := runOnchainIn(dir, crashCycles, nil, &log); err != nil {
		t.Fatalf("on-chain run: %v\n%s", err, log.String())
	}
	t.Logf("%s", log.String())
	onchainRef = readOnchainOutcome(t, dir)
	checkExecutedOnce(t, onchainRef, crashCycles)
	checkAuditorReadsChain(t, dir, onchainRef)
	return onchainRef
}

// TestOnchainReservesReadAndExecutedThroughSafe runs the sample treasury with its reserves on the
// embedded chain: each cycle reads the positions at one block with one multicall, the
// rebalance executes as one Safe transaction signed by 2 of its 3 owners, the positions are read
// again at the block it landed in and that block is the statement's reserves block. The
// auditor's on-chain check of the engine's opening passes, and the same opening claiming one
// unit more than the chain holds is refused.
func TestOnchainReservesReadAndExecutedThroughSafe(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits")
	}
	onchainReference(t)
}

// checkAuditorReadsChain runs the auditor's check (verifier.CheckReserves with the node) on
// every cycle's opening: honest, it passes; with one unit more USDC at the Safe, under an RC that
// opens to it, it is refused as overstated.
func checkAuditorReadsChain(t *testing.T, dir string, o *onchainOutcome) {
	t.Helper()
	dn, err := devnet.Start(devnet.Config{DataDir: filepath.Join(dir, "chain")})
	if err != nil {
		t.Fatal(err)
	}
	defer dn.Close()
	ctx := context.Background()
	cl := dn.Client()
	for _, r := range o.Records {
		path := filepath.Join(dir, "state", "cycles", strconv.FormatUint(1_000_000+r.Cycle, 10)[1:], "private",
			"reserves-opening-"+strconv.FormatUint(1_000_000+r.Cycle, 10)[1:]+".json")
		raw, err := bundle.ReadReservesOpening(path)
		if err != nil {
			t.Fatal(err)
		}
		if raw.Chain == nil || len(raw.Chain.Positions) == 0 || len(raw.Chain.OffChain) == 0 || raw.Block != r.ReservesBlock {
			t.Fatalf("cycle %d opening: chain map %+v, block %d (reserves block %d)", r.Cycle, raw.Chain, raw.Block, r.ReservesBlock)
		}
		names := []string{}
		for _, oc := range raw.Chain.OffChain {
			names = append(names, oc.Name)
		}
		if !strings.Contains(strings.Join(names, ","), "gmx") {
			t.Fatalf("cycle %d: off-chain venues %v do not name gmx", r.Cycle, names)
		}
		man, err := bundle.ReadManifest(filepath.Join(dir, "state", "cycles", strconv.FormatUint(1_000_000+r.Cycle, 10)[1:], "bundle"))
		if err != nil {
			t.Fatal(err)
		}
		check := func(op *bundle.ReservesOpening, rc poseidon.Element) *verifier.ReservesResult {
			opened, err := verifier.ParseOpening(op)
			if err != nil {
				t.Fatal(err)
			}
			// The auditor observes the off-chain venues' balances elsewhere; here, the amounts
			// the engine's state holds for them.
			off := OffChainBalances(op)
			if len(off.Balances) == 0 {
				t.Fatalf("cycle %d: no off-chain balances (the sample holds a position at gmx)", r.Cycle)
			}
			res, err := verifier.CheckReserves(ctx, verifier.ReservesInput{Opening: opened, Record: &verifier.RecordStatement{Where: "test", RC: rc.Element, Block: op.Block},
				Observed: off, Chain: cl})
			if err != nil {
				t.Fatalf("cycle %d: %v", r.Cycle, err)
			}
			return res
		}
		if res := check(raw, man.Statement.RC); !res.OK {
			t.Fatalf("cycle %d: the auditor's on-chain check fails: %+v", r.Cycle, res.Failed())
		}
		// One unit more USDC at the Safe than the chain holds, committed under a matching RC.
		table := raw.Assets
		var pos []solvency.Position
		bumped := false
		for i, p := range raw.Positions {
			v, _ := new(big.Int).SetString(p.Amount, 10)
			if !bumped && table[p.Asset].Symbol == "USDC" && p.Venue == 0 {
				v.Add(v, big.NewInt(1))
				raw.Positions[i].Amount = v.String()
				bumped = true
			}
			pos = append(pos, solvency.Position{Venue: p.Venue, Asset: p.Asset, Amount: v})
		}
		if !bumped {
			t.Fatalf("cycle %d: no USDC at the Safe in the opening", r.Cycle)
		}
		// The RC over every record the opening holds: positions, options and pool shares.
		op, err := verifier.ParseOpening(raw)
		if err != nil {
			t.Fatal(err)
		}
		w := solvency.Witness{Slots: raw.Slots, OptionSlots: op.OptionSlots, PoolSlots: op.PoolSlots,
			Inputs: solvency.Inputs{Positions: pos, Options: op.Options, Pools: op.Pools}}
		rc, err := w.ReservesCommitment(poseidon.NewHasher(), op.Salt)
		if err != nil {
			t.Fatal(err)
		}
		raw.RC = poseidon.Hex(rc)
		res := check(raw, poseidon.Element{Element: rc})
		if res.OK || res.Failed() == nil || !strings.Contains(res.Failed().Detail, "USDC") {
			t.Fatalf("cycle %d: one unit more USDC than the chain holds: %+v", r.Cycle, res.Failed())
		}
	}
}

// The on-chain crash child: runs the on-chain engine and SIGKILLs itself at the n-th call of
// the fault point ENGINE_CRASH_AT.
func TestOnchainCrashChild(t *testing.T) {
	dir := os.Getenv("ENGINE_ONCHAIN_CRASH_DIR")
	if dir == "" {
		t.Skip("crash child: run by TestOnchainKillNineBetweenExecutionAndReread")
	}
	at := os.Getenv("ENGINE_CRASH_AT")
	want, _ := strconv.Atoi(os.Getenv("ENGINE_CRASH_N"))
	n := 0
	err := runOnchainIn(dir, crashCycles, func(point string) error {
		if point == at {
			if n++; n == want {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
		return nil
	}, nil)
	t.Fatalf("the run ended without reaching %s #%d: %v", at, want, err)
}

// TestOnchainKillNineBetweenExecutionAndReread kills the engine (a real child process, SIGKILL)
// after the Safe transaction is recorded and before it is sent, and after its receipt is in and
// before the positions are read again; the rerun finds the recorded transaction (or its
// execution, by its safeTxHash, once the Safe's nonce moved) and does not execute again: each
// cycle is executed once and published once, with the uninterrupted run's positions.
func TestOnchainKillNineBetweenExecutionAndReread(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits")
	}
	want := onchainReference(t)
	for _, at := range OnchainFaultPoints() {
		t.Run(at, func(t *testing.T) {
			dir := t.TempDir()
			sampleConfig(t, dir, crashUsers)
			cmd := exec.Command(os.Args[0], "-test.run", "^TestOnchainCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "ENGINE_ONCHAIN_CRASH_DIR="+dir, "ENGINE_CRASH_AT="+at, "ENGINE_CRASH_N=1")
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || !strings.Contains(ee.String(), "killed") {
				t.Fatalf("child was not killed (err %v):\n%s", err, out)
			}
			var log bytes.Buffer
			if err := runOnchainIn(dir, crashCycles, nil, &log); err != nil {
				t.Fatalf("rerun: %v\n%s", err, log.String())
			}
			if !strings.Contains(log.String(), "resuming Safe transaction") {
				t.Errorf("the rerun did not resume the recorded Safe transaction:\n%s", log.String())
			}
			got := readOnchainOutcome(t, dir)
			checkExecutedOnce(t, got, crashCycles)
			for i, r := range got.Records {
				g, _ := json.Marshal(r.PositionsAfter.Canonical())
				w, _ := json.Marshal(want.Records[i].PositionsAfter.Canonical())
				if !bytes.Equal(g, w) {
					t.Errorf("cycle %d positions after differ from the uninterrupted run's:\n got %s\nwant %s", r.Cycle, g, w)
				}
			}
		})
	}
}

// TestOnchainFailedTradeStopsCycle: the pool moves against the recorded Safe transaction
// before it is sent (here the dev market re-centred at a doubled ETH price, as a trader ahead of
// it would): the swap's fixed output no longer clears, the Safe transaction fails as a whole,
// the cycle stops saying so, and nothing is proved or published.
func TestOnchainFailedTradeStopsCycle(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits")
	}
	dir := t.TempDir()
	sampleConfig(t, dir, crashUsers)
	sharedKeys(t, "demo")
	ot, err := startOnchainTreasury(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ot.dn.Close()
	ctx, cfg, ch, dt := context.Background(), ot.cfg, ot.ch, ot.dt
	var moveErr error
	var eng *Engine
	fault := func(point string) error {
		if point != "safe-recorded" {
			return nil
		}
		rec, err := eng.st.Record(1)
		if err != nil {
			moveErr = err
			return nil
		}
		prices := map[string]uint64{}
		for k, v := range rec.Prices.Prices {
			prices[k] = v
		}
		prices["ETH"] *= 2
		_, moveErr = treasurychain.Recentre(ctx, ch, dt.Deployment, prices)
		return nil
	}
	st := filepath.Join(dir, "state")
	evm := &EVMChain{Chain: ch, AddrFile: filepath.Join(st, "addresses.json"), DevFeeds: true, Name: "onchain devnet", Embedded: true}
	var log bytes.Buffer
	eng, err = Open(ctx, cfg, Options{StateDir: st, Keys: testKeysDir, Chain: evm, Log: &log, Fault: fault})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	err = eng.Run(ctx, 1, nil)
	if moveErr != nil {
		t.Fatal(moveErr)
	}
	if err == nil || !strings.Contains(err.Error(), "Safe execution") {
		t.Fatalf("run: %v; want the Safe execution's failure\n%s", err, log.String())
	}
	t.Logf("stopped: %v", err)
	if _, ok, _ := evm.PublishedCycle(ctx); ok {
		t.Fatal("the registry holds a cycle: something was published after a failed execution")
	}
	rec, err := eng.st.Record(1)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Stage != state.StageRebalanced {
		t.Fatalf("cycle 1 is at %s; want it stopped before execution is recorded", rec.Stage)
	}
	sst, err := treasurychain.ReadSafe(ctx, ch.Backend, dt.Deployment.Safe)
	if err != nil {
		t.Fatal(err)
	}
	if sst.Nonce.Sign() != 0 {
		t.Fatalf("Safe nonce %s; a failed execution must not move it", sst.Nonce)
	}
}

// TestOnchainBatchWaitsForOwnersElsewhere: a Safe whose owners sign elsewhere. The engine writes
// the Transaction Builder batch (the chain's id, the Safe, its nonce) and waits for the Safe's
// nonce to move; with nobody signing it stops after its timeout saying so, and nothing is
// proved. The owners then sign and execute the pending transaction the engine wrote; the rerun
// waits for the same transaction (no second plan), finds its execution, reads the positions
// and publishes.
func TestOnchainBatchWaitsForOwnersElsewhere(t *testing.T) {
	if testing.Short() {
		t.Skip("proves real circuits")
	}
	dir := t.TempDir()
	sampleConfig(t, dir, crashUsers)
	sharedKeys(t, "demo")
	ot, err := startOnchainTreasury(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ot.dn.Close()
	ctx, cfg, ch, dt := context.Background(), ot.cfg, ot.ch, ot.dt
	tdir := filepath.Join(dir, "treasury")
	f, err := LoadOnchainFile(dt.Onchain)
	if err != nil {
		t.Fatal(err)
	}
	var owners []*ecdsa.PrivateKey
	for _, k := range f.Owners {
		key, err := contracts.LoadKey(filepath.Join(tdir, k.KeyFile))
		if err != nil {
			t.Fatal(err)
		}
		owners = append(owners, key)
	}
	f.Execution, f.Owners, f.WaitTimeout, f.WaitPoll = ExecBatch, nil, "2s", "100ms"
	raw, _ := json.Marshal(f)
	if err := os.WriteFile(dt.Onchain, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	st := filepath.Join(dir, "state")
	run := func() (string, error) {
		evm := &EVMChain{Chain: ch, AddrFile: filepath.Join(st, "addresses.json"), DevFeeds: true, Name: "onchain devnet", Embedded: true}
		var log bytes.Buffer
		eng, err := Open(ctx, cfg, Options{StateDir: st, Keys: testKeysDir, Chain: evm, Log: &log})
		if err != nil {
			return log.String(), err
		}
		defer eng.Close()
		err = eng.Run(ctx, 1, nil)
		return log.String(), err
	}
	log, err := run()
	if err == nil || !strings.Contains(err.Error(), "nonce did not move") || !strings.Contains(err.Error(), "owner signatures") {
		t.Fatalf("no owner signed: %v; want the wait's timeout, saying what is missing\n%s", err, log)
	}
	t.Logf("stopped: %v", err)
	cdir := filepath.Join(st, "cycles", "000001")
	var batch execute.Batch
	braw, err := os.ReadFile(filepath.Join(cdir, "safe-batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(braw, &batch); err != nil {
		t.Fatal(err)
	}
	var pend treasurychain.PendingSafeTx
	praw, err := os.ReadFile(filepath.Join(cdir, "safe-pending.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(praw, &pend); err != nil {
		t.Fatal(err)
	}
	if batch.ChainID != "1337" || !strings.EqualFold(batch.Meta.CreatedFromSafeAddress, dt.Deployment.Safe.Hex()) || pend.Nonce != 0 ||
		pend.Safe != dt.Deployment.Safe || pend.ChainID != devnet.ChainID {
		t.Fatalf("batch names chain %s, Safe %s; pending %+v", batch.ChainID, batch.Meta.CreatedFromSafeAddress, pend)
	}
	// The owners sign and execute what the batch asked for.
	if _, err := treasurychain.ExecutePending(ctx, ch, &pend, owners); err != nil {
		t.Fatal(err)
	}
	log, err = run()
	if err != nil {
		t.Fatalf("rerun after the owners executed: %v\n%s", err, log)
	}
	if !strings.Contains(log, "resuming Safe transaction "+pend.SafeTxHash.Hex()) {
		t.Fatalf("the rerun did not wait for the recorded transaction:\n%s", log)
	}
	sst, err := treasurychain.ReadSafe(ctx, ch.Backend, dt.Deployment.Safe)
	if err != nil {
		t.Fatal(err)
	}
	a, err := contracts.ReadAddresses(filepath.Join(st, "addresses.json"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := a.Bind(ch.Backend)
	if err != nil {
		t.Fatal(err)
	}
	l, err := reg.LatestAttestation(ctx)
	if err != nil || l.Count != 1 || l.Cycle != 1 || sst.Nonce.Uint64() != 1 {
		t.Fatalf("registry %+v (%v), Safe nonce %s; want cycle 1 published after one execution", l, err, sst.Nonce)
	}
}
