// Package chainread reads the registry's attestations over plain JSON-RPC, with nothing but a
// request function: the users' page calls it from WebAssembly through the browser's fetch or the
// user's wallet (EIP-1193), and the same code runs natively in tests. Every request asks about
// the registry only (its events and its stored hashes); nothing about the user is sent.
package chainread

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/solvency-dev/solvency/contracts/attest"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// Caller sends one JSON-RPC request and returns its result.
type Caller interface {
	Call(ctx context.Context, method string, params ...any) (json.RawMessage, error)
}

// registryABI is the part of SolvencyRegistry's ABI this package reads; a test compares it with
// the compiled artifact so that it cannot drift.
const registryABI = `[{"anonymous":false,"inputs":[{"indexed":true,"internalType":"uint64","name":"cycle","type":"uint64"},{"indexed":true,"internalType":"bytes32","name":"attestationHash","type":"bytes32"},{"components":[{"internalType":"uint64","name":"cycle","type":"uint64"},{"internalType":"uint64","name":"reservesBlock","type":"uint64"},{"internalType":"uint64","name":"snapshotEpoch","type":"uint64"},{"internalType":"uint40","name":"snapshotTime","type":"uint40"},{"internalType":"uint40","name":"publishedAt","type":"uint40"},{"internalType":"uint64","name":"publishedBlock","type":"uint64"},{"internalType":"bytes32","name":"policyHash","type":"bytes32"},{"internalType":"uint256","name":"lc","type":"uint256"},{"internalType":"uint256","name":"rc","type":"uint256"},{"internalType":"uint64[]","name":"prices","type":"uint64[]"},{"internalType":"uint80[]","name":"roundIds","type":"uint80[]"},{"internalType":"bytes32","name":"bundleDigest","type":"bytes32"},{"internalType":"string","name":"bundleUri","type":"string"}],"indexed":false,"internalType":"struct SolvencyRegistry.Record","name":"record","type":"tuple"}],"name":"AttestationPublished","type":"event"},{"inputs":[{"internalType":"uint64","name":"cycle","type":"uint64"}],"name":"attestationHash","outputs":[{"internalType":"bytes32","name":"","type":"bytes32"}],"stateMutability":"view","type":"function"},{"anonymous":false,"inputs":[{"indexed":true,"internalType":"uint64","name":"cycle","type":"uint64"},{"indexed":true,"internalType":"address","name":"auditor","type":"address"},{"indexed":false,"internalType":"uint256","name":"rc","type":"uint256"},{"indexed":false,"internalType":"uint64","name":"reservesBlock","type":"uint64"}],"name":"Countersigned","type":"event"},{"inputs":[{"internalType":"uint64","name":"cycle","type":"uint64"}],"name":"countersignCount","outputs":[{"internalType":"uint256","name":"","type":"uint256"}],"stateMutability":"view","type":"function"},{"inputs":[{"internalType":"uint64","name":"cycle","type":"uint64"},{"internalType":"address","name":"auditor","type":"address"}],"name":"countersigned","outputs":[{"internalType":"bool","name":"","type":"bool"}],"stateMutability":"view","type":"function"},{"inputs":[{"internalType":"address","name":"account","type":"address"}],"name":"isAuditor","outputs":[{"internalType":"bool","name":"","type":"bool"}],"stateMutability":"view","type":"function"}]`

// ABIJSON returns the ABI fragment this package decodes with.
func ABIJSON() string { return registryABI }

// Record is one recorded attestation, its event checked against the hash in storage.
type Record struct {
	Cycle          uint64
	ReservesBlock  uint64
	SnapshotEpoch  uint64
	SnapshotTime   uint64
	PublishedAt    uint64
	PublishedBlock uint64
	PolicyHash     fr.Element
	LC             fr.Element
	RC             fr.Element
	Prices         []uint64
	RoundIDs       []*big.Int
	BundleDigest   common.Hash
	BundleURI      string
	Hash           common.Hash
	TxHash         common.Hash
}

type recordABI struct {
	Cycle          uint64
	ReservesBlock  uint64
	SnapshotEpoch  uint64
	SnapshotTime   *big.Int
	PublishedAt    *big.Int
	PublishedBlock uint64
	PolicyHash     [32]byte
	Lc             *big.Int
	Rc             *big.Int
	Prices         []uint64
	RoundIds       []*big.Int
	BundleDigest   [32]byte
	BundleUri      string
}

type rpcLog struct {
	Topics      []common.Hash  `json:"topics"`
	Data        hexutil.Bytes  `json:"data"`
	TxHash      common.Hash    `json:"transactionHash"`
	BlockNumber hexutil.Uint64 `json:"blockNumber"`
	Removed     bool           `json:"removed"`
}

// maxRecords bounds how many attestation events are decoded from one answer.
const maxRecords = 1 << 20

// ChainID asks the endpoint which chain it serves.
func ChainID(ctx context.Context, c Caller) (uint64, error) {
	raw, err := c.Call(ctx, "eth_chainId")
	if err != nil {
		return 0, fmt.Errorf("eth_chainId: %w", err)
	}
	var id hexutil.Uint64
	if err := json.Unmarshal(raw, &id); err != nil {
		return 0, fmt.Errorf("eth_chainId: %w", err)
	}
	return uint64(id), nil
}

// Records reads every attestation the registry at addr emitted, and keeps only events whose data
// hashes to the attestation hash the registry stores for their cycle.
func Records(ctx context.Context, c Caller, addr common.Address) ([]*Record, error) {
	a, err := abi.JSON(strings.NewReader(registryABI))
	if err != nil {
		return nil, fmt.Errorf("registry ABI: %w", err)
	}
	ev := a.Events["AttestationPublished"]
	raw, err := c.Call(ctx, "eth_getLogs", map[string]any{
		"address": addr, "fromBlock": "0x0", "toBlock": "latest", "topics": [][]common.Hash{{ev.ID}},
	})
	if err != nil {
		return nil, fmt.Errorf("read the registry's attestation events: %w", err)
	}
	var logs []rpcLog
	if err := json.Unmarshal(raw, &logs); err != nil {
		return nil, fmt.Errorf("eth_getLogs: %w", err)
	}
	if len(logs) > maxRecords {
		return nil, fmt.Errorf("eth_getLogs returned %d events", len(logs))
	}
	var out []*Record
	for _, l := range logs {
		if l.Removed {
			continue
		}
		rec, err := parse(ev, l)
		if err != nil {
			return nil, err
		}
		stored, err := storedHash(ctx, c, &a, addr, rec.Cycle)
		if err != nil {
			return nil, err
		}
		if stored != rec.Hash {
			return nil, fmt.Errorf("cycle %d: the event's hash %s differs from the registry's stored %s", rec.Cycle, rec.Hash.Hex(), stored.Hex())
		}
		out = append(out, rec)
	}
	return out, nil
}

func parse(ev abi.Event, l rpcLog) (*Record, error) {
	if len(l.Topics) != 3 || l.Topics[0] != ev.ID {
		return nil, fmt.Errorf("log in %s is not an AttestationPublished event", l.TxHash.Hex())
	}
	h := crypto.Keccak256Hash(l.Data)
	if h != l.Topics[2] {
		return nil, fmt.Errorf("event in %s: data hash %s differs from its hash topic %s", l.TxHash.Hex(), h.Hex(), l.Topics[2].Hex())
	}
	vals, err := ev.Inputs.NonIndexed().Unpack(l.Data)
	if err != nil {
		return nil, fmt.Errorf("decode event in %s: %w", l.TxHash.Hex(), err)
	}
	var out struct{ Record recordABI }
	if err := ev.Inputs.NonIndexed().Copy(&out, vals); err != nil {
		return nil, fmt.Errorf("decode event in %s: %w", l.TxHash.Hex(), err)
	}
	ra := out.Record
	if len(ra.Prices) != len(ra.RoundIds) {
		return nil, fmt.Errorf("event in %s: %d prices and %d rounds", l.TxHash.Hex(), len(ra.Prices), len(ra.RoundIds))
	}
	rec := &Record{
		Cycle: ra.Cycle, ReservesBlock: ra.ReservesBlock, SnapshotEpoch: ra.SnapshotEpoch,
		SnapshotTime: ra.SnapshotTime.Uint64(), PublishedAt: ra.PublishedAt.Uint64(), PublishedBlock: ra.PublishedBlock,
		Prices: ra.Prices, RoundIDs: ra.RoundIds, BundleDigest: ra.BundleDigest, BundleURI: ra.BundleUri,
		Hash: h, TxHash: l.TxHash,
	}
	for _, f := range []struct {
		dst  *fr.Element
		src  []byte
		what string
	}{{&rec.PolicyHash, ra.PolicyHash[:], "policy hash"}, {&rec.LC, ra.Lc.Bytes(), "LC"}, {&rec.RC, ra.Rc.Bytes(), "RC"}} {
		v := new(big.Int).SetBytes(f.src)
		if v.Cmp(fr.Modulus()) >= 0 {
			return nil, fmt.Errorf("event in %s: %s is not below the field modulus", l.TxHash.Hex(), f.what)
		}
		f.dst.SetBigInt(v)
	}
	return rec, nil
}

func storedHash(ctx context.Context, c Caller, a *abi.ABI, addr common.Address, cycle uint64) (common.Hash, error) {
	data, err := a.Pack("attestationHash", cycle)
	if err != nil {
		return common.Hash{}, err
	}
	raw, err := c.Call(ctx, "eth_call", map[string]any{"to": addr, "data": hexutil.Bytes(data)}, "latest")
	if err != nil {
		return common.Hash{}, fmt.Errorf("registry.attestationHash(%d): %w", cycle, err)
	}
	var out hexutil.Bytes
	if err := json.Unmarshal(raw, &out); err != nil {
		return common.Hash{}, fmt.Errorf("registry.attestationHash(%d): %w", cycle, err)
	}
	if len(out) != 32 {
		return common.Hash{}, fmt.Errorf("registry.attestationHash(%d): %d bytes returned", cycle, len(out))
	}
	return common.BytesToHash(out), nil
}

// HTTP is a Caller over JSON-RPC on HTTP(S), with a timeout and a bound on each answer's size.
type HTTP struct {
	URL     string
	Client  *http.Client // nil: a client with a 30 s timeout
	MaxSize int64        // 0: 256 MiB
	id      atomic.Int64
}

type rpcResponse struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Call implements Caller.
func (h *HTTP) Call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	if params == nil {
		params = []any{}
	}
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": h.id.Add(1), "method": method, "params": params})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	cl := h.Client
	if cl == nil {
		cl = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := cl.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	limit := h.MaxSize
	if limit <= 0 {
		limit = 256 << 20
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: the answer is larger than %d bytes", h.URL, limit)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", h.URL, resp.Status)
	}
	return Decode(data)
}

// Decode reads a JSON-RPC response body.
func Decode(data []byte) (json.RawMessage, error) {
	var r rpcResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("JSON-RPC answer: %w", err)
	}
	if r.Error != nil {
		return nil, fmt.Errorf("JSON-RPC error %d: %s", r.Error.Code, r.Error.Message)
	}
	if r.Result == nil {
		return nil, errors.New("JSON-RPC answer has no result")
	}
	return r.Result, nil
}

// Countersign is one auditor's countersign of a cycle: the auditor checked the cycle's reserves
// against the chain and recorded (cycle, RC, reserves block) on the registry (R1).
type Countersign struct {
	Auditor       common.Address
	RC            *big.Int
	ReservesBlock uint64
	Block         uint64 // the block that recorded the countersign
	TxHash        common.Hash
	// StillAuditor says whether the auditor is in the registry's auditor set now (governance
	// may have removed it since; the countersign stays recorded).
	StillAuditor bool
}

// Countersigns reads cycle's countersigns from the registry's events and keeps only those the
// registry's storage confirms (countersigned(cycle, auditor)); the number must equal the
// registry's countersignCount(cycle), so an endpoint can neither invent nor hide one. Each says
// whether its auditor is still in the auditor set, as the CLI's 'attestations' does.
func Countersigns(ctx context.Context, c Caller, addr common.Address, cycle uint64) ([]Countersign, error) {
	a, err := abi.JSON(strings.NewReader(registryABI))
	if err != nil {
		return nil, fmt.Errorf("registry ABI: %w", err)
	}
	ev := a.Events["Countersigned"]
	raw, err := c.Call(ctx, "eth_getLogs", map[string]any{
		"address": addr, "fromBlock": "0x0", "toBlock": "latest",
		"topics": [][]common.Hash{{ev.ID}, {common.BigToHash(new(big.Int).SetUint64(cycle))}},
	})
	if err != nil {
		return nil, fmt.Errorf("read the registry's countersign events: %w", err)
	}
	var logs []rpcLog
	if err := json.Unmarshal(raw, &logs); err != nil {
		return nil, fmt.Errorf("eth_getLogs: %w", err)
	}
	if len(logs) > maxRecords {
		return nil, fmt.Errorf("eth_getLogs returned %d events", len(logs))
	}
	out := []Countersign{}
	seen := map[common.Address]bool{}
	for _, l := range logs {
		if l.Removed {
			continue
		}
		if len(l.Topics) != 3 || l.Topics[0] != ev.ID || l.Topics[1] != common.BigToHash(new(big.Int).SetUint64(cycle)) {
			return nil, fmt.Errorf("log in %s is not a Countersigned event of cycle %d", l.TxHash.Hex(), cycle)
		}
		vals, err := ev.Inputs.NonIndexed().Unpack(l.Data)
		if err != nil || len(vals) != 2 {
			return nil, fmt.Errorf("decode countersign event in %s: %v", l.TxHash.Hex(), err)
		}
		rc, ok1 := vals[0].(*big.Int)
		blk, ok2 := vals[1].(uint64)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("countersign event in %s: unexpected types", l.TxHash.Hex())
		}
		auditor := common.BytesToAddress(l.Topics[2].Bytes())
		if seen[auditor] {
			continue
		}
		ok, err := viewWord(ctx, c, &a, addr, "countersigned", cycle, auditor)
		if err != nil {
			return nil, err
		}
		if ok.Sign() == 0 {
			return nil, fmt.Errorf("cycle %d: an event says %s countersigned, the registry does not", cycle, auditor.Hex())
		}
		still, err := viewWord(ctx, c, &a, addr, "isAuditor", auditor)
		if err != nil {
			return nil, err
		}
		seen[auditor] = true
		out = append(out, Countersign{Auditor: auditor, RC: rc, ReservesBlock: blk, Block: uint64(l.BlockNumber), TxHash: l.TxHash,
			StillAuditor: still.Sign() != 0})
	}
	n, err := viewWord(ctx, c, &a, addr, "countersignCount", cycle)
	if err != nil {
		return nil, err
	}
	if !n.IsUint64() || n.Uint64() != uint64(len(out)) {
		return nil, fmt.Errorf("cycle %d: the registry counts %s countersigns, the endpoint's events show %d", cycle, n, len(out))
	}
	return out, nil
}

// viewWord calls a registry view that returns one word.
func viewWord(ctx context.Context, c Caller, a *abi.ABI, addr common.Address, method string, args ...any) (*big.Int, error) {
	data, err := a.Pack(method, args...)
	if err != nil {
		return nil, err
	}
	raw, err := c.Call(ctx, "eth_call", map[string]any{"to": addr, "data": hexutil.Bytes(data)}, "latest")
	if err != nil {
		return nil, fmt.Errorf("registry.%s: %w", method, err)
	}
	var out hexutil.Bytes
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("registry.%s: %w", method, err)
	}
	if len(out) != 32 {
		return nil, fmt.Errorf("registry.%s: %d bytes returned", method, len(out))
	}
	return new(big.Int).SetBytes(out), nil
}

// Statement is the record as the one statement comparison (contracts/attest) takes it.
func (r *Record) Statement() *attest.Statement {
	return &attest.Statement{
		Cycle: r.Cycle, ReservesBlock: r.ReservesBlock, SnapshotEpoch: r.SnapshotEpoch, SnapshotTime: r.SnapshotTime,
		PolicyHash: r.PolicyHash, LC: r.LC, RC: r.RC, Prices: r.Prices, RoundIDs: r.RoundIDs,
		BundleDigest: [32]byte(r.BundleDigest),
	}
}
