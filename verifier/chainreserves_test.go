//go:build !js

package verifier

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/devnet"
	"github.com/solvency-dev/solvency/contracts/treasurychain"
)

// chainFixture is the sample treasury on a dev chain with the opening's tables and chain map.
type chainFixture struct {
	chain  *contracts.Chain
	d      *treasurychain.Deployment
	owners []*ecdsa.PrivateKey
	table  []assets.Asset
	m      *bundle.ChainMap
	block  uint64
}

var fixtureVenues = []string{"safe", "aave-v3-usdc", "compound-v3-usdc", "aave-v3-dai", "aave-v3-usdt"}

func newChainFixture(t *testing.T) *chainFixture {
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
	for range 2 {
		k, _ := crypto.GenerateKey()
		keys = append(keys, k)
		addrs = append(addrs, crypto.PubkeyToAddress(k.PublicKey))
	}
	d, err := treasurychain.Deploy(ctx, chain, treasurychain.SampleSpec(addrs, 2))
	if err != nil {
		t.Fatal(err)
	}
	f := &chainFixture{chain: chain, d: d, owners: keys, block: d.Block}
	idx := map[string]int{}
	for i, a := range d.Assets {
		prec := a.Decimals
		if prec > 6 {
			prec = 6
		}
		f.table = append(f.table, assets.Asset{Symbol: a.Symbol, Decimals: a.Decimals, Precision: prec})
		idx[a.Symbol] = i
	}
	venue := map[string]int{}
	for i, v := range fixtureVenues {
		venue[v] = i
	}
	if f.m, err = ChainMapFromDeployment(d, venue, idx); err != nil {
		t.Fatal(err)
	}
	if f.m.ChainID != devnet.ChainID || len(f.m.Positions) != len(d.Assets)+len(d.Vaults) {
		t.Fatalf("chain map %+v", f.m)
	}
	if _, err := ChainMapFromDeployment(d, map[string]int{"safe": 0}, idx); err == nil {
		t.Fatal("a chain map left vault venues without an index")
	}
	// A debt: a debt token is an ERC-20 whose balance is what the holder owes. The Safe's stETH
	// balance stands in for one at venue 5 (Aave's variableDebtToken has the same balanceOf).
	steth, _ := d.Asset("STETH")
	f.m.Positions = append(f.m.Positions, bundle.ChainPosition{Venue: 5, Asset: idx["STETH"], Kind: "debt", Holder: d.Safe.Hex(), Contract: steth.Token.Hex()})
	return f
}

// honestOpening opens exactly what the chain holds at the fixture's block, in circuit units.
func (f *chainFixture) honestOpening(t *testing.T) *OpenedReserves {
	t.Helper()
	read, err := ReadChainBalances(context.Background(), f.chain.Backend, f.m, f.block, f.table)
	if err != nil {
		t.Fatal(err)
	}
	op := &OpenedReserves{Cycle: 3, Block: f.block, Slots: 16, Assets: f.table}
	for _, b := range read.Observed.Balances {
		v, _ := new(big.Int).SetString(b.AmountBase, 10)
		a := f.table[b.Asset]
		scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(a.Decimals-a.Precision)), nil)
		if v.Sign() == 0 {
			continue
		}
		op.Positions = append(op.Positions, solvency.Position{Venue: b.Venue, Asset: b.Asset, Amount: new(big.Int).Quo(v, scale)})
	}
	op.Salt.SetUint64(424242)
	rc, err := OpeningRC(op.Positions, op.Salt, op.Slots)
	if err != nil {
		t.Fatal(err)
	}
	op.RC = rc
	return op
}

// TestR1_AuditorReadsChainAtReservesBlock: the honest opening passes the on-chain check at the
// reserves block even after the treasury moved funds later; an opening that claims one unit
// more than the chain holds (RC recomputed, so only the chain catches it) is refused, and so is
// one whose debt is one unit below the chain's.
func TestR1_AuditorReadsChainAtReservesBlock(t *testing.T) {
	f := newChainFixture(t)
	ctx := context.Background()
	honest := f.honestOpening(t)
	if _, err := honest.Check(honest.RC, honest.Slots); err != nil {
		t.Fatal(err)
	}

	// After the reserves block the Safe withdraws from a vault: the check reads the block named.
	ex, err := treasurychain.NewExecutor(f.chain, f.d, f.owners)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := ex.Plan(ctx, []treasurychain.Trade{{Kind: treasurychain.TradeWithdraw, Venue: "aave-v3-usdc", Asset: "USDC", Amount: big.NewInt(5_000_000_000)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ex.Execute(ctx, plan); err != nil {
		t.Fatal(err)
	}

	rep, read, err := CheckReservesOnChain(ctx, f.chain.Backend, honest, f.m, nil, f.table)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("honest opening refused: %+v", rep.Failed())
	}
	if len(read.Reads) != len(f.m.Positions) {
		t.Errorf("%d reads for %d chain positions", len(read.Reads), len(f.m.Positions))
	}

	for _, c := range []struct {
		name         string
		venue, asset int
		delta        int64
	}{
		{"one unit more USDC in the aave-v3-usdc vault", 1, 3, 1},
		{"one unit more ETH in the Safe", 0, 0, 1},
		{"a debt one unit below the chain's", 5, 1, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			op := *honest
			op.Positions = append([]solvency.Position(nil), honest.Positions...)
			found := false
			for i, p := range op.Positions {
				if p.Venue == c.venue && p.Asset == c.asset {
					op.Positions[i].Amount = new(big.Int).Add(p.Amount, big.NewInt(c.delta))
					found = true
				}
			}
			if !found {
				t.Fatalf("no opened position (%d, %d)", c.venue, c.asset)
			}
			// The operator's RC opens fine: only the chain shows the claim is false.
			if op.RC, err = OpeningRC(op.Positions, op.Salt, op.Slots); err != nil {
				t.Fatal(err)
			}
			if _, err := op.Check(op.RC, op.Slots); err != nil {
				t.Fatal(err)
			}
			rep, _, err := CheckReservesOnChain(ctx, f.chain.Backend, &op, f.m, nil, f.table)
			if err != nil {
				t.Fatal(err)
			}
			bad := rep.Failed()
			if rep.OK || len(bad) != 1 || bad[0].Venue != c.venue || bad[0].Asset != c.asset || bad[0].Status != StatusOverstated {
				t.Fatalf("want (venue %d, asset %d) overstated, got %+v", c.venue, c.asset, bad)
			}
		})
	}
}

func TestR1_OnChainCheckRefusesUnusableMaps(t *testing.T) {
	f := newChainFixture(t)
	ctx := context.Background()
	op := f.honestOpening(t)

	// A multicall address whose code is something else (here the Safe) is refused: its answers
	// would be the operator's.
	fake := *f.m
	fake.Multicall = f.d.Safe.Hex()
	if _, _, err := CheckReservesOnChain(ctx, f.chain.Backend, op, &fake, nil, f.table); !errors.Is(err, ErrReservesMismatch) ||
		!strings.Contains(err.Error(), "not UniswapInterfaceMulticall") {
		t.Errorf("look-alike multicall: %v", err)
	}
	wrong := *f.m
	wrong.ChainID = 1
	if _, _, err := CheckReservesOnChain(ctx, f.chain.Backend, op, &wrong, nil, f.table); err == nil || !strings.Contains(err.Error(), "chain 1") {
		t.Errorf("wrong chain: %v", err)
	}
	// An opened position with no chain entry and no off-chain observation is unobserved.
	drop := *f.m
	drop.Positions = drop.Positions[1:]
	rep, _, err := CheckReservesOnChain(ctx, f.chain.Backend, op, &drop, nil, f.table)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || rep.Failed()[0].Status != StatusUnobserved {
		t.Errorf("unmapped position: %+v", rep.Failed())
	}
	// ... and passes when the auditor observed it off chain.
	off := &ObservedBalances{Version: 1, Block: f.block, Balances: []ObservedBalance{{Venue: 0, Asset: 0, AmountBase: "8000000000000000000000"}}}
	if rep, _, err = CheckReservesOnChain(ctx, f.chain.Backend, op, &drop, off, f.table); err != nil || !rep.OK {
		t.Errorf("off-chain observation merged: %v %+v", err, rep)
	}
}
