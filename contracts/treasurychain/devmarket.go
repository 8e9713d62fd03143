package treasurychain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/solvency-dev/solvency/contracts"
)

// Recentre moves every pair of a dev deployment to the oracle's prices (USD with 8 decimals, per
// symbol), as arbitrageurs do on a real chain between two of the treasury's trades: without it a
// dev pool stays at its seed price while the feeds move, and every swap would be refused for
// slippage against the oracle. It mints the side that is short into the pair (chain's key is the
// dev tokens' minter) and calls sync(), so a pool only grows; it returns how many pairs moved.
// Dev chains only: a real pool is moved by the market, never by the treasury.
func Recentre(ctx context.Context, chain *contracts.Chain, d *Deployment, prices map[string]uint64) (int, error) {
	a, err := loadABIs(ArtDevToken, ArtUniswapV2Pair)
	if err != nil {
		return 0, err
	}
	s := sender{chain: chain}
	moved := 0
	for _, p := range d.Pairs {
		ta, _ := d.Asset(p.A)
		tb, _ := d.Asset(p.B)
		pa, pb := prices[p.A], prices[p.B]
		if pa == 0 || pb == 0 {
			return moved, fmt.Errorf("recentre %s/%s: no price for both assets", p.A, p.B)
		}
		vals, err := call(ctx, chain.Backend, a, ArtUniswapV2Pair, p.Address, nil, "getReserves")
		if err != nil {
			return moved, err
		}
		r0, r1 := vals[0].(*big.Int), vals[1].(*big.Int)
		rA, rB := r0, r1
		if tb.Token.Cmp(ta.Token) < 0 {
			rA, rB = r1, r0
		}
		// The oracle's ratio in base units: rB/rA = pA * 10^decB / (pB * 10^decA).
		num := new(big.Int).Mul(new(big.Int).SetUint64(pa), pow10(tb.Decimals))
		den := new(big.Int).Mul(new(big.Int).SetUint64(pb), pow10(ta.Decimals))
		wantB := new(big.Int).Quo(new(big.Int).Mul(rA, num), den)
		token, add, side := tb.Token, new(big.Int).Sub(wantB, rB), rB
		if wantB.Cmp(rB) <= 0 {
			wantA := new(big.Int).Quo(new(big.Int).Mul(rB, den), num)
			token, add, side = ta.Token, new(big.Int).Sub(wantA, rA), rA
		}
		// Within a part in a million of the oracle already: leave the pool as it is.
		if add.Sign() <= 0 || new(big.Int).Mul(add, big.NewInt(1_000_000)).Cmp(side) < 0 {
			continue
		}
		if err := mintTo(ctx, s, a, token, p.Address, add); err != nil {
			return moved, fmt.Errorf("recentre %s/%s: %w", p.A, p.B, err)
		}
		data, err := a.pack(ArtUniswapV2Pair, "sync")
		if err != nil {
			return moved, err
		}
		if _, err := s.send(ctx, p.Address, nil, data, "sync "+p.A+"/"+p.B); err != nil {
			return moved, fmt.Errorf("recentre %s/%s: %w", p.A, p.B, err)
		}
		moved++
	}
	return moved, nil
}

func pow10(n uint8) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// ExecutePending is the owners' side of a production batch: it signs the pending Safe
// transaction with the owner keys (at least the threshold) and executes it from chain's key.
// The transaction is rebuilt from the pending record and its hash must be the record's, so the
// owners sign exactly what the batch asked for. Used on dev chains, where the owners' keys are
// at hand, and by tests of the engine's wait for a Safe whose owners sign elsewhere.
func ExecutePending(ctx context.Context, chain *contracts.Chain, p *PendingSafeTx, owners []*ecdsa.PrivateKey) (common.Hash, error) {
	a, err := loadABIs(ArtSafe)
	if err != nil {
		return common.Hash{}, err
	}
	data, err := hexutil.Decode(p.Data)
	if err != nil {
		return common.Hash{}, fmt.Errorf("pending Safe transaction: data: %w", err)
	}
	z := new(big.Int)
	stx := &SafeTx{To: p.To, Value: z, Data: data, Operation: p.Operation, SafeTxGas: z, BaseGas: z, GasPrice: z,
		Nonce: new(big.Int).SetUint64(p.Nonce)}
	if stx.Hash(chain.ChainID, p.Safe) != p.SafeTxHash {
		return common.Hash{}, errors.New("pending Safe transaction: its fields do not hash to its safeTxHash")
	}
	st, err := ReadSafe(ctx, chain.Backend, p.Safe)
	if err != nil {
		return common.Hash{}, err
	}
	if st.Nonce.Uint64() != p.Nonce {
		return common.Hash{}, fmt.Errorf("the Safe is at nonce %s, the pending transaction at %d", st.Nonce, p.Nonce)
	}
	sigs, err := SignSafeTx(p.SafeTxHash, owners, st.Owners, st.Threshold)
	if err != nil {
		return common.Hash{}, err
	}
	exec, err := a.pack(ArtSafe, "execTransaction", stx.To, stx.Value, stx.Data, stx.Operation, stx.SafeTxGas,
		stx.BaseGas, stx.GasPrice, stx.GasToken, stx.Refund, sigs)
	if err != nil {
		return common.Hash{}, err
	}
	rcpt, err := sender{chain: chain}.send(ctx, p.Safe, nil, exec, "Safe execTransaction")
	if err != nil {
		return common.Hash{}, err
	}
	return rcpt.TxHash, nil
}
