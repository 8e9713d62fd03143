package treasurychain

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/devnet"
	"github.com/solvency-dev/solvency/treasury/execute"
)

type env struct {
	dn     *devnet.Devnet
	chain  *contracts.Chain
	d      *Deployment
	owners []*ecdsa.PrivateKey
}

// newEnv starts an in-memory dev chain and deploys the sample treasury with a 2-of-3 Safe.
func newEnv(t *testing.T) *env {
	t.Helper()
	dn, err := devnet.Start(devnet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	chain, err := contracts.NewChain(ctx, dn.Client(), dn.Key)
	if err != nil {
		t.Fatal(err)
	}
	var keys []*ecdsa.PrivateKey
	var addrs []common.Address
	for range 3 {
		k, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
		addrs = append(addrs, crypto.PubkeyToAddress(k.PublicKey))
	}
	d, err := Deploy(ctx, chain, SampleSpec(addrs, 2))
	if err != nil {
		t.Fatal(err)
	}
	return &env{dn: dn, chain: chain, d: d, owners: keys}
}

func TestDeployFundsSafeAndReadsEveryPosition(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	st, err := ReadSafe(ctx, e.chain.Backend, e.d.Safe)
	if err != nil {
		t.Fatal(err)
	}
	if st.Threshold != 2 || len(st.Owners) != 3 || st.Nonce.Sign() != 0 {
		t.Fatalf("Safe state %+v", st)
	}
	r, err := NewReader(e.chain.Backend, e.d.Multicall)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := r.Read(ctx, e.d.Block, e.d.Positions())
	if err != nil {
		t.Fatal(err)
	}
	spec := SampleSpec(nil, 0)
	for _, h := range spec.Holdings {
		if got := snap.Amount(h.Venue, h.Asset); got == nil || got.Cmp(h.Amount) != 0 {
			t.Errorf("%s at %s: read %v, funded %s", h.Asset, h.Venue, got, h.Amount)
		}
	}
	// A venue the sample does not fund reads zero, not an error.
	if got := snap.Amount(DefaultSafeVenue, "DAI"); got == nil || got.Sign() != 0 {
		t.Errorf("DAI in the Safe: %v", got)
	}
	// Reading at a block before the funding sees the earlier state.
	early, err := r.Read(ctx, e.d.Block-1, e.d.Positions())
	if err != nil {
		t.Fatal(err)
	}
	if early.Amount("aave-v3-usdt", "USDT").Sign() != 0 {
		t.Errorf("the last funding deposit is visible a block early: %s", early.Amount("aave-v3-usdt", "USDT"))
	}
	// A contract that is not a token is named.
	bad := append(e.d.Positions(), PositionSpec{Venue: "x", Asset: "USDC", Kind: KindERC20, Holder: e.d.Safe, Contract: e.d.Safe})
	if _, err := r.Read(ctx, e.d.Block, bad); err == nil || !strings.Contains(err.Error(), "x/USDC") {
		t.Errorf("a non-token position read: %v", err)
	}
	// An address with no code answers a sub-call with success and no data: it is named too.
	empty := append(e.d.Positions(), PositionSpec{Venue: "y", Asset: "USDC", Kind: KindERC20, Holder: e.d.Safe,
		Contract: common.HexToAddress("0x00000000000000000000000000000000000000ee")})
	if _, err := r.Read(ctx, e.d.Block, empty); err == nil || !strings.Contains(err.Error(), "y/USDC") {
		t.Errorf("a position at an address with no code read: %v", err)
	}
	// No aggregator at block 0.
	if _, err := r.Read(ctx, 0, e.d.Positions()); !errors.Is(err, ErrNoMulticall) {
		t.Errorf("read at block 0: %v", err)
	}
	// A node that answers for another block than the one asked is caught by the block number
	// the aggregator returns.
	lagging, err := NewReader(&laggingBackend{Backend: e.chain.Backend}, e.d.Multicall)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lagging.Read(ctx, e.d.Block, e.d.Positions()); err == nil || !strings.Contains(err.Error(), "answered for block") {
		t.Errorf("a read answered for the block before: %v", err)
	}
}

// laggingBackend answers every eth_call for the block before the one asked: a node fault the
// dev chain cannot produce.
type laggingBackend struct{ contracts.Backend }

func (l *laggingBackend) CallContract(ctx context.Context, msg ethereum.CallMsg, block *big.Int) ([]byte, error) {
	return l.Backend.CallContract(ctx, msg, new(big.Int).Sub(block, big.NewInt(1)))
}

func sampleTrades() []Trade {
	return []Trade{
		{Kind: TradeWithdraw, Venue: "aave-v3-usdc", Asset: "USDC", Amount: units(1_000_000, 6)},
		{Kind: TradeSwap, Asset: "USDC", ToAsset: "DAI", Amount: units(500_000, 6), MinOut: units(490_000, 18)},
		{Kind: TradeDeposit, Venue: "aave-v3-dai", Asset: "DAI", Amount: units(400_000, 18)},
		{Kind: TradeSwap, Asset: "USDC", ToAsset: "USDT", Amount: units(200_000, 6), MinOut: units(195_000, 6)},
		{Kind: TradeDeposit, Venue: "compound-v3-usdc", Asset: "USDC", Amount: units(100_000, 6)},
	}
}

func TestSafeExecutionOwnersSign(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ex, err := NewExecutor(e.chain, e.d, e.owners[1:])
	if err != nil {
		t.Fatal(err)
	}
	plan, err := ex.Plan(ctx, sampleTrades())
	if err != nil {
		t.Fatal(err)
	}
	res, err := ex.Execute(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Safe execution of %d trades (%d calls): %d gas, tx %s", len(plan.Trades), len(plan.Calls), res.GasUsed, res.TxHash.Hex())
	if got := res.After.Amount("aave-v3-dai", "DAI"); got.Cmp(units(6_400_000, 18)) != 0 {
		t.Errorf("aave-v3-dai after: %s", got)
	}
	if got := res.After.Amount(DefaultSafeVenue, "USDC"); got.Cmp(units(10_200_000, 6)) != 0 {
		t.Errorf("Safe USDC after: %s", got)
	}
	st, err := ReadSafe(ctx, e.chain.Backend, e.d.Safe)
	if err != nil {
		t.Fatal(err)
	}
	if st.Nonce.Uint64() != 1 || res.Nonce != 0 {
		t.Errorf("nonce before %d, now %s", res.Nonce, st.Nonce)
	}

	// One owner of a 2-of-3 Safe cannot execute; a stranger's key is refused.
	one, err := NewExecutor(e.chain, e.d, e.owners[:1])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := one.Execute(ctx, plan); err == nil || !strings.Contains(err.Error(), "threshold is 2") {
		t.Errorf("one owner executed: %v", err)
	}
	stranger, _ := crypto.GenerateKey()
	bad, err := NewExecutor(e.chain, e.d, []*ecdsa.PrivateKey{e.owners[0], stranger})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Execute(ctx, plan); err == nil || !strings.Contains(err.Error(), "not an owner") {
		t.Errorf("a stranger signed: %v", err)
	}
	// A swap whose minimum is above what the pool pays is refused before anything is sent.
	_, err = ex.Plan(ctx, []Trade{{Kind: TradeSwap, Asset: "USDC", ToAsset: "DAI", Amount: units(1_000_000, 6), MinOut: units(1_000_000, 18)}})
	if err == nil || !strings.Contains(err.Error(), "slippage past the budget") {
		t.Errorf("swap over budget planned: %v", err)
	}
}

// TestExecutionDisagreementNamed executes a plan whose expectation says the Safe ends with one
// unit more DAI than the swap pays (as a partly filled trade would leave it): the re-read after
// execution names the position and both amounts.
func TestExecutionDisagreementNamed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ex, err := NewExecutor(e.chain, e.d, e.owners)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := ex.Plan(ctx, sampleTrades())
	if err != nil {
		t.Fatal(err)
	}
	plan.Expect["safe/DAI"].Add(plan.Expect["safe/DAI"], big.NewInt(1))
	_, err = ex.Execute(ctx, plan)
	var mm *MismatchError
	if !errors.As(err, &mm) || len(mm.Diffs) != 1 || mm.Diffs[0].Venue != DefaultSafeVenue || mm.Diffs[0].Asset != "DAI" {
		t.Fatalf("want one named disagreement at safe/DAI, got %v", err)
	}
	if d := mm.Diffs[0]; new(big.Int).Sub(d.Want, d.Got).Cmp(big.NewInt(1)) != 0 ||
		!strings.Contains(err.Error(), "DAI at safe") || !strings.Contains(err.Error(), "chain holds "+d.Got.String()) {
		t.Errorf("message: %v", err)
	}
}

func TestSafeTxHashMatchesSafe(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ex, err := NewExecutor(e.chain, e.d, e.owners)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := ex.Plan(ctx, sampleTrades()[:1])
	if err != nil {
		t.Fatal(err)
	}
	stx, err := ex.SafeTxFor(plan, big.NewInt(7))
	if err != nil {
		t.Fatal(err)
	}
	out, err := call(ctx, e.chain.Backend, ex.a, ArtSafe, e.d.Safe, nil, "getTransactionHash", stx.To, stx.Value, stx.Data,
		stx.Operation, stx.SafeTxGas, stx.BaseGas, stx.GasPrice, stx.GasToken, stx.Refund, stx.Nonce)
	if err != nil {
		t.Fatal(err)
	}
	if common.Hash(out[0].([32]byte)) != stx.Hash(e.chain.ChainID, e.d.Safe) {
		t.Fatal("Go's EIP-712 Safe transaction hash differs from Safe.getTransactionHash")
	}
}

func TestProductionBatchNamesChainSafeNonce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ex, err := NewExecutor(e.chain, e.d, e.owners)
	if err != nil {
		t.Fatal(err)
	}
	first, err := ex.Plan(ctx, sampleTrades()[:1])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ex.Execute(ctx, first); err != nil {
		t.Fatal(err)
	}
	plan, err := ex.Plan(ctx, sampleTrades()[1:])
	if err != nil {
		t.Fatal(err)
	}
	b, pend, err := ex.ProductionBatch(ctx, plan, "cycle 2", time.Unix(1_700_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	if b.ChainID != "1337" || pend.ChainID != devnet.ChainID {
		t.Errorf("chain id %s / %d, want 1337", b.ChainID, pend.ChainID)
	}
	if b.Meta.CreatedFromSafeAddress != e.d.Safe.Hex() || pend.Safe != e.d.Safe {
		t.Errorf("safe %s, want %s", b.Meta.CreatedFromSafeAddress, e.d.Safe.Hex())
	}
	if pend.Nonce != 1 || !strings.Contains(b.Meta.Description, "Safe nonce 1;") {
		t.Errorf("nonce %d, description %q; want nonce 1", pend.Nonce, b.Meta.Description)
	}
	if len(b.Transactions) != len(plan.Calls) {
		t.Errorf("%d batch transactions for %d calls", len(b.Transactions), len(plan.Calls))
	}
	if sum, err := b.ComputeChecksum(); err != nil || sum != b.Meta.Checksum {
		t.Errorf("checksum %s, recomputed %s (%v)", b.Meta.Checksum, sum, err)
	}
	// The hash in the batch is the Safe's own for that nonce.
	stx, err := ex.SafeTxFor(plan, big.NewInt(1))
	if err != nil {
		t.Fatal(err)
	}
	out, err := call(ctx, e.chain.Backend, ex.a, ArtSafe, e.d.Safe, nil, "getTransactionHash", stx.To, stx.Value, stx.Data,
		stx.Operation, stx.SafeTxGas, stx.BaseGas, stx.GasPrice, stx.GasToken, stx.Refund, stx.Nonce)
	if err != nil {
		t.Fatal(err)
	}
	if common.Hash(out[0].([32]byte)) != pend.SafeTxHash {
		t.Errorf("safeTxHash %s is not the Safe's", pend.SafeTxHash.Hex())
	}
	dir := t.TempDir()
	bp, pp := filepath.Join(dir, "safe-batch.json"), filepath.Join(dir, "safe-tx.json")
	if err := WriteProductionBatch(bp, pp, b, pend); err != nil {
		t.Fatal(err)
	}
	var back execute.Batch
	var backTx PendingSafeTx
	for path, v := range map[string]any{bp: &back, pp: &backTx} {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatal(err)
		}
	}
	if back.ChainID != "1337" || back.Meta.CreatedFromSafeAddress != e.d.Safe.Hex() || backTx.Nonce != 1 || backTx.SafeTxHash != pend.SafeTxHash {
		t.Errorf("written batch %+v / %+v", back.Meta, backTx)
	}
	// Nobody signs: the wait times out with a message naming the Safe and nonce.
	if _, err := WaitNonce(ctx, e.chain.Backend, e.d.Safe, 1, 10*time.Millisecond, 50*time.Millisecond); !errors.Is(err, ErrNonceTimeout) ||
		!strings.Contains(err.Error(), "still at nonce 1") {
		t.Errorf("wait without execution: %v", err)
	}
	// The owners execute it (here, with the keys): the nonce moves.
	if _, err := ex.Execute(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if n, err := WaitNonce(ctx, e.chain.Backend, e.d.Safe, 1, 10*time.Millisecond, time.Second); err != nil || n != 2 {
		t.Errorf("wait after execution: %d, %v", n, err)
	}
}

// TestExecuteOnceAfterCrash: a run that executed and died before re-reading (here: Execute ran,
// its result was lost) reruns ExecuteOnce with the recorded plan and nonce: nothing is executed
// again, and the positions around the execution block are checked. A nonce taken by another
// transaction is reported, not executed over.
func TestExecuteOnceAfterCrash(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ex, err := NewExecutor(e.chain, e.d, e.owners)
	if err != nil {
		t.Fatal(err)
	}
	from, err := e.chain.Backend.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := ex.Plan(ctx, sampleTrades())
	if err != nil {
		t.Fatal(err)
	}
	first, err := ex.ExecuteOnce(ctx, plan, 0, from)
	if err != nil || first.Resumed {
		t.Fatalf("first run: %+v %v", first, err)
	}
	again, err := ex.ExecuteOnce(ctx, plan, 0, from)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Resumed || again.TxHash != first.TxHash || again.Block != first.Block {
		t.Fatalf("rerun executed again or found another transaction: %+v", again)
	}
	st, err := ReadSafe(ctx, e.chain.Backend, e.d.Safe)
	if err != nil {
		t.Fatal(err)
	}
	if st.Nonce.Uint64() != 1 {
		t.Fatalf("nonce %s after a rerun; want 1 (one execution)", st.Nonce)
	}
	// Another plan took nonce 1: the rerun of a plan recorded at nonce 1 says so.
	other, err := ex.Plan(ctx, sampleTrades()[:1])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ex.Execute(ctx, other); err != nil {
		t.Fatal(err)
	}
	mine, err := ex.Plan(ctx, sampleTrades()[3:4])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ex.ExecuteOnce(ctx, mine, 1, from); err == nil || !strings.Contains(err.Error(), "not by this plan's transaction") {
		t.Errorf("nonce taken by another transaction: %v", err)
	}
}
