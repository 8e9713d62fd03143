package treasurychain

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/solvency-dev/solvency/contracts"
	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/treasury/execute"
)

// PendingSafeTx is what a production batch asks the owners to sign: the Safe transaction the
// Transaction Builder makes of the batch (one DELEGATECALL to MultiSendCallOnly) at the Safe's
// current nonce, and its EIP-712 hash, which the owners' wallets show.
type PendingSafeTx struct {
	ChainID    uint64         `json:"chainId"`
	Safe       common.Address `json:"safe"`
	Nonce      uint64         `json:"nonce"`
	To         common.Address `json:"to"`
	Operation  uint8          `json:"operation"`
	Data       string         `json:"data"`
	SafeTxHash common.Hash    `json:"safeTxHash"`
}

// ProductionBatch writes the plan as a Safe Transaction Builder batch for a Safe whose owners
// sign elsewhere. The chain id is the connected node's, the Safe the deployment's, and the nonce
// the Safe's current one read from the chain (never a placeholder); the description names the
// nonce and the safeTxHash the owners should see when the Safe's MultiSendCallOnly is
// d.MultiSendCallOnly.
func (e *Executor) ProductionBatch(ctx context.Context, p *Plan, name string, createdAt time.Time) (*execute.Batch, *PendingSafeTx, error) {
	id, err := e.chain.Backend.ChainID(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("production batch: read chain id: %w", err)
	}
	if id.Cmp(e.chain.ChainID) != 0 || id.Uint64() != e.d.ChainID {
		return nil, nil, fmt.Errorf("production batch: the node is chain %s, the deployment chain %d", id, e.d.ChainID)
	}
	st, err := ReadSafe(ctx, e.chain.Backend, e.d.Safe)
	if err != nil {
		return nil, nil, fmt.Errorf("production batch: %w", err)
	}
	stx, err := e.SafeTxFor(p, st.Nonce)
	if err != nil {
		return nil, nil, err
	}
	pend := &PendingSafeTx{ChainID: id.Uint64(), Safe: e.d.Safe, Nonce: st.Nonce.Uint64(), To: stx.To, Operation: stx.Operation,
		Data: hexutil.Encode(stx.Data), SafeTxHash: stx.Hash(id, e.d.Safe)}
	b := &execute.Batch{
		Version: "1.0", ChainID: strconv.FormatUint(id.Uint64(), 10), CreatedAt: createdAt.UnixMilli(),
		Meta: execute.BatchMeta{Name: name,
			Description: fmt.Sprintf("Safe nonce %d; %d calls through MultiSendCallOnly %s; safeTxHash %s (%d of %d owners sign)",
				pend.Nonce, len(p.Calls), stx.To.Hex(), pend.SafeTxHash.Hex(), st.Threshold, len(st.Owners)),
			TxBuilderVersion: execute.TxBuilderVersion, CreatedFromSafeAddress: e.d.Safe.Hex()},
		Transactions: []execute.BatchTx{},
	}
	for _, c := range p.Calls {
		v := c.Value
		if v == nil {
			v = new(big.Int)
		}
		// Raw calls (contractMethod null): the Transaction Builder sends Data as given.
		b.Transactions = append(b.Transactions, execute.BatchTx{To: c.To.Hex(), Value: v.String(), Data: hexutil.Encode(c.Data)})
	}
	sum, err := b.ComputeChecksum()
	if err != nil {
		return nil, nil, err
	}
	b.Meta.Checksum = sum
	return b, pend, nil
}

// ErrNonceTimeout is returned by WaitNonce when the owners did not execute in time.
var ErrNonceTimeout = fmt.Errorf("the Safe's nonce did not move in time")

// WaitNonce waits until the Safe's nonce is above nonce (the batch, or another transaction at
// that nonce, was executed), polling every poll, for at most timeout.
func WaitNonce(ctx context.Context, b contracts.Backend, safe common.Address, nonce uint64, poll, timeout time.Duration) (uint64, error) {
	if poll <= 0 {
		poll = 5 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for {
		st, err := ReadSafe(ctx, b, safe)
		if err != nil {
			return 0, fmt.Errorf("wait for Safe %s: %w", safe.Hex(), err)
		}
		if st.Nonce.Uint64() > nonce {
			return st.Nonce.Uint64(), nil
		}
		if time.Now().After(deadline) {
			return st.Nonce.Uint64(), fmt.Errorf("%w: Safe %s is still at nonce %d after %s; the batch needs %d owner signatures and an execution in the Safe app",
				ErrNonceTimeout, safe.Hex(), st.Nonce.Uint64(), timeout, st.Threshold)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("wait for Safe %s nonce %d: %w", safe.Hex(), nonce, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// WriteProductionBatch writes the batch (for the Transaction Builder's import) and the pending
// Safe transaction (for the owners to compare the safeTxHash their wallets show) atomically.
func WriteProductionBatch(batchPath, pendingPath string, b *execute.Batch, p *PendingSafeTx) error {
	if err := execute.WriteSafeBatch(batchPath, b); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encode pending Safe transaction: %w", err)
	}
	return atomicfile.WriteFile(pendingPath, append(raw, '\n'), 0o644)
}
