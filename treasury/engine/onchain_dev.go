package engine

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/treasurychain"
	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// DevPoolDepthUSD is each side of a dev pool, in dollars: deep enough that the sample's largest
// single swap (about $5M) moves the price by well under the executor's slippage budget, less
// the pool's 0.3% fee, as routing across real venues would.
const DevPoolDepthUSD = 4_000_000_000

// DevTreasury names what DeployDevTreasury wrote.
type DevTreasury struct {
	Onchain    string // the on-chain configuration (Config.Onchain)
	Deployment *treasurychain.Deployment
}

// DeployDevTreasury deploys cfg's treasury on a dev chain (chain's key is a funded dev key): one
// token per asset of the policy (ETH as wrapped ether, an ERC-20, so that it trades on a
// pool), an ERC-4626 vault per lending venue, a Safe with `owners` new owner keys and the
// threshold, a Uniswap V2 pool per pool of the executor's configuration (seeded at cycle 0's
// prices), and funds the Safe with cfg's positions at on-chain venues: the Safe's own ("safe"),
// the lending venues (vault shares), the staking venues (the staking token, held by the Safe).
// Perpetual venues and other wallets (custodians) stay off chain. It writes into dir the owner
// keys (owners/owner-N.key, 0600), the deployment (treasury-deployment.json) and the on-chain
// configuration (onchain.json: the Safe's owners sign with `threshold` of the keys, and the dev
// pools follow the oracle); a dir that already holds onchain.json is reused as it is.
func DeployDevTreasury(ctx context.Context, ch *contracts.Chain, cfg *Config, dir string, owners, threshold int) (*DevTreasury, error) {
	onPath := filepath.Join(dir, "onchain.json")
	depPath := filepath.Join(dir, "treasury-deployment.json")
	if _, err := os.Stat(onPath); err == nil {
		d, err := treasurychain.ReadDeployment(depPath)
		if err != nil {
			return nil, err
		}
		return &DevTreasury{Onchain: onPath, Deployment: d}, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	e := &Engine{cfg: cfg}
	if err := e.loadPolicy(); err != nil {
		return nil, err
	}
	in := &inputs{}
	if err := e.loadTreasury(in); err != nil {
		return nil, err
	}
	if err := e.loadMarket(); err != nil {
		return nil, err
	}
	snap, err := e.src.Snapshot(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("dev treasury: cycle 0 prices: %w", err)
	}
	keys := make([]*ecdsa.PrivateKey, owners)
	addrs := make([]common.Address, owners)
	for i := range keys {
		if keys[i], err = crypto.GenerateKey(); err != nil {
			return nil, err
		}
		addrs[i] = crypto.PubkeyToAddress(keys[i].PublicKey)
	}
	spec, file, err := devSpec(e, in, snap, addrs, threshold)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "owners"), 0o700); err != nil {
		return nil, err
	}
	for i, k := range keys[:threshold] {
		name := fmt.Sprintf("owner-%d.key", i+1)
		raw := fmt.Sprintf("%x\n", k.D.FillBytes(make([]byte, 32)))
		if err := atomicfile.WriteFile(filepath.Join(dir, "owners", name), []byte(raw), 0o600); err != nil {
			return nil, err
		}
		file.Owners = append(file.Owners, OwnerKey{KeyFile: filepath.Join("owners", name)})
	}
	d, err := treasurychain.Deploy(ctx, ch, spec)
	if err != nil {
		return nil, fmt.Errorf("deploy the treasury's contracts: %w", err)
	}
	if err := treasurychain.WriteDeployment(depPath, d); err != nil {
		return nil, err
	}
	file.Deployment = filepath.Base(depPath)
	file.Safe = d.Safe.Hex()
	file.Tokens = map[string]string{}
	for _, a := range d.Assets {
		file.Tokens[a.Symbol] = a.Token.Hex()
	}
	for i, v := range file.Venues {
		switch v.Kind {
		case VenueSafe:
			file.Venues[i].Address = d.Safe.Hex()
		case VenueVault:
			dv, _ := d.Vault(v.Venue)
			file.Venues[i].Address = dv.Address.Hex()
		case VenueToken:
			da, _ := d.Asset(v.Assets[0])
			file.Venues[i].Address = da.Token.Hex()
		}
	}
	raw, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(onPath, append(raw, '\n'), 0o600); err != nil {
		return nil, err
	}
	return &DevTreasury{Onchain: onPath, Deployment: d}, nil
}

// devSpec is the deployment of the engine's treasury and the on-chain file's venues (addresses
// filled in after the deployment).
func devSpec(e *Engine, in *inputs, snap market.Snapshot, owners []common.Address, threshold int) (treasurychain.Spec, *OnchainFile, error) {
	spec := treasurychain.Spec{Owners: owners, Threshold: threshold, SafeVenue: treasurychain.DefaultSafeVenue}
	table := e.pol.Table()
	for _, a := range table.Assets {
		spec.Assets = append(spec.Assets, treasurychain.Asset{Symbol: a.Symbol, Decimals: a.Decimals})
	}
	file := &OnchainFile{Execution: ExecOwners, DevMarket: true}
	safe, ok := in.book.Venue(spec.SafeVenue)
	if !ok || safe.Kind != venues.KindWallet {
		return spec, nil, fmt.Errorf("dev treasury: the venue book has no wallet venue %q for the Safe", spec.SafeVenue)
	}
	chainVenue := map[string]string{spec.SafeVenue: spec.SafeVenue} // engine venue -> the deployment's
	claimed := map[string]bool{}
	for _, v := range in.book.Venues {
		switch {
		case v.Kind == venues.KindLending && v.Lending != nil:
			spec.Vaults = append(spec.Vaults, treasurychain.Vault{Venue: v.ID, Asset: v.Lending.Asset})
			file.Venues = append(file.Venues, OnchainVenue{Venue: v.ID, Kind: VenueVault, Assets: []string{v.Lending.Asset}})
			chainVenue[v.ID] = v.ID
		case v.Kind == venues.KindStaking && v.Staking != nil:
			if claimed[v.Staking.Asset] {
				return spec, nil, fmt.Errorf("dev treasury: two staking venues hold %s", v.Staking.Asset)
			}
			claimed[v.Staking.Asset] = true
			file.Venues = append(file.Venues, OnchainVenue{Venue: v.ID, Kind: VenueToken, Assets: []string{v.Staking.Asset}})
			chainVenue[v.ID] = spec.SafeVenue
		}
	}
	var own []string
	for _, a := range table.Assets {
		if !claimed[a.Symbol] {
			own = append(own, a.Symbol)
		}
	}
	file.Venues = append([]OnchainVenue{{Venue: spec.SafeVenue, Kind: VenueSafe, Assets: own}}, file.Venues...)
	for _, p := range in.positions.Canonical() {
		cv, on := chainVenue[p.Venue]
		if !on {
			continue
		}
		if p.Amount.Sign() < 0 {
			return spec, nil, fmt.Errorf("dev treasury: %s at %s is a debt; the dev chain has no lending market with debt", p.Asset, p.Venue)
		}
		spec.Holdings = append(spec.Holdings, treasurychain.Holding{Venue: cv, Asset: p.Asset, Amount: new(big.Int).Set(p.Amount)})
	}
	depth := new(big.Int).Mul(big.NewInt(DevPoolDepthUSD), big.NewInt(100_000_000))
	for _, pl := range e.sim.Config().Pools {
		var r [2]*big.Int
		for i, sym := range []string{pl.A, pl.B} {
			price, err := snap.Price(sym)
			if err != nil {
				return spec, nil, err
			}
			if r[i], err = market.AmountFor(depth, e.assets[sym].Decimals, price); err != nil {
				return spec, nil, err
			}
		}
		spec.Pools = append(spec.Pools, treasurychain.Pool{A: pl.A, B: pl.B, ReserveA: r[0], ReserveB: r[1]})
	}
	sort.Slice(spec.Holdings, func(i, j int) bool {
		return spec.Holdings[i].Venue+spec.Holdings[i].Asset < spec.Holdings[j].Venue+spec.Holdings[j].Asset
	})
	return spec, file, nil
}
