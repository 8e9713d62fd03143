package contracts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/solvency-dev/solvency/contracts/attest"
)

// EventAttestationPublished is the registry event that carries a whole attestation.
const EventAttestationPublished = "AttestationPublished"

// Registry is a handle on a deployed SolvencyRegistry.
type Registry struct {
	Address common.Address
	// FromBlock is where log searches start (the deployment block, from the addresses file).
	FromBlock uint64
	backend   Backend
	abi       abi.ABI
	errABIs   []abi.ABI // the registry's, the feed's and the verifier's errors, for decoding reverts
}

// NewRegistry binds the registry at addr.
func NewRegistry(addr common.Address, backend Backend) (*Registry, error) {
	art, err := RegistryArtifact()
	if err != nil {
		return nil, err
	}
	a, err := art.ParsedABI()
	if err != nil {
		return nil, err
	}
	feedArt, err := DevFeedArtifact()
	if err != nil {
		return nil, err
	}
	fa, err := feedArt.ParsedABI()
	if err != nil {
		return nil, err
	}
	return &Registry{Address: addr, backend: backend, abi: a, errABIs: []abi.ABI{a, fa}}, nil
}

// ABI returns the registry's parsed ABI.
func (r *Registry) ABI() abi.ABI { return r.abi }

// call runs a view method and returns its unpacked outputs.
func (r *Registry) call(ctx context.Context, from common.Address, method string, args ...any) ([]any, error) {
	data, err := r.abi.Pack(method, args...)
	if err != nil {
		return nil, fmt.Errorf("registry.%s: encode: %w", method, err)
	}
	out, err := r.backend.CallContract(ctx, ethereum.CallMsg{From: from, To: &r.Address, Data: data}, nil)
	if err != nil {
		return nil, fmt.Errorf("registry.%s: %w", method, decodeRevert(err, r.errABIs...))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("registry.%s: empty result; is %s a SolvencyRegistry on this chain?", method, r.Address.Hex())
	}
	vals, err := r.abi.Unpack(method, out)
	if err != nil {
		return nil, fmt.Errorf("registry.%s: decode: %w", method, err)
	}
	return vals, nil
}

func one[T any](vals []any, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	if len(vals) != 1 {
		return zero, fmt.Errorf("want 1 result, got %d", len(vals))
	}
	v, ok := vals[0].(T)
	if !ok {
		return zero, fmt.Errorf("result is %T, want %T", vals[0], zero)
	}
	return v, nil
}

// Latest describes the latest attestation as the registry stores it.
type Latest struct {
	Cycle         uint64      `json:"cycle,string"`
	Hash          common.Hash `json:"attestationHash"`
	SnapshotEpoch uint64      `json:"snapshotEpoch,string"`
	SnapshotTime  uint64      `json:"snapshotTime,string"`
	PublishedAt   uint64      `json:"publishedAt,string"`
	Count         uint64      `json:"count,string"`
	// ReservesBlock is the block at which the latest attestation claims its reserves (R1).
	ReservesBlock uint64 `json:"reservesBlock,string"`
	// LC is the latest attestation's liabilities commitment (32 bytes, big-endian): every later
	// statement with the same snapshot epoch must name it (S7).
	LC common.Hash `json:"lc"`
}

// LatestAttestation reads the latest attestation's summary; Count is 0 before the first.
func (r *Registry) LatestAttestation(ctx context.Context) (Latest, error) {
	vals, err := r.call(ctx, common.Address{}, "latestAttestation")
	if err != nil {
		return Latest{}, err
	}
	if len(vals) != 8 {
		return Latest{}, fmt.Errorf("registry.latestAttestation: %d results", len(vals))
	}
	cycle, ok1 := vals[0].(uint64)
	hash, ok2 := vals[1].([32]byte)
	epoch, ok3 := vals[2].(uint64)
	stime, ok4 := vals[3].(*big.Int)
	pub, ok5 := vals[4].(*big.Int)
	count, ok6 := vals[5].(*big.Int)
	reserves, ok7 := vals[6].(uint64)
	lc, ok8 := vals[7].(*big.Int)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8) || lc.BitLen() > 256 {
		return Latest{}, errors.New("registry.latestAttestation: unexpected result types")
	}
	return Latest{Cycle: cycle, Hash: hash, SnapshotEpoch: epoch, SnapshotTime: stime.Uint64(),
		PublishedAt: pub.Uint64(), Count: count.Uint64(), ReservesBlock: reserves, LC: common.BigToHash(lc)}, nil
}

// ReservesAge returns how many blocks the latest attestation's reserves block lies behind the
// chain's current block, and that reserves block (both 0 before the first attestation).
func (r *Registry) ReservesAge(ctx context.Context) (ageBlocks, reservesBlock uint64, err error) {
	vals, err := r.call(ctx, common.Address{}, "reservesAge")
	if err != nil {
		return 0, 0, err
	}
	if len(vals) != 2 {
		return 0, 0, fmt.Errorf("registry.reservesAge: %d results", len(vals))
	}
	age, ok1 := vals[0].(*big.Int)
	block, ok2 := vals[1].(uint64)
	if !ok1 || !ok2 || !age.IsUint64() {
		return 0, 0, errors.New("registry.reservesAge: unexpected result types")
	}
	return age.Uint64(), block, nil
}

// Delay returns the registry's immutable governance delay: how long every announced change
// waits before it can be applied.
func (r *Registry) Delay(ctx context.Context) (time.Duration, error) {
	d, err := one[*big.Int](r.call(ctx, common.Address{}, "delay"))
	if err != nil {
		return 0, err
	}
	if !d.IsInt64() || d.Int64() > int64(MaxDelay/time.Second) {
		return 0, fmt.Errorf("registry.delay: %s seconds is out of range", d)
	}
	return time.Duration(d.Int64()) * time.Second, nil
}

// MaxReservesAge returns the registry's immutable limit, in blocks, on a statement's reserves
// block age.
func (r *Registry) MaxReservesAge(ctx context.Context) (uint64, error) {
	n, err := one[*big.Int](r.call(ctx, common.Address{}, "maxReservesAge"))
	if err != nil {
		return 0, err
	}
	if !n.IsUint64() {
		return 0, fmt.Errorf("registry.maxReservesAge: %s is out of range", n)
	}
	return n.Uint64(), nil
}

// AttestationHash returns the stored hash of cycle's attestation; zero when none is recorded.
func (r *Registry) AttestationHash(ctx context.Context, cycle uint64) (common.Hash, error) {
	h, err := one[[32]byte](r.call(ctx, common.Address{}, "attestationHash", cycle))
	return h, err
}

// Count returns the number of attestations recorded.
func (r *Registry) Count(ctx context.Context) (uint64, error) {
	n, err := one[*big.Int](r.call(ctx, common.Address{}, "attestationCount"))
	if err != nil {
		return 0, err
	}
	return n.Uint64(), nil
}

// IsFresh reports whether an attestation exists that was published at most maxAgeSeconds ago.
func (r *Registry) IsFresh(ctx context.Context, maxAgeSeconds uint64) (bool, error) {
	return one[bool](r.call(ctx, common.Address{}, "isFresh", new(big.Int).SetUint64(maxAgeSeconds)))
}

// PolicyHash returns the policy hash in force (zero if none is); an announced one is not in
// force until applied (PendingChanges).
func (r *Registry) PolicyHash(ctx context.Context) (common.Hash, error) {
	h, err := one[[32]byte](r.call(ctx, common.Address{}, "policyHash"))
	return h, err
}

// Verifier returns the immutable verifier address.
func (r *Registry) Verifier(ctx context.Context) (common.Address, error) {
	return one[common.Address](r.call(ctx, common.Address{}, "verifier"))
}

// Prover returns the address allowed to publish.
func (r *Registry) Prover(ctx context.Context) (common.Address, error) {
	return one[common.Address](r.call(ctx, common.Address{}, "prover"))
}

// Governance returns the governance address.
func (r *Registry) Governance(ctx context.Context) (common.Address, error) {
	return one[common.Address](r.call(ctx, common.Address{}, "governance"))
}

// NumAssets returns the number of assets the registry was built for.
func (r *Registry) NumAssets(ctx context.Context) (int, error) {
	n, err := one[*big.Int](r.call(ctx, common.Address{}, "numAssets"))
	if err != nil {
		return 0, err
	}
	return int(n.Int64()), nil
}

// FeedConfig is one registered oracle.
type FeedConfig struct {
	Aggregator common.Address `json:"aggregator"`
	Heartbeat  uint32         `json:"heartbeat"`
}

// Feed returns asset slot i's registered feed.
func (r *Registry) Feed(ctx context.Context, i int) (FeedConfig, error) {
	vals, err := r.call(ctx, common.Address{}, "feed", big.NewInt(int64(i)))
	if err != nil {
		return FeedConfig{}, err
	}
	if len(vals) != 2 {
		return FeedConfig{}, fmt.Errorf("registry.feed: %d results", len(vals))
	}
	a, ok1 := vals[0].(common.Address)
	hb, ok2 := vals[1].(uint32)
	if !ok1 || !ok2 {
		return FeedConfig{}, errors.New("registry.feed: unexpected result types")
	}
	return FeedConfig{Aggregator: a, Heartbeat: hb}, nil
}

// LastRound returns the round id the latest attestation named for asset slot i's feed (0 before
// the first attestation and after the slot's feed was replaced). The registry takes only each
// feed's latest round, and never one below this (P2).
func (r *Registry) LastRound(ctx context.Context, i int) (*big.Int, error) {
	return one[*big.Int](r.call(ctx, common.Address{}, "lastRound", big.NewInt(int64(i))))
}

// statementABI mirrors SolvencyRegistry.Statement for ABI encoding (field names follow the
// ABI's, camel-cased).
type statementABI struct {
	PolicyHash    [32]byte
	Lc            *big.Int
	Rc            *big.Int
	Cycle         uint64
	ReservesBlock uint64
	SnapshotEpoch uint64
	SnapshotTime  *big.Int
	RoundIds      []*big.Int
	Prices        []uint64
	BundleDigest  [32]byte
	BundleUri     string
}

func toStatementABI(a *Attestation) statementABI {
	return statementABI{
		PolicyHash:    a.PolicyHash.Bytes(),
		Lc:            a.LC.BigInt(new(big.Int)),
		Rc:            a.RC.BigInt(new(big.Int)),
		Cycle:         a.Cycle,
		ReservesBlock: a.ReservesBlock,
		SnapshotEpoch: a.SnapshotEpoch,
		SnapshotTime:  new(big.Int).SetUint64(a.SnapshotTime),
		RoundIds:      a.RoundIDs,
		Prices:        a.Prices,
		BundleDigest:  a.BundleDigest,
		BundleUri:     a.BundleURI,
	}
}

// PublishCalldata encodes publish(statement, proof) for a.
func (r *Registry) PublishCalldata(a *Attestation) ([]byte, error) {
	data, err := r.abi.Pack("publish", toStatementABI(a), a.Proof)
	if err != nil {
		return nil, fmt.Errorf("encode publish: %w", err)
	}
	return data, nil
}

// PublicInputs asks the registry which public inputs it would verify a's proof against now,
// running every statement and oracle check publish makes (a revert comes back as *RevertError).
func (r *Registry) PublicInputs(ctx context.Context, a *Attestation) ([]*big.Int, error) {
	return one[[]*big.Int](r.call(ctx, common.Address{}, "publicInputs", toStatementABI(a)))
}

// Record is a recorded attestation, recovered from its event and checked against the hash in
// storage.
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
	// Hash is keccak256 of the event data; it equals the registry's attestationHash(cycle).
	Hash   common.Hash
	TxHash common.Hash
}

// recordABI mirrors SolvencyRegistry.Record for ABI decoding.
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

// Statement is the record's statement, for attest.Match (the one comparison of a statement with
// a record: every statement field and the bundle digest; not the proof, which is malleable and
// not recorded, nor the URI, which says where the bundle is, not what it says).
func (rec *Record) Statement() *attest.Statement {
	return &attest.Statement{
		Cycle: rec.Cycle, ReservesBlock: rec.ReservesBlock, SnapshotEpoch: rec.SnapshotEpoch, SnapshotTime: rec.SnapshotTime,
		PolicyHash: rec.PolicyHash, LC: rec.LC, RC: rec.RC, Prices: rec.Prices, RoundIDs: rec.RoundIDs,
		BundleDigest: rec.BundleDigest,
	}
}

// Statement is the attestation's statement, for attest.Match.
func (a *Attestation) Statement() *attest.Statement {
	return &attest.Statement{
		Cycle: a.Cycle, ReservesBlock: a.ReservesBlock, SnapshotEpoch: a.SnapshotEpoch, SnapshotTime: a.SnapshotTime,
		PolicyHash: a.PolicyHash, LC: a.LC, RC: a.RC, Prices: a.Prices, RoundIDs: a.RoundIDs,
		BundleDigest: a.BundleDigest,
	}
}

// MarshalJSON writes the record with integers as decimal strings and field elements in
// canonical hex.
func (rec *Record) MarshalJSON() ([]byte, error) {
	prices := make([]string, len(rec.Prices))
	for i, p := range rec.Prices {
		prices[i] = strconv.FormatUint(p, 10)
	}
	rounds := make([]string, len(rec.RoundIDs))
	for i, r := range rec.RoundIDs {
		rounds[i] = r.String()
	}
	return json.Marshal(struct {
		Cycle          uint64      `json:"cycle,string"`
		ReservesBlock  uint64      `json:"reservesBlock,string"`
		SnapshotEpoch  uint64      `json:"snapshotEpoch,string"`
		SnapshotTime   uint64      `json:"snapshotTime,string"`
		PublishedAt    uint64      `json:"publishedAt,string"`
		PublishedBlock uint64      `json:"publishedBlock,string"`
		PolicyHash     fieldHex    `json:"policyHash"`
		LC             fieldHex    `json:"lc"`
		RC             fieldHex    `json:"rc"`
		Prices         []string    `json:"prices"`
		RoundIDs       []string    `json:"roundIds"`
		BundleDigest   common.Hash `json:"bundleDigest"`
		BundleURI      string      `json:"bundleUri"`
		Hash           common.Hash `json:"attestationHash"`
		TxHash         common.Hash `json:"txHash"`
	}{rec.Cycle, rec.ReservesBlock, rec.SnapshotEpoch, rec.SnapshotTime, rec.PublishedAt, rec.PublishedBlock,
		fieldHex{rec.PolicyHash}, fieldHex{rec.LC}, fieldHex{rec.RC},
		prices, rounds, rec.BundleDigest, rec.BundleURI, rec.Hash, rec.TxHash})
}

func fieldFromBytes(b []byte) (fr.Element, error) {
	var e fr.Element
	v := new(big.Int).SetBytes(b)
	if v.Cmp(fr.Modulus()) >= 0 {
		return e, fmt.Errorf("value %x is not below the BN254 scalar field modulus", b)
	}
	e.SetBigInt(v)
	return e, nil
}

// parseRecord decodes an AttestationPublished log and checks its hash topic against its data.
func (r *Registry) parseRecord(l types.Log) (*Record, error) {
	ev := r.abi.Events[EventAttestationPublished]
	if len(l.Topics) != 3 || l.Topics[0] != ev.ID {
		return nil, fmt.Errorf("log %s/%d is not an %s event", l.TxHash.Hex(), l.Index, EventAttestationPublished)
	}
	h := crypto.Keccak256Hash(l.Data)
	if h != l.Topics[2] {
		return nil, fmt.Errorf("event in %s: data hash %s differs from its hash topic %s", l.TxHash.Hex(), h.Hex(), l.Topics[2].Hex())
	}
	var out struct{ Record recordABI }
	vals, err := ev.Inputs.NonIndexed().Unpack(l.Data)
	if err != nil {
		return nil, fmt.Errorf("decode %s event: %w", EventAttestationPublished, err)
	}
	if err := ev.Inputs.NonIndexed().Copy(&out, vals); err != nil {
		return nil, fmt.Errorf("decode %s event: %w", EventAttestationPublished, err)
	}
	ra := out.Record
	rec := &Record{
		Cycle: ra.Cycle, ReservesBlock: ra.ReservesBlock, SnapshotEpoch: ra.SnapshotEpoch,
		SnapshotTime: ra.SnapshotTime.Uint64(), PublishedAt: ra.PublishedAt.Uint64(), PublishedBlock: ra.PublishedBlock,
		Prices: ra.Prices, RoundIDs: ra.RoundIds, BundleDigest: ra.BundleDigest, BundleURI: ra.BundleUri,
		Hash: h, TxHash: l.TxHash,
	}
	if rec.PolicyHash, err = fieldFromBytes(ra.PolicyHash[:]); err != nil {
		return nil, fmt.Errorf("event policy hash: %w", err)
	}
	if rec.LC, err = fieldFromBytes(ra.Lc.Bytes()); err != nil {
		return nil, fmt.Errorf("event LC: %w", err)
	}
	if rec.RC, err = fieldFromBytes(ra.Rc.Bytes()); err != nil {
		return nil, fmt.Errorf("event RC: %w", err)
	}
	if common.BigToHash(new(big.Int).SetUint64(rec.Cycle)) != l.Topics[1] {
		return nil, fmt.Errorf("event in %s: cycle topic differs from its record", l.TxHash.Hex())
	}
	return rec, nil
}

// ErrNoAttestation means the registry has no attestation for the cycle asked.
var ErrNoAttestation = errors.New("no attestation recorded")

// Record recovers cycle's attestation from its event and checks it against the hash in storage,
// so a node serving a forged or stale log is caught.
func (r *Registry) Record(ctx context.Context, cycle uint64) (*Record, error) {
	stored, err := r.AttestationHash(ctx, cycle)
	if err != nil {
		return nil, err
	}
	if stored == (common.Hash{}) {
		return nil, fmt.Errorf("cycle %d: %w", cycle, ErrNoAttestation)
	}
	ev := r.abi.Events[EventAttestationPublished]
	logs, err := r.backend.FilterLogs(ctx, ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(r.FromBlock),
		Addresses: []common.Address{r.Address},
		Topics:    [][]common.Hash{{ev.ID}, {common.BigToHash(new(big.Int).SetUint64(cycle))}, {stored}},
	})
	if err != nil {
		return nil, fmt.Errorf("cycle %d: read events: %w", cycle, err)
	}
	for _, l := range logs {
		if l.Removed {
			continue
		}
		rec, err := r.parseRecord(l)
		if err != nil {
			return nil, fmt.Errorf("cycle %d: %w", cycle, err)
		}
		if rec.Hash == stored && rec.Cycle == cycle {
			return rec, nil
		}
	}
	return nil, fmt.Errorf("cycle %d: the registry stores hash %s but no matching event was found from block %d",
		cycle, stored.Hex(), r.FromBlock)
}

// Records returns every attestation event from FromBlock on, each checked against storage.
func (r *Registry) Records(ctx context.Context) ([]*Record, error) {
	ev := r.abi.Events[EventAttestationPublished]
	logs, err := r.backend.FilterLogs(ctx, ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(r.FromBlock),
		Addresses: []common.Address{r.Address},
		Topics:    [][]common.Hash{{ev.ID}},
	})
	if err != nil {
		return nil, fmt.Errorf("read attestation events: %w", err)
	}
	var out []*Record
	for _, l := range logs {
		if l.Removed {
			continue
		}
		rec, err := r.parseRecord(l)
		if err != nil {
			return nil, err
		}
		stored, err := r.AttestationHash(ctx, rec.Cycle)
		if err != nil {
			return nil, err
		}
		if stored != rec.Hash {
			return nil, fmt.Errorf("cycle %d: event hash %s differs from stored %s", rec.Cycle, rec.Hash.Hex(), stored.Hex())
		}
		out = append(out, rec)
	}
	return out, nil
}

// PublishResult says what Publish did.
type PublishResult struct {
	Cycle            uint64      `json:"cycle,string"`
	AlreadyPublished bool        `json:"alreadyPublished"`
	AttestationHash  common.Hash `json:"attestationHash"`
	TxHash           common.Hash `json:"txHash"`
	BlockNumber      uint64      `json:"blockNumber,string"`
	GasUsed          uint64      `json:"gasUsed,string"`
}

// ErrRoundSuperseded means a price feed has posted a newer round than the statement names: the
// registry takes only each feed's latest round (P2), so the cycle must be proven again at the
// latest rounds. Publish returns it (wrapped) before sending anything, or when the registry
// refuses with RoundNotLatest because a feed moved on while the transaction was under way.
var ErrRoundSuperseded = errors.New("a price feed has a newer round than the statement names; prove the cycle again at the latest rounds")

// CheckRounds compares the statement's round ids with each registered feed's latest round and
// returns ErrRoundSuperseded (wrapped, naming the assets) when any feed has moved on. A feed that
// cannot answer is left to the registry, which refuses it by name.
func (r *Registry) CheckRounds(ctx context.Context, a *Attestation) error {
	latest, err := r.FeedRounds(ctx)
	if err != nil {
		return fmt.Errorf("read the feeds' latest rounds: %w", err)
	}
	if len(latest) != len(a.RoundIDs) {
		return fmt.Errorf("the registry has %d feeds; the statement names %d rounds", len(latest), len(a.RoundIDs))
	}
	var moved []string
	for i, p := range latest {
		if p.LatestRound != nil && p.LatestRound.Cmp(a.RoundIDs[i]) != 0 {
			moved = append(moved, fmt.Sprintf("asset %d: statement round %s, latest %s", i, a.RoundIDs[i], p.LatestRound))
		}
	}
	if len(moved) > 0 {
		return fmt.Errorf("%w (%s)", ErrRoundSuperseded, strings.Join(moved, "; "))
	}
	return nil
}

// ErrCycleConflict means the registry already holds a different statement for the cycle, or a
// later cycle: publishing this one can never succeed.
var ErrCycleConflict = errors.New("cycle conflicts with the registry")

// Publish records a on chain, idempotently by cycle (V6): it first asks the registry whether
// the cycle is recorded, returns the existing record's result when it holds the same statement,
// and refuses when it holds another or a later cycle. It never keys on the transaction hash or
// the proof bytes (Groth16 proofs are malleable).
func (r *Registry) Publish(ctx context.Context, c *Chain, a *Attestation) (*PublishResult, error) {
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("publish cycle %d: %w", a.Cycle, err)
	}
	stored, err := r.AttestationHash(ctx, a.Cycle)
	if err != nil {
		return nil, fmt.Errorf("publish cycle %d: %w", a.Cycle, err)
	}
	if stored != (common.Hash{}) {
		rec, err := r.Record(ctx, a.Cycle)
		if err != nil {
			return nil, fmt.Errorf("publish cycle %d: already recorded, but: %w", a.Cycle, err)
		}
		err = attest.Match(rec.Statement(), a.Statement())
		if err == nil && rec.BundleURI != a.BundleURI {
			// Not part of the statement, but the operator should learn where users are sent.
			err = fmt.Errorf("bundle URI %q, recorded %q", a.BundleURI, rec.BundleURI)
		}
		if err != nil {
			return nil, fmt.Errorf("publish cycle %d: %w: it already records a different statement (hash %s): %v",
				a.Cycle, ErrCycleConflict, stored.Hex(), err)
		}
		return &PublishResult{Cycle: a.Cycle, AlreadyPublished: true, AttestationHash: stored, TxHash: rec.TxHash,
			BlockNumber: rec.PublishedBlock}, nil
	}
	latest, err := r.LatestAttestation(ctx)
	if err != nil {
		return nil, fmt.Errorf("publish cycle %d: %w", a.Cycle, err)
	}
	if latest.Count > 0 && latest.Cycle >= a.Cycle {
		return nil, fmt.Errorf("publish cycle %d: %w: the latest recorded cycle is %d", a.Cycle, ErrCycleConflict, latest.Cycle)
	}
	if err := r.CheckRounds(ctx, a); err != nil {
		return nil, fmt.Errorf("publish cycle %d: %w", a.Cycle, err)
	}
	data, err := r.PublishCalldata(a)
	if err != nil {
		return nil, err
	}
	rcpt, err := c.transact(ctx, r.Address, r.abi, data)
	if err != nil {
		var re *RevertError
		if errors.As(err, &re) {
			// The revert came from estimation; re-decode with every known error set.
			err = decodeRevert(re.Err, r.errABIs...)
		}
		if RevertName(err) == "RoundNotLatest" {
			// A feed moved on between CheckRounds and the transaction.
			return nil, fmt.Errorf("publish cycle %d: %w: %w", a.Cycle, ErrRoundSuperseded, err)
		}
		return nil, fmt.Errorf("publish cycle %d: %w", a.Cycle, err)
	}
	res := &PublishResult{Cycle: a.Cycle, TxHash: rcpt.TxHash, BlockNumber: rcpt.BlockNumber.Uint64(), GasUsed: rcpt.GasUsed}
	for _, l := range rcpt.Logs {
		if l.Address == r.Address && len(l.Topics) == 3 && l.Topics[0] == r.abi.Events[EventAttestationPublished].ID {
			res.AttestationHash = l.Topics[2]
		}
	}
	if res.AttestationHash == (common.Hash{}) {
		return nil, fmt.Errorf("publish cycle %d: transaction %s emitted no attestation event", a.Cycle, rcpt.TxHash.Hex())
	}
	return res, nil
}

func (r *Registry) send(ctx context.Context, c *Chain, method string, args ...any) error {
	data, err := r.abi.Pack(method, args...)
	if err != nil {
		return fmt.Errorf("registry.%s: encode: %w", method, err)
	}
	if _, err := c.transact(ctx, r.Address, r.abi, data); err != nil {
		return fmt.Errorf("registry.%s: %w", method, err)
	}
	return nil
}
