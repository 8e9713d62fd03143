package engine

// Reserves on chain: the treasury's positions at on-chain venues are the chain's, read at one
// block with one multicall (contracts/treasurychain.Reader), and its trades are executed through
// its Safe (one MultiSend signed by the owners, or a Transaction Builder batch for owners who
// sign elsewhere). Venues with no contract (a perpetual exchange, a custodian) stay in the
// engine's state as in the market-only mode, and the reserves opening names them as off chain.

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/contracts/keystore"
	"github.com/solvency-dev/solvency/contracts/treasurychain"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
	"github.com/solvency-dev/solvency/treasury/execute"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/state"
	"github.com/solvency-dev/solvency/treasury/venues"
	"github.com/solvency-dev/solvency/verifier"
)

// Execution modes of an on-chain treasury.
const (
	// ExecOwners: the engine holds at least the threshold of the Safe's owner keys, signs the
	// cycle's Safe transaction and executes it.
	ExecOwners = "owners"
	// ExecBatch: the owners sign elsewhere; the engine writes the Safe Transaction Builder batch
	// (the chain's id, the Safe, its nonce) and waits for the Safe's nonce to move.
	ExecBatch = "batch"
)

// Kinds of on-chain venue.
const (
	// VenueSafe is the Safe itself: its balance of each listed asset's token.
	VenueSafe = "safe"
	// VenueVault is an ERC-4626 vault (a lending or yield venue): the Safe's shares, valued in
	// the vault's asset.
	VenueVault = "vault"
	// VenueToken is a token the Safe holds that stands for a venue (a liquid-staking token such
	// as stETH: the staking venue's position is the Safe's balance of it).
	VenueToken = "token"
)

// OnchainFile is the treasury's on-chain configuration (the engine config's "onchain"): which
// venues are contracts, at which addresses, each asset's token, and how trades are executed.
// Addresses are checked against the deployment file (contracts/treasurychain's format), which
// also gives the Safe's helpers (MultiSendCallOnly), the read aggregator and the pools.
type OnchainFile struct {
	// Deployment is the treasurychain deployment file, relative to this file.
	Deployment string `json:"deployment"`
	// Safe holds the treasury.
	Safe string `json:"safe"`
	// Tokens maps each asset the Safe can hold to its token's address.
	Tokens map[string]string `json:"tokens"`
	// Venues are the engine's venues (venues.json ids) that are on chain; every other venue of
	// the book is off chain.
	Venues []OnchainVenue `json:"venues"`
	// Execution is ExecOwners or ExecBatch.
	Execution string `json:"execution"`
	// Owners are the owner keys the engine signs with (ExecOwners), at least the threshold.
	Owners []OwnerKey `json:"owners,omitempty"`
	// WaitTimeout bounds the wait for owners who sign elsewhere (ExecBatch; default 1h);
	// WaitPoll is how often the Safe's nonce is read (default 5s).
	WaitTimeout string `json:"waitTimeout,omitempty"`
	WaitPoll    string `json:"waitPoll,omitempty"`
	// DevMarket moves the dev chain's pools to the oracle's prices before each execution, as
	// arbitrageurs do on a real chain. Dev chains only.
	DevMarket bool `json:"devMarket,omitempty"`
}

// OwnerKey names one owner's key: a plain development key file, or a go-ethereum keystore
// with its password in a file or an environment variable.
type OwnerKey struct {
	KeyFile      string `json:"keyFile,omitempty"`
	Keystore     string `json:"keystore,omitempty"`
	PasswordFile string `json:"passwordFile,omitempty"`
	PasswordEnv  string `json:"passwordEnv,omitempty"`
}

// OnchainVenue is one engine venue that lives on chain.
type OnchainVenue struct {
	Venue   string   `json:"venue"`
	Kind    string   `json:"kind"`    // VenueSafe, VenueVault or VenueToken
	Address string   `json:"address"` // the Safe, the vault, or the token
	Assets  []string `json:"assets"`  // what it holds (one asset for a vault or a token)
}

// onchain is an opened on-chain treasury.
type onchain struct {
	file    *OnchainFile
	d       *treasurychain.Deployment
	owners  []*ecdsa.PrivateKey
	byVenue map[string]OnchainVenue
	// specs are the reads, one per (engine venue, asset), in a fixed order.
	specs    []treasurychain.PositionSpec
	offChain []string // book venue ids with no contract
	chainMap *bundle.ChainMap
	timeout  time.Duration
	poll     time.Duration

	chain  *contracts.Chain
	reader *treasurychain.Reader
	exec   *treasurychain.Executor
}

// Contracts is the chain the EVMChain sends through (for the on-chain treasury).
func (c *EVMChain) Contracts() *contracts.Chain { return c.Chain }

// DevChain says whether the engine drives this chain's prices (dev feeds): only there may the
// on-chain treasury's dev market move pools.
func (c *EVMChain) DevChain() bool { return c.DevFeeds }

// LoadOnchainFile reads an on-chain configuration strictly.
func LoadOnchainFile(path string) (*OnchainFile, error) {
	raw, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return nil, fmt.Errorf("onchain config: %w", err)
	}
	var f OnchainFile
	if err := jsonstrict.Unmarshal(path, raw, &f); err != nil {
		return nil, fmt.Errorf("onchain config: %w", err)
	}
	return &f, nil
}

func parseAddress(s, what string) (common.Address, error) {
	if !common.IsHexAddress(s) || !strings.HasPrefix(s, "0x") || len(s) != 42 {
		return common.Address{}, fmt.Errorf("%s %q is not a 0x-prefixed 20-byte address", what, s)
	}
	return common.HexToAddress(s), nil
}

// loadOnchain reads the engine config's on-chain file, its deployment and the owners' keys,
// and checks every address against the deployment and every venue against the book and the
// policy. Nothing is sent. The chain is attached later (connectOnchain).
func (e *Engine) loadOnchain(in *inputs) error {
	if e.cfg.Onchain == "" {
		return nil
	}
	path := e.cfg.Path(e.cfg.Onchain)
	f, err := LoadOnchainFile(path)
	if err != nil {
		return err
	}
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(filepath.Dir(path), p)
	}
	o := &onchain{file: f, byVenue: map[string]OnchainVenue{}}
	if o.d, err = treasurychain.ReadDeployment(rel(f.Deployment)); err != nil {
		return err
	}
	if err := o.checkAddresses(e, in.book); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	switch f.Execution {
	case ExecOwners:
		if len(f.Owners) == 0 {
			return fmt.Errorf("%s: execution %q needs the owners' keys (\"owners\")", path, f.Execution)
		}
		for i, k := range f.Owners {
			key, err := keystore.Load(keystore.Source{Role: fmt.Sprintf("Safe owner %d", i+1), KeyFile: rel(k.KeyFile),
				Keystore: rel(k.Keystore), PasswordFile: rel(k.PasswordFile), PasswordEnv: k.PasswordEnv})
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			o.owners = append(o.owners, key.Private)
		}
	case ExecBatch:
		if len(f.Owners) > 0 {
			return fmt.Errorf("%s: execution %q: the owners sign elsewhere; give no owner keys", path, f.Execution)
		}
	default:
		return fmt.Errorf("%s: execution %q; want %q (the engine signs with the owners' keys) or %q (a Transaction Builder batch for owners who sign elsewhere)",
			path, f.Execution, ExecOwners, ExecBatch)
	}
	o.timeout, o.poll = time.Hour, 5*time.Second
	for _, d := range []struct {
		s   string
		dst *time.Duration
		nm  string
	}{{f.WaitTimeout, &o.timeout, "waitTimeout"}, {f.WaitPoll, &o.poll, "waitPoll"}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil || v <= 0 {
			return fmt.Errorf("%s: %s %q is not a positive duration (e.g. \"30m\")", path, d.nm, d.s)
		}
		*d.dst = v
	}
	e.onchain = o
	return nil
}

// checkAddresses checks the file's addresses against the deployment, builds the reads, and
// splits the book into on-chain and off-chain venues. A policy venue is wholly on chain or
// wholly off chain: the auditor reads one and is given the other, never both for one amount.
func (o *onchain) checkAddresses(e *Engine, book *venues.Book) error {
	f, d := o.file, o.d
	safe, err := parseAddress(f.Safe, "safe")
	if err != nil {
		return err
	}
	if safe != d.Safe {
		return fmt.Errorf("safe %s is not the deployment's Safe %s", safe.Hex(), d.Safe.Hex())
	}
	tokens := map[string]common.Address{}
	for sym, s := range f.Tokens {
		da, ok := d.Asset(sym)
		if !ok {
			return fmt.Errorf("token %s: the deployment has no such asset", sym)
		}
		if _, ok := e.assets[sym]; !ok {
			return fmt.Errorf("token %s: the policy's asset table has no such asset", sym)
		}
		if da.Native {
			if s != "native" {
				return fmt.Errorf("token %s: the deployment holds it as the chain's coin; write \"native\"", sym)
			}
			continue
		}
		a, err := parseAddress(s, "token "+sym)
		if err != nil {
			return err
		}
		if a != da.Token {
			return fmt.Errorf("token %s %s is not the deployment's %s", sym, a.Hex(), da.Token.Hex())
		}
		tokens[sym] = a
	}
	onPolicy := map[string]string{}
	for _, v := range f.Venues {
		bv, ok := book.Venue(v.Venue)
		if !ok {
			return fmt.Errorf("venue %s is not in the venue book", v.Venue)
		}
		if _, dup := o.byVenue[v.Venue]; dup {
			return fmt.Errorf("venue %s listed twice", v.Venue)
		}
		addr, err := parseAddress(v.Address, "venue "+v.Venue+" address")
		if err != nil {
			return err
		}
		if len(v.Assets) == 0 {
			return fmt.Errorf("venue %s lists no assets", v.Venue)
		}
		for _, sym := range v.Assets {
			if _, ok := d.Asset(sym); !ok {
				return fmt.Errorf("venue %s: asset %s is not in the deployment", v.Venue, sym)
			}
			if _, ok := f.Tokens[sym]; !ok {
				return fmt.Errorf("venue %s: asset %s has no entry in \"tokens\"", v.Venue, sym)
			}
			sp := treasurychain.PositionSpec{Venue: v.Venue, Asset: sym, Holder: d.Safe}
			switch v.Kind {
			case VenueSafe:
				if addr != d.Safe {
					return fmt.Errorf("venue %s (the Safe) names %s, not the Safe %s", v.Venue, addr.Hex(), d.Safe.Hex())
				}
				sp.Kind, sp.Contract = treasurychain.KindERC20, tokens[sym]
				if da, _ := d.Asset(sym); da.Native {
					sp.Kind, sp.Contract = treasurychain.KindNative, common.Address{}
				}
			case VenueVault:
				dv, ok := vaultAt(d, addr)
				if !ok || dv.Asset != sym || len(v.Assets) != 1 {
					return fmt.Errorf("venue %s: %s is not a vault of the deployment over %s alone", v.Venue, addr.Hex(), sym)
				}
				sp.Kind, sp.Contract = treasurychain.KindVault, addr
			case VenueToken:
				if len(v.Assets) != 1 || tokens[sym] != addr {
					return fmt.Errorf("venue %s: %s is not the token of its one asset %s", v.Venue, addr.Hex(), sym)
				}
				sp.Kind, sp.Contract = treasurychain.KindERC20, addr
			default:
				return fmt.Errorf("venue %s: kind %q; want %q, %q or %q", v.Venue, v.Kind, VenueSafe, VenueVault, VenueToken)
			}
			o.specs = append(o.specs, sp)
		}
		o.byVenue[v.Venue] = v
		onPolicy[bv.PolicyName()] = v.Venue
	}
	// One read per (holder, contract): a token venue and the Safe must not both count one
	// balance.
	seen := map[string]string{}
	for _, sp := range o.specs {
		k := string(sp.Kind) + sp.Contract.Hex() + sp.Holder.Hex()
		if sp.Kind == treasurychain.KindNative {
			k = "native" + sp.Holder.Hex()
		}
		if prev, dup := seen[k]; dup {
			return fmt.Errorf("%s and %s read the same balance (%s of %s): one venue per balance", prev, sp.Key(), sp.Kind, sp.Contract.Hex())
		}
		seen[k] = sp.Key()
	}
	if _, ok := o.byVenue[d.SafeVenue]; !ok {
		return fmt.Errorf("the Safe's own venue %q is not among the on-chain venues", d.SafeVenue)
	}
	for _, bv := range book.Venues {
		if _, ok := o.byVenue[bv.ID]; ok {
			continue
		}
		if on, ok := onPolicy[bv.PolicyName()]; ok {
			return fmt.Errorf("venue %s is off chain but shares the policy venue %q with on-chain venue %s: an auditor could not tell which amount the chain must show",
				bv.ID, bv.PolicyName(), on)
		}
		o.offChain = append(o.offChain, bv.ID)
	}
	sort.Strings(o.offChain)
	return o.buildChainMap(e, book)
}

func vaultAt(d *treasurychain.Deployment, addr common.Address) (treasurychain.DeployedVault, bool) {
	for _, v := range d.Vaults {
		if v.Address == addr {
			return v, true
		}
	}
	return treasurychain.DeployedVault{}, false
}

// buildChainMap is the opening's "chain" field: every read, by the opening's venue and asset
// indices (the policy's), and every off-chain venue by name.
func (o *onchain) buildChainMap(e *Engine, book *venues.Book) error {
	m := &bundle.ChainMap{Version: bundle.ChainMapVersion, ChainID: o.d.ChainID, Multicall: o.d.Multicall.Hex()}
	table := e.pol.Table()
	venueIdx := func(id string) (int, error) {
		bv, ok := book.Venue(id)
		if !ok {
			return 0, fmt.Errorf("venue %s is not in the venue book", id)
		}
		i, ok := e.pol.VenueIndex(bv.PolicyName())
		if !ok {
			return 0, fmt.Errorf("venue %s: the policy has no venue %q", id, bv.PolicyName())
		}
		return i, nil
	}
	for _, sp := range o.specs {
		v, err := venueIdx(sp.Venue)
		if err != nil {
			return err
		}
		a, ok := table.Index(sp.Asset)
		if !ok {
			return fmt.Errorf("asset %s is not in the policy's asset table", sp.Asset)
		}
		cp := bundle.ChainPosition{Venue: v, Asset: a, Kind: string(sp.Kind), Holder: sp.Holder.Hex()}
		if sp.Kind != treasurychain.KindNative {
			cp.Contract = sp.Contract.Hex()
		}
		m.Positions = append(m.Positions, cp)
	}
	for _, id := range o.offChain {
		v, err := venueIdx(id)
		if err != nil {
			return err
		}
		bv, _ := book.Venue(id)
		why := "no contract on chain " + fmt.Sprint(o.d.ChainID)
		switch bv.Kind {
		case venues.KindPerp:
			why = "perpetual exchange: no contract on this chain; observe its balances at the venue"
		case venues.KindOptions:
			why = "options venue: its options and settled cash are observed at the venue"
		case venues.KindAMM:
			why = "liquidity pool: observe the share's claim on the pool's reserves"
		case venues.KindWallet:
			why = "custodian or wallet outside the Safe: observe its balances at the custodian"
		}
		m.OffChain = append(m.OffChain, bundle.OffChainVenue{Venue: v, Name: id, Why: why})
	}
	o.chainMap = m
	return nil
}

// connectOnchain attaches the on-chain treasury to the engine's chain and checks what the
// chain says: its id, the Safe's code, owners and threshold, and (when the engine signs) that
// the keys given are owners and reach the threshold.
func (e *Engine) connectOnchain(ctx context.Context) error {
	o := e.onchain
	if o == nil {
		return nil
	}
	cc, ok := e.opt.Chain.(interface{ Contracts() *contracts.Chain })
	if !ok {
		return fmt.Errorf("the on-chain treasury needs an EVM chain; %s is not one", e.opt.Chain.Describe())
	}
	o.chain = cc.Contracts()
	if dc, ok := e.opt.Chain.(interface{ DevChain() bool }); o.file.DevMarket && (!ok || !dc.DevChain()) {
		return fmt.Errorf("\"devMarket\" moves pools by minting dev tokens: it is for a dev chain with dev price feeds, not %s", e.opt.Chain.Describe())
	}
	if o.chain.ChainID.Uint64() != o.d.ChainID {
		return fmt.Errorf("the treasury is deployed on chain %d; %s is chain %s", o.d.ChainID, e.opt.Chain.Describe(), o.chain.ChainID)
	}
	code, err := o.chain.Backend.CodeAt(ctx, o.d.Safe, nil)
	if err != nil {
		return fmt.Errorf("read the Safe's code: %w", err)
	}
	if len(code) == 0 {
		return fmt.Errorf("%s holds no code at the Safe %s: the chain does not hold the treasury's deployment (a reset chain?)", e.opt.Chain.Describe(), o.d.Safe.Hex())
	}
	st, err := treasurychain.ReadSafe(ctx, o.chain.Backend, o.d.Safe)
	if err != nil {
		return err
	}
	if o.file.Execution == ExecOwners {
		isOwner := map[common.Address]bool{}
		for _, a := range st.Owners {
			isOwner[a] = true
		}
		n := 0
		for _, k := range o.owners {
			if !isOwner[keyAddress(k)] {
				return fmt.Errorf("owner key %s is not an owner of the Safe %s", keyAddress(k).Hex(), o.d.Safe.Hex())
			}
			n++
		}
		if n < st.Threshold {
			return fmt.Errorf("%d owner keys given; the Safe %s needs %d of its %d owners", n, o.d.Safe.Hex(), st.Threshold, len(st.Owners))
		}
	}
	if o.reader, err = treasurychain.NewReader(o.chain.Backend, o.d.Multicall); err != nil {
		return err
	}
	if o.exec, err = treasurychain.NewExecutor(o.chain, o.d, o.owners); err != nil {
		return err
	}
	o.exec.Mined = func(_ *types.Receipt) error { return e.fault("safe-mined") }
	return nil
}

// positionsNow is the treasury as it stands: in the on-chain mode every on-chain position
// read at the head with one multicall, plus the off-chain venues' positions from the state;
// otherwise the state's positions.
func (e *Engine) positionsNow(ctx context.Context) (venues.Positions, error) {
	if e.onchain == nil {
		return e.st.Positions()
	}
	head, err := e.onchain.chain.Backend.BlockNumber(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the chain's head: %w", err)
	}
	pos, err := e.positionsAt(ctx, head)
	return pos, err
}

// positionsAt reads the on-chain positions at block and joins the state's off-chain ones.
func (e *Engine) positionsAt(ctx context.Context, block uint64) (venues.Positions, error) {
	o := e.onchain
	snap, err := o.reader.Read(ctx, block, o.specs)
	if err != nil {
		return nil, fmt.Errorf("read the treasury's positions at block %d: %w", block, err)
	}
	stored, err := e.st.Positions()
	if err != nil {
		return nil, err
	}
	var out venues.Positions
	for _, r := range snap.Readings {
		out = append(out, venues.Position{Venue: r.Venue, Asset: r.Asset, Amount: new(big.Int).Set(r.Amount)})
	}
	for _, p := range stored {
		if _, on := o.byVenue[p.Venue]; !on {
			out = append(out, venues.Position{Venue: p.Venue, Asset: p.Asset, Amount: new(big.Int).Set(p.Amount)})
		}
	}
	return out.Canonical(), nil
}

// planPositions are the positions the cycle's plan starts from: the ones assessed (read from
// the chain in the on-chain mode), else the state's.
func (e *Engine) planPositions(cr *cycleRun) (venues.Positions, error) {
	if e.onchain == nil {
		return e.st.Positions()
	}
	return cr.rec.PositionsBefore, nil
}

// reservesBlock is the block the statement claims reserves at: in the on-chain mode the block
// the positions after execution were read at (the auditor reads the same block); otherwise
// the chain's head when proving.
func (e *Engine) reservesBlock(ctx context.Context, cr *cycleRun) (uint64, error) {
	if e.onchain == nil {
		return e.opt.Chain.Head(ctx)
	}
	if cr.rec.Chain == nil || cr.rec.Chain.ReadBlock == 0 {
		return 0, fmt.Errorf("cycle %d: no block recorded for the positions read after execution", cr.c)
	}
	return cr.rec.Chain.ReadBlock, nil
}

// reservesChain is what the opening says about where the reserves are (nil: market-only mode).
func (e *Engine) reservesChain() *bundle.ChainMap {
	if e.onchain == nil {
		return nil
	}
	return e.onchain.chainMap
}

// chainVenue is the deployment's venue for an engine venue: the Safe's own venue for the Safe
// and for a token it holds, the vault's venue for a vault; an off-chain venue keeps its name
// (treasurychain.EngineTrades refuses it by name).
func (o *onchain) chainVenue(id string) string {
	v, ok := o.byVenue[id]
	if !ok {
		return id
	}
	switch v.Kind {
	case VenueVault:
		if dv, ok := vaultAt(o.d, common.HexToAddress(v.Address)); ok {
			return dv.Venue
		}
	}
	return o.d.SafeVenue
}

// minOut is a swap's least accepted output: the oracle-fair amount at the cycle's prices less
// the executor's slippage budget.
func (e *Engine) minOut(prices market.Snapshot) func(execute.Trade) *big.Int {
	budget := int64(e.sim.Config().SlippageBudgetBps)
	return func(t execute.Trade) *big.Int {
		pa, errA := prices.Price(t.FromAsset)
		pb, errB := prices.Price(t.ToAsset)
		if errA != nil || errB != nil {
			// No price: accept nothing, so the plan is refused rather than filled blind.
			return new(big.Int).Lsh(big.NewInt(1), 255)
		}
		fair, err := market.AmountFor(market.Value(t.Amount, e.assets[t.FromAsset].Decimals, pa), e.assets[t.ToAsset].Decimals, pb)
		if err != nil {
			return new(big.Int).Lsh(big.NewInt(1), 255)
		}
		fair.Mul(fair, big.NewInt(10_000-budget))
		return fair.Quo(fair, big.NewInt(10_000))
	}
}

// executeOnchain executes the cycle's trades through the Safe, exactly once across crashes:
// the Safe transaction (its plan, nonce and safeTxHash) is recorded before it is sent, and a
// rerun executes that recorded transaction or, when the Safe's nonce has moved, finds its
// execution instead of planning another. The positions are then read again at the block the
// execution landed in; a position the chain disagrees with stops the cycle, naming it, and
// nothing is proved.
func (e *Engine) executeOnchain(ctx context.Context, cr *cycleRun) error {
	c, o := cr.c, e.onchain
	if _, safe := splitPerpResizes(cr.rec.Trades); len(safe) == 0 {
		head, err := o.chain.Backend.BlockNumber(ctx)
		if err != nil {
			return fmt.Errorf("cycle %d: read the chain's head: %w", c, err)
		}
		return e.recordExecuted(ctx, cr, head, nil)
	}
	var plan treasurychain.Plan
	tx := (*state.SafeTxRecord)(nil)
	if cr.rec.Chain != nil {
		tx = cr.rec.Chain.SafeTx
	}
	if tx != nil {
		if err := json.Unmarshal(tx.Plan, &plan); err != nil {
			return fmt.Errorf("cycle %d: the recorded Safe plan: %w", c, err)
		}
		e.logf("cycle %d: resuming Safe transaction %s (nonce %d) recorded before a restart", c, tx.SafeTxHash, tx.Nonce)
	} else {
		var err error
		if tx, err = e.planSafeTx(ctx, cr, &plan); err != nil {
			return err
		}
	}
	if tx.Batch != "" {
		e.logf("cycle %d: waiting up to %s for the Safe's owners to execute %s (nonce %d; batch %s)", c, o.timeout, tx.SafeTxHash, tx.Nonce, tx.Batch)
		if _, err := treasurychain.WaitNonce(ctx, o.chain.Backend, o.d.Safe, tx.Nonce, o.poll, o.timeout); err != nil {
			return fmt.Errorf("cycle %d: %w; run again to keep waiting for the same transaction (nothing is proved until it executes)", c, err)
		}
	}
	res, err := o.exec.ExecuteOnce(ctx, &plan, tx.Nonce, tx.FromBlock)
	var mm *treasurychain.MismatchError
	if errors.As(err, &mm) {
		return fmt.Errorf("cycle %d: stopped, nothing proved: %w", c, err)
	}
	if err != nil && strings.Contains(err.Error(), "GS013") {
		// The Safe's code for "the inner transaction failed": with no safeTxGas the whole
		// transaction reverts, so nothing moved.
		return fmt.Errorf("cycle %d: Safe execution: a call inside the Safe transaction failed (a swap no longer clears at its "+
			"recorded output: the pool moved; or an amount is short), so nothing executed and nothing is proved: %w", c, err)
	}
	if err != nil {
		return fmt.Errorf("cycle %d: Safe execution: %w", c, err)
	}
	e.logf("cycle %d: executed through the Safe %s: nonce %d, tx %s in block %d, %d gas, %d calls", c, o.d.Safe.Hex(), res.Nonce,
		res.TxHash.Hex(), res.Block, res.GasUsed, len(plan.Calls))
	return e.recordExecuted(ctx, cr, res.Block, res)
}

// planSafeTx plans the cycle's Safe transaction and records it before anything is sent; for
// owners who sign elsewhere it also writes the Transaction Builder batch.
func (e *Engine) planSafeTx(ctx context.Context, cr *cycleRun, plan *treasurychain.Plan) (*state.SafeTxRecord, error) {
	c, o := cr.c, e.onchain
	if o.file.DevMarket {
		if _, err := treasurychain.Recentre(ctx, o.chain, o.d, cr.rec.Prices.Prices); err != nil {
			return nil, fmt.Errorf("cycle %d: dev market: %w", c, err)
		}
	}
	// Perpetual hedge resizes are made at their venue, not by the Safe (recordExecuted).
	_, safe := splitPerpResizes(cr.rec.Trades)
	mapped := make([]execute.Trade, len(safe))
	for i, t := range safe {
		t.FromVenue, t.ToVenue = o.chainVenue(t.FromVenue), o.chainVenue(t.ToVenue)
		mapped[i] = t
	}
	steps, err := treasurychain.EngineTrades(o.d, mapped, e.minOut(cr.rec.Prices))
	if err != nil {
		return nil, fmt.Errorf("cycle %d: %w", c, err)
	}
	p, err := o.exec.Plan(ctx, steps)
	if err != nil {
		return nil, fmt.Errorf("cycle %d: plan the Safe transaction: %w", c, err)
	}
	*plan = *p
	st, err := treasurychain.ReadSafe(ctx, o.chain.Backend, o.d.Safe)
	if err != nil {
		return nil, fmt.Errorf("cycle %d: %w", c, err)
	}
	head, err := o.chain.Backend.BlockNumber(ctx)
	if err != nil {
		return nil, fmt.Errorf("cycle %d: read the chain's head: %w", c, err)
	}
	stx, err := o.exec.SafeTxFor(p, st.Nonce)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("cycle %d: encode the Safe plan: %w", c, err)
	}
	tx := &state.SafeTxRecord{Safe: o.d.Safe.Hex(), Nonce: st.Nonce.Uint64(), SafeTxHash: stx.Hash(o.chain.ChainID, o.d.Safe).Hex(),
		FromBlock: head, Plan: raw}
	if o.file.Execution == ExecBatch {
		b, pend, err := o.exec.ProductionBatch(ctx, p, fmt.Sprintf("Solvency cycle %d rebalance", c), time.Unix(cr.rec.Prices.Time, 0).UTC())
		if err != nil {
			return nil, fmt.Errorf("cycle %d: %w", c, err)
		}
		if pend.Nonce != tx.Nonce || pend.SafeTxHash.Hex() != tx.SafeTxHash {
			return nil, fmt.Errorf("cycle %d: the Safe moved while the batch was written; run again", c)
		}
		tx.Batch = filepath.Join(e.cycleDir(c), "safe-batch.json")
		if err := treasurychain.WriteProductionBatch(tx.Batch, filepath.Join(e.cycleDir(c), "safe-pending.json"), b, pend); err != nil {
			return nil, err
		}
	}
	if err := e.st.RecordSafeTx(c, tx); err != nil {
		return nil, err
	}
	if err := e.fault("safe-recorded"); err != nil {
		return nil, fmt.Errorf("cycle %d: after recording the Safe transaction: %w", c, err)
	}
	return tx, nil
}

// recordExecuted reads the positions at block (the execution's, or the head when nothing was
// traded) and records the cycle executed with them: that block is the reserves block.
func (e *Engine) recordExecuted(ctx context.Context, cr *cycleRun, block uint64, res *treasurychain.Result) error {
	pos, err := e.positionsAt(ctx, block)
	if err != nil {
		return fmt.Errorf("cycle %d: %w", cr.c, err)
	}
	book, err := e.st.Book()
	if err != nil {
		return err
	}
	if pos, err = e.applyPerpResizes(book, pos, cr.rec.Prices, cr.rec.Trades); err != nil {
		return fmt.Errorf("cycle %d: %w", cr.c, err)
	}
	e.logf("cycle %d: reserves read at block %d (%d on-chain positions, one multicall; off chain: %s)", cr.c, block, len(e.onchain.specs),
		strings.Join(e.onchain.offChain, ", "))
	return e.advance(cr.c, state.StageExecuted, func(r *state.CycleRecord) error {
		if r.Chain == nil {
			r.Chain = &state.ChainRecord{}
		}
		r.Chain.ReadBlock = block
		if res != nil {
			r.Chain.ExecTx, r.Chain.GasUsed = res.TxHash.Hex(), res.GasUsed
			r.SafeBatchPath = r.Chain.SafeTx.Batch
		}
		r.PositionsAfter = pos
		return nil
	}, state.Effects{Positions: pos, Book: book})
}

func keyAddress(k *ecdsa.PrivateKey) common.Address { return crypto.PubkeyToAddress(k.PublicKey) }

// OffChainBalances are the opening's amounts at its off-chain venues as observed balances (the
// format of `verify reserves --balances`): what the venues' own statements must show. The demo
// writes them from its state for the auditor's command; a real auditor takes them from the
// venues (a custodian's statement, a perpetual exchange's account), never from the operator.
func OffChainBalances(op *bundle.ReservesOpening) *verifier.ObservedBalances {
	out := &verifier.ObservedBalances{Version: verifier.ObservedBalancesVersion, Block: op.Block, Balances: []verifier.ObservedBalance{}}
	if op.Chain == nil {
		return out
	}
	out.ChainID = op.Chain.ChainID
	names := map[int]string{}
	for _, oc := range op.Chain.OffChain {
		names[oc.Venue] = oc.Name
	}
	for _, p := range op.Positions {
		name, ok := names[p.Venue]
		if !ok {
			continue
		}
		sym := ""
		if p.Asset >= 0 && p.Asset < len(op.Assets) {
			sym = op.Assets[p.Asset].Symbol
		}
		out.Balances = append(out.Balances, verifier.ObservedBalance{Venue: p.Venue, Asset: p.Asset, Symbol: sym, AmountUnits: p.Amount,
			Source: "statement of " + name})
	}
	return out
}
