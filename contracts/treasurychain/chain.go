package treasurychain

import (
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/solvency-dev/solvency/contracts"
)

// abis holds the parsed ABI of every artifact, parsed once per Deployment or Executor (no
// package-level state).
type abis map[string]abi.ABI

func loadABIs(names ...string) (abis, error) {
	out := abis{}
	for _, n := range names {
		a, err := LoadArtifact(n)
		if err != nil {
			return nil, err
		}
		p, err := a.ParsedABI()
		if err != nil {
			return nil, err
		}
		out[n] = p
	}
	return out, nil
}

func (a abis) pack(contract, method string, args ...any) ([]byte, error) {
	c, ok := a[contract]
	if !ok {
		return nil, fmt.Errorf("no ABI for %s", contract)
	}
	data, err := c.Pack(method, args...)
	if err != nil {
		return nil, fmt.Errorf("encode %s.%s: %w", contract, method, err)
	}
	return data, nil
}

// sender sends transactions from one key and waits for them.
type sender struct {
	chain *contracts.Chain
	// lastBlock, when set, records the block of the latest receipt this sender waited for.
	lastBlock *uint64
}

func (s sender) opts(ctx context.Context) *bind.TransactOpts {
	o := bind.NewKeyedTransactor(s.chain.Key, s.chain.ChainID)
	o.Context = ctx
	return o
}

// wait waits for tx (contracts.Chain.WaitMined) and records its block.
func (s sender) wait(ctx context.Context, tx *types.Transaction) (*types.Receipt, error) {
	rcpt, err := s.chain.WaitMined(ctx, tx)
	if err == nil && s.lastBlock != nil && rcpt.BlockNumber.Uint64() > *s.lastBlock {
		*s.lastBlock = rcpt.BlockNumber.Uint64()
	}
	return rcpt, err
}

// send calls to with data (and value) and waits for success.
func (s sender) send(ctx context.Context, to common.Address, value *big.Int, data []byte, what string) (*types.Receipt, error) {
	bc := bind.NewBoundContract(to, abi.ABI{}, s.chain.Backend, s.chain.Backend, s.chain.Backend)
	o := s.opts(ctx)
	o.Value = value
	// The estimate is the least gas with which the call succeeds in the node's simulation; a
	// Safe passes all but a reserve of gasleft() to its inner calls (and the EVM keeps 1/64 of
	// each call's gas back), so give a quarter more rather than fail at the margin.
	gas, err := s.chain.Backend.EstimateGas(ctx, ethereum.CallMsg{From: o.From, To: &to, Value: value, Data: data})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	o.GasLimit = gas + gas/4
	tx, err := bc.RawTransact(o, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	rcpt, err := s.wait(ctx, tx)
	if err != nil {
		return rcpt, fmt.Errorf("%s: %w", what, err)
	}
	return rcpt, nil
}

// deploy creates the named artifact with constructor arguments and waits for it.
func (s sender) deploy(ctx context.Context, a abis, name string, args ...any) (common.Address, error) {
	art, err := LoadArtifact(name)
	if err != nil {
		return common.Address{}, err
	}
	code, err := art.Code()
	if err != nil {
		return common.Address{}, err
	}
	ctor, err := a[name].Pack("", args...)
	if err != nil {
		return common.Address{}, fmt.Errorf("encode %s constructor: %w", name, err)
	}
	addr, tx, err := bind.DeployContract(s.opts(ctx), code, s.chain.Backend, ctor)
	if err != nil {
		return common.Address{}, fmt.Errorf("deploy %s: %w", name, err)
	}
	if _, err := s.wait(ctx, tx); err != nil {
		return common.Address{}, fmt.Errorf("deploy %s: %w", name, err)
	}
	return addr, nil
}

// call runs a read-only call at block (nil: latest) and unpacks its outputs.
func call(ctx context.Context, b contracts.Backend, a abis, contract string, to common.Address, block *big.Int, method string, args ...any) ([]any, error) {
	data, err := a.pack(contract, method, args...)
	if err != nil {
		return nil, err
	}
	out, err := b.CallContract(ctx, ethereum.CallMsg{To: &to, Data: data}, block)
	if err != nil {
		return nil, fmt.Errorf("%s.%s at %s: %w", contract, method, to.Hex(), err)
	}
	vals, err := a[contract].Unpack(method, out)
	if err != nil {
		return nil, fmt.Errorf("%s.%s at %s: decode %d bytes: %w", contract, method, to.Hex(), len(out), err)
	}
	return vals, nil
}
