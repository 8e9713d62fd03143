package verifier

// Reserves (R1). The solvency proof shows that the portfolio committed in RC meets the policy; it
// does not show that the treasury holds that portfolio. An auditor given RC's opening (the file
// the prover writes privately, reserves-opening-NNNNNN.json) recomputes RC from it, compares it
// with the statement's RC (the bundle's, the registry's), and compares every opened
// (venue, asset) amount with the balance they observe on chain at the statement's reserves block.
// When every check holds they can countersign (cycle, RC, block).

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/circuits/poseidon"
	"github.com/solvency-dev/solvency/circuits/solvency"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
)

// ObservedBalancesVersion is the observed-balances file format this code reads.
const ObservedBalancesVersion = 1

// maxRecordIndex is the largest venue or asset index an 81-bit RC record holds (8 bits each).
const maxRecordIndex = 255

// ErrReservesMismatch marks a reserves check that ran and failed (exit code 1): the opening does
// not open the statement's RC, names another cycle or block, or claims more than the chain shows.
// Any other error from this file means the input could not be checked at all (exit code 2).
var ErrReservesMismatch = errors.New("reserves check failed")

// mismatchError is a failed comparison: errors.Is(err, ErrReservesMismatch) holds, and its text
// is the comparison's alone.
type mismatchError struct{ msg string }

func (e *mismatchError) Error() string        { return e.msg }
func (e *mismatchError) Is(target error) bool { return target == ErrReservesMismatch }

func mismatch(format string, args ...any) error {
	return &mismatchError{fmt.Sprintf(format, args...)}
}

// OpenedReserves is a parsed opening: every value canonical and within the RC record's ranges.
type OpenedReserves struct {
	Cycle     uint64
	Block     uint64
	RC        fr.Element // the RC the opening claims to open
	Salt      fr.Element
	Slots     int // 0 when the file does not say
	Positions []solvency.Position
	Assets    []assets.Asset
	Venues    []solvency.Venue
	Chain     *bundle.ChainMap
	// Options and pool shares, with the slot counts RC pads them to (from the opening; RC commits
	// to the counts, and CheckReserves compares them with the bundle profile's when it can).
	OptionSlots, PoolSlots int
	Options                []solvency.OptionPosition
	Pools                  []solvency.PoolPosition
}

var signedDecimalRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

// ParseSignedUnits parses a canonical signed decimal integer: no sign on zero, no '+', no leading
// zeros, no spaces, no exponent. A negative amount is a short or a borrow. Magnitudes of maxBits
// bits or more are refused (0: no bound beyond 256 bits).
func ParseSignedUnits(s string, maxBits uint) (*big.Int, error) {
	if len(s) > 80 || !signedDecimalRE.MatchString(s) || s == "-0" {
		return nil, fmt.Errorf("amount %q is not a canonical signed decimal integer", s)
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, fmt.Errorf("amount %q is not a canonical signed decimal integer", s)
	}
	if maxBits == 0 {
		maxBits = 256
	}
	if v.CmpAbs(new(big.Int).Lsh(big.NewInt(1), maxBits)) >= 0 {
		return nil, fmt.Errorf("amount %s is not below 2^%d in magnitude", s, maxBits)
	}
	return v, nil
}

// ParseOpening checks every field of an opening canonically: RC and salt as canonical field elements (V3), amounts
// as canonical signed decimals below 2^64 in magnitude, venue and asset indices in [0, 255] and
// inside the opening's own venue and asset tables when it carries them.
func ParseOpening(o *bundle.ReservesOpening) (*OpenedReserves, error) {
	out := &OpenedReserves{Cycle: o.Cycle, Block: o.Block, Slots: o.Slots, Assets: o.Assets, Venues: o.Venues, Chain: o.Chain}
	var err error
	if out.RC, err = poseidon.ParseHex(o.RC); err != nil {
		return nil, fmt.Errorf("rc: %w", err)
	}
	if out.Salt, err = poseidon.ParseHex(o.Salt); err != nil {
		return nil, fmt.Errorf("salt: %w", err)
	}
	if o.Slots < 0 {
		return nil, fmt.Errorf("slots %d is negative", o.Slots)
	}
	if len(o.Assets) > 0 {
		t := assets.Table{Assets: o.Assets}
		if err := t.Validate(); err != nil {
			return nil, fmt.Errorf("assets: %w", err)
		}
	}
	for i, p := range o.Positions {
		if p.Venue < 0 || p.Venue > maxRecordIndex || (len(o.Venues) > 0 && p.Venue >= len(o.Venues)) {
			return nil, fmt.Errorf("positions[%d]: venue %d is outside the venue table (%d venues, at most %d)", i, p.Venue, len(o.Venues), maxRecordIndex+1)
		}
		if p.Asset < 0 || p.Asset > maxRecordIndex || (len(o.Assets) > 0 && p.Asset >= len(o.Assets)) {
			return nil, fmt.Errorf("positions[%d]: asset %d is outside the asset table (%d assets, at most %d)", i, p.Asset, len(o.Assets), maxRecordIndex+1)
		}
		amt, err := ParseSignedUnits(p.Amount, 64)
		if err != nil {
			return nil, fmt.Errorf("positions[%d]: %w", i, err)
		}
		out.Positions = append(out.Positions, solvency.Position{Venue: p.Venue, Asset: p.Asset, Amount: amt})
	}
	if err := parseDerivatives(o, out); err != nil {
		return nil, err
	}
	return out, nil
}

// parseDerivatives checks the opening's option and pool records canonically: indices inside the
// tables and the record's 8 bits, sizes and amounts canonical decimals in [0, 2^64), the strike
// below 2^63, the right "call" or "put", no short option of size 0 (one encoding per record), and
// no more records than slots.
func parseDerivatives(o *bundle.ReservesOpening, out *OpenedReserves) error {
	if o.OptionSlots < 0 || o.OptionSlots > solvency.MaxShapeOptions || o.PoolSlots < 0 || o.PoolSlots > solvency.MaxShapePools {
		return fmt.Errorf("option slots %d or pool slots %d out of range [0, %d] and [0, %d]", o.OptionSlots, o.PoolSlots, solvency.MaxShapeOptions, solvency.MaxShapePools)
	}
	if len(o.Options) > o.OptionSlots || len(o.Pools) > o.PoolSlots {
		return mismatch("the opening has %d options and %d pool shares for %d and %d slots", len(o.Options), len(o.Pools), o.OptionSlots, o.PoolSlots)
	}
	out.OptionSlots, out.PoolSlots = o.OptionSlots, o.PoolSlots
	venue := func(v int) bool { return v >= 0 && v <= maxRecordIndex && (len(o.Venues) == 0 || v < len(o.Venues)) }
	asset := func(a int) bool { return a >= 0 && a <= maxRecordIndex && (len(o.Assets) == 0 || a < len(o.Assets)) }
	unsigned := func(s string, bits uint) (*big.Int, error) {
		v, err := ParseSignedUnits(s, bits)
		if err == nil && v.Sign() < 0 {
			err = fmt.Errorf("amount %s is negative", s)
		}
		return v, err
	}
	for i, p := range o.Options {
		if !venue(p.Venue) || !asset(p.Asset) {
			return fmt.Errorf("options[%d]: venue %d or asset %d is outside the tables", i, p.Venue, p.Asset)
		}
		if p.Right != "call" && p.Right != "put" {
			return fmt.Errorf("options[%d]: right %q: want call or put", i, p.Right)
		}
		size, err := unsigned(p.Size, solvency.MagBits)
		if err != nil {
			return fmt.Errorf("options[%d]: size: %w", i, err)
		}
		if p.Short && size.Sign() == 0 {
			return fmt.Errorf("options[%d]: a short option of size 0 is not a canonical record", i)
		}
		strike, err := unsigned(p.Strike, solvency.StrikeBits)
		if err != nil {
			return fmt.Errorf("options[%d]: strike: %w", i, err)
		}
		out.Options = append(out.Options, solvency.OptionPosition{Venue: p.Venue, Asset: p.Asset, Put: p.Right == "put",
			Short: p.Short, Strike: strike.Uint64(), Expiry: p.Expiry, Size: size})
	}
	for i, p := range o.Pools {
		if !venue(p.Venue) || !asset(p.AssetA) || !asset(p.AssetB) {
			return fmt.Errorf("pools[%d]: venue %d or assets %d, %d outside the tables", i, p.Venue, p.AssetA, p.AssetB)
		}
		a, err := unsigned(p.AmountA, solvency.MagBits)
		if err != nil {
			return fmt.Errorf("pools[%d]: amount A: %w", i, err)
		}
		b, err := unsigned(p.AmountB, solvency.MagBits)
		if err != nil {
			return fmt.Errorf("pools[%d]: amount B: %w", i, err)
		}
		out.Pools = append(out.Pools, solvency.PoolPosition{Venue: p.Venue, AssetA: p.AssetA, AssetB: p.AssetB, AmountA: a, AmountB: b})
	}
	return nil
}

// OpeningRC recomputes RC from parsed positions and salt, padded with zero-amount slots
// (venue 0, asset 0) up to slots, exactly as the prover and the circuit hash it. More positions
// than slots is a mismatch: such an opening cannot be the committed portfolio.
func OpeningRC(positions []solvency.Position, salt fr.Element, slots int) (fr.Element, error) {
	if slots < 1 {
		return fr.Element{}, fmt.Errorf("slots %d: the circuit has at least one position slot", slots)
	}
	if len(positions) > slots {
		return fr.Element{}, mismatch("the opening has %d positions; the circuit commits %d slots", len(positions), slots)
	}
	padded := append([]solvency.Position(nil), positions...)
	for len(padded) < slots {
		padded = append(padded, solvency.Position{Amount: new(big.Int)})
	}
	return solvency.ReservesCommitment(poseidon.NewHasher(), padded, salt)
}

// openingRC is OpeningRC with the opening's option and pool records, each padded to its slot
// count (zero records), exactly as the prover and the circuit hash them.
func (op *OpenedReserves) openingRC(slots int) (fr.Element, error) {
	if slots < 1 {
		return fr.Element{}, fmt.Errorf("slots %d: the circuit has at least one position slot", slots)
	}
	if len(op.Positions) > slots {
		return fr.Element{}, mismatch("the opening has %d positions; the circuit commits %d slots", len(op.Positions), slots)
	}
	w := solvency.Witness{Slots: slots, OptionSlots: op.OptionSlots, PoolSlots: op.PoolSlots,
		Inputs: solvency.Inputs{Positions: op.Positions, Options: op.Options, Pools: op.Pools}}
	return w.ReservesCommitment(poseidon.NewHasher(), op.Salt)
}

// CheckReservesOpening parses the opening canonically, recomputes RC over its positions padded
// to slots, and compares it with the statement's RC and with every further RC given (the
// on-chain record's). The opening's own "rc" field must name the same RC. A failed comparison
// wraps ErrReservesMismatch; any other error means the opening is unusable.
func CheckReservesOpening(o *bundle.ReservesOpening, statementRC fr.Element, slots int, more ...fr.Element) error {
	op, err := ParseOpening(o)
	if err != nil {
		return err
	}
	_, err = op.Check(statementRC, slots, more...)
	return err
}

// Check is CheckReservesOpening on a parsed opening; it returns the recomputed RC.
func (op *OpenedReserves) Check(statementRC fr.Element, slots int, more ...fr.Element) (fr.Element, error) {
	if op.Slots != 0 && op.Slots != slots {
		return fr.Element{}, fmt.Errorf("the opening says %d slots, the check was asked for %d", op.Slots, slots)
	}
	rc, err := op.openingRC(slots)
	if err != nil {
		return rc, err
	}
	if !rc.Equal(&op.RC) {
		return rc, mismatch("the positions (%d slots), options (%d slots), pool shares (%d slots) and salt hash to RC %s, but the opening names %s", slots, op.OptionSlots, op.PoolSlots, poseidon.Hex(rc), poseidon.Hex(op.RC))
	}
	if !rc.Equal(&statementRC) {
		return rc, mismatch("the opening hashes to RC %s, but the statement's RC is %s", poseidon.Hex(rc), poseidon.Hex(statementRC))
	}
	for _, m := range more {
		if !rc.Equal(&m) {
			return rc, mismatch("the opening hashes to RC %s, but the on-chain RC is %s", poseidon.Hex(rc), poseidon.Hex(m))
		}
	}
	return rc, nil
}

// ObservedBalances is what an auditor observed on chain at the reserves block, one signed amount
// per (venue, asset): positive a holding, negative a debt (a borrow, a short). It is produced by
// the auditor's own tooling from their own node; this package does not read chain state.
type ObservedBalances struct {
	Version  int               `json:"version"`
	Block    uint64            `json:"reserves_block"`
	ChainID  uint64            `json:"chain_id,omitempty"`
	Balances []ObservedBalance `json:"balances"`
}

// ObservedBalance is one observed (venue, asset) amount, given either in circuit units (the
// asset's precision, as the opening) or in on-chain base units (the token's decimals), which
// are compared exactly. Symbol, when present, must be the asset table's symbol for Asset.
type ObservedBalance struct {
	Venue       int    `json:"venue"`
	Asset       int    `json:"asset"`
	Symbol      string `json:"symbol,omitempty"`
	AmountUnits string `json:"amount_units,omitempty"`
	AmountBase  string `json:"amount_base,omitempty"`
	Source      string `json:"source,omitempty"` // free text: the call or account read
}

// ReadObservedBalances reads and strictly decodes a balances file.
func ReadObservedBalances(path string) (*ObservedBalances, error) {
	raw, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	var b ObservedBalances
	if err := jsonstrict.Unmarshal(path, raw, &b); err != nil {
		return nil, err
	}
	if b.Version != ObservedBalancesVersion {
		return nil, fmt.Errorf("%s: balances version %d; this tool reads version %d", path, b.Version, ObservedBalancesVersion)
	}
	return &b, nil
}

// Position statuses in a BalanceReport.
const (
	StatusMatch       = "match"       // opened == observed
	StatusUnderstated = "understated" // opened < observed: the commitment claims less than held (conservative)
	StatusOverstated  = "overstated"  // opened > observed: a long above the balance, a debt smaller than observed
	StatusUnobserved  = "unobserved"  // a nonzero opened amount with no observation
)

// PositionCheck is the comparison of one (venue, asset).
type PositionCheck struct {
	Venue    int    `json:"venue"`
	Asset    int    `json:"asset"`
	Symbol   string `json:"symbol,omitempty"`
	Opened   string `json:"opened_units"`             // the sum of the opening's amounts at (venue, asset)
	Observed string `json:"observed_units,omitempty"` // in circuit units (base units scaled down, exact or noted)
	Base     bool   `json:"observed_in_base_units,omitempty"`
	Status   string `json:"status"`
	OK       bool   `json:"ok"`
}

// BalanceReport is the outcome of CompareBalances.
type BalanceReport struct {
	OK        bool            `json:"ok"`
	Positions []PositionCheck `json:"positions"`
}

// Failed returns the checks that failed.
func (r *BalanceReport) Failed() []PositionCheck {
	var out []PositionCheck
	for _, p := range r.Positions {
		if !p.OK {
			out = append(out, p)
		}
	}
	return out
}

type venueAsset struct{ venue, asset int }

// CompareBalances compares every opened (venue, asset) amount with the observed one. table is
// the asset table (the bundle's, public) used for symbols and the base-unit scale. It fails a
// pair when opened > observed as signed amounts: a long above the observed balance, a short or
// borrow smaller than the observed debt, or a debt observed where the opening shows none; and
// when a nonzero opened amount has no observation. Opened amounts at one (venue, asset) are
// summed. An error (not a report) means the balances file is unusable: the wrong block, a
// duplicate pair, a symbol that is not the table's, a non-canonical amount.
func CompareBalances(op *OpenedReserves, obs *ObservedBalances, table []assets.Asset) (*BalanceReport, error) {
	if obs.Block != op.Block {
		return nil, fmt.Errorf("the balances were observed at block %d; the opening's reserves block is %d", obs.Block, op.Block)
	}
	opened := map[venueAsset]*big.Int{}
	for _, p := range op.Positions {
		if p.Asset >= len(table) {
			return nil, fmt.Errorf("opened asset %d is outside the %d-asset table", p.Asset, len(table))
		}
		k := venueAsset{p.Venue, p.Asset}
		if opened[k] == nil {
			opened[k] = new(big.Int)
		}
		opened[k].Add(opened[k], p.Amount)
	}
	type observation struct {
		v    *big.Int
		base bool
	}
	observed := map[venueAsset]observation{}
	for i, b := range obs.Balances {
		if b.Venue < 0 || b.Venue > maxRecordIndex {
			return nil, fmt.Errorf("balances[%d]: venue %d is outside [0, %d]", i, b.Venue, maxRecordIndex)
		}
		if b.Asset < 0 || b.Asset >= len(table) {
			return nil, fmt.Errorf("balances[%d]: asset %d is outside the %d-asset table", i, b.Asset, len(table))
		}
		if b.Symbol != "" && b.Symbol != table[b.Asset].Symbol {
			return nil, fmt.Errorf("balances[%d]: symbol %q, but asset %d is %s", i, b.Symbol, b.Asset, table[b.Asset].Symbol)
		}
		k := venueAsset{b.Venue, b.Asset}
		if _, dup := observed[k]; dup {
			return nil, fmt.Errorf("balances[%d]: (venue %d, asset %d) is observed twice", i, b.Venue, b.Asset)
		}
		if (b.AmountUnits == "") == (b.AmountBase == "") {
			return nil, fmt.Errorf("balances[%d]: give exactly one of amount_units and amount_base", i)
		}
		var o observation
		var err error
		if b.AmountBase != "" {
			o.v, err = ParseSignedUnits(b.AmountBase, 0)
			o.base = true
		} else {
			o.v, err = ParseSignedUnits(b.AmountUnits, 0)
		}
		if err != nil {
			return nil, fmt.Errorf("balances[%d]: %w", i, err)
		}
		observed[k] = o
	}

	keys := map[venueAsset]bool{}
	for k := range opened {
		keys[k] = true
	}
	for k := range observed {
		keys[k] = true
	}
	order := make([]venueAsset, 0, len(keys))
	for k := range keys {
		order = append(order, k)
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].venue != order[j].venue {
			return order[i].venue < order[j].venue
		}
		return order[i].asset < order[j].asset
	})

	rep := &BalanceReport{OK: true}
	for _, k := range order {
		a := table[k.asset]
		open := opened[k]
		if open == nil {
			open = new(big.Int)
		}
		pc := PositionCheck{Venue: k.venue, Asset: k.asset, Symbol: a.Symbol, Opened: open.String()}
		o, seen := observed[k]
		switch {
		case !seen && open.Sign() == 0:
			pc.Status, pc.OK = StatusMatch, true
		case !seen:
			pc.Status = StatusUnobserved
		default:
			lhs, rhs := new(big.Int).Set(open), o.v
			pc.Base = o.base
			if o.base {
				// Compare exactly in base units: opened * 10^(decimals - precision).
				scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(a.Decimals)-int64(a.Precision)), nil)
				lhs.Mul(lhs, scale)
				pc.Observed = assets.FormatUnits(o.v, a.Decimals-a.Precision)
			} else {
				pc.Observed = o.v.String()
			}
			switch c := lhs.Cmp(rhs); {
			case c == 0:
				pc.Status, pc.OK = StatusMatch, true
			case c < 0:
				pc.Status, pc.OK = StatusUnderstated, true
			default:
				pc.Status = StatusOverstated
			}
		}
		if !pc.OK {
			rep.OK = false
		}
		rep.Positions = append(rep.Positions, pc)
	}
	return rep, nil
}

// CountersignDigest is sha256(cycle ‖ RC ‖ block): the cycle and the reserves block as 8-byte
// big-endian integers around RC's 32-byte big-endian encoding (48 bytes hashed).
func CountersignDigest(cycle uint64, rc fr.Element, block uint64) [32]byte {
	var buf [48]byte
	binary.BigEndian.PutUint64(buf[0:8], cycle)
	rcb := rc.Bytes()
	copy(buf[8:40], rcb[:])
	binary.BigEndian.PutUint64(buf[40:48], block)
	return sha256.Sum256(buf[:])
}

// CountersignStatement is the text an auditor signs (with their own key and tool) once every
// check holds. chain names where RC was read ("" when only a bundle was checked).
func CountersignStatement(cycle uint64, rc fr.Element, block uint64, chain string) string {
	d := CountersignDigest(cycle, rc, block)
	var b strings.Builder
	fmt.Fprintf(&b, "I checked the opening of the reserves commitment RC %s of solvency cycle %d", poseidon.Hex(rc), cycle)
	if chain != "" {
		fmt.Fprintf(&b, " (%s)", chain)
	}
	fmt.Fprintf(&b, " against chain state at block %d: every opened (venue, asset) amount is at most the balance I observed,"+
		" and every observed debt is at least matched by an opened short or borrow. countersign sha256:%s", block, hex.EncodeToString(d[:]))
	return b.String()
}

// reservesFile is the size limit of an opening or balances file.
func readBounded(path string) ([]byte, error) {
	return boundedfile.ReadFile(path, boundedfile.Reserves)
}
