package contracts

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"
)

// Backend is what this package needs from a chain connection; *ethclient.Client and the
// simulated backend's client both satisfy it.
type Backend interface {
	bind.ContractBackend
	bind.DeployBackend
	ChainID(ctx context.Context) (*big.Int, error)
	BlockNumber(ctx context.Context) (uint64, error)
}

// Chain is a chain connection with the key that signs this process's transactions.
type Chain struct {
	Backend Backend
	ChainID *big.Int
	Key     *ecdsa.PrivateKey
	// Commit, when set, seals a block after each transaction sent. The simulated backend mines
	// only on request and needs it; a node (or the devnet) mines by itself.
	Commit func()
	// PollInterval is how often a receipt is polled for; 100ms when zero.
	PollInterval time.Duration
}

// NewChain reads the chain id from backend and returns a Chain signing with key.
func NewChain(ctx context.Context, backend Backend, key *ecdsa.PrivateKey) (*Chain, error) {
	id, err := backend.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("read chain id: %w", err)
	}
	return &Chain{Backend: backend, ChainID: id, Key: key}, nil
}

// From is the address that signs the chain's transactions.
func (c *Chain) From() common.Address { return crypto.PubkeyToAddress(c.Key.PublicKey) }

func (c *Chain) opts(ctx context.Context) *bind.TransactOpts {
	o := bind.NewKeyedTransactor(c.Key, c.ChainID)
	o.Context = ctx
	return o
}

// TxError is a transaction that was mined but failed.
type TxError struct {
	TxHash  common.Hash
	GasUsed uint64
}

func (e *TxError) Error() string {
	return fmt.Sprintf("transaction %s failed on chain (gas used %d)", e.TxHash.Hex(), e.GasUsed)
}

// WaitMined polls for tx's receipt, fails if the transaction reverted, and returns once the
// receipt's block is the node's head: a node can index a block's receipts a moment before it
// makes that block its head, and the next estimate or read at "latest" must see tx.
func (c *Chain) WaitMined(ctx context.Context, tx *types.Transaction) (*types.Receipt, error) {
	if c.Commit != nil {
		c.Commit()
	}
	every := c.PollInterval
	if every == 0 {
		every = 100 * time.Millisecond
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		rcpt, err := c.Backend.TransactionReceipt(ctx, tx.Hash())
		if err == nil {
			if rcpt.Status != types.ReceiptStatusSuccessful {
				return rcpt, &TxError{TxHash: tx.Hash(), GasUsed: rcpt.GasUsed}
			}
			return rcpt, c.waitHead(ctx, rcpt.BlockNumber.Uint64(), tick.C)
		}
		// A fresh node answers "transaction indexing is in progress" until its index catches up.
		if !errors.Is(err, ethereum.NotFound) && !strings.Contains(err.Error(), "indexing is in progress") {
			return nil, fmt.Errorf("receipt of %s: %w", tx.Hash().Hex(), err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %s to be mined: %w", tx.Hash().Hex(), ctx.Err())
		case <-tick.C:
		}
	}
}

// waitHead waits until the node's head is at least block.
func (c *Chain) waitHead(ctx context.Context, block uint64, tick <-chan time.Time) error {
	for {
		head, err := c.Backend.BlockNumber(ctx)
		if err != nil {
			return fmt.Errorf("read the head block: %w", err)
		}
		if head >= block {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for block %d to become the head: %w", block, ctx.Err())
		case <-tick:
		}
	}
}

// transact sends calldata to a contract and waits for a successful receipt. A revert found when
// estimating gas comes back as a *RevertError decoded with the contract's ABI.
func (c *Chain) transact(ctx context.Context, to common.Address, contractABI abi.ABI, data []byte) (*types.Receipt, error) {
	bc := bind.NewBoundContract(to, contractABI, c.Backend, c.Backend, c.Backend)
	tx, err := bc.RawTransact(c.opts(ctx), data)
	if err != nil {
		return nil, decodeRevert(err, contractABI)
	}
	return c.WaitMined(ctx, tx)
}

// deploy sends a contract creation and waits for it.
func (c *Chain) deploy(ctx context.Context, name string, code, ctorArgs []byte, contractABI abi.ABI) (common.Address, *types.Receipt, error) {
	addr, tx, err := bind.DeployContract(c.opts(ctx), code, c.Backend, ctorArgs)
	if err != nil {
		return common.Address{}, nil, fmt.Errorf("deploy %s: %w", name, decodeRevert(err, contractABI))
	}
	rcpt, err := c.WaitMined(ctx, tx)
	if err != nil {
		return common.Address{}, nil, fmt.Errorf("deploy %s: %w", name, err)
	}
	return addr, rcpt, nil
}

// RevertError is a contract revert decoded into its custom error's name and arguments.
type RevertError struct {
	Name string // custom error name, "Error" for require messages, "Panic" for panics
	Args []any
	Data []byte // the raw revert data
	Err  error  // the error the node returned
}

func (e *RevertError) Error() string {
	args := make([]string, len(e.Args))
	for i, a := range e.Args {
		switch v := a.(type) {
		case [32]byte:
			args[i] = hexutil.Encode(v[:])
		default:
			args[i] = fmt.Sprint(v)
		}
	}
	return fmt.Sprintf("reverted with %s(%s)", e.Name, strings.Join(args, ", "))
}

func (e *RevertError) Unwrap() error { return e.Err }

// RevertName returns the custom error name of a revert anywhere in err's chain, or "".
func RevertName(err error) string {
	var re *RevertError
	if errors.As(err, &re) {
		return re.Name
	}
	return ""
}

var (
	errorSelector = crypto.Keccak256([]byte("Error(string)"))[:4]
	panicSelector = crypto.Keccak256([]byte("Panic(uint256)"))[:4]
)

// decodeRevert turns an error carrying revert data into a *RevertError when the data decodes
// with one of the ABIs; it returns err unchanged otherwise.
func decodeRevert(err error, abis ...abi.ABI) error {
	var de rpc.DataError
	if !errors.As(err, &de) {
		return err
	}
	s, ok := de.ErrorData().(string)
	if !ok {
		return err
	}
	data, decErr := hexutil.Decode(s)
	if decErr != nil || len(data) < 4 {
		return err
	}
	sel := data[:4]
	switch {
	case string(sel) == string(errorSelector):
		vals, uerr := abi.Arguments{{Type: mustType("string")}}.Unpack(data[4:])
		if uerr == nil {
			return &RevertError{Name: "Error", Args: vals, Data: data, Err: err}
		}
	case string(sel) == string(panicSelector):
		vals, uerr := abi.Arguments{{Type: mustType("uint256")}}.Unpack(data[4:])
		if uerr == nil {
			return &RevertError{Name: "Panic", Args: vals, Data: data, Err: err}
		}
	}
	for _, a := range abis {
		for _, e := range a.Errors {
			if string(e.ID[:4]) != string(sel) {
				continue
			}
			vals, uerr := e.Inputs.Unpack(data[4:])
			if uerr != nil {
				continue
			}
			return &RevertError{Name: e.Name, Args: vals, Data: data, Err: err}
		}
	}
	return &RevertError{Name: "unknown(" + hexutil.Encode(sel) + ")", Data: data, Err: err}
}

func mustType(t string) abi.Type {
	typ, err := abi.NewType(t, "", nil)
	if err != nil {
		// Only called with the fixed type names above, which always parse.
		return abi.Type{}
	}
	return typ
}
