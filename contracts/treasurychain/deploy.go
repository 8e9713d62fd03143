package treasurychain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sort"

	"github.com/ethereum/go-ethereum/common"

	"github.com/solvency-dev/solvency/contracts"
)

// DefaultSafeVenue is the venue name of the Safe itself.
const DefaultSafeVenue = "safe"

// Asset is one asset of the treasury. A native asset (ETH) has no token: the Safe holds it as
// the chain's coin. Every other asset gets a DevToken with these decimals.
type Asset struct {
	Symbol   string
	Decimals uint8
	Native   bool
}

// Vault is an ERC-4626 vault over one (token) asset: a lending or yield venue.
type Vault struct {
	Venue string
	Asset string
}

// Pool is a Uniswap V2 pair of two token assets, seeded with reserves in base units.
type Pool struct {
	A, B               string
	ReserveA, ReserveB *big.Int
}

// Holding is what the Safe starts with at a venue (the Safe itself or a vault), in base units.
type Holding struct {
	Venue  string
	Asset  string
	Amount *big.Int
}

// Spec describes the treasury to deploy and fund.
type Spec struct {
	Assets    []Asset
	Vaults    []Vault
	Pools     []Pool
	Owners    []common.Address
	Threshold int
	// SafeVenue names the Safe as a venue (DefaultSafeVenue when empty).
	SafeVenue string
	Holdings  []Holding
	// SaltNonce makes the Safe's address differ between deployments by the same factory.
	SaltNonce uint64
}

// DeployedAsset is an asset with its token address (zero for the native coin).
type DeployedAsset struct {
	Symbol   string         `json:"symbol"`
	Decimals uint8          `json:"decimals"`
	Native   bool           `json:"native,omitempty"`
	Token    common.Address `json:"token"`
}

// DeployedVault is a vault venue's address.
type DeployedVault struct {
	Venue   string         `json:"venue"`
	Asset   string         `json:"asset"`
	Address common.Address `json:"address"`
}

// DeployedPair is a Uniswap V2 pair's address.
type DeployedPair struct {
	A       string         `json:"a"`
	B       string         `json:"b"`
	Address common.Address `json:"address"`
}

// Deployment is where everything landed.
type Deployment struct {
	ChainID           uint64           `json:"chainId"`
	Safe              common.Address   `json:"safe"`
	SafeVenue         string           `json:"safeVenue"`
	Owners            []common.Address `json:"owners"`
	Threshold         int              `json:"threshold"`
	SafeSingleton     common.Address   `json:"safeSingleton"`
	SafeProxyFactory  common.Address   `json:"safeProxyFactory"`
	MultiSend         common.Address   `json:"multiSend"`
	MultiSendCallOnly common.Address   `json:"multiSendCallOnly"`
	Multicall         common.Address   `json:"multicall"`
	UniswapV2Factory  common.Address   `json:"uniswapV2Factory"`
	Assets            []DeployedAsset  `json:"assets"`
	Vaults            []DeployedVault  `json:"vaults"`
	Pairs             []DeployedPair   `json:"pairs"`
	// Block is the block of the last deployment or funding transaction.
	Block uint64 `json:"block"`
}

// Asset finds an asset by symbol.
func (d *Deployment) Asset(symbol string) (DeployedAsset, bool) {
	for _, a := range d.Assets {
		if a.Symbol == symbol {
			return a, true
		}
	}
	return DeployedAsset{}, false
}

// Vault finds a vault by venue.
func (d *Deployment) Vault(venue string) (DeployedVault, bool) {
	for _, v := range d.Vaults {
		if v.Venue == venue {
			return v, true
		}
	}
	return DeployedVault{}, false
}

// Pair finds the pair of two assets, in either order.
func (d *Deployment) Pair(a, b string) (DeployedPair, bool) {
	for _, p := range d.Pairs {
		if (p.A == a && p.B == b) || (p.A == b && p.B == a) {
			return p, true
		}
	}
	return DeployedPair{}, false
}

// Positions lists every (venue, asset) the Safe can hold in this deployment: each asset in the
// Safe itself and each vault's asset at the vault, as the reader reads them.
func (d *Deployment) Positions() []PositionSpec {
	var out []PositionSpec
	for _, a := range d.Assets {
		p := PositionSpec{Venue: d.SafeVenue, Asset: a.Symbol, Holder: d.Safe, Kind: KindERC20, Contract: a.Token}
		if a.Native {
			p.Kind, p.Contract = KindNative, common.Address{}
		}
		out = append(out, p)
	}
	for _, v := range d.Vaults {
		out = append(out, PositionSpec{Venue: v.Venue, Asset: v.Asset, Holder: d.Safe, Kind: KindVault, Contract: v.Address})
	}
	return out
}

func (s *Spec) validate() error {
	if len(s.Owners) == 0 || s.Threshold < 1 || s.Threshold > len(s.Owners) {
		return fmt.Errorf("safe: %d owners and threshold %d; want 1 <= threshold <= owners", len(s.Owners), s.Threshold)
	}
	seen := map[string]Asset{}
	for _, a := range s.Assets {
		if a.Symbol == "" {
			return errors.New("an asset has no symbol")
		}
		if _, dup := seen[a.Symbol]; dup {
			return fmt.Errorf("asset %s listed twice", a.Symbol)
		}
		seen[a.Symbol] = a
	}
	venues := map[string]string{}
	for _, v := range s.Vaults {
		a, ok := seen[v.Asset]
		if !ok || a.Native {
			return fmt.Errorf("vault %s: asset %s is not a token asset of the spec", v.Venue, v.Asset)
		}
		if _, dup := venues[v.Venue]; dup || v.Venue == s.SafeVenue {
			return fmt.Errorf("venue %s listed twice", v.Venue)
		}
		venues[v.Venue] = v.Asset
	}
	for _, p := range s.Pools {
		for _, sym := range []string{p.A, p.B} {
			if a, ok := seen[sym]; !ok || a.Native {
				return fmt.Errorf("pool %s/%s: %s is not a token asset of the spec", p.A, p.B, sym)
			}
		}
		if p.A == p.B || p.ReserveA == nil || p.ReserveB == nil || p.ReserveA.Sign() <= 0 || p.ReserveB.Sign() <= 0 {
			return fmt.Errorf("pool %s/%s: two different assets and positive reserves needed", p.A, p.B)
		}
	}
	for _, h := range s.Holdings {
		if h.Amount == nil || h.Amount.Sign() < 0 {
			return fmt.Errorf("holding %s at %s: amount must be zero or positive", h.Asset, h.Venue)
		}
		if _, ok := seen[h.Asset]; !ok {
			return fmt.Errorf("holding at %s: unknown asset %s", h.Venue, h.Asset)
		}
		if h.Venue != s.SafeVenue {
			if venues[h.Venue] != h.Asset {
				return fmt.Errorf("holding %s at %s: no such vault venue for that asset", h.Asset, h.Venue)
			}
		}
	}
	return nil
}

// Deploy deploys the treasury's contracts with chain's key (a funded dev key: it mints the
// tokens and seeds the pools), creates the Safe through the proxy factory with the given owners
// and threshold, and funds it with the spec's holdings: native coin by transfer, tokens by mint,
// vault positions by a deposit whose shares go to the Safe.
func Deploy(ctx context.Context, chain *contracts.Chain, spec Spec) (*Deployment, error) {
	if spec.SafeVenue == "" {
		spec.SafeVenue = DefaultSafeVenue
	}
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("treasury spec: %w", err)
	}
	a, err := loadABIs(ArtDevToken, ArtDevVault, ArtSafe, ArtSafeProxyFactory, ArtMultiSend, ArtMultiSendCallOnly,
		ArtUniswapV2Factory, ArtUniswapV2Pair, ArtMulticall)
	if err != nil {
		return nil, err
	}
	var last uint64
	s := sender{chain: chain, lastBlock: &last}
	me := chain.From()
	d := &Deployment{ChainID: chain.ChainID.Uint64(), SafeVenue: spec.SafeVenue, Threshold: spec.Threshold,
		Owners: append([]common.Address(nil), spec.Owners...)}
	steps := []struct {
		name string
		dst  *common.Address
		args []any
	}{
		{ArtMulticall, &d.Multicall, nil},
		{ArtSafe, &d.SafeSingleton, nil},
		{ArtSafeProxyFactory, &d.SafeProxyFactory, nil},
		{ArtMultiSend, &d.MultiSend, nil},
		{ArtMultiSendCallOnly, &d.MultiSendCallOnly, nil},
		{ArtUniswapV2Factory, &d.UniswapV2Factory, []any{me}},
	}
	for _, st := range steps {
		if *st.dst, err = s.deploy(ctx, a, st.name, st.args...); err != nil {
			return nil, err
		}
	}
	for _, as := range spec.Assets {
		da := DeployedAsset{Symbol: as.Symbol, Decimals: as.Decimals, Native: as.Native}
		if !as.Native {
			if da.Token, err = s.deploy(ctx, a, ArtDevToken, as.Symbol+" (dev)", as.Symbol, as.Decimals); err != nil {
				return nil, fmt.Errorf("token %s: %w", as.Symbol, err)
			}
		}
		d.Assets = append(d.Assets, da)
	}
	for _, v := range spec.Vaults {
		tok, _ := d.Asset(v.Asset)
		addr, err := s.deploy(ctx, a, ArtDevVault, tok.Token, v.Venue+" "+v.Asset+" vault (dev)", "v"+v.Asset)
		if err != nil {
			return nil, fmt.Errorf("vault %s: %w", v.Venue, err)
		}
		d.Vaults = append(d.Vaults, DeployedVault{Venue: v.Venue, Asset: v.Asset, Address: addr})
	}
	if d.Safe, err = createSafe(ctx, s, a, d, spec); err != nil {
		return nil, err
	}
	for _, p := range spec.Pools {
		pair, err := createPool(ctx, s, a, d, p)
		if err != nil {
			return nil, fmt.Errorf("pool %s/%s: %w", p.A, p.B, err)
		}
		d.Pairs = append(d.Pairs, pair)
	}
	for _, h := range spec.Holdings {
		if err := fund(ctx, s, a, d, h); err != nil {
			return nil, fmt.Errorf("fund %s at %s: %w", h.Asset, h.Venue, err)
		}
	}
	// The block of the last funding transaction: the treasury as funded, whatever blocks the
	// node seals after it.
	d.Block = last
	return d, nil
}

// createSafe creates a Safe proxy (setup with the owners and threshold, no modules, no fallback
// handler) and returns its address from the factory's ProxyCreation event.
func createSafe(ctx context.Context, s sender, a abis, d *Deployment, spec Spec) (common.Address, error) {
	owners := append([]common.Address(nil), spec.Owners...)
	zero := common.Address{}
	init, err := a.pack(ArtSafe, "setup", owners, big.NewInt(int64(spec.Threshold)), zero, []byte{}, zero, zero, new(big.Int), zero)
	if err != nil {
		return zero, err
	}
	data, err := a.pack(ArtSafeProxyFactory, "createProxyWithNonce", d.SafeSingleton, init, new(big.Int).SetUint64(spec.SaltNonce))
	if err != nil {
		return zero, err
	}
	rcpt, err := s.send(ctx, d.SafeProxyFactory, nil, data, "create Safe")
	if err != nil {
		return zero, err
	}
	ev := a[ArtSafeProxyFactory].Events["ProxyCreation"]
	for _, l := range rcpt.Logs {
		if l.Address == d.SafeProxyFactory && len(l.Topics) == 2 && l.Topics[0] == ev.ID {
			return common.BytesToAddress(l.Topics[1].Bytes()), nil
		}
	}
	return zero, errors.New("create Safe: the factory emitted no ProxyCreation event")
}

func createPool(ctx context.Context, s sender, a abis, d *Deployment, p Pool) (DeployedPair, error) {
	ta, _ := d.Asset(p.A)
	tb, _ := d.Asset(p.B)
	data, err := a.pack(ArtUniswapV2Factory, "createPair", ta.Token, tb.Token)
	if err != nil {
		return DeployedPair{}, err
	}
	if _, err := s.send(ctx, d.UniswapV2Factory, nil, data, "createPair"); err != nil {
		return DeployedPair{}, err
	}
	out, err := call(ctx, s.chain.Backend, a, ArtUniswapV2Factory, d.UniswapV2Factory, nil, "getPair", ta.Token, tb.Token)
	if err != nil {
		return DeployedPair{}, err
	}
	pair := out[0].(common.Address)
	// Liquidity: mint both reserves into the pair, then pair.mint credits the deployer's LP.
	for _, m := range []struct {
		tok common.Address
		amt *big.Int
	}{{ta.Token, p.ReserveA}, {tb.Token, p.ReserveB}} {
		if err := mintTo(ctx, s, a, m.tok, pair, m.amt); err != nil {
			return DeployedPair{}, err
		}
	}
	mint, err := a.pack(ArtUniswapV2Pair, "mint", s.chain.From())
	if err != nil {
		return DeployedPair{}, err
	}
	if _, err := s.send(ctx, pair, nil, mint, "seed pair"); err != nil {
		return DeployedPair{}, err
	}
	return DeployedPair{A: p.A, B: p.B, Address: pair}, nil
}

func mintTo(ctx context.Context, s sender, a abis, token, to common.Address, amount *big.Int) error {
	data, err := a.pack(ArtDevToken, "mint", to, amount)
	if err != nil {
		return err
	}
	_, err = s.send(ctx, token, nil, data, "mint")
	return err
}

func fund(ctx context.Context, s sender, a abis, d *Deployment, h Holding) error {
	if h.Amount.Sign() == 0 {
		return nil
	}
	as, _ := d.Asset(h.Asset)
	if h.Venue == d.SafeVenue {
		if as.Native {
			_, err := s.send(ctx, d.Safe, h.Amount, nil, "send native coin to the Safe")
			return err
		}
		return mintTo(ctx, s, a, as.Token, d.Safe, h.Amount)
	}
	v, _ := d.Vault(h.Venue)
	if err := mintTo(ctx, s, a, as.Token, s.chain.From(), h.Amount); err != nil {
		return err
	}
	approve, err := a.pack(ArtDevToken, "approve", v.Address, h.Amount)
	if err != nil {
		return err
	}
	if _, err := s.send(ctx, as.Token, nil, approve, "approve vault"); err != nil {
		return err
	}
	dep, err := a.pack(ArtDevVault, "deposit", h.Amount, d.Safe)
	if err != nil {
		return err
	}
	_, err = s.send(ctx, v.Address, nil, dep, "deposit for the Safe")
	return err
}

// sortedOwners returns owners in ascending address order, the order Safe checks signatures in.
func sortedOwners(owners []common.Address) []common.Address {
	out := append([]common.Address(nil), owners...)
	sort.Slice(out, func(i, j int) bool { return out[i].Cmp(out[j]) < 0 })
	return out
}
