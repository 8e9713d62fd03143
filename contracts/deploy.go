package contracts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
)

// DeployConfig says what Deploy puts on chain.
type DeployConfig struct {
	// NumAssets is the number of assets of the solvency circuit (and of feeds).
	NumAssets int
	// Verifier is the compiled verifier of the solvency circuit's key (CompileVerifier).
	Verifier *Artifact
	// Governance and Prover default to the deployer when zero.
	Governance common.Address
	Prover     common.Address
	// Feeds are existing Chainlink feeds, one per asset slot. Leave empty and set DevFeeds to
	// deploy settable feeds instead (dev chains only).
	Feeds    []FeedConfig
	DevFeeds []DevFeedSpec
	// Delay is the governance delay: every change of the policy hash, the prover, the auditor
	// set, the feeds and governance is announced and applies only this long after, in whole
	// seconds in [0, MaxDelay]. Zero means DefaultDevDelay (dev chains and tests; production
	// deployments name theirs) unless ZeroDelay is set.
	Delay time.Duration
	// ZeroDelay asks for a registry whose changes apply at once (Delay must be zero):
	// development only, and `solvency contracts check` warns about it.
	ZeroDelay bool
	// Auditors is the auditor set in force from deployment (may be empty).
	Auditors []common.Address
	// MaxReservesAge is the most blocks a statement's reserves block may lie behind the block
	// that records it (R1), in [1, MaxReservesAgeLimit]; zero means DefaultMaxReservesAge.
	MaxReservesAge uint64
	// PolicyHash, when set, is in force from deployment (the constructor stores it). The
	// policy's preimage binds the chain id and the registry address (S6), so it is often
	// computed after deployment from Addresses.Registry and set once with SetPolicyHash (which
	// the registry allows at once only while no policy is in force).
	PolicyHash *fr.Element
}

// AddressesVersion is the version of the addresses file schema. Version 2 added
// maxReservesAgeBlocks (and goes with the registry that checks it); version 3 replaced
// feedDelaySeconds with delaySeconds, the delay of every governance power.
const AddressesVersion = 3

// Bounds the registry enforces in its constructor and in announceChange (its constants
// MAX_DELAY, MAX_AUDITORS, MAX_HEARTBEAT and MAX_RESERVES_AGE); Deploy checks them first to say
// what is wrong before sending anything.
const (
	// MaxDelay is the longest governance delay.
	MaxDelay = 30 * 24 * time.Hour
	// DefaultDevDelay is Deploy's governance delay when none is given (dev chains and tests): a
	// change is public for an hour before it applies. The CLI defaults to 48 hours.
	DefaultDevDelay = time.Hour
	// MaxAuditors is the largest auditor set.
	MaxAuditors = 16
	// MaxHeartbeat is the longest heartbeat, in seconds, a feed may be registered with (P1).
	MaxHeartbeat uint32 = 7 * 24 * 3600
	// MaxReservesAgeLimit is the largest max reserves age, in blocks, a registry accepts.
	MaxReservesAgeLimit uint64 = 1_000_000
	// DefaultMaxReservesAge is Deploy's max reserves age when none is given: 7200 blocks, about a
	// day of 12-second blocks.
	DefaultMaxReservesAge uint64 = 7200
)

// CheckHeartbeat refuses a heartbeat the registry would refuse.
func CheckHeartbeat(seconds uint32) error {
	if seconds == 0 || seconds > MaxHeartbeat {
		return fmt.Errorf("heartbeat %ds is outside [1, %d] seconds", seconds, MaxHeartbeat)
	}
	return nil
}

// CheckDelay refuses a governance delay the registry would refuse.
func CheckDelay(d time.Duration) error {
	if d < 0 || d > MaxDelay || d%time.Second != 0 {
		return fmt.Errorf("governance delay %s: want whole seconds in [0s, %s]", d, MaxDelay)
	}
	return nil
}

// CheckAuditors refuses an auditor set the registry would refuse: more than MaxAuditors, the
// zero address, or one address twice.
func CheckAuditors(list []common.Address) error {
	if len(list) > MaxAuditors {
		return fmt.Errorf("%d auditors: at most %d", len(list), MaxAuditors)
	}
	seen := map[common.Address]bool{}
	for _, a := range list {
		if a == (common.Address{}) {
			return errors.New("an auditor is the zero address")
		}
		if seen[a] {
			return fmt.Errorf("auditor %s is named twice", a.Hex())
		}
		seen[a] = true
	}
	return nil
}

// CheckMaxReservesAge refuses a max reserves age the registry would refuse.
func CheckMaxReservesAge(blocks uint64) error {
	if blocks == 0 || blocks > MaxReservesAgeLimit {
		return fmt.Errorf("max reserves age %d blocks is outside [1, %d]", blocks, MaxReservesAgeLimit)
	}
	return nil
}

// FeedInfo is one asset slot's feed in the addresses file.
type FeedInfo struct {
	Aggregator  common.Address `json:"aggregator"`
	Heartbeat   uint32         `json:"heartbeat"`
	Dev         bool           `json:"dev"`
	Description string         `json:"description,omitempty"`
	Decimals    uint8          `json:"decimals,omitempty"`
}

// Addresses is the addresses file written after deployment and read by later commands.
type Addresses struct {
	Version          int            `json:"version"`
	ChainID          string         `json:"chainId"`
	Registry         common.Address `json:"registry"`
	Verifier         common.Address `json:"verifier"`
	VerifierCodeHash common.Hash    `json:"verifierCodeHash"`
	DeployBlock      uint64         `json:"deployBlock,string"`
	NumAssets        int            `json:"numAssets"`
	Governance       common.Address `json:"governance"`
	Prover           common.Address `json:"prover"`
	// DelaySeconds is the registry's immutable governance delay.
	DelaySeconds uint64 `json:"delaySeconds,string"`
	// MaxReservesAgeBlocks is the registry's immutable maxReservesAge.
	MaxReservesAgeBlocks uint64     `json:"maxReservesAgeBlocks,string"`
	Feeds                []FeedInfo `json:"feeds"`
}

// Deploy deploys the verifier, the dev feeds if asked, and the registry, and returns their
// addresses.
func Deploy(ctx context.Context, c *Chain, cfg DeployConfig) (*Addresses, error) {
	if _, err := NumPublicInputs(cfg.NumAssets); err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	if cfg.Verifier == nil {
		return nil, errors.New("deploy: no compiled verifier")
	}
	if (len(cfg.Feeds) == 0) == (len(cfg.DevFeeds) == 0) {
		return nil, errors.New("deploy: give either existing feeds or dev feeds to deploy")
	}
	if n := len(cfg.Feeds) + len(cfg.DevFeeds); n != cfg.NumAssets {
		return nil, fmt.Errorf("deploy: %d feeds for %d assets", n, cfg.NumAssets)
	}
	if cfg.ZeroDelay && cfg.Delay != 0 {
		return nil, errors.New("deploy: ZeroDelay with a nonzero Delay")
	}
	if cfg.Delay == 0 && !cfg.ZeroDelay {
		cfg.Delay = DefaultDevDelay
	}
	if err := CheckDelay(cfg.Delay); err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	if err := CheckAuditors(cfg.Auditors); err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	var policy [32]byte
	if cfg.PolicyHash != nil {
		if cfg.PolicyHash.IsZero() {
			return nil, errors.New("deploy: the policy hash is zero")
		}
		policy = cfg.PolicyHash.Bytes()
	}
	if cfg.MaxReservesAge == 0 {
		cfg.MaxReservesAge = DefaultMaxReservesAge
	}
	if err := CheckMaxReservesAge(cfg.MaxReservesAge); err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	for i, f := range cfg.Feeds {
		if err := CheckHeartbeat(f.Heartbeat); err != nil {
			return nil, fmt.Errorf("deploy: feed %d: %w", i, err)
		}
	}
	for i, f := range cfg.DevFeeds {
		if err := CheckHeartbeat(f.Heartbeat); err != nil {
			return nil, fmt.Errorf("deploy: dev feed %d: %w", i, err)
		}
	}
	if cfg.Governance == (common.Address{}) {
		cfg.Governance = c.From()
	}
	if cfg.Prover == (common.Address{}) {
		cfg.Prover = c.From()
	}
	startBlock, err := c.Backend.BlockNumber(ctx)
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	out := &Addresses{
		Version: AddressesVersion, ChainID: c.ChainID.String(), NumAssets: cfg.NumAssets,
		Governance: cfg.Governance, Prover: cfg.Prover, DelaySeconds: uint64(cfg.Delay / time.Second),
		MaxReservesAgeBlocks: cfg.MaxReservesAge,
	}

	// Verifier.
	vabi, err := cfg.Verifier.ParsedABI()
	if err != nil {
		return nil, err
	}
	vcode, err := cfg.Verifier.Code()
	if err != nil {
		return nil, err
	}
	if out.Verifier, _, err = c.deploy(ctx, "verifier", vcode, nil, vabi); err != nil {
		return nil, err
	}
	runtime, err := c.Backend.CodeAt(ctx, out.Verifier, nil)
	if err != nil {
		return nil, fmt.Errorf("deploy: read verifier code: %w", err)
	}
	out.VerifierCodeHash = crypto.Keccak256Hash(runtime)

	// Feeds.
	for _, f := range cfg.Feeds {
		out.Feeds = append(out.Feeds, FeedInfo{Aggregator: f.Aggregator, Heartbeat: f.Heartbeat})
	}
	for _, spec := range cfg.DevFeeds {
		feed, err := DeployDevFeed(ctx, c, spec)
		if err != nil {
			return nil, fmt.Errorf("deploy: %w", err)
		}
		out.Feeds = append(out.Feeds, FeedInfo{Aggregator: feed.Address, Heartbeat: spec.Heartbeat, Dev: true,
			Description: spec.Description, Decimals: spec.Decimals})
	}

	// Registry.
	art, err := RegistryArtifact()
	if err != nil {
		return nil, err
	}
	rabi, err := art.ParsedABI()
	if err != nil {
		return nil, err
	}
	rcode, err := art.Code()
	if err != nil {
		return nil, err
	}
	aggs := make([]common.Address, len(out.Feeds))
	hbs := make([]uint32, len(out.Feeds))
	for i, f := range out.Feeds {
		aggs[i], hbs[i] = f.Aggregator, f.Heartbeat
	}
	args, err := rabi.Pack("", out.Verifier, big.NewInt(int64(cfg.NumAssets)), cfg.Governance, cfg.Prover, aggs, hbs,
		new(big.Int).SetUint64(out.DelaySeconds), new(big.Int).SetUint64(out.MaxReservesAgeBlocks), policy, auditorsOrEmpty(cfg.Auditors))
	if err != nil {
		return nil, fmt.Errorf("deploy registry: encode constructor: %w", err)
	}
	if out.Registry, _, err = c.deploy(ctx, "registry", rcode, args, rabi); err != nil {
		return nil, err
	}
	out.DeployBlock = startBlock
	return out, nil
}

// auditorsOrEmpty gives the ABI encoder a non-nil slice.
func auditorsOrEmpty(list []common.Address) []common.Address {
	if list == nil {
		return []common.Address{}
	}
	return list
}

// Bind returns a handle on the registry, with log searches starting at the deploy block.
func (a *Addresses) Bind(backend Backend) (*Registry, error) {
	r, err := NewRegistry(a.Registry, backend)
	if err != nil {
		return nil, err
	}
	r.FromBlock = a.DeployBlock
	return r, nil
}

// CheckChain refuses a connection to another chain than the one the addresses are for.
func (a *Addresses) CheckChain(ctx context.Context, backend Backend) error {
	id, err := backend.ChainID(ctx)
	if err != nil {
		return fmt.Errorf("read chain id: %w", err)
	}
	if id.String() != a.ChainID {
		return fmt.Errorf("the endpoint serves chain %s but the addresses file is for chain %s", id, a.ChainID)
	}
	return nil
}

// WriteAddresses writes the addresses file atomically.
func WriteAddresses(path string, a *Addresses) error {
	raw, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return fmt.Errorf("encode addresses: %w", err)
	}
	return atomicfile.WriteFile(path, append(raw, '\n'), 0o644)
}

// ReadAddresses reads an addresses file strictly.
func ReadAddresses(path string) (*Addresses, error) {
	raw, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return nil, fmt.Errorf("addresses: %w", err)
	}
	var a Addresses
	if err := jsonstrict.Unmarshal(path, raw, &a); err != nil {
		return nil, fmt.Errorf("addresses: %w", err)
	}
	if a.Version != AddressesVersion {
		return nil, fmt.Errorf("%s: version %d; this build reads version %d", path, a.Version, AddressesVersion)
	}
	if a.Registry == (common.Address{}) {
		return nil, fmt.Errorf("%s: no registry address", path)
	}
	return &a, nil
}

// ErrNotRegistry means the address checked holds no contract, or a contract whose code is not
// the compiled SolvencyRegistry: none of its views may be believed.
var ErrNotRegistry = errors.New("not the compiled SolvencyRegistry")

// VerifyDeployment checks V2 for an auditor, without trusting any view of the registry before
// its code is known:
//
//   - the code at the registry's address is the committed SolvencyRegistry artifact byte for
//     byte, outside the places where the constructor wrote its immutables (solc's
//     immutableReferences), so a look-alike contract is refused;
//   - the immutables hold what they must: the verifier address, the asset count and public input
//     count, the verifier selector for that count, and, when addrs is given, the addresses
//     file's verifier, asset count, governance delay and max reserves age;
//   - the verifier at that immutable address holds exactly the runtime bytecode of the verifier
//     compiled from the pinned key (and, when addrs is given, the code hash it recorded).
//
// addrs may be nil (a registry named by address only): then only the code and the immutables'
// mutual consistency are checked.
func VerifyDeployment(ctx context.Context, backend Backend, reg *Registry, addrs *Addresses, verifier *Artifact) error {
	art, err := RegistryArtifact()
	if err != nil {
		return err
	}
	code, err := backend.CodeAt(ctx, reg.Address, nil)
	if err != nil {
		return fmt.Errorf("read registry code at %s: %w", reg.Address.Hex(), err)
	}
	if len(code) == 0 {
		return fmt.Errorf("%w: no contract at the registry address %s (V2)", ErrNotRegistry, reg.Address.Hex())
	}
	imm, err := art.MatchRuntime(code)
	if err != nil {
		return fmt.Errorf("the contract at %s is %w (V2): %w", reg.Address.Hex(), ErrNotRegistry, err)
	}
	word := func(name string) ([]byte, error) {
		v, ok := imm[name]
		if !ok || len(v) != 32 {
			return nil, fmt.Errorf("registry artifact: no 32-byte immutable %s", name)
		}
		return v, nil
	}
	uintOf := func(name string) (*big.Int, error) {
		v, err := word(name)
		if err != nil {
			return nil, err
		}
		return new(big.Int).SetBytes(v), nil
	}
	for _, name := range []string{"verifier", "numAssets", "numPublicInputs", "delay", "maxReservesAge", "verifySelector"} {
		if _, err := word(name); err != nil {
			return err
		}
	}
	if len(imm) != 6 {
		return fmt.Errorf("registry artifact has %d immutables; this build checks 6", len(imm))
	}
	vw, _ := word("verifier")
	if !bytes.Equal(vw[:12], make([]byte, 12)) {
		return fmt.Errorf("registry %s: verifier immutable %x is not an address", reg.Address.Hex(), vw)
	}
	vAddr := common.BytesToAddress(vw[12:])
	nAssets, _ := uintOf("numAssets")
	nInputs, _ := uintOf("numPublicInputs")
	delay, _ := uintOf("delay")
	maxAge, _ := uintOf("maxReservesAge")
	sel, _ := word("verifySelector")
	if !nAssets.IsInt64() {
		return fmt.Errorf("registry %s: numAssets %s", reg.Address.Hex(), nAssets)
	}
	wantInputs, err := NumPublicInputs(int(nAssets.Int64()))
	if err != nil {
		return fmt.Errorf("registry %s: %w", reg.Address.Hex(), err)
	}
	if nInputs.Cmp(big.NewInt(int64(wantInputs))) != 0 {
		return fmt.Errorf("registry %s: %s public inputs for %s assets, want %d", reg.Address.Hex(), nInputs, nAssets, wantInputs)
	}
	wantSel := crypto.Keccak256([]byte(fmt.Sprintf("verifyProof(bytes,uint256[%d])", wantInputs)))[:4]
	if !bytes.Equal(sel[:4], wantSel) || !bytes.Equal(sel[4:], make([]byte, 28)) {
		return fmt.Errorf("registry %s: verifier selector %x, want %x", reg.Address.Hex(), sel[:4], wantSel)
	}
	if delay.Cmp(new(big.Int).SetUint64(uint64(MaxDelay/time.Second))) > 0 {
		return fmt.Errorf("registry %s: governance delay %ss is out of range", reg.Address.Hex(), delay)
	}
	if maxAge.Sign() == 0 || maxAge.Cmp(new(big.Int).SetUint64(MaxReservesAgeLimit)) > 0 {
		return fmt.Errorf("registry %s: max reserves age %s blocks is out of range", reg.Address.Hex(), maxAge)
	}
	if addrs != nil {
		if addrs.Registry != reg.Address {
			return fmt.Errorf("the addresses file names registry %s, not %s", addrs.Registry.Hex(), reg.Address.Hex())
		}
		switch {
		case vAddr != addrs.Verifier:
			return fmt.Errorf("registry %s: its verifier is %s, the addresses file says %s (V2)", reg.Address.Hex(), vAddr.Hex(), addrs.Verifier.Hex())
		case nAssets.Cmp(big.NewInt(int64(addrs.NumAssets))) != 0:
			return fmt.Errorf("registry %s: built for %s assets, the addresses file says %d", reg.Address.Hex(), nAssets, addrs.NumAssets)
		case delay.Cmp(new(big.Int).SetUint64(addrs.DelaySeconds)) != 0:
			return fmt.Errorf("registry %s: governance delay %ss, the addresses file says %ds", reg.Address.Hex(), delay, addrs.DelaySeconds)
		case maxAge.Cmp(new(big.Int).SetUint64(addrs.MaxReservesAgeBlocks)) != 0:
			return fmt.Errorf("registry %s: max reserves age %s blocks, the addresses file says %d", reg.Address.Hex(), maxAge, addrs.MaxReservesAgeBlocks)
		}
	}
	onChain, err := backend.CodeAt(ctx, vAddr, nil)
	if err != nil {
		return fmt.Errorf("read verifier code at %s: %w", vAddr.Hex(), err)
	}
	want, err := verifier.RuntimeCode()
	if err != nil {
		return err
	}
	if len(want) == 0 || !bytes.Equal(onChain, want) {
		return fmt.Errorf("the verifier at %s does not hold the bytecode compiled from the pinned key (V2)", vAddr.Hex())
	}
	if addrs != nil && addrs.VerifierCodeHash != (common.Hash{}) && crypto.Keccak256Hash(onChain) != addrs.VerifierCodeHash {
		return fmt.Errorf("the verifier at %s: code hash differs from the addresses file's", vAddr.Hex())
	}
	return nil
}
