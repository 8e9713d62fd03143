package contracts

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
)

// EventCountersigned is the registry event an auditor's countersign emits.
const EventCountersigned = "Countersigned"

// Countersign is one auditor's countersign of a cycle, recovered from its event and confirmed by
// the registry's storage.
type Countersign struct {
	Cycle         uint64         `json:"cycle,string"`
	Auditor       common.Address `json:"auditor"`
	RC            common.Hash    `json:"rc"`
	ReservesBlock uint64         `json:"reservesBlock,string"`
	Block         uint64         `json:"block,string"`
	TxHash        common.Hash    `json:"txHash"`
	// StillAuditor says whether the countersigner is in the auditor set now (it was when it
	// countersigned: the registry refuses anyone else).
	StillAuditor bool `json:"stillAuditor"`
}

// CountersignResult says what Countersign did.
type CountersignResult struct {
	Cycle             uint64         `json:"cycle,string"`
	Auditor           common.Address `json:"auditor"`
	RC                common.Hash    `json:"rc"`
	ReservesBlock     uint64         `json:"reservesBlock,string"`
	AlreadySigned     bool           `json:"alreadyCountersigned"`
	TxHash            common.Hash    `json:"txHash,omitempty"`
	BlockNumber       uint64         `json:"blockNumber,string,omitempty"`
	GasUsed           uint64         `json:"gasUsed,string,omitempty"`
	CountersignsCount uint64         `json:"countersigns,string"`
}

// Countersign records, from c's key (an auditor), that the auditor checked cycle's reserves: it
// reads the cycle's record (checked against the stored hash), and sends countersign with the
// record's RC and reserves block. It is idempotent by (cycle, auditor), like Publish by cycle
// (V6): when the registry already holds this auditor's countersign it sends nothing.
//
// The caller must have checked the reserves first (verify reserves --rpc): countersigning says
// the chain held what RC commits to at the reserves block.
func (r *Registry) Countersign(ctx context.Context, c *Chain, cycle uint64) (*CountersignResult, error) {
	rec, err := r.Record(ctx, cycle)
	if err != nil {
		return nil, fmt.Errorf("countersign cycle %d: %w", cycle, err)
	}
	res := &CountersignResult{Cycle: cycle, Auditor: c.From(), RC: common.Hash(rec.RC.Bytes()), ReservesBlock: rec.ReservesBlock}
	done, err := r.Countersigned(ctx, cycle, c.From())
	if err != nil {
		return nil, fmt.Errorf("countersign cycle %d: %w", cycle, err)
	}
	if done {
		res.AlreadySigned = true
	} else {
		data, err := r.CountersignCalldata(rec, rec.RC.BigInt(new(big.Int)), rec.ReservesBlock)
		if err != nil {
			return nil, err
		}
		rcpt, err := c.transact(ctx, r.Address, r.abi, data)
		if err != nil {
			return nil, fmt.Errorf("countersign cycle %d: %w", cycle, err)
		}
		res.TxHash, res.BlockNumber, res.GasUsed = rcpt.TxHash, rcpt.BlockNumber.Uint64(), rcpt.GasUsed
	}
	n, err := one[*big.Int](r.call(ctx, common.Address{}, "countersignCount", cycle))
	if err != nil {
		return nil, err
	}
	res.CountersignsCount = n.Uint64()
	return res, nil
}

// CountersignCalldata encodes countersign(cycle, rc, reservesBlock, record) for rec's cycle.
// Tests give another rc or reserves block to see the registry refuse it.
func (r *Registry) CountersignCalldata(rec *Record, rc *big.Int, reservesBlock uint64) ([]byte, error) {
	ra := recordABI{
		Cycle: rec.Cycle, ReservesBlock: rec.ReservesBlock, SnapshotEpoch: rec.SnapshotEpoch,
		SnapshotTime: new(big.Int).SetUint64(rec.SnapshotTime), PublishedAt: new(big.Int).SetUint64(rec.PublishedAt),
		PublishedBlock: rec.PublishedBlock, PolicyHash: rec.PolicyHash.Bytes(), Lc: rec.LC.BigInt(new(big.Int)),
		Rc: rec.RC.BigInt(new(big.Int)), Prices: rec.Prices, RoundIds: rec.RoundIDs, BundleDigest: rec.BundleDigest,
		BundleUri: rec.BundleURI,
	}
	if ra.Prices == nil {
		ra.Prices = []uint64{}
	}
	if ra.RoundIds == nil {
		ra.RoundIds = []*big.Int{}
	}
	data, err := r.abi.Pack("countersign", rec.Cycle, rc, reservesBlock, ra)
	if err != nil {
		return nil, fmt.Errorf("encode countersign: %w", err)
	}
	return data, nil
}

// SendCountersign sends countersign calldata built by CountersignCalldata from c's key.
func (r *Registry) SendCountersign(ctx context.Context, c *Chain, data []byte) error {
	if _, err := c.transact(ctx, r.Address, r.abi, data); err != nil {
		return fmt.Errorf("registry.countersign: %w", err)
	}
	return nil
}

// Countersigned reports whether auditor countersigned cycle.
func (r *Registry) Countersigned(ctx context.Context, cycle uint64, auditor common.Address) (bool, error) {
	return one[bool](r.call(ctx, common.Address{}, "countersigned", cycle, auditor))
}

// Countersigns returns the countersigns of cycle, each from its event and confirmed by the
// registry's storage (a node cannot invent one), in the order they were made.
func (r *Registry) Countersigns(ctx context.Context, cycle uint64) ([]Countersign, error) {
	ev := r.abi.Events[EventCountersigned]
	logs, err := r.backend.FilterLogs(ctx, ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(r.FromBlock),
		Addresses: []common.Address{r.Address},
		Topics:    [][]common.Hash{{ev.ID}, {common.BigToHash(new(big.Int).SetUint64(cycle))}},
	})
	if err != nil {
		return nil, fmt.Errorf("cycle %d: read countersign events: %w", cycle, err)
	}
	out := []Countersign{}
	seen := map[common.Address]bool{}
	for _, l := range logs {
		if l.Removed || len(l.Topics) != 3 {
			continue
		}
		vals, err := ev.Inputs.NonIndexed().Unpack(l.Data)
		if err != nil || len(vals) != 2 {
			return nil, fmt.Errorf("cycle %d: decode countersign event in %s: %v", cycle, l.TxHash.Hex(), err)
		}
		rc, ok1 := vals[0].(*big.Int)
		blk, ok2 := vals[1].(uint64)
		if !ok1 || !ok2 {
			return nil, errors.New("countersign event: unexpected types")
		}
		auditor := common.BytesToAddress(l.Topics[2].Bytes())
		if seen[auditor] {
			continue
		}
		ok, err := r.Countersigned(ctx, cycle, auditor)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("cycle %d: an event says %s countersigned, the registry does not", cycle, auditor.Hex())
		}
		still, err := r.IsAuditor(ctx, auditor)
		if err != nil {
			return nil, err
		}
		seen[auditor] = true
		out = append(out, Countersign{Cycle: cycle, Auditor: auditor, RC: common.BigToHash(rc), ReservesBlock: blk,
			Block: l.BlockNumber, TxHash: l.TxHash, StillAuditor: still})
	}
	n, err := one[*big.Int](r.call(ctx, common.Address{}, "countersignCount", cycle))
	if err != nil {
		return nil, err
	}
	if n.Uint64() != uint64(len(out)) {
		return nil, fmt.Errorf("cycle %d: the registry counts %s countersigns, the endpoint's events show %d", cycle, n, len(out))
	}
	return out, nil
}
