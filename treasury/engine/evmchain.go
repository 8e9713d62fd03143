package engine

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/consensys/gnark/backend/groth16"
	"github.com/ethereum/go-ethereum/common"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/statement"
	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/prover"
	"github.com/solvency-dev/solvency/prover/keys"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/policy"
)

// ErrPricesSuperseded means a price feed posted a newer round after the cycle was proven: the
// registry takes only each feed's latest round (P2), so the engine proves the cycle again.
var ErrPricesSuperseded = errors.New("a price feed moved on to a newer round")

// EVMChain publishes to a SolvencyRegistry over any go-ethereum backend: the embedded devnet or
// a JSON-RPC endpoint. On first use it deploys the verifier, the registry and (with DevFeeds)
// settable price feeds, and writes their addresses to AddrFile; later runs attach to them.
type EVMChain struct {
	Chain     *contracts.Chain
	AddrFile  string
	VK        groth16.VerifyingKey // the solvency circuit's key, for the on-chain verifier
	NumAssets int
	DevFeeds  bool          // deploy and drive dev price feeds (dev chains only)
	Heartbeat time.Duration // feed heartbeat for dev feeds
	Name      string
	// MaxDeviationBps refuses a cycle whose oracle price moved more than this since the last
	// cycle this process read (0: 5000, i.e. 50%; a larger move needs a person to look).
	MaxDeviationBps uint64

	// Embedded says the chain lives in this state directory (the embedded dev chain): a
	// deployment it does not hold is deployed again. On any other chain that is reported, with
	// the next step, since the engine cannot know which chain the addresses were meant for.
	Embedded bool
	// BundleURL, when set, is the http(s) base under which the bundles are served (by 'solvency
	// serve' or any static server at BASE/bundles/DIGEST/): the registry records that address, so
	// users on other machines can fetch the bundle. Empty: a file:// URI on this machine.
	BundleURL string
	// Fault, when set, is called at "deployed" (contracts deployed, addresses not yet written),
	// for crash tests.
	Fault func(point string) error

	prev *market.Snapshot

	addr *contracts.Addresses
	reg  *contracts.Registry
}

// UseKeys takes the solvency verifying key the on-chain verifier is compiled from.
func (c *EVMChain) UseKeys(k *keys.Keys) error {
	sk, err := k.Get(prover.SolvencyCircuit)
	if err != nil {
		return err
	}
	c.VK = sk.VK
	c.NumAssets = k.Meta.Profile.Assets
	return nil
}

// Describe implements Chain.
func (c *EVMChain) Describe() string { return c.Name }

// Addresses returns the deployed addresses (after Bind).
func (c *EVMChain) Addresses() *contracts.Addresses { return c.addr }

// Registry returns the bound registry (after Bind).
func (c *EVMChain) Registry() *contracts.Registry { return c.reg }

// Bind implements Chain.
func (c *EVMChain) Bind(ctx context.Context, pf *policy.File) error {
	if _, err := os.Stat(c.AddrFile); err == nil {
		if c.addr, err = contracts.ReadAddresses(c.AddrFile); err != nil {
			return err
		}
		if err := c.addr.CheckChain(ctx, c.Chain.Backend); err != nil {
			return err
		}
		if missing, err := c.missingContract(ctx); err != nil {
			return err
		} else if missing != "" && !c.Embedded {
			return fmt.Errorf("%s names contracts that %s does not hold (no code at the %s): the chain was reset, or it is "+
				"another chain; deploy them again ('solvency contracts deploy' with this chain's --rpc and key) and write the new "+
				"addresses to %s, or move that file aside and run with --dev-feeds to let the run deploy", c.AddrFile, c.Name, missing, c.AddrFile)
		} else if missing != "" {
			// The embedded chain lost its deployment (a chain directory reset or restored
			// apart from the state): deploy again. Reconcile then republishes every cycle the
			// new registry lacks.
			if err := c.deploy(ctx, pf.Table()); err != nil {
				return fmt.Errorf("the embedded chain does not hold the contracts in %s (no code at the %s); deploying again: %w", c.AddrFile, missing, err)
			}
		}
	} else if errors.Is(err, os.ErrNotExist) {
		if err := c.deploy(ctx, pf.Table()); err != nil {
			return err
		}
	} else {
		return err
	}
	var err error
	if c.reg, err = c.addr.Bind(c.Chain.Backend); err != nil {
		return err
	}
	// S6: the policy's preimage names this chain and this registry.
	pf.ChainID = c.Chain.ChainID.Uint64()
	pf.Registry = c.addr.Registry.Hex()
	h, err := pf.Hash()
	if err != nil {
		return err
	}
	onChain, err := c.reg.PolicyHash(ctx)
	if err != nil {
		return err
	}
	if b := h.Bytes(); common.Hash(b) != onChain {
		if err := c.reg.SetPolicyHash(ctx, c.Chain, h); err != nil {
			return fmt.Errorf("set policy hash: %w", err)
		}
	}
	return nil
}

func (c *EVMChain) deploy(ctx context.Context, table *assets.Table) error {
	_, art, err := contracts.CompileVerifier(ctx, c.VK, c.NumAssets)
	if err != nil {
		return err
	}
	cfg := contracts.DeployConfig{NumAssets: c.NumAssets, Verifier: art}
	if !c.DevFeeds {
		return errors.New("no addresses file and no dev feeds: deploy with 'solvency contracts deploy' first")
	}
	hb := uint32(c.Heartbeat / time.Second)
	if hb == 0 {
		hb = 86400
	}
	for _, a := range table.Assets {
		cfg.DevFeeds = append(cfg.DevFeeds, contracts.DevFeedSpec{
			Description: a.Symbol + " / USD", Decimals: 8, Answer: big.NewInt(100_000_000), Heartbeat: hb,
		})
	}
	addr, err := contracts.Deploy(ctx, c.Chain, cfg)
	if err != nil {
		return err
	}
	if c.Fault != nil {
		if err := c.Fault("deployed"); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(c.AddrFile), 0o700); err != nil {
		return err
	}
	if err := contracts.WriteAddresses(c.AddrFile, addr); err != nil {
		return err
	}
	c.addr = addr
	return nil
}

// Prices implements Chain: dev feeds are set to the snapshot's prices first; then every feed's
// latest round is read back and normalised exactly as the registry will (P1). Only the latest
// round is ever selected: the registry refuses any other (P2), so a feed that moves on before
// Publish makes the cycle be proven again (ErrPricesSuperseded).
func (c *EVMChain) Prices(ctx context.Context, snap market.Snapshot, table *assets.Table) ([]bundle.Price, error) {
	out := make([]bundle.Price, table.Len())
	if c.DevFeeds {
		if err := c.setDevFeeds(ctx, snap, table); err != nil {
			return nil, err
		}
	}
	// Every answer passes the oracle checks (positive, complete round, within its heartbeat,
	// no jump beyond the deviation bound); a failing one stops the cycle, naming the asset and
	// the check.
	checked, err := c.checkedSnapshot(ctx, snap.Cycle, table)
	if err != nil {
		return nil, err
	}
	for i, a := range table.Assets {
		fi := c.addr.Feeds[i]
		feed, err := contracts.NewDevFeed(fi.Aggregator, c.Chain.Backend)
		if err != nil {
			return nil, err
		}
		dec, err := feed.Decimals(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s feed decimals: %w", a.Symbol, err)
		}
		round := checked.Rounds[a.Symbol]
		if round == nil {
			return nil, fmt.Errorf("%s feed: no checked round", a.Symbol)
		}
		rd, err := feed.RoundData(ctx, round)
		if err != nil {
			return nil, fmt.Errorf("%s feed round %v: %w", a.Symbol, round, err)
		}
		price, err := statement.NormalisePrice(rd.Answer, dec)
		if err != nil {
			return nil, fmt.Errorf("%s feed: %w", a.Symbol, err)
		}
		if price != checked.Prices[a.Symbol] {
			return nil, fmt.Errorf("%s feed: round %v changed while it was read", a.Symbol, round)
		}
		out[i] = bundle.Price{Symbol: a.Symbol, Price: price, Answer: rd.Answer.String(), FeedDecimals: dec,
			Round: round.String(), UpdatedAt: rd.UpdatedAt}
	}
	return out, nil
}

// setDevFeeds posts the snapshot's prices as new rounds of the dev feeds.
func (c *EVMChain) setDevFeeds(ctx context.Context, snap market.Snapshot, table *assets.Table) error {
	for i, a := range table.Assets {
		fi := c.addr.Feeds[i]
		if !fi.Dev {
			continue
		}
		feed, err := contracts.NewDevFeed(fi.Aggregator, c.Chain.Backend)
		if err != nil {
			return err
		}
		dec, err := feed.Decimals(ctx)
		if err != nil {
			return fmt.Errorf("%s feed decimals: %w", a.Symbol, err)
		}
		p, err := snap.Price(a.Symbol)
		if err != nil {
			return err
		}
		answer := new(big.Int).SetUint64(p)
		if dec >= 8 {
			answer.Mul(answer, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(dec-8)), nil))
		} else {
			answer.Div(answer, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(8-dec)), nil))
		}
		if _, err := feed.UpdateAnswer(ctx, c.Chain, answer); err != nil {
			return fmt.Errorf("set %s feed: %w", a.Symbol, err)
		}
	}
	return nil
}

// checkedSnapshot reads every feed's latest round through the oracle checks.
func (c *EVMChain) checkedSnapshot(ctx context.Context, cycle uint64, table *assets.Table) (market.Snapshot, error) {
	var feeds []market.Feed
	for i, a := range table.Assets {
		fi := c.addr.Feeds[i]
		feeds = append(feeds, market.Feed{Asset: a.Symbol, Address: fi.Aggregator, Heartbeat: time.Duration(fi.Heartbeat) * time.Second})
	}
	src, err := market.NewChainlinkSource(c.Chain.Backend, feeds)
	if err != nil {
		return market.Snapshot{}, err
	}
	src.MaxDeviationBps = c.MaxDeviationBps
	if src.MaxDeviationBps == 0 {
		src.MaxDeviationBps = 5000
	}
	src.Previous = c.prev
	if c.Embedded {
		// The embedded chain seals a block per transaction, each at least a second after its
		// parent, so a burst of transactions (a treasury's deployment) runs its clock ahead of
		// the wall's: its feeds are judged by its own clock, as the registry judges them.
		hdr, err := c.Chain.Backend.HeaderByNumber(ctx, nil)
		if err != nil {
			return market.Snapshot{}, fmt.Errorf("read the head's time: %w", err)
		}
		chainNow := time.Unix(int64(hdr.Time), 0)
		src.Now = func() time.Time {
			if now := time.Now(); now.After(chainNow) {
				return now
			}
			return chainNow
		}
	}
	snap, err := src.Snapshot(ctx, cycle)
	if err != nil {
		return market.Snapshot{}, err
	}
	c.prev = &snap
	return snap, nil
}

// Head implements Chain.
func (c *EVMChain) Head(ctx context.Context) (uint64, error) { return c.Chain.Backend.BlockNumber(ctx) }

// PublishedCycle implements Chain.
func (c *EVMChain) PublishedCycle(ctx context.Context) (uint64, bool, error) {
	l, err := c.reg.LatestAttestation(ctx)
	if err != nil {
		return 0, false, err
	}
	return l.Cycle, l.Count > 0, nil
}

// Publish implements Chain. When a feed has posted a round newer than the bundle's (checked
// before sending, or refused by the registry in a race), the error wraps ErrPricesSuperseded.
func (c *EVMChain) Publish(ctx context.Context, bundleDir string, m *bundle.Manifest) (*Publication, error) {
	a, err := contracts.BundleAttestationAt(bundleDir, m, c.BundleURL)
	if err != nil {
		return nil, err
	}
	res, err := c.reg.Publish(ctx, c.Chain, a)
	if errors.Is(err, contracts.ErrRoundSuperseded) {
		return nil, fmt.Errorf("%w: %w", ErrPricesSuperseded, err)
	}
	if err != nil {
		return nil, err
	}
	return &Publication{Tx: res.TxHash.Hex(), Block: res.BlockNumber, GasUsed: res.GasUsed}, nil
}

// missingContract names the first deployed contract (registry, verifier, price feed) that has
// no code on the chain, or "" when the chain holds them all.
func (c *EVMChain) missingContract(ctx context.Context) (string, error) {
	check := []struct {
		name string
		addr common.Address
	}{{"registry " + c.addr.Registry.Hex(), c.addr.Registry}, {"verifier " + c.addr.Verifier.Hex(), c.addr.Verifier}}
	for i, f := range c.addr.Feeds {
		check = append(check, struct {
			name string
			addr common.Address
		}{fmt.Sprintf("price feed %d %s", i, f.Aggregator.Hex()), f.Aggregator})
	}
	for _, k := range check {
		code, err := c.Chain.Backend.CodeAt(ctx, k.addr, nil)
		if err != nil {
			return "", fmt.Errorf("read code of the %s: %w", k.name, err)
		}
		if len(code) == 0 {
			return k.name, nil
		}
	}
	return "", nil
}

// Recorded implements Chain: the registry's stored hash for the cycle says whether it holds it;
// the event, when the node serves it, gives the transaction.
func (c *EVMChain) Recorded(ctx context.Context, cycle uint64) (*Publication, error) {
	h, err := c.reg.AttestationHash(ctx, cycle)
	if err != nil {
		return nil, err
	}
	if h == (common.Hash{}) {
		return nil, nil
	}
	pub := &Publication{}
	if rec, err := c.reg.Record(ctx, cycle); err == nil {
		pub.Tx, pub.Block = rec.TxHash.Hex(), rec.PublishedBlock
	}
	return pub, nil
}
