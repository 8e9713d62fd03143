package contracts

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"

	"github.com/solvency-dev/solvency/circuits/statement"
)

// DevFeed is a handle on a deployed DevPriceFeed (dev chains only).
type DevFeed struct {
	Address common.Address
	backend Backend
	abi     abi.ABI
}

// DevFeedSpec describes a dev feed to deploy.
type DevFeedSpec struct {
	Description string   // for example "BTC / USD"
	Decimals    uint8    // 8 for USD pairs, 18 for ETH pairs
	Answer      *big.Int // the first round's answer, in the feed's decimals
	Heartbeat   uint32   // seconds the registry accepts a round for
}

// NewDevFeed binds the dev feed at addr.
func NewDevFeed(addr common.Address, backend Backend) (*DevFeed, error) {
	art, err := DevFeedArtifact()
	if err != nil {
		return nil, err
	}
	a, err := art.ParsedABI()
	if err != nil {
		return nil, err
	}
	return &DevFeed{Address: addr, backend: backend, abi: a}, nil
}

// DeployDevFeed deploys a DevPriceFeed owned by c's key.
func DeployDevFeed(ctx context.Context, c *Chain, spec DevFeedSpec) (*DevFeed, error) {
	art, err := DevFeedArtifact()
	if err != nil {
		return nil, err
	}
	a, err := art.ParsedABI()
	if err != nil {
		return nil, err
	}
	code, err := art.Code()
	if err != nil {
		return nil, err
	}
	if spec.Answer == nil {
		return nil, errors.New("deploy dev feed: no initial answer")
	}
	args, err := a.Pack("", spec.Decimals, spec.Description, spec.Answer)
	if err != nil {
		return nil, fmt.Errorf("deploy dev feed: encode constructor: %w", err)
	}
	addr, _, err := c.deploy(ctx, "DevPriceFeed "+spec.Description, code, args, a)
	if err != nil {
		return nil, err
	}
	return &DevFeed{Address: addr, backend: c.Backend, abi: a}, nil
}

// UpdateAnswer posts a new round and returns its id.
func (f *DevFeed) UpdateAnswer(ctx context.Context, c *Chain, answer *big.Int) (*big.Int, error) {
	data, err := f.abi.Pack("updateAnswer", answer)
	if err != nil {
		return nil, fmt.Errorf("feed.updateAnswer: encode: %w", err)
	}
	if _, err := c.transact(ctx, f.Address, f.abi, data); err != nil {
		return nil, fmt.Errorf("feed.updateAnswer: %w", err)
	}
	return f.LatestRound(ctx)
}

// Round is one Chainlink round.
type Round struct {
	RoundID         *big.Int
	Answer          *big.Int
	StartedAt       uint64
	UpdatedAt       uint64
	AnsweredInRound *big.Int
}

func (f *DevFeed) call(ctx context.Context, method string, args ...any) ([]any, error) {
	data, err := f.abi.Pack(method, args...)
	if err != nil {
		return nil, fmt.Errorf("feed.%s: encode: %w", method, err)
	}
	out, err := f.backend.CallContract(ctx, ethereum.CallMsg{To: &f.Address, Data: data}, nil)
	if err != nil {
		return nil, fmt.Errorf("feed.%s: %w", method, decodeRevert(err, f.abi))
	}
	vals, err := f.abi.Unpack(method, out)
	if err != nil {
		return nil, fmt.Errorf("feed.%s: decode: %w", method, err)
	}
	return vals, nil
}

// LatestRound returns the id of the latest round.
func (f *DevFeed) LatestRound(ctx context.Context) (*big.Int, error) {
	return one[*big.Int](f.call(ctx, "latestRound"))
}

// Decimals returns the feed's decimals.
func (f *DevFeed) Decimals(ctx context.Context) (uint8, error) {
	return one[uint8](f.call(ctx, "decimals"))
}

// RoundData reads a round with getRoundData.
func (f *DevFeed) RoundData(ctx context.Context, roundID *big.Int) (*Round, error) {
	vals, err := f.call(ctx, "getRoundData", roundID)
	if err != nil {
		return nil, err
	}
	if len(vals) != 5 {
		return nil, fmt.Errorf("feed.getRoundData: %d results", len(vals))
	}
	id, ok1 := vals[0].(*big.Int)
	ans, ok2 := vals[1].(*big.Int)
	st, ok3 := vals[2].(*big.Int)
	up, ok4 := vals[3].(*big.Int)
	air, ok5 := vals[4].(*big.Int)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return nil, errors.New("feed.getRoundData: unexpected result types")
	}
	return &Round{RoundID: id, Answer: ans, StartedAt: st.Uint64(), UpdatedAt: up.Uint64(), AnsweredInRound: air}, nil
}

// NormalisedPrice reads round roundID and normalises it as the registry does.
func (f *DevFeed) NormalisedPrice(ctx context.Context, roundID *big.Int) (uint64, error) {
	r, err := f.RoundData(ctx, roundID)
	if err != nil {
		return 0, err
	}
	d, err := f.Decimals(ctx)
	if err != nil {
		return 0, err
	}
	return statement.NormalisePrice(r.Answer, d)
}

// OraclePrice is one asset's latest oracle round, normalised as the registry does.
type OraclePrice struct {
	Asset      int            `json:"asset"`
	Aggregator common.Address `json:"aggregator"`
	RoundID    *big.Int       `json:"roundId"`
	Answer     *big.Int       `json:"answer"`
	Decimals   uint8          `json:"decimals"`
	UpdatedAt  uint64         `json:"updatedAt"`
	Heartbeat  uint32         `json:"heartbeat"`
	Price      uint64         `json:"price"` // normalised to 8 decimals
}

// LatestPrices reads each registered feed's latest round (any Chainlink AggregatorV3 feed, not
// only dev feeds) and normalises it: what a prover puts in a statement's roundIds and prices.
// The registry re-checks everything at publish time, including freshness against the heartbeat.
func (r *Registry) LatestPrices(ctx context.Context) ([]OraclePrice, error) {
	n, err := r.NumAssets(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]OraclePrice, n)
	for i := range out {
		fc, err := r.Feed(ctx, i)
		if err != nil {
			return nil, err
		}
		// DevPriceFeed's ABI has Chainlink's selectors for everything read here.
		feed, err := NewDevFeed(fc.Aggregator, r.backend)
		if err != nil {
			return nil, err
		}
		vals, err := feed.call(ctx, "latestRoundData")
		if err != nil {
			return nil, fmt.Errorf("asset %d: %w", i, err)
		}
		if len(vals) != 5 {
			return nil, fmt.Errorf("asset %d: latestRoundData gave %d results", i, len(vals))
		}
		id, ok1 := vals[0].(*big.Int)
		ans, ok2 := vals[1].(*big.Int)
		up, ok3 := vals[3].(*big.Int)
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("asset %d: unexpected latestRoundData results", i)
		}
		d, err := feed.Decimals(ctx)
		if err != nil {
			return nil, fmt.Errorf("asset %d: %w", i, err)
		}
		p, err := statement.NormalisePrice(ans, d)
		if err != nil {
			return nil, fmt.Errorf("asset %d (feed %s, round %s): %w", i, fc.Aggregator.Hex(), id, err)
		}
		out[i] = OraclePrice{Asset: i, Aggregator: fc.Aggregator, RoundID: id, Answer: ans, Decimals: d,
			UpdatedAt: up.Uint64(), Heartbeat: fc.Heartbeat, Price: p}
	}
	return out, nil
}

// PriceRule says, in words, which oracle rounds the registry accepts (P2); `contracts check`
// prints it beside the feeds.
const PriceRule = "each statement must name every feed's latest round at the time it is published " +
	"(an older round is refused even when it is complete and inside the heartbeat), and a feed's round id " +
	"never goes back from one attestation to the next"

// FeedRounds is one asset slot's feed as the registry's round rule sees it.
type FeedRounds struct {
	Asset      int            `json:"asset"`
	Aggregator common.Address `json:"aggregator"`
	Heartbeat  uint32         `json:"heartbeat"`
	// LatestRound and UpdatedAt are the feed's latest round now: the only round a statement
	// published now may name. Error is set instead when the feed cannot answer.
	LatestRound *big.Int `json:"latestRound,omitempty"`
	UpdatedAt   uint64   `json:"updatedAt,omitempty"`
	Error       string   `json:"error,omitempty"`
	// LastAttested is the round the latest attestation named for this feed (0 before any, and
	// after the slot's feed was replaced): no later statement may name a lower one.
	LastAttested *big.Int `json:"lastAttestedRound"`
}

// FeedRounds reads, for every asset slot, the registered feed, its latest round and the round
// the latest attestation recorded. A feed that cannot answer is reported in its Error field
// rather than failing the whole read.
func (r *Registry) FeedRounds(ctx context.Context) ([]FeedRounds, error) {
	n, err := r.NumAssets(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]FeedRounds, n)
	for i := range out {
		fc, err := r.Feed(ctx, i)
		if err != nil {
			return nil, err
		}
		last, err := r.LastRound(ctx, i)
		if err != nil {
			return nil, err
		}
		out[i] = FeedRounds{Asset: i, Aggregator: fc.Aggregator, Heartbeat: fc.Heartbeat, LastAttested: last}
		feed, err := NewDevFeed(fc.Aggregator, r.backend)
		if err != nil {
			return nil, err
		}
		vals, err := feed.call(ctx, "latestRoundData")
		if err != nil {
			out[i].Error = err.Error()
			continue
		}
		if len(vals) != 5 {
			out[i].Error = fmt.Sprintf("latestRoundData gave %d results", len(vals))
			continue
		}
		id, ok1 := vals[0].(*big.Int)
		up, ok2 := vals[3].(*big.Int)
		if !ok1 || !ok2 || !up.IsUint64() {
			out[i].Error = "unexpected latestRoundData results"
			continue
		}
		out[i].LatestRound, out[i].UpdatedAt = id, up.Uint64()
	}
	return out, nil
}
