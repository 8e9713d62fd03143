package state

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// ChainRecord is what a cycle whose reserves are on chain records about the chain: the Safe
// transaction it executes (recorded before it is sent, so a rerun finds it instead of executing
// again), and the block at which the positions after execution were read (the statement's
// reserves block).
type ChainRecord struct {
	SafeTx *SafeTxRecord `json:"safeTx,omitempty"`
	// ReadBlock is the block the positions after execution were read at; ExecTx and GasUsed the
	// execution's transaction, when there was one.
	ReadBlock uint64 `json:"readBlock,omitempty"`
	ExecTx    string `json:"execTx,omitempty"`
	GasUsed   uint64 `json:"gasUsed,omitempty"`
}

// SafeTxRecord is one Safe transaction the engine is about to execute or asked the owners to
// execute: the Safe, its nonce and safeTxHash, the block from which its execution is searched,
// and the plan (opaque JSON: the calls and the change each position must show).
type SafeTxRecord struct {
	Safe       string          `json:"safe"`
	Nonce      uint64          `json:"nonce"`
	SafeTxHash string          `json:"safeTxHash"`
	FromBlock  uint64          `json:"fromBlock"`
	Plan       json.RawMessage `json:"plan"`
	// Batch is the Transaction Builder batch written for owners who sign elsewhere ("" when the
	// engine signed with the owners' keys itself).
	Batch string `json:"batch,omitempty"`
}

// RecordSafeTx records the Safe transaction of cycle c before it is sent. The cycle must be
// rebalanced and not yet executed; a transaction already recorded is never replaced (a rerun
// must find the first one, not plan another at a later nonce): ErrStageDone then.
func (s *Store) RecordSafeTx(c uint64, tx *SafeTxRecord) error {
	err := s.db.Update(func(btx *bolt.Tx) error {
		cy := btx.Bucket(bucketCycles())
		rec := &CycleRecord{}
		ok, err := getJSON(cy, cycleKey(c), rec)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("cycle %d not begun: %w", c, ErrStageOrder)
		}
		if rec.Stage != StageRebalanced {
			return fmt.Errorf("cycle %d is at %s; a Safe transaction is recorded after the plan and before execution: %w", c, rec.Stage, ErrStageOrder)
		}
		if rec.Chain != nil && rec.Chain.SafeTx != nil {
			return fmt.Errorf("cycle %d already records Safe transaction %s: %w", c, rec.Chain.SafeTx.SafeTxHash, ErrStageDone)
		}
		if rec.Chain == nil {
			rec.Chain = &ChainRecord{}
		}
		rec.Chain.SafeTx = tx
		rec.UpdatedAt = s.now().Unix()
		return putJSON(cy, cycleKey(c), rec)
	})
	if err != nil {
		return fmt.Errorf("record the Safe transaction: %w", err)
	}
	return nil
}
