package treasurychain

import (
	"context"
	"math/big"
	"sort"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/devnet"
)

// countingBackend counts eth_call round trips.
type countingBackend struct {
	contracts.Backend
	calls int
}

func (c *countingBackend) CallContract(ctx context.Context, msg ethereum.CallMsg, block *big.Int) ([]byte, error) {
	c.calls++
	return c.Backend.CallContract(ctx, msg, block)
}

// TestRead64PositionsOneCall reads 64 (venue, asset) positions (tokens, vault shares valued in
// assets, native coin; 8 holders over the sample deployment) over JSON-RPC on loopback and
// checks it is one eth_call; it logs the median time of 20 reads.
func TestRead64PositionsOneCall(t *testing.T) {
	dn, err := devnet.Start(devnet.Config{HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer dn.Close()
	ctx := context.Background()
	client, err := ethclient.DialContext(ctx, dn.HTTPEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	chain, err := contracts.NewChain(ctx, client, dn.Key)
	if err != nil {
		t.Fatal(err)
	}
	owner := common.HexToAddress("0x1000000000000000000000000000000000000001")
	d, err := Deploy(ctx, chain, SampleSpec([]common.Address{owner}, 1))
	if err != nil {
		t.Fatal(err)
	}
	base := d.Positions()
	holders := []common.Address{d.Safe, dn.Address, owner}
	for i := 2; len(holders) < 8; i++ {
		holders = append(holders, common.BigToAddress(big.NewInt(int64(0x5000+i))))
	}
	var specs []PositionSpec
	for _, h := range holders {
		for _, p := range base {
			if len(specs) == 64 {
				break
			}
			p.Holder = h
			p.Venue = p.Venue + "@" + h.Hex()[:8]
			specs = append(specs, p)
		}
	}
	if len(specs) != 64 {
		t.Fatalf("built %d positions", len(specs))
	}
	cb := &countingBackend{Backend: client}
	r, err := NewReader(cb, d.Multicall)
	if err != nil {
		t.Fatal(err)
	}
	var times []time.Duration
	for range 20 {
		start := time.Now()
		snap, err := r.Read(ctx, d.Block, specs)
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, time.Since(start))
		if len(snap.Readings) != 64 {
			t.Fatalf("%d readings", len(snap.Readings))
		}
	}
	if cb.calls != 20 {
		t.Fatalf("%d eth_calls for 20 reads of 64 positions; want one each", cb.calls)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	t.Logf("64 positions at one block: 1 eth_call (UniswapInterfaceMulticall.multicall), median %s, min %s, max %s over 20 reads",
		times[10], times[0], times[19])
}

// TestSafeExecutionGas logs the receipt gas of one Safe execution (2-of-3 owners, MultiSend of
// the plan's calls) for plans of 1, 3, 5 and 10 trades on the sample treasury.
func TestSafeExecutionGas(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ex, err := NewExecutor(e.chain, e.d, e.owners[:2])
	if err != nil {
		t.Fatal(err)
	}
	small := func(whole int64) *big.Int { return units(whole, 6) }
	plans := map[int][]Trade{
		1: {{Kind: TradeDeposit, Venue: "compound-v3-usdc", Asset: "USDC", Amount: small(1000)}},
		3: {
			{Kind: TradeWithdraw, Venue: "aave-v3-usdc", Asset: "USDC", Amount: small(10_000)},
			{Kind: TradeSwap, Asset: "USDC", ToAsset: "DAI", Amount: small(10_000)},
			{Kind: TradeDeposit, Venue: "aave-v3-dai", Asset: "DAI", Amount: units(9_000, 18)},
		},
		5: sampleTrades(),
	}
	var ten []Trade
	for range 2 {
		ten = append(ten, sampleTrades()...)
	}
	for i := range ten {
		ten[i].Amount = new(big.Int).Quo(ten[i].Amount, big.NewInt(100))
		ten[i].MinOut = nil
	}
	plans[10] = ten
	for _, n := range []int{1, 3, 5, 10} {
		plan, err := ex.Plan(ctx, plans[n])
		if err != nil {
			t.Fatal(err)
		}
		res, err := ex.Execute(ctx, plan)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("Safe execution, %2d trades, %2d calls: %d gas", n, len(plan.Calls), res.GasUsed)
	}
}
