package market

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"

	"github.com/solvency-dev/solvency/circuits/statement"
)

// aggregatorABI is the part of Chainlink's AggregatorV3Interface the engine reads.
const aggregatorABI = `[
 {"inputs":[],"name":"decimals","outputs":[{"internalType":"uint8","name":"","type":"uint8"}],"stateMutability":"view","type":"function"},
 {"inputs":[],"name":"latestRoundData","outputs":[{"internalType":"uint80","name":"roundId","type":"uint80"},{"internalType":"int256","name":"answer","type":"int256"},{"internalType":"uint256","name":"startedAt","type":"uint256"},{"internalType":"uint256","name":"updatedAt","type":"uint256"},{"internalType":"uint80","name":"answeredInRound","type":"uint80"}],"stateMutability":"view","type":"function"},
 {"inputs":[{"internalType":"uint80","name":"_roundId","type":"uint80"}],"name":"getRoundData","outputs":[{"internalType":"uint80","name":"roundId","type":"uint80"},{"internalType":"int256","name":"answer","type":"int256"},{"internalType":"uint256","name":"startedAt","type":"uint256"},{"internalType":"uint256","name":"updatedAt","type":"uint256"},{"internalType":"uint80","name":"answeredInRound","type":"uint80"}],"stateMutability":"view","type":"function"}
]`

// AggregatorABI returns the parsed AggregatorV3Interface subset (decimals, latestRoundData,
// getRoundData), for tests and for mock feeds.
func AggregatorABI() (abi.ABI, error) {
	return abi.JSON(strings.NewReader(aggregatorABI))
}

// Caller is the one method of an RPC client the reader needs; *ethclient.Client has it, and
// tests pass a fake.
type Caller interface {
	CallContract(ctx context.Context, msg ethereum.CallMsg, blockNumber *big.Int) ([]byte, error)
}

// Feed is one USD price feed. Only USD-quoted feeds are accepted: an ETH-quoted feed (18
// decimals) would need a second feed to reach USD, and the registry's normalisation rule does
// not compose feeds.
type Feed struct {
	Asset   string         `json:"asset"`
	Address common.Address `json:"address"`
	// Heartbeat is the feed's maximum time between updates; an answer older than this is stale.
	Heartbeat time.Duration `json:"heartbeat"`
}

// RoundData is one decoded round of a feed.
type RoundData struct {
	RoundID         *big.Int
	Answer          *big.Int
	StartedAt       *big.Int
	UpdatedAt       *big.Int
	AnsweredInRound *big.Int
	Decimals        uint8
}

// ChainlinkSource reads a snapshot from Chainlink-style aggregators and checks every answer.
type ChainlinkSource struct {
	caller Caller
	feeds  []Feed
	abi    abi.ABI
	// Now is the clock the staleness check uses (time.Now when nil); a cycle may pin it.
	Now func() time.Time
	// MaxDeviationBps bounds the move from Previous; 0 disables the check.
	MaxDeviationBps uint64
	// Previous is the last accepted snapshot, the reference of the deviation check.
	Previous *Snapshot
}

// NewChainlinkSource returns a reader over feeds; every asset has at most one feed.
func NewChainlinkSource(caller Caller, feeds []Feed) (*ChainlinkSource, error) {
	if caller == nil {
		return nil, errors.New("chainlink source: nil RPC caller")
	}
	a, err := AggregatorABI()
	if err != nil {
		return nil, fmt.Errorf("chainlink source: parse ABI: %w", err)
	}
	seen := map[string]bool{}
	for _, f := range feeds {
		if f.Asset == "" || seen[f.Asset] {
			return nil, fmt.Errorf("chainlink source: empty or repeated asset %q", f.Asset)
		}
		if f.Heartbeat <= 0 {
			return nil, fmt.Errorf("chainlink source: feed for %s has no heartbeat", f.Asset)
		}
		seen[f.Asset] = true
	}
	return &ChainlinkSource{caller: caller, feeds: append([]Feed(nil), feeds...), abi: a}, nil
}

func (c *ChainlinkSource) call(ctx context.Context, to common.Address, method string, out any, args ...any) ([]any, error) {
	data, err := c.abi.Pack(method, args...)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", method, err)
	}
	res, err := c.caller.CallContract(ctx, ethereum.CallMsg{To: &to, Data: data}, nil)
	if err != nil {
		return nil, fmt.Errorf("call %s on %s: %w", method, to.Hex(), err)
	}
	vals, err := c.abi.Unpack(method, res)
	if err != nil {
		return nil, fmt.Errorf("decode %s from %s: %w", method, to.Hex(), err)
	}
	return vals, nil
}

func (c *ChainlinkSource) round(ctx context.Context, f Feed, roundID *big.Int) (RoundData, error) {
	vals, err := c.call(ctx, f.Address, "decimals", nil)
	if err != nil {
		return RoundData{}, err
	}
	dec, ok := vals[0].(uint8)
	if !ok {
		return RoundData{}, errors.New("decimals() did not return a uint8")
	}
	if roundID == nil {
		vals, err = c.call(ctx, f.Address, "latestRoundData", nil)
	} else {
		vals, err = c.call(ctx, f.Address, "getRoundData", nil, roundID)
	}
	if err != nil {
		return RoundData{}, err
	}
	if len(vals) != 5 {
		return RoundData{}, fmt.Errorf("round data has %d fields, want 5", len(vals))
	}
	rd := RoundData{Decimals: dec}
	for i, dst := range []**big.Int{&rd.RoundID, &rd.Answer, &rd.StartedAt, &rd.UpdatedAt, &rd.AnsweredInRound} {
		v, ok := vals[i].(*big.Int)
		if !ok {
			return RoundData{}, fmt.Errorf("round data field %d is %T, want *big.Int", i, vals[i])
		}
		*dst = v
	}
	return rd, nil
}

// Round reads one round of asset's feed (getRoundData), the call a verifier repeats to check
// that the price named in a statement is the one the feed published.
func (c *ChainlinkSource) Round(ctx context.Context, asset string, roundID *big.Int) (RoundData, error) {
	for _, f := range c.feeds {
		if f.Asset == asset {
			rd, err := c.round(ctx, f, roundID)
			if err != nil {
				return RoundData{}, &CheckError{Asset: asset, Check: FailRead, Err: err}
			}
			return rd, nil
		}
	}
	return RoundData{}, fmt.Errorf("no feed configured for %s", asset)
}

// Snapshot implements Source: it reads every feed's latest round, refuses any answer that fails
// a check (the error names the asset and the check), and returns the normalised prices with
// their rounds. The snapshot time is the oldest updatedAt, so it never claims fresher prices
// than it has.
func (c *ChainlinkSource) Snapshot(ctx context.Context, cycle uint64) (Snapshot, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	t := now()
	s := Snapshot{Cycle: cycle, Prices: map[string]uint64{}, Rounds: map[string]*big.Int{}, Source: "chainlink"}
	for _, f := range c.feeds {
		rd, err := c.round(ctx, f, nil)
		if err != nil {
			return Snapshot{}, &CheckError{Asset: f.Asset, Check: FailRead, Err: err}
		}
		p, err := CheckRound(f, rd, t)
		if err != nil {
			return Snapshot{}, err
		}
		s.Prices[f.Asset] = p
		s.Rounds[f.Asset] = rd.RoundID
		if u := rd.UpdatedAt.Int64(); s.Time == 0 || u < s.Time {
			s.Time = u
		}
	}
	if c.Previous != nil && c.MaxDeviationBps > 0 {
		if err := CheckDeviation(*c.Previous, s, c.MaxDeviationBps); err != nil {
			return Snapshot{}, err
		}
	}
	return s, nil
}

// CheckRound applies the per-round checks (positive answer, complete round, staleness against
// the heartbeat at now) and returns the normalised price.
func CheckRound(f Feed, rd RoundData, now time.Time) (uint64, error) {
	if rd.Answer == nil || rd.Answer.Sign() <= 0 {
		return 0, &CheckError{Asset: f.Asset, Check: FailNonPositive, Err: fmt.Errorf("answer %v", rd.Answer)}
	}
	if rd.UpdatedAt == nil || rd.UpdatedAt.Sign() == 0 || (rd.AnsweredInRound != nil && rd.RoundID != nil && rd.AnsweredInRound.Cmp(rd.RoundID) < 0) {
		return 0, &CheckError{Asset: f.Asset, Check: FailRound, Err: fmt.Errorf("round %v answered in round %v, updatedAt %v", rd.RoundID, rd.AnsweredInRound, rd.UpdatedAt)}
	}
	if !rd.UpdatedAt.IsInt64() {
		return 0, &CheckError{Asset: f.Asset, Check: FailStaleness, Err: fmt.Errorf("updatedAt %v is not a timestamp", rd.UpdatedAt)}
	}
	updated := time.Unix(rd.UpdatedAt.Int64(), 0)
	if age := now.Sub(updated); age > f.Heartbeat {
		return 0, &CheckError{Asset: f.Asset, Check: FailStaleness, Err: fmt.Errorf("updated %s ago, heartbeat %s", age.Round(time.Second), f.Heartbeat)}
	}
	if updated.After(now.Add(time.Minute)) {
		return 0, &CheckError{Asset: f.Asset, Check: FailStaleness, Err: fmt.Errorf("updated in the future (%s)", updated.UTC())}
	}
	p, err := statement.NormalisePrice(rd.Answer, rd.Decimals)
	if err != nil {
		return 0, &CheckError{Asset: f.Asset, Check: FailRange, Err: err}
	}
	return p, nil
}
