package treasurychain

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"

	"github.com/solvency-dev/solvency/contracts"
)

// Kind says how a position is read.
type Kind string

// Position kinds.
const (
	// KindNative is the holder's native coin balance (the aggregator's getEthBalance).
	KindNative Kind = "native"
	// KindERC20 is Contract.balanceOf(Holder).
	KindERC20 Kind = "erc20"
	// KindVault is an ERC-4626 vault position valued in the vault's asset:
	// Contract.maxWithdraw(Holder), what the holder can take out at that block. For a vault with
	// no withdrawal limit (OpenZeppelin's ERC4626) it equals convertToAssets(balanceOf(Holder))
	// exactly; a vault short of liquidity answers less, never more, so a long read this way is
	// never overstated. The share balance is read in the same multicall.
	KindVault Kind = "erc4626"
	// KindDebt is a debt token's balance (Aave's variableDebtToken.balanceOf(Holder)), read as a
	// negative amount.
	KindDebt Kind = "debt"
)

// PositionSpec names one (venue, asset) position on chain.
type PositionSpec struct {
	Venue    string         `json:"venue"`
	Asset    string         `json:"asset"`
	Kind     Kind           `json:"kind"`
	Holder   common.Address `json:"holder"`
	Contract common.Address `json:"contract,omitempty"` // token, vault or debt token; zero for native
}

// Key is the (venue, asset) pair.
func (p PositionSpec) Key() string { return p.Venue + "/" + p.Asset }

// Reading is one position's amount at a block, signed, in the asset's base units (negative:
// debt). Shares is a vault position's share balance (nil otherwise).
type Reading struct {
	PositionSpec
	Amount *big.Int `json:"amount"`
	Shares *big.Int `json:"shares,omitempty"`
}

// Snapshot is every position read at one block by one eth_call.
type Snapshot struct {
	Block    uint64    `json:"block"`
	Readings []Reading `json:"readings"`
}

// Amount returns the reading of (venue, asset), or nil.
func (s *Snapshot) Amount(venue, asset string) *big.Int {
	for _, r := range s.Readings {
		if r.Venue == venue && r.Asset == asset {
			return r.Amount
		}
	}
	return nil
}

// Reader reads positions through a UniswapInterfaceMulticall contract (Uniswap's read
// aggregator, @uniswap/v3-periphery 1.4.4).
type Reader struct {
	backend   contracts.Backend
	multicall common.Address
	a         abis
}

// NewReader returns a reader over the UniswapInterfaceMulticall at multicall.
func NewReader(backend contracts.Backend, multicall common.Address) (*Reader, error) {
	a, err := loadABIs(ArtMulticall, ArtDevVault)
	if err != nil {
		return nil, err
	}
	return &Reader{backend: backend, multicall: multicall, a: a}, nil
}

// SubCallGas caps each sub-call of a read. A view a position needs (balanceOf, maxWithdraw,
// getEthBalance) costs tens of thousands of gas; the cap only keeps one runaway call from taking
// the whole eth_call's gas, and a sub-call that runs out fails and is named like any failure.
const SubCallGas = 1_000_000

// mcCall is UniswapInterfaceMulticall's Call tuple; field names match the ABI's components.
type mcCall struct {
	Target   common.Address
	GasLimit *big.Int
	CallData []byte
}

// mcResult is its Result tuple.
type mcResult struct {
	Success    bool
	GasUsed    *big.Int
	ReturnData []byte
}

// ErrNoMulticall is returned when the aggregator's address has no code at the block read.
var ErrNoMulticall = errors.New("no multicall code at that address and block")

// Read reads every position at block with one eth_call to UniswapInterfaceMulticall.multicall at
// that block. The aggregator never reverts for a failed sub-call (it records success per call),
// so a failed one is named: every one must succeed with one word, else the read fails naming the
// position (a token or vault that is not one, an address with no code, a call that reverts). The
// block number the aggregator reports must be the block asked for.
func (r *Reader) Read(ctx context.Context, block uint64, specs []PositionSpec) (*Snapshot, error) {
	var calls []mcCall
	gas := big.NewInt(SubCallGas)
	add := func(target common.Address, data []byte) {
		calls = append(calls, mcCall{Target: target, GasLimit: gas, CallData: data})
	}
	idx := make([][2]int, len(specs)) // first call, count
	for i, p := range specs {
		idx[i][0] = len(calls)
		var err error
		switch p.Kind {
		case KindNative:
			var data []byte
			if data, err = r.a.pack(ArtMulticall, "getEthBalance", p.Holder); err == nil {
				add(r.multicall, data)
			}
		case KindERC20, KindDebt:
			var data []byte
			if data, err = r.a.pack(ArtDevVault, "balanceOf", p.Holder); err == nil {
				add(p.Contract, data)
			}
		case KindVault:
			var mw, bal []byte
			if mw, err = r.a.pack(ArtDevVault, "maxWithdraw", p.Holder); err == nil {
				if bal, err = r.a.pack(ArtDevVault, "balanceOf", p.Holder); err == nil {
					add(p.Contract, mw)
					add(p.Contract, bal)
				}
			}
		default:
			err = fmt.Errorf("unknown kind %q", p.Kind)
		}
		if err != nil {
			return nil, fmt.Errorf("position %s: %w", p.Key(), err)
		}
		if p.Kind != KindNative && p.Contract == (common.Address{}) {
			return nil, fmt.Errorf("position %s: kind %s needs a contract address", p.Key(), p.Kind)
		}
		idx[i][1] = len(calls) - idx[i][0]
	}
	data, err := r.a.pack(ArtMulticall, "multicall", calls)
	if err != nil {
		return nil, err
	}
	at := new(big.Int).SetUint64(block)
	out, err := r.backend.CallContract(ctx, ethereum.CallMsg{To: &r.multicall, Data: data}, at)
	if err != nil {
		return nil, fmt.Errorf("multicall at block %d: %w", block, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("multicall %s at block %d: %w", r.multicall.Hex(), block, ErrNoMulticall)
	}
	vals, err := r.a[ArtMulticall].Unpack("multicall", out)
	if err != nil {
		return nil, fmt.Errorf("multicall at block %d: decode: %w", block, err)
	}
	if len(vals) != 2 {
		return nil, fmt.Errorf("multicall at block %d: %d return values, want 2", block, len(vals))
	}
	got, ok := vals[0].(*big.Int)
	if !ok || !got.IsUint64() || got.Uint64() != block {
		return nil, fmt.Errorf("multicall asked at block %d answered for block %v", block, vals[0])
	}
	results := *abi.ConvertType(vals[1], new([]mcResult)).(*[]mcResult)
	if len(results) != len(calls) {
		return nil, fmt.Errorf("multicall at block %d: %d results for %d calls", block, len(results), len(calls))
	}
	word := func(i int) (*big.Int, error) {
		if !results[i].Success || len(results[i].ReturnData) != 32 {
			return nil, fmt.Errorf("call %d returned %d bytes (success %v), want one word", i, len(results[i].ReturnData), results[i].Success)
		}
		return new(big.Int).SetBytes(results[i].ReturnData), nil
	}
	snap := &Snapshot{Block: block}
	for i, p := range specs {
		v, err := word(idx[i][0])
		if err != nil {
			return nil, fmt.Errorf("position %s at block %d: %w", p.Key(), block, err)
		}
		rd := Reading{PositionSpec: p, Amount: v}
		switch p.Kind {
		case KindDebt:
			rd.Amount = new(big.Int).Neg(v)
		case KindVault:
			if rd.Shares, err = word(idx[i][0] + 1); err != nil {
				return nil, fmt.Errorf("position %s at block %d: shares: %w", p.Key(), block, err)
			}
		}
		snap.Readings = append(snap.Readings, rd)
	}
	return snap, nil
}
