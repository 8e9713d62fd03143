package contracts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/solvency-dev/solvency/internal/atomicfile"
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
	// FeedDelay is the timelock on feed changes.
	FeedDelay time.Duration
	// PolicyHash, when set, is stored right after deployment; this needs the deployer to be
	// governance. The policy's preimage binds the chain id and the registry address (S6), so it
	// is usually computed after deployment from Addresses.Registry and set with SetPolicyHash.
	PolicyHash *fr.Element
}

// AddressesVersion is the version of the addresses file schema.
const AddressesVersion = 1

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
	FeedDelaySeconds uint64         `json:"feedDelaySeconds,string"`
	Feeds            []FeedInfo     `json:"feeds"`
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
	if cfg.FeedDelay < 0 {
		return nil, errors.New("deploy: negative feed delay")
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
		Governance: cfg.Governance, Prover: cfg.Prover, FeedDelaySeconds: uint64(cfg.FeedDelay / time.Second),
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
		new(big.Int).SetUint64(out.FeedDelaySeconds))
	if err != nil {
		return nil, fmt.Errorf("deploy registry: encode constructor: %w", err)
	}
	if out.Registry, _, err = c.deploy(ctx, "registry", rcode, args, rabi); err != nil {
		return nil, err
	}
	out.DeployBlock = startBlock
	if cfg.PolicyHash != nil {
		reg, err := NewRegistry(out.Registry, c.Backend)
		if err != nil {
			return nil, err
		}
		if err := reg.SetPolicyHash(ctx, c, *cfg.PolicyHash); err != nil {
			return out, fmt.Errorf("deploy: contracts are deployed but setting the policy hash failed: %w", err)
		}
	}
	return out, nil
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
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read addresses: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var a Addresses
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if a.Version != AddressesVersion {
		return nil, fmt.Errorf("%s: version %d; this build reads version %d", path, a.Version, AddressesVersion)
	}
	if a.Registry == (common.Address{}) {
		return nil, fmt.Errorf("%s: no registry address", path)
	}
	return &a, nil
}

// VerifyDeployment checks V2 for an auditor: the registry's immutable verifier holds exactly the
// runtime bytecode of the verifier compiled from the pinned key.
func VerifyDeployment(ctx context.Context, backend Backend, reg *Registry, verifier *Artifact) error {
	addr, err := reg.Verifier(ctx)
	if err != nil {
		return err
	}
	onChain, err := backend.CodeAt(ctx, addr, nil)
	if err != nil {
		return fmt.Errorf("read verifier code at %s: %w", addr.Hex(), err)
	}
	want, err := verifier.RuntimeCode()
	if err != nil {
		return err
	}
	if !bytes.Equal(onChain, want) {
		return fmt.Errorf("the verifier at %s does not hold the bytecode compiled from the pinned key (V2)", addr.Hex())
	}
	return nil
}
