package contracts

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/circuits/statement"
	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
)

// Statement layout constants (docs/design.md, "The solvency statement"). The packing and price
// constants are circuits/statement's, the one implementation the circuit and the verifier share.
const (
	// FixedPublicInputs counts policyHash, LC, RC and meta.
	FixedPublicInputs = statement.FixedInputs
	// PricesPerWord is the number of 63-bit price limbs packed into one public input.
	PricesPerWord = statement.PricesPerWord
	// PriceLimbBits is the width of one packed price; every normalised price is below 2^63.
	PriceLimbBits = statement.PriceBits
	// PriceDecimals is the number of decimals every price is normalised to (USD, 8 decimals).
	PriceDecimals = statement.PriceDecimals
	// MaxFeedDecimals is the largest feed decimals the registry accepts.
	MaxFeedDecimals = statement.MaxFeedDecimals
	// MaxAssets is the registry's bound on the number of assets.
	MaxAssets = 64
	// MaxURIBytes bounds the bundle URI (the registry's MAX_URI_BYTES).
	MaxURIBytes = 512
	// MaxSnapshotTime bounds snapshotTime, a 40-bit field of meta.
	MaxSnapshotTime = statement.MaxSnapshotTime
)

// NumPublicInputs is the solvency circuit's public input count for numAssets assets:
// 4 + ceil(numAssets/4).
func NumPublicInputs(numAssets int) (int, error) {
	if numAssets < 1 || numAssets > MaxAssets {
		return 0, fmt.Errorf("number of assets %d is outside [1, %d]", numAssets, MaxAssets)
	}
	return FixedPublicInputs + statement.NumPriceWords(numAssets), nil
}

// Attestation is one cycle's statement and its proof, as Publish takes it. Field elements are
// canonical BN254 scalars; Prices are normalised to 8 decimals; RoundIDs name each asset's
// Chainlink round (uint80), in the asset table's slot order (Registry.LatestPrices gives both).
// The registry takes only each feed's latest round at publish time, never below the round the
// previous attestation recorded for that feed (P2): a statement whose feed has moved on since it
// was built must be proven again (Registry.CheckRounds says so before anything is sent).
// The registry refuses a SnapshotTime after the latest block's time and a ReservesBlock after
// the latest block: on a dev chain that seals blocks only on demand, take both from the chain's
// head, not from the wall clock.
type Attestation struct {
	Cycle         uint64
	ReservesBlock uint64
	SnapshotEpoch uint64
	SnapshotTime  uint64 // unix seconds, below 2^40
	PolicyHash    fr.Element
	LC            fr.Element
	RC            fr.Element
	RoundIDs      []*big.Int
	Prices        []uint64
	BundleDigest  common.Hash
	BundleURI     string
	Proof         []byte // ProofLength bytes, as SolidityProof returns
}

var maxRoundID = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 80), big.NewInt(1))

// Validate checks the statement's shape: counts, ranges and proof length.
func (a *Attestation) Validate() error {
	if len(a.Prices) == 0 || len(a.Prices) > MaxAssets {
		return fmt.Errorf("statement has %d prices; want 1 to %d", len(a.Prices), MaxAssets)
	}
	if len(a.RoundIDs) != len(a.Prices) {
		return fmt.Errorf("statement has %d round ids for %d prices", len(a.RoundIDs), len(a.Prices))
	}
	for i, r := range a.RoundIDs {
		if r == nil || r.Sign() <= 0 || r.Cmp(maxRoundID) > 0 {
			return fmt.Errorf("round id %d (%v) is not in [1, 2^80)", i, r)
		}
	}
	for i, p := range a.Prices {
		if p == 0 || p >= 1<<PriceLimbBits {
			return fmt.Errorf("price %d (%d) is outside [1, 2^63)", i, p)
		}
	}
	if a.SnapshotTime > MaxSnapshotTime {
		return fmt.Errorf("snapshot time %d does not fit 40 bits", a.SnapshotTime)
	}
	if len(a.Proof) != ProofLength {
		return fmt.Errorf("proof is %d bytes; want %d", len(a.Proof), ProofLength)
	}
	if len(a.BundleURI) > MaxURIBytes {
		return fmt.Errorf("bundle URI is %d bytes; at most %d", len(a.BundleURI), MaxURIBytes)
	}
	return nil
}

// PublicInputs returns the solvency circuit's public inputs for the attestation, in order,
// exactly the words SolvencyRegistry builds: policyHash, LC, RC, meta, packed prices
// (statement.PublicInputs, shared with the circuit and the verifier).
func (a *Attestation) PublicInputs() ([]*big.Int, error) {
	return statement.PublicInputs(a.PolicyHash.BigInt(new(big.Int)), a.LC.BigInt(new(big.Int)), a.RC.BigInt(new(big.Int)),
		statement.Meta{Cycle: a.Cycle, ReservesBlock: a.ReservesBlock, SnapshotEpoch: a.SnapshotEpoch, SnapshotTime: a.SnapshotTime},
		a.Prices)
}

// StatementFileName is the name of the statement file inside a bundle directory that
// `solvency publish BUNDLE` reads.
const StatementFileName = "statement.json"

// StatementVersion is the version of the statement.json schema.
const StatementVersion = 1

// fieldHex is a field element in JSON as 0x + 64 lowercase hex digits, parsed with canonical
// checks (V3). It defines MarshalJSON itself: poseidon.Element embeds fr.Element, whose promoted
// MarshalJSON/UnmarshalJSON (decimal numbers, reduced mod p) would win over its MarshalText.
type fieldHex struct{ e fr.Element }

// MarshalJSON implements json.Marshaler.
func (f fieldHex) MarshalJSON() ([]byte, error) { return json.Marshal(poseidon.Hex(f.e)) }

// UnmarshalJSON implements json.Unmarshaler.
func (f *fieldHex) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("field element: want a 0x-prefixed hex string: %w", err)
	}
	e, err := poseidon.ParseHex(s)
	if err != nil {
		return err
	}
	f.e = e
	return nil
}

// decimalU64 is a uint64 in JSON as a canonical decimal string (no sign, no leading zeros), so
// JavaScript clients read values above 2^53 exactly and every value has one encoding.
type decimalU64 uint64

// MarshalJSON implements json.Marshaler.
func (d decimalU64) MarshalJSON() ([]byte, error) {
	return json.Marshal(strconv.FormatUint(uint64(d), 10))
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *decimalU64) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a decimal string: %w", err)
	}
	v, err := parseDecimalU64(s)
	if err != nil {
		return err
	}
	*d = decimalU64(v)
	return nil
}

func parseDecimalU64(s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || strconv.FormatUint(v, 10) != s {
		return 0, fmt.Errorf("%q is not a canonical decimal integer below 2^64", s)
	}
	return v, nil
}

// statementJSON is statement.json. Integers that may exceed 2^53 are decimal strings so that
// JavaScript clients read them exactly; field elements are 0x + 64 lowercase hex digits, refused
// when >= p (V3).
type statementJSON struct {
	Version       int           `json:"version"`
	Cycle         decimalU64    `json:"cycle"`
	ReservesBlock decimalU64    `json:"reservesBlock"`
	SnapshotEpoch decimalU64    `json:"snapshotEpoch"`
	SnapshotTime  decimalU64    `json:"snapshotTime"`
	PolicyHash    *fieldHex     `json:"policyHash"`
	LC            *fieldHex     `json:"lc"`
	RC            *fieldHex     `json:"rc"`
	RoundIDs      []string      `json:"roundIds"`
	Prices        []string      `json:"prices"`
	BundleDigest  *common.Hash  `json:"bundleDigest"`
	BundleURI     string        `json:"bundleUri"`
	Proof         hexutil.Bytes `json:"proof"`
}

// MarshalJSON writes the statement.json form.
func (a *Attestation) MarshalJSON() ([]byte, error) {
	s := statementJSON{
		Version:       StatementVersion,
		Cycle:         decimalU64(a.Cycle),
		ReservesBlock: decimalU64(a.ReservesBlock),
		SnapshotEpoch: decimalU64(a.SnapshotEpoch),
		SnapshotTime:  decimalU64(a.SnapshotTime),
		PolicyHash:    &fieldHex{a.PolicyHash},
		LC:            &fieldHex{a.LC},
		RC:            &fieldHex{a.RC},
		BundleDigest:  &a.BundleDigest,
		BundleURI:     a.BundleURI,
		Proof:         a.Proof,
	}
	for _, r := range a.RoundIDs {
		s.RoundIDs = append(s.RoundIDs, r.String())
	}
	for _, p := range a.Prices {
		s.Prices = append(s.Prices, strconv.FormatUint(p, 10))
	}
	return json.Marshal(s)
}

// UnmarshalJSON reads the statement.json form strictly: unknown fields, missing fields and
// non-canonical numbers are errors.
func (a *Attestation) UnmarshalJSON(b []byte) error {
	return a.decode("statement", b)
}

// decode reads the statement.json form named name strictly (see jsonstrict): every field is
// required, and unknown, duplicate and case-variant keys, null and trailing data are errors.
func (a *Attestation) decode(name string, b []byte) error {
	var s statementJSON
	if err := jsonstrict.Unmarshal(name, b, &s); err != nil {
		return err
	}
	if s.Version != StatementVersion {
		return fmt.Errorf("statement: version %d; this build reads version %d", s.Version, StatementVersion)
	}
	if s.PolicyHash == nil || s.LC == nil || s.RC == nil || s.BundleDigest == nil {
		return errors.New("statement: policyHash, lc, rc and bundleDigest are required")
	}
	out := Attestation{
		Cycle:         uint64(s.Cycle),
		ReservesBlock: uint64(s.ReservesBlock),
		SnapshotEpoch: uint64(s.SnapshotEpoch),
		SnapshotTime:  uint64(s.SnapshotTime),
		PolicyHash:    s.PolicyHash.e,
		LC:            s.LC.e,
		RC:            s.RC.e,
		BundleDigest:  *s.BundleDigest,
		BundleURI:     s.BundleURI,
		Proof:         s.Proof,
	}
	for i, r := range s.RoundIDs {
		v, ok := new(big.Int).SetString(r, 10)
		if !ok || v.String() != r {
			return fmt.Errorf("statement: round id %d %q is not a canonical decimal integer", i, r)
		}
		out.RoundIDs = append(out.RoundIDs, v)
	}
	for i, p := range s.Prices {
		v, err := parseDecimalU64(p)
		if err != nil {
			return fmt.Errorf("statement: price %d: %w", i, err)
		}
		out.Prices = append(out.Prices, v)
	}
	if err := out.Validate(); err != nil {
		return fmt.Errorf("statement: %w", err)
	}
	*a = out
	return nil
}

// ReadStatementFile reads and validates a statement.json file.
func ReadStatementFile(path string) (*Attestation, error) {
	raw, err := boundedfile.ReadFile(path, boundedfile.Statement)
	if err != nil {
		return nil, err
	}
	var a Attestation
	if err := a.decode(path, raw); err != nil {
		return nil, err
	}
	return &a, nil
}

// WriteStatementFile writes a statement.json file atomically.
func WriteStatementFile(path string, a *Attestation) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("write statement: %w", err)
	}
	raw, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return fmt.Errorf("write statement: %w", err)
	}
	return atomicfile.WriteFile(path, append(raw, '\n'), 0o644)
}
