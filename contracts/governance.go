package contracts

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Power is one of the registry's governance powers (SolvencyRegistry.Power). Every one changes
// only through an announcement that applies at least the registry's delay later
// (docs/governance.md).
type Power uint8

// The powers, in the contract's enum order.
const (
	PowerPolicyHash Power = iota
	PowerProver
	PowerAuditors
	PowerFeeds
	PowerGovernance
)

// Powers lists every power, in order.
var Powers = []Power{PowerPolicyHash, PowerProver, PowerAuditors, PowerFeeds, PowerGovernance}

// String names the power as the CLI and docs do.
func (p Power) String() string {
	switch p {
	case PowerPolicyHash:
		return "policy"
	case PowerProver:
		return "prover"
	case PowerAuditors:
		return "auditors"
	case PowerFeeds:
		return "feeds"
	case PowerGovernance:
		return "governance"
	}
	return fmt.Sprintf("power(%d)", uint8(p))
}

// ParsePower reads a power's name.
func ParsePower(s string) (Power, error) {
	for _, p := range Powers {
		if p.String() == s {
			return p, nil
		}
	}
	return 0, fmt.Errorf("unknown power %q: want policy, prover, auditors, feeds or governance", s)
}

var (
	bytes32Args   = abi.Arguments{{Type: mustType("bytes32")}}
	addressArgs   = abi.Arguments{{Type: mustType("address")}}
	addressesArgs = abi.Arguments{{Type: mustType("address[]")}}
	feedsArgs     = abi.Arguments{{Type: mustType("address[]")}, {Type: mustType("uint32[]")}}
)

// PolicyValue encodes a policy hash as the value of a PowerPolicyHash change.
func PolicyValue(h fr.Element) []byte {
	b, _ := bytes32Args.Pack([32]byte(h.Bytes())) // a bytes32 always packs
	return b
}

// AddressValue encodes an address as the value of a PowerProver or PowerGovernance change.
func AddressValue(a common.Address) []byte {
	b, _ := addressArgs.Pack(a) // an address always packs
	return b
}

// AuditorsValue encodes an auditor set as the value of a PowerAuditors change.
func AuditorsValue(list []common.Address) []byte {
	b, _ := addressesArgs.Pack(auditorsOrEmpty(list)) // an address slice always packs
	return b
}

// FeedsValue encodes one feed per asset slot as the value of a PowerFeeds change.
func FeedsValue(feeds []FeedConfig) []byte {
	aggs := make([]common.Address, len(feeds))
	hbs := make([]uint32, len(feeds))
	for i, f := range feeds {
		aggs[i], hbs[i] = f.Aggregator, f.Heartbeat
	}
	b, _ := feedsArgs.Pack(aggs, hbs) // slices of addresses and uint32 always pack
	return b
}

// DescribeValue decodes a change's value for display: a policy hash, an address, a list of
// addresses, or "aggregator:heartbeat" per feed.
func DescribeValue(p Power, value []byte) (string, error) {
	switch p {
	case PowerPolicyHash:
		v, err := bytes32Args.Unpack(value)
		if err != nil {
			return "", err
		}
		h := v[0].([32]byte)
		return common.Hash(h).Hex(), nil
	case PowerProver, PowerGovernance:
		v, err := addressArgs.Unpack(value)
		if err != nil {
			return "", err
		}
		return v[0].(common.Address).Hex(), nil
	case PowerAuditors:
		v, err := addressesArgs.Unpack(value)
		if err != nil {
			return "", err
		}
		list := v[0].([]common.Address)
		if len(list) == 0 {
			return "(none)", nil
		}
		out := ""
		for i, a := range list {
			if i > 0 {
				out += ","
			}
			out += a.Hex()
		}
		return out, nil
	case PowerFeeds:
		v, err := feedsArgs.Unpack(value)
		if err != nil {
			return "", err
		}
		aggs, hbs := v[0].([]common.Address), v[1].([]uint32)
		out := ""
		for i := range aggs {
			if i > 0 {
				out += ","
			}
			out += fmt.Sprintf("%s:%d", aggs[i].Hex(), hbs[i])
		}
		return out, nil
	}
	return "", fmt.Errorf("unknown power %d", p)
}

// Announce announces a change of power to value (governance only); it can be applied after the
// registry's delay.
func (r *Registry) Announce(ctx context.Context, c *Chain, p Power, value []byte) error {
	return r.send(ctx, c, "announceChange", uint8(p), value)
}

// ApplyChange applies the announced change of power, whose value must be the announced one
// (governance only; a governance change is applied by the new governance).
func (r *Registry) ApplyChange(ctx context.Context, c *Chain, p Power, value []byte) error {
	return r.send(ctx, c, "applyChange", uint8(p), value)
}

// ApplyPending applies the announced change of power, its value read from the announcement
// event and checked against the hash the registry stores.
func (r *Registry) ApplyPending(ctx context.Context, c *Chain, p Power) (*PendingChange, error) {
	pc, err := r.Pending(ctx, p)
	if err != nil {
		return nil, err
	}
	if pc == nil {
		return nil, fmt.Errorf("no %s change is announced", p)
	}
	if err := r.ApplyChange(ctx, c, p, pc.Value); err != nil {
		return pc, err
	}
	return pc, nil
}

// CancelChange withdraws the announced change of power (governance only).
func (r *Registry) CancelChange(ctx context.Context, c *Chain, p Power) error {
	return r.send(ctx, c, "cancelChange", uint8(p))
}

// PendingChange is an announced change not yet applied.
type PendingChange struct {
	Power Power
	Value []byte
	// Description is Value decoded for display (DescribeValue).
	Description string
	// ETA is the unix time from which it may be applied.
	ETA uint64
	// AnnouncedTx is the announcing transaction.
	AnnouncedTx common.Hash
}

// Pending returns the announced change of power, nil when none is. The value comes from the
// latest ChangeAnnounced event whose value hashes to the hash the registry stores, so a node
// cannot show another value than the one that would apply.
func (r *Registry) Pending(ctx context.Context, p Power) (*PendingChange, error) {
	vals, err := r.call(ctx, common.Address{}, "pendingChange", uint8(p))
	if err != nil {
		return nil, err
	}
	if len(vals) != 2 {
		return nil, fmt.Errorf("registry.pendingChange: %d results", len(vals))
	}
	h, ok1 := vals[0].([32]byte)
	eta, ok2 := vals[1].(*big.Int)
	if !ok1 || !ok2 || !eta.IsUint64() {
		return nil, errors.New("registry.pendingChange: unexpected result types")
	}
	if eta.Sign() == 0 {
		return nil, nil
	}
	ev := r.abi.Events["ChangeAnnounced"]
	logs, err := r.backend.FilterLogs(ctx, ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(r.FromBlock),
		Addresses: []common.Address{r.Address},
		Topics:    [][]common.Hash{{ev.ID}, {common.BigToHash(big.NewInt(int64(p)))}},
	})
	if err != nil {
		return nil, fmt.Errorf("read %s announcements: %w", p, err)
	}
	for i := len(logs) - 1; i >= 0; i-- {
		l := logs[i]
		if l.Removed {
			continue
		}
		out, err := ev.Inputs.NonIndexed().Unpack(l.Data)
		if err != nil || len(out) != 2 {
			continue
		}
		value, ok1 := out[0].([]byte)
		lEta, ok2 := out[1].(*big.Int)
		if !ok1 || !ok2 || crypto.Keccak256Hash(value) != common.Hash(h) || lEta.Cmp(eta) != 0 {
			continue
		}
		desc, err := DescribeValue(p, value)
		if err != nil {
			return nil, fmt.Errorf("announced %s value: %w", p, err)
		}
		return &PendingChange{Power: p, Value: value, Description: desc, ETA: eta.Uint64(), AnnouncedTx: l.TxHash}, nil
	}
	return nil, fmt.Errorf("the registry holds an announced %s change (hash %s) but no matching announcement event was found from block %d",
		p, common.Hash(h).Hex(), r.FromBlock)
}

// PendingChanges returns every announced change not yet applied, in power order.
func (r *Registry) PendingChanges(ctx context.Context) ([]*PendingChange, error) {
	var out []*PendingChange
	for _, p := range Powers {
		pc, err := r.Pending(ctx, p)
		if err != nil {
			return nil, err
		}
		if pc != nil {
			out = append(out, pc)
		}
	}
	return out, nil
}

// ErrPolicyInForce means a policy is already in force: a new one is announced and applied after
// the registry's delay (Announce with PolicyValue, then ApplyPending).
var ErrPolicyInForce = errors.New("a policy is already in force; a new one must be announced ('solvency contracts set-policy') and applied after the registry's governance delay ('solvency contracts change policy --apply')")

// SetPolicyHash sets the first policy hash, at once (governance only). The registry allows it
// only while no policy is in force; otherwise it returns ErrPolicyInForce (wrapped) without
// sending anything, unless h is the policy in force (then nothing is sent).
func (r *Registry) SetPolicyHash(ctx context.Context, c *Chain, h fr.Element) error {
	cur, err := r.PolicyHash(ctx)
	if err != nil {
		return err
	}
	if cur == common.Hash(h.Bytes()) {
		return nil
	}
	if cur != (common.Hash{}) {
		return fmt.Errorf("set policy hash %s: %w (in force: %s)", common.Hash(h.Bytes()).Hex(), ErrPolicyInForce, cur.Hex())
	}
	return r.send(ctx, c, "setInitialPolicyHash", [32]byte(h.Bytes()))
}

// ProposeFeeds announces a new feed set (governance only); it can be applied after the delay.
func (r *Registry) ProposeFeeds(ctx context.Context, c *Chain, feeds []FeedConfig) error {
	return r.Announce(ctx, c, PowerFeeds, FeedsValue(feeds))
}

// ApplyFeeds applies the announced feed set once the delay has passed (governance only).
func (r *Registry) ApplyFeeds(ctx context.Context, c *Chain) error {
	_, err := r.ApplyPending(ctx, c, PowerFeeds)
	return err
}

// Auditors returns the auditor set now.
func (r *Registry) Auditors(ctx context.Context) ([]common.Address, error) {
	return one[[]common.Address](r.call(ctx, common.Address{}, "auditors"))
}

// IsAuditor reports whether a is in the auditor set now.
func (r *Registry) IsAuditor(ctx context.Context, a common.Address) (bool, error) {
	return one[bool](r.call(ctx, common.Address{}, "isAuditor", a))
}

// IsDevFeed reports whether the code at addr is the repository's DevPriceFeed, whose owner
// posts any price it likes: a development feed, never a market's.
func IsDevFeed(ctx context.Context, backend Backend, addr common.Address) (bool, error) {
	art, err := DevFeedArtifact()
	if err != nil {
		return false, err
	}
	code, err := backend.CodeAt(ctx, addr, nil)
	if err != nil {
		return false, fmt.Errorf("read feed code at %s: %w", addr.Hex(), err)
	}
	_, err = art.MatchRuntime(code)
	return err == nil, nil
}
