package execute

import (
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"

	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/venues"
)

func e(n int64, dec int) *big.Int {
	return new(big.Int).Mul(big.NewInt(n), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(dec)), nil))
}

var testAssets = map[string]market.Asset{
	"ETH": {Symbol: "ETH", Decimals: 18}, "stETH": {Symbol: "stETH", Decimals: 18},
	"USDC": {Symbol: "USDC", Decimals: 6}, "DAI": {Symbol: "DAI", Decimals: 18},
}

var testPrices = market.Snapshot{Prices: map[string]uint64{"ETH": 3000e8, "stETH": 2990e8, "USDC": 1e8, "DAI": 1e8}}

func testBook(t *testing.T, supply, borrows int64) *venues.Book {
	t.Helper()
	m := venues.RateModel{Slope1Bps: 400, Slope2Bps: 6000, KinkBps: 8000, ReserveFactorBps: 1000}
	b, err := venues.NewBook([]venues.Venue{
		{ID: "safe", Kind: venues.KindWallet, Group: "safe"},
		{ID: "aave-usdc", Kind: venues.KindLending, Group: "aave", Address: "0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2",
			Lending: &venues.LendingPool{Asset: "USDC", Supply: e(supply, 6), Borrows: e(borrows, 6), Model: m}},
		{ID: "comp-usdc", Kind: venues.KindLending, Group: "compound", Address: "0xc3d688B66703497DAA19211EEdff47f25384cdc3",
			Lending: &venues.LendingPool{Asset: "USDC", Supply: e(10_000_000, 6), Borrows: e(5_000_000, 6), Model: m}},
		{ID: "lido", Kind: venues.KindStaking, Group: "lido", Tier: 1, Address: "0xae7ab96520DE3A18E5e111B5EaAb095312D7fE84",
			Staking: &venues.Staking{Asset: "stETH", Underlying: "ETH", AprBps: 300, Rebasing: true, ExchangeRate: new(big.Int).Set(venues.WAD())}},
		{ID: "perp", Kind: venues.KindPerp, Group: "perp", Perp: &venues.Perp{Underlying: "ETH", Margin: "USDC"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testSim(t *testing.T, budget uint32, arb bool) *Simulator {
	t.Helper()
	s, err := NewSimulator(Config{
		Pools: []PoolSpec{
			{A: "ETH", B: "USDC", DepthUSD: e(10_000_000, 8), FeeBps: 30},
			{A: "USDC", B: "DAI", DepthUSD: e(50_000_000, 8), FeeBps: 1},
			{A: "stETH", B: "ETH", DepthUSD: e(20_000_000, 8), FeeBps: 1},
		},
		Hubs:          []string{"USDC", "ETH"},
		MinTrancheUSD: e(1_000, 8), MaxTrancheUSD: e(250_000, 8), SlippageBudgetBps: budget, Arbitrage: arb,
	}, testAssets)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConstantProductFill(t *testing.T) {
	s := testSim(t, 500, true)
	book := testBook(t, 1_000_000, 500_000)
	ps := venues.Positions{{Venue: "safe", Asset: "ETH", Amount: e(100, 18)}}
	out, fills, err := s.Execute(book, ps, testPrices, []Trade{{FromVenue: "safe", FromAsset: "ETH", ToVenue: "safe", ToAsset: "USDC", Amount: e(50, 18)}})
	if err != nil {
		t.Fatal(err)
	}
	f := fills[0]
	if f.Status != Filled || len(f.Tranches) != 1 {
		t.Fatalf("fill %+v", f)
	}
	// Independent x*y=k: x = 10M/3000 ETH, y = 10M USDC, in' = 50*0.997.
	x := new(big.Rat).SetFrac(e(10_000_000, 18), big.NewInt(3000))
	xi := new(big.Int).Quo(x.Num(), x.Denom())
	y := e(10_000_000, 6)
	inEff := new(big.Int).Quo(new(big.Int).Mul(e(50, 18), big.NewInt(9970)), big.NewInt(10000))
	want := new(big.Int).Quo(new(big.Int).Mul(y, inEff), new(big.Int).Add(xi, inEff))
	if f.Out.Cmp(want) != 0 {
		t.Fatalf("out %v, want %v", f.Out, want)
	}
	if got := out.Get("safe", "USDC"); got.Cmp(want) != 0 || out.Get("safe", "ETH").Cmp(e(50, 18)) != 0 {
		t.Fatalf("positions %+v", out)
	}
	// $150k into a $10M pool: ~1.5% impact plus 0.3% fee.
	if sl := f.Tranches[0].SlippageBps; sl < 170 || sl > 185 {
		t.Fatalf("slippage %d bps", sl)
	}
	if f.CostUSD.Sign() <= 0 {
		t.Fatal("a swap with a fee cost nothing")
	}
}

func TestTranchesAndBudget(t *testing.T) {
	// Budget 50 bps with a 30 bps fee leaves ~20 bps of impact: about $20k per tranche.
	s := testSim(t, 50, true)
	book := testBook(t, 1_000_000, 500_000)
	ps := venues.Positions{{Venue: "safe", Asset: "ETH", Amount: e(100, 18)}}
	_, fills, err := s.Execute(book, ps, testPrices, []Trade{{FromVenue: "safe", FromAsset: "ETH", ToVenue: "safe", ToAsset: "USDC", Amount: e(100, 18)}})
	if err != nil {
		t.Fatal(err)
	}
	f := fills[0]
	if f.Status != Filled || len(f.Tranches) < 14 || len(f.Tranches) > 16 {
		t.Fatalf("%s: %d tranches, note %q", f.Status, len(f.Tranches), f.Note)
	}
	for _, tr := range f.Tranches {
		if tr.SlippageBps > 50 || tr.Out.Cmp(tr.MinOut) < 0 {
			t.Fatalf("tranche %+v breaks the budget", tr)
		}
	}
	// Without arbitrage the pool walks down the curve: the fill stops early, partially.
	s = testSim(t, 50, false)
	_, fills, err = s.Execute(testBook(t, 1_000_000, 500_000), ps, testPrices, []Trade{{FromVenue: "safe", FromAsset: "ETH", ToVenue: "safe", ToAsset: "USDC", Amount: e(100, 18)}})
	if err != nil {
		t.Fatal(err)
	}
	if fills[0].Status != Partial || !strings.Contains(fills[0].Note, "budget") {
		t.Fatalf("without arbitrage: %s %q", fills[0].Status, fills[0].Note)
	}
	// A budget below the fee allows nothing.
	s = testSim(t, 20, true)
	_, fills, _ = s.Execute(testBook(t, 1_000_000, 500_000), ps, testPrices, []Trade{{FromVenue: "safe", FromAsset: "ETH", ToVenue: "safe", ToAsset: "USDC", Amount: e(1, 18)}})
	if fills[0].Status != Refused {
		t.Fatalf("budget below fee: %+v", fills[0])
	}
	// Below the minimum tranche.
	_, fills, _ = testSim(t, 500, true).Execute(testBook(t, 1_000_000, 500_000), ps, testPrices, []Trade{{FromVenue: "safe", FromAsset: "ETH", ToVenue: "safe", ToAsset: "USDC", Amount: e(1, 17)}})
	if fills[0].Status != Refused || !strings.Contains(fills[0].Note, "minimum") {
		t.Fatalf("tiny trade: %+v", fills[0])
	}
}

func TestLendingLiquidityAndStaking(t *testing.T) {
	s := testSim(t, 100, true)
	book := testBook(t, 1_000_000, 1_000_000) // 100% utilised
	ps := venues.Positions{{Venue: "aave-usdc", Asset: "USDC", Amount: e(300_000, 6)}, {Venue: "safe", Asset: "ETH", Amount: e(10, 18)}}
	out, fills, err := s.Execute(book, ps, testPrices, []Trade{
		{FromVenue: "aave-usdc", FromAsset: "USDC", ToVenue: "safe", ToAsset: "USDC", Amount: e(100_000, 6)},
		{FromVenue: "safe", FromAsset: "ETH", ToVenue: "lido", ToAsset: "stETH", Amount: e(4, 18)},
		{FromVenue: "lido", FromAsset: "stETH", ToVenue: "safe", ToAsset: "stETH", Amount: e(1, 18)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if fills[0].Status != Refused || !strings.Contains(fills[0].Note, "utilisation 100.00%") {
		t.Fatalf("withdrawal at 100%% utilisation: %+v", fills[0])
	}
	if fills[1].Status != Filled || out.Get("lido", "stETH").Cmp(e(4, 18)) != 0 {
		t.Fatalf("stake: %+v", fills[1])
	}
	if fills[2].Status != Refused {
		t.Fatalf("unstaking in place: %+v", fills[2])
	}
	// 90% utilised: 100k free of a 300k position -> partial, and the pool's supply falls.
	book = testBook(t, 1_000_000, 900_000)
	out, fills, err = s.Execute(book, ps, testPrices, []Trade{{FromVenue: "aave-usdc", FromAsset: "USDC", ToVenue: "comp-usdc", ToAsset: "USDC", Amount: e(250_000, 6)}})
	if err != nil {
		t.Fatal(err)
	}
	if fills[0].Status != Partial || fills[0].In.Cmp(e(100_000, 6)) != 0 || out.Get("comp-usdc", "USDC").Cmp(e(100_000, 6)) != 0 {
		t.Fatalf("partial withdrawal %+v", fills[0])
	}
	v, _ := book.Venue("aave-usdc")
	if v.Lending.Available().Sign() != 0 {
		t.Fatalf("pool liquidity after withdrawal %v", v.Lending.Available())
	}
	// Hub routing: DAI -> ETH goes through USDC.
	ps = venues.Positions{{Venue: "safe", Asset: "DAI", Amount: e(10_000, 18)}}
	_, fills, err = s.Execute(testBook(t, 1, 0), ps, testPrices, []Trade{{FromVenue: "safe", FromAsset: "DAI", ToVenue: "safe", ToAsset: "ETH", Amount: e(10_000, 18)}})
	if err != nil || fills[0].Status != Filled || len(fills[0].Path) != 3 {
		t.Fatalf("hub route %+v %v", fills[0], err)
	}
}

func testAddressBook() AddressBook {
	return AddressBook{
		ChainID: 1, Safe: common.HexToAddress("0x1111111111111111111111111111111111111111"),
		Tokens: map[string]common.Address{
			"ETH":   {},
			"USDC":  common.HexToAddress("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"),
			"DAI":   common.HexToAddress("0x6B175474E89094C44Da98b954EedeAC495271d0F"),
			"stETH": common.HexToAddress("0xae7ab96520DE3A18E5e111B5EaAb095312D7fE84"),
		},
		WETH:      common.HexToAddress("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"),
		Router:    common.HexToAddress("0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D"),
		Protocols: map[string]string{"aave-usdc": ProtocolAaveV3, "comp-usdc": ProtocolCompoundV3, "lido": ProtocolLido},
	}
}

func TestSafeBatch(t *testing.T) {
	s := testSim(t, 100, true)
	book := testBook(t, 1_000_000, 500_000)
	ps := venues.Positions{{Venue: "safe", Asset: "ETH", Amount: e(100, 18)}, {Venue: "aave-usdc", Asset: "USDC", Amount: e(200_000, 6)}}
	trades := []Trade{
		{FromVenue: "safe", FromAsset: "ETH", ToVenue: "comp-usdc", ToAsset: "USDC", Amount: e(20, 18)},
		{FromVenue: "aave-usdc", FromAsset: "USDC", ToVenue: "comp-usdc", ToAsset: "USDC", Amount: e(50_000, 6)},
		{FromVenue: "safe", FromAsset: "ETH", ToVenue: "lido", ToAsset: "stETH", Amount: e(5, 18)},
	}
	_, fills, err := s.Execute(book.Clone(), ps, testPrices, trades)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Unix(1_700_000_000, 0)
	b, err := SafeBatch(book, testAddressBook(), fills, "cycle 1", "rebalance", created)
	if err != nil {
		t.Fatal(err)
	}
	calls, _ := abi.JSON(strings.NewReader(callsABI))
	comet, _ := abi.JSON(strings.NewReader(cometABI))
	var names []string
	for _, tx := range b.Transactions {
		names = append(names, tx.ContractMethod.Name)
		// Data must decode to exactly the displayed values.
		a := calls
		if tx.To == "0xc3d688B66703497DAA19211EEdff47f25384cdc3" {
			a = comet
		}
		data := common.FromHex(tx.Data)
		m, err := a.MethodById(data[:4])
		if err != nil || m.Name != tx.ContractMethod.Name {
			t.Fatalf("data selector of %s: %v", tx.ContractMethod.Name, err)
		}
		args, err := m.Inputs.Unpack(data[4:])
		if err != nil {
			t.Fatal(err)
		}
		for i, in := range m.Inputs {
			if got := formatArg(args[i]); got != tx.ContractInputsValues[in.Name] {
				t.Fatalf("%s.%s: data says %s, values say %s", m.Name, in.Name, got, tx.ContractInputsValues[in.Name])
			}
		}
	}
	nTr := len(fills[0].Tranches)
	want := []string{}
	for i := 0; i < nTr; i++ {
		want = append(want, "swapExactETHForTokens")
	}
	want = append(want, "approve", "supply", "withdraw", "approve", "supply", "submit")
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("calls %v, want %v", names, want)
	}
	if b.Transactions[0].Value != fills[0].Tranches[0].In.String() || b.Transactions[len(names)-1].Value != e(5, 18).String() {
		t.Fatal("payable calls carry the wrong value")
	}
	path := filepath.Join(t.TempDir(), "batch.json")
	if err := WriteSafeBatch(path, b); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	var back Batch
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if sum, _ := back.ComputeChecksum(); sum != back.Meta.Checksum || back.ChainID != "1" || back.Version != "1.0" {
		t.Fatalf("checksum after reading back %s vs %s", sum, back.Meta.Checksum)
	}
	back.Transactions[0].Value = "1"
	if sum, _ := back.ComputeChecksum(); sum == b.Meta.Checksum {
		t.Fatal("an edited batch keeps its checksum")
	}
	// stETH -> USDC routes through ETH: the router path holds WETH in the middle.
	_, hf, err := testSim(t, 100, true).Execute(book.Clone(), venues.Positions{{Venue: "lido", Asset: "stETH", Amount: e(10, 18)}}, testPrices,
		[]Trade{{FromVenue: "lido", FromAsset: "stETH", ToVenue: "safe", ToAsset: "USDC", Amount: e(10, 18)}})
	if err != nil || hf[0].Status != Filled || len(hf[0].Path) != 3 {
		t.Fatalf("stETH->USDC %+v %v", hf, err)
	}
	hb, err := SafeBatch(book, testAddressBook(), hf, "hop", "", created)
	if err != nil {
		t.Fatal(err)
	}
	if v := hb.Transactions[1].ContractInputsValues["path"]; !strings.Contains(v, testAddressBook().WETH.Hex()) || hb.Transactions[1].ContractMethod.Name != "swapExactTokensForTokens" {
		t.Fatalf("hop path %s via %s", v, hb.Transactions[1].ContractMethod.Name)
	}
	// A perp leg cannot be expressed.
	_, pf, _ := s.Execute(book.Clone(), venues.Positions{{Venue: "safe", Asset: "USDC", Amount: e(10, 6)}}, testPrices,
		[]Trade{{FromVenue: "safe", FromAsset: "USDC", ToVenue: "perp", ToAsset: "USDC", Amount: e(10, 6)}})
	if _, err := SafeBatch(book, testAddressBook(), pf, "x", "", created); err == nil || !strings.Contains(err.Error(), "perp") {
		t.Fatalf("perp leg: %v", err)
	}
}

// TestChecksumVector pins the serialisation against the Transaction Builder's JavaScript
// (serializeJSONObject from tx-builder src/lib/checksum.ts, run under node for this vector).
func TestChecksumVector(t *testing.T) {
	b := &Batch{Version: "1.0", ChainID: "1", CreatedAt: 1700000000000,
		Meta: BatchMeta{Name: "n", Description: "d", TxBuilderVersion: "1.16.5", CreatedFromSafeAddress: "0x1111111111111111111111111111111111111111"},
		Transactions: []BatchTx{{To: "0x2222222222222222222222222222222222222222", Value: "0", Data: "0x", ContractMethod: &ContractMethod{
			Inputs: []MethodInput{{InternalType: "address", Name: "spender", Type: "address"}}, Name: "approve"},
			ContractInputsValues: map[string]string{"spender": "0x3333333333333333333333333333333333333333"}}}}
	c := *b
	raw, _ := json.Marshal(c)
	var tree map[string]any
	_ = json.Unmarshal(raw, &tree)
	tree["meta"].(map[string]any)["name"] = nil
	var sb strings.Builder
	if err := serializeJSON(&sb, tree); err != nil {
		t.Fatal(err)
	}
	if sb.String() != checksumSerialised {
		t.Fatalf("serialisation\n%s\nwant\n%s", sb.String(), checksumSerialised)
	}
}

// checksumSerialised is the output of the Transaction Builder's serializeJSONObject (node 20)
// for the batch of TestChecksumVector.
const checksumSerialised = `{["chainId","createdAt","meta","transactions","version"]"1",1700000000000,{["createdFromOwnerAddress","createdFromSafeAddress","description","name","txBuilderVersion"]"","0x1111111111111111111111111111111111111111","d",null,"1.16.5",},[{["contractInputsValues","contractMethod","data","to","value"]{["spender"]"0x3333333333333333333333333333333333333333",},{["inputs","name","payable"][{["internalType","name","type"]"address","spender","address",}],"approve",false,},"0x","0x2222222222222222222222222222222222222222","0",}],"1.0",}`
