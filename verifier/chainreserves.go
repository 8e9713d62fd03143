//go:build !js

package verifier

// Reserves read from the chain (R1). The opening names, per (venue, asset), where the amount
// lives on chain (bundle.ChainMap); the auditor reads every one of them from their own node at the
// statement's reserves block, with one eth_call at that block to Uniswap's read aggregator
// (UniswapInterfaceMulticall, whose code is checked first), and compares them
// with the opened amounts exactly as observed balances are compared (CompareBalances).

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/treasurychain"
)

func parseAddr(s, what string) (common.Address, error) {
	if !common.IsHexAddress(s) || len(s) != 42 {
		return common.Address{}, fmt.Errorf("%s %q is not a 0x-prefixed 20-byte address", what, s)
	}
	return common.HexToAddress(s), nil
}

// CheckMulticallCode refuses a multicall address whose code at block is not the pinned build of
// UniswapInterfaceMulticall (the artifact @uniswap/v3-periphery 1.4.4 ships): the reader trusts
// its answers, so an operator-named look-alike could report any balance.
func CheckMulticallCode(ctx context.Context, b contracts.Backend, addr common.Address, block uint64) error {
	art, err := treasurychain.LoadArtifact(treasurychain.ArtMulticall)
	if err != nil {
		return err
	}
	want, err := art.RuntimeCode()
	if err != nil {
		return err
	}
	code, err := b.CodeAt(ctx, addr, new(big.Int).SetUint64(block))
	if err != nil {
		return fmt.Errorf("read code of the multicall %s at block %d: %w", addr.Hex(), block, err)
	}
	if crypto.Keccak256Hash(code) != crypto.Keccak256Hash(want) {
		return mismatch("the code at %s at block %d is not UniswapInterfaceMulticall (the pinned @uniswap/v3-periphery build): its answers cannot be trusted", addr.Hex(), block)
	}
	return nil
}

// ReadChainBalances reads every position of m at block from the node behind b with one
// multicall eth_call, after checking the node's chain id and the multicall's code, and returns
// the amounts per (venue, asset) as observed balances in base units. table is the asset table
// (the bundle's) that names each asset index.
func ReadChainBalances(ctx context.Context, b contracts.Backend, m *bundle.ChainMap, block uint64, table []assets.Asset) (*ChainReadReport, error) {
	if m == nil || len(m.Positions) == 0 {
		return nil, fmt.Errorf("the opening names no on-chain positions (its \"chain\" field): nothing to read")
	}
	if m.Version != bundle.ChainMapVersion {
		return nil, fmt.Errorf("chain map version %d; this tool reads version %d", m.Version, bundle.ChainMapVersion)
	}
	id, err := b.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("read chain id: %w", err)
	}
	if !id.IsUint64() || id.Uint64() != m.ChainID {
		return nil, fmt.Errorf("the node is chain %s; the opening's positions are on chain %d", id, m.ChainID)
	}
	mc, err := parseAddr(m.Multicall, "multicall")
	if err != nil {
		return nil, err
	}
	if err := CheckMulticallCode(ctx, b, mc, block); err != nil {
		return nil, err
	}
	specs := make([]treasurychain.PositionSpec, len(m.Positions))
	for i, p := range m.Positions {
		if p.Venue < 0 || p.Venue > maxRecordIndex || p.Asset < 0 || p.Asset >= len(table) {
			return nil, fmt.Errorf("chain positions[%d]: (venue %d, asset %d) is outside the tables", i, p.Venue, p.Asset)
		}
		holder, err := parseAddr(p.Holder, "holder")
		if err != nil {
			return nil, fmt.Errorf("chain positions[%d]: %w", i, err)
		}
		sp := treasurychain.PositionSpec{Venue: strconv.Itoa(p.Venue), Asset: strconv.Itoa(p.Asset), Kind: treasurychain.Kind(p.Kind), Holder: holder}
		switch sp.Kind {
		case treasurychain.KindNative:
			if p.Contract != "" {
				return nil, fmt.Errorf("chain positions[%d]: a native balance names no contract", i)
			}
		case treasurychain.KindERC20, treasurychain.KindVault, treasurychain.KindDebt:
			if sp.Contract, err = parseAddr(p.Contract, "contract"); err != nil {
				return nil, fmt.Errorf("chain positions[%d]: %w", i, err)
			}
		default:
			return nil, fmt.Errorf("chain positions[%d]: unknown kind %q", i, p.Kind)
		}
		specs[i] = sp
	}
	r, err := treasurychain.NewReader(b, mc)
	if err != nil {
		return nil, err
	}
	snap, err := r.Read(ctx, block, specs)
	if err != nil {
		return nil, err
	}
	sums := map[venueAsset]*big.Int{}
	sources := map[venueAsset][]string{}
	rep := &ChainReadReport{}
	for i, rd := range snap.Readings {
		p := m.Positions[i]
		k := venueAsset{p.Venue, p.Asset}
		if sums[k] == nil {
			sums[k] = new(big.Int)
		}
		sums[k].Add(sums[k], rd.Amount)
		src := fmt.Sprintf("%s %s of %s", p.Kind, p.Contract, p.Holder)
		if p.Kind == string(treasurychain.KindNative) {
			src = "native balance of " + p.Holder
		}
		sources[k] = append(sources[k], src)
		rep.Reads = append(rep.Reads, ChainRead{ChainPosition: p, Symbol: table[p.Asset].Symbol, Amount: rd.Amount.String()})
	}
	keys := make([]venueAsset, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].venue != keys[j].venue {
			return keys[i].venue < keys[j].venue
		}
		return keys[i].asset < keys[j].asset
	})
	obs := &ObservedBalances{Version: ObservedBalancesVersion, Block: block, ChainID: m.ChainID}
	for _, k := range keys {
		src := fmt.Sprintf("%v @%d (one multicall eth_call)", sources[k], block)
		obs.Balances = append(obs.Balances, ObservedBalance{Venue: k.venue, Asset: k.asset, Symbol: table[k.asset].Symbol,
			AmountBase: sums[k].String(), Source: src})
	}
	rep.Observed = obs
	return rep, nil
}

// MergeObserved joins balances read from the chain with balances observed off chain (venues
// with no contract: custodians, exchanges). A (venue, asset) in both is an error: one source
// per amount.
func MergeObserved(chain, off *ObservedBalances) (*ObservedBalances, error) {
	if off == nil {
		return chain, nil
	}
	if chain.Block != off.Block {
		return nil, fmt.Errorf("off-chain balances are at block %d, the chain was read at %d", off.Block, chain.Block)
	}
	out := *chain
	out.Balances = append([]ObservedBalance(nil), chain.Balances...)
	seen := map[venueAsset]bool{}
	for _, b := range chain.Balances {
		seen[venueAsset{b.Venue, b.Asset}] = true
	}
	for _, b := range off.Balances {
		if seen[venueAsset{b.Venue, b.Asset}] {
			return nil, fmt.Errorf("(venue %d, asset %d) is both read from the chain and given in the balances file", b.Venue, b.Asset)
		}
		out.Balances = append(out.Balances, b)
	}
	return &out, nil
}

// CheckReservesOnChain is the auditor's whole on-chain check of a parsed opening: read every
// position of the opening's chain map at the opening's reserves block (which the caller has
// checked is the statement's), add any off-chain observations, and compare every opened
// amount. The report fails (not an error) on any long above what the chain holds, any debt
// below it, or an opened amount nobody observed.
func CheckReservesOnChain(ctx context.Context, b contracts.Backend, op *OpenedReserves, m *bundle.ChainMap, off *ObservedBalances, table []assets.Asset) (*BalanceReport, *ChainReadReport, error) {
	read, err := ReadChainBalances(ctx, b, m, op.Block, table)
	if err != nil {
		return nil, nil, err
	}
	obs, err := MergeObserved(read.Observed, off)
	if err != nil {
		return nil, read, err
	}
	rep, err := CompareBalances(op, obs, table)
	if err != nil {
		return nil, read, err
	}
	return rep, read, nil
}

// ChainMapFromDeployment is the chain map of a treasurychain deployment, for the prover to put
// in the opening: every position the deployment's Safe can hold, with venue and asset names
// turned into the opening's indices. A name missing from either index is an error (the opening
// would otherwise leave an on-chain position unread).
func ChainMapFromDeployment(d *treasurychain.Deployment, venueIndex, assetIndex map[string]int) (*bundle.ChainMap, error) {
	m := &bundle.ChainMap{Version: bundle.ChainMapVersion, ChainID: d.ChainID, Multicall: d.Multicall.Hex()}
	for _, p := range d.Positions() {
		v, ok := venueIndex[p.Venue]
		if !ok {
			return nil, fmt.Errorf("chain map: venue %s has no index in the venue table", p.Venue)
		}
		a, ok := assetIndex[p.Asset]
		if !ok {
			return nil, fmt.Errorf("chain map: asset %s has no index in the asset table", p.Asset)
		}
		cp := bundle.ChainPosition{Venue: v, Asset: a, Kind: string(p.Kind), Holder: p.Holder.Hex()}
		if p.Kind != treasurychain.KindNative {
			cp.Contract = p.Contract.Hex()
		}
		m.Positions = append(m.Positions, cp)
	}
	return m, nil
}
