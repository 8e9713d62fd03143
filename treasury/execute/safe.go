package execute

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/jsonstrict"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// The calls a batch makes. Parameter names are those of the deployed contracts, because the
// Transaction Builder shows them to the signers.
const callsABI = `[
 {"type":"function","name":"approve","stateMutability":"nonpayable","inputs":[{"name":"spender","type":"address","internalType":"address"},{"name":"amount","type":"uint256","internalType":"uint256"}],"outputs":[{"name":"","type":"bool","internalType":"bool"}]},
 {"type":"function","name":"swapExactTokensForTokens","stateMutability":"nonpayable","inputs":[{"name":"amountIn","type":"uint256","internalType":"uint256"},{"name":"amountOutMin","type":"uint256","internalType":"uint256"},{"name":"path","type":"address[]","internalType":"address[]"},{"name":"to","type":"address","internalType":"address"},{"name":"deadline","type":"uint256","internalType":"uint256"}],"outputs":[{"name":"amounts","type":"uint256[]","internalType":"uint256[]"}]},
 {"type":"function","name":"swapExactETHForTokens","stateMutability":"payable","inputs":[{"name":"amountOutMin","type":"uint256","internalType":"uint256"},{"name":"path","type":"address[]","internalType":"address[]"},{"name":"to","type":"address","internalType":"address"},{"name":"deadline","type":"uint256","internalType":"uint256"}],"outputs":[{"name":"amounts","type":"uint256[]","internalType":"uint256[]"}]},
 {"type":"function","name":"swapExactTokensForETH","stateMutability":"nonpayable","inputs":[{"name":"amountIn","type":"uint256","internalType":"uint256"},{"name":"amountOutMin","type":"uint256","internalType":"uint256"},{"name":"path","type":"address[]","internalType":"address[]"},{"name":"to","type":"address","internalType":"address"},{"name":"deadline","type":"uint256","internalType":"uint256"}],"outputs":[{"name":"amounts","type":"uint256[]","internalType":"uint256[]"}]},
 {"type":"function","name":"supply","stateMutability":"nonpayable","inputs":[{"name":"asset","type":"address","internalType":"address"},{"name":"amount","type":"uint256","internalType":"uint256"},{"name":"onBehalfOf","type":"address","internalType":"address"},{"name":"referralCode","type":"uint16","internalType":"uint16"}],"outputs":[]},
 {"type":"function","name":"withdraw","stateMutability":"nonpayable","inputs":[{"name":"asset","type":"address","internalType":"address"},{"name":"amount","type":"uint256","internalType":"uint256"},{"name":"to","type":"address","internalType":"address"}],"outputs":[{"name":"","type":"uint256","internalType":"uint256"}]},
 {"type":"function","name":"submit","stateMutability":"payable","inputs":[{"name":"_referral","type":"address","internalType":"address"}],"outputs":[{"name":"","type":"uint256","internalType":"uint256"}]}
]`

// cometABI is Compound III's Comet, whose supply and withdraw take two arguments (the names
// collide with Aave's, so it is a separate ABI).
const cometABI = `[
 {"type":"function","name":"supply","stateMutability":"nonpayable","inputs":[{"name":"asset","type":"address","internalType":"address"},{"name":"amount","type":"uint256","internalType":"uint256"}],"outputs":[]},
 {"type":"function","name":"withdraw","stateMutability":"nonpayable","inputs":[{"name":"asset","type":"address","internalType":"address"},{"name":"amount","type":"uint256","internalType":"uint256"}],"outputs":[]}
]`

// Protocols a lending or staking venue can speak in a Safe batch.
const (
	ProtocolAaveV3     = "aave-v3"
	ProtocolCompoundV3 = "compound-v3"
	ProtocolLido       = "lido"
)

// AddressBook maps the engine's names to chain addresses for a Safe batch.
type AddressBook struct {
	ChainID uint64         `json:"chainId"`
	Safe    common.Address `json:"safe"`
	// SafeVenue is the book's venue ID of the Safe itself (default "safe"). Other wallet-kind
	// venues are custodians the Safe cannot move funds out of by a contract call.
	SafeVenue string `json:"safeVenue,omitempty"`
	// Tokens maps an asset to its ERC-20; the zero address means the chain's native coin (ETH).
	Tokens map[string]common.Address `json:"tokens"`
	// WETH is the wrapped native coin a router path uses in place of ETH.
	WETH common.Address `json:"weth"`
	// Router is a Uniswap-V2-style router (swapExact*), the on-chain counterpart of the
	// simulator's constant-product pools.
	Router common.Address `json:"router"`
	// Protocols names the call convention of each lending/staking venue (ProtocolAaveV3, ...).
	Protocols map[string]string `json:"protocols"`
	// DeadlineSeconds after createdAt bounds every swap (default one day: a multisig is slow).
	DeadlineSeconds int64 `json:"deadlineSeconds,omitempty"`
}

// Batch is a Safe{Wallet} Transaction Builder batch file.
type Batch struct {
	Version      string    `json:"version"`
	ChainID      string    `json:"chainId"`
	CreatedAt    int64     `json:"createdAt"`
	Meta         BatchMeta `json:"meta"`
	Transactions []BatchTx `json:"transactions"`
}

// BatchMeta is the batch's metadata; Checksum is filled by SafeBatch.
type BatchMeta struct {
	Name                    string `json:"name"`
	Description             string `json:"description"`
	TxBuilderVersion        string `json:"txBuilderVersion"`
	CreatedFromSafeAddress  string `json:"createdFromSafeAddress"`
	CreatedFromOwnerAddress string `json:"createdFromOwnerAddress"`
	Checksum                string `json:"checksum,omitempty"`
}

// BatchTx is one call. Data is the ABI encoding of ContractMethod applied to
// ContractInputsValues: the Transaction Builder re-encodes from the method and values, and a
// reviewer can decode Data, and both give the same call.
type BatchTx struct {
	To                   string            `json:"to"`
	Value                string            `json:"value"`
	Data                 string            `json:"data"`
	ContractMethod       *ContractMethod   `json:"contractMethod"`
	ContractInputsValues map[string]string `json:"contractInputsValues"`
}

// ContractMethod describes the called function as the Transaction Builder expects it.
type ContractMethod struct {
	Inputs  []MethodInput `json:"inputs"`
	Name    string        `json:"name"`
	Payable bool          `json:"payable"`
}

// MethodInput is one parameter of a ContractMethod.
type MethodInput struct {
	InternalType string `json:"internalType"`
	Name         string `json:"name"`
	Type         string `json:"type"`
}

// TxBuilderVersion is the Transaction Builder version the format follows.
const TxBuilderVersion = "1.16.5"

type encoder struct {
	calls, comet abi.ABI
	ab           AddressBook
	deadline     *big.Int
	txs          []BatchTx
}

func (e *encoder) add(a abi.ABI, to common.Address, value *big.Int, method string, args ...any) error {
	m, ok := a.Methods[method]
	if !ok {
		return fmt.Errorf("no method %s", method)
	}
	data, err := a.Pack(method, args...)
	if err != nil {
		return fmt.Errorf("encode %s: %w", method, err)
	}
	cm := &ContractMethod{Name: m.Name, Payable: m.Payable}
	vals := map[string]string{}
	for i, in := range m.Inputs {
		cm.Inputs = append(cm.Inputs, MethodInput{InternalType: in.Type.String(), Name: in.Name, Type: in.Type.String()})
		vals[in.Name] = formatArg(args[i])
	}
	if value == nil {
		value = new(big.Int)
	}
	e.txs = append(e.txs, BatchTx{To: to.Hex(), Value: value.String(), Data: "0x" + common.Bytes2Hex(data), ContractMethod: cm, ContractInputsValues: vals})
	return nil
}

// formatArg writes a value the way the Transaction Builder's input fields take it: decimal
// integers, checksummed addresses, arrays as [a,b].
func formatArg(v any) string {
	switch x := v.(type) {
	case *big.Int:
		return x.String()
	case common.Address:
		return x.Hex()
	case []common.Address:
		parts := make([]string, len(x))
		for i, a := range x {
			parts[i] = a.Hex()
		}
		return "[" + strings.Join(parts, ",") + "]"
	case uint16:
		return strconv.FormatUint(uint64(x), 10)
	}
	return fmt.Sprint(v)
}

func (e *encoder) token(asset string) (common.Address, bool, error) {
	t, ok := e.ab.Tokens[asset]
	if !ok {
		return common.Address{}, false, fmt.Errorf("no token address for %s", asset)
	}
	return t, t == (common.Address{}), nil
}

// SafeBatch turns a cycle's fills into a Transaction Builder batch: for each fill, a withdrawal
// from the source venue, the swap tranches (approve + swapExact*, amountOutMin = the tranche's
// MinOut) or a stake, then an approve + deposit into the destination venue. A deposit after a
// swap deposits the sum of the tranches' MinOut, the amount the batch is guaranteed to hold, so
// the batch cannot revert for lack of balance (any excess stays in the Safe). Refused fills are
// skipped. A perpetual hedge resize is not a Safe call (each perpetual venue has its own
// order interface, and most sign orders off chain): it is left out of the transactions and
// listed in the batch's description as a step to make at the venue (ManualSteps). Any other
// fill the batch cannot express (margin moved into or out of a perpetual venue, a venue with no
// protocol) is an error naming it.
func SafeBatch(book *venues.Book, ab AddressBook, fills []Fill, name, description string, createdAt time.Time) (*Batch, error) {
	calls, err := abi.JSON(strings.NewReader(callsABI))
	if err != nil {
		return nil, fmt.Errorf("parse call ABI: %w", err)
	}
	comet, err := abi.JSON(strings.NewReader(cometABI))
	if err != nil {
		return nil, fmt.Errorf("parse Comet ABI: %w", err)
	}
	if ab.DeadlineSeconds == 0 {
		ab.DeadlineSeconds = 86400
	}
	if ab.SafeVenue == "" {
		ab.SafeVenue = "safe"
	}
	e := &encoder{calls: calls, comet: comet, ab: ab, deadline: big.NewInt(createdAt.Unix() + ab.DeadlineSeconds)}
	for i, f := range fills {
		if f.Status == Refused || f.In == nil || f.In.Sign() == 0 || f.Trade.IsPerpResize() {
			continue
		}
		if err := e.fill(book, f); err != nil {
			return nil, fmt.Errorf("safe batch, fill %d (%s): %w", i, f.Trade, err)
		}
	}
	if steps := ManualSteps(fills); len(steps) > 0 {
		description = strings.TrimSpace(description + " Not Safe calls, to make at the venue: " + strings.Join(steps, "; ") + ".")
	}
	b := &Batch{
		Version: "1.0", ChainID: strconv.FormatUint(ab.ChainID, 10), CreatedAt: createdAt.UnixMilli(),
		Meta: BatchMeta{Name: name, Description: description, TxBuilderVersion: TxBuilderVersion,
			CreatedFromSafeAddress: ab.Safe.Hex()},
		Transactions: e.txs,
	}
	if b.Transactions == nil {
		b.Transactions = []BatchTx{}
	}
	sum, err := b.ComputeChecksum()
	if err != nil {
		return nil, err
	}
	b.Meta.Checksum = sum
	return b, nil
}

// DerivativesNote says, for a batch of a treasury that holds options or pool shares, that
// they are not in it.
const DerivativesNote = "Options and pool shares are held, not traded: the engine plans no option or pool-share trade, none is a Safe call, and an expired option is settled in cash by its venue."

// ManualSteps lists, for people, the filled perpetual hedge resizes among fills: they change a
// position at a perpetual venue, which a Safe batch cannot do.
func ManualSteps(fills []Fill) []string {
	var out []string
	for _, f := range fills {
		if !f.Trade.IsPerpResize() || f.Status == Refused || f.In == nil || f.In.Sign() == 0 {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s units of %s at %s", f.Trade.Perp, f.In, f.Trade.FromAsset, f.Trade.FromVenue))
	}
	return out
}

func (e *encoder) protocol(v *venues.Venue) (string, common.Address, error) {
	p, ok := e.ab.Protocols[v.ID]
	if !ok {
		return "", common.Address{}, fmt.Errorf("venue %s has no protocol in the address book", v.ID)
	}
	if !common.IsHexAddress(v.Address) {
		return "", common.Address{}, fmt.Errorf("venue %s has no contract address", v.ID)
	}
	return p, common.HexToAddress(v.Address), nil
}

func (e *encoder) fill(book *venues.Book, f Fill) error {
	t := f.Trade
	from, ok := book.Venue(t.FromVenue)
	if !ok {
		return fmt.Errorf("unknown venue %s", t.FromVenue)
	}
	to, ok := book.Venue(t.ToVenue)
	if !ok {
		return fmt.Errorf("unknown venue %s", t.ToVenue)
	}
	if from.Kind == venues.KindPerp || to.Kind == venues.KindPerp {
		return errors.New("perpetual venues have no standard call; move margin by hand")
	}
	for _, v := range []*venues.Venue{from, to} {
		if v.Kind == venues.KindWallet && v.ID != e.ab.SafeVenue {
			return fmt.Errorf("venue %s is a custodian, not the Safe; move funds there by hand", v.ID)
		}
	}
	// 1. Out of the source venue into the Safe.
	if from.Kind == venues.KindLending {
		if err := e.withdraw(from, t.FromAsset, f.In); err != nil {
			return err
		}
	}
	// 2. Convert.
	received := f.Out
	switch {
	case t.FromAsset == t.ToAsset:
	case to.Kind == venues.KindStaking && len(f.Path) == 0:
		p, addr, err := e.protocol(to)
		if err != nil {
			return err
		}
		if _, native, err := e.token(t.FromAsset); err != nil || !native || p != ProtocolLido {
			return fmt.Errorf("staking %s at %s needs native %s and the lido protocol", t.FromAsset, to.ID, t.FromAsset)
		}
		if err := e.add(e.calls, addr, f.In, "submit", common.Address{}); err != nil {
			return err
		}
	default:
		sum, err := e.swaps(f)
		if err != nil {
			return err
		}
		received = sum
	}
	// 3. Into the destination venue.
	switch to.Kind {
	case venues.KindLending:
		return e.deposit(to, t.ToAsset, received)
	case venues.KindStaking:
		// The staked token is held by the Safe itself; nothing to deposit.
	}
	return nil
}

func (e *encoder) swaps(f Fill) (*big.Int, error) {
	path := make([]common.Address, len(f.Path))
	nativeIn, nativeOut := false, false
	for i, a := range f.Path {
		tok, native, err := e.token(a)
		if err != nil {
			return nil, err
		}
		if native {
			// Router paths trade the wrapped coin; only the ends of the path say whether the
			// swap starts or ends in native ETH.
			switch i {
			case 0:
				nativeIn = true
			case len(f.Path) - 1:
				nativeOut = true
			}
			tok = e.ab.WETH
		}
		path[i] = tok
	}
	sum := new(big.Int)
	for _, tr := range f.Tranches {
		var err error
		switch {
		case nativeIn:
			err = e.add(e.calls, e.ab.Router, tr.In, "swapExactETHForTokens", tr.MinOut, path, e.ab.Safe, e.deadline)
		default:
			if err = e.add(e.calls, e.ab.Tokens[f.Path[0]], nil, "approve", e.ab.Router, tr.In); err != nil {
				return nil, err
			}
			method := "swapExactTokensForTokens"
			if nativeOut {
				method = "swapExactTokensForETH"
			}
			err = e.add(e.calls, e.ab.Router, nil, method, tr.In, tr.MinOut, path, e.ab.Safe, e.deadline)
		}
		if err != nil {
			return nil, err
		}
		sum.Add(sum, tr.MinOut)
	}
	return sum, nil
}

func (e *encoder) withdraw(v *venues.Venue, asset string, amount *big.Int) error {
	p, addr, err := e.protocol(v)
	if err != nil {
		return err
	}
	tok, _, err := e.token(asset)
	if err != nil {
		return err
	}
	switch p {
	case ProtocolAaveV3:
		return e.add(e.calls, addr, nil, "withdraw", tok, amount, e.ab.Safe)
	case ProtocolCompoundV3:
		return e.add(e.comet, addr, nil, "withdraw", tok, amount)
	}
	return fmt.Errorf("venue %s: protocol %q cannot withdraw", v.ID, p)
}

func (e *encoder) deposit(v *venues.Venue, asset string, amount *big.Int) error {
	p, addr, err := e.protocol(v)
	if err != nil {
		return err
	}
	tok, native, err := e.token(asset)
	if err != nil {
		return err
	}
	if native {
		return fmt.Errorf("deposit of native %s into %s: wrap it first", asset, v.ID)
	}
	if err := e.add(e.calls, tok, nil, "approve", addr, amount); err != nil {
		return err
	}
	switch p {
	case ProtocolAaveV3:
		return e.add(e.calls, addr, nil, "supply", tok, amount, e.ab.Safe, uint16(0))
	case ProtocolCompoundV3:
		return e.add(e.comet, addr, nil, "supply", tok, amount)
	}
	return fmt.Errorf("venue %s: protocol %q cannot take a deposit", v.ID, p)
}

// ComputeChecksum returns the Transaction Builder's checksum of the batch: keccak256 of its
// canonical serialisation (keys sorted, meta.name set to null, the checksum itself left out),
// as in safe-react-apps' tx-builder src/lib/checksum.ts. The app compares it on import, so a
// batch edited after export is flagged.
func (b *Batch) ComputeChecksum() (string, error) {
	c := *b
	c.Meta.Checksum = ""
	raw, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode batch: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree map[string]any
	if err := dec.Decode(&tree); err != nil {
		return "", fmt.Errorf("decode batch: %w", err)
	}
	if meta, ok := tree["meta"].(map[string]any); ok {
		meta["name"] = nil
	}
	var sb strings.Builder
	if err := serializeJSON(&sb, tree); err != nil {
		return "", err
	}
	return crypto.Keccak256Hash([]byte(sb.String())).Hex(), nil
}

// serializeJSON is the tx-builder's serializeJSONObject: an object is "{" + JSON(sorted keys) +
// each value followed by "," + "}", an array "[" + values joined by "," + "]", anything else
// its JSON.
func serializeJSON(sb *strings.Builder, v any) error {
	switch x := v.(type) {
	case []any:
		sb.WriteByte('[')
		for i, el := range x {
			if i > 0 {
				sb.WriteByte(',')
			}
			if err := serializeJSON(sb, el); err != nil {
				return err
			}
		}
		sb.WriteByte(']')
		return nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		sb.WriteByte('{')
		if err := jsString(sb, keys); err != nil {
			return err
		}
		for _, k := range keys {
			if err := serializeJSON(sb, x[k]); err != nil {
				return err
			}
			sb.WriteByte(',')
		}
		sb.WriteByte('}')
		return nil
	}
	return jsString(sb, v)
}

// jsString writes v as JavaScript's JSON.stringify would for the values a batch holds (no HTML
// escaping, unlike Go's default).
func jsString(sb *strings.Builder, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode checksum value: %w", err)
	}
	sb.Write(bytes.TrimRight(buf.Bytes(), "\n"))
	return nil
}

// WriteSafeBatch writes the batch file atomically.
func WriteSafeBatch(path string, b *Batch) error {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return fmt.Errorf("encode Safe batch: %w", err)
	}
	return atomicfile.WriteFile(path, append(data, '\n'), 0o600) // it holds the planned trades: private
}

// LoadAddressBook reads a JSON address book.
func LoadAddressBook(path string) (AddressBook, error) {
	data, err := boundedfile.ReadFile(path, boundedfile.Config)
	if err != nil {
		return AddressBook{}, fmt.Errorf("address book: %w", err)
	}
	var ab AddressBook
	if err := jsonstrict.Unmarshal(path, data, &ab); err != nil {
		return AddressBook{}, fmt.Errorf("address book: %w", err)
	}
	return ab, nil
}
