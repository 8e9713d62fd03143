package treasurychain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/solvency-dev/solvency/contracts"
)

// TradeKind is what one trade does.
type TradeKind string

// Trade kinds.
const (
	// TradeApprove lets Spender take Amount of Asset from the Safe.
	TradeApprove TradeKind = "approve"
	// TradeSwap sells Amount of Asset for ToAsset on their Uniswap V2 pair, accepting no less
	// than MinOut.
	TradeSwap TradeKind = "swap"
	// TradeDeposit puts Amount of Asset from the Safe into the vault venue Venue.
	TradeDeposit TradeKind = "deposit"
	// TradeWithdraw takes Amount of Asset out of the vault venue Venue into the Safe.
	TradeWithdraw TradeKind = "withdraw"
)

// Trade is one step of an execution, amounts in base units.
type Trade struct {
	Kind    TradeKind
	Venue   string
	Asset   string
	ToAsset string
	Amount  *big.Int
	MinOut  *big.Int
	Spender common.Address
	// UseSwapOut makes a deposit's amount the output of the swap just before it in the plan
	// (known only when the plan is made, from the pool's reserves); Amount is then ignored.
	UseSwapOut bool
}

func (t Trade) String() string {
	switch t.Kind {
	case TradeSwap:
		return fmt.Sprintf("swap %s %s -> %s", t.Amount, t.Asset, t.ToAsset)
	case TradeApprove:
		return fmt.Sprintf("approve %s %s to %s", t.Amount, t.Asset, t.Spender.Hex())
	}
	return fmt.Sprintf("%s %s %s at %s", t.Kind, t.Amount, t.Asset, t.Venue)
}

// Plan is a list of trades turned into the Safe's calls, with the change each (venue, asset)
// position must show once they ran.
type Plan struct {
	Trades []Trade
	Calls  []Call
	// Expect is the expected change per position key (venue/asset), base units.
	Expect map[string]*big.Int
	// Rounding is how far below the expected amount a vault position may land: ERC-4626 rounds
	// each conversion down, in the vault's favour, by at most one unit.
	Rounding map[string]int64
}

// Executor executes plans through the deployment's Safe.
type Executor struct {
	chain  *contracts.Chain
	d      *Deployment
	reader *Reader
	a      abis
	owners []*ecdsa.PrivateKey
	// Mined, when set, is called once the execution's receipt is in and before the positions
	// are read again: a crash test kills the process there (an error stops the execution there,
	// as a crash would).
	Mined func(rcpt *types.Receipt) error
}

// NewExecutor returns an executor that signs with the given owner keys and sends
// execTransaction from chain's key (any account may; the owners' signatures authorise).
func NewExecutor(chain *contracts.Chain, d *Deployment, ownerKeys []*ecdsa.PrivateKey) (*Executor, error) {
	a, err := loadABIs(ArtDevToken, ArtDevVault, ArtSafe, ArtMultiSendCallOnly, ArtUniswapV2Pair)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(chain.Backend, d.Multicall)
	if err != nil {
		return nil, err
	}
	return &Executor{chain: chain, d: d, reader: r, a: a, owners: ownerKeys}, nil
}

// Reader returns the executor's position reader.
func (e *Executor) Reader() *Reader { return e.reader }

func key(venue, asset string) string { return venue + "/" + asset }

// Plan turns trades into calls. Swap outputs are computed from the pairs' reserves at the
// latest block with Uniswap V2's formula (0.3% fee), each swap in the plan moving the reserves
// the next one sees; a swap whose output is below its MinOut is refused here (its slippage is
// past the budget), and on chain the pair refuses any output the reserves do not pay.
func (e *Executor) Plan(ctx context.Context, trades []Trade) (*Plan, error) {
	p := &Plan{Trades: trades, Expect: map[string]*big.Int{}, Rounding: map[string]int64{}}
	add := func(k string, v *big.Int) {
		if p.Expect[k] == nil {
			p.Expect[k] = new(big.Int)
		}
		p.Expect[k].Add(p.Expect[k], v)
	}
	reserves := map[common.Address][2]*big.Int{}
	safe := e.d.SafeVenue
	var lastOut *big.Int
	for i, t := range trades {
		if t.UseSwapOut {
			if t.Kind != TradeDeposit || lastOut == nil || i == 0 || trades[i-1].Kind != TradeSwap || trades[i-1].ToAsset != t.Asset {
				return nil, fmt.Errorf("trade %d (%s): only a deposit of the asset the swap just before it bought can use its output", i, t)
			}
			t.Amount = lastOut
		}
		if t.Amount == nil || t.Amount.Sign() <= 0 {
			return nil, fmt.Errorf("trade %d (%s): amount must be positive", i, t)
		}
		as, ok := e.d.Asset(t.Asset)
		if !ok || as.Native {
			return nil, fmt.Errorf("trade %d (%s): %s is not a token of the deployment", i, t, t.Asset)
		}
		var calls []Call
		var err error
		switch t.Kind {
		case TradeApprove:
			calls, err = e.approve(as.Token, t.Spender, t.Amount, t.String())
		case TradeDeposit, TradeWithdraw:
			v, ok := e.d.Vault(t.Venue)
			if !ok || v.Asset != t.Asset {
				return nil, fmt.Errorf("trade %d (%s): no vault venue %s for %s", i, t, t.Venue, t.Asset)
			}
			sign := big.NewInt(1)
			if t.Kind == TradeDeposit {
				if calls, err = e.approve(as.Token, v.Address, t.Amount, "approve "+t.Venue); err != nil {
					break
				}
				var data []byte
				if data, err = e.a.pack(ArtDevVault, "deposit", t.Amount, e.d.Safe); err == nil {
					calls = append(calls, Call{To: v.Address, Data: data, What: t.String()})
				}
			} else {
				sign = big.NewInt(-1)
				var data []byte
				if data, err = e.a.pack(ArtDevVault, "withdraw", t.Amount, e.d.Safe, e.d.Safe); err == nil {
					calls = append(calls, Call{To: v.Address, Data: data, What: t.String()})
				}
			}
			add(key(t.Venue, t.Asset), new(big.Int).Mul(sign, t.Amount))
			add(key(safe, t.Asset), new(big.Int).Mul(new(big.Int).Neg(sign), t.Amount))
			p.Rounding[key(t.Venue, t.Asset)]++
		case TradeSwap:
			var out *big.Int
			calls, out, err = e.swap(ctx, reserves, t)
			lastOut = out
			if err == nil {
				add(key(safe, t.Asset), new(big.Int).Neg(t.Amount))
				add(key(safe, t.ToAsset), out)
			}
		default:
			err = fmt.Errorf("unknown trade kind %q", t.Kind)
		}
		if err != nil {
			return nil, fmt.Errorf("trade %d (%s): %w", i, t, err)
		}
		p.Calls = append(p.Calls, calls...)
	}
	return p, nil
}

func (e *Executor) approve(token, spender common.Address, amount *big.Int, what string) ([]Call, error) {
	data, err := e.a.pack(ArtDevToken, "approve", spender, amount)
	if err != nil {
		return nil, err
	}
	return []Call{{To: token, Data: data, What: what}}, nil
}

// AmountOut is Uniswap V2's getAmountOut: in * 997 * rOut / (rIn * 1000 + in * 997).
func AmountOut(in, rIn, rOut *big.Int) *big.Int {
	inFee := new(big.Int).Mul(in, big.NewInt(997))
	num := new(big.Int).Mul(inFee, rOut)
	den := new(big.Int).Add(new(big.Int).Mul(rIn, big.NewInt(1000)), inFee)
	return num.Div(num, den)
}

func (e *Executor) swap(ctx context.Context, reserves map[common.Address][2]*big.Int, t Trade) ([]Call, *big.Int, error) {
	pair, ok := e.d.Pair(t.Asset, t.ToAsset)
	if !ok {
		return nil, nil, fmt.Errorf("no pool for %s/%s", t.Asset, t.ToAsset)
	}
	in, _ := e.d.Asset(t.Asset)
	outAs, _ := e.d.Asset(t.ToAsset)
	r, ok := reserves[pair.Address]
	if !ok {
		vals, err := call(ctx, e.chain.Backend, e.a, ArtUniswapV2Pair, pair.Address, nil, "getReserves")
		if err != nil {
			return nil, nil, err
		}
		r = [2]*big.Int{vals[0].(*big.Int), vals[1].(*big.Int)}
	}
	// Uniswap orders a pair's tokens by address: token0 < token1.
	inIs0 := in.Token.Cmp(outAs.Token) < 0
	rIn, rOut := r[1], r[0]
	if inIs0 {
		rIn, rOut = r[0], r[1]
	}
	out := AmountOut(t.Amount, rIn, rOut)
	if t.MinOut != nil && out.Cmp(t.MinOut) < 0 {
		return nil, nil, fmt.Errorf("the pool pays %s %s, below the minimum %s: slippage past the budget", out, t.ToAsset, t.MinOut)
	}
	if out.Sign() <= 0 {
		return nil, nil, errors.New("the pool pays nothing for this amount")
	}
	newIn, newOut := new(big.Int).Add(rIn, t.Amount), new(big.Int).Sub(rOut, out)
	if inIs0 {
		reserves[pair.Address] = [2]*big.Int{newIn, newOut}
	} else {
		reserves[pair.Address] = [2]*big.Int{newOut, newIn}
	}
	transfer, err := e.a.pack(ArtDevToken, "transfer", pair.Address, t.Amount)
	if err != nil {
		return nil, nil, err
	}
	a0, a1 := new(big.Int), new(big.Int)
	if inIs0 {
		a1 = out
	} else {
		a0 = out
	}
	sw, err := e.a.pack(ArtUniswapV2Pair, "swap", a0, a1, e.d.Safe, []byte{})
	if err != nil {
		return nil, nil, err
	}
	return []Call{
		{To: in.Token, Data: transfer, What: fmt.Sprintf("pay %s %s into the %s/%s pool", t.Amount, t.Asset, pair.A, pair.B)},
		{To: pair.Address, Data: sw, What: t.String()},
	}, out, nil
}

// SafeTxFor wraps a plan's calls into one Safe transaction: a DELEGATECALL to MultiSendCallOnly
// (which refuses nested delegatecalls) at the given nonce.
func (e *Executor) SafeTxFor(p *Plan, nonce *big.Int) (*SafeTx, error) {
	data, err := e.a.pack(ArtMultiSendCallOnly, "multiSend", EncodeMultiSend(p.Calls))
	if err != nil {
		return nil, err
	}
	z := new(big.Int)
	return &SafeTx{To: e.d.MultiSendCallOnly, Value: z, Data: data, Operation: OpDelegateCall,
		SafeTxGas: z, BaseGas: z, GasPrice: z, Nonce: new(big.Int).Set(nonce)}, nil
}

// Result is one executed plan.
type Result struct {
	SafeTxHash common.Hash
	Nonce      uint64
	TxHash     common.Hash
	Block      uint64
	GasUsed    uint64
	Before     *Snapshot
	After      *Snapshot
	// Resumed is set when ExecuteOnce found the transaction already executed.
	Resumed bool
}

// PositionDiff is a position the chain disagrees with after execution.
type PositionDiff struct {
	Venue, Asset      string
	Before, Want, Got *big.Int
}

// MismatchError lists every position whose amount after execution is not what the plan said.
type MismatchError struct {
	Block uint64
	Diffs []PositionDiff
}

func (m *MismatchError) Error() string {
	parts := make([]string, len(m.Diffs))
	for i, d := range m.Diffs {
		parts[i] = fmt.Sprintf("%s at %s: was %s, expected %s, chain holds %s", d.Asset, d.Venue, d.Before, d.Want, d.Got)
	}
	return fmt.Sprintf("after execution, at block %d, the chain disagrees with the plan: %s", m.Block, strings.Join(parts, "; "))
}

// Execute reads every position, signs the plan's Safe transaction (at the Safe's current nonce)
// with the owner keys, executes it, waits for it, reads every position again at the block it
// landed in, and checks each against what the plan expects. A disagreement is a
// *MismatchError naming each position.
func (e *Executor) Execute(ctx context.Context, p *Plan) (*Result, error) {
	st, err := ReadSafe(ctx, e.chain.Backend, e.d.Safe)
	if err != nil {
		return nil, fmt.Errorf("execute: %w", err)
	}
	return e.executeAt(ctx, p, st)
}

// ExecuteOnce executes the plan as the Safe transaction at nonce, exactly once across crashes:
// a caller records (plan, nonce) before the first try and calls ExecuteOnce again after a
// restart. If the Safe is still at nonce it executes; if the Safe has moved past it and that
// very transaction (its safeTxHash) succeeded at or after fromBlock, it does not execute again
// but re-reads the positions around the block it landed in and checks them; if another
// transaction took the nonce it fails, naming it.
func (e *Executor) ExecuteOnce(ctx context.Context, p *Plan, nonce, fromBlock uint64) (*Result, error) {
	st, err := ReadSafe(ctx, e.chain.Backend, e.d.Safe)
	if err != nil {
		return nil, fmt.Errorf("execute: %w", err)
	}
	switch cur := st.Nonce.Uint64(); {
	case cur == nonce:
		return e.executeAt(ctx, p, st)
	case cur < nonce:
		return nil, fmt.Errorf("execute: the Safe is at nonce %d, below the plan's %d", cur, nonce)
	}
	stx, err := e.SafeTxFor(p, new(big.Int).SetUint64(nonce))
	if err != nil {
		return nil, err
	}
	hash := stx.Hash(e.chain.ChainID, e.d.Safe)
	ev := e.a[ArtSafe].Events["ExecutionSuccess"]
	logs, err := e.chain.Backend.FilterLogs(ctx, ethereum.FilterQuery{FromBlock: new(big.Int).SetUint64(fromBlock),
		Addresses: []common.Address{e.d.Safe}, Topics: [][]common.Hash{{ev.ID}, {hash}}})
	if err != nil {
		return nil, fmt.Errorf("execute: search the Safe's executions: %w", err)
	}
	if len(logs) == 0 {
		return nil, fmt.Errorf("execute: the Safe's nonce moved past %d, but not by this plan's transaction %s: it was not executed",
			nonce, hash.Hex())
	}
	block := logs[0].BlockNumber
	specs := e.d.Positions()
	before, err := e.reader.Read(ctx, block-1, specs)
	if err != nil {
		return nil, fmt.Errorf("execute: read positions before (block %d): %w", block-1, err)
	}
	after, err := e.reader.Read(ctx, block, specs)
	if err != nil {
		return nil, fmt.Errorf("execute: read positions after (block %d): %w", block, err)
	}
	rcpt, err := e.chain.Backend.TransactionReceipt(ctx, logs[0].TxHash)
	if err != nil {
		return nil, fmt.Errorf("execute: receipt of %s: %w", logs[0].TxHash.Hex(), err)
	}
	res := &Result{SafeTxHash: hash, Nonce: nonce, TxHash: logs[0].TxHash, Block: block, GasUsed: rcpt.GasUsed,
		Before: before, After: after, Resumed: true}
	return res, CheckAfter(p, before, after)
}

func (e *Executor) executeAt(ctx context.Context, p *Plan, st *SafeState) (*Result, error) {
	if len(p.Calls) == 0 {
		return nil, errors.New("execute: the plan has no calls")
	}
	head, err := e.chain.Backend.BlockNumber(ctx)
	if err != nil {
		return nil, fmt.Errorf("execute: read head: %w", err)
	}
	specs := e.d.Positions()
	before, err := e.reader.Read(ctx, head, specs)
	if err != nil {
		return nil, fmt.Errorf("execute: read positions before: %w", err)
	}
	stx, err := e.SafeTxFor(p, st.Nonce)
	if err != nil {
		return nil, err
	}
	hash := stx.Hash(e.chain.ChainID, e.d.Safe)
	// The Safe's own hash of the transaction must be the one signed (a wrong domain or
	// encoding would otherwise only show as a signature failure).
	onchain, err := call(ctx, e.chain.Backend, e.a, ArtSafe, e.d.Safe, nil, "getTransactionHash", stx.To, stx.Value, stx.Data,
		stx.Operation, stx.SafeTxGas, stx.BaseGas, stx.GasPrice, stx.GasToken, stx.Refund, stx.Nonce)
	if err != nil {
		return nil, fmt.Errorf("execute: %w", err)
	}
	if common.Hash(onchain[0].([32]byte)) != hash {
		return nil, fmt.Errorf("execute: the Safe hashes the transaction to %x, this code to %s", onchain[0], hash.Hex())
	}
	sigs, err := SignSafeTx(hash, e.owners, st.Owners, st.Threshold)
	if err != nil {
		return nil, fmt.Errorf("execute: %w", err)
	}
	data, err := e.a.pack(ArtSafe, "execTransaction", stx.To, stx.Value, stx.Data, stx.Operation, stx.SafeTxGas,
		stx.BaseGas, stx.GasPrice, stx.GasToken, stx.Refund, sigs)
	if err != nil {
		return nil, err
	}
	s := sender{chain: e.chain}
	rcpt, err := s.send(ctx, e.d.Safe, nil, data, "Safe execTransaction")
	if err != nil {
		return nil, fmt.Errorf("execute: %w", err)
	}
	if !executedOK(e, rcpt) {
		return nil, fmt.Errorf("execute: transaction %s emitted no ExecutionSuccess", rcpt.TxHash.Hex())
	}
	if e.Mined != nil {
		if err := e.Mined(rcpt); err != nil {
			return nil, fmt.Errorf("execute: after transaction %s: %w", rcpt.TxHash.Hex(), err)
		}
	}
	block := rcpt.BlockNumber.Uint64()
	after, err := e.reader.Read(ctx, block, specs)
	if err != nil {
		return nil, fmt.Errorf("execute: read positions after (block %d): %w", block, err)
	}
	res := &Result{SafeTxHash: hash, Nonce: st.Nonce.Uint64(), TxHash: rcpt.TxHash, Block: block, GasUsed: rcpt.GasUsed,
		Before: before, After: after}
	if err := CheckAfter(p, before, after); err != nil {
		return res, err
	}
	return res, nil
}

func executedOK(e *Executor, rcpt *types.Receipt) bool {
	ev := e.a[ArtSafe].Events["ExecutionSuccess"]
	for _, l := range rcpt.Logs {
		if l.Address == e.d.Safe && len(l.Topics) > 0 && l.Topics[0] == ev.ID {
			return true
		}
	}
	return false
}

// CheckAfter compares every position after execution with before plus the plan's change. A
// vault position may land up to its rounding allowance below; nothing may land above.
func CheckAfter(p *Plan, before, after *Snapshot) error {
	if len(before.Readings) != len(after.Readings) {
		return fmt.Errorf("before and after read %d and %d positions", len(before.Readings), len(after.Readings))
	}
	var diffs []PositionDiff
	for i, b := range before.Readings {
		a := after.Readings[i]
		if a.Key() != b.Key() {
			return fmt.Errorf("position %d is %s before and %s after", i, b.Key(), a.Key())
		}
		want := new(big.Int).Set(b.Amount)
		if d := p.Expect[b.Key()]; d != nil {
			want.Add(want, d)
		}
		low := new(big.Int).Sub(want, big.NewInt(p.Rounding[b.Key()]))
		if a.Amount.Cmp(want) > 0 || a.Amount.Cmp(low) < 0 {
			diffs = append(diffs, PositionDiff{Venue: b.Venue, Asset: b.Asset, Before: b.Amount, Want: want, Got: a.Amount})
		}
	}
	if len(diffs) > 0 {
		sort.Slice(diffs, func(i, j int) bool { return key(diffs[i].Venue, diffs[i].Asset) < key(diffs[j].Venue, diffs[j].Asset) })
		return &MismatchError{Block: after.Block, Diffs: diffs}
	}
	return nil
}
