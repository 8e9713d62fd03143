package treasurychain

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"sort"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/solvency-dev/solvency/contracts"
)

// Operation of a Safe transaction.
const (
	OpCall         uint8 = 0
	OpDelegateCall uint8 = 1
)

// Call is one call the Safe makes inside a batch.
type Call struct {
	To    common.Address
	Value *big.Int
	Data  []byte
	// What says in words what the call does (for errors and the batch file).
	What string
}

// SafeTx is a Safe transaction as the Safe hashes it (EIP-712 SafeTx). The refund fields are
// always zero here: the executing key pays its own gas.
type SafeTx struct {
	To        common.Address
	Value     *big.Int
	Data      []byte
	Operation uint8
	SafeTxGas *big.Int
	BaseGas   *big.Int
	GasPrice  *big.Int
	GasToken  common.Address
	Refund    common.Address
	Nonce     *big.Int
}

var (
	// keccak256("EIP712Domain(uint256 chainId,address verifyingContract)"), Safe >= 1.3.0.
	domainTypeHash = crypto.Keccak256Hash([]byte("EIP712Domain(uint256 chainId,address verifyingContract)"))
	safeTxTypeHash = crypto.Keccak256Hash([]byte("SafeTx(address to,uint256 value,bytes data,uint8 operation," +
		"uint256 safeTxGas,uint256 baseGas,uint256 gasPrice,address gasToken,address refundReceiver,uint256 nonce)"))
)

func word(v *big.Int) []byte {
	if v == nil {
		return make([]byte, 32)
	}
	return common.LeftPadBytes(v.Bytes(), 32)
}

// Hash is the EIP-712 hash the owners sign: keccak256(0x19 0x01 ‖ domainSeparator(chainID,
// safe) ‖ hashStruct(SafeTx)), as Safe.getTransactionHash computes it.
func (t *SafeTx) Hash(chainID *big.Int, safe common.Address) common.Hash {
	domain := crypto.Keccak256(domainTypeHash[:], word(chainID), common.LeftPadBytes(safe[:], 32))
	st := crypto.Keccak256(safeTxTypeHash[:], common.LeftPadBytes(t.To[:], 32), word(t.Value),
		crypto.Keccak256(t.Data), word(big.NewInt(int64(t.Operation))), word(t.SafeTxGas), word(t.BaseGas),
		word(t.GasPrice), common.LeftPadBytes(t.GasToken[:], 32), common.LeftPadBytes(t.Refund[:], 32), word(t.Nonce))
	return crypto.Keccak256Hash([]byte{0x19, 0x01}, domain, st)
}

// EncodeMultiSend packs calls as MultiSend's `transactions` bytes: per call, operation (1 byte,
// always a plain call), to (20), value (32), data length (32), data.
func EncodeMultiSend(calls []Call) []byte {
	var buf bytes.Buffer
	for _, c := range calls {
		buf.WriteByte(OpCall)
		buf.Write(c.To[:])
		buf.Write(word(c.Value))
		var n [32]byte
		binary.BigEndian.PutUint64(n[24:], uint64(len(c.Data)))
		buf.Write(n[:])
		buf.Write(c.Data)
	}
	return buf.Bytes()
}

// SignSafeTx signs hash with each key and returns the signatures Safe.execTransaction takes:
// 65 bytes r ‖ s ‖ v (v = 27 or 28) per owner, in ascending owner address order (the Safe
// requires it). Every key must be an owner; at least threshold keys are needed.
func SignSafeTx(hash common.Hash, keys []*ecdsa.PrivateKey, owners []common.Address, threshold int) ([]byte, error) {
	isOwner := map[common.Address]bool{}
	for _, o := range owners {
		isOwner[o] = true
	}
	type sig struct {
		addr common.Address
		sig  []byte
	}
	var sigs []sig
	seen := map[common.Address]bool{}
	for _, k := range keys {
		addr := crypto.PubkeyToAddress(k.PublicKey)
		if !isOwner[addr] {
			return nil, fmt.Errorf("key for %s is not an owner of the Safe", addr.Hex())
		}
		if seen[addr] {
			return nil, fmt.Errorf("owner %s given twice", addr.Hex())
		}
		seen[addr] = true
		s, err := crypto.Sign(hash[:], k)
		if err != nil {
			return nil, fmt.Errorf("sign Safe transaction as %s: %w", addr.Hex(), err)
		}
		s[64] += 27
		sigs = append(sigs, sig{addr, s})
	}
	if len(sigs) < threshold {
		return nil, fmt.Errorf("%d owner keys given; the Safe's threshold is %d", len(sigs), threshold)
	}
	if threshold < 1 {
		return nil, errors.New("threshold must be at least 1")
	}
	sort.Slice(sigs, func(i, j int) bool { return sigs[i].addr.Cmp(sigs[j].addr) < 0 })
	var out []byte
	for _, s := range sigs[:threshold] {
		out = append(out, s.sig...)
	}
	return out, nil
}

// SafeState is what the Safe says about itself.
type SafeState struct {
	Nonce     *big.Int
	Threshold int
	Owners    []common.Address
}

// ReadSafe reads the Safe's nonce, threshold and owners at the latest block.
func ReadSafe(ctx context.Context, b contracts.Backend, safe common.Address) (*SafeState, error) {
	a, err := loadABIs(ArtSafe)
	if err != nil {
		return nil, err
	}
	n, err := call(ctx, b, a, ArtSafe, safe, nil, "nonce")
	if err != nil {
		return nil, err
	}
	th, err := call(ctx, b, a, ArtSafe, safe, nil, "getThreshold")
	if err != nil {
		return nil, err
	}
	ow, err := call(ctx, b, a, ArtSafe, safe, nil, "getOwners")
	if err != nil {
		return nil, err
	}
	return &SafeState{Nonce: n[0].(*big.Int), Threshold: int(th[0].(*big.Int).Int64()), Owners: ow[0].([]common.Address)}, nil
}
